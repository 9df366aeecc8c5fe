"""High-rise reach on real Yuzhong buildings: thresholds, aerial stations, working distance (shapely)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from coverage.assess import assess
from coverage.assess.access import NO_STOPPING_CLASSES
from coverage.buildings import buildings_demand
from coverage.layers import read_stations


@pytest.fixture(scope="module")
def buildings(yuzhong_buildings):
    return buildings_demand(yuzhong_buildings, footprints=True)


@pytest.fixture(scope="module")
def result(yuzhong_network, yuzhong_index, yuzhong_stations, yuzhong_assessment, buildings):
    return assess(yuzhong_network, read_stations(yuzhong_stations), index=yuzhong_index,
                  demand=yuzhong_assessment.demand_set, buildings=buildings)


def test_highrises_follow_gb50016_thresholds(result, buildings):
    hr = result.highrise
    assert len(hr) > 20
    residential = hr["building"].astype(str).isin(["residential", "apartments", "house", "dormitory",
                                                   "detached", "terrace"])
    assert (hr.loc[residential, "height_m"] > 27).all() and (hr["height_m"] > 24).all()
    assert ((hr["class"] == "super high-rise") == (hr["height_m"] > 100)).all()
    tall = buildings["height_m"] > 27
    assert len(hr) >= tall.sum()


def test_aerial_access_matches_a_shapely_distance(result, yuzhong_index):
    idx = yuzhong_index
    ok = ~(idx.seg_bridge | idx.seg_tunnel | np.isin(idx.seg_highway, NO_STOPPING_CLASSES))
    roads = shapely.union_all(idx.seg_geometry[ok])
    hr = result.highrise.to_crs(idx.crs)
    d = shapely.distance(hr.geometry.values, roads)
    assert (hr["aerial_access"].to_numpy() == (d <= 15.0)).all()


def test_aerial_times_come_from_aerial_stations(result):
    hr = result.highrise
    aerial = set(result.stations.loc[result.stations["type"].isin(["level1", "special"]), "id"])
    assert set(hr["aerial_station"].dropna()) <= aerial
    assert (hr["aerial_first_due_s"] >= hr["first_due_s"] - 1e-9).all()
    in_time = hr["aerial_access"] & (hr["aerial_first_due_s"] <= result.standard.travel_threshold_s)
    assert (hr["aerial_in_time"] == in_time).all()


def test_summary_figures_and_no_access_buildings(result):
    f = result.metrics["highrise"]
    hr = result.highrise
    assert f["highrises"] == len(hr) and f["aerial_in_time"] == int(hr["aerial_in_time"].sum())
    assert f["no_aerial_access"] == int((~hr["aerial_access"]).sum())
    assert "buildings" in result.no_access and result.no_access["buildings"].sum() >= 0
    s = result.summary()
    assert s["highrise"]["highrises"] == f["highrises"]
