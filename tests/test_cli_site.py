"""`station-coverage site` end to end on real Yuzhong data: user candidates and exclusions."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from coverage.candidates import SITE_RULES, network_candidates
from coverage.cli import main
from coverage.outputs.summary import check_placement_summary


@pytest.fixture(scope="module")
def common(yuzhong_osm, yuzhong_boundary, yuzhong_stations, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return ["--osm", str(yuzhong_osm), "--boundary", str(yuzhong_boundary),
            "--stations", str(yuzhong_stations), "--cache-dir", str(cache)]


def test_user_candidates_replace_the_defaults(common, yuzhong_network, tmp_path, capsys):
    parcels = network_candidates(yuzhong_network).iloc[::6][["id", "geometry"]].copy()
    parcels["id"] = [f"P{i}" for i in range(len(parcels))]
    path = tmp_path / "parcels.geojson"
    parcels.to_crs(4326).to_file(path)
    out = tmp_path / "out"
    assert main(["site", *common, "--model", "mclp", "--new", "1", "--candidates", str(path),
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    check_placement_summary(summary)  # the one schema, shared with plan (tests/test_cli_plan.py)
    assert summary["model"] == "mclp" and summary["status"] == "optimal" and summary["gap"] == 0
    assert summary["candidates"] == len(parcels)
    assert {s["id"] for s in summary["new_sites"]} <= set(parcels["id"])
    sites = gpd.read_file(out / "sites.geojson")
    assert list(sites["id"]) == [s["id"] for s in summary["new_sites"]]
    assert summary["after"]["coverage_share"] >= summary["before"]["coverage_share"]
    for name in ("map.html", "before_after.html", "report.html", "candidates.geojson", "facilities.geojson",
                 "allocation_lines.geojson", "travel_matrix.csv", "unreachable_demand.geojson"):
        assert (out / name).stat().st_size > 0
    assert {"sites", "candidates", "facilities"} <= {row[0] for row in pyogrio.list_layers(out / "layers.gpkg")}
    # Planner words: sites named from their road (id kept beside), times in m:ss, no raw floats.
    site = summary["new_sites"][0]
    assert site["name"].endswith(" (new small station 1)") and not site["name"].startswith("N")
    if site["road_name"]:
        assert site["name"] == f"{site['road_name']} (new small station 1)"
    printed = capsys.readouterr().out
    assert f"{site['name']} [{site['id']}]" in printed
    assert re.search(r"slowest first-due \d+:\d\d min → \d+:\d\d min", printed), printed
    assert not re.search(r"\d+\.\d{3}", printed), printed


def test_exclusions_remove_candidates_near_schools(common, yuzhong_network, tmp_path):
    cands = network_candidates(yuzhong_network)
    near = cands.geometry.iloc[0]
    schools = gpd.GeoDataFrame({"kind": ["sensitive"]}, geometry=[Point(near.x + 30, near.y)],
                               crs=cands.crs).to_crs(4326)
    path = tmp_path / "schools.geojson"
    schools.to_file(path)
    out = tmp_path / "out"
    assert main(["site", *common, "--model", "mclp", "--new", "1", "--exclusions", str(path),
                 "--no-small-rules", "--out", str(out)]) == 0
    kept = gpd.read_file(out / "candidates.geojson")
    # The file also lists the nodes a named site rule removed (excluded_by); the model saw the rest.
    assert set(kept["excluded_by"]) - {""} <= set(SITE_RULES)
    kept = kept[kept["excluded_by"] == ""]
    assert cands["id"].iloc[0] not in set(kept["id"])
    assert len(kept) == len(cands) - (cands.distance(schools.to_crs(cands.crs).geometry.iloc[0]) <= 50).sum()


def test_unknown_exclusion_kind_is_a_clear_error(common, tmp_path, capsys):
    path = tmp_path / "bad.geojson"
    gpd.GeoDataFrame({"kind": ["zoo"]}, geometry=[Point(106.55, 29.56)], crs=4326).to_file(path)
    assert main(["site", *common, "--model", "mclp", "--new", "1", "--exclusions", str(path),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "zoo" in err and "Traceback" not in err


def test_an_input_inside_the_output_folder_is_never_overwritten(common, tmp_path, capsys):
    """Regression: ``site --exclusions OUT/candidates.geojson --out OUT`` overwrote its input."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}", encoding="utf-8")  # an earlier run
    schools = out / "candidates.geojson"
    gpd.GeoDataFrame({"kind": ["sensitive"]}, geometry=[Point(106.57, 29.56)], crs=4326).to_file(schools)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for option in ("--exclusions", "--candidates"):
        assert main(["site", *common, "--model", "mclp", "--new", "1", option, str(schools),
                     "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "input of this run" in err and str(schools) in err and "Fix:" in err
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
