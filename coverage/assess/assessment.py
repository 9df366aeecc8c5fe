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

from coverage.assess.demand import point_demand, road_demand, snap_layer
from coverage.assess.districts import demand_cells, dissolve_cells, protection_radius
from coverage.assess.isochrones import DEFAULT_BREAKS_MIN, service_areas
from coverage.assess.metrics import cdf_table, response_metrics
from coverage.engine import RoadIndex, Snap, build_index, due_times, point_times, snap_points
from coverage.errors import InputError
from coverage.network.model import RoadNetwork
from coverage.presets import STATION_TYPES, ResponseStandard, response_standard

__all__ = ["Assessment", "DemandSet", "assess", "station_table"]


@dataclass(frozen=True)
class DemandSet:
    """Demand points with their network positions and land cells.

    Attributes
    ----------
    points : GeoDataFrame
        In the network CRS, with a ``weight`` column.
    snap : Snap
        Positions on the road network.
    cells : ndarray of geometries
        Land attributed to each point (Voronoi cell clipped to the boundary).
    cell_km2 : ndarray of float
        Area of each cell, km².
    """

    points: gpd.GeoDataFrame
    snap: Snap
    cells: np.ndarray
    cell_km2: np.ndarray

    @classmethod
    def from_roads(cls, index: RoadIndex, boundary, *, step_m: float = 50.0) -> DemandSet:
        """Road samples every ``step_m`` inside ``boundary`` (network CRS).

        Every sample counts as demand, but only samples on surface roads claim
        land: nobody reaches the buildings beside a tunnel or under a viaduct
        from it, and letting such points claim land would scatter a station's
        district into slivers around roads that merely pass through.
        """
        points, snap = road_demand(index, step_m=step_m, area=boundary)
        if len(points) == 0:
            raise InputError(
                "no road of the network lies inside the boundary",
                fix="check that the boundary and the OSM extract cover the same place",
            )
        surface = ~(index.seg_bridge[snap.seg] | index.seg_tunnel[snap.seg])
        if not surface.any():
            surface[:] = True
        cells = np.empty(len(points), dtype=object)
        cells[:] = shapely.Polygon()
        cells[surface] = demand_cells(snap.xy[surface], boundary)
        return cls(points, snap, cells, shapely.area(cells) / 1e6)

    @classmethod
    def from_points(
        cls, index: RoadIndex, layer: gpd.GeoDataFrame, boundary, *, source: str = "demand"
    ) -> DemandSet:
        """A weighted point layer (buildings by floor area, incidents, ...) inside ``boundary``.

        ``layer`` needs a ``weight`` column; other columns (e.g. ``highrise``) are kept.
        Land cells are the Voronoi cells of the points themselves.
        """
        points, snap = point_demand(index, layer, area=boundary, source=source)
        if len(points) == 0:
            raise InputError(
                "no demand point lies inside the boundary",
                source=source,
                fix="check the layer's coordinates and coordinate system",
            )
        cells = demand_cells(shapely.get_coordinates(points.geometry.values), boundary)
        return cls(points, snap, cells, shapely.area(cells) / 1e6)


@dataclass(frozen=True)
class Assessment:
    """Result of :func:`assess`.

    Attributes
    ----------
    standard : ResponseStandard
    metrics : dict
        Headline figures from :func:`coverage.assess.metrics.response_metrics`.
    stations : GeoDataFrame
        One row per station (network CRS): ``id``, ``name``, ``type``, ``status``,
        ``district_km2``, ``area_cap_km2``, ``over_cap``, ``protection_radius_m``,
        ``farthest_travel_s``, ``max_first_due_s``, ``demand_weight``, ``snap_m``.
    demand : GeoDataFrame
        Demand points (network CRS) with ``weight``, ``first_due_s``,
        ``first_due_station``, ``second_due_s``, ``second_due_station``,
        ``response_s``, ``covered``.
    districts : GeoDataFrame
        One polygon per station (network CRS): ``station_id``, ``type``,
        ``district_km2``, ``area_cap_km2``, ``over_cap``.
    service_areas : GeoDataFrame
        Isochrone polygons (network CRS).
    cdf : DataFrame
        Share of demand weight reached by travel time.
    times : ndarray, shape (S, T)
        Travel seconds from each station to each demand point.
    network : RoadNetwork
    index : RoadIndex
    demand_set : DemandSet
    """

    standard: ResponseStandard
    metrics: dict
    stations: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    cdf: pd.DataFrame
    times: np.ndarray
    network: RoadNetwork
    index: RoadIndex
    demand_set: DemandSet

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
                "protection_radius_m": _num(r.protection_radius_m),
                "farthest_travel_s": _num(r.farthest_travel_s),
                "max_first_due_s": _num(r.max_first_due_s),
                "snap_m": _num(r.snap_m),
            }
            for r in self.stations.itertuples()
        ]
        return {
            "standard": self.standard.name,
            "standard_clause": self.standard.clause,
            "turnout_s": self.standard.turnout_s,
            "travel_threshold_s": self.standard.travel_threshold_s,
            "response_threshold_s": self.standard.response_threshold_s,
            **self.metrics,
            "demand": {
                "points": int(len(self.demand)),
                "total_weight": float(self.demand["weight"].sum()),
                "weight_unit": "m of road" if "highway" in self.demand else "as given",
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


def _num(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def assess(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    *,
    standard: str | ResponseStandard = "gb51080",
    demand: DemandSet | None = None,
    step_m: float = 50.0,
    breaks_min: Sequence[float] = DEFAULT_BREAKS_MIN,
    index: RoadIndex | None = None,
    stations_source: str = "stations",
    max_snap_m: float = 500.0,
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
        Defaults to road samples every ``step_m`` inside the boundary.
    step_m : float
        Road demand spacing, m.
    breaks_min : sequence of float
        Service-area breaks, minutes of travel.
    index : RoadIndex, optional
        Reuse an index already built for ``network``.
    stations_source : str
        File name used in error messages.
    max_snap_m : float
        A station further than this from any road is an input error.

    Returns
    -------
    Assessment
    """
    std = response_standard(standard) if isinstance(standard, str) else standard
    index = index or build_index(network)
    area = network.boundary if network.boundary is not None else network.study_area
    demand = demand or DemandSet.from_roads(index, area, step_m=step_m)

    active = _active_stations(stations, stations_source).to_crs(network.crs)
    st_snap = snap_layer(index, active, source=stations_source, max_m=max_snap_m)
    times = point_times(index, st_snap, demand.snap)
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

    table, districts = station_table(
        index, active, st_snap, times, due.first_idx, demand, area_caps=std.area_caps_km2
    )
    areas = service_areas(demand.cells, times, ids, crs=network.crs, breaks_min=breaks_min)
    return Assessment(
        standard=std,
        metrics=response_metrics(weights, due.first_s, due.second_s, std),
        stations=table,
        demand=dem,
        districts=districts,
        service_areas=areas,
        cdf=cdf_table(weights, due.first_s, turnout_s=std.turnout_s),
        times=times,
        network=network,
        index=index,
        demand_set=demand,
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
    demand: DemandSet,
    *,
    area_caps: dict | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Per-station district, area against cap, protection radius and farthest travel time.

    Parameters
    ----------
    stations : GeoDataFrame
        Active stations in the network CRS, in the same order as ``times`` rows.
    first_idx : ndarray, shape (T,)
        First-due station position for each demand point.
    area_caps : dict, optional
        Cap per type code; defaults to :data:`~coverage.presets.STATION_TYPES`.

    Returns
    -------
    stations : GeoDataFrame
        The input rows plus the district columns (see :class:`Assessment`).
    districts : GeoDataFrame
        District polygons.
    """
    caps = dict(area_caps) if area_caps else {k: v.area_cap_km2 for k, v in STATION_TYPES.items()}
    n = len(stations)
    polygons = dissolve_cells(demand.cells, first_idx, list(range(n)))
    st_xy = shapely.get_coordinates(stations.geometry.values)
    radius, far_xy = zip(*(protection_radius(st_xy[i], polygons[i]) for i in range(n)), strict=True)
    far_xy = np.asarray(far_xy)
    farthest_s = np.full(n, np.nan)
    has = np.isfinite(far_xy[:, 0])
    if has.any():
        far_snap = snap_points(index, far_xy[has])
        far_times = point_times(index, snap.take(np.flatnonzero(has)), far_snap)
        farthest_s[has] = np.diag(far_times)
    weights = demand.points["weight"].to_numpy(float)
    max_first = np.array(
        [times[i, first_idx == i].max() if np.any(first_idx == i) else np.nan for i in range(n)]
    )
    out = stations.copy()
    out["district_km2"] = [shapely.area(p) / 1e6 for p in polygons]
    out["area_cap_km2"] = [caps.get(str(t), np.nan) for t in out["type"]]
    out["over_cap"] = out["district_km2"] > out["area_cap_km2"]
    out["protection_radius_m"] = radius
    out["farthest_travel_s"] = farthest_s
    out["max_first_due_s"] = max_first
    out["demand_weight"] = [weights[first_idx == i].sum() for i in range(n)]
    out["snap_m"] = snap.dist_m
    districts = gpd.GeoDataFrame(
        {
            "station_id": out["id"].to_numpy(),
            "name": out["name"].to_numpy(),
            "type": out["type"].to_numpy(),
            "district_km2": out["district_km2"].to_numpy(),
            "area_cap_km2": out["area_cap_km2"].to_numpy(),
            "over_cap": out["over_cap"].to_numpy(),
            "protection_radius_m": out["protection_radius_m"].to_numpy(),
        },
        geometry=polygons,
        crs=stations.crs,
    )
    return out, districts
