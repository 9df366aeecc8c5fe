"""Outputs of a ``phase`` run: year table, map by year, coverage plot and report section.

Pure functions build the table, the folium map, the matplotlib figure and the
HTML; :func:`write_phase_outputs` writes them atomically through
:mod:`coverage.outputs.files` (and :func:`coverage.outputs.maps.save_map` for
the self-contained map page).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import folium
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from coverage.outputs.files import atomic_write, write_geojson, write_json  # noqa: E402
from coverage.outputs.maps import save_map  # noqa: E402
from coverage.phasing.hydrants import HydrantPhasing  # noqa: E402
from coverage.phasing.plan import PhaseRun  # noqa: E402
from coverage.plotting import report_fonts

__all__ = ["coverage_figure", "phase_map", "report_html", "write_phase_outputs", "year_table"]

#: One colour per plan year (colour-blind-safe Okabe–Ito order), repeated if needed.
YEAR_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442")


def year_table(run: PhaseRun) -> pd.DataFrame:
    """The year-by-year table with planner units (percent, minutes)."""
    t = run.years.copy()
    return pd.DataFrame({
        "plan": t["plan"], "year": t["year"], "sites opened": t["opened"],
        "new sites in service": t["new_sites"],
        "coverage (% within threshold)": (100 * t["coverage_share"]).round(1),
        "first-due p90 (min)": (t["first_due_p90_s"] / 60).round(2),
        "first-due worst (min)": (t["first_due_max_s"] / 60).round(2),
        "planned-for coverage (%)": (100 * t["model_coverage_share"].astype(float)).round(1),
        "district caps met": t["caps_met"].map({True: "yes", False: "no"}),
        "over cap": t["over_cap"],
    })


def coverage_figure(run: PhaseRun):
    """Coverage share against year, phased and myopic, from today's level."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    today = 100 * run.before.metrics["coverage_share"]
    first = run.spec.years[0] - 1
    for name, style in (("phased", "-o"), ("myopic", "--s")):
        rows = run.years[run.years["plan"] == name]
        if len(rows):
            ax.plot([first, *rows["year"]], [today, *(100 * rows["coverage_share"])], style,
                    label=f"{name} plan")
    ax.set_xlabel("year")
    ax.set_ylabel("demand covered within threshold (%)")
    ax.set_xticks([first, *run.spec.years])
    ax.set_xticklabels(["today", *map(str, run.spec.years)])
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def phase_map(run: PhaseRun, *, tiles: bool = True) -> folium.Map:
    """Today's stations in black, the phased plan's sites coloured by opening year,
    the myopic plan's as hollow rings (same colours)."""
    st = run.existing.to_crs(4326)
    centre = [float(st.geometry.y.mean()), float(st.geometry.x.mean())]
    fmap = folium.Map(location=centre, zoom_start=13, tiles=None, control_scale=True)
    # Only Leaflet itself is used: no icon fonts, jQuery or Bootstrap (the page stays offline).
    fmap.default_js = [(k, v) for k, v in fmap.default_js if k == "leaflet"]
    fmap.default_css = [(k, v) for k, v in fmap.default_css if k == "leaflet_css"]
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(fmap)
    today = folium.FeatureGroup(name="today's stations").add_to(fmap)
    for r in st.itertuples():
        folium.CircleMarker([r.geometry.y, r.geometry.x], radius=7, color="black", fill=True,
                            fill_opacity=0.9, tooltip=f"{r.name} (today)").add_to(today)
    sites = run.sites.to_crs(4326) if len(run.sites) else run.sites
    colour = {y: YEAR_COLOURS[i % len(YEAR_COLOURS)] for i, y in enumerate(run.spec.years)}
    for plan, filled in (("phased", True), ("myopic", False)):
        group = folium.FeatureGroup(name=f"{plan} plan, by year", show=filled).add_to(fmap)
        for r in sites[sites["plan"] == plan].itertuples() if len(sites) else []:
            folium.CircleMarker(
                [r.geometry.y, r.geometry.x], radius=8 if filled else 11, color=colour[r.year],
                weight=3, fill=filled, fill_opacity=0.85,
                tooltip=f"{plan}: {r.label} opens {r.year} ({r.type})").add_to(group)
    legend = "".join(f'<div><span style="color:{c}">&#9679;</span> {y}</div>'
                     for y, c in colour.items())
    fmap.get_root().html.add_child(folium.Element(
        '<div style="position:fixed;bottom:20px;left:20px;z-index:9999;background:white;'
        f'padding:6px;border:1px solid #999;font:12px sans-serif"><b>opens in</b>{legend}'
        '<div>&#9675; ring: myopic plan</div><div>&#9679; black: today</div></div>'))
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _table_html(df: pd.DataFrame, highlight=None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for i, r in df.iterrows():
        style = ' style="background:#fde0dc;font-weight:bold"' if highlight is not None and \
            bool(highlight.loc[i]) else ""
        rows.append(f"<tr{style}>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in r) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(v) -> str:
    if isinstance(v, float):
        return "–" if pd.isna(v) else f"{v:,.3g}" if abs(v) < 1 else f"{v:,.2f}"
    return str(v)


def _status_line(label: str, r) -> str:
    gap = "n/a" if r.gap is None else f"{r.gap:.3%}"
    bound = "n/a" if r.bound is None else f"{r.bound:,.1f}"
    obj = "n/a" if r.objective is None else f"{r.objective:,.1f}"
    return (f"<li><b>{label}</b>: {html.escape(r.status)} — objective {obj}, bound {bound}, "
            f"gap {gap}. {html.escape(r.message)} ({html.escape(r.solver)}, "
            f"{r.solve_s:.1f} s)</li>")


def report_section(run: PhaseRun, *, plot_png: bytes | None = None,
                   hydrants: HydrantPhasing | None = None) -> str:
    """The phasing section (HTML fragment): status, year table, difference, plot,
    period assessment (worst period highlighted) and incident workload."""
    spec = run.spec
    diff = run.difference()
    unit = "cost" if spec.costs is not None else "stations"
    parts = [
        "<h2>Phased build-out</h2>",
        f"<p>Years {spec.years[0]}–{spec.years[-1]}, budget per year {list(spec.budget)} ({unit})"
        f"{', unspent budget carries over' if spec.carry_over else ''}; objective "
        f"<b>{html.escape(run.phased.objective_name)}</b>, discount "
        f"<b>{html.escape(spec.discount.name)}</b> ({spec.discount.rate:.1%}: "
        f"{html.escape(spec.discount.source)}); time-of-day siting: {html.escape(run.robust)}.</p>",
        "<ul>", _status_line("multi-period plan", run.phased), _status_line("myopic plan", run.myopic),
        "</ul>",
        "<p>Summed coverage share over the years, phased minus myopic: <b>"
        + ("n/a (no myopic plan)" if diff["summed_coverage_share"] is None else
           f"{100 * diff['summed_coverage_share']:+.2f} percentage points") + "</b>; objective "
        f"difference {'n/a' if diff['objective'] is None else format(diff['objective'], '+,.1f')}."
        " The small-station district caps are reported per year, not enforced by the phased model."
        " Coverage, p90 and caps are under the travel model's own times; 'planned-for coverage' is"
        " what the model maximised (with time-of-day siting: the worst period's, or within the"
        " threshold in every period).</p>",
        _table_html(year_table(run)),
    ]
    if plot_png is not None:
        parts.append('<p><img alt="coverage by year" src="data:image/png;base64,'
                     f'{base64.b64encode(plot_png).decode("ascii")}"/></p>')
    if run.periods is not None:
        p = run.periods
        show = pd.DataFrame({
            "stations": p["stations"], "period": p["period"], "hours": p["hours"],
            "coverage (%)": (100 * p["coverage_share"]).round(1),
            "second-due coverage (%)": (100 * p["second_due_coverage_share"]).round(1),
            "first-due p90 (min)": (p["first_due_p90_s"] / 60).round(2),
            "worst (min)": (p["first_due_max_s"] / 60).round(2),
            "worst period": p["worst"].map({True: "WORST", False: ""}),
        })
        parts += ["<h2>Assessment by time of day</h2>",
                  "<p>Travel times scaled per road class for each period; the worst period "
                  "(lowest coverage) is highlighted. The congestion factors are assumptions "
                  "unless calibrated.</p>", _table_html(show, highlight=p["worst"])]
    if run.workload is not None:
        w = run.workload
        generated = bool(run.workload.attrs.get("generated"))
        show = pd.DataFrame({
            "station": w["station"], "name": w["name"], "calls": w["calls"],
            "calls / year": w["calls_per_year"].round(1),
            "busy hours / year": w["busy_h_per_year"].round(1),
            "busy fraction (%)": (100 * w["busy_fraction"]).round(2),
            "calls while busy (%)": (100 * w["busy_arrival_share"]).round(2),
            "Erlang check (%)": (100 * w["erlang_busy_share"]).round(2),
            "over threshold": w["over_threshold"].map({True: "YES", False: ""}),
        })
        over = int(w["over_threshold"].sum())
        parts += ["<h2>Incident workload</h2>",
                  f"<p>Stations of the {spec.years[-1]} plan; each incident goes to its first-due "
                  "station; a call arriving while that station is still busy goes to the "
                  f"second-due station. {over} station(s) over the workload threshold.</p>",
                  "<p><b>These incidents are GENERATED, not real records: the figures only "
                  "demonstrate the method.</b></p>" if generated else "",
                  _table_html(show, highlight=w["over_threshold"])]
    if hydrants is not None:
        parts.append(hydrant_section(hydrants))
    return "\n".join(parts)


def hydrant_section(hp: HydrantPhasing) -> str:
    """Hydrants year by year: new sites, covered road length, in-service rate."""
    t = hp.table
    show = pd.DataFrame({
        "year": t["year"], "new hydrants": t["new_hydrants"], "repaired": t["repaired"],
        "road covered (%)": (100 * t["covered_share"]).round(2),
        "in service (%)": (100 * t["in_service_rate"]).round(2),
        "100 % coverage": t["coverage_target_met"].map({True: "met", False: "not yet"}),
        "in-service target": t["in_service_target_met"].map({True: "met", False: "not yet"}),
    })
    res = hp.result
    status = "nothing to site" if res is None else (
        f"{html.escape(res.status)} ({html.escape(res.message)})")
    return "\n".join([
        "<h2>Hydrants year by year (GB 50974)</h2>",
        f"<p>New sites phased by the exact multi-period model: {status}. Road length "
        f"{hp.road_m / 1000:,.2f} km; reachable by some hydrant site "
        f"{hp.reachable_m / 1000:,.2f} km. Hydrants of unknown status count as "
        f"{'in' if hp.count_unknown else 'not in'} service.</p>",
        _table_html(show)])


_CSS = ("body{font:14px sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;"
        "text-align:right}th{background:#eee}td:first-child,td:nth-child(3){text-align:left}")


def report_html(run: PhaseRun, *, title: str, plot_png: bytes | None = None,
                notes: list[str] | None = None, hydrants: HydrantPhasing | None = None) -> str:
    """A complete report page around :func:`report_section`."""
    extra = "".join(f"<li>{html.escape(n)}</li>" for n in notes or [])
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>"
            f"{html.escape(title)}</title><style>{_CSS}</style></head><body><h1>"
            f"{html.escape(title)}</h1>{report_section(run, plot_png=plot_png, hydrants=hydrants)}"
            f"{'<h2>Inputs and assumptions</h2><ul>' + extra + '</ul>' if extra else ''}"
            "</body></html>")


def write_phase_outputs(run: PhaseRun, out: str | Path, *, title: str = "Phased build-out",
                        notes: list[str] | None = None, tiles: bool = True,
                        hydrants: HydrantPhasing | None = None) -> dict[str, Path]:
    """Write summary.json, years.csv, sites.geojson, map.html, coverage_by_year.png and
    report.html into ``out``; return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with report_fonts():
        png = _png(coverage_figure(run))
    paths = {
        "summary": write_json(run.summary(), out / "summary.json"),
        "years": atomic_write(out / "years.csv", year_table(run).to_csv(index=False)),
        "plot": atomic_write(out / "coverage_by_year.png", png),
        "map": save_map(phase_map(run, tiles=tiles), out / "map.html"),
        "report": atomic_write(out / "report.html",
                               report_html(run, title=title, plot_png=png, notes=notes,
                                           hydrants=hydrants)),
    }
    if len(run.sites):
        paths["sites"] = write_geojson(run.sites, out / "sites.geojson")
    if run.periods is not None:
        paths["periods"] = atomic_write(out / "periods.csv", run.periods.to_csv(index=False))
    if hydrants is not None:
        paths["hydrants"] = atomic_write(out / "hydrants_by_year.csv",
                                         hydrants.table.to_csv(index=False))
        if len(hydrants.sites):
            paths["hydrant_sites"] = write_geojson(hydrants.sites, out / "hydrant_sites.geojson")
    if run.workload is not None:
        paths["workload"] = atomic_write(out / "workload.csv", run.workload.to_csv(index=False))
    return paths
