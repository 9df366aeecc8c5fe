"""The sweep grid: named parameters, base values, turnout inside a fixed response target."""

from __future__ import annotations

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
