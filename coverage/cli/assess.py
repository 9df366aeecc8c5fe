"""``station-coverage assess``: today's coverage of a district's stations."""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage.assess import DemandSet, assess
from coverage.assess.access import ACCESS_DISTANCE_M, HOSE_LENGTH_M, WALK_SPEED_MPS, AccessRule
from coverage.assess.districts import ABSORB_BELOW_KM2
from coverage.assess.grid import DEFAULT_CELL_M
from coverage.cli.common import (
    MAX_BREAK_MIN,
    Steps,
    add_map_args,
    add_network_args,
    add_station_args,
    input_paths,
    network_from_args,
    number,
    output_folder,
    stations_from_args,
)
from coverage.engine import build_index
from coverage.errors import InputError
from coverage.outputs.write import check_outputs, option_paths, write_assessment
from coverage.presets import STANDARDS

UNITS = {"land": "land", "roads": "road length", "buildings": "building floor area",
         "points": "demand weight"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``assess`` subcommand."""
    p = sub.add_parser(
        "assess",
        help="measure first/second-due coverage, districts and protection radii",
        description="Measure how well the stations cover the district on its real road network: "
        "share of road length reached within the standard's travel time, first-due p50/p90/max, "
        "second-due coverage, each station's network-Voronoi district against its area cap, "
        "protection radius and service areas. Writes summary.json, demand.geojson, "
        "districts.geojson, service_areas.geojson, stations.geojson and map.html.",
    )
    add_network_args(p)
    add_station_args(p)
    add_map_args(p)
    p.add_argument("--out", type=output_folder, required=True, metavar="DIR", help="output folder")
    p.add_argument("--standard", choices=sorted(STANDARDS), default="gb51080", help="response standard (default gb51080)")
    p.add_argument(
        "--step-m", type=number(low=1, high=1000, unit="m"), default=50.0,
        help="road demand sample spacing, 1 to 1000 m (default 50)",
    )
    p.add_argument(
        "--demand", choices=("land", "roads", "buildings", "points"), default="land",
        help="land: a grid of --cell-m cells over the district, weighted by area (default, the "
        "Chinese reach-every-point rule); roads: every road sampled at --step-m, weighted by "
        "length; buildings: OSM buildings in --demand-file weighted by floor area; points: a "
        "point layer in --demand-file with a 'weight' column. Districts always come from land.",
    )
    add_access_args(p)
    p.add_argument(
        "--buildings", type=Path, metavar="FILE",
        help="OSM buildings (.osm) with height / building:levels: high-rise aerial reach "
        "(GB 50016-2014 §2.1.1, §7.2.2) and building counts in the no-vehicle-access zones",
    )
    p.add_argument("--demand-file", type=Path, metavar="FILE", help="file for --demand buildings|points")
    p.add_argument(
        "--breaks-min", type=number(low=0, low_open=True, high=MAX_BREAK_MIN, unit="minutes"),
        nargs="+", default=[2, 3, 4, 5],
        help="service-area breaks, minutes of travel (default 2 3 4 5)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the assessment and write its outputs."""
    out = check_outputs(args.out, input_paths(args) + option_paths(vars(args)))
    steps = ["road network", "stations", "assessment", "outputs"]
    with Steps(steps, desc="assess") as bar:
        network = network_from_args(args)
        bar.next()
        stations = stations_from_args(args, network)
        bar.next()
        index = build_index(network)
        demand = demand_from_args(args, network, index)
        result = assess(
            network, stations, standard=args.standard, step_m=args.step_m, demand=demand, index=index,
            breaks_min=args.breaks_min, stations_source=str(args.stations), access=access_from_args(args),
            cell_m=args.cell_m, absorb_below_km2=args.absorb_below_km2,
            buildings=buildings_from_args(args),
        )
        bar.next()
        paths = write_assessment(result, out, tiles=args.tiles)
        bar.next()
    m = result.metrics
    print(
        f"{result.standard.name}: {m['coverage_share']:.1%} of {UNITS[args.demand]} reached within "
        f"{result.standard.travel_threshold_s:.0f} s; first-due p90 {m['first_due_p90_s']:.0f} s, "
        f"max {m['first_due_max_s']:.0f} s"
    )
    worst = m.get("worst_first_due")
    if worst:
        print(f"worst first-due {worst['first_due_s']:.0f} s from {worst['station_id']} "
              f"({worst['station_name']}) at {worst['lat']:.5f}, {worst['lon']:.5f}: reached from "
              f"{worst['access_road_name']} + {worst['on_foot_m']:.0f} m on foot")
    hr = m.get("highrise")
    if hr:
        print(f"high-rises: {hr['highrises']} ({hr['super_highrises']} super high-rise); aerial apparatus "
              f"in time and able to set up: {hr['aerial_in_time']}; no aerial access from any road: "
              f"{hr['no_aerial_access']}")
    land = m.get("land", {})
    if land.get("no_access_km2"):
        print(f"no vehicle access (no road within the hose length): {land['no_access_km2']:.2f} km² "
              f"in {land['no_access_zones']} zones")
    print(f"outputs in {out}/: " + ", ".join(p.name for p in paths.values()))
    return 0


def add_access_args(p: argparse.ArgumentParser) -> None:
    """The access rule and land grid options (shared by commands that assess)."""
    p.add_argument(
        "--access", choices=("points", "snap"), default="points",
        help="points: drive to any road within --access-m, then on foot (default); snap: legacy, "
        "every location snapped to its nearest road, road samples with Voronoi districts",
    )
    p.add_argument("--access-m", type=float, default=ACCESS_DISTANCE_M,
                   help=f"every road within this distance is an access point, m (default "
                   f"{ACCESS_DISTANCE_M:g}, GB 50016-2014 §7.1.1)")
    p.add_argument("--hose-m", type=float, default=HOSE_LENGTH_M,
                   help=f"longest hose lay / walk from the engine, m (default {HOSE_LENGTH_M:g}, "
                   "GB 50974-2014); farther land has no vehicle access")
    p.add_argument("--walk-mps", type=float, default=WALK_SPEED_MPS,
                   help=f"crew speed on foot, m/s (default {WALK_SPEED_MPS:g}, an assumption)")
    p.add_argument("--cell-m", type=float, default=DEFAULT_CELL_M,
                   help=f"land grid cell, m (default {DEFAULT_CELL_M:g})")
    p.add_argument("--absorb-below-km2", type=float, default=ABSORB_BELOW_KM2,
                   help="district clean-up: detached pieces smaller than this join the district "
                   f"around them, km² (default {ABSORB_BELOW_KM2:g}; 0 turns it off)")


def buildings_from_args(args: argparse.Namespace):
    """Building footprints with heights, or None."""
    if getattr(args, "buildings", None) is None:
        return None
    from coverage.buildings import buildings_demand

    return buildings_demand(args.buildings, footprints=True)


def access_from_args(args: argparse.Namespace) -> AccessRule | str:
    """The access rule asked for (``"snap"`` for the legacy rule)."""
    if args.access == "snap":
        return "snap"
    return AccessRule(access_m=args.access_m, hose_m=args.hose_m, walk_mps=args.walk_mps)


def demand_from_args(args: argparse.Namespace, network, index) -> DemandSet | None:
    """The demand layer asked for, or None for the default (land, or legacy road samples)."""
    if args.demand == "land" or (args.demand == "roads" and args.access == "snap"):
        return None
    area = network.boundary if network.boundary is not None else network.study_area
    if args.demand == "roads":
        return DemandSet.from_roads(index, area, step_m=args.step_m, access=access_from_args(args))
    if args.demand_file is None:
        raise InputError(f"--demand {args.demand} needs --demand-file FILE", fix="name the file")
    if args.demand == "buildings":
        from coverage.buildings import buildings_demand

        layer = buildings_demand(args.demand_file)
    else:
        from coverage.layers import read_weighted_points

        layer = read_weighted_points(args.demand_file, coord_system=args.coord_system)
    return DemandSet.from_points(index, layer, area, source=str(args.demand_file),
                                 access=access_from_args(args), kind=args.demand)
