"""City assessment on a GENERATED city over the real nine central districts: cross-boundary
service, per-district figures, N-1, and bad district layers."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from coverage.assess import assess
from coverage.city import assess_city, check_districts, n_minus_1, read_districts
from coverage.errors import InputError
from coverage.generated_city import generated_city
from tests.conftest import shared

CROP_M = 2500.0


@pytest.fixture(scope="module")
def districts():
    return read_districts(shared("boundaries/chongqing_central9_districts_wgs84.geojson"))


@pytest.fixture(scope="module")
def small_city(districts, tmp_path_factory):
    shared("osm/yuzhong_drive_osm_20260424.osm")
    return generated_city(9, districts=districts, tile_crop_m=CROP_M, n_candidates=200,
                          cache_dir=tmp_path_factory.mktemp("tile-cache"))


@pytest.fixture(scope="module")
def city(small_city, districts):
    return assess_city(small_city.network, small_city.stations, districts)


def test_districts_layer_reads_name_and_code(districts):
    assert list(districts.columns) == ["name", "code", "geometry"]
    assert len(districts) == 9 and "渝中区" in set(districts["name"])
    assert districts["code"].is_unique and districts.crs.to_epsg() == 4326
    check = check_districts(districts, "EPSG:32648")
    assert check.overlaps == [] and check.gaps == []


def test_each_district_equals_a_single_district_assessment(city, small_city, districts):
    """The per-district figures are those of coverage.assess on that district with every
    station of the city (cross-boundary service), recomputed independently."""
    net = small_city.network
    code = "500107"
    geom = districts.to_crs(net.crs).set_index("code").geometry[code]
    alone = assess(replace(net, boundary=geom), small_city.stations, access="snap")
    row = city.districts.set_index("code").loc[code]
    assert row["coverage_share"] == pytest.approx(alone.metrics["coverage_share"], abs=1e-12)
    assert row["first_due_p90_s"] == pytest.approx(alone.metrics["first_due_p90_s"], abs=1e-9)
    # Served from outside: first-due station standing in another district.
    home = dict(zip(city.stations["id"], city.stations["district"], strict=True))
    dem = alone.demand
    outside = np.array([home[s] != code for s in dem["first_due_station"]])
    expected = dem["weight"][outside].sum() / dem["weight"].sum()
    assert row["served_from_outside_share"] == pytest.approx(expected, abs=1e-12)


def test_cross_boundary_service_is_used(city):
    d = city.districts
    assert (d["served_from_outside_share"] > 0).any()
    assert 0 < city.metrics["served_from_outside_share"] < 1
    # City coverage is the weight-average of the districts'.
    w = d["demand_weight"].to_numpy()
    assert city.metrics["coverage_share"] == pytest.approx(
        (d["coverage_share"] * w).sum() / w.sum(), abs=1e-12)


def test_districts_ranked_by_gap_to_the_standard(city):
    d = city.districts
    assert list(d["rank"]) == list(range(1, len(d) + 1))
    assert (np.diff(d["gap_to_standard_pp"].to_numpy()) <= 1e-12).all()
    assert ((1 - d["coverage_share"]) * 100).to_numpy() == pytest.approx(
        d["gap_to_standard_pp"].to_numpy())
    assert set(d["code"]) == {str(c) for c in city.by_district}


def test_n_minus_1_matches_closing_the_station(city, small_city, districts):
    ranking = n_minus_1(city)
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    assert (np.diff(ranking["coverage_lost_share"].to_numpy()) <= 1e-15).all()
    worst = ranking.iloc[0]
    st = small_city.stations
    closed = st.assign(status=np.where(st["id"] == worst["id"], "closed", st["status"]))
    again = assess_city(small_city.network, closed, districts, index=city.index)
    lost = city.metrics["coverage_share"] - again.metrics["coverage_share"]
    assert worst["coverage_lost_share"] == pytest.approx(lost, abs=1e-12)
    assert worst["coverage_lost_share"] > 0


def test_overlapping_districts_are_an_error_with_the_area():
    a, b = box(106.50, 29.50, 106.52, 29.52), box(106.51, 29.50, 106.53, 29.52)
    layer = gpd.GeoDataFrame({"name": ["A", "B"], "code": ["1", "2"]}, geometry=[a, b],
                             crs="EPSG:4326")
    with pytest.raises(InputError, match=r"A and B overlap by \d+\.\d+ km²"):
        check_districts(read_districts(layer), "EPSG:32648")
    report = check_districts(read_districts(layer), "EPSG:32648", allow_overlaps=True)
    expected = gpd.GeoSeries([a.intersection(b)], crs=4326).to_crs(32648).area.iloc[0] / 1e6
    assert report.overlaps[0]["area_km2"] == pytest.approx(expected, abs=1e-3)


def test_gapped_districts_are_reported_with_the_area():
    ring = box(106.50, 29.50, 106.56, 29.56).difference(box(106.52, 29.52, 106.54, 29.54))
    west, east = (ring.intersection(box(106.4, 29.4, 106.53, 29.6)),
                  ring.intersection(box(106.53, 29.4, 106.6, 29.6)))
    layer = gpd.GeoDataFrame({"name": ["W", "E"], "code": ["1", "2"]}, geometry=[west, east],
                             crs="EPSG:4326")
    report = check_districts(read_districts(layer), "EPSG:32648")
    hole = gpd.GeoSeries([box(106.52, 29.52, 106.54, 29.54)], crs=4326).to_crs(32648)
    assert len(report.gaps) == 1
    assert report.gaps[0]["area_km2"] == pytest.approx(hole.area.iloc[0] / 1e6, abs=1e-3)
    assert set(report.gaps[0]["neighbours"]) == {"W", "E"}


def test_district_without_roads_is_named(small_city, districts):
    empty = gpd.GeoDataFrame({"name": ["空区"], "code": ["999"]},
                             geometry=[box(106.95, 29.15, 106.96, 29.16)], crs="EPSG:4326")
    layer = gpd.GeoDataFrame(
        {"name": [*districts["name"], "空区"], "code": [*districts["code"], "999"]},
        geometry=[*districts.geometry, *empty.geometry], crs="EPSG:4326")
    assert not shapely.intersects(layer.geometry.iloc[-1], districts.union_all())
    with pytest.raises(InputError, match="no road of the network lies inside district 空区"):
        assess_city(small_city.network, small_city.stations, layer)


def test_bad_district_layers(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_districts(tmp_path / "none.geojson")
    layer = gpd.GeoDataFrame({"name": ["A", "B"], "code": ["1", "1"]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    with pytest.raises(InputError, match="code '1' appears twice"):
        read_districts(layer)
    with pytest.raises(InputError, match="no code column"):
        read_districts(layer.drop(columns="code"))
