"""Point layers taken from OpenStreetMap when the user has none (online)."""

from __future__ import annotations

import geopandas as gpd
import osmnx as ox
from shapely.geometry.base import BaseGeometry

from coverage.errors import InputError
from coverage.presets import STATION_TYPES

__all__ = ["fire_stations_from_osm"]


def fire_stations_from_osm(area_wgs84: BaseGeometry, *, default_type: str = "level1") -> gpd.GeoDataFrame:
    """``amenity=fire_station`` features inside ``area_wgs84`` as station points (WGS84).

    OSM does not record the station class, so every station gets
    ``default_type`` and ``type_source="assumed"``.
    """
    try:
        found = ox.features_from_polygon(area_wgs84, tags={"amenity": "fire_station"})
    except ox._errors.InsufficientResponseError:
        found = gpd.GeoDataFrame(geometry=[], crs=4326)
    if len(found) == 0:
        raise InputError(
            "OpenStreetMap has no amenity=fire_station in the study area",
            source="OpenStreetMap",
            fix="give your own station layer with --stations FILE",
        )
    found = found.reset_index()
    points = found.to_crs(found.estimate_utm_crs()).geometry.representative_point().to_crs(4326)
    names = found["name"].fillna("") if "name" in found else ""
    return gpd.GeoDataFrame(
        {
            "id": [f"osm-{t}-{i}" for t, i in zip(found["element"], found["id"], strict=True)],
            "name": names,
            "type": default_type,
            "area_cap_km2": STATION_TYPES[default_type].area_cap_km2,
            "status": "existing",
            "type_source": "assumed",
        },
        geometry=points.values,
        crs=4326,
    )
