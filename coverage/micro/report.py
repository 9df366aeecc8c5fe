"""``summary.json`` content and the HTML report section of a micro-station run."""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np

from coverage.micro.assess import MicroAssessment
from coverage.micro.siting import MicroSiting

__all__ = ["micro_report_html", "micro_summary"]


def _share(block: Mapping | None) -> str:
    if not block or block.get("share") is None:
        return "n/a"
    return f"{100 * block['share']:.1f} %"


def _min(s: float | None) -> str:
    if s is None or not np.isfinite(s):
        return "n/a"
    return f"{s / 60:.1f} min ({s:.0f} s)"


def micro_summary(assessment: MicroAssessment, *, siting: MicroSiting | None = None,
                  combined: Mapping | None = None, network_report: Mapping | None = None,
                  run_s: float | None = None, inputs: Mapping | None = None) -> dict:
    """Everything a planner or a script needs from one run, as plain JSON."""
    std = assessment.standard
    gaps = assessment.gaps
    return {
        "standard": {"name": std.name, "clause": std.clause, "turnout_s": std.turnout_s,
                     "travel_s": std.travel_s, "response_s": std.response_s},
        "walk_model": assessment.model.as_dict(),
        "metrics": assessment.metrics,
        "combined": dict(combined) if combined is not None else None,
        "siting": siting.summary() if siting is not None else None,
        "gaps": [{"id": r.id, "name": r.name, "kind": r.kind, "rule": r.rule,
                  "first_water_s": float(r.first_water_s)} for r in gaps.itertuples()],
        "key_units_outside": [{"id": r.id, "name": r.name, "rule": r.rule}
                              for r in assessment.key_units_outside.itertuples()],
        "stations": [{"id": r.id, "name": r.name, "type": r.type, "status": r.status,
                      "snap_m": float(r.snap_m), "buildings_reached": int(r.buildings_reached),
                      "key_units_reached": int(r.key_units_reached)}
                     for r in assessment.stations.itertuples()],
        "walk_network": dict(network_report) if network_report is not None else None,
        "inputs": dict(inputs) if inputs else None,
        "run_s": run_s,
    }


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def micro_report_html(summary: Mapping, *, max_rows: int = 50) -> str:
    """A self-contained HTML page: the micro-station section of the report."""
    std, model, m = summary["standard"], summary["walk_model"], summary["metrics"]
    parts = [
        "<h1>Micro fire stations (微型消防站): the first three minutes</h1>",
        f"<p>Rule: {html.escape(std['clause'])}. A building counts as reached when first water "
        f"arrives within {std['turnout_s']:.0f} s turnout + {std['travel_s']:.0f} s on the way "
        "(walk network plus the straight legs to the nearest walkway).</p>",
        "<h2>What the micro stations reach</h2>",
        _table(["Measure", "Reached", "Total", "Share"], [
            ["Key units (重点单位)", f"{m['key_units']['reached']:.0f}",
             f"{m['key_units']['total']:.0f}", _share(m["key_units"])],
            ["High-rise buildings", f"{m['highrises']['reached']:.0f}",
             f"{m['highrises']['total']:.0f}", _share(m["highrises"])],
            ["Residential floor area, m²", f"{m['residential_floor_area']['reached']:,.0f}",
             f"{m['residential_floor_area']['total']:,.0f}", _share(m["residential_floor_area"])],
            ["All floor area, m²", f"{m['floor_area']['reached']:,.0f}",
             f"{m['floor_area']['total']:,.0f}", _share(m["floor_area"])],
        ]),
        f"<p>{m['stations']} micro stations; median time to first water "
        f"{_min(m['median_first_water_s'])}.</p>",
    ]
    sit = summary.get("siting")
    if sit:
        parts += [
            "<h2>Proposed community micro stations</h2>",
            f"<p>{sit['model'].upper()} on {sit['candidates']} candidate sites and "
            f"{sit['demand_points']} demand points: <b>{sit['new_stations']} new stations</b>. "
            f"Solver status <b>{html.escape(sit['status'])}</b> ({html.escape(sit['message'])}); "
            f"objective {sit['objective']}, bound {sit['bound']}, gap {sit['gap']}; "
            f"{sit['solver']}, {sit['solve_s']:.1f} s solving. "
            f"{sit['uncoverable_demand']} demand points no candidate reaches within the rule."
            + (" The solver gave no solution: the sites come from a greedy cover."
               if sit["heuristic_fallback"] else "") + "</p>",
        ]
    comb = summary.get("combined")
    if comb:
        rows = []
        for label, key in (("All buildings", "all"), ("High-rises", "highrises")):
            c = comb[key]
            if not c["buildings"]:
                continue
            rows.append([label, str(c["buildings"]), _min(c["median_first_water_s"]),
                         _min(c["median_first_engine_s"]), _min(c["median_time_saved_s"]),
                         f"{100 * c['micro_first_share']:.1f} %", str(c["neither"])])
        parts += ["<h2>First water against first engine</h2>",
                  "<p>First engine: the station model (same engine, drive network, its "
                  "standard's turnout). <i>Neither</i>: no micro station within its rule and no "
                  "engine within its own.</p>",
                  _table(["Buildings", "Count", "Median first water", "Median first engine",
                          "Median time saved", "Micro station first", "Neither in time"], rows)]
    gaps = summary.get("gaps") or []
    parts.append(f"<h2>Gaps: key units and high-rises not reached ({len(gaps)})</h2>")
    if gaps:
        parts.append(_table(["Id", "Name", "Kind", "Rule", "First water"], [
            [g["id"], g["name"] or "", g["kind"], g["rule"], _min(g["first_water_s"])]
            for g in gaps[:max_rows]]))
        if len(gaps) > max_rows:
            parts.append(f"<p>… and {len(gaps) - max_rows} more in micro_gaps.geojson.</p>")
    outside = summary.get("key_units_outside") or []
    if outside:
        parts += [f"<h2>Key units outside the study area ({len(outside)}), not assessed</h2>",
                  _table(["Id", "Name", "Rule"], [[o["id"], o["name"] or "", o["rule"]]
                                                  for o in outside[:max_rows]])]
    parts += ["<h2>Walk model</h2>", _table(["Parameter", "Value"],
                                            [[k, str(v)] for k, v in model.items()]),
              "<p>Sources: module docstring of coverage.network.walk (GB 50352-2019 step "
              "geometry; Fruin 1971 walking and stair speeds; SFPE Handbook; GB 17761-2018). "
              "Running speeds with equipment are assumptions: calibrate with a timed drill.</p>"]
    if summary.get("run_s") is not None:
        parts.append(f"<p>Run time {summary['run_s']:.1f} s.</p>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;}"
             "table{border-collapse:collapse;margin:1em 0;}"
             "td,th{border:1px solid #ccc;padding:0.2em 0.5em;text-align:left;}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Micro fire stations"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")
