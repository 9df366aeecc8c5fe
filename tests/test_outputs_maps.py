"""Folium maps of a real Yuzhong assessment: layers, basemaps, GCJ-02 shift, size, no local files."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage.assess import assess
from coverage.coordsys import wgs84_to_gcj02
from coverage.errors import InputError
from coverage.outputs import words
from coverage.outputs.maps import (
    _CDN_ASSETS,
    LAYER_NAMES,
    before_after_map,
    coverage_map,
    map_html,
    save_map,
)
from coverage.presets import GB50974


@pytest.fixture(scope="module")
def before(yuzhong_assessment):
    return yuzhong_assessment


@pytest.fixture(scope="module")
def after(yuzhong_network, yuzhong_index, before):
    """Baseline minus S4 plus one synthetic new small station: one closed, one proposed."""
    st = before.stations[["id", "name", "type", "status", "geometry"]]
    st = st[st["id"] != "S4"]
    new = gpd.GeoDataFrame(
        {"id": ["N1"], "name": ["synthetic new"], "type": ["small"], "status": ["existing"]},
        geometry=[shapely.Point(before.demand.geometry.iloc[len(before.demand) // 3].coords[0])],
        crs=st.crs,
    )
    stations = gpd.GeoDataFrame(gpd.pd.concat([st, new], ignore_index=True), crs=st.crs)
    return assess(yuzhong_network, stations, index=yuzhong_index, demand=before.demand_set)


def synthetic_hydrants(assessment) -> dict:
    """Made-up hydrant layers on real Yuzhong roads (Yuzhong has no hydrant data)."""
    pts = assessment.demand.geometry.iloc[::200]
    hydrants = gpd.GeoDataFrame(
        {"id": [f"H{i}" for i in range(len(pts))], "in_service": [i % 5 != 0 for i in range(len(pts))]},
        geometry=pts.values, crs=assessment.demand.crs,
    )
    gaps = gpd.GeoDataFrame({"gap_m": [300.0]}, geometry=[shapely.LineString(
        [assessment.demand.geometry.iloc[10].coords[0], assessment.demand.geometry.iloc[20].coords[0]]
    )], crs=assessment.demand.crs)
    proposed = gpd.GeoDataFrame({"id": ["PH1", "PH2"]}, geometry=assessment.demand.geometry.iloc[[5, 500]].values,
                                crs=assessment.demand.crs)
    return {"hydrants": hydrants, "gaps": gaps, "proposed": proposed}


def _geojsons(element) -> dict[str, folium.GeoJson]:
    """Every GeoJson under a folium element, by layer name."""
    found = {}
    for child in element._children.values():
        if isinstance(child, folium.GeoJson):
            found[child.layer_name] = child
        found.update(_geojsons(child))
    return found


def _child(element, kind):
    """The first child of a folium element of the given class (its tooltip or popup)."""
    return next(c for c in element._children.values() if isinstance(c, kind))


def _overlay_names(fmap) -> set[str]:
    return {c.layer_name for c in fmap._children.values()
            if isinstance(c, (folium.GeoJson, folium.FeatureGroup))}


def test_map_has_every_layer_and_only_web_references(before):
    fmap = coverage_map(before, hydrants=synthetic_hydrants(before))
    # High-rise layers need buildings (tests/test_assess_highrise.py); everything else is here.
    highrise = {LAYER_NAMES["highrise"], LAYER_NAMES["highrise_no_aerial_access"]}
    assert _overlay_names(fmap) == set(LAYER_NAMES.values()) - highrise
    page = map_html(fmap)
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert all(r.startswith(("https://", "data:", "#")) for r in refs), refs
    assert "<script src=" not in page and 'rel="stylesheet"' not in page
    assert "file:" not in page and "/tmp/" not in page and "../" not in page


def test_yuzhong_map_stays_small(before, tmp_path):
    path = save_map(coverage_map(before), tmp_path / "map.html")
    assert path.stat().st_size < 3_000_000


def test_cdn_mode_links_exactly_the_vendored_assets(before):
    page = map_html(coverage_map(before, tiles="none"), assets="cdn")
    links = set(re.findall(r'<script src="([^"]+)"', page)) | set(re.findall(r'<link rel="stylesheet" href="([^"]+)"', page))
    # Every script the page needs is one we ship, so the inline page is complete.
    assert links <= set(_CDN_ASSETS)
    assert any("leaflet.js" in u for u in links) and any("FullScreen" in u for u in links)


def test_tooltips_carry_the_numbers_in_planner_units(before):
    """Regression: tooltips showed raw floats ("First-due s 177.499")."""
    layers = _geojsons(coverage_map(before))
    station_fields = _child(layers["station points"], folium.GeoJsonTooltip).fields
    for f in ("name", "type", "district_km2_text", "protection_radius_m_text", "max_first_due_s_text"):
        assert f in station_fields
    props = layers["station points"].data["features"][0]["properties"]
    row = before.stations.set_index("id").loc[props["id"]]
    assert props["district_km2_text"] == words.area(row["district_km2"])
    assert props["max_first_due_s_text"] == words.duration(row["max_first_due_s"])
    assert re.fullmatch(r"\d+:\d\d min|\d+ s", props["max_first_due_s_text"])
    assert re.fullmatch(r"\d+ m|\d+\.\d km", props["protection_radius_m_text"])
    district_popup = _child(layers[LAYER_NAMES["districts"]], folium.GeoJsonPopup).fields
    assert "district_km2_text" in district_popup and "area_cap_km2_text" in district_popup
    roads = layers[LAYER_NAMES["roads"]]
    assert "first_due_s_text" in _child(roads, folium.GeoJsonTooltip).fields
    road = roads.data["features"][0]["properties"]
    assert road["first_due_name"] in set(before.stations["name"])
    aliases = " ".join(_child(roads, folium.GeoJsonTooltip).aliases)
    assert "First-due s" not in aliases and "First-due travel" in aliases


def test_amap_shifts_every_overlay_to_gcj02(before):
    osm = _geojsons(coverage_map(before, tiles="osm"))
    amap_map = coverage_map(before, tiles="amap")
    amap = _geojsons(amap_map)
    a = np.array([f["geometry"]["coordinates"] for f in osm["station points"].data["features"]])
    b = np.array([f["geometry"]["coordinates"] for f in amap["station points"].data["features"]])
    lon, lat = wgs84_to_gcj02(a[:, 0], a[:, 1])
    assert np.allclose(b[:, 0], lon, atol=1e-6) and np.allclose(b[:, 1], lat, atol=1e-6)
    assert np.allclose(b - a, [0.0037, -0.0029], atol=0.0004)  # Yuzhong's shift (SOURCES.md)
    ring_osm = np.array(osm[LAYER_NAMES["boundary"]].data["features"][0]["geometry"]["coordinates"][0])
    ring_amap = np.array(amap[LAYER_NAMES["boundary"]].data["features"][0]["geometry"]["coordinates"][0])
    assert np.allclose((ring_amap - ring_osm).mean(axis=0), [0.0037, -0.0029], atol=0.0004)
    tiles = [c for c in amap_map._children.values() if isinstance(c, folium.TileLayer)]
    assert len(tiles) == 1 and "autonavi" in tiles[0].tiles


def test_no_tiles_for_offline(before):
    fmap = coverage_map(before, tiles="none")
    assert not [c for c in fmap._children.values() if isinstance(c, folium.TileLayer)]
    assert "tile.openstreetmap" not in map_html(fmap)
    with pytest.raises(InputError, match="basemap"):
        coverage_map(before, tiles="google")


def test_hydrant_circles_use_the_gb50974_radius(before):
    layers = _geojsons(coverage_map(before, hydrants=synthetic_hydrants(before)))
    circles = layers["hydrants circles"]
    assert isinstance(circles.marker, folium.Circle)
    assert circles.marker.options["radius"] == GB50974.protection_radius_m
    assert len(circles.data["features"]) == len(synthetic_hydrants(before)["hydrants"])


def test_hydrant_only_map_and_nothing_to_map(before):
    boundary = gpd.GeoDataFrame(geometry=[before.network.boundary], crs=before.network.crs)
    fmap = coverage_map(hydrants=synthetic_hydrants(before), layers={"boundary": boundary})
    assert _overlay_names(fmap) == {LAYER_NAMES[k] for k in
                                    ("boundary", "hydrants", "hydrant_gaps", "proposed_hydrants")}
    with pytest.raises(InputError, match="nothing to map"):
        coverage_map()
    with pytest.raises(InputError, match="unknown map layer"):
        coverage_map(before, layers={"rivers": boundary})


def test_before_after_marks_proposed_and_closed(before, after):
    dual = before_after_map(before, after)
    left = _geojsons(dual.m1)["station points"].data["features"]
    right = _geojsons(dual.m2)["station points"].data["features"]
    assert {f["properties"]["status"] for f in left} == {"existing"}
    status = {f["properties"]["id"]: f["properties"]["status"] for f in right}
    assert status["N1"] == "proposed" and status["S4"] == "closed" and status["S1"] == "existing"
    page = map_html(dual)
    assert "Before" in page and "After" in page and ".sync(" in page


def test_empty_layer_draws_without_tooltip_fields(before):
    empty = before.demand.iloc[:0]
    page = map_html(coverage_map(before, layers={"uncovered": empty}, tiles="none"))
    assert LAYER_NAMES["uncovered"] in page


def test_unvendored_plugin_keeps_its_link_with_a_warning(before):
    fmap = coverage_map(before, tiles="none")
    folium.plugins.MiniMap().add_to(fmap)  # a plugin whose script is not vendored
    with pytest.warns(UserWarning, match="not vendored"):
        page = map_html(fmap)
    assert re.search(r'<script src="https://[^"]*[Mm]ini[Mm]ap', page)


def _red(colour: str) -> bool:
    import colorsys

    from matplotlib.colors import to_rgb

    h, s, v = colorsys.rgb_to_hsv(*to_rgb(colour))
    return s > 0.35 and v > 0.3 and (h < 30 / 360 or h > 330 / 360)


def test_each_meaning_has_its_own_encoding(before):
    """Regression: red meant a > 5 min road, a 一级 station and an over-cap district at once."""
    from coverage.outputs.layers import band_labels, service_breaks_min
    from coverage.outputs.maps import (
        DISTRICT_STYLE,
        TYPE_COLOURS,
        TYPE_RADIUS,
        _band_colours,
        _Legend,
    )

    fmap = coverage_map(before)
    layers = _geojsons(fmap)
    breaks = service_breaks_min(before)
    time_colours = set(_band_colours(len(breaks) + 1))
    assert _red(_band_colours(len(breaks) + 1)[-2])  # time: slow is red, and only time is
    # Station type: size and a hue that is neither red nor a time colour.
    st = layers["station points"]
    for feature in st.data["features"]:
        style = st.style_function(feature)
        assert style["radius"] == TYPE_RADIUS[feature["properties"]["type"]]
        assert style["fillColor"] not in time_colours and not _red(style["fillColor"])
    assert len(set(TYPE_RADIUS.values())) == len(TYPE_RADIUS)
    assert not any(_red(c) for c in TYPE_COLOURS.values())
    # Over-cap district: a thick dashed outline, not a colour of its own.
    districts = layers[LAYER_NAMES["districts"]]
    over = districts.style_function({"properties": {"over_cap": True}})
    within = districts.style_function({"properties": {"over_cap": False}})
    assert over == DISTRICT_STYLE["over"] and "dashArray" in over and "dashArray" not in within
    assert over["weight"] > within["weight"]
    assert not _red(over["color"]) and not _red(within["color"])
    # Hydrant gaps are not red lines either.
    hyd = _geojsons(coverage_map(before, hydrants=synthetic_hydrants(before)))
    gap_style = hyd[LAYER_NAMES["hydrant_gaps"]].style_function({"properties": {}})
    assert not _red(gap_style["color"])
    # The legend says each meaning, and the rings have their own entry.
    legend = _child(fmap, _Legend).html
    assert "over its area cap" in legend and "type by size" in legend
    assert "Service-area rings" in legend
    rings = legend.split("Service-area rings")[1].split("<h5>")[0]
    for label, colour in zip(band_labels(breaks)[:-1], _band_colours(len(breaks) + 1)[:-1], strict=True):
        assert f"background:{colour}" in rings and html_escape(label) in rings


def test_notebook_display_works_offline(before, after):
    """Regression: folium's Jupyter display links Leaflet from CDNs, so notebook maps were blank offline."""
    import html as html_lib

    for fmap in (coverage_map(before, tiles="none"), before_after_map(before, after, tiles="none")):
        shown = fmap._repr_html_()
        page = html_lib.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))
        assert "<script src=" not in page and 'rel="stylesheet"' not in page
        assert "cdn.jsdelivr" not in page and "cdnjs" not in page
        assert "Leaflet" in page and "L.map(" in page.replace("L.map (", "L.map(")


def test_station_labels_are_names(after):
    """Stations, new sites included, are labelled on the map by name, not by id."""
    fmap = coverage_map(after)
    text = " ".join(str(c.options.get("html", "")) for c in _all_children(fmap) if isinstance(c, folium.DivIcon))
    for name in after.stations["name"]:
        assert html_escape(str(name)) in text


def _all_children(element):
    for child in element._children.values():
        yield child
        yield from _all_children(child)


def html_escape(text: str) -> str:
    import html as html_lib

    return html_lib.escape(text)


def test_hydrant_map_needs_no_network(helsinki_hydrants, tmp_path):
    """Regression: the hydrants map.html loaded Leaflet from a CDN ("L is not defined" offline)."""
    from coverage.hydrants.maps import hydrant_map

    report, proposal, _ = helsinki_hydrants
    fmap = hydrant_map(report, proposal, tiles="none")
    page = save_map(fmap, tmp_path / "map.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert all(r.startswith(("https://", "data:", "#")) for r in refs), refs
    assert "<script src=" not in page and 'rel="stylesheet"' not in page and "font-awesome" not in page
    assert "Proposed hydrants" in page and "Hydrants by status" in page
    assert "tile.openstreetmap" not in page
    assert "tile.openstreetmap" in map_html(hydrant_map(report, proposal))
