"""The sweep grid: named parameters, base values, turnout inside a fixed response target."""

from __future__ import annotations

import numpy as np
import pytest

from coverage.city.sweep import SWEEP_PARAMETERS, _model, _standard, sweep_grid
from coverage.errors import InputError
from coverage.network import CHINA_URBAN, NFPA_ISO
from coverage.presets import response_standard

GB = response_standard("gb51080")


def test_grid_is_every_combination_with_base_values_elsewhere():
    points = sweep_grid({"congestion_factor": [1.0, 1.5, 2.0], "turnout_s": [45, 90]},
                        base_model=CHINA_URBAN, base_standard=GB)
    assert len(points) == 6
    assert all(set(p) == set(SWEEP_PARAMETERS) for p in points)
    assert {p["speeds"] for p in points} == {"china_urban"}
    assert {p["apparatus_height_m"] for p in points} == {CHINA_URBAN.apparatus_height_m}
    assert points[0] == {"congestion_factor": 1.0, "turnout_s": 45, "speeds": "china_urban",
                         "apparatus_height_m": 3.2}


def test_speed_table_and_height_make_the_travel_model():
    p = {"congestion_factor": 1.3, "turnout_s": 60, "speeds": "nfpa_iso",
         "apparatus_height_m": 3.8}
    model = _model(p, CHINA_URBAN)
    assert dict(model.speeds_kph) == dict(NFPA_ISO.speeds_kph)
    assert model.congestion_factor == 1.3 and model.apparatus_height_m == 3.8


def test_turnout_eats_into_the_driving_time():
    std = _standard(GB, 90)
    assert std.turnout_s == 90 and std.travel_threshold_s == 210
    assert std.response_threshold_s == GB.response_threshold_s == 300


@pytest.mark.parametrize("spec, match", [
    ({"rain": [1]}, "unknown sweep parameter 'rain'"),
    ({"speeds": ["autobahn"]}, "unknown speed table 'autobahn'"),
    ({"turnout_s": [400]}, "leaves no driving time"),
    ({"congestion_factor": [0.5]}, "congestion_factor=0.5 is below 1.0"),
    ({"apparatus_height_m": [-1.0]}, "apparatus_height_m=-1.0 is negative"),
    ({"turnout_s": []}, "has no values"),
])
def test_bad_sweeps_are_named(spec, match):
    with pytest.raises(InputError, match=match):
        sweep_grid(spec, base_model=CHINA_URBAN, base_standard=GB)


# --- reuse is exact: a reused point equals the same point computed from scratch ----------

CROP_M = 2000.0
FIGURES = ["coverage_share", "first_due_p90_s", "response_p90_s"]


@pytest.fixture(scope="module")
def districts():
    from coverage.city import read_districts
    from tests.conftest import shared

    return read_districts(shared("boundaries/chongqing_central9_districts_wgs84.geojson"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    from tests.conftest import shared

    shared("osm/yuzhong_drive_osm_20260424.osm")
    return str(tmp_path_factory.mktemp("tile-cache"))


@pytest.fixture(scope="module")
def build(districts, cache):
    import functools

    from coverage.city.scenario import build_city_network

    return functools.partial(
        build_city_network, districts=districts, osm=None, online=False, generated=9,
        tile_crop_m=CROP_M, seed=0, buffer_m=1500.0, crs=None, cache_dir=cache, progress=False)


@pytest.fixture(scope="module")
def stations(build, districts):
    from coverage.generated_city import generated_city_stations

    return generated_city_stations(build(CHINA_URBAN), districts=districts)


def _from_scratch(build, stations, districts, point) -> dict:
    """The point's figures from its own network build and a full city assessment."""
    from coverage.city import assess_city

    city = assess_city(build(_model(point, CHINA_URBAN)), stations, districts,
                       standard=_standard(GB, point["turnout_s"]))
    per = dict(zip(city.districts["name"], city.districts["coverage_share"], strict=True))
    return {**{k: city.metrics[k] for k in FIGURES},
            "stations_over_cap": int(city.stations["over_cap"].sum()),
            "districts_compliant": int(city.metrics["districts_compliant"]),
            "network_nodes": city.network.graph.number_of_nodes(),
            **{f"coverage {n}": v for n, v in per.items()}}


def _check_row(row, expected) -> None:
    for key, value in expected.items():
        if isinstance(value, int):
            assert row[key] == value, key
        else:  # scaled times differ from summed scaled edges by rounding only
            assert row[key] == pytest.approx(value, rel=1e-12, abs=1e-12), key


@pytest.mark.slow
def test_reused_points_equal_points_from_scratch(build, stations, districts):
    from coverage.city import sweep_city

    spec = {"congestion_factor": [1.0, 1.4], "turnout_s": [60, 90],
            "speeds": ["china_urban", "nfpa_iso"], "apparatus_height_m": [3.2, 4.0]}
    result = sweep_city(build, stations, districts, spec, standard=GB)
    # 16 points: no road of the network has a clearance between 3.2 and 4.0 m, so one
    # network; two speed tables, so two routings; congestion and turnout reuse them.
    assert (result.networks, result.routings) == (1, 2)
    assert len(result.table) == 16 and set(result.plan["routing"]) == {1, 2}
    assert set(result.plan["time_factor"]) == {1.0, 1.4}
    # The most reused point (scaled times, re-weighted index, other height) and others.
    for k in (0, 6, 15):
        row = result.table.iloc[k]
        point = {key: row[key] for key in SWEEP_PARAMETERS}
        _check_row(row, _from_scratch(build, stations, districts, point))
    base = result.table.iloc[0]
    assert base["coverage_share"] > result.table.iloc[8]["coverage_share"]  # 1.4x slower


def test_reweighted_index_equals_a_network_built_with_the_other_speeds(build):
    from dataclasses import replace

    from coverage.city.sweep import reweighted_index
    from coverage.engine import build_index

    china = build(CHINA_URBAN)
    index = build_index(china)
    nfpa = replace(NFPA_ISO, congestion_factor=1.3)
    got = replace(index, **reweighted_index(china, index, nfpa))
    want = build_index(build(nfpa))
    assert (got.csr != want.csr).nnz == 0 and got.csr.nnz == want.csr.nnz
    np.testing.assert_array_equal(got.seg_fwd_s, want.seg_fwd_s)
    np.testing.assert_array_equal(got.seg_bwd_s, want.seg_bwd_s)
    np.testing.assert_array_equal(got.node_ids, want.node_ids)
    assert not np.array_equal(got.seg_fwd_s, index.seg_fwd_s)


def _low_bridge_build(model, *, build, clearance: str):
    """The GENERATED test city with ``maxheight = clearance`` tagged on every 400th street
    edge (generated tags, for testing height closures), then ``model`` applied as the
    builders do: closures, speeds, largest strongly connected component."""
    from dataclasses import replace

    import osmnx as ox

    from coverage.network.travel import apply_travel_model

    open_all = build(replace(model, apparatus_height_m=0.0))
    graph = open_all.graph.copy()
    for n, (*_, data) in enumerate(graph.edges(data=True)):
        if n % 400 == 0 and data.get("name") != "generated connector":
            data["maxheight"] = clearance
    closed, _ = apply_travel_model(graph, model)
    core = ox.truncate.largest_component(closed, strongly=True)
    core.graph.update(open_all.graph.graph)
    return replace(open_all, graph=core, travel_model=model)


@pytest.mark.slow
def test_heights_build_another_network_only_when_they_close_roads(build, stations, districts):
    import functools

    from coverage.city import sweep_city

    low = functools.partial(_low_bridge_build, build=build, clearance="3.6")
    same = sweep_city(low, stations, districts, {"apparatus_height_m": [3.2, 3.5]}, standard=GB)
    assert same.networks == 1 and same.routings == 1
    assert same.table["coverage_share"].nunique() == 1
    both = sweep_city(low, stations, districts, {"apparatus_height_m": [3.2, 3.8]}, standard=GB)
    assert both.networks == 2 and list(both.plan["network"]) == [1, 2]
    rows = both.table
    assert rows.loc[1, "network_nodes"] < rows.loc[0, "network_nodes"]
    for k in (0, 1):
        point = {key: rows.loc[k, key] for key in SWEEP_PARAMETERS}
        _check_row(rows.iloc[k], _from_scratch(low, stations, districts, point))


def test_congestion_scaling_needs_edge_times_above_the_floor(build):
    from dataclasses import replace

    from coverage.city.sweep import _scales_with_congestion
    from coverage.engine import build_index
    from coverage.network.travel import MIN_TRAVEL_S

    index = build_index(build(CHINA_URBAN))
    assert _scales_with_congestion(index)
    fwd = index.seg_fwd_s.copy()
    fwd[0] = MIN_TRAVEL_S  # a zero-length edge on the floor: x1.5 would not scale it
    assert not _scales_with_congestion(replace(index, seg_fwd_s=fwd))
