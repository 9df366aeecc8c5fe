"""Hydrant layers: the user's file, OpenStreetMap ``emergency=fire_hydrant`` nodes, or both.

Every reader returns WGS84 points with the same columns:

- ``id`` (str): the user's id, or ``osm-node-<id>`` for OSM;
- ``status``: ``in_service``, ``out_of_service`` or ``unknown``
  (:data:`HYDRANT_STATUS_ALIASES` lists the accepted spellings, Chinese included);
- ``status_detail``: the value as written (empty when there was none);
- ``type``: ``above_ground``, ``below_ground``, ``wall``, ``pipe`` or ``""`` (not given);
- ``source``: ``user`` or ``osm``.

A status the reader does not recognise is an error listing every such value:
guessing would make the in-service rate silently wrong.
"""

from __future__ import annotations

import os
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import osmium
import osmnx as ox
import pandas as pd
import shapely
from osmnx._errors import InsufficientResponseError

from coverage.errors import InputError
from coverage.layers import read_points

__all__ = [
    "HYDRANT_COLUMNS",
    "HYDRANT_STATUS_ALIASES",
    "HYDRANT_TYPE_ALIASES",
    "IN_SERVICE",
    "OUT_OF_SERVICE",
    "UNKNOWN",
    "combine_hydrants",
    "osm_hydrants",
    "read_buildings",
    "read_hydrants",
]

IN_SERVICE, OUT_OF_SERVICE, UNKNOWN = "in_service", "out_of_service", "unknown"
HYDRANT_COLUMNS = ("id", "status", "status_detail", "type", "source")

#: Accepted spellings of a hydrant's status (matched after lower-casing and turning
#: spaces and hyphens into underscores).
HYDRANT_STATUS_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            ["in_service", "inservice", "in_use", "ok", "good", "working", "operational",
             "functional", "active", "available", "yes", "完好", "在用", "正常", "良好", "可用",
             "完好在用"],
            IN_SERVICE,
        ),
        **dict.fromkeys(
            ["out_of_service", "outofservice", "out_of_order", "broken", "damaged", "faulty",
             "defective", "inactive", "disused", "not_working", "needs_repair", "no", "损坏",
             "停用", "故障", "失效", "不可用", "报废", "待修", "维修"],
            OUT_OF_SERVICE,
        ),
        **dict.fromkeys(["unknown", "not_checked", "unchecked", "未知", "待查", "不详"], UNKNOWN),
    }
)

#: Accepted spellings of a hydrant's type; OSM ``fire_hydrant:type`` values included.
HYDRANT_TYPE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            ["above_ground", "aboveground", "above", "pillar", "post", "地上", "地上式",
             "地上式消火栓"],
            "above_ground",
        ),
        **dict.fromkeys(
            ["below_ground", "belowground", "below", "underground", "pit", "flush", "地下",
             "地下式", "地下式消火栓"],
            "below_ground",
        ),
        **dict.fromkeys(["wall", "墙式", "墙壁式"], "wall"),
        **dict.fromkeys(["pipe", "dry_riser"], "pipe"),
    }
)

_SHOW = 5


def _key(value: object) -> str:
    return str(value).strip().lower().replace(" ", "_").replace("-", "_")


def _normalise(
    values: pd.Series, aliases: Mapping[str, str], blank: str
) -> tuple[list[str], list[str], list[int]]:
    """Normalised values, the text as written, and the positions not recognised."""
    codes, raw, unknown = [], [], []
    for pos, value in enumerate(values):
        text = "" if pd.isna(value) else str(value).strip()
        raw.append(text)
        code = blank if text == "" else aliases.get(_key(text))
        if code is None:
            unknown.append(pos)
        codes.append(code or "")
    return codes, raw, unknown


def _column(frame: pd.DataFrame, wanted: str) -> str | None:
    if wanted in frame.columns:
        return wanted
    hits = [c for c in frame.columns if str(c).strip().lower() == wanted.lower()]
    return hits[0] if len(hits) == 1 else None


def read_hydrants(
    path: str | os.PathLike | pd.DataFrame,
    *,
    coord_system: str = "wgs84",
    layer: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    id_col: str = "id",
    status_col: str = "status",
    type_col: str = "type",
) -> gpd.GeoDataFrame:
    """Read the user's hydrant layer into WGS84 with normalised status and type.

    Parameters
    ----------
    path : str, PathLike, GeoDataFrame or DataFrame
        Any point layer :func:`coverage.layers.read_points` reads (GeoJSON,
        GeoPackage, Shapefile, CSV with lon/lat columns).
    coord_system : {"wgs84", "cgcs2000", "gcj02", "bd09"}
        What the coordinates really are (never guessed).
    layer, lon_col, lat_col, id_col
        As for :func:`coverage.layers.read_points`. Without an id column the
        row numbers become ids.
    status_col : str
        Optional. A missing column or a blank value means ``unknown``.
    type_col : str
        Optional: above/below ground (地上式/地下式), wall, pipe.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with :data:`HYDRANT_COLUMNS` (``source="user"``) and geometry.

    Raises
    ------
    InputError
        Everything :func:`~coverage.layers.read_points` raises (no points,
        duplicate ids, bad coordinates, ...), and status or type values that are
        not recognised, all of them listed with their rows.
    """
    points = read_points(
        path, layer=layer, coord_system=coord_system, lon_col=lon_col, lat_col=lat_col,
        id_col=id_col, name="hydrants",
    )
    source = str(path) if not isinstance(path, pd.DataFrame) else "<hydrants DataFrame>"
    ids = points["id"].astype(str).to_numpy()
    columns = {}
    for col, aliases, blank, what in (
        (status_col, HYDRANT_STATUS_ALIASES, UNKNOWN, "status"),
        (type_col, HYDRANT_TYPE_ALIASES, "", "type"),
    ):
        found = _column(points, col)
        if found is None:
            columns[what] = ([blank] * len(points), [""] * len(points))
            continue
        codes, raw, unknown = _normalise(points[found], aliases, blank)
        if unknown:
            values = sorted({raw[p] for p in unknown})
            rows = ", ".join(repr(ids[p]) for p in unknown[:_SHOW])
            more = f" and {len(unknown) - _SHOW} more" if len(unknown) > _SHOW else ""
            raise InputError(
                f"{len(unknown)} hydrant(s) have an unrecognised {what} in column {found!r}: "
                f"{values} (ids {rows}{more})",
                source=source,
                row=ids[unknown[0]],
                fix=f"use one of the accepted spellings {sorted(set(aliases.values()))} "
                f"(also accepted: {sorted(aliases)}), or leave it blank",
            )
        columns[what] = (codes, raw)
    return gpd.GeoDataFrame(
        {
            "id": ids,
            "status": columns["status"][0],
            "status_detail": columns["status"][1],
            "type": columns["type"][0],
            "source": "user",
        },
        geometry=points.geometry.values,
        crs="EPSG:4326",
    )


def _osm_status(tags: Mapping[str, str]) -> tuple[str, str]:
    """Status from OSM tags: ``disused:emergency`` means out of service; else the
    ``operational_status`` tag where recognised; else unknown."""
    if tags.get("emergency") != "fire_hydrant":
        return OUT_OF_SERVICE, "disused:emergency=fire_hydrant"
    text = tags.get("operational_status", "")
    return HYDRANT_STATUS_ALIASES.get(_key(text), UNKNOWN) if text else UNKNOWN, text


def osm_hydrants(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """The fire hydrants mapped in an OSM file (``.osm`` XML or ``.osm.pbf``).

    Reads nodes tagged ``emergency=fire_hydrant`` (and ``disused:emergency=fire_hydrant``,
    as out of service) with pyosmium. OSM rarely records whether a hydrant works,
    so most come back ``unknown``; ``fire_hydrant:type`` gives the type.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with :data:`HYDRANT_COLUMNS` (``source="osm"``) and
        geometry; empty when the file maps none.

    Raises
    ------
    InputError
        The file is missing or is not OSM data.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("OSM file not found.", source=path, fix="check the path")
    rows, xy = [], []
    tag_filter = osmium.filter.TagFilter(
        ("emergency", "fire_hydrant"), ("disused:emergency", "fire_hydrant")
    )
    try:
        for node in osmium.FileProcessor(str(path), osmium.osm.NODE).with_filter(tag_filter):
            if not node.location.valid():
                continue
            tags = dict(node.tags)
            status, detail = _osm_status(tags)
            kind = tags.get("fire_hydrant:type", "")
            rows.append(
                {
                    "id": f"osm-node-{node.id}",
                    "status": status,
                    "status_detail": detail,
                    "type": HYDRANT_TYPE_ALIASES.get(_key(kind), _key(kind)) if kind else "",
                    "source": "osm",
                }
            )
            xy.append((node.location.lon, node.location.lat))
    except RuntimeError as exc:
        raise InputError(
            f"cannot be read as OSM data ({exc}).", source=path,
            fix="pass an OSM XML (.osm) or PBF (.osm.pbf) file with that extension.",
        ) from exc
    frame = pd.DataFrame(rows, columns=list(HYDRANT_COLUMNS))
    points = shapely.points(np.asarray(xy, dtype=float).reshape(-1, 2))
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def combine_hydrants(
    user: gpd.GeoDataFrame, osm: gpd.GeoDataFrame, *, duplicate_m: float = 5.0
) -> gpd.GeoDataFrame:
    """The user's hydrants supplemented by OSM ones that are not already there.

    An OSM hydrant within ``duplicate_m`` metres of a user hydrant is taken to be
    the same hydrant and dropped: the user's record (and status) wins.

    Parameters
    ----------
    user, osm : GeoDataFrame
        From :func:`read_hydrants` and :func:`osm_hydrants` (any CRS).
    duplicate_m : float
        Distance below which two hydrants are the same one, m.

    Returns
    -------
    GeoDataFrame
        EPSG:4326, user rows first.
    """
    user = user.to_crs(4326)
    osm = osm.to_crs(4326)
    if len(osm) and len(user):
        metric = user.estimate_utm_crs()
        near = osm.to_crs(metric).sjoin_nearest(
            user.to_crs(metric)[["geometry"]], max_distance=duplicate_m, how="inner"
        )
        osm = osm.drop(index=near.index.unique())
    clash = sorted(set(user["id"]) & set(osm["id"]))
    if clash:
        raise InputError(
            f"hydrant ids {clash[:_SHOW]} appear both in the user layer and as OSM ids",
            source="hydrants", fix="rename those user hydrants",
        )
    return gpd.GeoDataFrame(pd.concat([user, osm], ignore_index=True), crs="EPSG:4326")


def read_buildings(path: str | os.PathLike) -> gpd.GeoSeries:
    """Building footprints for the wall-distance check, in WGS84.

    Parameters
    ----------
    path : str or PathLike
        OSM XML (``.osm``; ``building=*`` ways and relations, through osmnx) or
        a polygon layer any GDAL driver reads (GeoJSON, GeoPackage, Shapefile).

    Returns
    -------
    GeoSeries
        EPSG:4326 polygons; points and lines in the file are ignored.

    Raises
    ------
    InputError
        The file is missing, unreadable, or holds no building polygon.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("buildings file not found.", source=path, fix="check the path")
    try:
        if path.suffix.lower() in {".osm", ".xml"}:
            frame = ox.features_from_xml(path, tags={"building": True})
        else:
            frame = gpd.read_file(path)
    except (InsufficientResponseError, ET.ParseError, OSError, ValueError, RuntimeError) as exc:
        raise InputError(
            f"cannot read building footprints ({type(exc).__name__}: {exc}).", source=path,
            fix="pass OSM XML (.osm) with building=* ways, or a polygon layer "
            "(GeoJSON, GeoPackage, Shapefile)",
        ) from exc
    if frame.crs is None:
        raise InputError("the buildings layer has no CRS.", source=path,
                         fix="set the layer's CRS and save it again")
    polys = frame.geometry[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        raise InputError("the buildings file holds no polygon.", source=path,
                         fix="pass building footprints (polygons)")
    if len(polys) < len(frame):
        warnings.warn(
            f"{path}: ignored {len(frame) - len(polys)} building feature(s) that are not "
            "polygons", stacklevel=2,
        )
    return polys.to_crs(4326).reset_index(drop=True)
