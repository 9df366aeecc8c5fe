"""``station-coverage city`` and ``sweep`` end to end on a GENERATED city over the real
nine central district boundaries."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coverage.cli import main
from tests.conftest import shared


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    districts = shared("boundaries/chongqing_central9_districts_wgs84.geojson")
    shared("osm/yuzhong_drive_osm_20260424.osm")
    folder = tmp_path_factory.mktemp("city")
    path = folder / "central9.toml"
    path.write_text(f"""
name = "central9-generated"
out = "out"
[data]
districts = "{districts}"
generated = 9
generated_tile_crop_m = 2000
stations = "generated"
[network]
cache_dir = "cache"
[dask]
workers = 1
[sweep]
congestion_factor = [1.0, 1.5]
turnout_s = [60, 90]
[output]
tiles = "none"
""", encoding="utf-8")
    return path


@pytest.mark.slow
def test_city_cli(scenario, capsys):
    out = scenario.parent / "city"
    assert main(["city", str(scenario), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "GENERATED road network" in printed.out
    assert "running on serial (in process)" in printed.err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["generated_network"] is True and summary["cross_boundary_service"] is True
    assert len(summary["districts"]) == 9
    table = pd.read_csv(out / "districts.csv", encoding="utf-8-sig", dtype={"code": str})
    assert list(table["rank"]) == list(range(1, 10))
    assert table["gap_to_standard_pp"].is_monotonic_decreasing
    assert {"served_from_outside_share", "over_cap_stations", "seconds"} <= set(table.columns)
    layer = json.loads((out / "districts.geojson").read_text(encoding="utf-8"))
    assert len(layer["features"]) == 9
    assert "coverage_share" in layer["features"][0]["properties"]
    city_map = (out / "map.html").read_text(encoding="utf-8")
    report = (out / "report.html").read_text(encoding="utf-8")
    for code in table["code"]:
        assert f"districts/{code}/map.html" in city_map
        assert f"districts/{code}/report.html" in report
        assert (out / "districts" / code / "map.html").is_file()
        assert (out / "districts" / code / "summary.json").is_file()
    assert "GENERATED" in report and "Critical stations" in report
    critical = pd.read_csv(out / "n_minus_1.csv", encoding="utf-8-sig")
    assert critical["coverage_lost_share"].is_monotonic_decreasing


def test_sweep_cli(scenario, capsys):
    out = scenario.parent / "sweep"
    assert main(["sweep", str(scenario), "--out", str(out)]) == 0
    table = pd.read_csv(out / "sweep.csv", encoding="utf-8-sig")
    assert len(table) == 4
    assert set(table["congestion_factor"]) == {1.0, 1.5} and set(table["turnout_s"]) == {60, 90}
    # A longer turnout leaves less driving time; more congestion covers less.
    assert (table["travel_threshold_s"] == 300 - table["turnout_s"]).all()
    by = table.set_index(["congestion_factor", "turnout_s"])["coverage_share"]
    assert by[(1.0, 60)] > by[(1.0, 90)] and by[(1.0, 60)] > by[(1.5, 60)]
    assert {"first_due_p90_s", "stations_over_cap", "coverage 渝中区"} <= set(table.columns)
    assert (out / "sweep_congestion_factor.png").is_file() and (out / "sweep_turnout_s.png").is_file()
    assert (out / "n_minus_1.csv").is_file()
    # The sweep's base point equals the city run's figure.
    city = json.loads((scenario.parent / "city" / "summary.json").read_text(encoding="utf-8"))
    assert by[(1.0, 60)] == pytest.approx(city["coverage_share"], abs=1e-12)
    assert "points: coverage" in capsys.readouterr().out


def test_city_cli_bad_inputs(scenario, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(scenario.read_text(encoding="utf-8").replace('generated = 9', 'online = true\n'
                                                                'generated = 9'), encoding="utf-8")
    assert main(["city", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "2 road sources given" in capsys.readouterr().err
    assert main(["city", str(scenario), "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout-s", "2"]) == 2
    assert "did not answer within 2 s" in capsys.readouterr().err
    nosweep = tmp_path / "nosweep.toml"
    nosweep.write_text(scenario.read_text(encoding="utf-8").split("[sweep]")[0]
                       .replace('"cache"', f'"{scenario.parent / "cache"}"'), encoding="utf-8")
    assert main(["sweep", str(nosweep), "--out", str(tmp_path / "s")]) == 2
    assert "no [sweep] table" in capsys.readouterr().err


def test_city_cli_sites_per_district_by_default(scenario, tmp_path, capsys):
    text = scenario.read_text(encoding="utf-8").split("[sweep]")[0]
    text = text.replace('stations = "generated"', 'stations = "generated"\ncandidates = "generated"')
    text = text.replace('"cache"', f'"{scenario.parent / "cache"}"')
    site = tmp_path / "site.toml"
    site.write_text(text + """
[site]
model = "mclp"
p = 1
small_station_rules = false
[output]
tiles = "none"
district_outputs = false
""", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["city", str(site), "--out", str(out)]) == 0
    assert "siting (per_district, mclp)" in capsys.readouterr().out
    models = pd.read_csv(out / "site" / "models.csv", encoding="utf-8-sig")
    assert len(models) == 9 and (models["status"] == "optimal").all()
    summary = json.loads((out / "site" / "summary.json").read_text(encoding="utf-8"))
    assert summary["mode"] == "per_district"
    assert summary["after"]["coverage_share"] >= json.loads(
        (out / "summary.json").read_text(encoding="utf-8"))["coverage_share"]
    assert "districts/" not in (out / "report.html").read_text(encoding="utf-8")
