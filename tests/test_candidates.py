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
