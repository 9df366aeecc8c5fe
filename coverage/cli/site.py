"""``station-coverage site``: propose new small stations with an exact model."""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage.candidates import (
    DEFAULT_RULES,
    apply_exclusions,
    combine,
    exclusion_features,
    network_candidates,
)
from coverage.cli.common import (
    MAX_NEW_SITES,
    Steps,
    add_map_args,
    add_network_args,
    add_station_args,
    check_new_sites,
    exit_code_for,
    input_paths,
    network_from_args,
    number,
    output_folder,
    stations_from_args,
    study_area_wgs84,
)
from coverage.layers import read_points
from coverage.optimise import MODELS, SolveOptions
from coverage.outputs.report import read_summary, summary_lines
from coverage.outputs.write import check_outputs, option_paths, write_placement
from coverage.presets import STANDARDS, STATION_TYPES
from coverage.siting import site_stations


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``site`` subcommand."""
    p = sub.add_parser(
        "site",
        help="propose new (small) station sites with an exact MILP and report before/after",
        description="Choose new station sites on the road network with an exact location model "
        "(HiGHS or CBC through PuLP), with the existing stations fixed. pcenter shrinks the worst "
        "first-due time (the protection radius); mclp maximises covered road length with P new "
        "sites; lscp finds the fewest sites covering everything coverable; pmedian minimises mean "
        "first-due time; backup maximises demand covered twice. Small sites obey 建标152-2017: "
        "district ≤ 2 km² and bordering a full station's district. Status is stated honestly: a "
        "time-limited answer is 'feasible' with its bound and gap, never 'optimal'. Writes "
        "summary.json, sites.geojson, candidates.geojson, map.html, before_after.html, report.html.",
    )
    add_network_args(p)
    add_station_args(p)
    add_map_args(p)
    p.add_argument("--model", choices=sorted(MODELS), default="pcenter", help="location model (default pcenter)")
    p.add_argument(
        "--new", type=number(int, low=1, high=MAX_NEW_SITES), dest="p", metavar="P",
        help=f"number of new sites, 1 to {MAX_NEW_SITES} (all models but lscp)",
    )
    p.add_argument("--candidates", type=Path, metavar="FILE", help="candidate sites layer (points with id)")
    p.add_argument(
        "--candidates-mode", choices=("replace", "add"), default="replace",
        help="with --candidates: replace the default network candidates, or add to them",
    )
    p.add_argument(
        "--exclusions", metavar="FILE",
        help="places to keep away from: an OSM file (hospitals, schools, hazardous sites), a layer with "
        "a 'kind' column (sensitive/hazardous), or 'osm' to query OpenStreetMap online",
    )
    p.add_argument("--new-type", choices=sorted(STATION_TYPES), default="small", help="type of new sites")
    p.add_argument("--no-small-rules", action="store_true", help="do not enforce the 建标152 small-station rules")
    p.add_argument("--standard", choices=sorted(STANDARDS), default="gb51080",
                   help="response standard the coverage is measured against (default gb51080)")
    p.add_argument("--solver", choices=("highs", "cbc"), default="highs",
                   help="MILP solver (default highs)")
    p.add_argument(
        "--time-limit", type=number(low=0, low_open=True, high=7 * 24 * 3600, unit="s"),
        default=None, metavar="S", help="solver wall-clock limit, seconds (default: none)",
    )
    p.add_argument(
        "--mip-gap", type=number(low=0, high=1), default=0.0,
        help="relative gap from 0 to 1 at which to stop (default 0: prove optimality)",
    )
    p.add_argument("--out", type=output_folder, required=True, metavar="DIR",
                   help="output folder (created; an earlier run's files there are replaced)")
    p.set_defaults(run=run)


def candidates_from_args(args: argparse.Namespace, network):
    """Default network candidates and/or the user's layer, minus exclusions."""
    user = None
    if args.candidates is not None:
        user = read_points(
            args.candidates, coord_system=args.coord_system, name="candidates",
            study_area=study_area_wgs84(network),
        ).to_crs(network.crs)
        user["source"] = "user"
    default = None
    args.rejected_candidates = None
    if args.candidates is None or args.candidates_mode == "add":
        default, args.rejected_candidates = network_candidates(network, return_rejected=True)
        if args.exclusions:
            places = exclusion_features(args.exclusions, area_wgs84=study_area_wgs84(network))
            default = apply_exclusions(default, places, rules=DEFAULT_RULES)
    return combine(default, user, mode=args.candidates_mode if user is not None else "add")


def run(args: argparse.Namespace) -> int:
    """Solve the placement model and write the before/after outputs."""
    out = check_outputs(args.out, input_paths(args) + option_paths(vars(args)))
    options = SolveOptions(solver=args.solver, time_limit=args.time_limit, mip_gap=args.mip_gap)
    with Steps(["road network", "stations and candidates", "model", "outputs"], desc="site") as bar:
        network = network_from_args(args)
        bar.next()
        stations = stations_from_args(args, network)
        candidates = candidates_from_args(args, network)
        check_new_sites(args.p, len(candidates))
        bar.next()
        siting = site_stations(
            network, stations, model=args.model, p=args.p, candidates=candidates,
            standard=args.standard, new_type=args.new_type, options=options,
            small_station_rules=not args.no_small_rules,
        )
        bar.next()
        paths = write_placement(
            siting, out, tiles=args.tiles,
            parameters={"model": args.model, "p": args.p, "solver": args.solver,
                        "time_limit_s": args.time_limit, "mip_gap": args.mip_gap,
                        "candidates": len(candidates), "new_type": args.new_type},
            rejected_candidates=args.rejected_candidates,
        )
        bar.next()
    for line in summary_lines(read_summary(paths["summary"])):
        print(line)
    print(f"outputs in {out}/")
    res = siting.result
    return exit_code_for(res.status, what=f"the {res.model} model", message=res.message)
