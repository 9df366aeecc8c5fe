"""Writing a city run: summary, per-district table and layer, city map and report,
linking to each district's own outputs for the click-through.

Each district's own outputs are written by its task, where it runs
(:func:`~coverage.city.assess.assess_city` with ``district_dir``); the city files
link to them. Built on the atomic writers of :mod:`coverage.outputs`; nothing here
computes figures.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import folium
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from coverage.city.assess import CityAssessment
from coverage.outputs.files import atomic_write, write_geojson, write_json
from coverage.outputs.layers import write_csv
from coverage.outputs.maps import save_map
from coverage.outputs.report import figure_png

__all__ = ["city_map", "city_report_html", "district_links", "write_city"]

_GENERATED_NOTE = ("GENERATED road network (tiled from the real Yuzhong extract, not real "
                   "roads): figures show how the tool behaves, not the city's real cover.")


def _colour(share: float) -> str:
    return to_hex(colormaps["RdYlGn"](float(np.clip(share, 0, 1))))


def district_links(city: CityAssessment, out_dir: str | Path | None = None) -> dict[str, str]:
    """Each district's outputs folder as a link from ``out_dir`` (relative, ending in
    ``/``); empty when the district outputs were not written."""
    if city.district_dir is None:
        return {}
    base = Path(out_dir) if out_dir is not None else city.district_dir.parent
    return {code: Path(os.path.relpath(city.district_dir / code, base)).as_posix() + "/"
            for code in city.by_district}


def city_map(city: CityAssessment, *, tiles: str | None = "osm",
             links: dict[str, str] | None = None) -> folium.Map:
    """Districts shaded by coverage share; with ``links`` (:func:`district_links`), each
    links to its own map and report."""
    links = links or {}
    d = city.districts.to_crs(4326)
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    if tiles == "osm":
        folium.TileLayer("openstreetmap", name="OpenStreetMap").add_to(fmap)
    for row in d.itertuples():
        link = html.escape(links.get(str(row.code), ""))
        popup = (
            f"<b>{html.escape(row.name)}</b> ({row.code})<br>"
            f"rank {row.rank} by gap to the standard<br>"
            f"covered: {row.coverage_share:.1%} (gap {row.gap_to_standard_pp:.1f} pp)<br>"
            f"first-due p90: {row.first_due_p90_s / 60:.1f} min<br>"
            f"first served from outside: {row.served_from_outside_share:.1%}<br>"
            f"stations: {row.stations}, over their area cap: {row.over_cap_stations}"
            + (f"<br><a href='{link}map.html' target='_blank'>district map</a> · "
               f"<a href='{link}report.html' target='_blank'>district report</a>" if link else "")
        )
        colour = _colour(row.coverage_share)
        folium.GeoJson(
            row.geometry.__geo_interface__,
            name=row.name,
            style_function=lambda _, c=colour: {"fillColor": c, "color": "#333", "weight": 1,
                                                "fillOpacity": 0.6},
            tooltip=f"{row.name}: {row.coverage_share:.1%} covered",
            popup=folium.Popup(popup, max_width=320),
        ).add_to(fmap)
    st = city.stations.to_crs(4326)
    group = folium.FeatureGroup(name="stations")
    for row in st.itertuples():
        folium.CircleMarker(
            (row.geometry.y, row.geometry.x), radius=4,
            color="#d7301f" if row.over_cap else "#08306b", fill=True, fill_opacity=0.9,
            tooltip=f"{html.escape(str(row.name))} ({row.type}); district "
                    f"{row.district_km2:.1f} km² of cap {row.area_cap_km2:g} km²",
        ).add_to(group)
    group.add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    x0, y0, x1, y1 = d.total_bounds
    fmap.fit_bounds([[y0, x0], [y1, x1]])
    if city.summary()["generated_network"]:
        fmap.get_root().html.add_child(folium.Element(
            f"<div style='position:fixed;bottom:8px;left:8px;z-index:999;background:#fff;"
            f"padding:4px;font:12px sans-serif'>{html.escape(_GENERATED_NOTE)}</div>"))
    return fmap


def _bar_figure(city: CityAssessment) -> Figure:
    d = city.districts
    fig = Figure(figsize=(7, 0.35 * len(d) + 1.2))
    ax = fig.subplots()
    ax.barh(d["name"], d["coverage_share"] * 100, color=[_colour(s) for s in d["coverage_share"]])
    ax.axvline(city.standard.percentile * 100, color="k", ls="--", lw=1, label="standard")
    ax.invert_yaxis()
    ax.set_xlabel(f"demand reached within {city.standard.travel_threshold_s / 60:g} min of "
                  "driving, %")
    ax.set_xlim(0, 100)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def city_report_html(city: CityAssessment, *, n_minus_1: pd.DataFrame | None = None,
                     title: str = "City fire-station coverage",
                     links: dict[str, str] | None = None) -> str:
    """One self-contained page: headline, districts ranked by gap to the standard, N-1;
    with ``links`` (:func:`district_links`), each district links to its own report."""
    links = links or {}
    s = city.summary()
    esc = html.escape
    head = (f"<p>Standard {esc(s['standard'])} ({esc(s['standard_clause'])}): "
            f"{s['coverage_share']:.1%} of the city's demand reached within "
            f"{s['travel_threshold_s'] / 60:g} min of driving; first-due p90 "
            f"{(s['first_due_p90_s'] or float('nan')) / 60:.1f} min; "
            f"{s['served_from_outside_share']:.1%} first served from another district; "
            f"{s['districts_compliant']} of {len(city.districts)} districts meet the standard. "
            f"Cross-boundary service: every station serves wherever it arrives first.</p>")
    rows = "".join(
        f"<tr><td>{r.rank}</td><td>"
        + (f"<a href='{esc(links[str(r.code)])}report.html'>{esc(r.name)}</a>"
           if str(r.code) in links else esc(r.name))
        + f"</td><td>{r.code}</td><td>{r.coverage_share:.1%}</td>"
        f"<td>{r.gap_to_standard_pp:.1f}</td><td>{r.first_due_p90_s / 60:.1f}</td>"
        f"<td>{r.served_from_outside_share:.1%}</td><td>{r.stations}</td>"
        f"<td>{r.over_cap_stations}</td><td>{r.area_km2:.1f}</td></tr>"
        for r in city.districts.itertuples())
    table = ("<h2>Districts ranked by gap to the standard</h2><table><tr><th>rank</th>"
             "<th>district</th><th>code</th><th>covered</th><th>gap, pp</th>"
             "<th>first-due p90, min</th><th>first served from outside</th><th>stations</th>"
             "<th>over area cap</th><th>area, km²</th></tr>" + rows + "</table>")
    crit = ""
    if n_minus_1 is not None and len(n_minus_1):
        top = n_minus_1.head(15)
        crit = ("<h2>Critical stations (N-1: each closed in turn)</h2><table><tr><th>rank</th>"
                "<th>station</th><th>coverage lost, pp of the city</th><th>worst-hit district"
                "</th><th>lost there, pp</th></tr>" + "".join(
                    f"<tr><td>{r.rank}</td><td>{esc(str(r.name))}</td>"
                    f"<td>{r.coverage_lost_pp:.2f}</td><td>{esc(str(r.worst_district))}</td>"
                    f"<td>{r.worst_district_lost_pp:.1f}</td></tr>" for r in top.itertuples())
                + "</table>")
    issues = ""
    check = s["district_layer_check"]
    if check["gaps"] or check["overlaps"]:
        issues = "<h2>District layer</h2><ul>" + "".join(
            f"<li>gap of {g['area_km2']:.3f} km² near {g['lon']}, {g['lat']} between "
            f"{esc(', '.join(g['neighbours']))} (not counted in any district)</li>"
            for g in check["gaps"]) + "".join(
            f"<li>{esc(o['a'])} and {esc(o['b'])} overlap by {o['area_km2']:.3f} km²</li>"
            for o in check["overlaps"]) + "</ul>"
    events = ("<h2>Run events</h2><ul>" + "".join(f"<li>{esc(e)}</li>" for e in s["events"])
              + "</ul>") if s["events"] else ""
    note = f"<p class='warn'>{esc(_GENERATED_NOTE)}</p>" if s["generated_network"] else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>body{{font:14px sans-serif;max-width:1000px;"
        "margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
        "text-align:right}td:nth-child(2){text-align:left}.warn{background:#fee;padding:6px}"
        "</style></head><body>"
        f"<h1>{esc(title)}</h1>{note}{head}<p><a href='map.html'>City map</a>"
        + (" (click a district for its own map and report)" if links else "") + "</p>"
        f"<img alt='coverage by district' src='data:image/png;base64,{figure_png(_bar_figure, city)}'>"
        f"{table}{crit}{issues}{events}<p>Network: {esc(str(s['network_source']))}; "
        f"{s['network']['nodes']:,} nodes. Run on {esc(s['runner'])}.</p></body></html>"
    )


def write_city(city: CityAssessment, out_dir: str | Path, *, n_minus_1: pd.DataFrame | None = None,
               tiles: str | None = "osm") -> dict[str, Path]:
    """Write a city run to ``out_dir``.

    Files: ``summary.json``; ``districts.csv`` and ``districts.geojson`` (the per-district
    figures as attributes); ``stations.csv``; ``n_minus_1.csv`` when given; ``map.html``
    (districts shaded by coverage) and ``report.html``, both linking to each district's
    own outputs when :func:`~coverage.city.assess.assess_city` wrote them
    (``district_dir``, ``out_dir/districts`` in the ``city`` command). Each file is
    written atomically.

    Returns
    -------
    dict
        File role to path.
    """
    out = Path(out_dir)
    summary = city.summary()
    if n_minus_1 is not None:
        summary["n_minus_1"] = n_minus_1.head(50).to_dict(orient="records")
    paths = {"summary": write_json(summary, out / "summary.json"),
             "districts_csv": write_csv(city.districts, out / "districts.csv"),
             "districts_layer": write_geojson(city.districts.to_crs(4326), out / "districts.geojson"),
             "stations_csv": write_csv(city.stations, out / "stations.csv")}
    if n_minus_1 is not None:
        paths["n_minus_1_csv"] = write_csv(n_minus_1, out / "n_minus_1.csv")
    links = district_links(city, out)
    paths["map"] = save_map(city_map(city, tiles=tiles, links=links), out / "map.html")
    paths["report"] = atomic_write(out / "report.html", city_report_html(
        city, n_minus_1=n_minus_1, links=links))
    return paths
