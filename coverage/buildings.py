"""Building floor area as fire-risk demand, from OpenStreetMap buildings.

Each building becomes one demand point at its footprint's representative point
(always inside the footprint), weighted by gross floor area = storeys ×
footprint. Storeys come from the ``building:levels`` tag, else from ``height``
divided by a storey height, else from an assumption the output says it made.

High-rise buildings are flagged with the GB 50016-2014 §2.1.1 definition:
a *residential* building taller than 27 m is high-rise (高层建筑). The same clause
sets 24 m for non-residential civil buildings; pass ``highrise_height_m=24.0`` for
those. OSM rarely says which is which, so the residential value is the default.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
from osmnx._errors import InsufficientResponseError
from pyproj import CRS

from coverage.errors import InputError

__all__ = ["HIGHRISE_RESIDENTIAL_HEIGHT_M", "HIGHRISE_CLAUSE", "buildings_demand"]

#: GB 50016-2014 §2.1.1: residential buildings taller than this are high-rise, metres.
HIGHRISE_RESIDENTIAL_HEIGHT_M = 27.0
HIGHRISE_CLAUSE = (
    "GB 50016-2014 §2.1.1: 建筑高度大于27 m的住宅建筑 (24 m for other civil buildings) 为高层建筑"
)


def _load(source: str | os.PathLike | gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
    if isinstance(source, gpd.GeoDataFrame):
        return source, "<buildings GeoDataFrame>"
    path = Path(source)
    if not path.exists():
        raise InputError(
            "the OSM buildings file does not exist", source=path, fix="check the path and file name"
        )
    try:
        return ox.features_from_xml(path, tags={"building": True}), str(path)
    except InsufficientResponseError as err:
        raise InputError(
            "the OSM file contains no building=* features",
            source=path,
            fix="extract buildings for the study area (e.g. Overpass 'way[building]')",
        ) from err
    except (ET.ParseError, UnicodeDecodeError, OSError) as err:
        raise InputError(
            f"cannot read the OSM file ({err})",
            source=path,
            fix="provide OSM XML (.osm or .osm.bz2); "
            "convert .pbf with 'osmium cat in.pbf -o out.osm'",
        ) from err


def _positive(values: pd.Series) -> np.ndarray:
    """Tag values as positive floats; anything else (``"3;4"``, ``"abc"``, ``0``) is NaN."""
    numbers = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    out = numbers.to_numpy(dtype=float, na_value=np.nan)
    return np.where(out > 0, out, np.nan)


def _tag(frame: gpd.GeoDataFrame, key: str) -> pd.Series:
    if key in frame.columns:
        return frame[key]
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _osm_ids(frame: gpd.GeoDataFrame) -> list[str]:
    # Way and relation ids share a number space, so the element type is kept.
    if frame.index.names == ["element", "id"]:
        return [f"{element}/{osm_id}" for element, osm_id in frame.index]
    return [str(i) for i in frame.index]


def _check_parameters(
    floor_height_m: float, highrise_height_m: float, default_levels: float | None
) -> None:
    for label, value in (
        ("floor_height_m", floor_height_m),
        ("highrise_height_m", highrise_height_m),
        ("default_levels", default_levels),
    ):
        if value is not None and not (np.isfinite(value) and value > 0):
            raise InputError(
                f"{label} must be a positive number, not {value!r}", fix=f"pass a positive {label}"
            )


def buildings_demand(
    osm_path_or_gdf: str | os.PathLike | gpd.GeoDataFrame,
    *,
    floor_height_m: float = 3.0,
    highrise_height_m: float = HIGHRISE_RESIDENTIAL_HEIGHT_M,
    default_levels: float | None = None,
    metric_crs: str | CRS | None = None,
    footprints: bool = False,
) -> gpd.GeoDataFrame:
    """Demand points weighted by building floor area, from OSM buildings.

    Parameters
    ----------
    osm_path_or_gdf : str, PathLike or GeoDataFrame
        An OSM XML file (read with ``ox.features_from_xml(path, tags={"building": True})``)
        or a GeoDataFrame of building features in that layout (index
        ``(element, id)``, tag columns). Nodes and unclosed ways tagged
        ``building`` have no footprint and are left out.
    floor_height_m : float
        Storey height used to turn a ``height`` tag into storeys and storeys
        into a height, metres.
    highrise_height_m : float
        A building taller than this is flagged ``highrise``, metres. Default
        27 m, the residential threshold of GB 50016-2014 §2.1.1; use 24 m for
        non-residential civil buildings.
    default_levels : float, optional
        Storeys assumed for a building with neither ``building:levels`` nor
        ``height``. Default: 1.
    metric_crs : str or pyproj.CRS, optional
        Projected CRS for footprint areas. Default: the local UTM zone.
    footprints : bool
        Return the footprint polygons instead of points (for façade distances).

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points, one per building, with columns

        - ``id``: OSM element, ``"way/123"`` or ``"relation/456"``;
        - ``building``: the ``building`` tag value;
        - ``footprint_m2``: footprint area, m²;
        - ``levels``: storeys above ground;
        - ``levels_source``: ``"tagged"`` (``building:levels``), ``"from_height"``
          (``round(height / floor_height_m)``, at least 1) or ``"assumed"``;
        - ``height_m``: the ``height`` tag (a number, optionally with ``m``), else
          ``levels * floor_height_m``, metres;
        - ``height_source``: ``"tagged"``, ``"from_levels"`` or ``"assumed"``;
        - ``floor_area_m2``: ``levels * footprint_m2``;
        - ``weight``: equal to ``floor_area_m2``;
        - ``highrise``: ``height_m > highrise_height_m``.

        Tag values that are not a single positive number (``"3;4"``, ``"abc"``)
        are treated as absent.

    Raises
    ------
    InputError
        Missing or unreadable file, no building polygons, bad parameters.
    """
    _check_parameters(floor_height_m, highrise_height_m, default_levels)
    features, source = _load(osm_path_or_gdf)
    polygons = features[features.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        raise InputError(
            "no building polygons found",
            source=source,
            fix="check that the data holds building=* ways or multipolygons",
        )
    if polygons.crs is None:
        raise InputError(
            "the buildings have no CRS", source=source, fix="set the CRS (OSM data is EPSG:4326)"
        )
    polygons = polygons.to_crs("EPSG:4326")
    metric = metric_crs if metric_crs is not None else polygons.estimate_utm_crs()
    footprint = polygons.geometry.to_crs(metric).area.to_numpy()

    tagged_levels = _positive(_tag(polygons, "building:levels"))
    tagged_height = _positive(
        _tag(polygons, "height").astype("string").str.replace(r"\s*m$", "", regex=True)
    )
    has_levels = np.isfinite(tagged_levels)
    has_height = np.isfinite(tagged_height)
    assumed = default_levels if default_levels is not None else 1.0
    from_height = np.maximum(1.0, np.round(tagged_height / floor_height_m))
    levels = np.where(has_levels, tagged_levels, np.where(has_height, from_height, assumed))
    levels_source = np.where(has_levels, "tagged", np.where(has_height, "from_height", "assumed"))
    height = np.where(has_height, tagged_height, levels * floor_height_m)
    height_source = np.where(has_height, "tagged", np.where(has_levels, "from_levels", "assumed"))
    floor_area = levels * footprint

    return gpd.GeoDataFrame(
        {
            "id": _osm_ids(polygons),
            "building": _tag(polygons, "building").astype("string").to_numpy(),
            "footprint_m2": footprint,
            "levels": levels,
            "levels_source": levels_source,
            "height_m": height,
            "height_source": height_source,
            "floor_area_m2": floor_area,
            "weight": floor_area,
            "highrise": height > highrise_height_m,
        },
        geometry=(polygons.geometry if footprints else polygons.geometry.representative_point()).to_numpy(),
        crs="EPSG:4326",
    )
