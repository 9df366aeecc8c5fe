"""Coverage assessment of today's stations against a response standard.

Pure computation: a :class:`~coverage.network.model.RoadNetwork` and a station
layer in, an :class:`Assessment` (GeoDataFrames and figures) out. Nothing here
writes files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from coverage.assess.access import AccessRule
from coverage.assess.demand import SNAP, DemandSet, _rule, snap_layer
from coverage.assess.districts import (
    ABSORB_BELOW_KM2,
    absorb_islands,
    dissolve_cells,
    district_pieces,
)
from coverage.assess.grid import DEFAULT_CELL_M
from coverage.assess.highrise import (
    DEFAULT_HIGHRISE,
    HighriseRule,
    highrise_figures,
    highrise_reach,
)
from coverage.assess.isochrones import DEFAULT_BREAKS_MIN, service_areas
from coverage.assess.metrics import cdf_table, response_metrics
from coverage.engine import (
    SNAP_MAX_M,
    RoadIndex,
    Snap,
    build_index,
    due_times,
    point_times,
    snap_points,
)
from coverage.errors import InputError
from coverage.network.model import RoadNetwork
from coverage.presets import STATION_TYPES, ResponseStandard, response_standard

__all__ = ["Assessment", "assess", "station_table", "worst_first_due", "no_access_zones"]


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    standard : ResponseStandard
    metrics : dict
        Headline figures from :func:`coverage.assess.metrics.response_metrics` on the
        demand, plus ``roads`` (the same on road samples, road length weighted),
        ``land`` (land, no-vehicle-access land), ``districts`` (pieces, clean-up,
        cross-district demand) and ``worst_first_due`` (where and on which road).
    stations : GeoDataFrame
        One row per station (network CRS): ``id``, ``name``, ``type``, ``status``,
        ``district_km2``, ``area_cap_km2``, ``over_cap``, ``pieces``,
        ``main_piece_share``, ``protection_radius_m`` (main piece),
        ``detached_farthest_m``, ``farthest_travel_s`` (to the accessible cell of the
        main piece farthest from the station), ``max_first_due_s`` (over the district's
        accessible cells),
        ``demand_weight``, ``snap_m``.
    demand : GeoDataFrame
        Demand points (network CRS) with ``weight``, ``first_due_s``,
        ``first_due_station``, ``second_due_s``, ``second_due_station``,
        ``response_s``, ``covered``.
    districts : GeoDataFrame
        One polygon per station (network CRS): ``station_id``, ``name``, ``type``,
        ``district_km2``, ``area_cap_km2``, ``over_cap``, ``pieces``,
        ``main_piece_share``, ``protection_radius_m``.
    district_pieces : GeoDataFrame
        One row per district piece: ``station_id``, ``piece`` (0 = main), ``main``,
        ``area_km2``, ``farthest_m``.
    no_access : GeoDataFrame
        No-vehicle-access zones (车进不去): land with no drivable road within the hose
        length, one row per zone with ``area_km2`` (and ``buildings`` when known).
    service_areas : GeoDataFrame
        Isochrone polygons (network CRS).
    cdf : DataFrame
        Share of demand weight reached by travel time.
    times : ndarray, shape (S, T)
        Travel seconds (drive + on foot) from each station to each demand point.
    network : RoadNetwork
    index : RoadIndex
    demand_set : DemandSet
    land_set : DemandSet
        The land the districts are made of (``demand_set`` itself for land demand
        and for the legacy rule).
    land_times : ndarray, shape (S, N)
        Travel seconds from each station to each land cell.
    road_set : DemandSet
        Road samples (``demand_set`` itself for road demand), for the roads layer.
    road_times : ndarray
    highrise : GeoDataFrame or None
        High-rises with their aerial reach (:func:`~coverage.assess.highrise.highrise_reach`),
        when buildings were given.
    """

    standard: ResponseStandard
    metrics: dict
    stations: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    district_pieces: gpd.GeoDataFrame
    no_access: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    cdf: pd.DataFrame
    times: np.ndarray
    network: RoadNetwork
    index: RoadIndex
    demand_set: DemandSet
    land_set: DemandSet
    land_times: np.ndarray
    road_set: DemandSet
    road_times: np.ndarray
    highrise: gpd.GeoDataFrame | None = None

    def road_samples(self) -> gpd.GeoDataFrame:
        """Road samples (network CRS) with ``first_due_s`` and ``first_due_station``."""
        if self.road_set is self.demand_set:
            return self.demand
        due = due_times(self.road_times)
        ids = self.stations["id"].astype(str).to_numpy()
        out = self.road_set.points.copy()
        out["first_due_s"] = due.first_s
        out["first_due_station"] = np.where(due.first_idx >= 0, ids[due.first_idx], None)
        return out

    def summary(self) -> dict:
        """The ``summary.json`` content: standard, metrics, network and per-station rows."""
        net = self.network
        stations = [
            {
                "id": r.id,
                "name": r.name,
                "type": r.type,
                "status": r.status,
                "district_km2": _num(r.district_km2),
                "area_cap_km2": _num(r.area_cap_km2),
                "over_cap": bool(r.over_cap),
                "pieces": int(r.pieces),
                "main_piece_share": _num(r.main_piece_share),
                "protection_radius_m": _num(r.protection_radius_m),
                "detached_farthest_m": _num(r.detached_farthest_m),
                "farthest_travel_s": _num(r.farthest_travel_s),
                "max_first_due_s": _num(r.max_first_due_s),
                "snap_m": _num(r.snap_m),
            }
            for r in self.stations.itertuples()
        ]
        rule = self.demand_set.rule
        return {
            "standard": self.standard.name,
            "standard_clause": self.standard.clause,
            "turnout_s": self.standard.turnout_s,
            "travel_threshold_s": self.standard.travel_threshold_s,
            "response_threshold_s": self.standard.response_threshold_s,
            **self.metrics,
            "access": rule.as_dict() if rule is not None else {"mode": SNAP},
            "demand": {
                "kind": self.demand_set.kind,
                "points": int(len(self.demand)),
                "total_weight": float(self.demand["weight"].sum()),
                "weight_unit": _WEIGHT_UNITS.get(self.demand_set.kind, "as given"),
                "highrise_points": int(self.demand["highrise"].sum()) if "highrise" in self.demand else None,
            },
            "network": {
                "nodes": int(net.graph.number_of_nodes()),
                "edges": int(net.graph.number_of_edges()),
                "crs": net.crs.to_string(),
                "report": net.report.as_dict() if net.report is not None else None,
            },
            "stations": stations,
            "cdf": self.cdf.to_dict(orient="list"),
        }


_WEIGHT_UNITS = {"land": "m² of land", "roads": "m of road", "buildings": "m² of floor area"}


def _num(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def assess(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    *,
    standard: str | ResponseStandard = "gb51080",
    demand: DemandSet | None = None,
    access: AccessRule | str | None = None,
    cell_m: float = DEFAULT_CELL_M,
    water: BaseGeometry | None = None,
    step_m: float = 50.0,
    absorb_below_km2: float = ABSORB_BELOW_KM2,
    breaks_min: Sequence[float] = DEFAULT_BREAKS_MIN,
    index: RoadIndex | None = None,
    stations_source: str = "stations",
    max_snap_m: float = SNAP_MAX_M,
    land: DemandSet | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    highrise_rule: HighriseRule = DEFAULT_HIGHRISE,
) -> Assessment:
    """Measure how well ``stations`` cover the district on its road network.

    Parameters
    ----------
    network : RoadNetwork
        From :func:`coverage.network.load_network`; its ``boundary`` is the district.
    stations : GeoDataFrame
        Station points (any CRS) with ``id`` and, optionally, ``name``, ``type``
        (a :data:`~coverage.presets.STATION_TYPES` code) and ``status``. Rows with
        ``status == "closed"`` are ignored.
    standard : str or ResponseStandard
        ``"gb51080"`` (default) or ``"nfpa1710"``, or a customised preset.
    demand : DemandSet, optional
        Defaults to the land grid (:meth:`DemandSet.from_land`); with ``access="snap"``,
        to road samples every ``step_m`` (the legacy model).
    access : AccessRule or "snap", optional
        How crews reach demand (default :data:`~coverage.assess.access.DEFAULT_ACCESS`);
        ``"snap"``: legacy, every location snapped to its nearest road, Voronoi districts.
        Ignored when ``demand`` is given (the demand carries its rule).
    cell_m : float
        Land grid cell, m.
    water : shapely geometry, optional
        Water removed from the land (network CRS).
    step_m : float
        Road sample spacing, m.
    absorb_below_km2 : float
        District clean-up: detached pieces smaller than this join the district around them.
    breaks_min : sequence of float
        Service-area breaks, minutes of travel.
    index : RoadIndex, optional
        Reuse an index already built for ``network``.
    stations_source : str
        File name used in error messages.
    max_snap_m : float
        A station further than this from any road is an input error.
    land : DemandSet, optional
        Reuse the land grid of an earlier assessment (before/after runs).
    buildings : GeoDataFrame, optional
        Building footprints with heights (:func:`coverage.buildings.buildings_demand`
        with ``footprints=True``): counted in the no-access zones, and their high-rises
        get the aerial reach view (:mod:`coverage.assess.highrise`).
    highrise_rule : HighriseRule

    Returns
    -------
    Assessment
    """
    std = response_standard(standard) if isinstance(standard, str) else standard
    index = index or build_index(network)
    area = network.boundary if network.boundary is not None else network.study_area
    if demand is None:
        rule = _rule(access)
        demand = (
            DemandSet.from_land(index, area, cell_m=cell_m, water=water, access=rule)
            if rule is not None
            else DemandSet.from_roads(index, area, step_m=step_m, access=SNAP)
        )
    rule = demand.rule
    if demand.kind == "land" or rule is None:
        land = demand
    elif land is None:
        land = DemandSet.from_land(index, area, cell_m=cell_m, water=water, access=rule)
    roads = demand if demand.kind == "roads" else DemandSet.from_roads(
        index, area, step_m=step_m, access=rule if rule is not None else SNAP
    )

    active = _active_stations(stations, stations_source).to_crs(network.crs)
    st_snap = snap_layer(index, active, source=stations_source, max_m=max_snap_m, what="station")
    times = demand.times(index, st_snap)
    land_times = times if land is demand else land.times(index, st_snap)
    road_times = times if roads is demand else roads.times(index, st_snap)
    due = due_times(times)
    ids = active["id"].astype(str).to_numpy()
    weights = demand.points["weight"].to_numpy(float)

    dem = demand.points.copy()
    dem["first_due_s"] = due.first_s
    dem["first_due_station"] = np.where(due.first_idx >= 0, ids[due.first_idx], None)
    dem["second_due_s"] = due.second_s
    dem["second_due_station"] = np.where(due.second_idx >= 0, ids[due.second_idx], None)
    dem["response_s"] = due.first_s + std.turnout_s
    dem["covered"] = due.first_s <= std.travel_threshold_s

    land_first = due.first_idx if land is demand else due_times(land_times).first_idx
    table, districts, pieces, district_of = station_table(
        index, active, st_snap, land_times, land_first, land,
        area_caps=std.area_caps_km2, absorb_below_km2=absorb_below_km2,
    )
    areas = service_areas(land.cells, land_times, ids, crs=network.crs, breaks_min=breaks_min)
    metrics = response_metrics(weights, due.first_s, due.second_s, std)
    if roads is not demand:
        road_due = due_times(road_times)
        metrics["roads"] = response_metrics(
            roads.points["weight"].to_numpy(float), road_due.first_s, road_due.second_s, std
        )
    no_access = no_access_zones(land, crs=network.crs)
    highrise = None
    if buildings is not None:
        rep = shapely.point_on_surface(buildings.to_crs(network.crs).geometry.values)
        zone_of = np.full(len(rep), -1)
        if len(no_access):
            hit, zone = shapely.STRtree(no_access.geometry.values).query(rep, predicate="within")
            zone_of[hit] = zone
        no_access["buildings"] = np.bincount(zone_of[zone_of >= 0], minlength=len(no_access))[: len(no_access)]
        if rule is not None:
            highrise = highrise_reach(
                index, buildings, active, st_snap, access=rule, threshold_s=std.travel_threshold_s,
                no_access=no_access, rule=highrise_rule,
            )
            metrics["highrise"] = highrise_figures(highrise, threshold_s=std.travel_threshold_s)
    land_km2 = float(land.grid.area_km2.sum()) if land.grid is not None else float(land.cell_km2.sum())
    no_km2 = float(no_access["area_km2"].sum())
    metrics["land"] = {
        "land_km2": land_km2,
        "water_km2": land.grid.water_km2 if land.grid is not None else 0.0,
        "cell_m": land.grid.cell_m if land.grid is not None else None,
        "no_access_km2": no_km2,
        "no_access_share": no_km2 / land_km2 if land_km2 > 0 else float("nan"),
        "no_access_zones": int(len(no_access)),
    }
    metrics["districts"] = _district_figures(table, demand, due.first_idx, district_of, pieces)
    metrics["worst_first_due"] = worst_first_due(
        index, demand, st_snap, active, times, due.first_s, due.first_idx
    )
    return Assessment(
        standard=std,
        metrics=metrics,
        stations=table,
        demand=dem,
        districts=districts,
        district_pieces=pieces,
        no_access=no_access,
        service_areas=areas,
        cdf=cdf_table(weights, due.first_s, turnout_s=std.turnout_s),
        times=times,
        network=network,
        index=index,
        demand_set=demand,
        land_set=land,
        land_times=land_times,
        road_set=roads,
        road_times=road_times,
        highrise=highrise,
    )


def _active_stations(stations: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    if len(stations) == 0:
        raise InputError("the station layer is empty", source=source, fix="add at least one station")
    st = stations.copy()
    if "id" not in st:
        st["id"] = [f"S{i + 1}" for i in range(len(st))]
    st["id"] = st["id"].astype(str)
    if "name" not in st:
        st["name"] = st["id"]
    st["name"] = st["name"].fillna("").astype(str)
    if "type" not in st:
        st["type"] = "level1"
    if "status" not in st:
        st["status"] = "existing"
    st = st[st["status"].fillna("existing").astype(str) != "closed"].reset_index(drop=True)
    if len(st) == 0:
        raise InputError("every station is marked closed", source=source, fix="keep at least one open")
    return st




def station_table(
    index: RoadIndex,
    stations: gpd.GeoDataFrame,
    snap: Snap,
    times: np.ndarray,
    first_idx: np.ndarray,
    land: DemandSet,
    *,
    area_caps: dict | None = None,
    absorb_below_km2: float = ABSORB_BELOW_KM2,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, dict]:
    """Per-station district, pieces, area against cap, protection radius, farthest travel time.

    Parameters
    ----------
    stations : GeoDataFrame
        Active stations in the network CRS, in the same order as ``times`` rows.
    times : ndarray, shape (S, N)
        Travel seconds from each station to each point of ``land``.
    first_idx : ndarray, shape (N,)
        First-due station position for each point of ``land``.
    land : DemandSet
        Land grid demand (districts from cells, cleaned up), or any demand with
        Voronoi cells (legacy rule: districts = union of the cells).
    area_caps : dict, optional
        Cap per type code; defaults to :data:`~coverage.presets.STATION_TYPES`.
    absorb_below_km2 : float
        Clean-up threshold (land grid only), see :func:`~coverage.assess.districts.absorb_islands`.

    Returns
    -------
    stations : GeoDataFrame
        The input rows plus the district columns (see :class:`Assessment`).
    districts : GeoDataFrame
        District polygons.
    pieces : GeoDataFrame
        District pieces.
    info : dict
        ``moved_km2`` (clean-up) and ``district_of``: a function from points (N, 2)
        to the position of the station whose district holds them (``-1``: none).
    """
    caps = dict(area_caps) if area_caps else {k: v.area_cap_km2 for k, v in STATION_TYPES.items()}
    n = len(stations)
    st_xy = shapely.get_coordinates(stations.geometry.values)
    moved = 0.0
    far_cell = np.full(n, -1)
    if land.grid is not None:
        grid = land.grid
        label = np.full(len(grid), -1)
        label[land.grid_pos] = first_idx
        # No-access land has no first-due station: it is reported as its own layer, not a district.
        raster, moved = absorb_islands(
            grid.raster(label), grid.raster(grid.area_km2, fill=0.0), below_km2=absorb_below_km2
        )
        label = raster[grid.row, grid.col]
        row_of = np.full(len(grid), -1)
        row_of[land.grid_pos] = np.arange(len(land.grid_pos))
        polygons = dissolve_cells(grid.cells, label, list(range(n)))
        owner = label[land.grid_pos]
        max_first = np.array(
            [times[i, owner == i].max() if np.any(owner == i) else np.nan for i in range(n)]
        )
        area_r = grid.raster(grid.area_km2, fill=0.0)
        for i in range(n):
            comp, k = ndimage.label(raster == i)
            if k == 0:
                continue
            sizes = ndimage.sum(area_r, comp, index=np.arange(1, k + 1))
            main = comp[grid.row, grid.col] == int(np.argmax(sizes)) + 1
            # The farthest cell an engine can reach (no-access land has no travel time).
            cand = np.flatnonzero(main & (label == i) & (row_of >= 0))
            if len(cand) == 0:
                continue
            d = np.hypot(grid.xy[cand, 0] - st_xy[i, 0], grid.xy[cand, 1] - st_xy[i, 1])
            far_cell[i] = row_of[cand[int(np.argmax(d))]]

        def district_of(xy: np.ndarray) -> np.ndarray:
            pos = grid.locate(xy)
            return np.where(pos >= 0, label[np.maximum(pos, 0)], -1)
    else:
        polygons = dissolve_cells(land.cells, first_idx, list(range(n)))
        max_first = np.array(
            [times[i, first_idx == i].max() if np.any(first_idx == i) else np.nan for i in range(n)]
        )
        tree = shapely.STRtree(np.asarray(polygons, dtype=object))

        def district_of(xy: np.ndarray) -> np.ndarray:
            pts = shapely.points(np.asarray(xy, dtype=float).reshape(-1, 2))
            hit_pt, hit_poly = tree.query(pts, predicate="intersects")
            out = np.full(len(pts), -1)
            out[hit_pt] = hit_poly
            return out

    piece_rows = []
    radius = np.full(n, np.nan)
    detached_far = np.full(n, np.nan)
    n_pieces = np.zeros(n, dtype=int)
    main_share = np.full(n, np.nan)
    far_xy = np.full((n, 2), np.nan)
    for i in range(n):
        parts = district_pieces(st_xy[i], polygons[i])
        n_pieces[i] = len(parts)
        if not parts:
            continue
        total = sum(p["area_km2"] for p in parts)
        radius[i], far_xy[i] = parts[0]["farthest_m"], parts[0]["farthest_xy"]
        main_share[i] = parts[0]["area_km2"] / total if total > 0 else np.nan
        if len(parts) > 1:
            detached_far[i] = max(p["farthest_m"] for p in parts[1:])
        ids = str(stations["id"].iloc[i])
        piece_rows += [{"station_id": ids, "piece": k, "main": p["main"], "area_km2": p["area_km2"],
                        "farthest_m": p["farthest_m"], "geometry": p["geometry"]}
                       for k, p in enumerate(parts)]
    farthest_s = np.full(n, np.nan)
    if land.grid is not None:
        ok = far_cell >= 0
        farthest_s[ok] = times[np.flatnonzero(ok), far_cell[ok]]
    else:
        # Legacy: drive to the road point nearest the farthest vertex.
        has = np.isfinite(far_xy[:, 0])
        if has.any():
            far_snap = snap_points(index, far_xy[has])
            farthest_s[has] = np.diag(point_times(index, snap.take(np.flatnonzero(has)), far_snap))
    weights = land.points["weight"].to_numpy(float)
    out = stations.copy()
    out["district_km2"] = [shapely.area(p) / 1e6 for p in polygons]
    out["area_cap_km2"] = [caps.get(str(t), np.nan) for t in out["type"]]
    out["over_cap"] = out["district_km2"] > out["area_cap_km2"]
    out["pieces"] = n_pieces
    out["main_piece_share"] = main_share
    out["protection_radius_m"] = radius
    out["detached_farthest_m"] = detached_far
    out["farthest_travel_s"] = farthest_s
    out["max_first_due_s"] = max_first
    out["demand_weight"] = [weights[first_idx == i].sum() for i in range(n)]
    out["snap_m"] = snap.dist_m
    cols = ["district_km2", "area_cap_km2", "over_cap", "pieces", "main_piece_share",
            "protection_radius_m", "detached_farthest_m"]
    districts = gpd.GeoDataFrame(
        {"station_id": out["id"].to_numpy(), "name": out["name"].to_numpy(),
         "type": out["type"].to_numpy(), **{c: out[c].to_numpy() for c in cols}},
        geometry=polygons,
        crs=stations.crs,
    )
    pieces = gpd.GeoDataFrame(
        piece_rows or {"station_id": [], "piece": [], "main": [], "area_km2": [], "farthest_m": [],
                       "geometry": []},
        geometry="geometry", crs=stations.crs,
    )
    return out, districts, pieces, {"moved_km2": moved, "district_of": district_of}


def _district_figures(
    table: gpd.GeoDataFrame, demand: DemandSet, first_idx: np.ndarray, info: dict,
    pieces: gpd.GeoDataFrame,
) -> dict:
    """District shape figures: pieces, main-piece shares, clean-up, cross-district demand.

    A district is land. Demand that does not stand on the land -- road samples on a
    bridge, viaduct or in a tunnel -- lies above or below a district, not inside it:
    it is left out of ``cross_district_share`` and counted in ``off_land_share``
    (with ``cross_district_share_incl_off_land`` for the old reading, the deck's
    plan position tested against the land under it).
    """
    xy = shapely.get_coordinates(demand.points.geometry.values)
    holder = info["district_of"](xy)
    w = demand.points["weight"].to_numpy(float)
    placed = (holder >= 0) & (first_idx >= 0)
    on_land = demand.on_land()
    cross = placed & (holder != first_idx)

    def share(part: np.ndarray, of: np.ndarray) -> float:
        total = float(w[of].sum())
        return float(w[part & of].sum()) / total if total > 0 else float("nan")

    shares = table["main_piece_share"].to_numpy(float)
    return {
        "cleanup_moved_km2": float(info["moved_km2"]),
        "pieces_total": int(len(pieces)),
        "max_pieces": int(table["pieces"].max()) if len(table) else 0,
        "min_main_piece_share": _num(np.nanmin(shares)) if np.isfinite(shares).any() else None,
        "cross_district_share": _num(share(cross, placed & on_land)),
        "off_land_share": _num(share(~on_land, np.ones(len(w), dtype=bool))),
        "cross_district_share_incl_off_land": _num(share(cross, placed)),
    }


def _road_label(index: RoadIndex, seg: int) -> tuple[str, str]:
    name = str(index.seg_name[seg] or "")
    cls = str(index.seg_highway[seg] or "")
    return (name if name else f"unnamed {cls} road"), cls


def worst_first_due(
    index: RoadIndex,
    demand: DemandSet,
    st_snap: Snap,
    stations: gpd.GeoDataFrame,
    times: np.ndarray,
    first_s: np.ndarray,
    first_idx: np.ndarray,
) -> dict | None:
    """Where the worst finite first-due time is, and the road the crew reaches it from.

    Returns
    -------
    dict or None
        ``first_due_s``, ``station_id``/``station_name``, ``lon``/``lat`` (WGS84),
        ``x``/``y`` (network CRS), ``demand_kind``, ``access_road_name``/``access_road_class``
        (the road the first-due engine stops on), ``on_foot_m``, ``drive_s``, and
        ``road_name`` for a road sample (the road the point lies on).
    """
    finite = np.isfinite(first_s)
    if not finite.any():
        return None
    j = int(np.flatnonzero(finite)[np.argmax(first_s[finite])])
    i = int(first_idx[j])
    if demand.access is None:
        seg, foot_m = int(demand.snap.seg[j]), 0.0
    else:
        arcs = demand.access.take([j])
        drive = point_times(index, st_snap.take([i]), arcs.points)[0][arcs.point]
        k = int(np.argmin(drive + arcs.foot_s))
        seg = int(arcs.points.seg[arcs.point[k]])
        foot_m = float(arcs.foot_s[k] * demand.rule.walk_mps)
    xy = shapely.get_coordinates(demand.points.geometry.values[j])[0]
    lonlat = gpd.GeoSeries([shapely.Point(xy)], crs=index.crs).to_crs(4326).iloc[0]
    road, cls = _road_label(index, seg)
    out = {
        "first_due_s": float(first_s[j]),
        "station_id": str(stations["id"].iloc[i]),
        "station_name": str(stations["name"].iloc[i]),
        "lon": float(lonlat.x), "lat": float(lonlat.y),
        "x": float(xy[0]), "y": float(xy[1]),
        "demand_kind": demand.kind,
        "access_road_name": road, "access_road_class": cls,
        "on_foot_m": foot_m,
        "drive_s": float(first_s[j] - foot_m / demand.rule.walk_mps) if demand.rule else float(first_s[j]),
    }
    if demand.kind == "roads":
        out["road_name"] = _road_label(index, int(demand.snap.seg[j]))[0]
    return out


def no_access_zones(land: DemandSet, *, crs) -> gpd.GeoDataFrame:
    """No-vehicle-access zones (车进不去): land cells with no drivable road within the hose length.

    Returns
    -------
    GeoDataFrame
        One row per connected zone (network CRS): ``zone``, ``area_km2``, ``cells``.
    """
    empty = gpd.GeoDataFrame({"zone": [], "area_km2": [], "cells": []}, geometry=[], crs=crs)
    if land.grid is None:
        return empty
    grid = land.grid
    mask = np.ones(len(grid), dtype=bool)
    mask[land.grid_pos] = False
    if not mask.any():
        return empty
    comp, _ = ndimage.label(grid.raster(mask.astype(np.int8), fill=0))
    zone = comp[grid.row, grid.col]
    keys = np.unique(zone[mask])
    polys = dissolve_cells(grid.cells, np.where(mask, zone, 0), list(keys))
    counts = np.bincount(zone[mask], minlength=int(keys.max()) + 1)[keys]
    frame = gpd.GeoDataFrame(
        {"zone": np.arange(1, len(keys) + 1), "area_km2": shapely.area(polys) / 1e6, "cells": counts},
        geometry=polys, crs=crs,
    )
    return frame.sort_values("area_km2", ascending=False).reset_index(drop=True).assign(
        zone=lambda f: np.arange(1, len(f) + 1)
    )
