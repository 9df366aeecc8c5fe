"""Folium map and GeoJSON layers of a micro-station assessment (and its siting)."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.engine import RoadIndex
from coverage.micro.assess import MicroAssessment
from coverage.outputs.maps import OfflineMap

__all__ = ["micro_layers", "micro_map", "stairs_layer"]

_OK, _LATE, _NEITHER = "#1a9850", "#fdae61", "#d73027"
_EXISTING, _PROPOSED = "#542788", "#2c7bb6"


def stairs_layer(graph, index: RoadIndex) -> gpd.GeoDataFrame:
    """Walk segments containing steps, with their seconds in each direction (network CRS).

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        The walk graph (edges carry ``stairs_m`` and the step counts).
    index : RoadIndex
        Its index (segments keep the graph edge they were built from).
    """
    stairs = np.array([float(graph.edges[key].get("stairs_m", 0) or 0)
                       for key in index.seg_edge])
    keep = np.flatnonzero(stairs > 0)
    steps = np.array([sum(float(graph.edges[index.seg_edge[i]].get(a, 0) or 0)
                          for a in ("steps_up", "steps_down", "steps_unknown")) for i in keep])
    return gpd.GeoDataFrame(
        {"name": index.seg_name[keep], "length_m": index.seg_length_m[keep],
         "stairs_m": stairs[keep], "steps": np.round(steps), "forward_s": index.seg_fwd_s[keep],
         "backward_s": index.seg_bwd_s[keep]},
        geometry=list(index.seg_geometry[keep]), crs=index.crs)


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GeoJSON can hold: minutes rounded, objects as text."""
    out = frame.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: None if v is None or (isinstance(v, float)
                                                                    and np.isnan(v)) else str(v))
    return out


def micro_layers(assessment: MicroAssessment, graph, *, combined: gpd.GeoDataFrame | None = None,
                 proposed: gpd.GeoDataFrame | None = None) -> dict[str, gpd.GeoDataFrame]:
    """The GeoJSON layers, by file stem (all in the network CRS; writers reproject)."""
    layers = {
        "micro_stations": assessment.stations,
        "key_units": assessment.key_units,
        "key_units_outside": assessment.key_units_outside,
        "micro_gaps": assessment.gaps,
        "micro_cells": assessment.cells,
        "buildings_first_water": combined if combined is not None else assessment.buildings,
        "stairs": stairs_layer(graph, assessment.index),
    }
    if proposed is not None:
        layers["proposed_micro_stations"] = proposed.to_crs(assessment.stations.crs)
    return {k: _plain(v) for k, v in layers.items() if v is not None}


def _minutes(s: float) -> str:
    return "not reached within 30 min" if not np.isfinite(s) else f"{s / 60:.1f} min"


def micro_map(assessment: MicroAssessment, graph, *, combined: gpd.GeoDataFrame | None = None,
              proposed: gpd.GeoDataFrame | None = None, area=None,
              tiles: str | None = "OpenStreetMap") -> folium.Map:
    """A Folium map: stations, key units, buildings by first water, gaps, steps.

    Layers: the district; flights of steps; buildings coloured green (first
    water within the rule), orange (later) or red (``neither``: no micro station
    and no engine in time, when ``combined`` is given); key units (circles,
    same colours, with the rule that selected them); micro stations (purple) and
    proposed ones (blue).
    """
    crs = assessment.stations.crs
    # OfflineMap: shown in Jupyter with Leaflet inlined, so the map works with no network.
    fmap = OfflineMap(tiles=tiles, control_scale=True, prefer_canvas=True)
    # Only Leaflet is used: no marker fonts, jQuery or Bootstrap to fetch or inline.
    fmap.default_js = [(k, v) for k, v in fmap.default_js if k == "leaflet"]
    fmap.default_css = [(k, v) for k, v in fmap.default_css if k == "leaflet_css"]
    frames = [assessment.stations] + ([assessment.buildings] if len(assessment.buildings) else [])
    bounds = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True)[["geometry"]],
                              crs=crs).to_crs(4326).total_bounds
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    if area is not None:
        folium.GeoJson(gpd.GeoSeries([area], crs=crs).to_crs(4326).__geo_interface__,
                       name="District", style_function=lambda _: {
                           "color": "#333", "weight": 2, "fill": False}).add_to(fmap)
    stairs = stairs_layer(graph, assessment.index)
    if len(stairs):
        folium.GeoJson(
            stairs.to_crs(4326)[["name", "steps", "length_m", "forward_s", "backward_s",
                                 "geometry"]],
            name=f"Steps ({len(stairs)} segments)", show=False,
            style_function=lambda _: {"color": "#8c510a", "weight": 3},
            tooltip=folium.GeoJsonTooltip(["name", "steps", "length_m", "forward_s", "backward_s"],
                                          aliases=["Name", "Steps", "Length m", "s one way",
                                                   "s other way"], localize=True),
        ).add_to(fmap)
    limit = assessment.standard.response_s
    view = combined if combined is not None else assessment.buildings
    group = folium.FeatureGroup(name=f"Buildings: first water ≤ {limit / 60:g} min (green), "
                                "later (orange), neither in time (red)")
    for r in view.to_crs(4326).itertuples():
        neither = bool(getattr(r, "neither", False))
        colour = _OK if r.micro_ok else (_NEITHER if neither else _LATE)
        tip = f"{r.id}: first water {_minutes(r.first_water_s)}"
        if combined is not None:
            tip += f", first engine {_minutes(r.first_engine_s)}"
        if bool(r.highrise):
            tip += " (high-rise)"
        folium.CircleMarker([r.geometry.y, r.geometry.x], radius=2.5, color=colour, weight=0,
                            fill=True, fill_opacity=0.8, tooltip=tip).add_to(group)
    group.add_to(fmap)
    keys = folium.FeatureGroup(name=f"Key units ({len(assessment.key_units)})")
    for r in assessment.key_units.to_crs(4326).itertuples():
        colour = _OK if r.micro_ok else _NEITHER
        tip = f"{r.name or r.id} [{r.rule}]: first water {_minutes(r.first_water_s)}"
        folium.CircleMarker([r.geometry.y, r.geometry.x], radius=6, color=colour, weight=2,
                            fill=False, tooltip=tip).add_to(keys)
    keys.add_to(fmap)
    existing = assessment.stations
    if proposed is not None:
        existing = existing[~existing["id"].isin(proposed["id"])]
    for frame, name, colour in ((existing, "Micro stations", _EXISTING),
                                (proposed, "Proposed micro stations", _PROPOSED)):
        if frame is None or len(frame) == 0:
            continue
        group = folium.FeatureGroup(name=f"{name} ({len(frame)})")
        for r in frame.to_crs(4326).itertuples():
            folium.CircleMarker([r.geometry.y, r.geometry.x], radius=5, color="#fff", weight=1,
                                fill=True, fill_color=colour, fill_opacity=1.0,
                                tooltip=f"{r.id}: {r.name} ({r.type}, {r.status})").add_to(group)
        group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
