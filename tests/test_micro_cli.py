"""``station-coverage micro`` end to end on the real Yuzhong extracts (generated micro stations)."""

from __future__ import annotations

import json

import pytest
from conftest import shared
from micro_data import generated_stations

from coverage.cli import main


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = shared("osm/yuzhong_walk_osm_20260426.osm").parent
    root = tmp_path_factory.mktemp("micro-cli")
    layer = root / "generated_micro_stations.geojson"
    generated_stations().to_file(layer)
    out = root / "out"
    # An earlier run's folder: the new run replaces it whole (run_folder), stale files and all.
    out.mkdir()
    (out / "summary.json").write_text("{}")
    (out / "from_an_earlier_run.geojson").write_text("{}")
    argv = ["micro", "--walk-osm", str(data / "yuzhong_walk_osm_20260426.osm"),
            "--boundary", str(data / "yuzhong_boundary_osm_relation4738525.geojson"),
            "--buildings", str(data / "yuzhong_buildings_osm_20260426.osm"),
            "--drive-osm", str(data / "yuzhong_drive_osm_20260424.osm"),
            "--stations", str(shared("stations/yuzhong_stations_baseline.geojson")),
            "--micro-stations", str(layer), "--propose", "--model", "mclp", "--new", "5",
            "--min-spacing-m", "80", "--cache-dir", str(root / "cache"), "--out", str(out)]
    assert main(argv) == 0
    return out, layer


def test_outputs_are_written(run):
    out, _ = run
    assert not (out / "from_an_earlier_run.geojson").exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".out.")] == []
    for name in ("summary.json", "report.html", "map.html", "micro_stations.geojson",
                 "proposed_micro_stations.geojson", "key_units.geojson", "micro_gaps.geojson",
                 "buildings_first_water.geojson", "micro_cells.geojson", "stairs.geojson"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["siting"]["model"] == "mclp" and summary["siting"]["new_stations"] == 5
    assert summary["siting"]["status"] in {"optimal", "feasible"}
    assert summary["metrics"]["stations"] == 12 + 5
    assert 0 < summary["metrics"]["highrises"]["share"] <= 1
    assert summary["combined"]["highrises"]["buildings"] == summary["metrics"]["highrises"]["total"]
    report = (out / "report.html").read_text()
    assert "First water against first engine" in report and "MCLP" in report
    layer = json.loads((out / "buildings_first_water.geojson").read_text())
    props = layer["features"][0]["properties"]
    assert {"first_water_s", "first_engine_s", "time_saved_s", "neither"} <= set(props)


def test_nothing_to_assess_is_a_clear_error(run, capsys):
    out, _ = run
    data = shared("osm/yuzhong_walk_osm_20260426.osm")
    assert main(["micro", "--walk-osm", str(data), "--out", str(out.parent / "x")]) == 2
    assert "nothing to assess" in capsys.readouterr().err


def test_extract_without_walkways_names_the_file(run, tmp_path, capsys):
    _, layer = run
    osm = tmp_path / "generated_no_walkways.osm"
    osm.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="29.55" '
                   'lon="106.55"/><node id="2" lat="29.56" lon="106.55"/><way id="1"><nd ref="1"/>'
                   '<nd ref="2"/><tag k="highway" v="motorway"/></way></osm>')
    assert main(["micro", "--walk-osm", str(osm), "--micro-stations", str(layer),
                 "--no-cache", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "generated_no_walkways.osm" in err and "no pedestrian way" in err
