"""The districts layer of a city run: one polygon per district, with a name and a code.

Checked once, at the boundary: districts that overlap make "whose demand is this"
ambiguous and are an error naming both districts and the area involved; gaps
(holes inside the union, or slivers between neighbours) are reported with their
area and left out of every district's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from coverage.coordsys import to_wgs84
from coverage.errors import InputError

__all__ = ["DistrictCheck", "check_districts", "district_of", "read_districts"]

#: Overlaps and gaps below this area are digitising noise, not planning problems.
TOLERANCE_KM2 = 0.01


def read_districts(
    path: str | Path | gpd.GeoDataFrame,
    *,
    name_col: str = "name",
    code_col: str = "code",
    coord_system: str = "wgs84",
) -> gpd.GeoDataFrame:
    """Read a districts layer into WGS84 with ``name`` and ``code`` columns.

    Parameters
    ----------
    path : str, Path or GeoDataFrame
        Polygon layer (GeoJSON, GeoPackage, Shapefile), one feature per district.
    name_col, code_col : str
        Columns holding the district name and code. ``code`` falls back to
        ``adcode`` (Chinese administrative division code) when absent.
    coord_system : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        Coordinates of the file; GCJ-02/BD-09 are shifted to WGS84.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, columns ``name``, ``code`` (str) and geometry, in file order.

    Raises
    ------
    InputError
        Missing file or columns, non-polygon or empty features, duplicate codes.
    """
    source = "districts" if isinstance(path, gpd.GeoDataFrame) else str(path)
    if isinstance(path, gpd.GeoDataFrame):
        gdf = path.copy()
    else:
        if not Path(path).is_file():
            raise InputError("districts file not found.", source=source, fix="check the path.")
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:  # pyogrio raises several types for unreadable files
            raise InputError(f"cannot be read as a polygon layer ({exc}).", source=source,
                             fix="pass GeoJSON, GeoPackage or Shapefile.") from exc
    if len(gdf) == 0:
        raise InputError("the districts layer has no features.", source=source,
                         fix="give one polygon per district.")
    if gdf.crs is None:
        raise InputError("the districts layer has no CRS.", source=source,
                         fix="save it with a CRS (GeoJSON is WGS84 by definition).")
    if code_col not in gdf and code_col == "code" and "adcode" in gdf:
        code_col = "adcode"
    for col, what in ((name_col, "name"), (code_col, "code")):
        if col not in gdf:
            raise InputError(f"the districts layer has no {what} column {col!r} "
                             f"(columns: {', '.join(map(str, gdf.columns))}).", source=source,
                             fix=f"add a {what} column or name it with --district-{what}-col.")
    gdf = gdf.to_crs("EPSG:4326")
    geoms = gdf.geometry.to_numpy()
    for i, g in enumerate(geoms):
        if g is None or g.is_empty or shapely.get_type_id(g) not in (3, 6):
            raise InputError(f"district {gdf[name_col].iloc[i]!r} is not a polygon.",
                             source=source, row=i + 1, fix="give one polygon per district.")
    geoms = shapely.make_valid(geoms)
    if coord_system != "wgs84" and coord_system != "cgcs2000":
        geoms = np.array([to_wgs84(g, coord_system) for g in geoms], dtype=object)
    codes = gdf[code_col].astype(str).str.strip()
    dup = codes[codes.duplicated()]
    if len(dup):
        raise InputError(f"district code {dup.iloc[0]!r} appears twice.", source=source,
                         row=int(dup.index[0]) + 1, fix="give every district its own code.")
    return gpd.GeoDataFrame({"name": gdf[name_col].astype(str).to_numpy(),
                             "code": codes.to_numpy()}, geometry=list(geoms), crs="EPSG:4326")


@dataclass(frozen=True)
class DistrictCheck:
    """Overlaps and gaps of a districts layer.

    Attributes
    ----------
    overlaps : list of dict
        ``{"a": name, "b": name, "area_km2": float}`` per overlapping pair.
    gaps : list of dict
        ``{"area_km2": float, "neighbours": [names], "lon": float, "lat": float}`` per
        hole inside the layer's outline that no district covers.
    """

    overlaps: list[dict]
    gaps: list[dict]

    def as_dict(self) -> dict:
        """Plain-JSON form, for ``summary.json``."""
        return {"overlaps": self.overlaps, "gaps": self.gaps}


def check_districts(
    districts: gpd.GeoDataFrame, crs, *, tolerance_km2: float = TOLERANCE_KM2,
    source: str = "districts", allow_overlaps: bool = False,
) -> DistrictCheck:
    """Find overlapping and gapped district polygons, with their areas.

    Parameters
    ----------
    districts : GeoDataFrame
        From :func:`read_districts`.
    crs : CRS-like
        Metric CRS the areas are measured in.
    tolerance_km2 : float
        Overlaps and gaps smaller than this are ignored.
    allow_overlaps : bool
        Report overlaps instead of raising.

    Raises
    ------
    InputError
        Districts overlap by more than ``tolerance_km2`` (unless ``allow_overlaps``):
        the message names every pair and the area.
    """
    metric = districts.to_crs(crs)
    geoms = metric.geometry.to_numpy()
    names = metric["name"].to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    overlaps = []
    for a, b in zip(left[pairs], right[pairs], strict=True):
        km2 = shapely.area(shapely.intersection(geoms[a], geoms[b])) / 1e6
        if km2 > tolerance_km2:
            overlaps.append({"a": str(names[a]), "b": str(names[b]), "area_km2": round(km2, 3)})
    union = shapely.union_all(geoms)
    outline = shapely.union_all([shapely.polygons(shapely.get_exterior_ring(p))
                                 for p in shapely.get_parts(union)])
    to_wgs = gpd.GeoSeries([], crs=crs)
    gaps = []
    for hole in shapely.get_parts(shapely.difference(outline, union)):
        km2 = shapely.area(hole) / 1e6
        if km2 <= tolerance_km2:
            continue
        near = [str(n) for n, g in zip(names, geoms, strict=True) if shapely.distance(g, hole) < 1.0]
        pt = to_wgs._constructor([shapely.point_on_surface(hole)], crs=crs).to_crs(4326).iloc[0]
        gaps.append({"area_km2": round(km2, 3), "neighbours": near,
                     "lon": round(pt.x, 5), "lat": round(pt.y, 5)})
    if overlaps and not allow_overlaps:
        listed = "; ".join(f"{o['a']} and {o['b']} overlap by {o['area_km2']:.3f} km²"
                           for o in overlaps)
        raise InputError(f"districts overlap: {listed}.", source=source,
                         fix="fix the polygons so that every place belongs to one district "
                         "(e.g. snap shared edges in QGIS), or set allow_overlaps = true.")
    return DistrictCheck(overlaps, gaps)


def district_of(xy: np.ndarray, districts_m: gpd.GeoDataFrame) -> np.ndarray:
    """The ``code`` of the district each point (metric CRS) lies in; ``""`` outside all."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    out = np.full(len(xy), "", dtype=object)
    for code, geom in zip(districts_m["code"], districts_m.geometry, strict=True):
        inside = shapely.contains_xy(geom, xy[:, 0], xy[:, 1]) & (out == "")
        out[inside] = str(code)
    return out
