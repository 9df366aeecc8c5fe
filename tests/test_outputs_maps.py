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


def test_tooltips_carry_the_numbers(before):
    layers = _geojsons(coverage_map(before))
    station_fields = _child(layers["station points"], folium.GeoJsonTooltip).fields
    for f in ("name", "type", "district_km2", "protection_radius_m", "max_first_due_s"):
        assert f in station_fields
    props = layers["station points"].data["features"][0]["properties"]
    row = before.stations.set_index("id").loc[props["id"]]
    assert props["district_km2"] == pytest.approx(row["district_km2"], abs=1e-3)
    district_popup = _child(layers[LAYER_NAMES["districts"]], folium.GeoJsonPopup).fields
    assert "district_km2" in district_popup and "area_cap_km2" in district_popup
    assert "first_due_s" in _child(layers[LAYER_NAMES["roads"]], folium.GeoJsonTooltip).fields


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
