"""Service areas (isochrones): the land reached within each travel-time break.

Built from the same demand cells as the districts, so a service area and a
district agree on what "reached" means.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from coverage.assess.districts import dissolve_cells

__all__ = ["service_areas", "DEFAULT_BREAKS_MIN"]

#: Default travel-time breaks, minutes (ArcGIS Service Area style).
DEFAULT_BREAKS_MIN: tuple[float, ...] = (2.0, 3.0, 4.0, 5.0)


def service_areas(
    cells: np.ndarray,
    times: np.ndarray,
    station_ids: Sequence[str],
    *,
    crs: pyproj.CRS,
    breaks_min: Sequence[float] = DEFAULT_BREAKS_MIN,
    rings: bool = False,
    dissolve: bool = False,
) -> gpd.GeoDataFrame:
    """Service areas per station (or dissolved) for a list of travel-time breaks.

    Parameters
    ----------
    cells : ndarray of geometries, shape (T,)
        Demand cells from :func:`coverage.assess.districts.demand_cells`.
    times : ndarray, shape (S, T)
        Travel seconds from each station to each demand point.
    station_ids : sequence of str, length S
    crs : pyproj.CRS
        CRS of ``cells``.
    breaks_min : sequence of float
        Travel-time breaks in minutes, ascending.
    rings : bool
        If True, each polygon holds only the land between the previous break and
        this one (rings); otherwise the full area within the break (disks).
    dissolve : bool
        If True, one set of polygons for all stations together (first-due time).

    Returns
    -------
    GeoDataFrame
        Columns ``station_id`` (``"all"`` when dissolved), ``from_min``, ``to_min``,
        ``area_km2``, geometry in ``crs``.
    """
    breaks = sorted(float(b) for b in breaks_min)
    times = np.atleast_2d(times)
    groups = [("all", times.min(axis=0))] if dissolve else list(zip(station_ids, times, strict=True))
    rows = []
    for sid, t in groups:
        previous = shapely.Polygon()
        low = 0.0
        for b in breaks:
            within = dissolve_cells(cells, t <= b * 60.0, [True])[0]
            geom = shapely.difference(within, previous) if rings else within
            rows.append(
                {
                    "station_id": str(sid),
                    "from_min": low if rings else 0.0,
                    "to_min": b,
                    "area_km2": float(shapely.area(geom)) / 1e6,
                    "geometry": geom,
                }
            )
            previous, low = within, b
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)
