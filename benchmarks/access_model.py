"""The access and land model: Yuzhong side by side with the legacy model, and its scaling to a city.

Part 1, real Yuzhong data, one row per model:

- ``legacy``: ``access="snap"``, road samples every 50 m snapped to their own carriageway,
  Voronoi districts (the figures the project reported before issue 10);
- ``access, roads``: the same road samples reached through access points (drive + on foot);
- ``access, land``: the default, a 25 m land grid reached through access points, districts from land.

Each row: coverage share, first-due p90 and max, the worst point's road, district pieces,
smallest main-piece share, cross-district demand (on the land; with bridge and tunnel samples
in brackets), no-access land, and wall time (ratio to legacy).

Part 2, the access-point search (nearest roads of every land cell): the bulk search of
:func:`coverage.assess.access.access_arcs` (one envelope query per radius, exact distances on
the candidate pairs) against the previous one (an unbounded nearest-road query for every cell,
then a ``dwithin`` query; kept here as the reference), on Yuzhong's land grid and, with ``--city``, on a
GENERATED city tiled from the real Yuzhong extract (:mod:`coverage.generated_city`; labelled
"generated" everywhere): the results are checked equal, the times printed side by side.

Part 3 (``--city``), a whole land-model assessment (:func:`coverage.assess.assess`, default
access rule) of the GENERATED city: once over the tiles' own land (``tiles``), and once per real
district of Chongqing's nine central districts that the tiles are laid over (``--districts``,
what the city flow's ``district_task`` would run), with stage times and peak memory.

Usage: ``python benchmarks/access_model.py [--data ../shared/data] [--city 15k] [--districts]
[--json]``
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely import STRtree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.assess import DemandSet, assess  # noqa: E402
from coverage.assess.access import DEFAULT_ACCESS, _eligible, _nearest_roads  # noqa: E402
from coverage.assess.grid import land_grid  # noqa: E402
from coverage.engine import build_index  # noqa: E402
from coverage.layers import read_stations  # noqa: E402
from coverage.network import load_network  # noqa: E402


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far, GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def load() -> str:
    """The machine's 1-minute load average (the cores are shared)."""
    return f"{Path('/proc/loadavg').read_text().split()[0]}"


def unbounded_nearest_roads(index, pts, who, segs, rule):
    """The previous search: an unbounded nearest-road query for every location, then the roads
    within reach. Kept as the reference the bulk search is checked and timed against."""
    tree = STRtree(index.seg_geometry[segs])
    (near_i, _), near_d = tree.query_nearest(pts[who], return_distance=True, all_matches=False)
    d0 = np.full(len(who), np.inf)
    d0[near_i] = near_d
    radius = np.where(d0 <= rule.access_m, rule.access_m, np.where(d0 <= rule.hose_m, d0 + 1e-6, -1.0))
    has = np.flatnonzero(radius >= 0)
    local_t, local_s = tree.query(pts[who[has]], predicate="dwithin", distance=radius[has])
    target, seg = who[has[local_t]], segs[local_s]
    dist = shapely.distance(pts[target], index.seg_geometry[seg])
    keep = dist <= radius[has[local_t]]
    target, seg, dist = target[keep], seg[keep], dist[keep]
    order = np.lexsort((dist, target))
    target, seg, dist = target[order], seg[order], dist[order]
    rank = np.arange(len(target)) - np.searchsorted(target, target, side="left")
    keep = rank < rule.max_points
    return target[keep], seg[keep], dist[keep]


def search_row(label: str, index, area, rule=DEFAULT_ACCESS) -> dict:
    """Time both nearest-road searches over the land grid of ``area`` and check them equal."""
    t0 = time.perf_counter()
    grid = land_grid(area)
    grid_s = time.perf_counter() - t0
    pts, who, segs = shapely.points(grid.xy), np.arange(len(grid)), _eligible(index, rule)
    t0 = time.perf_counter()
    new = _nearest_roads(index, pts, who, segs, rule)
    new_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    old = unbounded_nearest_roads(index, pts, who, segs, rule)
    old_s = time.perf_counter() - t0
    same = all(np.array_equal(a, b) for a, b in zip(old, new, strict=True))
    return {"label": label, "cells": len(grid), "land_km2": float(grid.area_km2.sum()),
            "accessible_cells": int(len(np.unique(new[0]))), "grid_s": grid_s,
            "search_old_s": old_s, "search_new_s": new_s, "identical": bool(same), "load": load()}


def yuzhong_rows(data: Path) -> tuple[dict, dict]:
    boundary = gpd.read_file(data / "osm" / "yuzhong_boundary_osm_relation4738525.geojson")
    network = load_network(osm=data / "osm" / "yuzhong_drive_osm_20260424.osm", boundary=boundary,
                           progress=False)
    stations = read_stations(data / "stations" / "yuzhong_stations_baseline.geojson")
    index = build_index(network)
    rows = {}
    for label, kwargs in (
        ("legacy", {"access": "snap"}),
        ("access, roads", {"demand": DemandSet.from_roads(index, network.boundary)}),
        ("access, land", {}),
    ):
        t0 = time.perf_counter()
        a = assess(network, stations, index=index, **kwargs)
        wall = time.perf_counter() - t0
        m, d, w = a.metrics, a.metrics["districts"], a.metrics["worst_first_due"]
        rows[label] = {
            "coverage_share": m["coverage_share"], "first_due_p90_s": m["first_due_p90_s"],
            "first_due_max_s": m["first_due_max_s"], "worst_road": w.get("road_name") or w["access_road_name"],
            "pieces_total": d["pieces_total"], "min_main_piece_share": d["min_main_piece_share"],
            "cross_district_share": d["cross_district_share"],
            "cross_district_share_incl_off_land": d["cross_district_share_incl_off_land"],
            "off_land_share": d["off_land_share"], "no_access_km2": m["land"]["no_access_km2"],
            "wall_s": wall,
        }
    return rows, search_row("Yuzhong (real)", index, network.boundary)


def city_rows(size: str, districts: bool) -> tuple[list[dict], list[dict]]:
    from coverage.generated_city import central_districts, generated_city

    searches, runs = [], []
    layouts = [("tiles", None)] + ([("central9", central_districts())] if districts else [])
    for layout, layer in layouts:
        t0 = time.perf_counter()
        city = generated_city(size, districts=layer)
        net = city.network
        index = build_index(net)
        print(f"  generated {size} city ({layout}): {net.graph.number_of_nodes():,} nodes, "
              f"{index.n_segments:,} segments, {time.perf_counter() - t0:.0f} s", flush=True)
        if layer is None:
            areas = [("tiles (generated)", net.boundary)]
        else:
            polys = layer.to_crs(net.crs)
            areas = [(f"{n} (generated roads)", g) for n, g in zip(polys["name"], polys.geometry, strict=True)]
        for label, area in areas:
            searches.append(search_row(f"{size} {label}", index, area))
            s = searches[-1]
            print(f"  search {s['label']:<26} {s['cells']:>10,} cells  grid {s['grid_s']:6.1f} s  "
                  f"old {s['search_old_s']:7.1f} s  new {s['search_new_s']:6.1f} s  "
                  f"identical {s['identical']}  load {s['load']}", flush=True)
            t0 = time.perf_counter()
            a = assess(replace(net, boundary=area), city.stations, index=index)
            wall = time.perf_counter() - t0
            m = a.metrics
            runs.append({"label": f"{size} {label}", "cells": int(len(a.land_set.grid)),
                         "land_km2": m["land"]["land_km2"], "no_access_km2": m["land"]["no_access_km2"],
                         "coverage_share": m["coverage_share"], "wall_s": wall,
                         "peak_rss_gb": peak_rss_gb(), "load": load()})
            r = runs[-1]
            print(f"  assess {r['label']:<26} {r['cells']:>10,} cells  {r['wall_s']:7.1f} s  "
                  f"peak {r['peak_rss_gb']:.2f} GB  load {r['load']}", flush=True)
    return searches, runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--city", default=None, help="also a GENERATED city of this size (5k, 15k, 31k)")
    ap.add_argument("--districts", action="store_true",
                    help="with --city: also per real central-Chongqing district (large, mostly no-access land)")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    rows, yz_search = yuzhong_rows(args.data)
    base = rows["legacy"]["wall_s"]
    print(f"{'model':<15}{'coverage':>9}{'p90 s':>7}{'max s':>7}  {'worst point on/from':<26}"
          f"{'pieces':>7}{'min main':>9}{'cross (incl. bridges)':>23}{'no-access km²':>14}"
          f"{'wall s':>8}{'×legacy':>8}")
    for label, r in rows.items():
        cross = f"{r['cross_district_share']:.1%} ({r['cross_district_share_incl_off_land']:.1%})"
        print(f"{label:<15}{r['coverage_share']:>9.1%}{r['first_due_p90_s']:>7.0f}{r['first_due_max_s']:>7.0f}  "
              f"{r['worst_road'][:24]:<26}{r['pieces_total']:>7}{r['min_main_piece_share']:>9.1%}"
              f"{cross:>23}{r['no_access_km2']:>14.2f}{r['wall_s']:>8.1f}{r['wall_s'] / base:>8.1f}")
    s = yz_search
    print(f"\naccess search, Yuzhong land grid ({s['cells']:,} cells): old {s['search_old_s']:.2f} s, "
          f"new {s['search_new_s']:.2f} s (×{s['search_old_s'] / s['search_new_s']:.1f}), "
          f"identical {s['identical']}, load {s['load']}")
    searches, runs = [s], []
    if args.city:
        more, runs = city_rows(args.city, args.districts)
        searches += more
        print(f"\n{'access search':<36}{'cells':>11}{'old s':>9}{'new s':>9}{'×':>6}  identical")
        for s in searches:
            print(f"{s['label']:<36}{s['cells']:>11,}{s['search_old_s']:>9.1f}{s['search_new_s']:>9.1f}"
                  f"{s['search_old_s'] / max(s['search_new_s'], 1e-9):>6.1f}  {s['identical']}")
        print(f"\n{'land assessment (GENERATED roads)':<36}{'cells':>11}{'km²':>9}{'no-acc km²':>11}"
              f"{'wall s':>9}{'peak GB':>9}")
        for r in runs:
            print(f"{r['label']:<36}{r['cells']:>11,}{r['land_km2']:>9.0f}{r['no_access_km2']:>11.0f}"
                  f"{r['wall_s']:>9.1f}{r['peak_rss_gb']:>9.2f}")
    if args.json:
        print(json.dumps({"yuzhong": rows, "access_search": searches, "city_land_assess": runs},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
