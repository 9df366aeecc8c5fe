"""``report.html``: one self-contained page per run (tables, charts, solver line, parameters).

Built from ``summary.json`` content (:meth:`coverage.assess.Assessment.summary`),
so the ``report`` command can rebuild it from an output folder. A summary is
either one run, or a placement run with ``before`` and ``after`` blocks and a
``placement`` block (:meth:`coverage.optimise.PlacementResult.as_dict`).
Charts are PNGs drawn with Matplotlib and embedded as base64, so the page
needs no other file.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from coverage import __version__
from coverage.errors import InputError
from coverage.outputs import words
from coverage.outputs.files import atomic_write
from coverage.plotting import report_fonts
from coverage.presets import GB50974, STANDARDS, STATION_TYPES

__all__ = [
    "cdf_figure",
    "comparison_runs",
    "district_figure",
    "figure_png",
    "access_html",
    "parameter_rows",
    "comparison_placements",
    "read_summary",
    "report_html",
    "split_summary",
    "station_rows",
    "summary_lines",
    "write_report",
]

_RUN_COLOURS = ["#4575b4", "#d73027", "#1a9850", "#984ea3", "#ff7f00", "#a65628"]


_SOLVER_KEYS = ("model", "status", "message", "solver", "method", "objective", "objective_text", "bound",
                "gap", "solve_s", "build_s", "chosen_ids", "new_sites", "unreachable_demand")
_SHARED_KEYS = ("standard", "standard_clause", "turnout_s", "travel_threshold_s", "response_threshold_s",
                "judged_percentile", "travel_model")


def split_summary(summary: Mapping) -> tuple[dict[str, dict], dict | None]:
    """Runs to report and the solver block of a ``summary.json`` dict.

    A placement summary has ``before`` and ``after`` blocks and its solver
    figures at the top level (:mod:`coverage.outputs.summary`; files of older
    versions nest them in a ``placement`` block, which is read too); run-wide keys such as ``standard`` given at the top
    level are copied into blocks that lack them.

    Returns
    -------
    runs : dict of str to dict
        ``{"before": ..., "after": ...}`` for a placement summary, else ``{"run": summary}``.
    placement : dict or None
        The solver block, when there is one.
    """
    if "before" in summary and "after" in summary:
        runs = {"before": dict(summary["before"]), "after": dict(summary["after"])}
        for run in runs.values():
            for key in _SHARED_KEYS:
                if key in summary and key not in run:
                    run[key] = summary[key]
            std = STANDARDS.get(str(run.get("standard", "")))
            if std is not None:
                run.setdefault("standard_clause", std.clause)
                run.setdefault("turnout_s", std.turnout_s)
                run.setdefault("travel_threshold_s", std.travel_threshold_s)
                run.setdefault("response_threshold_s", std.response_threshold_s)
                run.setdefault("judged_percentile", std.percentile)
        placement = summary.get("placement")
        if placement is None and "status" in summary:
            placement = {k: summary[k] for k in _SOLVER_KEYS if k in summary}
            if "new_sites" in summary and "chosen_ids" not in placement:
                placement["chosen_ids"] = [s.get("id") for s in summary["new_sites"]]
        return runs, placement
    if "coverage_share" in summary:
        return {"run": dict(summary)}, summary.get("placement")
    raise InputError(
        "this summary has neither metrics nor before/after blocks",
        source="summary.json", fix="point at the summary.json of an assess, site or plan run",
    )


def comparison_runs(summaries: Mapping[str, Mapping]) -> dict[str, dict]:
    """One column per scenario: its ``after`` block for placement runs, else the run itself."""
    runs = {}
    for label, summary in summaries.items():
        split, _ = split_summary(summary)
        runs[label] = split.get("after", split.get("run"))
    return runs


def comparison_placements(summaries: Mapping[str, Mapping]) -> dict[str, dict | None]:
    """The solver block of each scenario (None for an assessment-only run)."""
    return {label: split_summary(summary)[1] for label, summary in summaries.items()}


def read_summary(folder: str | Path) -> dict:
    """The ``summary.json`` of an output folder (or the file itself).

    Raises
    ------
    InputError
        If the file is missing or not valid JSON.
    """
    path = Path(folder)
    path = path / "summary.json" if path.is_dir() else path
    if not path.is_file():
        raise InputError("no summary.json here", source=path,
                         fix="give the output folder of an assess, site or plan run")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON ({exc})", source=path, fix="re-run the command that wrote it") from None


def summary_lines(summary: Mapping) -> list[str]:
    """What a run found, in a planner's words, for the command line (from its ``summary.json``)."""
    runs, placement = split_summary(summary)
    lines = []
    if placement:
        gap = placement.get("gap")
        objective = placement.get("objective_text") or words.objective(str(placement.get("model")),
                                                                       placement.get("objective"))
        lines.append(f"{placement.get('model')}: {placement.get('status')} ({placement.get('solver')}), "
                     f"{objective}, gap {'n/a' if gap is None else f'{100 * gap:.2f} %'}")
        sites = placement.get("new_sites") or []
        lines.append("new sites: " + ("; ".join(f"{s.get('name') or s.get('id')} [{s.get('id')}]" for s in sites)
                                      or "none"))
        unreachable = placement.get("unreachable_demand") or {}
        if unreachable.get("count"):
            lines.append(f"unreachable demand: {unreachable['count']} points no site reaches within the "
                         "threshold (listed in summary.json and unreachable_demand.geojson)")
        if summary.get("rule_violations"):
            lines.append(f"small-station rule violations: {len(summary['rule_violations'])} (see summary.json)")
    if "before" in runs:
        b, a = runs["before"], runs["after"]
        lines.append(f"coverage {words.share(b.get('coverage_share'))} → {words.share(a.get('coverage_share'))}; "
                     f"slowest first-due {words.duration(b.get('first_due_max_s'))} → "
                     f"{words.duration(a.get('first_due_max_s'))}")
    else:
        run = runs["run"]
        lines.append(f"coverage {words.share(run.get('coverage_share'))} within "
                     f"{words.duration(run.get('travel_threshold_s'))}; slowest first-due "
                     f"{words.duration(run.get('first_due_max_s'))}")
    return lines


def figure_png(build, *args) -> str:
    """Build a figure and return it as base64 PNG, with Chinese names in a CJK font."""
    with report_fonts():
        fig = build(*args)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def cdf_figure(runs: Mapping[str, Mapping]) -> Figure:
    """Share of demand reached against response time, one line per run."""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    threshold = None
    for colour, (label, run) in zip(_RUN_COLOURS * 3, runs.items(), strict=False):
        cdf = run.get("cdf") or {}
        if not cdf.get("share"):
            continue
        x = np.asarray(cdf.get("response_s") or cdf["travel_s"], dtype=float) / 60.0
        ax.step(x, np.asarray(cdf["share"], dtype=float) * 100, where="post", color=colour, label=label)
        threshold = run.get("response_threshold_s", threshold)
    if threshold:
        ax.axvline(threshold / 60.0, color="#444", ls="--", lw=1)
        ax.annotate(f"standard {threshold / 60:g} min", (threshold / 60.0, 3), fontsize=8,
                    xytext=(4, 0), textcoords="offset points")
    ax.set_xlabel("response time, min (turnout + travel)")
    ax.set_ylabel("demand reached, %")
    ax.set_ylim(0, 100)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    if ax.get_lines():
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no response-time distribution in these summaries", ha="center",
                transform=ax.transAxes)
    return fig


def district_figure(runs: Mapping[str, Mapping]) -> Figure:
    """District area of each station against its cap, grouped by run."""
    ids = list(dict.fromkeys(s["id"] for run in runs.values() for s in run.get("stations", [])))
    fig = Figure(figsize=(max(4.0, 0.9 * len(ids) + 2), 3.6))
    ax = fig.add_subplot()
    width = 0.8 / max(len(runs), 1)
    x = np.arange(len(ids))
    caps = {}
    for k, (colour, (label, run)) in enumerate(zip(_RUN_COLOURS * 3, runs.items(), strict=False)):
        by_id = {s["id"]: s for s in run.get("stations", [])}
        area = [by_id.get(i, {}).get("district_km2") or 0.0 for i in ids]
        ax.bar(x - 0.4 + width * (k + 0.5), area, width, color=colour, label=label)
        for i in ids:
            if by_id.get(i, {}).get("area_cap_km2") is not None:
                caps[i] = by_id[i]["area_cap_km2"]
    for j, i in enumerate(ids):
        if i in caps:
            ax.hlines(caps[i], j - 0.45, j + 0.45, color="#000", lw=2)
    ax.plot([], [], color="#000", lw=2, label="area cap")
    ax.set_xticks(x, ids)
    ax.set_ylabel("district area, km²")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def _fmt(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    if kind == "share":
        return words.share(value)
    if kind == "s":
        return words.duration(value)
    if kind == "km2":
        return words.area(value)
    if kind == "m":
        return words.distance(value)
    if kind == "bool":
        return "yes" if value else "no"
    return html.escape(str(value))


_METRICS = (
    ("coverage_share", "Coverage share (first-due within threshold)", "share"),
    ("second_due_coverage_share", "Second-due coverage share", "share"),
    ("first_due_p50_s", "First-due travel p50", "s"),
    ("first_due_p90_s", "First-due travel p90", "s"),
    ("first_due_max_s", "First-due travel max", "s"),
    ("response_p90_s", "Response p90 (turnout + travel)", "s"),
    ("unreachable_share", "Unreachable share", "share"),
    ("compliant", "Meets the standard", "bool"),
)


def station_rows(runs: Mapping[str, Mapping]) -> list[dict]:
    """One row per station id: name, type, cap, and per run status, district km², radius."""
    rows: dict[str, dict] = {}
    for label, run in runs.items():
        for s in run.get("stations", []):
            row = rows.setdefault(s["id"], {"id": s["id"], "name": s.get("name", ""), "type": s.get("type", ""),
                                            "area_cap_km2": s.get("area_cap_km2"), "runs": {}})
            row["runs"][label] = s
    return list(rows.values())


def parameter_rows(runs: Mapping[str, Mapping], extra: Mapping | None = None) -> list[tuple[str, str, str]]:
    """Parameters used, each with the clause (or assumption) it comes from."""
    run = next(iter(runs.values()))
    std = STANDARDS.get(str(run.get("standard", "")))
    clause = run.get("standard_clause") or (std.clause if std else "")
    rows = [
        ("standard", str(run.get("standard", "–")), clause),
        ("turnout", _fmt(run.get("turnout_s"), "s"), clause),
        ("travel-time threshold", _fmt(run.get("travel_threshold_s"), "s"), clause),
        ("judged percentile", _fmt(run.get("judged_percentile"), "share"), clause),
    ]
    types = sorted({s.get("type") for r in runs.values() for s in r.get("stations", []) if s.get("type")})
    for t in types:
        st = STATION_TYPES.get(t)
        cap = next((s.get("area_cap_km2") for r in runs.values() for s in r.get("stations", [])
                    if s.get("type") == t), None)
        rows.append((f"district area cap, {t}" + (f" ({st.name_zh})" if st else ""),
                     _fmt(cap, 'km2'), st.clause if st else "user value"))
    travel = run.get("travel_model")
    if travel:
        rows.append(("travel model", str(travel.get("name")),
                     "assumed urban fire-engine speeds per road class (coverage.network.travel); calibrate locally"))
        rows.append(("congestion factor", str(travel.get("congestion_factor")), "user value (1 = free flow)"))
        rows.append(("apparatus height", words.distance(travel.get("apparatus_height_m")),
                     "roads with a lower maxheight are dropped; user value"))
    demand = run.get("demand") or {}
    if demand:
        rows.append(("demand", f"{demand.get('points')} points, weight in {demand.get('weight_unit')}",
                     "road samples (every road metre counts) unless a demand layer is given"))
    if "hydrants" in run or any("hydrant" in str(k) for k in (extra or {})):
        rows.append(("hydrant protection radius", f"{GB50974.protection_radius_m:g} m", GB50974.clause))
        rows.append(("hydrant spacing", f"{GB50974.max_spacing_m:g} m", GB50974.clause))
    for key, value in (extra or {}).items():
        rows.append((str(key), html.escape(str(value)), "scenario file"))
    return rows


def _solver_line(placement: Mapping | None, label: str | None = None) -> str:
    """The solver's answer in a planner's words: model, status, objective, gap, new sites by name."""
    tag = f"<b>{html.escape(label)}</b>: " if label else ""
    if not placement:
        return f"<p class='solver'>{tag}No placement model was run: this report assesses the stations as given.</p>"
    model = str(placement.get("model", "?"))
    gap = placement.get("gap")
    gap_text = "n/a" if gap is None else f"{100 * gap:.2f} %"
    objective = placement.get("objective_text") or words.objective(model, placement.get("objective"))
    bound = placement.get("bound")
    bound_text = words.duration(bound) if model == "pcenter" else ("–" if bound is None else f"{bound:,.6g}")
    parts = [
        f"model <b>{html.escape(model)}</b>",
        f"status <b>{html.escape(str(placement.get('status', '?')))}</b>",
        html.escape(objective),
        f"bound {html.escape(bound_text)}",
        f"gap {gap_text}",
        html.escape(str(placement.get("solver", ""))),
        f"solved in {words.duration(placement.get('solve_s') or 0.0)}",
    ]
    line = " · ".join(parts)
    sites = placement.get("new_sites")
    if sites:
        named = [f"{s.get('name') or s.get('id')} [{s.get('id')}]" for s in sites]
        line += f"<br>new sites: {html.escape('; '.join(named))}"
    elif placement.get("chosen_ids"):
        line += f"<br>new sites: {html.escape(', '.join(map(str, placement['chosen_ids'])))}"
    unreachable = placement.get("unreachable_demand")
    if unreachable and unreachable.get("count"):
        amount = (words.distance(unreachable.get("weight")) + " of road"
                  if unreachable.get("weight_unit") == "m of road" else f"weight {unreachable.get('weight'):,.0f}")
        line += (f"<br>unreachable demand: {unreachable['count']} points ({html.escape(amount)}) no site can "
                 "reach within the threshold, listed in summary.json and the unreachable_demand layer")
    message = placement.get("message")
    if message:
        line += f"<br><i>{html.escape(str(message))}</i>"
    cls = "solver ok" if placement.get("status") == "optimal" else "solver warn"
    return f"<p class='{cls}'>{tag}Solver: {line}</p>"


_CSS = """
body {font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em;}
table {border-collapse: collapse; margin: 0.5em 0 1.5em;}
th, td {border: 1px solid #ccc; padding: 3px 8px; text-align: right;}
th:first-child, td:first-child, td.l {text-align: left;}
th {background: #f2f2f2;}
.over {color: #b2182b; font-weight: bold;}
.solver {padding: 6px 10px; border-left: 4px solid #999; background: #f7f7f7;}
.solver.ok {border-color: #1a9850;} .solver.warn {border-color: #d73027;}
img {max-width: 100%;}
.small {color: #666; font-size: 12px;}
"""


def report_html(
    runs: Mapping[str, Mapping],
    *,
    placement: Mapping | None = None,
    placements: Mapping[str, Mapping | None] | None = None,
    parameters: Mapping | None = None,
    title: str = "Fire-station coverage report",
    extra_html: str = "",
) -> str:
    """The report page for one or more runs (before/after, or scenarios side by side).

    Parameters
    ----------
    runs : mapping of str to dict
        Column label to a run summary (:meth:`Assessment.summary`), in column order.
    placement : dict, optional
        Solver block (status, gap, objective, bound, solver, solve_s, message).
    placements : mapping of str to dict, optional
        For a comparison: the solver block of each run, by label (None for a
        run without placement); one solver line per run.
    parameters : mapping, optional
        Extra parameters to list (source: the scenario file).
    title : str
    extra_html : str
        Sections placed before the parameters (e.g. :func:`access_html`).

    Returns
    -------
    str
        A standalone HTML page (images embedded).
    """
    if not runs:
        raise InputError("no run to report", fix="give at least one summary")
    labels = list(runs)
    if placements is not None:
        if any(placements.values()):
            solver = "".join(_solver_line(placements.get(lab), lab) for lab in labels)
        else:
            solver = _solver_line(None)
    else:
        solver = _solver_line(placement)
    head = "".join(f"<th>{html.escape(lab)}</th>" for lab in labels)
    metric_rows = "".join(
        f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{_fmt(runs[lab].get(key), kind)}</td>" for lab in labels)
        + "</tr>"
        for key, name, kind in _METRICS
    )
    st_head = "<th>station</th><th>type</th><th>area cap</th>" + "".join(
        f"<th>{html.escape(lab)}: status</th><th>{html.escape(lab)}: district</th>"
        f"<th>{html.escape(lab)}: protection radius</th>" for lab in labels
    )
    st_rows = []
    for row in station_rows(runs):
        cells = [f"<td class='l'>{html.escape(str(row['name'] or row['id']))} [{html.escape(str(row['id']))}]</td>",
                 f"<td class='l'>{html.escape(str(row['type']))}</td>", f"<td>{_fmt(row['area_cap_km2'], 'km2')}</td>"]
        for lab in labels:
            s = row["runs"].get(lab)
            if s is None:
                cells += ["<td class='l'>absent</td>", "<td>–</td>", "<td>–</td>"]
                continue
            over = " class='over'" if s.get("over_cap") else ""
            cells += [f"<td class='l'>{html.escape(str(s.get('status', '')))}</td>",
                      f"<td{over}>{_fmt(s.get('district_km2'), 'km2')}</td>",
                      f"<td>{_fmt(s.get('protection_radius_m'), 'm')}</td>"]
        st_rows.append("<tr>" + "".join(cells) + "</tr>")
    params = "".join(
        f"<tr><td>{html.escape(k)}</td><td class='l'>{v}</td><td class='l'>{html.escape(src)}</td></tr>"
        for k, v, src in parameter_rows(runs, parameters)
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="small">station-coverage {__version__}, {stamp}</p>
{solver}
<h2>Coverage</h2>
<table><tr><th>metric</th>{head}</tr>{metric_rows}</table>
<h2>Response-time distribution</h2>
<img alt="response-time CDF" src="data:image/png;base64,{figure_png(cdf_figure, runs)}">
<h2>Station districts against their area caps</h2>
<img alt="district areas" src="data:image/png;base64,{figure_png(district_figure, runs)}">
<table><tr>{st_head}</tr>{''.join(st_rows)}</table>
{extra_html}
<h2>Parameters</h2>
<table><tr><th>parameter</th><th>value</th><th>source</th></tr>{params}</table>
</body></html>
"""


def write_report(
    summary: Mapping, path: str | Path, *, title: str = "Fire-station coverage report"
) -> Path:
    """Write ``report.html`` for a ``summary.json`` dict (one run or before/after)."""
    runs, placement = split_summary(summary)
    return atomic_write(path, report_html(runs, placement=placement, parameters=summary.get("parameters"),
                                          title=title, extra_html=access_html(runs, summary)))


def _worst_text(w: Mapping | None) -> str:
    if not w:
        return "–"
    on = f"{w.get('road_name')}, " if w.get("road_name") else ""
    return (f"{_fmt(w.get('first_due_s'), 's')} from {html.escape(str(w.get('station_id')))} "
            f"({html.escape(str(w.get('station_name', '')))}) at {w.get('lat', 0):.5f}, {w.get('lon', 0):.5f}: "
            f"{html.escape(on)}reached from {html.escape(str(w.get('access_road_name')))} "
            f"+ {_fmt(w.get('on_foot_m'), 'm')} m on foot")


def access_html(runs: Mapping[str, Mapping], summary: Mapping | None = None) -> str:
    """Access, land and district-shape figures per run; for a placement, what set the objective
    and what each site changes. Empty for summaries without them."""
    summary = summary or {}
    labels = [lab for lab in runs if "land" in runs[lab] or "districts" in runs[lab]]
    if not labels:
        return ""

    def get(run, block, key):
        return (run.get(block) or {}).get(key)

    rows = [
        ("land, km²", lambda r: _fmt(get(r, "land", "land_km2"), "km2")),
        ("no vehicle access (车进不去), km²", lambda r: _fmt(get(r, "land", "no_access_km2"), "km2")),
        ("no-access zones", lambda r: str(get(r, "land", "no_access_zones") or 0)),
        ("road length reached within the standard",
         lambda r: _fmt(get(r, "roads", "coverage_share"), "share")),
        ("district pieces (all stations)", lambda r: str(get(r, "districts", "pieces_total"))),
        ("smallest main-piece share", lambda r: _fmt(get(r, "districts", "min_main_piece_share"), "share")),
        ("demand inside another station's district",
         lambda r: _fmt(get(r, "districts", "cross_district_share"), "share")),
        ("district clean-up moved, km²", lambda r: _fmt(get(r, "districts", "cleanup_moved_km2"), "km2")),
        ("high-rises reached by an aerial apparatus in time",
         lambda r: str(get(r, "highrise", "aerial_in_time") if r.get("highrise") else "–")),
        ("high-rises with no aerial access from any road",
         lambda r: str(get(r, "highrise", "no_aerial_access") if r.get("highrise") else "–")),
    ]
    head = "".join(f"<th>{html.escape(lab)}</th>" for lab in labels)
    body = "".join(
        f"<tr><td>{html.escape(name)}</td>" + "".join(f"<td>{fn(runs[lab])}</td>" for lab in labels) + "</tr>"
        for name, fn in rows
    )
    worst = "".join(
        f"<tr><td class='l'>{html.escape(lab)}</td><td class='l'>{_worst_text(runs[lab].get('worst_first_due'))}"
        "</td></tr>" for lab in labels
    )
    out = (f"<h2>Access, land and district shape</h2><table><tr><th>figure</th>{head}</tr>{body}</table>"
           f"<h3>Worst first-due time: where, and from which road</h3><table>{worst}</table>")
    effects = summary.get("site_effects") or []
    if effects:
        rows = "".join(
            f"<tr><td class='l'>{html.escape(str(e['id']))}</td><td class='l'>{html.escape(str(e['road_name']))}</td>"
            f"<td class='l'>{html.escape(str(e['road_class']))}</td>"
            f"<td class='l'>{html.escape(str(e.get('nearest_station_id')))}, {_fmt(e.get('nearest_station_m'), 'm')} m</td>"
            f"<td>{_fmt(e.get('district_km2'), 'km2')}</td><td>{_fmt(e.get('newly_covered_share'), 'share')}</td></tr>"
            for e in effects
        )
        out += ("<h3>What each proposed site changes</h3><table><tr><th>site</th><th>road</th><th>class</th>"
                "<th>nearest station</th><th>district km²</th><th>demand newly covered</th></tr>" + rows + "</table>")
    why = summary.get("objective_set_by")
    if why:
        out += (f"<h3>What set the objective</h3><p>{html.escape(str(why.get('note', '')))}.</p><table>"
                f"<tr><td class='l'>before</td><td class='l'>{_worst_text(why.get('before'))}</td></tr>"
                f"<tr><td class='l'>after</td><td class='l'>{_worst_text(why.get('after'))}</td></tr></table>")
    return out

