"""Folium map of a hydrant assessment (HTML, self-contained apart from the basemap tiles)."""

from __future__ import annotations

import folium
import geopandas as gpd

from coverage.hydrants.layer import IN_SERVICE, OUT_OF_SERVICE
from coverage.hydrants.propose import Proposal
from coverage.hydrants.report import HydrantReport

__all__ = ["STATUS_COLOURS", "hydrant_map"]

STATUS_COLOURS = {IN_SERVICE: "#1a9850", OUT_OF_SERVICE: "#d73027", "unknown": "#7f7f7f"}
_GAP = "#e31a1c"
_PROPOSED = "#2c7bb6"
_SPACING = "#ff7f00"


def _lines(gdf: gpd.GeoDataFrame, name: str, colour: str, tooltip: list[str],
           aliases: list[str], *, show: bool = True, dash: str | None = None) -> folium.GeoJson:
    style = {"color": colour, "weight": 4, "opacity": 0.85}
    if dash:
        style["dashArray"] = dash
    return folium.GeoJson(
        gdf.to_crs(4326)[[*tooltip, "geometry"]],
        name=name,
        show=show,
        style_function=lambda _: style,
        tooltip=folium.GeoJsonTooltip(tooltip, aliases=aliases, localize=True),
    )


def hydrant_map(report: HydrantReport, proposal: Proposal | None = None, *,
                tiles: str | None = "OpenStreetMap") -> folium.Map:
    """A Folium map of hydrant compliance.

    Layers: the assessed area; road gaps (red; straight-line, and hose-lay
    dashed, hidden at first); spacing violations (orange); hydrants coloured by
    status (green in service, red out of service, grey unknown) with their
    protection-radius circles; bridge heads and tunnel portals without a
    hydrant; proposed hydrants (blue) with their circles.
    """
    radius = report.rules.protection_radius_m
    area = gpd.GeoSeries([report.roads.area], crs=report.roads.index.crs).to_crs(4326)
    minx, miny, maxx, maxy = area.total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    folium.GeoJson(area.__geo_interface__, name="Assessed area",
                   style_function=lambda _: {"color": "#333", "weight": 2, "fill": False}
                   ).add_to(fmap)

    cols, names = ["name", "highway", "length_m"], ["Road", "Class", "Uncovered m"]
    if len(report.euclidean.gaps):
        _lines(report.euclidean.gaps, f"Gaps: no hydrant within {radius:g} m (straight line)",
               _GAP, cols, names).add_to(fmap)
    if len(report.network.gaps):
        _lines(report.network.gaps, f"Gaps: no hydrant within {radius:g} m of hose",
               _GAP, cols, names, show=False, dash="6 6").add_to(fmap)
    violations = report.spacing.violations
    if len(violations):
        _lines(violations, f"Spacing > {report.spacing.max_spacing_m:g} m", _SPACING,
               ["road", "side", "from_id", "to_id", "spacing_m"],
               ["Road", "Side", "From", "To", "Spacing m"]).add_to(fmap)

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
            folium.Marker([r.geometry.y, r.geometry.x],
                          tooltip=f"{r.kind} end {r.name or ''} (OSM way {r.way}): nearest "
                          f"hydrant {r.nearest_hydrant_m:.0f} m",
                          icon=folium.Icon(color="red", icon="road", prefix="fa")).add_to(group)
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
