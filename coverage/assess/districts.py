"""Station districts, their pieces, and protection radii (建标152).

Default (land model): a station's district is the union of the land-grid cells
(:mod:`coverage.assess.grid`) it reaches first through their access points. The
raster is split into 4-connected pieces per station; a minimal clean-up gives
each detached piece smaller than ``absorb_below_km2`` to the district that shares
most of its border (the area moved is reported). The protection radius is the
straight-line distance from the station to the farthest point of its district's
*main* piece; every detached piece is reported with its own farthest distance.

Legacy (``access="snap"``): land is attributed to road samples by an ordinary
Voronoi tessellation clipped to the boundary (:func:`demand_cells`).
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

__all__ = [
    "demand_cells",
    "dissolve_cells",
    "protection_radius",
    "absorb_islands",
    "district_pieces",
    "ABSORB_BELOW_KM2",
]

#: Detached district pieces smaller than this go to the district around them, km²
#: (5 ha: a city block or two; larger exclaves are kept and reported).
ABSORB_BELOW_KM2 = 0.05


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
    # Only cells that cross the boundary need clipping: a cell strictly inside is its own
    # intersection with the area (the same polygon, up to vertex order). On a city district
    # most cells are inside, and the overlay was the costliest step of the assessment.
    shapely.prepare(area)
    crossing = ~shapely.contains_properly(area, parts)
    parts[crossing] = shapely.intersection(shapely.make_valid(parts[crossing]), area)
    cells[first] = parts
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


def absorb_islands(
    labels: np.ndarray, area_km2: np.ndarray, *, below_km2: float = ABSORB_BELOW_KM2
) -> tuple[np.ndarray, float]:
    """Give every detached district piece smaller than ``below_km2`` to its main neighbour.

    Parameters
    ----------
    labels : ndarray of int, shape (rows, cols)
        Station position of each land cell (``-1``: no cell, or land no station reaches).
    area_km2 : ndarray of float, shape (rows, cols)
        Land area of each cell.
    below_km2 : float
        Pieces other than a station's largest, and smaller than this, are absorbed
        into the district sharing most of their border (4-neighbours). A piece with
        no neighbouring district stays.

    Returns
    -------
    labels : ndarray
        Cleaned labels (a copy).
    moved_km2 : float
        Land that changed district.
    """
    out = labels.copy()
    moved = 0.0
    if below_km2 <= 0:
        return out, moved
    for s in np.unique(labels[labels >= 0]):
        comp, k = ndimage.label(out == s)
        if k <= 1:
            continue
        sizes = ndimage.sum(area_km2, comp, index=np.arange(1, k + 1))
        main = int(np.argmax(sizes)) + 1
        for c, box in enumerate(ndimage.find_objects(comp), start=1):
            if c == main or sizes[c - 1] >= below_km2:
                continue
            # One cell of margin around the piece, for its 4-neighbours.
            sl = tuple(slice(max(b.start - 1, 0), b.stop + 1) for b in box)
            mask = comp[sl] == c
            ring = ndimage.binary_dilation(mask) & ~mask
            neighbours = out[sl][ring]
            neighbours = neighbours[(neighbours >= 0) & (neighbours != s)]
            if len(neighbours) == 0:
                continue
            out[sl][mask] = int(np.bincount(neighbours).argmax())
            moved += float(sizes[c - 1])
    return out, moved


def district_pieces(station_xy: np.ndarray, district: BaseGeometry) -> list[dict]:
    """The pieces of a district, largest first, each with its farthest distance from the station.

    Returns
    -------
    list of dict
        ``{"geometry", "area_km2", "farthest_m", "farthest_xy", "main"}``; the first
        (largest) piece is the main one. Empty for an empty district.
    """
    if district is None or shapely.is_empty(district):
        return []
    parts = [p for p in shapely.get_parts(district) if shapely.area(p) > 0]
    parts.sort(key=lambda p: -shapely.area(p))
    out = []
    for i, part in enumerate(parts):
        radius, far = protection_radius(station_xy, part)
        out.append({"geometry": part, "area_km2": shapely.area(part) / 1e6, "farthest_m": radius,
                    "farthest_xy": far, "main": i == 0})
    return out

