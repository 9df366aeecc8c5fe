"""Engine benchmark on the real Yuzhong graph: our engine vs a networkx loop vs bare csgraph.

Workload: first-due times from every station to all road demand points, plus a
candidate × demand travel-time matrix (cutoff 300 s) for >= 500 candidate sites.

- ``engine``: :mod:`coverage.engine` end to end (split CSR with stations, candidates and
  demand points inserted as nodes, Dijkstra, demand columns, sparse matrix assembly).
- ``csgraph``: bare :func:`scipy.sparse.csgraph.dijkstra` on the same CSR the engine
  routes on (sources and demand points inserted as nodes), from the same sources
  with the same limit: the C limit, with none of the engine's bookkeeping (building
  that CSR, slicing out demand columns, assembling the sparse matrix).
- ``csgraph_nodes``: for context, bare csgraph on the plain road graph from the
  sources' nearest nodes: node times only, no point-level answer.
- ``networkx``: a ``single_source_dijkstra_path_length`` loop (same cutoff) on a
  graph with the demand points inserted as nodes, the usual way to get
  point-exact times with networkx (building that graph is timed separately).

Usage: ``python benchmarks/engine.py [--data ../shared/data] [--candidates 600] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
from scipy.sparse.csgraph import dijkstra

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import split_graph_reference  # noqa: E402

from coverage.assess.demand import road_demand  # noqa: E402
from coverage.engine import (  # noqa: E402
    Snap,
    _split_csr,
    build_index,
    point_times,
    snap_points,
    travel_time_matrix,
)
from coverage.layers import read_stations  # noqa: E402
from coverage.network import load_network  # noqa: E402


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--candidates", type=int, default=600)
    ap.add_argument("--cutoff-s", type=float, default=300.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()

    boundary = gpd.read_file(args.data / "osm/yuzhong_boundary_osm_relation4738525.geojson")
    network = load_network(
        osm=args.data / "osm/yuzhong_drive_osm_20260424.osm", boundary=boundary, progress=False
    )
    t0 = time.perf_counter()
    index = build_index(network)
    index_s = time.perf_counter() - t0
    _, demand = road_demand(index, step_m=50, area=network.boundary)
    stations = read_stations(args.data / "stations/yuzhong_stations_baseline.geojson").to_crs(index.crs)
    st = snap_points(index, np.column_stack([stations.geometry.x, stations.geometry.y]))
    rng = np.random.default_rng(0)
    cand = snap_points(index, index.node_xy[rng.choice(index.n_nodes, args.candidates, replace=False)])
    sources = Snap.concat([st, cand])

    def engine():
        point_times(index, st, demand)
        travel_time_matrix(index, cand, demand, cutoff_s=args.cutoff_s)

    split = _split_csr(index, [sources, demand])

    def csgraph():
        dijkstra(split, indices=index.n_nodes + np.arange(len(st)))
        dijkstra(split, indices=index.n_nodes + len(st) + np.arange(len(cand)), limit=args.cutoff_s)

    nearest = np.where(sources.frac < 0.5, index.seg_u[sources.seg], index.seg_v[sources.seg])

    def csgraph_nodes():
        dijkstra(index.csr, indices=nearest[: len(st)])
        dijkstra(index.csr, indices=nearest[len(st) :], limit=args.cutoff_s)

    t0 = time.perf_counter()
    ref = split_graph_reference(index, sources, demand)
    nx_build_s = time.perf_counter() - t0

    def networkx_loop():
        for i in range(len(st)):
            nx.single_source_dijkstra_path_length(ref, (0, i), weight="w")
        for i in range(len(st), len(sources)):
            nx.single_source_dijkstra_path_length(ref, (0, i), cutoff=args.cutoff_s, weight="w")

    engine_s = best_of(engine, args.repeat)
    csgraph_s = best_of(csgraph, args.repeat)
    nodes_s = best_of(csgraph_nodes, args.repeat)
    networkx_s = best_of(networkx_loop, 1)
    figures = {
        "graph_nodes": index.n_nodes,
        "segments": index.n_segments,
        "demand_points": len(demand),
        "stations": len(st),
        "candidates": len(cand),
        "cutoff_s": args.cutoff_s,
        "index_build_s": index_s,
        "engine_s": engine_s,
        "csgraph_s": csgraph_s,
        "csgraph_nodes_s": nodes_s,
        "networkx_s": networkx_s,
        "networkx_graph_build_s": nx_build_s,
        "engine_over_csgraph": engine_s / csgraph_s,
        "networkx_over_engine": networkx_s / engine_s,
        "networkx_over_csgraph": networkx_s / csgraph_s,
    }
    print(f"Yuzhong: {index.n_nodes} nodes, {index.n_segments} segments, {len(demand)} demand points, "
          f"{len(st)} stations + {len(cand)} candidates, cutoff {args.cutoff_s:.0f} s")
    print(f"{'method':<14}{'seconds':>10}{'vs csgraph':>12}")
    rows = (
        ("engine", engine_s),
        ("csgraph", csgraph_s),
        ("csgraph_nodes", nodes_s),
        ("networkx", networkx_s),
    )
    for name, s in rows:
        print(f"{name:<14}{s:>10.3f}{s / csgraph_s:>11.2f}x")
    print(f"engine is {networkx_s / engine_s:.1f}x faster than the networkx loop "
          f"(+{nx_build_s:.2f} s to build its split graph); index build {index_s:.3f} s once")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
