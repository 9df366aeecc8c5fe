"""Folium maps of results, in the layer style of ArcGIS Location-Allocation / Service Area.

One map per run, every layer switchable in the layer control: roads coloured by
first-due travel time, stations by type and status, districts, service-area
rings, uncovered demand, hydrants with their protection circles, hydrant gaps,
proposed hydrants and the study boundary; with a legend, tooltips, a
fullscreen button and a scale bar. :func:`before_after_map` puts two runs side
by side (synchronised pan and zoom) for placement results.

Basemaps: OpenStreetMap (default), Amap (高德, in GCJ-02: every overlay is then
shifted WGS84 → GCJ-02 so it lands on the right street), or none (offline).

Encodings, one meaning each: colour from green to red is first-due *time*
(roads, service-area rings); station *type* is marker size and a purple/teal/
blue hue; a district *over its area cap* is a thick black dashed outline;
station *status* is the marker outline (proposed: dashed black; closed: grey);
hydrant gaps are dotted cyan. Tooltips give times, lengths and areas in a
planner's units (:mod:`coverage.outputs.words`).

:func:`map_html` renders a map to one HTML string. By default it copies the
Leaflet scripts (vendored in ``coverage/static``) into the page, so the file
works offline and where public CDNs are blocked, and refers to no local file.
The maps are :class:`OfflineMap` / :class:`OfflineDualMap`, whose Jupyter
display is that same page, so notebook maps work offline too.
"""

from __future__ import annotations

import base64
import html
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.template import Template
from matplotlib import colormaps
from matplotlib.colors import to_hex

from coverage.coordsys import from_wgs84
from coverage.errors import InputError
from coverage.outputs import words
from coverage.outputs.files import atomic_write
from coverage.outputs.layers import (
    assessment_layers,
    band_labels,
    hydrant_layers,
    service_breaks_min,
    station_changes,
)
from coverage.presets import GB50974, STATION_TYPES

__all__ = [
    "BASEMAPS",
    "DISTRICT_STYLE",
    "TYPE_COLOURS",
    "TYPE_RADIUS",
    "LAYER_NAMES",
    "Basemap",
    "OfflineDualMap",
    "OfflineMap",
    "assessment_map",
    "before_after_map",
    "coverage_map",
    "map_html",
    "new_map",
    "save_map",
]


@dataclass(frozen=True)
class Basemap:
    """A tile basemap and the coordinate system its tiles are drawn in."""

    name: str
    url: str
    attribution: str
    coord_system: str
    max_zoom: int = 19
    subdomains: str = "abc"


#: Basemap choices for ``tiles=``; ``"none"`` draws no tiles (offline use).
BASEMAPS: Mapping[str, Basemap | None] = {
    "osm": Basemap(
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "wgs84",
    ),
    "amap": Basemap(
        "高德地图 Amap",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi (GCJ-02)",
        "gcj02",
        max_zoom=18,
        subdomains="1234",
    ),
    "none": None,
}

#: Layer-control names, by layer key.
LAYER_NAMES: Mapping[str, str] = {
    "boundary": "Study boundary",
    "response_rings": "Service-area rings (first-due)",
    "districts": "Station districts",
    "no_access": "No vehicle access (车进不去)",
    "worst_first_due": "Worst first-due point",
    "highrise": "High-rises: aerial reach",
    "highrise_no_aerial_access": "High-rises with no aerial access",
    "roads": "Roads by first-due time",
    "uncovered": "Uncovered demand",
    "hydrant_gaps": "Hydrant gaps",
    "hydrants": "Hydrants (protection circles)",
    "proposed_hydrants": "Proposed hydrants",
    "stations": "Stations",
}

# One meaning, one encoding. Colour from green to red is *time* only (roads and
# rings). Station *type* is marker size and a purple-to-blue hue; a district *over
# its area cap* is a thick dashed outline; *status* is the marker's outline.
TYPE_COLOURS: Mapping[str, str] = {
    "level1": "#3f007d",
    "level2": "#6a51a3",
    "special": "#01665e",
    "small": "#4393c3",
}
#: Marker radius (px) by station type: bigger station, bigger dot.
TYPE_RADIUS: Mapping[str, int] = {"level1": 12, "level2": 10, "special": 11, "small": 7}
_OTHER_TYPE = "#555555"
_OTHER_RADIUS = 8
_UNREACHABLE = "#000000"
_STATUS_STYLE = {
    "existing": {"color": "#ffffff", "weight": 2, "fillOpacity": 0.95},
    "proposed": {"color": "#000000", "weight": 4, "fillOpacity": 0.95, "dashArray": "4 3"},
    "closed": {"color": "#777777", "weight": 2, "fillOpacity": 0.25, "dashArray": "2 3"},
}
#: District outlines: within the cap, or over it.
DISTRICT_STYLE: Mapping[str, Mapping] = {
    "within": {"color": "#4a6d8c", "weight": 1.5, "fillOpacity": 0.02},
    "over": {"color": "#111111", "weight": 4, "dashArray": "10 6", "fillColor": "#111111", "fillOpacity": 0.08},
}
_GAP_COLOUR = "#00a6ca"

# Folium asset name -> vendored file under coverage/static (see its README).
_STATIC = Path(__file__).resolve().parents[1] / "static"
_VENDORED = {
    "leaflet": "leaflet/leaflet.js",
    "leaflet_css": "leaflet/leaflet.css",
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "Leaflet.Sync": "leaflet.sync/L.Map.Sync.js",
}
_FOLIUM_ASSETS = dict(
    folium.Map.default_js + folium.Map.default_css
    + folium.plugins.Fullscreen.default_js + folium.plugins.Fullscreen.default_css
    + folium.plugins.DualMap.default_js
)
_CDN_ASSETS: Mapping[str, str] = {_FOLIUM_ASSETS[name]: path for name, path in _VENDORED.items()}
_PRECISION = 6  # decimal degrees kept in the page: 0.1 m, far below what a map shows


def _band_colours(n_bands: int) -> list[str]:
    """Green (fast) to red (slow) for the timed bands, then black for unreachable."""
    cmap = colormaps["RdYlGn_r"]
    return [to_hex(cmap(x)) for x in np.linspace(0.0, 1.0, n_bands)] + [_UNREACHABLE]


def _basemap(tiles: str | None) -> Basemap | None:
    key = "none" if tiles is None else str(tiles).lower()
    if key not in BASEMAPS:
        raise InputError(f"unknown basemap {tiles!r}", fix=f"use one of {sorted(BASEMAPS)}")
    return BASEMAPS[key]


def _for_display(gdf: gpd.GeoDataFrame, coord_system: str, columns: Sequence[str]) -> dict:
    """GeoJSON dict of the wanted columns: shifted for the basemap, rounded, simplified."""
    keep = [c for c in columns if c in gdf.columns]
    out = gdf[keep + [gdf.geometry.name]].to_crs(4326)
    if coord_system != "wgs84":
        out = from_wgs84(out, coord_system)
    geoms = out.geometry.values
    polygonal = shapely.get_type_id(geoms) >= 3
    # ~1 m in degrees: districts and rings come from many small cells.
    geoms = np.where(polygonal, shapely.simplify(geoms, 1e-5, preserve_topology=True), geoms)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, _PRECISION))
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    for col in keep:
        if out[col].dtype.kind == "f":
            out[col] = out[col].round(3).where(np.isfinite(out[col]), None)
    return json.loads(out.to_json(drop_id=True, na="null", show_bbox=False))


def _fmt_fields(fields: Sequence[tuple[str, str]], gdf: gpd.GeoDataFrame) -> tuple[list, list]:
    if len(gdf) == 0:  # folium checks the fields against the features, and there are none
        return [], []
    present = [(f, a) for f, a in fields if f in gdf.columns]
    return [f for f, _ in present], [a for _, a in present]


def _tooltip(gdf: gpd.GeoDataFrame, fields: Sequence[tuple[str, str]]) -> folium.GeoJsonTooltip | None:
    names, aliases = _fmt_fields(fields, gdf)
    return folium.GeoJsonTooltip(names, aliases=aliases, localize=True, sticky=True) if names else None


def _popup(gdf: gpd.GeoDataFrame, fields: Sequence[tuple[str, str]]) -> folium.GeoJsonPopup | None:
    names, aliases = _fmt_fields(fields, gdf)
    return folium.GeoJsonPopup(names, aliases=aliases, localize=True) if names else None


_TEXT = {"_s": words.duration, "_m": words.distance, "_km2": words.area}


def _with_text(gdf: gpd.GeoDataFrame, fields: Sequence[tuple[str, str]]):
    """Numbers in tooltips as a planner writes them: ``first_due_s`` 177.5 → "2:57 min".

    Each timed, metric or area field present gets a text twin (``<field>_text``)
    that the tooltip shows instead of the raw float.
    """
    out, shown = gdf, []
    for field, alias in fields:
        fmt = next((f for suffix, f in _TEXT.items() if field.endswith(suffix)), None)
        if fmt is None or field not in gdf.columns or gdf[field].dtype.kind not in "fiu":
            shown.append((field, alias))
            continue
        if out is gdf:
            out = gdf.copy()
        out[f"{field}_text"] = [fmt(v) for v in gdf[field]]
        shown.append((f"{field}_text", alias))
    return out, shown


def _geojson(
    gdf: gpd.GeoDataFrame,
    name: str,
    coord_system: str,
    style,
    *,
    tooltip: Sequence[tuple[str, str]] = (),
    popup: Sequence[tuple[str, str]] = (),
    style_columns: Sequence[str] = (),
    marker: folium.Circle | folium.CircleMarker | None = None,
    show: bool = True,
) -> folium.GeoJson:
    gdf, tooltip = _with_text(gdf, tooltip)
    gdf, popup = _with_text(gdf, popup)
    columns = list(dict.fromkeys([f for f, _ in tooltip] + [f for f, _ in popup] + list(style_columns)))
    return folium.GeoJson(
        _for_display(gdf, coord_system, columns),
        name=name,
        style_function=style,
        tooltip=_tooltip(gdf, tooltip),
        popup=_popup(gdf, popup),
        # Every point gets a vector marker: Leaflet's default image marker needs image files.
        marker=marker or folium.CircleMarker(radius=4, fill=True),
        show=show,
        smooth_factor=0.5,
    )


def _station_label(row) -> str:
    """Stations are labelled by name (new sites: ``"嘉滨路 (new small station 1)"``), else id."""
    name = row.get("name")
    text = name if isinstance(name, str) and name.strip() else row.get("id", "")
    return html.escape(str(text))


def _status_of(stations: gpd.GeoDataFrame) -> np.ndarray:
    if "status" not in stations:
        return np.full(len(stations), "existing", dtype=object)
    return stations["status"].fillna("existing").astype(str).str.lower().to_numpy()


class _Legend(MacroElement):
    """A static HTML legend as a Leaflet control (no extra scripts)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "sc-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableScrollPropagation(div);
                L.DomEvent.disableClickPropagation(div);
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        {% macro header(this, kwargs) %}
        <style>
        .sc-legend {background: rgba(255,255,255,0.92); padding: 6px 9px; font: 12px/1.35 sans-serif;
                    border-radius: 4px; box-shadow: 0 0 6px rgba(0,0,0,0.3); max-height: 55vh; overflow-y: auto;}
        .sc-legend summary {cursor: pointer; font-size: 13px;}
        .sc-legend h5 {margin: 6px 0 2px; font-size: 12px;}
        .sc-legend .sw {display: inline-block; width: 18px; height: 10px; margin-right: 5px; vertical-align: middle;}
        .sc-legend .ln {display: inline-block; width: 18px; height: 0; border-top: 4px solid; margin-right: 5px;
                        vertical-align: middle;}
        .sc-legend .dot {display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 5px;
                         vertical-align: middle; border: 2px solid #000;}
        .sc-label {font: bold 11px sans-serif; color: #111; text-shadow: 0 0 3px #fff, 0 0 3px #fff;
                   white-space: nowrap;}
        </style>
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str) -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html_text


def _legend_html(title: str, labels: list[str], colours: list[str], layers: Mapping, radius_m: float) -> str:
    parts = [f"<details open><summary><b>{html.escape(title)}</b></summary>"]
    if "roads" in layers:
        parts.append("<h5>Roads: first-due travel time</h5>")
        parts += [
            f'<div><span class="ln" style="border-color:{c}"></span>{html.escape(lab)}</div>'
            for lab, c in zip(labels, colours, strict=True)
        ]
    if "response_rings" in layers:
        parts.append("<h5>Service-area rings (first-due, all stations)</h5>")
        parts += [
            f'<div><span class="sw" style="background:{c};opacity:0.6"></span>{html.escape(lab)}</div>'
            for lab, c in zip(labels[:-1], colours[:-1], strict=True)
        ]
    if "stations" in layers:
        st = layers["stations"]
        types = sorted(set(st["type"].astype(str))) if "type" in st else []
        parts.append("<h5>Stations: type by size and hue</h5>")
        for t in types:
            zh = STATION_TYPES[t].name_zh if t in STATION_TYPES else ""
            colour = TYPE_COLOURS.get(t, _OTHER_TYPE)
            size = 2 * TYPE_RADIUS.get(t, _OTHER_RADIUS)
            parts.append(f'<div><span class="dot" style="background:{colour};width:{size}px;height:{size}px;'
                         f'border-color:{colour}"></span>{html.escape(t)} {zh}</div>')
        for status in sorted(set(_status_of(st))):
            s = _STATUS_STYLE.get(status, _STATUS_STYLE["existing"])
            dash = "dashed" if "dashArray" in s else "solid"
            edge = "#000" if s["color"] == "#ffffff" else s["color"]
            parts.append(
                f'<div><span class="dot" style="background:#bbb;border:2px {dash} {edge}"></span>'
                f"{html.escape(status)}</div>"
            )
    if "districts" in layers:
        over, within = DISTRICT_STYLE["over"], DISTRICT_STYLE["within"]
        parts.append(
            "<h5>Station districts</h5>"
            f'<div><span class="sw" style="border:3px dashed {over["color"]}"></span>over its area cap '
            "(建标152)</div>"
            f'<div><span class="sw" style="border:1px solid {within["color"]}"></span>within its cap</div>'
        )
    if {"hydrants", "proposed_hydrants", "hydrant_gaps"} & set(layers):
        parts.append("<h5>Hydrants</h5>")
        if "hydrants" in layers:
            parts.append(f'<div><span class="dot" style="background:#1f78b4;border-color:#1f78b4"></span>'
                         f"hydrant, {radius_m:g} m circle</div>")
        if "proposed_hydrants" in layers:
            parts.append('<div><span class="dot" style="background:#33a02c;border:2px dashed #33a02c"></span>'
                         "proposed hydrant</div>")
        if "hydrant_gaps" in layers:
            parts.append(f'<div><span class="ln" style="border-top:4px dotted {_GAP_COLOUR}"></span>'
                         "hydrant gap</div>")
    if "uncovered" in layers:
        parts.append('<div><span class="dot" style="background:#000;width:6px;height:6px"></span>'
                     "uncovered demand point</div>")
    return "".join(parts) + "</details>"


_HYDRANT_FIELDS = ("id", "status", "type", "source", "name", "highway", "road", "length_m", "gap_m", "spacing_m")


def _hydrant_fields(layer: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    """Tooltip fields of a hydrant layer: the usual ones it has, else its first columns."""
    known = [(c, c.replace("_", " ")) for c in _HYDRANT_FIELDS if c in layer.columns]
    other = [(c, c) for c in layer.columns if c != layer.geometry.name and layer[c].dtype.kind in "biufO"]
    return known or other[:6]


def _out_of_service(props: Mapping) -> bool:
    return props.get("in_service") is False or props.get("status") == "out_of_service"


def _add_layers(
    fmap: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    breaks_min: Sequence[float],
    coord_system: str,
    hydrant_radius_m: float,
) -> None:
    """Draw every layer present in ``layers`` onto ``fmap``, bottom to top."""
    colours = _band_colours(len(breaks_min) + 1)

    if "boundary" in layers:
        _geojson(
            layers["boundary"], LAYER_NAMES["boundary"], coord_system,
            lambda f: {"color": "#222222", "weight": 2.5, "dashArray": "6 4", "fill": False},
            tooltip=[("name", "Boundary"), ("area_km2", "Area")],
        ).add_to(fmap)

    if "response_rings" in layers:
        rings = layers["response_rings"].copy()
        rings["band_index"] = np.arange(len(rings))
        _geojson(
            rings, LAYER_NAMES["response_rings"], coord_system,
            lambda f: {"color": colours[f["properties"]["band_index"]], "weight": 0.5,
                       "fillColor": colours[f["properties"]["band_index"]], "fillOpacity": 0.35},
            tooltip=[("from_min", "From min"), ("to_min", "To min"), ("area_km2", "Area")],
            style_columns=["band_index"], show=False,
        ).add_to(fmap)

    if "districts" in layers:
        fields = [
            ("name", "Station"), ("station_id", "Id"), ("type", "Type"),
            ("district_km2", "District"), ("area_cap_km2", "Area cap"), ("over_cap", "Over cap"),
            ("protection_radius_m", "Protection radius"),
        ]
        _geojson(
            layers["districts"], LAYER_NAMES["districts"], coord_system,
            lambda f: dict(DISTRICT_STYLE["over" if f["properties"].get("over_cap") else "within"]),
            tooltip=fields[:1] + fields[3:6], popup=fields, style_columns=["over_cap"],
        ).add_to(fmap)

    names = _station_names(layers)
    _access_overlays(fmap, layers, coord_system)

    if "roads" in layers:
        _geojson(
            _named(layers["roads"], names), LAYER_NAMES["roads"], coord_system,
            lambda f: {"color": colours[min(f["properties"]["band_index"], len(colours) - 1)],
                       "weight": 3.5, "opacity": 0.9},
            tooltip=[("road_name", "Road"), ("first_due_s", "First-due travel"),
                     ("first_due_name", "From station"), ("band", "Band")],
            style_columns=["band_index"],
        ).add_to(fmap)

    if "uncovered" in layers:
        _geojson(
            _named(layers["uncovered"], names), LAYER_NAMES["uncovered"], coord_system,
            lambda f: {"color": "#000000", "fillColor": "#000000", "weight": 0, "fillOpacity": 0.8},
            tooltip=[("first_due_s", "First-due travel"), ("first_due_name", "From station"),
                     ("second_due_s", "Second-due travel"), ("weight", "Weight")],
            marker=folium.CircleMarker(radius=2, fill=True), show=False,
        ).add_to(fmap)

    if "hydrant_gaps" in layers:
        gaps = layers["hydrant_gaps"]
        _geojson(
            gaps, LAYER_NAMES["hydrant_gaps"], coord_system,
            lambda f: {"color": _GAP_COLOUR, "weight": 5, "opacity": 0.9, "dashArray": "2 7",
                       "fillColor": _GAP_COLOUR, "fillOpacity": 0.3},
            tooltip=_hydrant_fields(gaps),
        ).add_to(fmap)

    for key, colour, dash in (("hydrants", "#1f78b4", None), ("proposed_hydrants", "#33a02c", "4 3")):
        if key not in layers:
            continue
        layer = layers[key]
        group = folium.FeatureGroup(name=LAYER_NAMES[key], show=True)
        fields = _hydrant_fields(layer)

        def circle_style(f, colour=colour, dash=dash):
            off = _out_of_service(f["properties"])
            style = {"color": "#888888" if off else colour, "weight": 1, "fillOpacity": 0.07}
            return {**style, "dashArray": dash} if dash else style

        def point_style(f, colour=colour):
            off = _out_of_service(f["properties"])
            c = "#888888" if off else colour
            return {"color": "#ffffff", "weight": 1, "fillColor": c, "fillOpacity": 1.0}

        status_col = [c for c in ("in_service", "status") if c in layer.columns]
        _geojson(
            layer, f"{key} circles", coord_system, circle_style, style_columns=status_col,
            marker=folium.Circle(radius=hydrant_radius_m, fill=True),
        ).add_to(group)
        _geojson(
            layer, f"{key} points", coord_system, point_style, tooltip=fields,
            style_columns=status_col, marker=folium.CircleMarker(radius=4, fill=True),
        ).add_to(group)
        group.add_to(fmap)

    if "stations" in layers:
        st = layers["stations"].copy()
        st["status"] = _status_of(st)
        group = folium.FeatureGroup(name=LAYER_NAMES["stations"], show=True)

        def station_style(f):
            p = f["properties"]
            s = _STATUS_STYLE.get(p.get("status"), _STATUS_STYLE["existing"])
            fill = TYPE_COLOURS.get(p.get("type"), _OTHER_TYPE)
            return {**s, "fillColor": "#bbbbbb" if p.get("status") == "closed" else fill,
                    "radius": TYPE_RADIUS.get(p.get("type"), _OTHER_RADIUS)}

        _geojson(
            st, "station points", coord_system, station_style,
            tooltip=[("name", "Station"), ("id", "Id"), ("type", "Type"), ("status", "Status"),
                     ("district_km2", "District"), ("area_cap_km2", "Area cap"),
                     ("protection_radius_m", "Protection radius"),
                     ("max_first_due_s", "Slowest first-due")],
            style_columns=["type", "status"], marker=folium.CircleMarker(radius=_OTHER_RADIUS, fill=True),
        ).add_to(group)
        shown = from_wgs84(st.to_crs(4326), coord_system) if coord_system != "wgs84" else st.to_crs(4326)
        for (_, row), point in zip(shown.iterrows(), shown.geometry, strict=True):
            folium.Marker(
                [point.y, point.x],
                icon=folium.DivIcon(html=f'<div class="sc-label">{_station_label(row)}</div>',
                                    icon_size=(60, 14), icon_anchor=(-10, 7)),
                interactive=False,
            ).add_to(group)
        group.add_to(fmap)


def _station_names(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, str]:
    st = layers.get("stations")
    if st is None or "name" not in st:
        return {}
    return {str(i): str(n) for i, n in zip(st["id"], st["name"], strict=True) if isinstance(n, str) and n}


def _named(layer: gpd.GeoDataFrame, names: Mapping[str, str]) -> gpd.GeoDataFrame:
    """Add ``first_due_name``: the first-due station's name, for tooltips."""
    if "first_due_station" not in layer:
        return layer
    ids = layer["first_due_station"].astype(object)
    return layer.assign(first_due_name=[names.get(str(i), i) if isinstance(i, str) and i else None for i in ids])
def _access_overlays(fmap, layers: Mapping[str, gpd.GeoDataFrame], coord_system: str) -> None:
    """No-vehicle-access zones (hatched grey) and the worst first-due point, when present."""
    if "no_access" in layers and len(layers["no_access"]):
        fields = [("zone", "Zone"), ("area_km2", "Area")]
        if "buildings" in layers["no_access"]:
            fields.append(("buildings", "Buildings"))
        _geojson(
            layers["no_access"], LAYER_NAMES["no_access"], coord_system,
            lambda f: {"color": "#444444", "weight": 1, "fillColor": "#444444", "fillOpacity": 0.35},
            tooltip=fields,
        ).add_to(fmap)
    hr_fields = [("id", "Building"), ("height_m", "Height"), ("class", "Class"),
                 ("aerial_first_due_s", "Aerial first-due"), ("aerial_station", "Aerial from"),
                 ("aerial_access", "Road within working distance"), ("in_no_access", "In no-access zone")]
    if "highrise" in layers and len(layers["highrise"]):
        _geojson(
            layers["highrise"], LAYER_NAMES["highrise"], coord_system,
            # Purple/green, not the travel-time ramp: red means travel time only on this map.
            lambda f: {"color": "#1b7837" if f["properties"].get("aerial_in_time") else "#762a83",
                       "weight": 1, "fillOpacity": 0.6},
            tooltip=[f for f in hr_fields if f[0] in layers["highrise"]], style_columns=["aerial_in_time"],
        ).add_to(fmap)
    if "highrise_no_aerial_access" in layers and len(layers["highrise_no_aerial_access"]):
        _geojson(
            layers["highrise_no_aerial_access"], LAYER_NAMES["highrise_no_aerial_access"], coord_system,
            lambda f: {"color": "#000000", "weight": 3, "fillOpacity": 0.0},
            tooltip=[f for f in hr_fields if f[0] in layers["highrise_no_aerial_access"]], show=False,
        ).add_to(fmap)
    if "worst_first_due" in layers and len(layers["worst_first_due"]):
        _geojson(
            layers["worst_first_due"], LAYER_NAMES["worst_first_due"], coord_system,
            lambda f: {"color": "#ffffff", "weight": 2, "fillColor": "#e7298a", "fillOpacity": 1.0},
            tooltip=[("first_due_s", "First-due travel"), ("station_id", "From station"),
                     ("access_road_name", "Reached from road"), ("on_foot_m", "On foot")],
            marker=folium.CircleMarker(radius=8, fill=True),
        ).add_to(fmap)


def _bounds(layers: Mapping[str, gpd.GeoDataFrame], coord_system: str) -> list[list[float]] | None:
    frames = [layers[k] for k in ("boundary", "stations", "districts", "hydrants") if k in layers]
    frames = [f for f in frames if len(f)]
    if not frames:
        return None
    shown = [from_wgs84(f.to_crs(4326), coord_system) if coord_system != "wgs84" else f.to_crs(4326)
             for f in frames]
    box = np.array([f.total_bounds for f in shown])
    return [[float(box[:, 1].min()), float(box[:, 0].min())], [float(box[:, 3].max()), float(box[:, 2].max())]]


def _notebook_iframe(page: str) -> str:
    """The iframe Jupyter shows for a map page (as folium does, but with the page given)."""
    return (
        '<div style="width:100%;"><div style="position:relative;width:100%;height:0;padding-bottom:60%;">'
        f'<iframe srcdoc="{html.escape(page)}" style="position:absolute;width:100%;height:100%;left:0;top:0;'
        'border:none !important;" allowfullscreen webkitallowfullscreen mozallowfullscreen></iframe>'
        "</div></div>"
    )


class OfflineMap(folium.Map):
    """A folium map that shows in Jupyter with Leaflet inlined: it works with no network.

    folium's own notebook display links Leaflet from public CDNs, so the map is
    blank offline or behind a firewall; this one renders :func:`map_html`.
    """

    def _repr_html_(self, **kwargs) -> str:
        return _notebook_iframe(map_html(self))


class OfflineDualMap(folium.plugins.DualMap):
    """:class:`folium.plugins.DualMap` with the offline notebook display of :class:`OfflineMap`."""

    def _repr_html_(self, **kwargs) -> str:
        return _notebook_iframe(map_html(self))


def new_map(tiles: str | None = "osm", **kwargs) -> OfflineMap:
    """An empty :class:`OfflineMap` with the project's basemap choice and only Leaflet's own assets.

    Parameters
    ----------
    tiles : {"osm", "amap", "none"}
        Basemap (see :data:`BASEMAPS`).
    **kwargs
        Passed to :class:`folium.Map` (e.g. ``location``, ``zoom_start``).
    """
    return _new_map(_basemap(tiles), **kwargs)


def _new_map(basemap: Basemap | None, **kwargs) -> OfflineMap:
    fmap = OfflineMap(tiles=None, control_scale=True, prefer_canvas=True, **kwargs)
    _strip_unused_assets(fmap)
    if basemap is not None:
        folium.TileLayer(
            basemap.url, attr=basemap.attribution, name=basemap.name,
            max_zoom=basemap.max_zoom, subdomains=basemap.subdomains,
        ).add_to(fmap)
    return fmap


def _strip_unused_assets(fmap: folium.Map) -> None:
    """Only Leaflet itself: no marker icon fonts, jQuery or Bootstrap are used here."""
    fmap.default_js = [(k, v) for k, v in fmap.default_js if k == "leaflet"]
    fmap.default_css = [(k, v) for k, v in fmap.default_css if k == "leaflet_css"]


def _decorate(fmap: folium.Map, legend: str, *, collapsed: bool = False) -> None:
    folium.plugins.Fullscreen(position="topleft").add_to(fmap)
    _Legend(legend).add_to(fmap)
    folium.LayerControl(collapsed=collapsed, position="topright").add_to(fmap)


def _layers(assessment, hydrants, extra: Mapping[str, gpd.GeoDataFrame] | None) -> dict:
    layers: dict[str, gpd.GeoDataFrame] = {}
    if assessment is not None:
        # Layers passed in are not rebuilt (the roads layer is the costly one).
        layers.update(assessment_layers(assessment, roads="roads" not in (extra or {})))
    if hydrants is not None:
        layers.update(hydrant_layers(hydrants))
    if extra:
        for key, layer in extra.items():
            if key not in LAYER_NAMES:
                raise InputError(f"unknown map layer {key!r}", fix=f"use one of {sorted(LAYER_NAMES)}")
            layers[key] = layer.to_crs(4326)
    return layers


def coverage_map(
    assessment=None,
    *,
    hydrants=None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    tiles: str | None = "osm",
    title: str | None = None,
    hydrant_radius_m: float = GB50974.protection_radius_m,
) -> folium.Map:
    """One interactive map of a run, with every result layer switchable.

    Parameters
    ----------
    assessment : Assessment, optional
        Gives the boundary, stations, districts, service-area rings, roads by
        first-due time and uncovered demand.
    hydrants : mapping or object, optional
        Hydrant results (see :func:`coverage.outputs.layers.hydrant_layers`):
        ``hydrants``, ``gaps``, ``proposed``. Points may carry ``in_service``.
    layers : mapping of str to GeoDataFrame, optional
        Extra or replacement layers by key of :data:`LAYER_NAMES` (any CRS),
        e.g. ``{"boundary": district}`` for a hydrant-only map.
    tiles : {"osm", "amap", "none"}
        Basemap. ``"amap"`` tiles are GCJ-02, so every overlay is shifted
        WGS84 → GCJ-02; ``"none"`` needs no network.
    title : str, optional
        Legend heading; default from the assessment's standard.
    hydrant_radius_m : float
        Radius of the hydrant circles, m (GB 50974-2014 §7.2.5: 150 m).

    Returns
    -------
    OfflineMap
        A :class:`folium.Map`. Save it with :func:`save_map`; in Jupyter it
        displays inline, with Leaflet inlined (no network needed).
    """
    basemap = _basemap(tiles)
    coord_system = basemap.coord_system if basemap else "wgs84"
    found = _layers(assessment, hydrants, layers)
    if not found:
        raise InputError("nothing to map", fix="pass an assessment, hydrant results or layers")
    breaks = service_breaks_min(assessment) if assessment is not None else [2.0, 3.0, 4.0, 5.0]
    fmap = _new_map(basemap)
    _add_layers(fmap, found, breaks_min=breaks, coord_system=coord_system, hydrant_radius_m=hydrant_radius_m)
    if title is None:
        title = _title(assessment)
    _decorate(fmap, _legend_html(title, band_labels(breaks), _band_colours(len(breaks) + 1), found,
                                 hydrant_radius_m))
    bounds = _bounds(found, coord_system)
    if bounds:
        fmap.fit_bounds(bounds)
    return fmap


def _title(assessment) -> str:
    if assessment is None:
        return "Hydrant compliance"
    m = assessment.metrics
    return (f"{assessment.standard.name}: {words.share(m['coverage_share'])} covered within "
            f"{words.duration(assessment.standard.travel_threshold_s)}")


def assessment_map(assessment, *, tiles: str | None = "osm") -> folium.Map:
    """The map of an :class:`~coverage.assess.Assessment` (see :func:`coverage_map`)."""
    return coverage_map(assessment, tiles=tiles)


def before_after_map(
    before,
    after,
    *,
    hydrants=None,
    tiles: str | None = "osm",
    labels: tuple[str, str] = ("Before", "After"),
) -> folium.plugins.DualMap:
    """Two synchronised maps side by side: before and after a placement run.

    Parameters
    ----------
    before, after : Assessment
        Assessments of the same district before and after; stations present
        only in ``after`` are drawn as ``proposed``, those present only in
        ``before`` as ``closed`` on the right-hand map.
    hydrants : optional
        Hydrant results drawn on both maps.
    tiles : {"osm", "amap", "none"}
    labels : (str, str)
        Headings of the two maps.

    Returns
    -------
    OfflineDualMap
        A :class:`folium.plugins.DualMap` that displays offline in Jupyter.
    """
    basemap = _basemap(tiles)
    coord_system = basemap.coord_system if basemap else "wgs84"
    dual = OfflineDualMap(tiles=None, control_scale=True, prefer_canvas=True)
    for m in (dual.m1, dual.m2):
        _strip_unused_assets(m)
        if basemap is not None:
            folium.TileLayer(basemap.url, attr=basemap.attribution, name=basemap.name,
                             max_zoom=basemap.max_zoom, subdomains=basemap.subdomains).add_to(m)
    sides = []
    for assessment, label, m in ((before, labels[0], dual.m1), (after, labels[1], dual.m2)):
        found = _layers(assessment, hydrants, None)
        if assessment is after:
            before_st = assessment_layers(before, roads=False)["stations"]
            found["stations"] = station_changes(before_st, found["stations"])
        breaks = service_breaks_min(assessment)
        _add_layers(m, found, breaks_min=breaks, coord_system=coord_system,
                    hydrant_radius_m=GB50974.protection_radius_m)
        title = f"{label} — {_title(assessment)}"
        _decorate(m, _legend_html(title, band_labels(breaks), _band_colours(len(breaks) + 1), found,
                                  GB50974.protection_radius_m), collapsed=True)
        sides.append(found)
    bounds = _bounds(sides[0], coord_system)
    if bounds:
        dual.fit_bounds(bounds)
    return dual


def _inline_asset(url: str) -> str:
    path = _STATIC / _CDN_ASSETS[url]
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".css":
        return text.replace("</script", "<\\/script")

    def data_uri(match: re.Match) -> str:
        target = (path.parent / match.group(2)).resolve()
        if not target.is_file() or _STATIC.resolve() not in target.parents:
            return match.group(0)
        mime = "image/svg+xml" if target.suffix == ".svg" else "image/png"
        payload = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url({match.group(1)}data:{mime};base64,{payload}{match.group(1)})"

    return re.sub(r"""url\((['"]?)([^)'"#:]+)\1\)""", data_uri, text)


def map_html(fmap: folium.Map | folium.plugins.DualMap, *, assets: str = "inline") -> str:
    """Render a map to one self-contained HTML page.

    Parameters
    ----------
    fmap : folium.Map or DualMap
    assets : {"inline", "cdn"}
        ``"inline"`` (default) copies the Leaflet scripts and styles into the
        page (about 190 kB) so it works offline; ``"cdn"`` links them from
        public CDNs, as folium does.

    Returns
    -------
    str
        The HTML. It never refers to a local file; only basemap tiles (and,
        with ``"cdn"``, the scripts) come from the network.
    """
    if assets not in ("inline", "cdn"):
        raise InputError(f"unknown assets mode {assets!r}", fix="use 'inline' or 'cdn'")
    page = fmap.get_root().render()
    if assets == "cdn":
        return page

    def inline(match: re.Match, tag: str) -> str:
        url = match.group(1)
        if url not in _CDN_ASSETS or not (_STATIC / _CDN_ASSETS[url]).is_file():
            # A plugin added by the caller, or an install without coverage/static: keep the link.
            warnings.warn(f"map asset {url} is not vendored here; the page needs the network for it",
                          stacklevel=4)
            return match.group(0)
        return f"<{tag}>{_inline_asset(url)}</{tag}>"

    page = re.sub(r'<script src="([^"]+)"></script>', lambda m: inline(m, "script"), page)
    return re.sub(r'<link rel="stylesheet" href="([^"]+)"/>', lambda m: inline(m, "style"), page)


def save_map(fmap: folium.Map | folium.plugins.DualMap, path: str | Path, *, assets: str = "inline") -> Path:
    """Write :func:`map_html` of ``fmap`` to ``path`` atomically."""
    return atomic_write(path, map_html(fmap, assets=assets))
