"""Folium map of a hydrant assessment.

Built on :func:`coverage.outputs.maps.new_map`: save it with
:func:`coverage.outputs.maps.save_map` and the page has Leaflet inlined, so it
works with no network (only basemap tiles, if any, come from the network); in
Jupyter it displays offline too. Only vector markers are drawn (no icon fonts).
"""

from __future__ import annotations

import folium
import geopandas as gpd

from coverage.hydrants.layer import IN_SERVICE, OUT_OF_SERVICE
from coverage.hydrants.propose import Proposal
from coverage.hydrants.report import HydrantReport
from coverage.outputs import words
from coverage.outputs.maps import OfflineMap, new_map

__all__ = ["STATUS_COLOURS", "hydrant_map"]

STATUS_COLOURS = {IN_SERVICE: "#1a9850", OUT_OF_SERVICE: "#d73027", "unknown": "#7f7f7f"}
_GAP = "#00a6ca"
_BRIDGE = "#6a3d9a"
_PROPOSED = "#2c7bb6"
_SPACING = "#ff7f00"


def _lines(gdf: gpd.GeoDataFrame, name: str, colour: str, tooltip: list[str],
           aliases: list[str], *, show: bool = True, dash: str | None = None) -> folium.GeoJson:
    style = {"color": colour, "weight": 4, "opacity": 0.85}
    if dash:
        style["dashArray"] = dash
    shown = gdf.to_crs(4326)
    for col in tooltip:
        if col not in shown and f"{col}_m" in shown:
            shown[col] = [words.distance(v) for v in shown[f"{col}_m"]]
    return folium.GeoJson(
        shown[[*tooltip, "geometry"]],
        name=name,
        show=show,
        style_function=lambda _: style,
        tooltip=folium.GeoJsonTooltip(tooltip, aliases=aliases, localize=True),
    )


def hydrant_map(report: HydrantReport, proposal: Proposal | None = None, *,
                tiles: str | None = "osm") -> OfflineMap:
    """A Folium map of hydrant compliance.

    Layers: the assessed area; road gaps (red; straight-line, and hose-lay
    dashed, hidden at first); spacing violations (orange); hydrants coloured by
    status (green in service, red out of service, grey unknown) with their
    protection-radius circles; bridge heads and tunnel portals without a
    hydrant; proposed hydrants (blue) with their circles.

    Parameters
    ----------
    report : HydrantReport
    proposal : Proposal, optional
    tiles : {"osm", "amap", "none"}
        Basemap (see :data:`coverage.outputs.maps.BASEMAPS`); ``"none"`` for no tiles.

    Returns
    -------
    OfflineMap
        Save with :func:`coverage.outputs.maps.save_map` (Leaflet inlined).
    """
    radius = report.rules.protection_radius_m
    area = gpd.GeoSeries([report.roads.area], crs=report.roads.index.crs).to_crs(4326)
    minx, miny, maxx, maxy = area.total_bounds
    fmap = new_map(tiles)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.GeoJson(area.__geo_interface__, name="Assessed area",
                   style_function=lambda _: {"color": "#333", "weight": 2, "fill": False}
                   ).add_to(fmap)

    cols, names = ["name", "highway", "length"], ["Road", "Class", "Uncovered"]
    if len(report.euclidean.gaps):
        _lines(report.euclidean.gaps, f"Gaps: no hydrant within {radius:g} m (straight line)",
               _GAP, cols, names).add_to(fmap)
    if len(report.network.gaps):
        _lines(report.network.gaps, f"Gaps: no hydrant within {radius:g} m of hose",
               _GAP, cols, names, show=False, dash="6 6").add_to(fmap)
    violations = report.spacing.violations
    if len(violations):
        _lines(violations, f"Spacing > {report.spacing.max_spacing_m:g} m", _SPACING,
               ["road", "side", "from_id", "to_id", "spacing"],
               ["Road", "Side", "From", "To", "Spacing"]).add_to(fmap)

    circles = folium.FeatureGroup(name=f"Protection radius {radius:g} m", show=False)
    markers = folium.FeatureGroup(name="Hydrants by status")
    for r in report.hydrants.to_crs(4326).itertuples():
        colour = STATUS_COLOURS.get(r.status, STATUS_COLOURS["unknown"])
        tip = f"{r.id} ({r.source}): {r.status}" + (f", {r.type}" if r.type else "")
        folium.CircleMarker([r.geometry.y, r.geometry.x], radius=5, color=colour, fill=True,
                            fill_opacity=0.9, weight=1, tooltip=tip).add_to(markers)
        if r.counted:
            folium.Circle([r.geometry.y, r.geometry.x], radius=radius, color=colour, weight=1,
                          fill=True, fill_opacity=0.05).add_to(circles)
    circles.add_to(fmap)
    markers.add_to(fmap)

    if report.bridges is not None and report.bridges["gap"].any():
        group = folium.FeatureGroup(name="Bridge heads / tunnel portals without a hydrant")
        for r in report.bridges[report.bridges["gap"]].to_crs(4326).itertuples():
            folium.CircleMarker(
                [r.geometry.y, r.geometry.x], radius=7, color=_BRIDGE, weight=3, fill=True,
                fill_color="#ffffff", fill_opacity=0.9,
                tooltip=f"{r.kind} end {r.name or ''} (OSM way {r.way}): nearest "
                f"hydrant {words.distance(r.nearest_hydrant_m)}",
            ).add_to(group)
        group.add_to(fmap)

    if proposal is not None and len(proposal.sites):
        group = folium.FeatureGroup(name=f"Proposed hydrants ({len(proposal.sites)})")
        for r in proposal.sites.to_crs(4326).itertuples():
            tip = f"{r.id}: {r.name or 'unnamed'} ({r.highway})"
            folium.Circle([r.geometry.y, r.geometry.x], radius=radius, color=_PROPOSED,
                          weight=1, fill=True, fill_opacity=0.04).add_to(group)
            folium.CircleMarker([r.geometry.y, r.geometry.x], radius=5, color=_PROPOSED,
                                fill=True, fill_opacity=1.0, weight=1, tooltip=tip).add_to(group)
        group.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap
