"""``station-coverage assess``: today's coverage of a district's stations."""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage.assess import DemandSet, assess
from coverage.cli.common import (
    Steps,
    add_network_args,
    add_station_args,
    input_paths,
    network_from_args,
    stations_from_args,
)
from coverage.engine import build_index
from coverage.errors import InputError
from coverage.outputs.write import check_outputs, option_paths, write_assessment
from coverage.presets import STANDARDS

UNITS = {"roads": "road length", "buildings": "building floor area", "points": "demand weight"}


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
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--standard", choices=sorted(STANDARDS), default="gb51080", help="response standard (default gb51080)")
    p.add_argument("--step-m", type=float, default=50.0, help="road demand sample spacing, m (default 50)")
    p.add_argument(
        "--demand", choices=("roads", "buildings", "points"), default="roads",
        help="roads: every road sampled at --step-m, weighted by length (default, the Chinese "
        "reach-every-point rule); buildings: OSM buildings in --demand-file weighted by floor area; "
        "points: a point layer in --demand-file with a 'weight' column",
    )
    p.add_argument("--demand-file", type=Path, metavar="FILE", help="file for --demand buildings|points")
    p.add_argument(
        "--breaks-min", type=float, nargs="+", default=[2, 3, 4, 5],
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
            breaks_min=args.breaks_min, stations_source=str(args.stations),
        )
        bar.next()
        paths = write_assessment(result, out)
        bar.next()
    m = result.metrics
    print(
        f"{result.standard.name}: {m['coverage_share']:.1%} of {UNITS[args.demand]} reached within "
        f"{result.standard.travel_threshold_s:.0f} s; first-due p90 {m['first_due_p90_s']:.0f} s, "
        f"max {m['first_due_max_s']:.0f} s"
    )
    print(f"outputs in {out}/: " + ", ".join(p.name for p in paths.values()))
    return 0


def demand_from_args(args: argparse.Namespace, network, index) -> DemandSet | None:
    """The demand layer asked for, or None for the default road samples."""
    if args.demand == "roads":
        return None
    if args.demand_file is None:
        raise InputError(f"--demand {args.demand} needs --demand-file FILE", fix="name the file")
    area = network.boundary if network.boundary is not None else network.study_area
    if args.demand == "buildings":
        from coverage.buildings import buildings_demand

        layer = buildings_demand(args.demand_file)
    else:
        from coverage.layers import read_weighted_points

        layer = read_weighted_points(args.demand_file, coord_system=args.coord_system)
    return DemandSet.from_points(index, layer, area, source=str(args.demand_file))
