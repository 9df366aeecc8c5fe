"""Municipal fire hydrants against GB 50974-2014 §7.2, and proposed new sites.

Quick start::

    from dataclasses import replace
    from coverage.network import CHINA_URBAN, load_network
    from coverage.hydrants import (after_proposal, assess_hydrants, counted_points,
                                   osm_hydrants, propose_hydrants)

    # Hose is laid on foot: keep roads under a height limit and ignore one-way rules.
    net = load_network(osm=path, travel_model=replace(CHINA_URBAN, apparatus_height_m=0),
                       connectivity="weak")
    report = assess_hydrants(net, osm_hydrants(path), osm=path)
    report.euclidean.share, report.network.share, len(report.spacing.violations)
    xy, snap, _ = counted_points(report.hydrants, report.roads)
    proposal = propose_hydrants(report.roads, xy, snap, measure="network")
    after = after_proposal(report, proposal)

Modules: :mod:`~coverage.hydrants.layer` (reading), :mod:`~coverage.hydrants.roads`
(the hose-lay graph), :mod:`~coverage.hydrants.coverage` (exact covered length,
straight-line and network), :mod:`~coverage.hydrants.spacing`,
:mod:`~coverage.hydrants.bridges`, :mod:`~coverage.hydrants.siting`
(carriageway and wall distances), :mod:`~coverage.hydrants.propose` (MILP),
:mod:`~coverage.hydrants.report` (everything in one call, ``summary.json``) and
:mod:`~coverage.hydrants.maps`.
"""

from coverage.hydrants.bridges import bridge_tunnel_ends, bridge_tunnel_gaps
from coverage.hydrants.coverage import CoverageResult, Intervals, road_coverage
from coverage.hydrants.layer import (
    HYDRANT_STATUS_ALIASES,
    combine_hydrants,
    osm_hydrants,
    read_buildings,
    read_hydrants,
)
from coverage.hydrants.maps import hydrant_map
from coverage.hydrants.propose import Proposal, propose_hydrants
from coverage.hydrants.report import (
    AfterProposal,
    HydrantReport,
    after_proposal,
    assess_hydrants,
    counted_points,
    fill_spacing_gaps,
    in_service_rate,
)
from coverage.hydrants.roads import Roads, road_set
from coverage.hydrants.spacing import SpacingResult, spacing_check

__all__ = [
    "HYDRANT_STATUS_ALIASES",
    "AfterProposal",
    "CoverageResult",
    "HydrantReport",
    "Intervals",
    "Proposal",
    "Roads",
    "SpacingResult",
    "after_proposal",
    "assess_hydrants",
    "bridge_tunnel_ends",
    "bridge_tunnel_gaps",
    "combine_hydrants",
    "counted_points",
    "fill_spacing_gaps",
    "hydrant_map",
    "in_service_rate",
    "osm_hydrants",
    "propose_hydrants",
    "read_buildings",
    "read_hydrants",
    "road_coverage",
    "road_set",
    "spacing_check",
]
