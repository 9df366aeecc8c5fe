"""The combined view: for every building, first water (micro station on foot) and first engine.

First engine = turnout + driving time of the fastest fire station on the road
network, with the station model's engine, travel model and standard
(GB 51080-2015 §4.1.3 by default: 1 min turnout + 4 min driving). Buildings are
placed at the street beside them (:func:`coverage.micro.assess.snap_surface`),
on both networks. A building where neither arrives within its standard is
marked ``neither``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from coverage.engine import RoadIndex, build_index, due_times, point_times
from coverage.errors import InputError
from coverage.micro.assess import MicroAssessment, snap_surface
from coverage.network.model import RoadNetwork
from coverage.presets import ResponseStandard, response_standard

__all__ = ["combined_metrics", "combined_view", "engine_first_due"]

#: A fire station further than this from a road is an input error, m.
MAX_STATION_SNAP_M = 500.0


def engine_first_due(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    *,
    standard: str | ResponseStandard = "gb51080",
    index: RoadIndex | None = None,
) -> gpd.GeoDataFrame:
    """First-due engine at each point, from the open fire stations.

    Parameters
    ----------
    network : RoadNetwork
        The drive network (:func:`coverage.network.load_network` with a TravelModel).
    stations : GeoDataFrame
        :func:`coverage.layers.read_stations` layout; ``closed`` ones are ignored.
    points : GeoDataFrame
        Buildings (any CRS) with ``id``.
    standard : str or ResponseStandard

    Returns
    -------
    GeoDataFrame
        ``points`` in the network CRS with ``engine_travel_s``, ``engine_station``,
        ``first_engine_s`` (turnout included) and ``engine_ok`` (travel within the
        standard's threshold).
    """
    std = response_standard(standard) if isinstance(standard, str) else standard
    index = index or build_index(network)
    st = stations[stations["status"].astype(str) != "closed"] if "status" in stations else stations
    if len(st) == 0:
        raise InputError("no open fire station in the station layer", source="stations",
                         fix="keep at least one station that is not closed")
    st = st.to_crs(network.crs).reset_index(drop=True)
    st_snap = snap_surface(index, shapely.get_coordinates(st.geometry.values))
    far = np.flatnonzero(st_snap.dist_m > MAX_STATION_SNAP_M)
    if len(far):
        raise InputError(
            f"fire station {st['id'].iloc[far[0]]} is {st_snap.dist_m[far[0]]:.0f} m from any road",
            source="stations", row=str(st["id"].iloc[far[0]]),
            fix="check its coordinates and coordinate system")
    out = points.to_crs(network.crs).reset_index(drop=True)
    snap = snap_surface(index, shapely.get_coordinates(out.geometry.values))
    due = due_times(point_times(index, st_snap, snap))
    ids = st["id"].astype(str).to_numpy()
    out["engine_travel_s"] = due.first_s
    out["engine_station"] = np.where(due.first_idx >= 0, ids[np.maximum(due.first_idx, 0)], None)
    out["first_engine_s"] = due.first_s + std.turnout_s
    out["engine_ok"] = due.first_s <= std.travel_threshold_s
    return out


def combined_view(micro: MicroAssessment, engine: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Join first water and first engine per building.

    Parameters
    ----------
    micro : MicroAssessment
        Its ``buildings`` (with ``first_water_s``, ``micro_ok``).
    engine : GeoDataFrame
        :func:`engine_first_due` on the same buildings (matched on ``id``).

    Returns
    -------
    GeoDataFrame
        ``micro.buildings`` plus ``first_engine_s``, ``engine_station``,
        ``engine_ok``, ``time_saved_s`` (first engine minus first water; positive
        where the micro station is first), ``first_arrival`` (``"micro station"``
        or ``"engine"``) and ``neither`` (no arrival within its standard).
    """
    cols = ["id", "first_engine_s", "engine_station", "engine_ok"]
    e = engine[cols].drop_duplicates("id")
    out = micro.buildings.merge(e, on="id", how="left")
    out["first_engine_s"] = out["first_engine_s"].astype(float).fillna(np.inf)
    out["engine_ok"] = out["engine_ok"].fillna(False).astype(bool)
    water = out["first_water_s"].to_numpy(float)
    engine_s = out["first_engine_s"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        out["time_saved_s"] = np.where(np.isfinite(water) & np.isfinite(engine_s),
                                       engine_s - water, np.nan)
    out["first_arrival"] = np.where(water <= engine_s, "micro station", "engine")
    out["neither"] = ~out["micro_ok"].to_numpy(bool) & ~out["engine_ok"].to_numpy(bool)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=micro.buildings.crs)


def _median(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else None


def combined_metrics(view: gpd.GeoDataFrame) -> dict:
    """Headline figures of the combined view (all buildings, and high-rises alone)."""
    def block(frame) -> dict:
        saved = frame["time_saved_s"].to_numpy(float)
        n = len(frame)
        return {
            "buildings": int(n),
            "micro_first_share": float((frame["first_arrival"] == "micro station").mean())
            if n else None,
            "median_time_saved_s": _median(saved),
            "median_first_water_s": _median(frame["first_water_s"].to_numpy(float)),
            "median_first_engine_s": _median(frame["first_engine_s"].to_numpy(float)),
            "engine_ok_share": float(frame["engine_ok"].mean()) if n else None,
            "micro_ok_share": float(frame["micro_ok"].mean()) if n else None,
            "neither": int(frame["neither"].sum()),
        }
    high = view[view["highrise"].astype(bool)] if "highrise" in view else view.iloc[:0]
    return {"all": block(view), "highrises": block(high)}
