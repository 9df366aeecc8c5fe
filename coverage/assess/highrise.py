"""High-rise reach: can an aerial apparatus get to each high-rise in time, and set up beside it?

For each building taller than the GB 50016-2014 §2.1.1 thresholds (residential
> 27 m, other civil buildings > 24 m; super high-rise > 100 m):

- ``first_due_s``: first-due time through its access points (the same rule as all demand);
- ``aerial_first_due_s``: the same from the stations that carry an aerial apparatus
  (a station attribute ``aerial``; by default 一级 and 特勤 stations carry one);
- ``aerial_access``: whether a drivable surface road lies within the apparatus'
  working distance of the footprint (GB 50016-2014 §7.2.2: the hardstanding's edge
  5–10 m from the façade; OSM gives centre lines, so half a carriageway is added);
- ``in_no_access``: whether it stands in a no-vehicle-access zone (车进不去).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely import STRtree

from coverage.assess.access import AccessRule, _eligible, access_arcs
from coverage.engine import RoadIndex, Snap, due_times, point_times
from coverage.errors import InputError

__all__ = ["HighriseRule", "DEFAULT_HIGHRISE", "highrise_reach", "highrise_figures"]

#: OSM ``building`` values counted as residential (the 27 m threshold applies).
RESIDENTIAL_TAGS = ("residential", "apartments", "house", "dormitory", "detached", "terrace")


@dataclass(frozen=True)
class HighriseRule:
    """Named parameters of the high-rise view.

    Attributes
    ----------
    residential_m, other_m : float
        GB 50016-2014 §2.1.1: residential buildings taller than 27 m, other civil
        buildings taller than 24 m, are high-rise (高层建筑).
    super_m : float
        Taller than 100 m: super high-rise (超高层, GB 50016-2014 §5.1.1 note).
    aerial_reach_m : float
        Farthest road centre line from the footprint at which an aerial apparatus
        can work, m: 10 m (§7.2.2, hardstanding edge to façade) plus 5 m, half a
        two-lane carriageway, since OSM roads are centre lines.
    aerial_types : tuple of str
        Station types that carry an aerial apparatus when the layer has no ``aerial`` column.
    """

    residential_m: float = 27.0
    other_m: float = 24.0
    super_m: float = 100.0
    aerial_reach_m: float = 15.0
    aerial_types: tuple[str, ...] = ("level1", "special")


DEFAULT_HIGHRISE = HighriseRule()


def aerial_stations(stations: gpd.GeoDataFrame, rule: HighriseRule = DEFAULT_HIGHRISE) -> np.ndarray:
    """Which stations carry an aerial apparatus: the ``aerial`` column, else by type."""
    if "aerial" in stations:
        raw = stations["aerial"]
        text = raw.astype(str).str.strip().str.lower()
        return (text.isin(["true", "1", "yes", "y"]) | (raw.astype(object) == True)).to_numpy()  # noqa: E712
    return stations["type"].astype(str).isin(rule.aerial_types).to_numpy()


def highrise_reach(
    index: RoadIndex,
    buildings: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    st_snap: Snap,
    *,
    access: AccessRule,
    threshold_s: float,
    no_access: gpd.GeoDataFrame | None = None,
    rule: HighriseRule = DEFAULT_HIGHRISE,
) -> gpd.GeoDataFrame:
    """One row per high-rise with its first-due and aerial reach.

    Parameters
    ----------
    index : RoadIndex
    buildings : GeoDataFrame
        Footprints (or points) with ``height_m`` and optionally ``building`` (OSM tag)
        and ``height_source``; any CRS.
    stations : GeoDataFrame
        Active stations in ``index.crs``, rows in the order of ``st_snap``.
    st_snap : Snap
    access : AccessRule
    threshold_s : float
        The standard's travel time, s.
    no_access : GeoDataFrame, optional
        No-vehicle-access zones (network CRS).
    rule : HighriseRule

    Returns
    -------
    GeoDataFrame
        Network CRS, the footprints of high-rises only, with ``height_m``, ``class``
        (``"high-rise"``/``"super high-rise"``), ``first_due_s``, ``first_due_station``,
        ``aerial_first_due_s``, ``aerial_station``, ``aerial_access``, ``in_no_access``,
        ``aerial_in_time``.
    """
    if "height_m" not in buildings:
        raise InputError("the buildings have no height_m column",
                         fix="read them with coverage.buildings.buildings_demand")
    b = buildings.to_crs(index.crs).reset_index(drop=True)
    tag = b["building"].astype(str) if "building" in b else np.full(len(b), "")
    limit = np.where(np.isin(np.asarray(tag), RESIDENTIAL_TAGS), rule.residential_m, rule.other_m)
    height = b["height_m"].to_numpy(float)
    tall = height > limit
    b = b[tall].reset_index(drop=True)
    height = height[tall]
    geoms = b.geometry.values
    xy = shapely.get_coordinates(shapely.point_on_surface(geoms)).reshape(-1, 2)
    times = point_times(index, st_snap, access_arcs(index, xy, access)) if len(b) else np.zeros((len(st_snap), 0))
    due = due_times(times)
    ids = stations["id"].astype(str).to_numpy()
    aerial = aerial_stations(stations, rule)
    if aerial.any() and len(b):
        a_due = due_times(times[aerial])
        a_ids = ids[aerial]
        aerial_s, aerial_id = a_due.first_s, np.where(a_due.first_idx >= 0, a_ids[a_due.first_idx], None)
    else:
        aerial_s, aerial_id = np.full(len(b), np.inf), np.full(len(b), None)
    segs = _eligible(index, access)
    hit, _ = STRtree(index.seg_geometry[segs]).query(geoms, predicate="dwithin", distance=rule.aerial_reach_m)
    has_road = np.zeros(len(b), dtype=bool)
    has_road[hit] = True
    in_zone = np.zeros(len(b), dtype=bool)
    if no_access is not None and len(no_access):
        zone = shapely.union_all(no_access.geometry.values)
        in_zone = shapely.contains_xy(zone, xy[:, 0], xy[:, 1]) if len(b) else in_zone
    out = b.copy()
    out["height_m"] = height
    out["class"] = np.where(height > rule.super_m, "super high-rise", "high-rise")
    out["first_due_s"] = due.first_s
    out["first_due_station"] = np.where(due.first_idx >= 0, ids[np.maximum(due.first_idx, 0)], None)
    out["aerial_first_due_s"] = aerial_s
    out["aerial_station"] = aerial_id
    out["aerial_access"] = has_road
    out["in_no_access"] = in_zone
    out["aerial_in_time"] = has_road & (aerial_s <= threshold_s)
    return out


def highrise_figures(highrise: gpd.GeoDataFrame, *, threshold_s: float) -> dict:
    """Summary figures: counts of high-rises reached in time, by aerial apparatus, with no aerial access."""
    n = len(highrise)
    src = highrise["height_source"].astype(str) if "height_source" in highrise else None
    return {
        "highrises": int(n),
        "super_highrises": int((highrise["class"] == "super high-rise").sum()) if n else 0,
        "first_due_in_time": int((highrise["first_due_s"] <= threshold_s).sum()) if n else 0,
        "aerial_in_time": int(highrise["aerial_in_time"].sum()) if n else 0,
        "no_aerial_access": int((~highrise["aerial_access"].astype(bool)).sum()) if n else 0,
        "in_no_access_zone": int(highrise["in_no_access"].sum()) if n else 0,
        "height_tagged": int((src != "assumed").sum()) if src is not None else None,
        "note": "OSM heights: buildings without height or building:levels count as 1 storey, "
        "so high-rises are undercounted where tags are missing",
    }
