"""What today's micro fire stations reach within their rule (1 min turnout + 3 min on the way).

Pure computation on the walk network, with the same engine as the roads
(:mod:`coverage.engine`: CSR, cutoff Dijkstra from the stations, edge snapping).

Time to first water at a point::

    turnout_s + station leg + walk-network time + building leg

The two legs are straight lines at the walk model's leg speed (on foot, also for
the e-bike profile): from the station to its nearest walkway, and from the walkway to the building's
representative point (OSM maps few courtyard paths up to the door).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.engine import RoadIndex, Snap, build_index, point_times, snap_points
from coverage.errors import InputError
from coverage.micro.layers import outside_area
from coverage.micro.standard import MICRO_3MIN, MicroStandard
from coverage.network.model import RoadNetwork
from coverage.network.walk import WalkModel

__all__ = [
    "MicroAssessment",
    "active_micro_stations",
    "assess_micro",
    "first_water",
    "snap_micro_stations",
    "snap_surface",
    "walk_times",
]

#: A micro station further than this from a walkway triggers a warning, m.
WARN_SNAP_M = 50.0
#: ... and further than this an error: it is almost certainly misplaced, m.
MAX_SNAP_M = 300.0
#: Walk times are searched up to this many seconds; beyond, "more than 30 min".
DEFAULT_CUTOFF_S = 1800.0


def _model(network: RoadNetwork) -> WalkModel:
    model = network.travel_model
    if not isinstance(model, WalkModel):
        raise InputError(
            f"the network was built for {getattr(model, 'name', type(model).__name__)}, "
            "not for walking", source="walk network",
            fix="load it with load_network(..., travel_model=MICRO_ON_FOOT) from the walk extract",
        )
    return model


def snap_surface(index: RoadIndex, xy: np.ndarray, *, search_m: float = 300.0) -> Snap:
    """Snap points to the nearest walkway that is not a bridge deck or a tunnel.

    A building beside a river bridge or above a road tunnel is reached from the
    street at its door, not from the deck overhead or the tube below (Yuzhong's
    tunnels are simplified into edges kilometres long). Points with no surface
    walkway within ``search_m`` keep their plain nearest segment.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    snap = snap_points(index, xy)
    under = np.flatnonzero(index.seg_bridge[snap.seg] | index.seg_tunnel[snap.seg])
    if len(under) == 0:
        return snap
    surface = ~(index.seg_bridge | index.seg_tunnel)
    pts = shapely.points(xy[under])
    which, segs = index.tree.query(pts, predicate="dwithin", distance=search_m)
    ok = surface[segs]
    which, segs = which[ok], segs[ok]
    if len(which) == 0:
        return snap
    dist = shapely.distance(pts[which], index.seg_geometry[segs])
    order = np.lexsort((dist, which))
    which, segs, dist = which[order], segs[order], dist[order]
    first = np.r_[True, which[1:] != which[:-1]]
    rows, segs, dist = under[which[first]], segs[first], dist[first]
    lines = index.seg_geometry[segs]
    frac = np.clip(shapely.line_locate_point(lines, shapely.points(xy[rows]), normalized=True),
                   0.0, 1.0)
    seg, fr, dm, on = snap.seg.copy(), snap.frac.copy(), snap.dist_m.copy(), snap.xy.copy()
    seg[rows], fr[rows], dm[rows] = segs, frac, dist
    on[rows] = shapely.get_coordinates(shapely.line_interpolate_point(lines, frac, normalized=True))
    return Snap(seg=seg, frac=fr, dist_m=dm, xy=on)


def snap_micro_stations(index: RoadIndex, stations: gpd.GeoDataFrame, *,
                        source: str = "micro stations", warn_m: float = WARN_SNAP_M,
                        max_m: float = MAX_SNAP_M) -> Snap:
    """Snap micro stations to the walk network; name those far from any walkway.

    Raises
    ------
    InputError
        A station more than ``max_m`` from any walkway (listed with its distance).
    """
    pts = stations.to_crs(index.crs)
    snap = snap_surface(index, shapely.get_coordinates(pts.geometry.values))
    label = [f"{i} {n}".strip() if n and n != i else str(i)
             for i, n in zip(stations["id"].astype(str), stations.get("name", stations["id"]).astype(str),
                             strict=True)]
    far = np.flatnonzero(snap.dist_m > max_m)
    if len(far):
        listed = ", ".join(f"{label[i]} ({snap.dist_m[i]:.0f} m)" for i in far[:5])
        raise InputError(
            f"{len(far)} micro station(s) lie more than {max_m:.0f} m from any walkway: {listed}",
            source=source, row=label[far[0]],
            fix="check the coordinates and their coordinate system (--coord-system gcj02 for "
            "Amap), or use a walk extract that covers the station",
        )
    near = np.flatnonzero(snap.dist_m > warn_m)
    if len(near):
        listed = ", ".join(f"{label[i]} ({snap.dist_m[i]:.0f} m)" for i in near[:5])
        warnings.warn(f"{source}: {len(near)} micro station(s) are more than {warn_m:.0f} m from "
                      f"the nearest walkway (the straight leg is timed at walking speed): {listed}",
                      stacklevel=2)
    return snap


def walk_times(index: RoadIndex, src: Snap, dst: Snap, model: WalkModel, *,
               cutoff_s: float = DEFAULT_CUTOFF_S) -> np.ndarray:
    """Seconds from every source to every target on foot, straight legs included.

    Returns
    -------
    ndarray, shape (S, T)
        Leg from the source to its walkway + network time + leg to the target
        (legs at ``model.leg_speed_mps``); ``inf`` where that exceeds ``cutoff_s``.
    """
    net = point_times(index, src, dst, cutoff_s=cutoff_s)
    legs = src.dist_m[:, None] + dst.dist_m[None, :]
    total = net + legs / model.leg_speed_mps
    total[total > cutoff_s] = np.inf
    return total


def first_water(times: np.ndarray, turnout_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per target: seconds to first water (turnout + fastest station) and that station's row."""
    if times.shape[0] == 0:
        return np.full(times.shape[1], np.inf), np.full(times.shape[1], -1)
    best = np.argmin(times, axis=0)
    t = times[best, np.arange(times.shape[1])]
    return t + turnout_s, np.where(np.isfinite(t), best, -1)


def active_micro_stations(stations: gpd.GeoDataFrame, *, source: str = "micro stations"
                          ) -> gpd.GeoDataFrame:
    """The stations that can turn out: not closed, and not recorded with zero staff (warned)."""
    if len(stations) == 0:
        raise InputError("the micro-station layer is empty", source=source,
                         fix="add at least one micro station, or run the siting alone")
    st = stations[stations["status"].astype(str) != "closed"]
    unstaffed = st["staffing"].fillna(1).to_numpy(float) == 0 if "staffing" in st else \
        np.zeros(len(st), bool)
    if unstaffed.any():
        names = ", ".join(st["id"].astype(str)[unstaffed].head(5))
        warnings.warn(f"{source}: {int(unstaffed.sum())} micro station(s) have no crew on duty "
                      f"(staffing 0) and are not counted: {names}", stacklevel=2)
    st = st[~unstaffed].reset_index(drop=True)
    if len(st) == 0:
        raise InputError("no micro station is open and staffed", source=source,
                         fix="mark at least one as existing or proposed with staff")
    return st


@dataclass(frozen=True)
class MicroAssessment:
    """Result of :func:`assess_micro`.

    Attributes
    ----------
    standard : MicroStandard
    model : WalkModel
    metrics : dict
        Shares reached within the rule: ``key_units``, ``highrises``,
        ``residential_floor_area``, ``floor_area`` (each ``{"total", "reached",
        "share"}``), and ``median_first_water_s``.
    stations : GeoDataFrame
        Active micro stations (network CRS) with ``snap_m`` and, per station, the
        buildings and key units it is first to reach within the rule.
    buildings : GeoDataFrame
        Buildings in the district (network CRS): ``first_water_s`` (turnout
        included; ``inf`` beyond the search), ``micro_station``, ``micro_ok``.
    key_units : GeoDataFrame
        Key units inside the area, with the same columns.
    key_units_outside : GeoDataFrame
        Key units outside the study area (listed, not assessed).
    cells : GeoDataFrame
        Summary per grid cell (polygons, network CRS).
    gaps : GeoDataFrame
        Key units and high-rises not reached within the rule, slowest first.
    index : RoadIndex
        The walk network's index.
    """

    standard: MicroStandard
    model: WalkModel
    metrics: dict
    stations: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    key_units: gpd.GeoDataFrame
    key_units_outside: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    index: RoadIndex


def _share(reached: np.ndarray, weight: np.ndarray) -> dict:
    total = float(weight.sum())
    got = float(weight[reached].sum())
    return {"total": total, "reached": got, "share": got / total if total > 0 else None}


def _attach(frame: gpd.GeoDataFrame, index: RoadIndex, src: Snap, ids: np.ndarray,
            model: WalkModel, standard: MicroStandard, cutoff_s: float) -> gpd.GeoDataFrame:
    out = frame.copy()
    snap = snap_surface(index, shapely.get_coordinates(out.geometry.values))
    t, who = first_water(walk_times(index, src, snap, model, cutoff_s=cutoff_s),
                         standard.turnout_s)
    out["walkway_m"] = snap.dist_m
    out["first_water_s"] = t
    out["micro_station"] = np.where(who >= 0, ids[np.maximum(who, 0)], None)
    out["micro_ok"] = t <= standard.response_s
    return out


def _grid(buildings: gpd.GeoDataFrame, keys: gpd.GeoDataFrame, area, cell_m: float):
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(minx, maxx, cell_m)
    ys = np.arange(miny, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    cells = gpd.GeoDataFrame({"cell": np.arange(len(boxes))}, geometry=boxes, crs=buildings.crs)

    def count(frame, mask_col=None, weight_col=None):
        if len(frame) == 0:
            return np.zeros(len(cells))
        xy = shapely.get_coordinates(frame.geometry.values)
        i = np.floor((xy[:, 0] - minx) / cell_m).astype(int)
        j = np.floor((xy[:, 1] - miny) / cell_m).astype(int)
        idx = np.clip(j, 0, len(ys) - 1) * len(xs) + np.clip(i, 0, len(xs) - 1)
        w = frame[weight_col].to_numpy(float) if weight_col else np.ones(len(frame))
        if mask_col:
            w = w * frame[mask_col].to_numpy(bool)
        return np.bincount(idx, weights=w, minlength=len(cells))

    cells["buildings"] = count(buildings).astype(int)
    cells["floor_area_m2"] = count(buildings, weight_col="floor_area_m2")
    reached = count(buildings, "micro_ok", "floor_area_m2")
    cells["floor_area_share"] = np.where(cells["floor_area_m2"] > 0,
                                         reached / np.maximum(cells["floor_area_m2"], 1e-9), np.nan)
    cells["key_units"] = count(keys).astype(int)
    cells["key_units_reached"] = count(keys, "micro_ok").astype(int)
    cells = cells[(cells["buildings"] > 0) | (cells["key_units"] > 0)]
    cells = cells[cells.intersects(area)].reset_index(drop=True)
    return cells


def assess_micro(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    key_units: gpd.GeoDataFrame | None = None,
    standard: MicroStandard = MICRO_3MIN,
    index: RoadIndex | None = None,
    cutoff_s: float = DEFAULT_CUTOFF_S,
    cell_m: float = 500.0,
    source: str = "micro stations",
) -> MicroAssessment:
    """Measure what the micro stations reach within ``standard`` on the walk network.

    Parameters
    ----------
    network : RoadNetwork
        The walk network (``load_network(..., travel_model=MICRO_ON_FOOT)``); its
        ``boundary`` (else study area) is the district.
    stations : GeoDataFrame
        :func:`~coverage.micro.layers.read_micro_stations` layout (any CRS).
        Closed and unstaffed stations are left out.
    buildings : GeoDataFrame, optional
        :func:`~coverage.micro.layers.building_demand` output (``floor_area_m2``,
        ``highrise``, ``residential``); points outside the district are dropped.
    key_units : GeoDataFrame, optional
        :func:`~coverage.micro.layers.key_units_from_osm` or
        :func:`~coverage.micro.layers.read_key_units` output; those outside the
        study area are listed (warning and ``key_units_outside``).
    standard : MicroStandard
    index : RoadIndex, optional
        Reuse an index built for ``network``.
    cutoff_s : float
        Longest walk searched, s.
    cell_m : float
        Grid cell side for the per-cell summary, m.
    source : str
        Name of the station layer, for messages.

    Returns
    -------
    MicroAssessment
    """
    model = _model(network)
    index = index or build_index(network)
    area = network.boundary if network.boundary is not None else network.study_area
    active = active_micro_stations(stations, source=source).to_crs(network.crs)
    src = snap_micro_stations(index, active, source=source)
    ids = active["id"].astype(str).to_numpy()
    empty = gpd.GeoDataFrame({"id": [], "name": [], "category": [], "rule": []},
                             geometry=[], crs=network.crs)

    if buildings is not None and len(buildings):
        b = buildings.to_crs(network.crs)
        b = b[b.within(area)].reset_index(drop=True)
        b = _attach(b, index, src, ids, model, standard, cutoff_s)
    else:
        b = gpd.GeoDataFrame({"id": [], "floor_area_m2": [], "highrise": [], "residential": [],
                              "first_water_s": [], "micro_ok": []}, geometry=[], crs=network.crs)
    if key_units is not None and len(key_units):
        k_in, k_out = outside_area(key_units, network.study_area, network.crs)
        k_in = _attach(k_in, index, src, ids, model, standard, cutoff_s)
    else:
        k_in, k_out = empty.assign(first_water_s=[], micro_ok=[]), empty

    ok_b = b["micro_ok"].to_numpy(bool)
    floor = b["floor_area_m2"].to_numpy(float)
    high = b["highrise"].to_numpy(bool)
    resid = b["residential"].to_numpy(bool) if "residential" in b else np.zeros(len(b), bool)
    ok_k = k_in["micro_ok"].to_numpy(bool)
    every = np.concatenate([b["first_water_s"].to_numpy(float), k_in["first_water_s"].to_numpy(float)])
    metrics = {
        "stations": int(len(active)),
        "key_units": _share(ok_k, np.ones(len(k_in))),
        "highrises": _share(ok_b[high], np.ones(int(high.sum()))),
        "residential_floor_area": _share(ok_b[resid], floor[resid]),
        "floor_area": _share(ok_b, floor),
        "buildings": _share(ok_b, np.ones(len(b))),
        "median_first_water_s": float(np.median(every)) if len(every) else None,
        "key_units_outside": int(len(k_out)),
    }

    table = active.copy()
    table["snap_m"] = src.dist_m
    for name, frame in (("buildings", b), ("key_units", k_in)):
        first = frame["micro_station"].to_numpy(object) if len(frame) else np.array([], object)
        ok = frame["micro_ok"].to_numpy(bool)
        table[f"{name}_reached"] = [int(np.sum((first == i) & ok)) for i in ids]

    gap_parts = []
    if len(k_in):
        g = k_in[~ok_k].assign(kind="key unit")
        gap_parts.append(g[["id", "name", "category", "rule", "kind", "first_water_s",
                            "micro_station", "walkway_m", "geometry"]])
    if len(b) and high.any():
        g = b[high & ~ok_b].assign(kind="high-rise", name="", category="highrise",
                                   rule=lambda f: [f"height {h:.0f} m" for h in f["height_m"]])
        gap_parts.append(g[["id", "name", "category", "rule", "kind", "first_water_s",
                            "micro_station", "walkway_m", "geometry"]])
    gaps = (gpd.GeoDataFrame(pd.concat(gap_parts, ignore_index=True), crs=network.crs)
            if gap_parts else empty.assign(kind=[], first_water_s=[]))
    gaps = gaps.drop_duplicates("id").sort_values("first_water_s", ascending=False)
    return MicroAssessment(
        standard=standard, model=model, metrics=metrics, stations=table, buildings=b,
        key_units=k_in, key_units_outside=k_out,
        cells=_grid(b, k_in, area, cell_m), gaps=gaps.reset_index(drop=True), index=index,
    )
