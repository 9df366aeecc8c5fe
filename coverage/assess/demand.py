"""Demand: where the fire service must be able to reach, and how it gets there.

The Chinese rule is about reaching *every point* of a district. The default
demand is the land itself (:class:`DemandSet.from_land`: the land grid, each cell
weighted by its area); road samples (each segment sampled at a fixed step,
weighted by the road length they stand for), buildings and user points are the
other kinds. Every kind goes through the same access rule
(:mod:`coverage.assess.access`): drive to an access point, walk the rest.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from shapely.geometry.base import BaseGeometry

from coverage.assess.access import DEFAULT_ACCESS, AccessRule, access_arcs
from coverage.assess.districts import demand_cells
from coverage.assess.grid import DEFAULT_CELL_M, LandGrid, land_grid
from coverage.engine import (
    SNAP_MAX_M,
    SNAP_WARN_M,
    AccessArcs,
    RoadIndex,
    Snap,
    check_snap,
    point_times,
    snap_points,
    travel_time_matrix,
)
from coverage.errors import InputError

__all__ = ["DemandSet", "road_demand", "point_demand", "snap_layer", "DEFAULT_STEP_M", "SNAP"]

#: ``access=SNAP``: the old rule, every location snapped to its nearest road, no walking.
SNAP = "snap"

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
    warn_m: float = SNAP_WARN_M,
    max_m: float = SNAP_MAX_M,
    id_col: str = "id",
    what: str = "point",
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
        Column naming each point in messages (with ``name`` when the layer has one).
    what : str
        Kind of point for messages ("station", "candidate site").

    Returns
    -------
    Snap
    """
    if len(layer) == 0:
        raise InputError("the layer has no points", source=source, fix="give at least one point")
    pts = layer.to_crs(index.crs).geometry
    snap = snap_points(index, shapely.get_coordinates(pts.values))
    ids = layer[id_col].astype(str).tolist() if id_col in layer else [str(i + 1) for i in range(len(layer))]
    if "name" in layer:
        names = layer["name"].astype(str).tolist()
        ids = [f"{i} ({n})" if n and n not in ("nan", "None", i) else i for i, n in zip(ids, names, strict=True)]
    check_snap(index, snap, ids, what=what, source=source, warn_m=warn_m, max_m=max_m)
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
        inside = demand.within(area).to_numpy()
        if not inside.all() and inside.any():
            # Reported, never dropped without a word: a city-wide layer on one district is
            # normal, a point in another city is a data error the planner must see.
            ids = (demand["id"] if "id" in demand else demand.index.to_series()).astype(str)
            out = np.flatnonzero(~inside)
            km = demand.geometry.iloc[out].distance(area).to_numpy() / 1000
            listed = ", ".join(f"{ids.iloc[i]} ({d:,.1f} km)" for i, d in zip(out[:5], km[:5], strict=True))
            warnings.warn(
                f"{source}: {out.size} of {len(demand)} demand point(s) lie outside the district "
                f"and are not counted: {listed}{' ...' if out.size > 5 else ''}",
                UserWarning, stacklevel=3,
            )
        demand = demand[inside]
    demand = demand.rename(columns={weight_col: "weight"}).reset_index(drop=True)
    if len(demand) and not (demand["weight"].to_numpy(float) > 0).any():
        raise InputError(
            "every demand point inside the district has weight 0: there is no demand to cover",
            source=source,
            fix="give the points their real weights, or check that the layer covers the district",
        )
    snap = snap_layer(index, demand, source=source, **snap_kwargs)
    return demand, snap


def _rule(access: AccessRule | str | None) -> AccessRule | None:
    if access is None:
        return DEFAULT_ACCESS
    if isinstance(access, str):
        if access != SNAP:
            raise InputError(f"unknown access mode {access!r}", fix=f"use an AccessRule or {SNAP!r}")
        return None
    return access


@dataclass(frozen=True)
class DemandSet:
    """Weighted demand locations with the way a crew reaches them, and their land.

    Attributes
    ----------
    points : GeoDataFrame
        In the network CRS, with a ``weight`` column.
    snap : Snap
        Nearest road position of each point (a road sample's own position).
    cells : ndarray of geometries
        Land attributed to each point (grid square, or Voronoi cell for the legacy rule).
    cell_km2 : ndarray of float
        Area of each point's cell, km² (what it brings to a district).
    access : AccessArcs or None
        Access points and on-foot times; ``None`` under the legacy ``"snap"`` rule.
    rule : AccessRule or None
    kind : str
        ``"land"``, ``"roads"``, ``"buildings"``/``"points"`` (layer name).
    grid : LandGrid or None
        For land demand: the whole grid, including cells with no vehicle access.
    grid_pos : ndarray of int or None
        For land demand: the grid cell of each point.
    off_land : ndarray of bool or None
        For road samples: on a bridge or in a tunnel, above or below the land (not
        inside any land district); ``None``: every point is on the land.
    """

    points: gpd.GeoDataFrame
    snap: Snap
    cells: np.ndarray
    cell_km2: np.ndarray
    access: AccessArcs | None = None
    rule: AccessRule | None = None
    kind: str = "points"
    grid: LandGrid | None = None
    grid_pos: np.ndarray | None = None
    off_land: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.points)

    @property
    def targets(self) -> Snap | AccessArcs:
        """What the engine routes to: access arcs, or road positions under the legacy rule."""
        return self.access if self.access is not None else self.snap

    def times(self, index: RoadIndex, src: Snap, *, cutoff_s: float | None = None) -> np.ndarray:
        """Dense travel seconds (drive + on foot) from ``src`` to every point, shape (S, T)."""
        return point_times(index, src, self.targets, cutoff_s=cutoff_s)

    def time_matrix(self, index: RoadIndex, src: Snap, *, cutoff_s: float) -> sp.csr_matrix:
        """Sparse travel seconds within ``cutoff_s`` from ``src`` to every point, shape (S, T)."""
        return travel_time_matrix(index, src, self.targets, cutoff_s=cutoff_s)

    def on_land(self) -> np.ndarray:
        """Whether each point stands on the land: ``False`` for road samples on a bridge or
        in a tunnel (they lie above or below the land districts are made of)."""
        if self.off_land is None:
            return np.ones(len(self), dtype=bool)
        return ~self.off_land

    def foot_m(self) -> np.ndarray:
        """Straight-line distance to the nearest access point of each point, m (``inf``: none)."""
        out = np.full(len(self), np.inf)
        if self.access is None:
            return self.snap.dist_m.copy()
        np.minimum.at(out, self.access.target, self.access.foot_s * self.rule.walk_mps)
        return out

    @classmethod
    def from_land(
        cls,
        index: RoadIndex,
        area: BaseGeometry,
        *,
        cell_m: float = DEFAULT_CELL_M,
        water: BaseGeometry | None = None,
        access: AccessRule | str | None = None,
    ) -> DemandSet:
        """The land grid inside ``area`` (less ``water``), each cell weighted by its area (m²).

        Cells with no drivable road within the hose length are left out of the
        demand (they are the no-vehicle-access zones, ``grid`` still holds them).
        """
        grid = land_grid(area, cell_m=cell_m, water=water)
        rule = _rule(access)
        arcs = None
        pos = np.arange(len(grid))
        if rule is not None:
            arcs = access_arcs(index, grid.xy, rule)
            pos = np.unique(arcs.target)
            arcs = arcs.take(pos)
        # Only cells that are demand are snapped: no-access land far from any road is left out.
        snap = snap_points(index, grid.xy[pos])
        points = gpd.GeoDataFrame(
            {"weight": grid.area_km2[pos] * 1e6, "row": grid.row[pos], "col": grid.col[pos]},
            geometry=shapely.points(grid.xy[pos]),
            crs=index.crs,
        )
        return cls(points, snap, grid.cells[pos], grid.area_km2[pos], arcs, rule, "land", grid, pos)

    @classmethod
    def from_roads(
        cls,
        index: RoadIndex,
        boundary: BaseGeometry,
        *,
        step_m: float = DEFAULT_STEP_M,
        access: AccessRule | str | None = None,
    ) -> DemandSet:
        """Road samples every ``step_m`` inside ``boundary`` (network CRS).

        Every sample counts as demand, weighted by road length (m). Each is reached from
        its own position and from the access points of the rule (the other carriageway,
        a parallel road). Land cells (Voronoi cells of the samples) are kept for the
        legacy rule: only samples on surface roads claim land, since nobody reaches the
        buildings beside a tunnel or under a viaduct from it.
        """
        points, snap = road_demand(index, step_m=step_m, area=boundary)
        if len(points) == 0:
            raise InputError(
                "no road of the network lies inside the boundary",
                fix="check that the boundary and the OSM extract cover the same place",
            )
        rule = _rule(access)
        surface = ~(index.seg_bridge[snap.seg] | index.seg_tunnel[snap.seg])
        if not surface.any():
            surface[:] = True
        cells = np.empty(len(points), dtype=object)
        cells[:] = shapely.Polygon()
        cells[surface] = demand_cells(snap.xy[surface], boundary)
        arcs = access_arcs(index, snap.xy, rule, own=snap) if rule is not None else None
        off_land = index.seg_bridge[snap.seg] | index.seg_tunnel[snap.seg]
        return cls(points, snap, cells, shapely.area(cells) / 1e6, arcs, rule, "roads",
                   off_land=off_land)

    @classmethod
    def from_points(
        cls,
        index: RoadIndex,
        layer: gpd.GeoDataFrame,
        boundary: BaseGeometry,
        *,
        source: str = "demand",
        access: AccessRule | str | None = None,
        kind: str = "points",
    ) -> DemandSet:
        """A weighted point layer (buildings by floor area, incidents, ...) inside ``boundary``.

        ``layer`` needs a ``weight`` column; other columns (e.g. ``highrise``) are kept.
        Land cells are the Voronoi cells of the points themselves. A point with no
        drivable road within the hose length is kept, unreachable (``inf``).
        """
        rule = _rule(access)
        warn_m = rule.hose_m if rule is not None else 100.0
        points, snap = point_demand(index, layer, area=boundary, source=source, warn_m=warn_m)
        if len(points) == 0:
            raise InputError(
                "no demand point lies inside the boundary",
                source=source,
                fix="check the layer's coordinates and coordinate system",
            )
        cells = demand_cells(shapely.get_coordinates(points.geometry.values), boundary)
        xy = shapely.get_coordinates(points.geometry.values)
        arcs = access_arcs(index, xy, rule) if rule is not None else None
        return cls(points, snap, cells, shapely.area(cells) / 1e6, arcs, rule, kind)
