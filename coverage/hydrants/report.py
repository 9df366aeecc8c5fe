"""Hydrant compliance of a district in one call, and its ``summary.json``.

:func:`assess_hydrants` runs every check of GB 50974-2014 §7.2 on one road
network; :func:`after_proposal` measures coverage and spacing again with the
proposed hydrants added. Pure computation: nothing here writes files.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.engine import RoadIndex, Snap, snap_points
from coverage.hydrants.bridges import bridge_tunnel_ends, bridge_tunnel_gaps
from coverage.hydrants.coverage import CoverageResult, district_shares, road_coverage
from coverage.hydrants.layer import IN_SERVICE, OUT_OF_SERVICE, UNKNOWN
from coverage.hydrants.propose import Proposal
from coverage.hydrants.roads import Roads, road_set
from coverage.hydrants.siting import (
    carriageway_offsets,
    hydrant_snap,
    locate_hydrants,
    wall_distance,
)
from coverage.hydrants.spacing import SpacingResult, spacing_check
from coverage.network.model import RoadNetwork
from coverage.presets import GB50974, HydrantRules

__all__ = ["AfterProposal", "HydrantReport", "after_proposal", "assess_hydrants",
           "counted_points", "fill_spacing_gaps", "in_service_rate"]


def in_service_rate(status: pd.Series, target: float) -> dict:
    """Share of hydrants in service (完好率), with bounds when some status is unknown.

    Parameters
    ----------
    status : Series of str
        ``in_service`` / ``out_of_service`` / ``unknown`` per hydrant.
    target : float
        Required share (the Yuzhong plan: 0.98).

    Returns
    -------
    dict
        ``hydrants``, ``in_service``, ``out_of_service``, ``unknown``; ``rate``
        among hydrants of known status (None without any); ``rate_low`` and
        ``rate_high``: the rate if every unknown hydrant were out of / in
        service; ``meets_target``: True or False when both bounds agree, else
        None (cannot be judged).
    """
    n = int(len(status))
    good = int((status == IN_SERVICE).sum())
    bad = int((status == OUT_OF_SERVICE).sum())
    unknown = int((status == UNKNOWN).sum())
    known = good + bad
    low = good / n if n else None
    high = (good + unknown) / n if n else None
    meets = None
    if n and low >= target:
        meets = True
    elif n and high < target:
        meets = False
    return {"hydrants": n, "in_service": good, "out_of_service": bad, "unknown": unknown,
            "rate": good / known if known else None, "rate_low": low, "rate_high": high,
            "target": target, "meets_target": meets}


@dataclass(frozen=True)
class HydrantReport:
    """Result of :func:`assess_hydrants`.

    Attributes
    ----------
    rules : HydrantRules
    roads : Roads
        The assessed roads and the hose graph.
    hydrants : GeoDataFrame
        Every hydrant in the study area (network CRS) with the columns of
        :func:`~coverage.hydrants.siting.locate_hydrants`, the carriageway offset
        and the wall distance.
    euclidean, network : CoverageResult
        Coverage by straight-line and by hose-lay distance.
    spacing : SpacingResult
    bridges : GeoDataFrame or None
        Bridge heads and tunnel portals with their gap flags (None without an
        OSM file).
    districts : DataFrame or None
        Per station district: coverage both ways and the in-service rate.
    count_unknown : bool
        Whether hydrants of unknown status counted as in service.
    """

    rules: HydrantRules
    roads: Roads
    hydrants: gpd.GeoDataFrame
    euclidean: CoverageResult
    network: CoverageResult
    spacing: SpacingResult
    bridges: gpd.GeoDataFrame | None
    districts: pd.DataFrame | None
    count_unknown: bool

    def summary(self, proposal: Proposal | None = None,
                after: AfterProposal | None = None) -> dict:
        """The ``summary.json`` content (plain JSON types)."""
        return _summary(self, proposal, after)


@dataclass(frozen=True)
class AfterProposal:
    """Coverage and spacing with the proposed hydrants added."""

    euclidean: CoverageResult
    network: CoverageResult
    spacing: SpacingResult


def counted_points(located: gpd.GeoDataFrame, roads: Roads
                   ) -> tuple[np.ndarray, Snap, np.ndarray]:
    """Positions (network CRS), road snaps and ids of the hydrants that count."""
    counted = located[located["counted"]]
    xy = shapely.get_coordinates(counted.geometry.values).reshape(-1, 2)
    return xy, hydrant_snap(counted, roads), counted["id"].astype(str).to_numpy()


def _district_rows(roads: Roads, located: gpd.GeoDataFrame, euclid: CoverageResult,
                   network: CoverageResult, districts: gpd.GeoDataFrame, key: str,
                   target: float) -> pd.DataFrame:
    polys = districts.to_crs(roads.index.crs)
    e = district_shares(roads, euclid, polys, key=key)
    n = district_shares(roads, network, polys, key=key)
    rows = []
    for (_, de), (_, dn), poly in zip(e.iterrows(), n.iterrows(), polys.geometry, strict=True):
        inside = located[shapely.covers(poly, located.geometry.values)]
        rate = in_service_rate(inside["status"], target)
        rows.append({
            "district": de[key], "road_m": de["road_m"],
            "covered_share_euclidean": de["share"], "covered_share_network": dn["share"],
            "hydrants": rate["hydrants"], "in_service_rate": rate["rate"],
            "in_service_rate_low": rate["rate_low"], "in_service_rate_high": rate["rate_high"],
            "meets_in_service_target": rate["meets_target"],
        })
    return pd.DataFrame(rows)


def assess_hydrants(
    network: RoadNetwork,
    hydrants: gpd.GeoDataFrame,
    *,
    rules: HydrantRules = GB50974,
    osm: str | Path | None = None,
    buildings: gpd.GeoSeries | None = None,
    districts: gpd.GeoDataFrame | None = None,
    district_key: str = "station_id",
    count_unknown: bool = True,
    index: RoadIndex | None = None,
    source: str = "hydrants",
) -> HydrantReport:
    """Check a district's hydrants against GB 50974-2014 §7.2.

    Parameters
    ----------
    network : RoadNetwork
        The road network (:func:`coverage.network.load_network`). Its boundary,
        else its study area, is the area assessed. Build it with
        ``apparatus_height_m=0`` so that roads under a height limit are
        assessed too: a hose passes where an engine cannot.
    hydrants : GeoDataFrame
        From :mod:`coverage.hydrants.layer` (any CRS).
    rules : HydrantRules
        The standard's values (:data:`coverage.presets.GB50974`).
    osm : str or Path, optional
        The OSM file of the network, for bridge heads and tunnel portals.
    buildings : GeoSeries, optional
        Building footprints for the wall-distance check.
    districts : GeoDataFrame, optional
        Station districts (e.g. ``coverage.assess.assess(...).districts``) for
        per-district figures.
    district_key : str
        Column naming each district.
    count_unknown : bool
        Count hydrants of unknown status as in service.
    index : RoadIndex, optional
        Reuse an index already built for ``network``.
    source : str
        Name of the hydrant layer, for messages.

    Returns
    -------
    HydrantReport
    """
    roads = road_set(network, index=index)
    located = locate_hydrants(roads, hydrants, study_area=network.study_area, rules=rules,
                              count_unknown=count_unknown, source=source)
    located = pd.concat([located, carriageway_offsets(located, roads, rules=rules),
                         wall_distance(located, buildings, rules=rules)], axis=1)
    located = gpd.GeoDataFrame(located, geometry="geometry", crs=roads.index.crs)
    xy, snap, ids = counted_points(located, roads)
    radius = rules.protection_radius_m
    euclid = road_coverage(roads, xy, snap, measure="euclidean", radius_m=radius)
    net_cov = road_coverage(roads, xy, snap, measure="network", radius_m=radius)
    spacing = spacing_check(roads, xy, ids, rules=rules)
    bridges = None
    if osm is not None:
        ends = bridge_tunnel_ends(osm, roads)
        bridges = bridge_tunnel_gaps(ends, xy, net_cov.covered, radius_m=radius)
    per_district = None
    if districts is not None:
        per_district = _district_rows(roads, located, euclid, net_cov, districts, district_key,
                                      rules.in_service_target)
    return HydrantReport(rules=rules, roads=roads, hydrants=located, euclidean=euclid,
                         network=net_cov, spacing=spacing, bridges=bridges,
                         districts=per_district, count_unknown=count_unknown)


def after_proposal(report: HydrantReport, proposal: Proposal) -> AfterProposal:
    """Coverage both ways and spacing with the proposed hydrants added."""
    roads = report.roads
    xy, snap, ids = counted_points(report.hydrants, roads)
    new_xy = shapely.get_coordinates(proposal.sites.geometry.values).reshape(-1, 2)
    all_xy = np.vstack([xy, new_xy])
    all_snap = Snap.concat([snap, snap_points(roads.index, new_xy)])
    all_ids = np.concatenate([ids, proposal.sites["id"].astype(str).to_numpy()])
    radius = report.rules.protection_radius_m
    return AfterProposal(
        euclidean=road_coverage(roads, all_xy, all_snap, measure="euclidean", radius_m=radius),
        network=road_coverage(roads, all_xy, all_snap, measure="network", radius_m=radius),
        spacing=spacing_check(roads, all_xy, all_ids, rules=report.rules),
    )


def fill_spacing_gaps(report: HydrantReport, proposal: Proposal) -> Proposal:
    """Add sites so that no two consecutive hydrants on a road are more than the spacing apart.

    Covering every road point within half the spacing by hose lay does not by itself
    keep hydrants on one road within the spacing: a stretch may be covered from a
    crossing road. So the spacing check is run with the proposal added, and every
    stretch still too long gets ``ceil(spacing / limit) - 1`` more sites evenly along
    it. Adding hydrants never lengthens a gap on any road, so afterwards every
    stretch between consecutive hydrants is within the limit (the ``spacing``
    block of ``summary.json`` states the check's result, not an assumption).

    Parameters
    ----------
    report : HydrantReport
    proposal : Proposal
        The coverage proposal.

    Raises
    ------
    ValueError
        For a budget proposal: extra sites would break the budget.

    Returns
    -------
    Proposal
        The same proposal with the extra sites appended (``source`` column
        ``"spacing"``; coverage sites ``"coverage"``) and a message saying how
        many were added.
    """
    if proposal.budget is not None:
        raise ValueError("a budget proposal cannot be given extra spacing sites")
    limit = report.rules.max_spacing_m
    after = after_proposal(report, proposal)
    points = []
    for line in after.spacing.violations.geometry:
        parts = [g for g in shapely.get_parts(shapely.line_merge(line)) if g.length > 0]
        if not parts:
            continue
        longest = max(parts, key=lambda g: g.length)
        k = max(1, math.ceil(line.length / limit) - 1)
        points += [longest.interpolate(i / (k + 1), normalized=True) for i in range(1, k + 1)]
    sites = proposal.sites.copy()
    if "source" not in sites:
        sites["source"] = "coverage"
    if not points:
        return replace(proposal, sites=sites)
    xy = shapely.get_coordinates(np.asarray(points, dtype=object)).reshape(-1, 2)
    index = report.roads.index
    snap = snap_points(index, xy)
    start = len(proposal.sites)
    extra = gpd.GeoDataFrame({
        "id": [f"new-{start + i + 1}" for i in range(len(xy))],
        "highway": index.seg_highway[snap.seg], "name": index.seg_name[snap.seg],
        "seg": snap.seg, "pos_m": snap.frac * report.roads.length_m[snap.seg],
        "source": "spacing",
    }, geometry=shapely.points(xy), crs=index.crs)
    sites = gpd.GeoDataFrame(pd.concat([sites, extra], ignore_index=True), geometry="geometry",
                             crs=index.crs)
    message = (f"{proposal.message}; then {len(extra)} more site(s) (source 'spacing') on "
               f"{len(after.spacing.violations)} road stretch(es) still longer than {limit:g} m "
               "between hydrants: the total is no longer proven the fewest")
    objective = float(len(sites))
    gap = None if proposal.bound is None else (objective - proposal.bound) / objective
    return replace(proposal, sites=sites, message=message, objective=objective, gap=gap,
                   status="feasible")


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as plain-JSON dicts (NaN and NA as None)."""
    clean = frame.astype(object).where(frame.notna(), None)
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in clean.to_dict(orient="records")]


def _summary(report: HydrantReport, proposal: Proposal | None,
             after: AfterProposal | None) -> dict:
    rules = report.rules
    hyd = report.hydrants
    in_area = hyd[hyd["in_area"]]
    spacing = report.spacing
    bridges = report.bridges
    out: dict = {
        "standard": rules.clause,
        "rules": asdict(rules),
        "area_road_m": report.roads.road_m,
        "covered_share_euclidean": report.euclidean.share,
        "covered_share_network": report.network.share,
        "gap_m_euclidean": report.euclidean.road_m - report.euclidean.covered_m,
        "gap_m_network": report.network.road_m - report.network.covered_m,
        "spacing_violations": int(len(spacing.violations)),
        "bridge_tunnel_gaps": None if bridges is None else int(bridges["gap"].sum()),
        "bridge_tunnel_gaps_network": None if bridges is None
        else int(bridges["gap_network"].sum()),
        "in_service_rate": in_service_rate(in_area["status"], rules.in_service_target)["rate"],
        "in_service": in_service_rate(in_area["status"], rules.in_service_target),
        "hydrants": {
            "in_study_area": int(len(hyd)),
            "in_area": int(len(in_area)),
            "counted": int(hyd["counted"].sum()),
            "unknown_status_counted_as_in_service": report.count_unknown,
            "by_source": {k: int(v) for k, v in hyd["source"].value_counts().items()},
            "off_network": hyd.loc[hyd["off_network"], "id"].astype(str).tolist(),
            "far_from_carriageway": hyd.loc[hyd["far_from_carriageway"].fillna(False)
                                            .astype(bool), "id"].astype(str).tolist(),
            "carriageway_offset_unknown": int(hyd["far_from_carriageway"].isna().sum()),
            "near_wall": hyd.loc[hyd["near_wall"].fillna(False).astype(bool), "id"]
            .astype(str).tolist(),
            "wall_distance_checked": bool(hyd["near_wall"].notna().any()),
        },
        "by_class": _class_rows(report.euclidean, report.network),
        "spacing": {
            "max_spacing_m": spacing.max_spacing_m,
            "violations": _records(spacing.violations.drop(columns="geometry")),
            "road_chains": int(len(spacing.chains)),
            "wide_road_chains": int(spacing.chains["both_sides"].fillna(False).sum()),
            "width_unknown_m": spacing.width_unknown_m,
        },
        "bridges_tunnels": None if bridges is None else _records(
            bridges.drop(columns=["geometry", "seg", "pos_m"])),
        "districts": None if report.districts is None else _records(report.districts),
    }
    if proposal is not None:
        out["proposal"] = proposal.as_dict()
        out["proposed_count"] = int(len(proposal.sites))
    if after is not None:
        out["covered_share_euclidean_after"] = after.euclidean.share
        out["covered_share_network_after"] = after.network.share
        out["spacing_violations_after"] = int(len(after.spacing.violations))
        met = len(after.spacing.violations) == 0
        out["spacing_after"] = {
            "max_spacing_m": after.spacing.max_spacing_m,
            "met": met,
            "note": "checked with the proposed hydrants added: no stretch between consecutive "
            "hydrants on a road is longer than the limit" if met else
            "not guaranteed: the proposal covers road length; the stretches listed here (and in "
            "spacing_violations_after.geojson) are still longer than the limit with the proposed "
            "hydrants added (use --meet-spacing)",
            "violations": _records(after.spacing.violations.drop(columns="geometry")),
        }
    return out


def _class_rows(euclid: CoverageResult, network: CoverageResult) -> list[dict]:
    e = euclid.by_class.set_index("highway")
    n = network.by_class.set_index("highway")
    return [{"highway": h, "road_m": float(e.at[h, "road_m"]),
             "covered_share_euclidean": float(e.at[h, "share"]),
             "covered_share_network": float(n.at[h, "share"])} for h in e.index]
