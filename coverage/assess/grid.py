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


def _edge_cells(land: BaseGeometry, origin: tuple[float, float], cell_m: float,
                n_rows: int, n_cols: int) -> np.ndarray:
    """Flat mask of the raster: cells whose square may touch the boundary of ``land``.

    The boundary is densified to vertices at most a quarter cell apart; every point
    of it then lies within a quarter cell of a vertex, so every square it touches is
    one of the 3 x 3 squares around a vertex's square. A square not flagged lies
    wholly inside or wholly outside ``land``: its centre decides.
    """
    ring = shapely.segmentize(shapely.boundary(land), cell_m / 4.0)
    v = shapely.get_coordinates(ring)
    c = np.floor((v[:, 0] - origin[0]) / cell_m).astype(np.int64)
    r = np.floor((v[:, 1] - origin[1]) / cell_m).astype(np.int64)
    mask = np.zeros(n_rows * n_cols, dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < n_rows) & (cc >= 0) & (cc < n_cols)
            mask[rr[ok] * n_cols + cc[ok]] = True
    return mask


def _land_cells(land: BaseGeometry, origin: tuple[float, float], cell_m: float,
                n_rows: int, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat raster positions (row-major) of the squares that intersect ``land``, and
    which of them the boundary may cross (the rest lie wholly inside)."""
    edge = _edge_cells(land, origin, cell_m, n_rows, n_cols)
    inside = np.zeros(n_rows * n_cols, dtype=bool)
    # Interior squares by their centre, a block of rows at a time (bounded memory).
    cols = origin[0] + (np.arange(n_cols) + 0.5) * cell_m
    step = max(1, 2_000_000 // n_cols)
    for r0 in range(0, n_rows, step):
        rows = np.arange(r0, min(r0 + step, n_rows))
        ys = np.repeat(origin[1] + (rows + 0.5) * cell_m, n_cols)
        inside[r0 * n_cols:(r0 + len(rows)) * n_cols] = shapely.contains_xy(land, np.tile(cols, len(rows)), ys)
    inside[edge] = False
    cand = np.flatnonzero(edge)
    rr, cc = np.divmod(cand, n_cols)
    bx, by = origin[0] + cc * cell_m, origin[1] + rr * cell_m
    inside[cand[shapely.intersects(land, shapely.box(bx, by, bx + cell_m, by + cell_m))]] = True
    flat = np.flatnonzero(inside)
    return flat, edge[flat]


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
    shapely.prepare(land)
    flat, edge = _land_cells(land, (x0, y0), cell_m, n_rows, n_cols)
    rr, cc = np.divmod(flat, n_cols)
    bx, by = x0 + cc * cell_m, y0 + rr * cell_m
    cells = shapely.box(bx, by, bx + cell_m, by + cell_m)
    # Only squares the boundary may cross are clipped; the rest are whole.
    cut = np.flatnonzero(edge)
    cut = cut[~shapely.contains_properly(land, cells[cut])]
    cells[cut] = shapely.intersection(cells[cut], land)
    area_m2 = shapely.area(cells)
    keep = area_m2 > _MIN_LAND_SHARE * cell_m * cell_m
    rr, cc, cells, area_m2 = rr[keep], cc[keep], cells[keep], area_m2[keep]
    xy = np.column_stack([x0 + (cc + 0.5) * cell_m, y0 + (rr + 0.5) * cell_m])
    off = np.zeros(len(xy), dtype=bool)
    edge = edge[keep]
    off[edge] = ~shapely.contains_xy(land, xy[edge, 0], xy[edge, 1])
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
