"""Readers for the user's input layers: points, stations, boundary, weighted demand.

Every reader returns data in WGS84 (EPSG:4326) and checks what a planner gets
wrong in practice: an empty export, lines instead of points, blank coordinates,
a layer with no CRS in metres, swapped lon/lat columns, points outside the study
area, duplicate ids, unknown station types. Each problem raises
:class:`~coverage.errors.InputError` naming the file, the row and the fix.

Row numbers in messages are the ones the user sees: for CSV the spreadsheet row
(the header is row 1, the first record row 2); for vector files the 1-based
feature number.

The coordinate system of the data (``coord_system``) is always explicit and
never guessed: GCJ-02 (Amap/Tencent) and BD-09 (Baidu) layers are shifted to
WGS84 with :mod:`coverage.coordsys`; CGCS2000 is taken as WGS84.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from coverage import coordsys
from coverage.errors import InputError
from coverage.presets import STATION_TYPE_ALIASES, station_type

__all__ = [
    "ACCEPTED_FORMATS",
    "STATION_STATUS_ALIASES",
    "read_boundary",
    "read_layer",
    "read_points",
    "read_stations",
    "read_weighted_points",
]

#: What the readers can open, for error messages.
ACCEPTED_FORMATS = (
    "GeoJSON (.geojson/.json), GeoPackage (.gpkg), Shapefile (.shp) "
    "or CSV with longitude/latitude columns (.csv)"
)

#: Spellings accepted in a station layer's ``status`` column.
STATION_STATUS_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        [
            "existing",
            "built",
            "in_service",
            "operational",
            "active",
            "现有",
            "现状",
            "已建",
            "在用",
        ],
        "existing",
    ),
    **dict.fromkeys(
        [
            "proposed",
            "planned",
            "candidate",
            "new",
            "under_construction",
            "规划",
            "拟建",
            "新建",
            "在建",
        ],
        "proposed",
    ),
    **dict.fromkeys(
        ["closed", "decommissioned", "removed", "撤销", "已撤销", "关闭", "停用"], "closed"
    ),
}

_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES = ("lat", "latitude", "y", "纬度")
_SHOW = 5  # offending rows listed in one message
_SET_CRS_FIX = (
    "set the layer's CRS in your GIS (QGIS: Layer > Set CRS; geopandas: gdf.set_crs(...)) "
    "and save it again, or export it as longitude/latitude degrees"
)

PathOrFrame = str | os.PathLike | pd.DataFrame


@dataclass
class _Table:
    """A loaded layer with what error messages need to point into it."""

    frame: pd.DataFrame
    source: str
    first_row: int  # number shown to the user for the first record
    is_table: bool  # True when coordinates come from columns, not a geometry

    def row(self, position: int) -> int:
        return self.first_row + position


# --------------------------------------------------------------------------- I/O


def _load(source: PathOrFrame, layer: str | None, name: str, id_col: str | None = None) -> _Table:
    """Read a file (or take a frame) without interpreting it."""
    if isinstance(source, gpd.GeoDataFrame):
        return _Table(source.reset_index(drop=True), f"<{name} GeoDataFrame>", 1, False)
    if isinstance(source, pd.DataFrame):
        return _Table(source.reset_index(drop=True), f"<{name} DataFrame>", 1, True)

    path = Path(source)
    if not path.exists():
        raise InputError(
            f"the {name} file does not exist", source=path, fix="check the path and file name"
        )
    if path.suffix.lower() in _CSV_SUFFIXES:
        return _Table(_read_csv(path, name, id_col), str(path), 2, True)

    try:
        layers = pyogrio.list_layers(path)
        if layer is None and len(layers) > 1:
            raise InputError(
                f"the file has {len(layers)} layers ({', '.join(map(str, layers[:, 0]))}) and "
                f"no layer was chosen",
                source=path,
                fix="pass the layer name (layer=... / --layer)",
            )
        frame = gpd.read_file(path, layer=layer)
    except shapely.errors.GEOSException as err:
        # e.g. a GeoJSON polygon ring whose last point is not its first
        reason = str(err).split(": ", 1)[-1]
        raise InputError(
            f"the {name} file holds a geometry GEOS cannot build ({reason})",
            source=path,
            fix="repair the geometry in your GIS (QGIS 'Fix geometries'); a polygon ring must end "
            "on its first point",
        ) from None
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.FieldError,
        pyogrio.errors.GeometryError,
        pyogrio.errors.CRSError,
        pyogrio.errors.FeatureError,
        OSError,
        ValueError,
    ) as err:
        if isinstance(err, InputError):
            raise
        # pyogrio appends a GDAL hint about driver prefixes that only confuses users.
        reason = str(err).split(";")[0]
        raise InputError(
            f"cannot read the {name} file ({reason})",
            source=path,
            fix=f"provide one of: {ACCEPTED_FORMATS}",
        ) from err
    # A layer without geometry (e.g. a GeoPackage attribute table) comes back
    # as a plain DataFrame; its coordinates, if any, are in columns.
    is_table = not isinstance(frame, gpd.GeoDataFrame)
    return _Table(frame.reset_index(drop=True), str(path), 1, is_table)


def read_layer(path: PathOrFrame, *, name: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read a GIS layer with geometry as is (no reprojection, no checks of its columns).

    Parameters
    ----------
    path : str, PathLike or GeoDataFrame
        GeoJSON, GeoPackage, Shapefile, ...
    name : str
        What the layer is, for messages ("exclusions").
    layer : str, optional
        Layer name, required when the file holds more than one.

    Raises
    ------
    InputError
        Missing, unreadable or empty file, or a table without geometry.
    """
    table = _load(path, layer, name)
    if table.is_table or not isinstance(table.frame, gpd.GeoDataFrame):
        raise InputError(
            f"the {name} file must be a layer with geometry, not a table",
            source=table.source,
            fix="provide a GeoJSON, GeoPackage or Shapefile layer",
        )
    return table.frame


def _read_csv(path: Path, name: str, id_col: str | None) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    # Chinese CSV files saved by Excel are often GB18030/GBK, not UTF-8.
    last_error: Exception | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            header = pd.read_csv(path, sep=sep, encoding=encoding, nrows=0)
            # Ids stay text: "007" must not become 7.
            id_name = None if id_col is None else _find_column(header, id_col)
            dtype = None if id_name is None else {id_name: str}
            return pd.read_csv(path, sep=sep, encoding=encoding, dtype=dtype)
        except UnicodeDecodeError as err:
            last_error = err
        except pd.errors.EmptyDataError as err:
            raise InputError(
                f"the {name} file is empty", source=path, fix="export the layer again"
            ) from err
        except pd.errors.ParserError as err:
            raise InputError(
                f"cannot parse the {name} CSV ({err})",
                source=path,
                fix=f"provide one of: {ACCEPTED_FORMATS}",
            ) from err
    raise InputError(
        f"the {name} CSV is neither UTF-8 nor GB18030 text",
        source=path,
        fix="save the CSV as UTF-8",
    ) from last_error


# ----------------------------------------------------------------- helpers


def _find_column(frame: pd.DataFrame, wanted: str) -> str | None:
    """The column called ``wanted``, matched exactly, else case-insensitively."""
    if wanted in frame.columns:
        return wanted
    matches = [c for c in frame.columns if str(c).strip().lower() == wanted.lower()]
    return matches[0] if len(matches) == 1 else None


def _where(table: _Table, positions: Sequence[int], ids: Sequence[str] | None = None) -> str:
    """'5 (id S4), 7 (id P2) and 3 more' for the first offending rows."""
    parts = []
    for pos in list(positions)[:_SHOW]:
        label = str(table.row(pos))
        if ids is not None and ids[pos] != "":
            label += f" (id {ids[pos]!r})"
        parts.append(label)
    more = len(positions) - _SHOW
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def _soft_ids(table: _Table, id_col: str) -> list[str] | None:
    """Ids as written, for labelling rows before the ids are validated."""
    col = _find_column(table.frame, id_col)
    if col is None:
        return None
    return ["" if pd.isna(v) else _id_text(v) for v in table.frame[col]]


def _ids(table: _Table, id_col: str, name: str) -> list[str]:
    frame = table.frame
    col = _find_column(frame, id_col)
    if col is None:
        if id_col != "id":
            raise InputError(
                f"the {name} layer has no id column {id_col!r}; columns are {list(frame.columns)}",
                source=table.source,
                fix="pass the right id_col, or add the column",
            )
        # No id column at all: the row number is the id the user can find.
        return [str(table.row(i)) for i in range(len(frame))]
    values = frame[col]
    missing = np.flatnonzero(values.isna().to_numpy() | (values.astype(str).str.strip() == ""))
    if missing.size:
        raise InputError(
            f"{missing.size} feature(s) of the {name} layer have no {col!r}",
            source=table.source,
            row=_where(table, missing),
            fix=f"give every feature a unique {col!r}",
        )
    ids = [_id_text(v) for v in values]
    counts = pd.Series(ids).value_counts()
    dupes = counts[counts > 1]
    if len(dupes):
        positions = [i for i, v in enumerate(ids) if v in dupes.index]
        raise InputError(
            f"duplicate {col!r} values in the {name} layer: {list(dupes.index[:_SHOW])}",
            source=table.source,
            row=_where(table, positions, ids),
            fix=f"make every {col!r} unique",
        )
    return ids


def _id_text(value: object) -> str:
    # Integer ids stored as floats (a CSV or shapefile artefact) print as "3", not "3.0".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _lonlat_columns(
    frame: pd.DataFrame, lon_col: str | None, lat_col: str | None, source: str, name: str
) -> tuple[str, str]:
    found = []
    for given, candidates, axis in (
        (lon_col, _LON_NAMES, "longitude"),
        (lat_col, _LAT_NAMES, "latitude"),
    ):
        if given is not None:
            col = _find_column(frame, given)
            if col is None:
                raise InputError(
                    f"the {name} layer has no {axis} column {given!r}; columns are "
                    f"{list(frame.columns)}",
                    source=source,
                    fix=f"pass the {axis} column name",
                )
            found.append(col)
            continue
        hits = [c for c in frame.columns if str(c).strip().lower() in candidates]
        if len(hits) != 1:
            what = "no" if not hits else f"several ({hits})"
            raise InputError(
                f"the {name} table has {what} {axis} column; columns are {list(frame.columns)}",
                source=source,
                fix=f"name it one of {list(candidates)} or pass lon_col=/lat_col=",
            )
        found.append(hits[0])
    return found[0], found[1]


def _table_xy(
    table: _Table, lon_col: str | None, lat_col: str | None, name: str, labels: list[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Coordinates from lon/lat columns; returns x, y and the columns used."""
    lon_name, lat_name = _lonlat_columns(table.frame, lon_col, lat_col, table.source, name)
    raw = table.frame[[lon_name, lat_name]]
    numeric = raw.apply(pd.to_numeric, errors="coerce")
    bad = np.flatnonzero(~np.isfinite(numeric.to_numpy(dtype=float)).all(axis=1))
    if bad.size:
        raise InputError(
            f"{bad.size} row(s) of the {name} layer have missing or non-numeric coordinates "
            f"in {lon_name!r}/{lat_name!r}",
            source=table.source,
            row=_where(table, bad, labels),
            fix="fill in decimal-degree coordinates or delete those rows",
        )
    return (
        numeric[lon_name].to_numpy(float),
        numeric[lat_name].to_numpy(float),
        [lon_name, lat_name],
    )


def _point_xy(table: _Table, name: str, labels: list[str] | None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of a point layer's geometry, after checking it is points."""
    geoms = table.frame.geometry
    missing = np.flatnonzero((geoms.isna() | geoms.is_empty).to_numpy())
    if missing.size:
        raise InputError(
            f"{missing.size} feature(s) of the {name} layer have no geometry",
            source=table.source,
            row=_where(table, missing, labels),
            fix="give every feature a point location or delete it",
        )
    kinds = geoms.geom_type.to_numpy()
    wrong = np.flatnonzero(kinds != "Point")
    if wrong.size:
        raise InputError(
            f"the {name} layer must contain points, but {wrong.size} feature(s) are "
            f"{sorted(set(kinds[wrong]))}",
            source=table.source,
            row=_where(table, wrong, labels),
            fix="convert them to points (e.g. QGIS 'Centroids' or 'Multipart to singleparts')",
        )
    x, y = geoms.x.to_numpy(float), geoms.y.to_numpy(float)
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if bad.size:
        raise InputError(
            f"{bad.size} point(s) of the {name} layer have NaN coordinates",
            source=table.source,
            row=_where(table, bad, labels),
            fix="fill in the coordinates or delete those features",
        )
    return x, y


def _check_degrees(
    x: np.ndarray,
    y: np.ndarray,
    table: _Table,
    name: str,
    *,
    has_crs: bool,
    labels: list[str] | None = None,
) -> None:
    """Refuse coordinates that are not lon/lat degrees, naming swapped ones."""
    lat_out = np.abs(y) > 90
    swapped = np.flatnonzero(lat_out & (np.abs(x) <= 90))
    if swapped.size:
        raise InputError(
            f"longitude and latitude look swapped in the {name} layer: latitude values "
            f"above 90° (e.g. {y[swapped[0]]:g}) with longitudes within ±90°",
            source=table.source,
            row=_where(table, swapped, labels),
            fix="swap the longitude and latitude columns (or lon_col=/lat_col=)",
        )
    not_deg = np.flatnonzero(lat_out | (np.abs(x) > 180))
    if not_deg.size:
        if table.is_table:
            problem = "the coordinate columns are not longitude/latitude degrees"
            fix = "convert them to decimal degrees, or save the layer as a GeoPackage with its CRS"
        elif has_crs:
            problem = "coordinates lie outside the valid longitude/latitude range"
            fix = "check the layer's CRS and coordinates"
        else:
            problem = (
                "the layer has no CRS and its coordinates are not longitude/latitude degrees "
                f"(e.g. {x[not_deg[0]]:g}, {y[not_deg[0]]:g}: probably metres)"
            )
            fix = _SET_CRS_FIX
        raise InputError(
            f"{problem} in the {name} layer",
            source=table.source,
            row=_where(table, not_deg, labels),
            fix=fix,
        )


def _to_wgs84_frame(
    frame: gpd.GeoDataFrame, coord_system: str, table: _Table, name: str
) -> gpd.GeoDataFrame:
    """Reproject or datum-shift a GeoDataFrame to WGS84, refusing the impossible."""
    crs = frame.crs
    if crs is not None and not crs.is_geographic:
        if coord_system in ("gcj02", "bd09"):
            raise InputError(
                f"coord_system={coord_system!r} but the {name} layer is in the projected CRS "
                f"{crs.to_string()}; GCJ-02 and BD-09 exist only as longitude/latitude",
                source=table.source,
                fix="use coord_system='wgs84' if the projected CRS is right, or export the "
                "layer as GCJ-02/BD-09 longitude/latitude",
            )
        return frame.to_crs("EPSG:4326")
    xy = shapely.get_coordinates(frame.geometry.values)
    labels = list(frame["id"]) if "id" in frame.columns else None
    _check_degrees(xy[:, 0], xy[:, 1], table, name, has_crs=crs is not None, labels=labels)
    if crs is None:
        frame = frame.set_crs("EPSG:4326")
    if coord_system in ("gcj02", "bd09"):
        # The file's EPSG:4326 label is ignored: Chinese web-map exports are
        # always labelled WGS84 whatever their real datum.
        return coordsys.to_wgs84(frame.set_crs("EPSG:4326", allow_override=True), coord_system)
    return frame.to_crs("EPSG:4326")


def _coord_system(value: str) -> str:
    try:
        return coordsys.check_coord_system(value)
    except ValueError as err:
        raise InputError(str(err), fix=f"pass one of {list(coordsys.COORD_SYSTEMS)}") from None


def _check_inside(
    points: gpd.GeoDataFrame,
    study_area: BaseGeometry,
    table: _Table,
    name: str,
    raw_xy: tuple[np.ndarray, np.ndarray],
    coord_system: str,
) -> None:
    """Refuse points outside the study area, with distances and a likely cause."""
    inside = shapely.covers(study_area, points.geometry.values)
    outside = np.flatnonzero(~inside)
    if not outside.size:
        return
    area = gpd.GeoSeries([study_area], crs="EPSG:4326")
    metric = area.estimate_utm_crs()
    km = points.geometry.iloc[outside].to_crs(metric).distance(area.to_crs(metric).iloc[0]) / 1000
    ids = list(points["id"])
    listing = ", ".join(
        f"{ids[i]!r} ({d:.2f} km)" for i, d in zip(outside[:_SHOW], km.iloc[:_SHOW], strict=True)
    )
    fix = "move or delete those points, or use a larger study area"
    hint = _likely_cause(study_area, raw_xy, coord_system)
    if hint:
        fix = f"{hint}; otherwise {fix}"
    raise InputError(
        f"{outside.size} of {len(points)} point(s) of the {name} layer lie outside the study "
        f"area: {listing}" + (" ..." if outside.size > _SHOW else ""),
        source=table.source,
        row=_where(table, outside, ids),
        fix=fix,
    )


def _likely_cause(
    study_area: BaseGeometry, raw_xy: tuple[np.ndarray, np.ndarray], coord_system: str
) -> str | None:
    """A hint (never a correction) when another reading puts every point inside."""
    x, y = raw_xy
    if shapely.covers(study_area, shapely.points(y, x)).all():
        return "longitude and latitude look swapped: swap them"
    for other in ("wgs84", "gcj02", "bd09"):
        if other == coord_system or (other == "wgs84" and coord_system == "cgcs2000"):
            continue
        moved = coordsys.to_wgs84(shapely.points(x, y), other)
        if shapely.covers(study_area, moved).all():
            return (
                f"every point falls inside if the coordinates are read as {other}: check "
                f"coord_system (Amap/Tencent export GCJ-02, Baidu BD-09, GPS/OSM WGS84)"
            )
    return None


# ------------------------------------------------------------------ readers


def read_points(
    path: PathOrFrame,
    *,
    layer: str | None = None,
    coord_system: str = "wgs84",
    lon_col: str | None = None,
    lat_col: str | None = None,
    id_col: str = "id",
    study_area: BaseGeometry | None = None,
    name: str = "points",
) -> gpd.GeoDataFrame:
    """Read a point layer into WGS84 and validate it.

    Parameters
    ----------
    path : str, PathLike, GeoDataFrame or DataFrame
        GeoJSON, GeoPackage, Shapefile (anything pyogrio opens) or CSV with
        longitude/latitude columns; or a frame already loaded.
    layer : str, optional
        Layer name, required when the file holds more than one layer.
    coord_system : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        What the coordinates really are. Never guessed: a file reporting
        EPSG:4326 may still be GCJ-02 (every Amap export does).
    lon_col, lat_col : str, optional
        Coordinate columns for tables. By default found case-insensitively among
        ``lon/lng/long/longitude/x/经度`` and ``lat/latitude/y/纬度``.
    id_col : str
        Id column, matched case-insensitively. If the default ``"id"`` is
        absent, row numbers become the ids.
    study_area : shapely geometry, optional
        Area in EPSG:4326 that every point must lie in (boundary included).
        A station just across the border that serves the area must be covered by
        a wider study area or read without one.
    name : str
        What the layer is, for messages ("stations", "demand", ...).

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points; column ``id`` (str) first, then the file's other
        attributes (for CSV, without the coordinate columns), then ``geometry``.

    Raises
    ------
    InputError
        Unreadable file, empty layer, non-point or missing geometry, missing or
        non-numeric coordinates, coordinates that are not degrees in a layer
        without CRS, swapped lon/lat, GCJ-02/BD-09 asked for a projected layer,
        missing or duplicate ids, points outside ``study_area``.
    """
    table = _load(path, layer, name, id_col)
    return _points(table, _coord_system(coord_system), lon_col, lat_col, id_col, study_area, name)


def _points(
    table: _Table,
    coord_system: str,
    lon_col: str | None,
    lat_col: str | None,
    id_col: str,
    study_area: BaseGeometry | None,
    name: str,
) -> gpd.GeoDataFrame:
    """The checks and conversion behind :func:`read_points`, on a loaded layer."""
    if len(table.frame) == 0:
        raise InputError(
            f"the {name} layer has no features",
            source=table.source,
            fix="export the layer again with its features",
        )

    labels = _soft_ids(table, id_col)
    if table.is_table or lon_col is not None or lat_col is not None:
        x, y, drop = _table_xy(table, lon_col, lat_col, name, labels)
        crs = None
    else:
        x, y = _point_xy(table, name, labels)
        crs = table.frame.crs
        drop = [table.frame.geometry.name]
    ids = _ids(table, id_col, name)

    attrs = pd.DataFrame(table.frame.drop(columns=drop + ["geometry"], errors="ignore"))
    id_name = _find_column(attrs, id_col)
    if id_name is not None:
        attrs = attrs.drop(columns=id_name)
    attrs.insert(0, "id", ids)
    frame = gpd.GeoDataFrame(attrs, geometry=shapely.points(x, y), crs=crs)
    points = _to_wgs84_frame(frame, coord_system, table, name).reset_index(drop=True)

    if study_area is not None:
        if crs is None or crs.is_geographic:
            raw = (x, y)
        else:
            wgs = shapely.get_coordinates(points.geometry.values)
            raw = (wgs[:, 0], wgs[:, 1])
        _check_inside(points, study_area, table, name, raw, coord_system)
    return points


def _station_types(
    table: _Table, type_col: str, default_type: str | None, ids: list[str]
) -> list[str]:
    frame = table.frame
    col = _find_column(frame, type_col)
    accepted = sorted(STATION_TYPE_ALIASES)
    if default_type is not None:
        try:
            default_code = station_type(default_type).code
        except KeyError:
            raise InputError(
                f"unknown default_type {default_type!r}",
                fix=f"use one of the accepted spellings: {accepted}",
            ) from None
    if col is None:
        if default_type is None:
            raise InputError(
                f"the stations layer has no {type_col!r} column; columns are {list(frame.columns)}",
                source=table.source,
                fix=f"add a {type_col!r} column (values such as 一级站, 二级站, 特勤站, 小型站 or "
                f"level1/level2/special/small), or pass default_type=",
            )
        return [default_code] * len(frame)

    codes: list[str] = []
    unknown: list[int] = []
    blank: list[int] = []
    for pos, value in enumerate(frame[col]):
        if pd.isna(value) or str(value).strip() == "":
            if default_type is None:
                blank.append(pos)
            codes.append(default_code if default_type is not None else "")
            continue
        try:
            codes.append(station_type(_id_text(value)).code)
        except KeyError:
            unknown.append(pos)
            codes.append("")
    if blank:
        raise InputError(
            f"{len(blank)} station(s) have no {col!r}",
            source=table.source,
            row=_where(table, blank, ids),
            fix="fill in the station type or pass default_type=",
        )
    if unknown:
        values = sorted({str(frame[col].iloc[p]) for p in unknown})
        raise InputError(
            f"unknown station type(s) {values}",
            source=table.source,
            row=_where(table, unknown, ids),
            fix=f"use one of the accepted spellings: {accepted}",
        )
    return codes


def _station_status(table: _Table, status_col: str, ids: list[str]) -> tuple[list[str], list[str]]:
    """Normalised status and the value as written (empty when defaulted)."""
    col = _find_column(table.frame, status_col)
    if col is None:
        n = len(table.frame)
        return ["existing"] * n, [""] * n
    statuses, raw, unknown = [], [], []
    for pos, value in enumerate(table.frame[col]):
        text = "" if pd.isna(value) else str(value).strip()
        raw.append(text)
        key = text.lower().replace(" ", "_").replace("-", "_")
        # "planned_2025" or "built_13th_fyp": the word before the qualifier decides.
        code = (
            "existing"
            if not key
            else STATION_STATUS_ALIASES.get(key, STATION_STATUS_ALIASES.get(key.split("_")[0]))
        )
        if code is None:
            unknown.append(pos)
        statuses.append(code or "")
    if unknown:
        values = sorted({raw[p] for p in unknown})
        raise InputError(
            f"unknown station status(es) {values}",
            source=table.source,
            row=_where(table, unknown, ids),
            fix=f"use existing, proposed or closed (accepted spellings: "
            f"{sorted(STATION_STATUS_ALIASES)}, optionally followed by _qualifier)",
        )
    return statuses, raw


def read_stations(
    path: PathOrFrame,
    *,
    coord_system: str = "wgs84",
    study_area: BaseGeometry | None = None,
    layer: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    id_col: str = "id",
    name_col: str = "name",
    type_col: str = "type",
    status_col: str = "status",
    default_type: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a fire-station layer into WGS84 with normalised type and status.

    Parameters
    ----------
    path, coord_system, study_area, layer, lon_col, lat_col, id_col
        As for :func:`read_points`.
    name_col : str
        Station name column; missing names fall back to the id.
    type_col : str
        Station class column. Any spelling accepted by
        :func:`coverage.presets.station_type` (一级, 一级站, 特勤, 小型站, level1, ...).
    status_col : str
        existing / proposed / closed, or a known synonym (planned, built, 规划, 撤销,
        ...), optionally with a qualifier after an underscore (``planned_2025``).
        A missing column or blank value means ``existing``.
    default_type : str, optional
        Station class for a layer without a type column, or for blank types.
        Without it, a missing type is an error: the district-area cap depends on it.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with ``id`` (str), ``name`` (str), ``type`` (preset
        code), ``area_cap_km2`` (float, from :data:`coverage.presets.STATION_TYPES`),
        ``status`` (``existing``/``proposed``/``closed``), ``status_detail`` (the
        status as written), the file's other attributes, and ``geometry``.

    Raises
    ------
    InputError
        Everything :func:`read_points` raises, plus unknown or missing station
        types and unknown statuses.
    """
    table = _load(path, layer, "stations", id_col)
    points = _points(
        table, _coord_system(coord_system), lon_col, lat_col, id_col, study_area, "stations"
    )
    ids = list(points["id"])
    codes = _station_types(table, type_col, default_type, ids)
    statuses, raw_status = _station_status(table, status_col, ids)

    name_name = _find_column(points, name_col)
    if name_name is None:
        names = ids
    else:
        names = [
            i if pd.isna(v) or str(v).strip() == "" else str(v).strip()
            for i, v in zip(ids, points[name_name], strict=True)
        ]
    used = {
        c
        for c in (name_name, _find_column(points, type_col), _find_column(points, status_col))
        if c is not None
    }
    rest = points.drop(columns=sorted(used) + ["id", "geometry"])
    out = pd.DataFrame(
        {
            "id": ids,
            "name": names,
            "type": codes,
            "area_cap_km2": [station_type(c).area_cap_km2 for c in codes],
            "status": statuses,
            "status_detail": raw_status,
        }
    )
    out = pd.concat([out, pd.DataFrame(rest).reset_index(drop=True)], axis=1)
    return gpd.GeoDataFrame(out, geometry=points.geometry.values, crs="EPSG:4326")


def read_weighted_points(
    path: PathOrFrame,
    *,
    weight_col: str = "weight",
    layer: str | None = None,
    coord_system: str = "wgs84",
    lon_col: str | None = None,
    lat_col: str | None = None,
    id_col: str = "id",
    study_area: BaseGeometry | None = None,
    name: str = "demand",
) -> gpd.GeoDataFrame:
    """Read a user demand layer: points with a non-negative weight.

    Parameters
    ----------
    path, layer, coord_system, lon_col, lat_col, id_col, study_area, name
        As for :func:`read_points`.
    weight_col : str
        Weight column (population, floor area, incident count, ...), matched
        case-insensitively; its unit is the user's.

    Returns
    -------
    GeoDataFrame
        As :func:`read_points`, with the weight as float column ``weight``.

    Raises
    ------
    InputError
        Everything :func:`read_points` raises, plus a missing weight column and
        weights that are missing, not numbers, not finite or negative.
    """
    table = _load(path, layer, name, id_col)
    points = _points(table, _coord_system(coord_system), lon_col, lat_col, id_col, study_area, name)
    col = _find_column(points, weight_col)
    if col is None:
        raise InputError(
            f"the {name} layer has no weight column {weight_col!r}; columns are "
            f"{[c for c in table.frame.columns]}",
            source=table.source,
            fix="pass weight_col= with the right column name",
        )
    raw = points[col]
    weight = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    ids = list(points["id"])
    checks = (
        (raw.isna().to_numpy(), "have no weight"),
        (np.isnan(weight) & raw.notna().to_numpy(), "have a weight that is not a number"),
        (np.isinf(weight), "have an infinite weight"),
        (weight < 0, "have a negative weight"),
    )
    for mask, problem in checks:
        bad = np.flatnonzero(mask)
        if bad.size:
            raise InputError(
                f"{bad.size} point(s) of the {name} layer {problem} in {col!r}",
                source=table.source,
                row=_where(table, bad, ids),
                fix="give every point a finite weight >= 0, or delete it",
            )
    if len(weight) and not (weight > 0).any():
        raise InputError(
            f"every point of the {name} layer has weight 0 in {col!r}: there is no demand to cover",
            source=table.source,
            fix="give the points their real weights (population, floor area, incidents)",
        )
    points = points.drop(columns=col)
    points.insert(1, "weight", weight)
    return points


def read_boundary(
    path: PathOrFrame, *, coord_system: str = "wgs84", layer: str | None = None
) -> Polygon | MultiPolygon:
    """Read a study-area boundary as one (Multi)Polygon in WGS84.

    Parameters
    ----------
    path : str, PathLike or GeoDataFrame
        A polygon layer (GeoJSON, GeoPackage, Shapefile, ...); all features are
        unioned.
    coord_system : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        What the coordinates really are (the Amap/DataV district outlines are
        GCJ-02 although labelled EPSG:4326).
    layer : str, optional
        Layer name, required when the file holds more than one layer.

    Returns
    -------
    shapely Polygon or MultiPolygon
        EPSG:4326 longitude/latitude.

    Raises
    ------
    InputError
        Unreadable file, a table instead of a polygon layer, no features,
        missing or non-polygon geometry, coordinates that are not degrees in a
        layer without CRS, or invalid geometry that cannot be repaired.

    Warns
    -----
    UserWarning
        When invalid polygons were repaired with :func:`shapely.make_valid`.
    """
    coord_system = _coord_system(coord_system)
    table = _load(path, layer, "boundary")
    if table.is_table:
        raise InputError(
            "the boundary must be a polygon layer, not a table",
            source=table.source,
            fix="provide a GeoJSON, GeoPackage or Shapefile polygon layer",
        )
    frame = table.frame
    if len(frame) == 0:
        raise InputError(
            "the boundary layer has no features",
            source=table.source,
            fix="export the boundary polygon again",
        )
    geoms = frame.geometry
    missing = np.flatnonzero((geoms.isna() | geoms.is_empty).to_numpy())
    if missing.size:
        raise InputError(
            f"{missing.size} boundary feature(s) have no geometry",
            source=table.source,
            row=_where(table, missing),
            fix="delete those features or draw their polygons",
        )
    kinds = geoms.geom_type.to_numpy()
    wrong = np.flatnonzero(~np.isin(kinds, ["Polygon", "MultiPolygon"]))
    if wrong.size:
        raise InputError(
            f"the boundary must be polygons, but {wrong.size} feature(s) are "
            f"{sorted(set(kinds[wrong]))}",
            source=table.source,
            row=_where(table, wrong),
            fix="use the district polygon layer (QGIS 'Lines to polygons' for outlines)",
        )
    wgs = _to_wgs84_frame(
        gpd.GeoDataFrame(geometry=geoms.values, crs=frame.crs), coord_system, table, "boundary"
    )
    polys = wgs.geometry.values
    invalid = np.flatnonzero(~shapely.is_valid(polys))
    if invalid.size:
        reasons = [shapely.is_valid_reason(polys[i]) for i in invalid[:_SHOW]]
        # make_valid can return lines/points for collapsed parts: keep the area only.
        repaired = shapely.get_parts(shapely.make_valid(polys[invalid]))
        repaired = repaired[np.isin(shapely.get_type_id(repaired), [3, 6])]
        if repaired.size == 0 or shapely.union_all(repaired).area == 0:
            raise InputError(
                f"invalid boundary polygon(s) that cannot be repaired: {reasons}",
                source=table.source,
                row=_where(table, invalid),
                fix="fix the geometry in your GIS (QGIS 'Fix geometries')",
            )
        warnings.warn(
            f"{table.source}: repaired {invalid.size} invalid boundary polygon(s) "
            f"(row {_where(table, invalid)}: {reasons}) with shapely.make_valid; check the result",
            UserWarning,
            stacklevel=2,
        )
        polys = np.concatenate([np.delete(polys, invalid), repaired])
    # GEOS unions polygonal input into a Polygon or MultiPolygon.
    return shapely.union_all(polys)
