"""The land grid: square cells over the study area, the demand of districts and radii.

A district is land, not carriageway: the grid covers the study boundary with
square cells (default 25 m), each clipped to the boundary less water. Cells keep
their raster position (``row``, ``col``) so that districts can be split into
pieces and cleaned up with raster operations (:mod:`coverage.assess.districts`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from coverage.errors import InputError

__all__ = ["LandGrid", "land_grid", "DEFAULT_CELL_M"]

#: Default land cell size, m (fine enough for Yuzhong's 20 m-wide streets and steps).
DEFAULT_CELL_M = 25.0
#: Cells with less land than this share of a full square are dropped (slivers at the edge).
_MIN_LAND_SHARE = 1e-3


@dataclass(frozen=True)
class LandGrid:
    """Square land cells clipped to the study area (metric CRS).

    Attributes
    ----------
    cell_m : float
        Cell side, m.
    origin : tuple of float
        ``(x, y)`` of the lower-left corner of cell ``(0, 0)``.
    shape : tuple of int
        ``(rows, cols)`` of the raster holding every cell.
    row, col : ndarray of int, shape (N,)
        Raster position of each cell.
    xy : ndarray, shape (N, 2)
        A point of each cell on land: the square's centre, or a point of the clipped
        piece when the centre is not on land.
    cells : ndarray of geometries, shape (N,)
        Each square clipped to the land.
    area_km2 : ndarray of float, shape (N,)
        Land area of each cell, km².
    water_km2 : float
        Water removed from the study area, km².
    """

    cell_m: float
    origin: tuple[float, float]
    shape: tuple[int, int]
    row: np.ndarray
    col: np.ndarray
    xy: np.ndarray
    cells: np.ndarray
    area_km2: np.ndarray
    water_km2: float

    def __len__(self) -> int:
        return len(self.row)

    def raster(self, values: np.ndarray, fill=-1) -> np.ndarray:
        """Place one value per cell on the ``shape`` raster (``fill`` where no cell)."""
        out = np.full(self.shape, fill, dtype=np.asarray(values).dtype)
        out[self.row, self.col] = values
        return out

    def locate(self, xy: np.ndarray) -> np.ndarray:
        """Grid position of the cell holding each point (``-1`` outside every cell)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        c = np.floor((xy[:, 0] - self.origin[0]) / self.cell_m).astype(np.int64)
        r = np.floor((xy[:, 1] - self.origin[1]) / self.cell_m).astype(np.int64)
        inside = (r >= 0) & (r < self.shape[0]) & (c >= 0) & (c < self.shape[1])
        lookup = self.raster(np.arange(len(self)), fill=-1)
        out = np.full(len(xy), -1, dtype=np.int64)
        out[inside] = lookup[r[inside], c[inside]]
        return out


def land_grid(
    area: BaseGeometry, *, cell_m: float = DEFAULT_CELL_M, water: BaseGeometry | None = None
) -> LandGrid:
    """Cover ``area`` (less ``water``) with square cells of side ``cell_m``.

    Parameters
    ----------
    area : shapely geometry
        The study boundary in a metric CRS.
    cell_m : float
        Cell side, m (> 0).
    water : shapely geometry, optional
        Water to remove (OSM ``natural=water`` / ``waterway=riverbank``), same CRS.

    Returns
    -------
    LandGrid
    """
    if not cell_m > 0:
        raise InputError(f"land cell size must be positive, got {cell_m}", fix="use e.g. 25 m")
    land = area
    water_km2 = 0.0
    if water is not None and not shapely.is_empty(water):
        land = shapely.difference(area, water)
        water_km2 = (shapely.area(area) - shapely.area(land)) / 1e6
    if shapely.is_empty(land) or shapely.area(land) <= 0:
        raise InputError("the study area has no land", fix="check the boundary and the water layer")
    x0, y0, x1, y1 = shapely.bounds(land)
    n_cols = max(1, int(np.ceil((x1 - x0) / cell_m)))
    n_rows = max(1, int(np.ceil((y1 - y0) / cell_m)))
    if n_cols * n_rows > 20_000_000:
        raise InputError(f"a {cell_m:g} m grid over this area has {n_cols * n_rows:,} cells",
                         fix="use a larger cell size")
    rr, cc = np.meshgrid(np.arange(n_rows), np.arange(n_cols), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    bx, by = x0 + cc * cell_m, y0 + rr * cell_m
    shapely.prepare(land)
    boxes = shapely.box(bx, by, bx + cell_m, by + cell_m)
    hit = shapely.intersects(land, boxes)
    rr, cc, boxes = rr[hit], cc[hit], boxes[hit]
    full = shapely.contains_properly(land, boxes)
    cells = boxes.copy()
    edge = ~full
    cells[edge] = shapely.intersection(boxes[edge], land)
    area_m2 = shapely.area(cells)
    keep = area_m2 > _MIN_LAND_SHARE * cell_m * cell_m
    rr, cc, cells, area_m2 = rr[keep], cc[keep], cells[keep], area_m2[keep]
    xy = np.column_stack([x0 + (cc + 0.5) * cell_m, y0 + (rr + 0.5) * cell_m])
    off = ~shapely.contains_xy(land, xy[:, 0], xy[:, 1])
    if off.any():
        xy[off] = shapely.get_coordinates(shapely.point_on_surface(cells[off]))
    return LandGrid(
        cell_m=float(cell_m),
        origin=(float(x0), float(y0)),
        shape=(n_rows, n_cols),
        row=rr,
        col=cc,
        xy=xy,
        cells=cells,
        area_km2=area_m2 / 1e6,
        water_km2=float(water_km2),
    )
