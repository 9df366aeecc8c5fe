"""Station districts as network Voronoi regions, and protection radii (建标152).

Land is attributed to demand points by an ordinary Voronoi tessellation of the
road samples, clipped to the district boundary; a station's district is the
union of the cells whose demand point it reaches first by road. This is the
network Voronoi diagram sampled at the demand step, and it covers the land
between roads as well as the roads themselves, which the area caps need.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["demand_cells", "dissolve_cells", "protection_radius"]


def demand_cells(xy: np.ndarray, area: BaseGeometry) -> np.ndarray:
    """One Voronoi cell per demand point, clipped to ``area``.

    Parameters
    ----------
    xy : ndarray, shape (T, 2)
        Demand points in a metric CRS.
    area : shapely geometry
        The district boundary in the same CRS.

    Returns
    -------
    ndarray of shapely geometries, shape (T,)
        Points sharing a position share one cell; the later ones get an empty
        polygon so that no land is counted twice.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    cells = np.empty(len(xy), dtype=object)
    cells[:] = shapely.Polygon()
    if len(xy) == 0:
        return cells
    unique_xy, first = np.unique(np.round(xy, 6), axis=0, return_index=True)
    if len(unique_xy) == 1:
        cells[first[0]] = area
        return cells
    regions = shapely.voronoi_polygons(
        shapely.multipoints(unique_xy), extend_to=area, ordered=True
    )
    parts = np.asarray(shapely.get_parts(regions))
    cells[first] = shapely.intersection(shapely.make_valid(parts), area)
    return cells


def dissolve_cells(cells: np.ndarray, labels: np.ndarray, keys: list) -> list[BaseGeometry]:
    """Union the cells of each label in ``keys`` (empty polygon for a label with none)."""
    out = []
    for key in keys:
        members = cells[labels == key]
        members = members[~shapely.is_empty(members)] if len(members) else members
        if len(members) == 0:
            out.append(shapely.Polygon())
            continue
        try:
            # Cells do not overlap, so the fast coverage union applies.
            merged = shapely.coverage_union_all(members)
        except shapely.errors.GEOSException:
            merged = shapely.union_all(members)
        out.append(merged)
    return out


def protection_radius(station_xy: np.ndarray, district: BaseGeometry) -> tuple[float, np.ndarray]:
    """Straight-line distance from a station to the farthest point of its district.

    The farthest point of a polygon from a point is one of its vertices, so this
    is exact for the polygon given.

    Returns
    -------
    radius_m : float
        ``nan`` for an empty district.
    farthest_xy : ndarray, shape (2,)
    """
    coords = shapely.get_coordinates(district)
    if len(coords) == 0:
        return float("nan"), np.array([np.nan, np.nan])
    d = np.hypot(coords[:, 0] - station_xy[0], coords[:, 1] - station_xy[1])
    i = int(np.argmax(d))
    return float(d[i]), coords[i]
