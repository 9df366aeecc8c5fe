"""Micro-station, key-unit and demand layers for the micro fire station model.

- :func:`read_micro_stations`: the user's micro stations (微型消防站), with type
  (``community`` 社区 / ``unit`` 重点单位), staffing and status, validated like
  the station layer (:func:`coverage.layers.read_stations`);
- :func:`key_units_from_osm` and :func:`read_key_units`: key units (重点单位),
  each tagged with the rule that selected it; :func:`outside_area` lists those
  outside the study area;
- :func:`building_demand` and :func:`grid_demand`: what community stations must reach;
- :func:`generated_micro_stations`: a *generated* layer for tests and demos.
"""

from __future__ import annotations

import os
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from osmnx._errors import InsufficientResponseError
from shapely.geometry.base import BaseGeometry

from coverage.errors import InputError
from coverage.layers import STATION_STATUS_ALIASES, read_points

__all__ = [
    "KEY_UNIT_RULES",
    "MICRO_TYPE_ALIASES",
    "RESIDENTIAL_BUILDINGS",
    "building_demand",
    "generated_micro_stations",
    "grid_demand",
    "key_units_from_osm",
    "outside_area",
    "read_key_units",
    "read_micro_stations",
]

#: Accepted spellings of the two micro-station types.
MICRO_TYPE_ALIASES: dict[str, str] = {
    "community": "community", "社区": "community", "社区微型消防站": "community",
    "社区微站": "community", "street": "community", "街道": "community",
    "unit": "unit", "key_unit": "unit", "重点单位": "unit", "单位": "unit",
    "重点单位微型消防站": "unit", "单位微站": "unit",
}

#: OSM ``building`` values counted as residential floor area.
RESIDENTIAL_BUILDINGS = frozenset({
    "residential", "apartments", "house", "dormitory", "detached", "terrace",
    "semidetached_house", "bungalow",
})

#: Key-unit categories (the kinds 重点单位 designations cover) and the OSM tags that select them.
KEY_UNIT_RULES: dict[str, dict[str, list[str] | bool]] = {
    "school": {"amenity": ["school", "kindergarten", "college", "university"],
               "building": ["school", "kindergarten", "college", "university"]},
    "hospital": {"amenity": ["hospital", "clinic"], "building": ["hospital"],
                 "healthcare": ["hospital"]},
    "nursing_home": {"amenity": ["nursing_home"],
                     "social_facility": ["nursing_home", "assisted_living"]},
    "market_mall": {"shop": ["mall", "department_store", "supermarket"],
                    "amenity": ["marketplace"], "building": ["retail"]},
    "hotel": {"tourism": ["hotel", "hostel", "guest_house", "motel"], "building": ["hotel"]},
    "worship": {"amenity": ["place_of_worship"],
                "building": ["temple", "church", "mosque", "cathedral", "chapel", "shrine"]},
    "heritage": {"historic": True, "heritage": True},
}
HIGHRISE_RULE = "highrise"


def _code(value: object, aliases: dict[str, str]) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    key = str(value).strip().lower().replace(" ", "_").replace("-", "_")
    if not key:
        return None
    return aliases.get(key, aliases.get(key.split("_")[0]))


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) \
        or not str(value).strip()


def _column(frame: pd.DataFrame, wanted: str) -> str | None:
    for c in frame.columns:
        if str(c).lower() == wanted.lower():
            return c
    return None


def read_micro_stations(
    path: str | os.PathLike | gpd.GeoDataFrame,
    *,
    coord_system: str = "wgs84",
    study_area: BaseGeometry | None = None,
    id_col: str = "id",
    name_col: str = "name",
    type_col: str = "type",
    staffing_col: str = "staffing",
    status_col: str = "status",
    default_type: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a micro fire-station layer into WGS84 with normalised type, staffing and status.

    Parameters
    ----------
    path : str, PathLike or GeoDataFrame
        GeoJSON / GeoPackage / Shapefile, or CSV with lon/lat columns.
    coord_system, study_area, id_col
        As for :func:`coverage.layers.read_points` (a point outside the study
        area is an error naming it).
    name_col : str
        Name column; a missing name falls back to the id.
    type_col : str
        ``community`` (社区微型消防站) or ``unit`` (重点单位微型消防站), or a spelling
        in :data:`MICRO_TYPE_ALIASES`.
    staffing_col : str
        Crew on duty (a whole number >= 0); blank means unknown.
    status_col : str
        existing / proposed / closed (or a synonym the station layer accepts).
    default_type : str, optional
        Type for a layer without a type column or for blank types.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with ``id``, ``name``, ``type``, ``staffing`` (float, NaN
        unknown), ``status``, and the file's other attributes.

    Raises
    ------
    InputError
        Everything :func:`~coverage.layers.read_points` raises, plus unknown or
        missing types, staffing that is not a whole number >= 0, unknown statuses.
    """
    source = path if not isinstance(path, gpd.GeoDataFrame) else "micro stations"
    points = read_points(path, coord_system=coord_system, id_col=id_col,
                         study_area=study_area, name="micro stations")
    ids = points["id"].astype(str).tolist()

    def rows(positions: list[int]) -> str:
        shown = ", ".join(ids[p] for p in positions[:5])
        return shown + (f" and {len(positions) - 5} more" if len(positions) > 5 else "")

    col = _column(points, type_col)
    if col is None and default_type is None:
        raise InputError(
            f"the micro-station layer has no {type_col!r} column; columns are "
            f"{list(points.columns)}", source=source,
            fix=f"add a {type_col!r} column (community/社区 or unit/重点单位), or pass "
            "default_type=",
        )
    default = None if default_type is None else _code(default_type, MICRO_TYPE_ALIASES)
    if default_type is not None and default is None:
        raise InputError(f"unknown default_type {default_type!r}",
                         fix=f"use one of {sorted(MICRO_TYPE_ALIASES)}")
    raw_types = points[col] if col is not None else pd.Series([None] * len(points))
    types = [_code(v, MICRO_TYPE_ALIASES) for v in raw_types]
    blank = [i for i, v in enumerate(raw_types) if _blank(v)]
    types = [default if i in blank else t for i, t in enumerate(types)]
    bad = [i for i, t in enumerate(types) if t is None]
    if bad:
        values = sorted({str(raw_types.iloc[i]) for i in bad})
        raise InputError(
            f"{len(bad)} micro station(s) have a missing or unknown type {values}",
            source=source, row=rows(bad),
            fix="use community (社区) or unit (重点单位), or pass default_type= for blanks",
        )

    staff_col = _column(points, staffing_col)
    staffing = np.full(len(points), np.nan)
    if staff_col is not None:
        raw = points[staff_col]
        numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        given = raw.notna() & (raw.astype(str).str.strip() != "")
        wrong = [i for i in range(len(points)) if given.iloc[i] and not (
            np.isfinite(numbers[i]) and numbers[i] >= 0 and float(numbers[i]).is_integer())]
        if wrong:
            raise InputError(
                f"{len(wrong)} micro station(s) have a staffing that is not a whole number >= 0",
                source=source, row=rows(wrong), fix="give the crew on duty, e.g. 6, or leave blank",
            )
        staffing = np.where(given, numbers, np.nan)

    stat_col = _column(points, status_col)
    statuses = []
    if stat_col is None:
        statuses = ["existing"] * len(points)
    else:
        unknown = []
        for i, v in enumerate(points[stat_col]):
            code = _code(v, STATION_STATUS_ALIASES)
            if code is None and not _blank(v):
                unknown.append(i)
            statuses.append(code or "existing")
        if unknown:
            raise InputError(
                f"unknown micro-station status(es) {sorted({str(points[stat_col].iloc[i]) for i in unknown})}",
                source=source, row=rows(unknown),
                fix="use existing, proposed or closed (or 现有/规划/撤销)",
            )
    name_c = _column(points, name_col)
    names = [i if name_c is None or pd.isna(v) or not str(v).strip() else str(v).strip()
             for i, v in zip(ids, points[name_c] if name_c else ids, strict=True)]
    used = {c for c in (col, staff_col, stat_col, name_c) if c is not None}
    rest = points.drop(columns=[*sorted(used), "id", "geometry"])
    out = pd.DataFrame({"id": ids, "name": names, "type": types, "staffing": staffing,
                        "status": statuses})
    out = pd.concat([out, pd.DataFrame(rest).reset_index(drop=True)], axis=1)
    return gpd.GeoDataFrame(out, geometry=points.geometry.values, crs="EPSG:4326")


def generated_micro_stations(network, n: int, *, seed: int = 0,
                             area: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """A **generated** micro-station layer (no public positions exist): ``n`` walk-network nodes.

    For tests and demos only. Nodes are drawn at random (``seed``) among those inside
    ``area`` (network CRS; default the network's boundary); ids are ``GEN-1``...,
    names say "generated", types alternate community / unit, staffing 6.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points in the layout :func:`read_micro_stations` returns.
    """
    area = area if area is not None else (network.boundary or network.study_area)
    nodes = [(d["x"], d["y"]) for _, d in network.graph.nodes(data=True)]
    xy = np.asarray(nodes, dtype=float)
    inside = np.flatnonzero(shapely.contains_xy(area, xy[:, 0], xy[:, 1]))
    if n > len(inside):
        raise InputError(f"only {len(inside)} walk nodes inside the area, asked for {n}",
                         fix="ask for fewer generated stations")
    pick = np.random.default_rng(seed).choice(inside, size=n, replace=False)
    frame = gpd.GeoDataFrame(
        {"id": [f"GEN-{i + 1}" for i in range(n)],
         "name": [f"generated micro station {i + 1}" for i in range(n)],
         "type": ["community" if i % 2 == 0 else "unit" for i in range(n)],
         "staffing": np.full(n, 6.0), "status": ["existing"] * n},
        geometry=shapely.points(xy[pick]), crs=network.crs,
    )
    return frame.to_crs(4326)


def _features(path: Path, tags: dict) -> gpd.GeoDataFrame:
    try:
        return ox.features_from_xml(path, tags=tags)
    except InsufficientResponseError:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    except (ET.ParseError, UnicodeDecodeError, OSError) as err:
        raise InputError(f"cannot read the OSM file ({err})", source=path,
                         fix="provide OSM XML (.osm); convert .pbf with 'osmium cat'") from err


def _matches(value: object, wanted: list[str] | bool) -> bool:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return False
    text = str(value).strip()
    if wanted is True:
        return text.lower() not in {"", "no"}
    return text in wanted


def key_units_from_osm(
    osm_files: list[str | os.PathLike],
    *,
    buildings: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Key units (重点单位) derived from OSM POIs and high-rise buildings.

    Parameters
    ----------
    osm_files : list of path
        OSM XML extracts to read POIs from (the buildings and the walk extracts).
    buildings : GeoDataFrame, optional
        :func:`coverage.buildings.buildings_demand` output; its ``highrise`` rows
        become key units with rule ``highrise``.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points (representative point of each feature), one per OSM
        element: ``id`` (``way/123``), ``name``, ``category`` (first matching
        :data:`KEY_UNIT_RULES` key, or ``highrise``) and ``rule`` (every rule that
        selected it, e.g. ``"amenity=school; highrise (height 45 m > 27 m)"``).
    """
    tags: dict[str, list[str] | bool] = {}
    for rule in KEY_UNIT_RULES.values():
        for key, values in rule.items():
            if values is True or tags.get(key) is True:
                tags[key] = True
            else:
                tags[key] = sorted(set(tags.get(key, [])) | set(values))
    rows: dict[str, dict] = {}
    for path in osm_files:
        feats = _features(Path(path), tags)
        if len(feats) == 0:
            continue
        feats = feats.to_crs(4326)
        for (element, osm_id), feat in feats.iterrows():
            hits = [(cat, f"{key}={feat[key]}")
                    for cat, rule in KEY_UNIT_RULES.items() for key, values in rule.items()
                    if key in feats.columns and _matches(feat.get(key), values)]
            if not hits:
                continue
            fid = f"{element}/{osm_id}"
            row = rows.setdefault(fid, {
                "id": fid, "name": str(feat.get("name") or "") if pd.notna(feat.get("name"))
                else "", "category": hits[0][0], "rules": [],
                "geometry": feat.geometry.representative_point()})
            row["rules"] += [r for _, r in hits if r not in row["rules"]]
    if buildings is not None and "highrise" in buildings:
        tall = buildings[buildings["highrise"]].to_crs(4326)
        for b in tall.itertuples():
            rule = f"highrise (height {b.height_m:.0f} m, {b.height_source})"
            row = rows.setdefault(str(b.id), {"id": str(b.id), "name": "", "category": HIGHRISE_RULE,
                                              "rules": [], "geometry": b.geometry})
            row["rules"].append(rule)
    frame = pd.DataFrame(list(rows.values()), columns=["id", "name", "category", "rules", "geometry"])
    frame["rule"] = ["; ".join(r) for r in frame["rules"]]
    return gpd.GeoDataFrame(frame.drop(columns="rules"), geometry="geometry", crs="EPSG:4326")


def read_key_units(path: str | os.PathLike | gpd.GeoDataFrame, *, coord_system: str = "wgs84",
                   id_col: str = "id", category_col: str = "category") -> gpd.GeoDataFrame:
    """A user key-unit layer (points), tagged ``rule = "user layer"``.

    Points outside the study area are kept here; :func:`outside_area` lists them.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with ``id``, ``name``, ``category`` (``"key unit"`` if the
        layer has none) and ``rule``.
    """
    points = read_points(path, coord_system=coord_system, id_col=id_col, name="key units")
    name_c, cat_c = _column(points, "name"), _column(points, category_col)
    out = gpd.GeoDataFrame({
        "id": points["id"].astype(str),
        "name": points[name_c].fillna("").astype(str) if name_c else "",
        "category": points[cat_c].fillna("key unit").astype(str) if cat_c else "key unit",
        "rule": "user layer",
    }, geometry=points.geometry.values, crs="EPSG:4326")
    return out


def outside_area(layer: gpd.GeoDataFrame, area: BaseGeometry, crs, *,
                 what: str = "key units") -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Split ``layer`` into the rows inside ``area`` (in ``crs``) and those outside.

    The outside rows are listed in a warning (ids and names) and returned, so
    that a report can list them too; they are not assessed.

    Returns
    -------
    inside, outside : GeoDataFrame
        In ``crs``.
    """
    projected = layer.to_crs(crs)
    inside = projected.within(area).to_numpy()
    out = projected[~inside].reset_index(drop=True)
    if len(out):
        shown = ", ".join(f"{r.id} {r.name}".strip() for r in out.head(5).itertuples())
        more = f" and {len(out) - 5} more" if len(out) > 5 else ""
        warnings.warn(f"{len(out)} {what} lie outside the study area and are not assessed: "
                      f"{shown}{more}", stacklevel=2)
    return projected[inside].reset_index(drop=True), out


def building_demand(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Buildings with a ``residential`` flag (OSM ``building`` in :data:`RESIDENTIAL_BUILDINGS`).

    Parameters
    ----------
    buildings : GeoDataFrame
        :func:`coverage.buildings.buildings_demand` output (weight = floor area, m²).
    """
    out = buildings.copy()
    out["residential"] = out["building"].astype(str).isin(RESIDENTIAL_BUILDINGS).to_numpy()
    return out


def grid_demand(area: BaseGeometry, crs, *, cell_m: float = 100.0) -> gpd.GeoDataFrame:
    """The land grid as demand: the centre of every ``cell_m`` square cell inside ``area``.

    Parameters
    ----------
    area : shapely geometry
        District in ``crs`` (metres).
    cell_m : float
        Cell side, m.

    Returns
    -------
    GeoDataFrame
        Points in ``crs`` with ``id`` (``cell-i-j``) and ``weight`` = cell area inside
        ``area``, m².
    """
    if not (np.isfinite(cell_m) and cell_m > 0):
        raise InputError(f"cell_m={cell_m!r} is not a positive length", fix="e.g. 100")
    minx, miny, maxx, maxy = area.bounds
    xs = np.arange(minx + cell_m / 2, maxx, cell_m)
    ys = np.arange(miny + cell_m / 2, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    keep = shapely.contains_xy(area, gx.ravel(), gy.ravel())
    cx, cy = gx.ravel()[keep], gy.ravel()[keep]
    cells = shapely.box(cx - cell_m / 2, cy - cell_m / 2, cx + cell_m / 2, cy + cell_m / 2)
    weight = shapely.area(shapely.intersection(cells, area))
    ii = np.rint((cx - xs[0]) / cell_m).astype(int)
    jj = np.rint((cy - ys[0]) / cell_m).astype(int)
    return gpd.GeoDataFrame({"id": [f"cell-{i}-{j}" for i, j in zip(ii, jj, strict=True)],
                             "weight": weight}, geometry=shapely.points(cx, cy), crs=crs)
