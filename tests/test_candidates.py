"""Default candidate sites: road classes, spacing, exclusions, user layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from scipy.spatial.distance import pdist
from shapely.geometry import Point

from coverage.candidates import (
    CandidateRules,
    apply_exclusions,
    combine,
    exclusion_features,
    network_candidates,
    thin,
)
from coverage.errors import InputError


@pytest.fixture(scope="module")
def candidates(yuzhong_network):
    return network_candidates(yuzhong_network)


def test_candidates_sit_on_arterials_inside_the_district(candidates, yuzhong_network):
    graph = yuzhong_network.graph
    for node, cls in zip(candidates["node"], candidates["road_class"], strict=True):
        classes = {d["highway"] for _, _, d in graph.edges(node, data=True)}
        classes |= {d["highway"] for _, _, d in graph.in_edges(node, data=True)}
        assert cls in classes and cls in {"primary", "secondary", "tertiary"}
    assert candidates.within(yuzhong_network.boundary).all()


def test_candidates_are_at_least_the_minimum_spacing_apart(candidates):
    xy = shapely.get_coordinates(candidates.geometry.values)
    assert pdist(xy).min() >= 150.0


def test_thinning_keeps_every_dropped_point_near_a_kept_one():
    """Generated fixture: a 20 × 20 grid of points 40 m apart."""
    xs, ys = np.meshgrid(np.arange(20) * 40.0, np.arange(20) * 40.0)
    pts = gpd.GeoDataFrame({"id": range(400)}, geometry=shapely.points(xs.ravel(), ys.ravel()), crs=32648)
    kept = thin(pts, 150.0)
    kept_xy = shapely.get_coordinates(kept.geometry.values)
    all_xy = shapely.get_coordinates(pts.geometry.values)
    assert pdist(kept_xy).min() >= 150.0
    nearest = np.min(np.hypot(*(all_xy[:, None, :] - kept_xy[None, :, :]).transpose(2, 0, 1)), axis=1)
    assert nearest.max() < 150.0


def test_exclusions_use_each_kinds_distance(candidates):
    first = candidates.geometry.iloc[0]
    second = candidates.geometry.iloc[1]
    places = gpd.GeoDataFrame(
        {"kind": ["sensitive", "hazardous"]},
        geometry=[Point(first.x + 45, first.y), Point(second.x + 290, second.y)],
        crs=candidates.crs,
    )
    out = apply_exclusions(candidates, places, rules=CandidateRules())
    assert candidates["id"].iloc[0] not in set(out["id"])
    assert candidates["id"].iloc[1] not in set(out["id"])
    expected = candidates.geometry.apply(
        lambda p: p.distance(places.geometry.iloc[0]) <= 50 or p.distance(places.geometry.iloc[1]) <= 300
    )
    assert len(out) == len(candidates) - expected.sum()


def test_user_layer_replaces_or_adds(candidates):
    user = gpd.GeoDataFrame({"id": ["U1"]}, geometry=[candidates.geometry.iloc[3]], crs=candidates.crs)
    assert list(combine(candidates, user, mode="replace")["id"]) == ["U1"]
    assert len(combine(candidates, user, mode="add")) == len(candidates) + 1
    with pytest.raises(InputError, match="twice"):
        combine(candidates, candidates.iloc[:1], mode="add")


GENERATED_EXCLUSIONS_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="generated test fixture">
  <node id="1" lat="29.5600" lon="106.5700"><tag k="amenity" v="hospital"/></node>
  <node id="2" lat="29.5610" lon="106.5710"><tag k="amenity" v="school"/></node>
  <node id="3" lat="29.5620" lon="106.5720"><tag k="amenity" v="fuel"/></node>
  <node id="4" lat="29.5630" lon="106.5730"><tag k="shop" v="bakery"/></node>
</osm>
"""


def test_exclusions_from_an_osm_file_do_not_crash(tmp_path):
    """Issue 9: an .osm exclusion file raised "If using all scalar values, you must pass an index"."""
    path = tmp_path / "generated_exclusions.osm"
    path.write_text(GENERATED_EXCLUSIONS_OSM, encoding="utf-8")
    places = exclusion_features(path)
    assert sorted(places["kind"]) == ["hazardous", "sensitive", "sensitive"]
    assert places.crs.to_epsg() == 4326 and places.geometry.geom_type.eq("Point").all()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("generated_garbage.osm", "this is not xml <<<", "cannot read the exclusions"),
        ("generated_empty.osm", "", "empty"),
        ("generated_garbage.geojson", "{not json", "cannot read"),
    ],
)
def test_bad_exclusion_files_are_clear_errors(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=words) as err:
        exclusion_features(path)
    assert name in str(err.value) and "Fix:" in str(err.value)
    with pytest.raises(InputError, match="does not exist"):
        exclusion_features(tmp_path / "missing.osm")


def test_online_exclusions_build_one_kind_per_feature(monkeypatch):
    """Issue 9: the online --exclusions osm path had the same scalar-frame crash as the file path."""
    import osmnx as ox

    def fake_features(polygon, tags):
        n = 2 if "hospital" in str(tags) else 1
        return gpd.GeoDataFrame({"amenity": ["x"] * n},
                                geometry=[Point(106.57 + i / 1000, 29.56) for i in range(n)], crs=4326)

    monkeypatch.setattr(ox, "features_from_polygon", fake_features)
    places = exclusion_features("osm", area_wgs84=Point(106.57, 29.56).buffer(0.01))
    assert sorted(places["kind"]) == ["hazardous", "sensitive", "sensitive"]
