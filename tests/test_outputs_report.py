"""report.html of real Yuzhong runs: figures against independent computations, embedded charts."""

from __future__ import annotations

import base64
import json
import re

import geopandas as gpd
import numpy as np
import pytest

from coverage.assess import assess
from coverage.errors import InputError
from coverage.outputs import words
from coverage.outputs.report import (
    cdf_figure,
    comparison_placements,
    comparison_runs,
    district_figure,
    read_summary,
    report_html,
    split_summary,
    write_report,
)
from coverage.presets import STATION_TYPES


@pytest.fixture(scope="module")
def before(yuzhong_assessment):
    return yuzhong_assessment


@pytest.fixture(scope="module")
def after(yuzhong_network, yuzhong_index, before):
    """Baseline without S4 (a what-if closure)."""
    st = before.stations[["id", "name", "type", "status", "geometry"]]
    return assess(yuzhong_network, gpd.GeoDataFrame(st[st["id"] != "S4"], crs=st.crs),
                  index=yuzhong_index, demand=before.demand_set)


SOLVER = {"model": "mclp", "status": "feasible", "gap": 0.0123, "objective": 1.5e5, "bound": 1.52e5,
          "solver": "HiGHS 1.15", "solve_s": 12.0, "message": "time limit reached",
          "new_sites": [{"id": "N1873080412", "name": "嘉滨路 (new small station 1)"}]}


def placement_summary(before, after, solver=None, *, parameters=None) -> dict:
    """A placement summary.json in the one schema: solver figures at the top, full before/after."""
    return {**(solver or {}), "before": before.summary(), "after": after.summary(),
            "parameters": dict(parameters or {})}


def _share(a) -> float:
    w = a.demand["weight"].to_numpy()
    return w[a.demand["first_due_s"].to_numpy() <= a.standard.travel_threshold_s].sum() / w.sum()


def test_before_after_report(before, after, tmp_path):
    summary = json.loads(json.dumps(placement_summary(before, after, SOLVER, parameters={"site.p": 1})))
    path = write_report(summary, tmp_path / "report.html")
    page = path.read_text(encoding="utf-8")
    # Coverage shares computed here from the demand weights, not taken from the metrics.
    assert f"{100 * _share(before):.1f} %" in page and f"{100 * _share(after):.1f} %" in page
    p90 = before.metrics["first_due_p90_s"]
    minutes, seconds = divmod(round(p90), 60)
    assert f"<td>{minutes}:{seconds:02d} min</td>" in page
    assert "status <b>feasible</b>" in page and "gap 1.23 %" in page
    # New sites by their road name, the id kept beside it.
    assert "嘉滨路 (new small station 1) [N1873080412]" in page
    assert "150,000" in page and "objective 150000" not in page
    # The closed station shows as absent after; its over-cap districts are flagged.
    assert "absent" in page
    over = before.stations[before.stations["district_km2"] > before.stations["area_cap_km2"]]
    for area in over["district_km2"]:
        assert f"class='over'>{area:.2f} km²<" in page
    # Parameters name their clause.
    assert STATION_TYPES["level1"].clause in page and before.standard.clause in page
    assert "site.p" in page and "scenario file" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2
    assert all(base64.b64decode(img).startswith(b"\x89PNG") for img in images)
    assert not re.search(r'(?:src|href)="(?!data:)', page)


def test_single_run_report_says_no_solver(before):
    runs, placement = split_summary(before.summary())
    assert list(runs) == ["run"] and placement is None
    assert "No placement model was run" in report_html(runs)


def test_site_style_summary_with_top_level_solver_fields(before, after):
    """The site command writes solver figures at the top and slim before/after blocks."""
    slim = {k: before.summary()[k] for k in ("coverage_share", "first_due_p90_s", "stations")}
    summary = {"model": "pcenter", "status": "optimal", "gap": 0.0, "standard": "gb51080",
               "new_sites": [{"id": "C1"}], "before": slim, "after": slim}
    runs, placement = split_summary(summary)
    assert placement["status"] == "optimal" and placement["chosen_ids"] == ["C1"]
    assert runs["before"]["travel_threshold_s"] == before.standard.travel_threshold_s
    page = report_html(runs, placement=placement)
    assert "status <b>optimal</b>" in page and "gap 0.00 %" in page


def test_planner_words():
    assert words.duration(177.499) == "2:57 min" and words.duration(42.4) == "42 s"
    assert words.duration(float("inf")) == "unreachable" and words.duration(None) == "–"
    assert words.distance(149.6) == "150 m" and words.distance(2349) == "2.3 km"
    assert words.area(1.8512) == "1.85 km²" and words.area(0.0042) == "4,200 m²"
    assert words.share(0.8734) == "87.3 %"
    assert words.objective("pcenter", 699.761) == "worst first-due time 11:40 min"
    assert words.objective("lscp", 3.0) == "3 sites"
    assert words.objective("mclp", 15234.2, weight_unit="m of road") == "demand covered: 15.2 km of road"


def test_charts_plot_the_summaries(before, after):
    runs = {"before": before.summary(), "after": after.summary()}
    ax = cdf_figure(runs).axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 2
    share = np.asarray(before.cdf["share"]) * 100
    assert np.allclose(lines[0].get_ydata(), share)
    bars = district_figure(runs).axes[0].patches
    heights = sorted(round(b.get_height(), 6) for b in bars if b.get_height() > 0)
    expected = sorted(round(v, 6) for a in (before, after) for v in a.stations["district_km2"])
    assert heights == pytest.approx(expected)


def test_comparison_and_summary_errors(before, after, tmp_path):
    summaries = {"A": before.summary(), "B": placement_summary(before, after, SOLVER)}
    runs = comparison_runs(summaries)
    assert runs["A"]["coverage_share"] == pytest.approx(_share(before))
    assert runs["B"]["coverage_share"] == pytest.approx(_share(after))
    # Regression: a comparison of placement runs said "No placement model was run".
    page = report_html(runs, placements=comparison_placements(summaries))
    assert "<b>B</b>: Solver:" in page and "status <b>feasible</b>" in page and "嘉滨路" in page
    assert "<b>A</b>: No placement model was run" in page
    both = {"A": summaries["B"], "B": summaries["B"]}
    page = report_html(comparison_runs(both), placements=comparison_placements(both))
    assert page.count("status <b>feasible</b>") == 2 and "No placement" not in page
    with pytest.raises(InputError, match="no summary.json"):
        read_summary(tmp_path)
    (tmp_path / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        read_summary(tmp_path)
    with pytest.raises(InputError, match="neither metrics"):
        split_summary({"hello": 1})
