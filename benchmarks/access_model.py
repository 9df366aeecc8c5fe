"""Yuzhong under the legacy road-sample model and the access/land model, side by side.

Rows:

- ``legacy``: ``access="snap"``, road samples every 50 m snapped to their own carriageway,
  Voronoi districts (the figures the project reported before issue 10);
- ``access, roads``: the same road samples reached through access points (drive + on foot);
- ``access, land``: the default, a 25 m land grid reached through access points, districts from land.

Each row: coverage share, first-due p90 and max, the worst point's road, district pieces,
smallest main-piece share, cross-district demand, no-access land, and wall time (ratio to legacy).

Usage: ``python benchmarks/access_model.py [--data ../shared/data] [--json]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import geopandas as gpd

from coverage.assess import DemandSet, assess
from coverage.engine import build_index
from coverage.layers import read_stations
from coverage.network import load_network

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    boundary = gpd.read_file(args.data / "osm" / "yuzhong_boundary_osm_relation4738525.geojson")
    network = load_network(osm=args.data / "osm" / "yuzhong_drive_osm_20260424.osm", boundary=boundary,
                           progress=False)
    stations = read_stations(args.data / "stations" / "yuzhong_stations_baseline.geojson")
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
            "cross_district_share": d["cross_district_share"], "no_access_km2": m["land"]["no_access_km2"],
            "wall_s": wall,
        }
    base = rows["legacy"]["wall_s"]
    print(f"{'model':<15}{'coverage':>9}{'p90 s':>7}{'max s':>7}  {'worst point on/from':<26}"
          f"{'pieces':>7}{'min main':>9}{'cross':>7}{'no-access km²':>14}{'wall s':>8}{'×legacy':>8}")
    for label, r in rows.items():
        print(f"{label:<15}{r['coverage_share']:>9.1%}{r['first_due_p90_s']:>7.0f}{r['first_due_max_s']:>7.0f}  "
              f"{r['worst_road'][:24]:<26}{r['pieces_total']:>7}{r['min_main_piece_share']:>9.1%}"
              f"{r['cross_district_share']:>7.1%}{r['no_access_km2']:>14.2f}{r['wall_s']:>8.1f}"
              f"{r['wall_s'] / base:>8.1f}")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
