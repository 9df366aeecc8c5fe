"""Why a Yuzhong district has detached pieces: the measurements behind the README's account.

For every detached district piece (real Yuzhong data, four baseline stations, default land model):

1. its area, the station that holds it and the runner-up, and their median first-due times;
2. the access roads the holder and the runner-up reach its cells through (the same roads means
   the piece is a drive-time exclave, not an artefact of straight on-foot legs);
3. the holder's and the runner-up's fastest drive to the piece (networkx), with the bridges [B]
   and tunnels [T] it uses;
4. an experiment, not part of the model: on-foot legs timed on the walk extract
   (``yuzhong_walk_osm_20260426.osm``, 1.0 m/s, steps timed by height) instead of straight lines:
   how many of the pieces' cells stay with the holder, change station or lose vehicle access;
5. the clean-up that would remove the pieces (``absorb_below_km2`` above the largest) and what it
   costs in demand inside another station's district.

Usage: ``python benchmarks/district_exclaves.py [--data ../shared/data] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.assess import assess  # noqa: E402
from coverage.assess.demand import snap_layer  # noqa: E402
from coverage.engine import build_index, due_times, point_times, snap_points  # noqa: E402
from coverage.layers import read_stations  # noqa: E402
from coverage.network import load_network  # noqa: E402
from coverage.network.walk import WalkModel  # noqa: E402


def best_arcs(arcs, drive_row):
    """Access segment of the fastest arc of every target for one station."""
    tot = drive_row[arcs.point] + arcs.foot_s
    order = np.lexsort((tot, arcs.target))
    first = order[np.searchsorted(arcs.target[order], np.arange(arcs.n_targets))]
    return arcs.points.seg[arcs.point[first]]


def route(graph, index, a, b):
    """Road names along the fastest drive from node position a to b, bridges and tunnels marked."""
    path = nx.shortest_path(graph, index.node_ids[a], index.node_ids[b], weight="travel_s")
    out = []
    for u, v in zip(path[:-1], path[1:], strict=False):
        d = min(graph[u][v].values(), key=lambda e: e["travel_s"])
        name = d.get("name")
        name = name[0] if isinstance(name, list) else name
        tag = "".join(k[0].upper() for k in ("bridge", "tunnel") if d.get(k) not in (None, False, "no"))
        label = f"{name if isinstance(name, str) and name else d.get('highway')}{f'[{tag}]' if tag else ''}"
        if not out or out[-1] != label:
            out.append(label)
    return " > ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()
    boundary = gpd.read_file(args.data / "osm" / "yuzhong_boundary_osm_relation4738525.geojson")
    net = load_network(osm=args.data / "osm" / "yuzhong_drive_osm_20260424.osm", boundary=boundary,
                       progress=False)
    index = build_index(net)
    stations = read_stations(args.data / "stations" / "yuzhong_stations_baseline.geojson")
    a = assess(net, stations, index=index)
    land, ids = a.land_set, a.stations["id"].astype(str).to_numpy()
    st_snap = snap_layer(index, a.stations)
    cell_xy = land.grid.xy[land.grid_pos]
    detached = a.district_pieces[~a.district_pieces["main"] & (a.district_pieces["area_km2"] > 0.01)]
    walk = load_network(osm=args.data / "osm" / "yuzhong_walk_osm_20260426.osm", boundary=boundary,
                        travel_model=WalkModel(name="crew on foot", speed_mps=1.0), progress=False)
    windex = build_index(walk)
    hose = land.rule.hose_m / land.rule.walk_mps
    rows = []
    for p in detached.itertuples():
        holder = int(np.flatnonzero(ids == p.station_id)[0])
        cells = np.flatnonzero(shapely.contains_xy(p.geometry, cell_xy[:, 0], cell_xy[:, 1]))
        t = a.land_times[:, cells]
        others = np.where(np.arange(len(ids))[:, None] == holder, np.inf, t)
        runner = int(np.bincount(np.argmin(others, axis=0)).argmax())
        arcs = land.access.take(cells)
        drive = point_times(index, st_snap.take([holder, runner]), arcs.points)
        seg_h, seg_r = best_arcs(arcs, drive[0]), best_arcs(arcs, drive[1])
        roads = sorted({str(index.seg_name[s]) or str(index.seg_highway[s]) for s in seg_h})
        centre = int(np.argmin(np.abs(t[holder] - np.median(t[holder]))))
        goal = int(index.seg_u[seg_h[centre]])
        # Walk experiment: access point -> cell over the walk extract, snapped at both ends.
        src, dst = snap_points(windex, arcs.points.xy), snap_points(windex, cell_xy[cells])
        wt = point_times(windex, src, dst, cutoff_s=hose)
        foot = wt[arcs.point, arcs.target] + src.dist_m[arcs.point] + dst.dist_m[arcs.target]
        foot = foot / land.rule.walk_mps
        drive_all = point_times(index, st_snap, arcs.points)
        timed = np.full((len(ids), len(cells)), np.inf)
        ok = foot <= hose
        for i in range(len(ids)):
            np.minimum.at(timed[i], arcs.target[ok], drive_all[i, arcs.point[ok]] + foot[ok])
        first = due_times(timed).first_idx
        rows.append({
            "station": p.station_id, "area_km2": float(p.area_km2), "cells": int(len(cells)),
            "holder_median_s": float(np.median(t[holder])), "runner_up": str(ids[runner]),
            "runner_up_median_s": float(np.median(others.min(axis=0))),
            "same_access_road_share": float(np.mean(seg_h == seg_r)), "access_roads": roads[:4],
            "holder_route": route(net.graph, index, int(index.seg_v[st_snap.seg[holder]]), goal),
            "runner_up_route": route(net.graph, index, int(index.seg_v[st_snap.seg[runner]]), goal),
            "walk_stay": int((first == holder).sum()), "walk_change": int(((first >= 0) & (first != holder)).sum()),
            "walk_no_access": int((first < 0).sum()),
        })
    for r in rows:
        print(f"{r['station']} piece {r['area_km2']:.3f} km² ({r['cells']} cells): {r['station']} median "
              f"{r['holder_median_s']:.0f} s, runner-up {r['runner_up']} {r['runner_up_median_s']:.0f} s; "
              f"same access road for {r['same_access_road_share']:.0%} of cells ({', '.join(r['access_roads'])})")
        print(f"  {r['station']}: {r['holder_route']}\n  {r['runner_up']}: {r['runner_up_route']}")
        print(f"  on-foot legs on the walk extract: {r['walk_stay']} cells stay, {r['walk_change']} change "
              f"station, {r['walk_no_access']} lose vehicle access")
    biggest = float(detached["area_km2"].max()) if len(detached) else 0.0
    cleaned = assess(net, stations, index=index, demand=a.demand_set, absorb_below_km2=biggest + 0.01)
    before, after = a.metrics["districts"], cleaned.metrics["districts"]
    print(f"clean-up of every piece below {biggest + 0.01:.2f} km²: smallest main piece "
          f"{before['min_main_piece_share']:.1%} -> {after['min_main_piece_share']:.1%}, demand in another "
          f"station's district {before['cross_district_share']:.1%} -> {after['cross_district_share']:.1%}, "
          f"{after['cleanup_moved_km2']:.2f} km² moved")
    if args.json:
        print(json.dumps({"pieces": rows, "before": before, "absorb_all": after}, ensure_ascii=False))


if __name__ == "__main__":
    main()
