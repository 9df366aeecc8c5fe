"""Micro-station benchmark on the real Yuzhong walk network: our engine vs a networkx loop.

Workload: the LSCP input of ``station-coverage micro --propose``: walk seconds
from every candidate walk node to every building within 180 s (the engine's
split CSR and cutoff Dijkstra, :func:`coverage.micro.siting.cover_matrix`), then
the LSCP itself.

- ``engine``: :func:`coverage.micro.siting.cover_matrix` end to end.
- ``networkx``: a ``single_source_dijkstra_path_length`` loop (same cutoff) on a
  graph with the buildings inserted as nodes (the usual point-exact networkx way;
  building that graph is timed separately), for the same candidates, run once.
- ``lscp``: :func:`coverage.optimise.lscp` on the engine's matrix (status and gap printed).

The two matrices are compared entry by entry. Engine time is the best of
three runs; its peak memory (tracemalloc) is measured in a fourth.

Usage: ``python benchmarks/micro.py [--data ../shared/data] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import split_graph_reference  # noqa: E402

from coverage.buildings import buildings_demand  # noqa: E402
from coverage.engine import build_index  # noqa: E402
from coverage.micro import building_demand, snap_surface  # noqa: E402
from coverage.micro.siting import cover_matrix, walk_candidates  # noqa: E402
from coverage.network import load_network  # noqa: E402
from coverage.network.walk import MICRO_ON_FOOT  # noqa: E402
from coverage.optimise import PlacementProblem, SolveOptions, lscp  # noqa: E402

TRAVEL_S = 180.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--json", action="store_true", help="print one JSON object last")
    args = parser.parse_args()
    osm = args.data / "osm"

    t0 = time.perf_counter()
    walk = load_network(osm=osm / "yuzhong_walk_osm_20260426.osm",
                        boundary=gpd.read_file(osm / "yuzhong_boundary_osm_relation4738525.geojson"),
                        travel_model=MICRO_ON_FOOT, buffer_m=500, progress=False)
    index = build_index(walk)
    load_s = time.perf_counter() - t0
    b = building_demand(buildings_demand(osm / "yuzhong_buildings_osm_20260426.osm"))
    b = b.to_crs(walk.crs)
    b = b[b.within(walk.boundary)].reset_index(drop=True)
    dem = snap_surface(index, shapely.get_coordinates(b.geometry.values))
    cand = walk_candidates(walk, index)
    sites = snap_surface(index, shapely.get_coordinates(cand.geometry.values))

    def engine():
        return cover_matrix(index, sites, dem, speed_mps=MICRO_ON_FOOT.speed_mps,
                            travel_s=TRAVEL_S)

    engine_s = np.inf
    for _ in range(3):  # best of 3, without tracemalloc's overhead
        t0 = time.perf_counter()
        ours = engine()
        engine_s = min(engine_s, time.perf_counter() - t0)
    tracemalloc.start()
    engine()
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()

    t0 = time.perf_counter()
    graph = split_graph_reference(index, sites, dem)
    nx_build_s = time.perf_counter() - t0
    legs_site = sites.dist_m / MICRO_ON_FOOT.speed_mps
    legs_dem = dem.dist_m / MICRO_ON_FOOT.speed_mps
    ref = np.full((len(dem), len(sites)), np.inf)
    t0 = time.perf_counter()
    for j in range(len(sites)):
        lengths = nx.single_source_dijkstra_path_length(graph, (0, j), cutoff=TRAVEL_S, weight="w")
        for node, t in lengths.items():
            if node[0] == 1:
                ref[node[1], j] = t + legs_site[j] + legs_dem[node[1]]
    nx_s = time.perf_counter() - t0
    ref[ref > TRAVEL_S] = np.inf
    dense = np.full(ref.shape, np.inf)
    coo = ours.tocoo()
    dense[coo.row, coo.col] = coo.data
    agree = bool(np.array_equal(np.isfinite(dense), np.isfinite(ref)) and np.allclose(
        dense[np.isfinite(dense)], ref[np.isfinite(ref)], rtol=1e-9, atol=1e-6))

    problem = PlacementProblem.from_cost_matrix(ours, b["weight"].to_numpy(float),
                                                threshold=TRAVEL_S)
    t0 = time.perf_counter()
    res = lscp(problem, options=SolveOptions(time_limit=300))
    lscp_s = time.perf_counter() - t0

    print(f"walk network: {index.n_nodes} nodes, {index.n_segments} segments (load {load_s:.1f} s)")
    print(f"matrix: {len(sites)} candidate walk nodes x {len(dem)} buildings, cutoff {TRAVEL_S:g} s, "
          f"{ours.nnz} entries")
    print(f"engine   {engine_s:8.2f} s  (peak {peak_mb:.0f} MB)")
    print(f"networkx {nx_s:8.2f} s  (+ {nx_build_s:.2f} s building the split graph)  "
          f"ratio {nx_s / engine_s:.1f}x")
    print(f"matrices agree: {agree}")
    print(f"lscp: {len(res.chosen)} stations, status {res.status}, gap {res.gap}, {lscp_s:.1f} s")
    if args.json:
        print(json.dumps({
            "candidates": len(sites), "buildings": len(dem), "entries": int(ours.nnz),
            "engine_s": engine_s, "engine_peak_mb": peak_mb, "networkx_s": nx_s,
            "networkx_build_s": nx_build_s, "ratio_networkx_over_engine": nx_s / engine_s,
            "agree": agree, "lscp_stations": len(res.chosen), "lscp_status": res.status,
            "lscp_gap": res.gap, "lscp_s": lscp_s,
        }))


if __name__ == "__main__":
    main()
