"""Folium maps of results (HTML, self-contained apart from the basemap tiles)."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
from branca.colormap import LinearColormap

__all__ = ["assessment_map"]

_TIME_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]


def _layer(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(4326)


def assessment_map(assessment, *, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """A first Folium map of an :class:`~coverage.assess.Assessment`.

    Layers: demand points coloured by first-due travel time, districts with area
    and cap, service areas, stations, and the boundary; with a layer control.
    """
    std = assessment.standard
    boundary = gpd.GeoSeries([assessment.network.boundary], crs=assessment.network.crs).to_crs(4326)
    minx, miny, maxx, maxy = boundary.total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])

    folium.GeoJson(
        boundary.__geo_interface__,
        name="Study boundary",
        style_function=lambda _: {"color": "#333", "weight": 2, "fill": False},
    ).add_to(fmap)

    districts = _layer(assessment.districts)
    folium.GeoJson(
        districts,
        name="Districts (network Voronoi)",
        style_function=lambda f: {
            "color": "#d73027" if f["properties"]["over_cap"] else "#4575b4",
            "weight": 2,
            "fillOpacity": 0.08,
        },
        tooltip=folium.GeoJsonTooltip(
            ["station_id", "type", "district_km2", "area_cap_km2", "protection_radius_m"],
            aliases=["Station", "Type", "District km²", "Cap km²", "Protection radius m"],
            localize=True,
        ),
    ).add_to(fmap)

    areas = _layer(assessment.service_areas)
    group = folium.FeatureGroup(name="Service areas", show=False)
    for row in areas.sort_values("to_min", ascending=False).itertuples():
        folium.GeoJson(
            row.geometry.__geo_interface__,
            style_function=lambda _, m=row.to_min: {
                "color": "#555", "weight": 0.5, "fillOpacity": 0.06 + 0.02 * (5 - min(m, 5)),
            },
            tooltip=f"{row.station_id}: ≤ {row.to_min:g} min",
        ).add_to(group)
    group.add_to(fmap)

    demand = _layer(assessment.demand)
    vmax = max(std.travel_threshold_s * 2, 1.0)
    cmap = LinearColormap(_TIME_COLOURS, vmin=0, vmax=vmax, caption="First-due travel time (s)")
    group = folium.FeatureGroup(name="Demand: first-due time")
    for pt, t, sid in zip(demand.geometry, demand["first_due_s"], demand["first_due_station"], strict=True):
        colour = cmap(min(t, vmax)) if np.isfinite(t) else "#000000"
        folium.CircleMarker(
            [pt.y, pt.x], radius=2, color=colour, fill=True, fill_opacity=0.9, weight=0,
            tooltip=f"{t:.0f} s from {sid}",
        ).add_to(group)
    group.add_to(fmap)
    cmap.add_to(fmap)

    stations = _layer(assessment.stations)
    group = folium.FeatureGroup(name="Stations")
    for r in stations.itertuples():
        folium.Marker(
            [r.geometry.y, r.geometry.x],
            tooltip=(
                f"{r.id} {r.name} ({r.type}): district {r.district_km2:.2f} km² "
                f"(cap {r.area_cap_km2:g}), radius {r.protection_radius_m:.0f} m"
            ),
            icon=folium.Icon(color="red", icon="fire", prefix="fa"),
        ).add_to(group)
    group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
