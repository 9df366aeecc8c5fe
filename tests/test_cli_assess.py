"""`station-coverage assess` end to end on real Yuzhong data, and its bad-input messages."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString

from coverage.cli import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, yuzhong_osm, yuzhong_boundary, yuzhong_stations):
    out = tmp_path_factory.mktemp("assess")
    cache = tmp_path_factory.mktemp("cache")
    code = main(
        [
            "assess", "--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
            "--stations", str(yuzhong_stations), "--out", str(out), "--cache-dir", str(cache),
        ]
    )
    assert code == 0
    return out, cache


def test_writes_every_output(run_dir):
    out, _ = run_dir
    for name in ("summary.json", "demand.geojson", "districts.geojson", "service_areas.geojson", "map.html"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["standard"] == "gb51080" and summary["turnout_s"] == 60
    assert 0 < summary["coverage_share"] < 1
    assert summary["first_due_p50_s"] <= summary["first_due_p90_s"] <= summary["first_due_max_s"]
    assert [s["id"] for s in summary["stations"]] == ["S1", "S2", "S3", "S4"]
    for s in summary["stations"]:
        assert s["district_km2"] > 0 and s["protection_radius_m"] > 0


def test_geojson_is_wgs84_with_documented_properties(run_dir):
    out, _ = run_dir
    raw = json.loads((out / "demand.geojson").read_text())
    assert "crs" not in raw
    demand = gpd.read_file(out / "demand.geojson")
    assert demand.crs.to_epsg() == 4326
    assert {"weight", "first_due_s", "first_due_station", "second_due_s"} <= set(demand.columns)
    lon, lat = demand.geometry.x, demand.geometry.y
    assert lon.between(106.4, 106.7).all() and lat.between(29.4, 29.7).all()
    summary = json.loads((out / "summary.json").read_text())
    covered = demand.loc[demand["first_due_s"] <= 240, "weight"].sum() / demand["weight"].sum()
    assert covered == pytest.approx(summary["coverage_share"], rel=1e-9)


def _fails(capsys, argv, *patterns):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    for p in patterns:
        assert p in err, err
    return err


def test_missing_osm_file(capsys, tmp_path, yuzhong_boundary, yuzhong_stations):
    _fails(
        capsys,
        ["assess", "--osm", str(tmp_path / "nope.osm"), "--boundary", str(yuzhong_boundary),
         "--stations", str(yuzhong_stations), "--out", str(tmp_path / "o")],
        "nope.osm",
    )


def test_corrupt_osm_file(capsys, tmp_path, yuzhong_boundary, yuzhong_stations):
    bad = tmp_path / "broken.osm"
    bad.write_text("<osm><node id='1' lat='29.5' lon='106.5'>")
    _fails(
        capsys,
        ["assess", "--osm", str(bad), "--boundary", str(yuzhong_boundary), "--no-cache",
         "--stations", str(yuzhong_stations), "--out", str(tmp_path / "o")],
        "broken.osm",
    )


def test_boundary_that_is_not_a_polygon(capsys, tmp_path, yuzhong_osm, yuzhong_stations):
    line = tmp_path / "line.geojson"
    gpd.GeoDataFrame(geometry=[LineString([(106.5, 29.55), (106.56, 29.56)])], crs=4326).to_file(line)
    _fails(
        capsys,
        ["assess", "--osm", str(yuzhong_osm), "--boundary", str(line),
         "--stations", str(yuzhong_stations), "--out", str(tmp_path / "o")],
        "line.geojson", "olygon",
    )


def test_empty_station_layer(capsys, tmp_path, run_dir, yuzhong_osm, yuzhong_boundary):
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    _fails(
        capsys,
        ["assess", "--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
         "--cache-dir", str(run_dir[1]), "--stations", str(empty), "--out", str(tmp_path / "o")],
        "empty.geojson",
    )


def test_nan_coordinates(capsys, tmp_path, run_dir, yuzhong_osm, yuzhong_boundary):
    csv = tmp_path / "stations.csv"
    pd.DataFrame(
        {"id": ["A", "B"], "type": ["一级", "小型"], "lon": [106.55, None], "lat": [29.56, 29.55]}
    ).to_csv(csv, index=False)
    _fails(
        capsys,
        ["assess", "--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
         "--cache-dir", str(run_dir[1]), "--stations", str(csv), "--out", str(tmp_path / "o")],
        "stations.csv", "B",
    )


def test_layer_in_the_wrong_crs(capsys, tmp_path, run_dir, yuzhong_osm, yuzhong_boundary, yuzhong_stations):
    # Projected metres written without a CRS: the reader must not take them for degrees.
    stations = gpd.read_file(yuzhong_stations).to_crs(32648)
    bad = tmp_path / "metres.csv"
    pd.DataFrame({"id": stations["id"], "type": stations["type"], "lon": stations.geometry.x,
                  "lat": stations.geometry.y}).to_csv(bad, index=False)
    _fails(
        capsys,
        ["assess", "--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
         "--cache-dir", str(run_dir[1]), "--stations", str(bad), "--out", str(tmp_path / "o")],
        "metres.csv",
    )


def test_gcj02_stations_need_the_explicit_option(capsys, tmp_path, run_dir, yuzhong_osm, yuzhong_boundary, yuzhong_stations):
    from coverage.coordsys import from_wgs84

    gcj = tmp_path / "gcj.geojson"
    from_wgs84(gpd.read_file(yuzhong_stations), target="gcj02").to_file(gcj)
    out = tmp_path / "o"
    code = main(
        ["assess", "--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
         "--cache-dir", str(run_dir[1]), "--stations", str(gcj), "--coord-system", "gcj02",
         "--out", str(out)]
    )
    assert code == 0
    ours = json.loads((run_dir[0] / "summary.json").read_text())
    theirs = json.loads((out / "summary.json").read_text())
    assert theirs["coverage_share"] == pytest.approx(ours["coverage_share"], abs=1e-9)


def test_refuses_to_write_over_an_input(capsys, tmp_path, yuzhong_osm, yuzhong_boundary, yuzhong_stations):
    import shutil

    copy = tmp_path / "stations.geojson"
    shutil.copy(yuzhong_stations, copy)
    _fails(
        capsys,
        ["assess", "--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
         "--stations", str(copy), "--out", str(tmp_path)],
        "overwritten",
    )


def test_building_floor_area_demand(tmp_path, run_dir, yuzhong_osm, yuzhong_boundary, yuzhong_stations):
    from conftest import shared

    buildings = shared("osm/yuzhong_buildings_osm_20260426.osm")
    out = tmp_path / "bld"
    code = main(
        ["assess", "--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
         "--cache-dir", str(run_dir[1]), "--stations", str(yuzhong_stations),
         "--demand", "buildings", "--demand-file", str(buildings), "--out", str(out)]
    )
    assert code == 0
    demand = gpd.read_file(out / "demand.geojson")
    assert {"floor_area_m2", "highrise"} <= set(demand.columns)
    assert (demand["weight"] == demand["floor_area_m2"]).all()
    summary = json.loads((out / "summary.json").read_text())
    share = demand.loc[demand["first_due_s"] <= 240, "weight"].sum() / demand["weight"].sum()
    assert summary["coverage_share"] == pytest.approx(share)
    assert summary["demand"]["highrise_points"] == int(demand["highrise"].sum())
