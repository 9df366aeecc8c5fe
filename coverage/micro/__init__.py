"""Micro fire stations (微型消防站) on the walk network: the first three minutes.

Quick start::

    from coverage.network import load_network
    from coverage.network.walk import MICRO_ON_FOOT
    from coverage.buildings import buildings_demand
    from coverage.micro import (assess_micro, building_demand, key_units_from_osm,
                                site_micro_stations)

    walk = load_network(osm="walk.osm", boundary=district, travel_model=MICRO_ON_FOOT)
    buildings = building_demand(buildings_demand("buildings.osm"))
    keys = key_units_from_osm(["buildings.osm", "walk.osm"], buildings=buildings)
    siting = site_micro_stations(walk, buildings)                 # LSCP, honest status
    result = assess_micro(walk, siting.stations, buildings=buildings, key_units=keys)
    result.metrics["highrises"]["share"]

Modules: :mod:`~coverage.micro.standard` (the 1 + 3 min rule),
:mod:`~coverage.micro.layers` (micro stations, key units, demand),
:mod:`~coverage.micro.assess` (first water on foot), :mod:`~coverage.micro.combined`
(first water against first engine), :mod:`~coverage.micro.siting` (LSCP/MCLP),
:mod:`~coverage.micro.maps` and :mod:`~coverage.micro.report`. The walk travel
model is :mod:`coverage.network.walk`.
"""

from coverage.micro.assess import MicroAssessment, assess_micro, snap_surface
from coverage.micro.combined import combined_metrics, combined_view, engine_first_due
from coverage.micro.layers import (
    KEY_UNIT_RULES,
    MICRO_TYPE_ALIASES,
    building_demand,
    generated_micro_stations,
    grid_demand,
    key_units_from_osm,
    outside_area,
    read_key_units,
    read_micro_stations,
)
from coverage.micro.maps import micro_layers, micro_map, stairs_layer
from coverage.micro.report import micro_report_html, micro_summary
from coverage.micro.siting import MicroSiting, site_micro_stations
from coverage.micro.standard import MICRO_3MIN, MicroStandard

__all__ = [
    "KEY_UNIT_RULES",
    "MICRO_3MIN",
    "MICRO_TYPE_ALIASES",
    "MicroAssessment",
    "MicroSiting",
    "MicroStandard",
    "assess_micro",
    "building_demand",
    "combined_metrics",
    "combined_view",
    "engine_first_due",
    "generated_micro_stations",
    "grid_demand",
    "key_units_from_osm",
    "micro_layers",
    "micro_map",
    "micro_report_html",
    "micro_summary",
    "outside_area",
    "read_key_units",
    "read_micro_stations",
    "site_micro_stations",
    "snap_surface",
    "stairs_layer",
]
