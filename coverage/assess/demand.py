"""Demand points: where the fire service must be able to reach.

The Chinese rule is about reaching *every point* of a district, so the default
demand is the road network itself: each segment sampled at a fixed step, each
point weighted by the road length (m) it stands for. Building and user layers
are snapped onto the same segments.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from coverage.engine import RoadIndex, Snap, snap_points
from coverage.errors import InputError

__all__ = ["road_demand", "point_demand", "snap_layer", "DEFAULT_STEP_M"]

#: Default spacing of road demand samples, m.
DEFAULT_STEP_M = 50.0


def road_demand(
    index: RoadIndex, *, step_m: float = DEFAULT_STEP_M, area: BaseGeometry | None = None
) -> tuple[gpd.GeoDataFrame, Snap]:
    """Sample every road segment at ``step_m``; weight = road length represented (m).

    Each segment of length ``L`` gets ``ceil(L / step_m)`` points at the middles
    of equal pieces, so weights add up to the network length exactly. Two-way
    roads count once.

    Parameters
    ----------
    index : RoadIndex
    step_m : float
        Sample spacing, m (> 0).
    area : shapely geometry, optional
        Keep only points inside it (the district, in ``index.crs``).

    Returns
    -------
    demand : GeoDataFrame
        Points in ``index.crs`` with ``weight`` (m of road), ``highway``, ``name``.
    snap : Snap
        Their positions on the network (snap distance 0).
    """
    if not step_m > 0:
        raise InputError(f"demand step must be positive, got {step_m}", fix="use e.g. step_m=50")
    counts = np.maximum(1, np.ceil(index.seg_length_m / step_m)).astype(np.int64)
    seg = np.repeat(np.arange(index.n_segments), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    frac = (within + 0.5) / counts[seg]
    weight = index.seg_length_m[seg] / counts[seg]
    points = shapely.line_interpolate_point(index.seg_geometry[seg], frac, normalized=True)
    if area is not None:
        keep = shapely.contains_xy(area, *shapely.get_coordinates(points).T)
        seg, frac, weight, points = seg[keep], frac[keep], weight[keep], points[keep]
    snap = Snap(seg=seg, frac=frac, dist_m=np.zeros(len(seg)), xy=shapely.get_coordinates(points))
    demand = gpd.GeoDataFrame(
        {
            "weight": weight,
            "highway": index.seg_highway[seg],
            "name": index.seg_name[seg],
        },
        geometry=points,
        crs=index.crs,
    )
    return demand, snap


def snap_layer(
    index: RoadIndex,
    layer: gpd.GeoDataFrame,
    *,
    source: str = "layer",
    warn_m: float = 100.0,
    max_m: float = 500.0,
    id_col: str = "id",
) -> Snap:
    """Snap a point layer to the road network, checking snap distances.

    Parameters
    ----------
    index : RoadIndex
    layer : GeoDataFrame
        Points in any CRS; reprojected to ``index.crs``.
    source : str
        Name of the file or layer, for messages.
    warn_m : float
        Warn when a point is further than this from a road, m.
    max_m : float
        Raise :class:`InputError` when a point is further than this, m: the point
        is almost certainly misplaced (wrong CRS, wrong coordinates).
    id_col : str
        Column naming each point in messages.

    Returns
    -------
    Snap
    """
    if len(layer) == 0:
        raise InputError("the layer has no points", source=source, fix="give at least one point")
    pts = layer.to_crs(index.crs).geometry
    snap = snap_points(index, shapely.get_coordinates(pts.values))
    ids = layer[id_col].astype(str).to_numpy() if id_col in layer else np.arange(len(layer)).astype(str)
    far = np.flatnonzero(snap.dist_m > max_m)
    if len(far):
        listed = ", ".join(f"{ids[i]} ({snap.dist_m[i]:.0f} m)" for i in far[:5])
        raise InputError(
            f"{len(far)} point(s) lie more than {max_m:.0f} m from any drivable road: {listed}",
            source=source,
            row=ids[far[0]],
            fix="check the coordinates and their CRS (GCJ-02/BD-09 data needs --coord-system), "
            "or move the point next to its access road",
        )
    near = np.flatnonzero(snap.dist_m > warn_m)
    if len(near):
        listed = ", ".join(f"{ids[i]} ({snap.dist_m[i]:.0f} m)" for i in near[:5])
        warnings.warn(
            f"{source}: {len(near)} point(s) are more than {warn_m:.0f} m from the nearest road: {listed}",
            stacklevel=2,
        )
    return snap


def point_demand(
    index: RoadIndex,
    layer: gpd.GeoDataFrame,
    *,
    weight_col: str = "weight",
    source: str = "demand",
    area: BaseGeometry | None = None,
    **snap_kwargs,
) -> tuple[gpd.GeoDataFrame, Snap]:
    """Demand from a weighted point layer (buildings by floor area, incidents, ...).

    Parameters
    ----------
    index : RoadIndex
    layer : GeoDataFrame
        Points with a numeric, non-negative ``weight_col``.
    area : shapely geometry, optional
        Keep only points inside it (in ``index.crs``).

    Returns
    -------
    demand : GeoDataFrame
        The layer in ``index.crs`` with a ``weight`` column.
    snap : Snap
    """
    if weight_col not in layer:
        raise InputError(
            f"no weight column {weight_col!r}; columns are {list(layer.columns)}",
            source=source,
            fix="name the weight column with weight_col=",
        )
    demand = layer.to_crs(index.crs)
    if area is not None:
        demand = demand[demand.within(area)]
    demand = demand.rename(columns={weight_col: "weight"}).reset_index(drop=True)
    snap = snap_layer(index, demand, source=source, **snap_kwargs)
    return demand, snap
