"""Chinese map coordinate systems: WGS84, CGCS2000, GCJ-02 and BD-09.

Data from Chinese web maps is not in WGS84. Amap (高德), Tencent and Google China
publish **GCJ-02** ("Mars coordinates"), an obfuscated datum shifted by a few
hundred metres (about +0.0037° lon, −0.0029° lat in Yuzhong, Chongqing); Baidu
publishes **BD-09**, a second shift on top of GCJ-02. OSM data and GPS fixes are
WGS84. Mixing them puts every point in the wrong street, so every reader in
:mod:`coverage.layers` asks for the coordinate system explicitly.

The conversions here are the public formula (the same one used by
``eviltransform``, ``coordTransform`` and ``cnmaps``), vectorised with NumPy.
The inverses (GCJ-02 → WGS84, BD-09 → GCJ-02) have no closed form; they are
solved by fixed-point iteration on the forward formula to better than 1e-9°
(0.1 mm), rather than with the one-step approximation common in other
libraries, which is off by up to a couple of metres.

**CGCS2000** (EPSG:4490, the official Chinese geodetic datum) is treated as
identical to WGS84 (EPSG:4326): the two differ by a few centimetres, far below
anything a fire-station coverage model can resolve. pyproj treats the
EPSG:4490 → EPSG:4326 step as a null transformation too.

Outside China the GCJ-02 offset is zero. "Inside China" is the rectangle used
by the original implementation (lon 72.004–137.8347°, lat 0.8293–55.8271°),
not the national border, exactly as the map providers apply it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_coord_system",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Accepted coordinate-system names. ``cgcs2000`` is handled as ``wgs84``.
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's rotation constant.
_X_PI = np.pi * 3000.0 / 180.0

# The inverse iterations converge by a factor of ~1e-4 per step near China,
# so a handful of steps suffices; the cap only guards against non-finite input.
_TOLERANCE_DEG = 1e-12
_MAX_ITERATIONS = 30

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]
G = TypeVar("G", BaseGeometry, np.ndarray, gpd.GeoDataFrame, gpd.GeoSeries)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    lon_a, lat_a = np.broadcast_arrays(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    )
    return lon_a.copy(), lat_a.copy()


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether GCJ-02 applies: inside the providers' rectangle around China.

    Parameters
    ----------
    lon, lat : array_like
        Longitude and latitude, degrees.

    Returns
    -------
    ndarray of bool
        True where the GCJ-02 offset is non-zero.
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    return (lon_a >= 72.004) & (lon_a <= 137.8347) & (lat_a >= 0.8293) & (lat_a <= 55.8271)


def _gcj_offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    """GCJ-02 minus WGS84, degrees, evaluated at a WGS84 position."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    periodic_x = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0

    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat += periodic_x
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0

    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon += periodic_x
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0

    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)

    inside = in_china(lon, lat)
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _invert(
    forward: Callable[[ArrayLike, ArrayLike], Coords], lon: ArrayLike, lat: ArrayLike
) -> Coords:
    """Solve ``forward(x) == (lon, lat)`` for x by fixed-point iteration.

    Both forward maps are the identity plus a small, slowly varying shift, so
    ``x <- x - (forward(x) - target)`` is a strong contraction.
    """
    target_lon, target_lat = _as_arrays(lon, lat)
    est_lon, est_lat = target_lon.copy(), target_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(est_lon, est_lat)
        err_lon = fwd_lon - target_lon
        err_lat = fwd_lat - target_lat
        est_lon -= err_lon
        est_lat -= err_lat
        worst = np.max(
            np.abs(np.concatenate([err_lon.ravel(), err_lat.ravel()])),
            initial=0.0,
            where=np.isfinite(np.concatenate([err_lon.ravel(), err_lat.ravel()])),
        )
        if worst < _TOLERANCE_DEG:
            break
    return est_lon[()], est_lat[()]


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert WGS84 (or CGCS2000) lon/lat to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 longitude and latitude, degrees; broadcast against each other.

    Returns
    -------
    lon, lat : ndarray
        GCJ-02 longitude and latitude, degrees (unchanged outside China).
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    d_lon, d_lat = _gcj_offset(lon_a, lat_a)
    return (lon_a + d_lon)[()], (lat_a + d_lat)[()]


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 lon/lat to WGS84 by iterating the forward formula.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        WGS84 longitude and latitude, degrees; ``wgs84_to_gcj02`` of the result
        reproduces the input to better than 1e-9°.
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 lon/lat to Baidu BD-09 (Baidu's published formula).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        BD-09 longitude and latitude, degrees. BD-09 is shifted everywhere,
        not only inside China.
    """
    x, y = _as_arrays(lon, lat)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return (z * np.cos(theta) + 0.0065)[()], (z * np.sin(theta) + 0.006)[()]


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert BD-09 lon/lat to GCJ-02 by iterating :func:`gcj02_to_bd09`.

    Parameters
    ----------
    lon, lat : array_like
        BD-09 longitude and latitude, degrees.

    Returns
    -------
    lon, lat : ndarray
        GCJ-02 longitude and latitude, degrees, accurate to better than 1e-9°.
    """
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert BD-09 lon/lat to WGS84 (via GCJ-02), degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert WGS84 lon/lat to BD-09 (via GCJ-02), degrees."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


_TO_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], Coords]] = {
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], Coords]] = {
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def check_coord_system(name: str) -> str:
    """Normalise a coordinate-system name; raise ValueError listing the valid ones."""
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    if key not in COORD_SYSTEMS:
        raise ValueError(f"unknown coordinate system {name!r}; use one of {list(COORD_SYSTEMS)}")
    return key


def _apply(geom: G, func: Callable[[ArrayLike, ArrayLike], Coords]) -> G:
    def on_xy(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = func(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    if isinstance(geom, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if geom.crs is not None and not geom.crs.is_geographic:
            raise ValueError(
                f"GCJ-02/BD-09 coordinates are longitude/latitude, but the layer's CRS is "
                f"{geom.crs.to_string()} (projected); reproject to EPSG:4326 first"
            )
        out = geom.copy()
        moved = shapely.transform(np.asarray(geom.geometry.values), on_xy)
        if isinstance(out, gpd.GeoDataFrame):
            out[out.geometry.name] = gpd.GeoSeries(moved, index=out.index)
            return out.set_crs("EPSG:4326", allow_override=True)
        return gpd.GeoSeries(moved, index=out.index, name=out.name, crs="EPSG:4326")
    return shapely.transform(geom, on_xy)


def _relabel_wgs84(geom: G) -> G:
    if isinstance(geom, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if geom.crs is None:
            return geom.set_crs("EPSG:4326")
        return geom.to_crs("EPSG:4326")
    return geom


def to_wgs84(geom: G, source: str = "gcj02") -> G:
    """Move a geometry or GeoDataFrame from ``source`` coordinates to WGS84.

    Parameters
    ----------
    geom : shapely geometry, array of geometries, GeoSeries or GeoDataFrame
        Coordinates as longitude/latitude in the ``source`` system. GeoJSON
        readers label GCJ-02 data EPSG:4326; that label is ignored here.
    source : {"gcj02", "bd09", "wgs84", "cgcs2000"}
        The coordinate system ``geom`` is really in. ``wgs84`` and
        ``cgcs2000`` move nothing (a frame with another CRS is reprojected to
        EPSG:4326; one without a CRS is labelled EPSG:4326).

    Returns
    -------
    Same type as ``geom``
        A new object in WGS84 (EPSG:4326). Z coordinates are dropped.

    Raises
    ------
    ValueError
        For an unknown ``source`` or a frame in a projected CRS with a
        GCJ-02/BD-09 source.
    """
    key = check_coord_system(source)
    if key in ("wgs84", "cgcs2000"):
        return _relabel_wgs84(geom)
    return _apply(geom, _TO_WGS84[key])


def from_wgs84(geom: G, target: str = "gcj02") -> G:
    """Move a WGS84 geometry or GeoDataFrame to ``target`` coordinates.

    Parameters
    ----------
    geom : shapely geometry, array of geometries, GeoSeries or GeoDataFrame
        WGS84 longitude/latitude (EPSG:4326).
    target : {"gcj02", "bd09", "wgs84", "cgcs2000"}
        The coordinate system wanted, e.g. to overlay results on an Amap or
        Baidu base map. The returned frame is still *labelled* EPSG:4326,
        because no EPSG code exists for GCJ-02 or BD-09.

    Returns
    -------
    Same type as ``geom``
        A new object. Z coordinates are dropped.
    """
    key = check_coord_system(target)
    if key in ("wgs84", "cgcs2000"):
        return _relabel_wgs84(geom)
    return _apply(geom, _FROM_WGS84[key])
