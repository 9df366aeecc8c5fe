"""Where the existing hydrants stand: on which road, how far from the carriageway
edge and from building walls (GB 50974-2014 §7.2.6), and which of them count.

A hydrant *counts* for coverage, spacing and bridge checks when it is in
service; hydrants of unknown status count too unless ``count_unknown=False``
(OSM hydrants almost never record their status, and treating them all as
broken would report a district with hundreds of hydrants as having none).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.engine import Snap, snap_points
from coverage.errors import InputError
from coverage.hydrants.layer import IN_SERVICE, UNKNOWN
from coverage.hydrants.roads import Roads
from coverage.presets import GB50974, HydrantRules

__all__ = ["carriageway_offsets", "hydrant_snap", "locate_hydrants", "wall_distance"]

_SHOW = 5


def _listing(ids: np.ndarray, dist: np.ndarray, rows: np.ndarray) -> str:
    text = ", ".join(f"{ids[i]!r} ({dist[i]:.0f} m)" for i in rows[:_SHOW])
    return text + (f" and {len(rows) - _SHOW} more" if len(rows) > _SHOW else "")


def locate_hydrants(
    roads: Roads,
    hydrants: gpd.GeoDataFrame,
    *,
    study_area: shapely.Geometry,
    rules: HydrantRules = GB50974,
    count_unknown: bool = True,
    source: str = "hydrants",
) -> gpd.GeoDataFrame:
    """Snap hydrants to the roads and decide which of them count.

    Parameters
    ----------
    roads : Roads
    hydrants : GeoDataFrame
        From :mod:`coverage.hydrants.layer` (any CRS), with ``id``, ``status``
        and ``source`` (``user``/``osm``).
    study_area : shapely geometry
        The network's study area in the network CRS; hydrants outside it are
        dropped (they are beyond the road data).
    rules : HydrantRules
    count_unknown : bool
        Whether hydrants of unknown status count as in service.
    source : str
        File name for messages.

    Returns
    -------
    GeoDataFrame
        Network CRS, the input columns plus ``seg``, ``frac``, ``snap_m`` (m to the
        nearest road of the network), ``in_area`` (inside the assessed area),
        ``off_network`` (further than the protection radius from every road: it
        covers no road either way) and ``counted``.

    Raises
    ------
    InputError
        No hydrant lies in the study area; a user hydrant lies further than the
        protection radius from every road (probably misplaced).

    Warns
    -----
    UserWarning
        User hydrants outside the study area were dropped; OSM hydrants off the
        network do not count.
    """
    frame = hydrants.to_crs(roads.index.crs).reset_index(drop=True)
    inside = shapely.covers(study_area, frame.geometry.values)
    if not inside.any():
        raise InputError(
            f"none of the {len(frame)} hydrant(s) lies in the study area of the road network",
            source=source,
            fix="check the coordinates and --coord-system (Amap exports GCJ-02, Baidu BD-09), "
            "and that the hydrants and the OSM extract cover the same place",
        )
    dropped_user = (~inside & (frame["source"] == "user").to_numpy()).sum()
    if dropped_user:
        warnings.warn(
            f"{source}: {dropped_user} hydrant(s) outside the study area were left out",
            stacklevel=2,
        )
    frame = frame[inside].reset_index(drop=True)
    xy = shapely.get_coordinates(frame.geometry.values)
    snap = snap_points(roads.index, xy)
    ids = frame["id"].astype(str).to_numpy()
    off = snap.dist_m > rules.protection_radius_m
    is_user = (frame["source"] == "user").to_numpy()
    bad = np.flatnonzero(off & is_user)
    if len(bad):
        raise InputError(
            f"{len(bad)} hydrant(s) lie more than {rules.protection_radius_m:.0f} m (the "
            f"protection radius) from every road of the network: "
            f"{_listing(ids, snap.dist_m, bad)}",
            source=source,
            row=ids[bad[0]],
            fix="check their coordinates and --coord-system, or delete hydrants that do not "
            "serve the road network",
        )
    if off.any():
        warnings.warn(
            f"{off.sum()} OpenStreetMap hydrant(s) lie more than "
            f"{rules.protection_radius_m:.0f} m from every road of the network and cover "
            f"none: {_listing(ids, snap.dist_m, np.flatnonzero(off))}",
            stacklevel=2,
        )
    status = frame["status"].to_numpy()
    working = (status == IN_SERVICE) | ((status == UNKNOWN) & count_unknown)
    out = frame.copy()
    out["seg"] = snap.seg
    out["frac"] = snap.frac
    out["snap_m"] = snap.dist_m
    out["in_area"] = shapely.covers(roads.area, frame.geometry.values)
    out["off_network"] = off
    out["counted"] = working & ~off
    return out


def hydrant_snap(located: gpd.GeoDataFrame, roads: Roads) -> Snap:
    """The :class:`~coverage.engine.Snap` of hydrants placed by :func:`locate_hydrants`."""
    seg = located["seg"].to_numpy(np.int64)
    frac = located["frac"].to_numpy(float)
    on_road = shapely.line_interpolate_point(roads.index.seg_geometry[seg], frac, normalized=True)
    return Snap(seg, frac, located["snap_m"].to_numpy(float),
                shapely.get_coordinates(on_road).reshape(-1, 2))


def carriageway_offsets(
    located: gpd.GeoDataFrame, roads: Roads, *, rules: HydrantRules = GB50974
) -> pd.DataFrame:
    """Distance from each hydrant to the carriageway edge of its nearest road.

    The edge is taken at half the carriageway width from the centreline; the
    width is OSM ``width``, else ``lanes`` × 3.5 m, else unknown and the
    hydrant cannot be judged. A negative offset means the point lies on the
    carriageway (as mapped).

    Returns
    -------
    DataFrame
        ``carriageway_offset_m`` (NaN where unknown), ``offset_basis``
        (``width``/``lanes``/``""``) and ``far_from_carriageway`` (nullable
        bool: offset above ``rules.max_offset_from_carriageway_m``, NA when unknown).
    """
    seg = located["seg"].to_numpy(np.int64)
    offset = located["snap_m"].to_numpy(float) - roads.width_m[seg] / 2.0
    known = np.isfinite(offset)
    far = pd.array(np.where(known, offset > rules.max_offset_from_carriageway_m, False),
                   dtype="boolean")
    far[~known] = pd.NA
    return pd.DataFrame({
        "carriageway_offset_m": offset,
        "offset_basis": roads.width_basis[seg],
        "far_from_carriageway": far,
    }, index=located.index)


def wall_distance(
    located: gpd.GeoDataFrame,
    buildings: gpd.GeoSeries | None,
    *,
    rules: HydrantRules = GB50974,
) -> pd.DataFrame:
    """Distance from each hydrant to the nearest building footprint.

    Parameters
    ----------
    located : GeoDataFrame
        From :func:`locate_hydrants` (network CRS).
    buildings : GeoSeries or None
        Footprint polygons (any CRS). None: the check cannot be made.

    Returns
    -------
    DataFrame
        ``wall_m`` (0 inside a footprint; NaN without building data) and
        ``near_wall`` (nullable bool: closer than ``rules.min_distance_to_wall_m``).
    """
    n = len(located)
    if buildings is None or len(buildings) == 0 or n == 0:
        return pd.DataFrame({"wall_m": np.full(n, np.nan),
                             "near_wall": pd.array([pd.NA] * n, dtype="boolean")},
                            index=located.index)
    polys = buildings.to_crs(located.crs).geometry.values
    tree = shapely.STRtree(polys)
    (which, _), nearest = tree.query_nearest(located.geometry.values, return_distance=True,
                                            all_matches=False)
    dist = np.full(n, np.nan)
    dist[which] = nearest
    return pd.DataFrame({
        "wall_m": dist,
        "near_wall": pd.array(dist < rules.min_distance_to_wall_m, dtype="boolean"),
    }, index=located.index)
