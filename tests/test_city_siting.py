"""Siting for a city: per district with the neighbours' stations fixed (default) or one
city-wide model, on a GENERATED city over the real nine districts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.city import read_districts
from coverage.city.siting import site_city, unsolved_notes
from coverage.errors import InputError
from coverage.generated_city import generated_city
from tests.conftest import shared


@pytest.fixture(scope="module")
def districts():
    return read_districts(shared("boundaries/chongqing_central9_districts_wgs84.geojson"))


@pytest.fixture(scope="module")
def small_city(districts, tmp_path_factory):
    shared("osm/yuzhong_drive_osm_20260424.osm")
    return generated_city(9, districts=districts, tile_crop_m=2000.0, n_candidates=150,
                          cache_dir=tmp_path_factory.mktemp("tile-cache"))


@pytest.fixture(scope="module")
def per_district(small_city, districts):
    return site_city(small_city.network, small_city.stations, districts, small_city.candidates,
                     p=1, model="mclp", small_station_rules=False)


def test_per_district_is_the_default_one_model_per_district(per_district, districts, small_city):
    s = per_district
    assert s.mode == "per_district"
    assert sorted(s.models["district"]) == sorted(districts["code"])
    assert (s.models["status"] == "optimal").all()
    assert s.models["message"].str.len().gt(0).all()  # every model says how it ended
    assert unsolved_notes(s.models) == []
    # At most p = 1 per district (MCLP opens none where no site adds cover).
    assert 1 <= len(s.new_sites) <= len(districts)
    assert s.new_sites["district"].is_unique
    assert s.models["new_sites"].sum() == len(s.new_sites)
    dm = districts.to_crs(small_city.network.crs).set_index("code")
    for site in s.new_sites.itertuples():
        assert shapely.contains(dm.geometry[site.district], site.geometry)
    # Each district's own model never loses cover (existing stations stay fixed).
    assert (s.models["coverage_after"] >= s.models["coverage_before"] - 1e-12).all()


@pytest.mark.slow
def test_city_model_is_at_least_as_good_as_the_district_models(per_district, small_city,
                                                              districts):
    joint = site_city(small_city.network, small_city.stations, districts, small_city.candidates,
                      p=len(districts), model="mclp", mode="city", small_station_rules=False)
    assert len(joint.models) == 1 and joint.models["status"].iloc[0] == "optimal"
    assert len(joint.new_sites) <= len(districts)
    # The per-district answer is feasible for the city model, so the city optimum covers
    # at least as much (measured by the independent city assessment afterwards).
    assert joint.after.metrics["coverage_share"] >= (
        per_district.after.metrics["coverage_share"] - 1e-9)
    before = per_district.models["coverage_before"]
    assert np.isfinite(before).all()


def test_bad_siting_mode(small_city, districts):
    with pytest.raises(InputError, match="unknown siting mode"):
        site_city(small_city.network, small_city.stations, districts, small_city.candidates,
                  p=1, mode="region")


@pytest.mark.slow
def test_per_district_on_dask_equals_serial(per_district, small_city, districts):
    # The workers get the network without its graph (the models route on the road index).

    from coverage.city import open_runner

    with open_runner(workers=2, progress=False) as runner:
        on_two = site_city(small_city.network, small_city.stations, districts,
                           small_city.candidates, p=1, model="mclp", small_station_rules=False,
                           runner=runner)
    cols = ["district", "status", "objective", "new_sites", "coverage_before", "coverage_after"]
    pd.testing.assert_frame_equal(per_district.models[cols], on_two.models[cols])
    assert list(per_district.new_sites["id"]) == list(on_two.new_sites["id"])
    assert per_district.after.metrics == on_two.after.metrics


def test_unsolved_notes_group_districts_by_reason_and_use_names():
    models = pd.DataFrame({
        "district": ["500103", "500104", "500105", "500106"],
        "status": ["infeasible", "infeasible", "optimal", "feasible"],
        "message": ["the fixed stations break the area rule"] * 2
        + ["proven optimal", "time limit reached, gap 2.0 %"]})
    notes = unsolved_notes(models, {"500103": "渝中区", "500104": "大渡口区"})
    assert notes == ["infeasible in 渝中区, 大渡口区: the fixed stations break the area rule",
                     "feasible in 500106: time limit reached, gap 2.0 %"]
