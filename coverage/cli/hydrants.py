"""``station-coverage hydrants``: hydrant compliance (GB 50974-2014 §7.2) and new sites."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage.assess import assess
from coverage.cli.common import (
    COORD_SYSTEMS,
    Steps,
    add_network_args,
    exit_code_for,
    input_paths,
    network_from_args,
    number,
    output_folder,
    study_area_wgs84,
)
from coverage.errors import InputError
from coverage.hydrants import (
    after_proposal,
    assess_hydrants,
    combine_hydrants,
    counted_points,
    fill_spacing_gaps,
    hydrant_map,
    in_service_rate,
    osm_hydrants,
    propose_hydrants,
    read_buildings,
    read_hydrants,
)
from coverage.hydrants.coverage import MEASURES
from coverage.layers import read_stations
from coverage.optimise import SolveOptions
from coverage.outputs.files import run_folder, write_geojson, write_json
from coverage.outputs.maps import save_map
from coverage.outputs.write import check_outputs, option_paths
from coverage.presets import GB50974


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``hydrants`` subcommand."""
    p = sub.add_parser(
        "hydrants",
        help="check hydrants against GB 50974 and propose new sites",
        description="Check municipal fire hydrants against GB 50974-2014 §7.2 on the road "
        "network: share of road length within 150 m of an in-service hydrant, by straight "
        "line and by hose-lay distance along roads (per road class and station district); "
        "spacing > 120 m along roads; bridge heads and tunnel portals without a hydrant; "
        "in-service rate against 98 %; hydrants far from the carriageway or close to walls. "
        "With --propose, the fewest new hydrants (or the best --budget of them) on "
        "candidate sites every 20 m of road. The network keeps roads under height limits "
        "(a hose passes where an engine cannot), so --apparatus-height-m only affects the "
        "station districts. Writes summary.json, hydrants.geojson, hydrant_gaps.geojson, "
        "spacing_violations.geojson, bridges_tunnels.geojson, proposed_hydrants.geojson, "
        "spacing_violations_after.geojson and map.html.",
    )
    add_network_args(p)
    g = p.add_argument_group("hydrants")
    g.add_argument("--hydrants", type=Path, metavar="FILE",
                   help="hydrant layer (GeoJSON/GPKG/SHP/CSV with lon,lat) with optional "
                   "id, status (in service / out of service / unknown, 完好/损坏/...) and type; "
                   "default: the emergency=fire_hydrant nodes of --osm")
    g.add_argument("--add-osm-hydrants", action="store_true",
                   help="add the OSM hydrants of --osm to --hydrants (same spot within 5 m: "
                   "the user's record wins)")
    g.add_argument("--coord-system", choices=COORD_SYSTEMS, default="wgs84",
                   help="coordinate system of --hydrants and --stations (gcj02 = Amap, "
                   "bd09 = Baidu)")
    g.add_argument("--id-col", default="id", help="hydrant id column (default id)")
    g.add_argument("--status-col", default="status", help="hydrant status column (default status)")
    g.add_argument("--type-col", default="type", help="hydrant type column (default type)")
    g.add_argument("--strict-status", action="store_true",
                   help="count only hydrants recorded as in service (default: unknown "
                   "status counts as in service; out of service never counts)")
    g.add_argument("--buildings", type=Path, metavar="FILE",
                   help="building footprints (OSM .osm or polygon layer) for the 5 m "
                   "wall-distance check")
    g.add_argument("--stations", type=Path, metavar="FILE",
                   help="station layer: coverage and in-service rate per station district "
                   "(network Voronoi of the engines' travel times); without it the figures "
                   "are per OSM road class only")
    p.add_argument("--out", type=output_folder, required=True, metavar="DIR", help="output folder")
    q = p.add_argument_group("proposals")
    q.add_argument("--propose", action="store_true", help="propose new hydrant sites")
    q.add_argument("--measure", choices=MEASURES, default="euclidean",
                   help="coverage the proposal must reach: straight-line (the code's literal "
                   "reading, default) or network (hose lay)")
    q.add_argument("--budget", type=number(int, low=1, high=100_000), default=None, metavar="N",
                   help="at most N new hydrants, maximising covered road length "
                   "(default: the fewest for 100 %%)")
    q.add_argument("--meet-spacing", action="store_true",
                   help="also meet the 120 m spacing rule: propose for hose-lay coverage within half "
                   "the spacing (60 m), then add sites on every road stretch still longer than "
                   "120 m between hydrants (not with --budget); summary.json states whether the "
                   "spacing is met and spacing_violations_after.geojson lists what is left")
    q.add_argument("--time-limit", type=number(low=0, low_open=True, high=7 * 24 * 3600, unit="s"),
                   default=300.0, metavar="S",
                   help="solver time limit, seconds (default 300)")
    q.add_argument("--solver", choices=("highs", "cbc"), default="highs",
                   help="MILP solver (default highs)")
    p.set_defaults(run=run)


def _hydrant_layer(args: argparse.Namespace):
    if args.hydrants is None:
        if args.osm is None:
            raise InputError(
                "without --hydrants the hydrants come from the OSM file, but the roads were "
                "downloaded (--place)", source="--hydrants",
                fix="pass --hydrants FILE, or an OSM extract with --osm FILE")
        found = osm_hydrants(args.osm)
        if len(found) == 0:
            raise InputError(
                "the OSM file maps no emergency=fire_hydrant node", source=args.osm,
                fix="pass your hydrant layer with --hydrants FILE")
        return found, str(args.osm)
    layer = read_hydrants(args.hydrants, coord_system=args.coord_system, id_col=args.id_col,
                          status_col=args.status_col, type_col=args.type_col)
    if args.add_osm_hydrants:
        if args.osm is None:
            raise InputError("--add-osm-hydrants needs --osm FILE", source="--add-osm-hydrants",
                             fix="pass the OSM extract with --osm")
        layer = combine_hydrants(layer, osm_hydrants(args.osm))
    return layer, str(args.hydrants)


def run(args: argparse.Namespace) -> int:
    """Run the hydrant checks (and proposal) and write the outputs."""
    out = check_outputs(args.out, input_paths(args) + [args.buildings] + option_paths(vars(args)))
    if args.budget is not None and not args.propose:
        raise InputError("--budget only applies with --propose", source="--budget",
                         fix="add --propose")
    options = SolveOptions(solver=args.solver, time_limit=args.time_limit)
    steps = ["road network", "hydrants", "districts", "checks", "proposal", "outputs"]
    with Steps(steps, desc="hydrants") as bar:
        # A hose is laid on foot: roads under a height limit stay in the network.
        # Hose is laid on foot: height limits and one-way rules do not apply to it.
        network = network_from_args(
            argparse.Namespace(**{**vars(args), "apparatus_height_m": 0.0, "connectivity": "weak"})
        )
        bar.next()
        hydrants, source = _hydrant_layer(args)
        buildings = None if args.buildings is None else read_buildings(args.buildings)
        bar.next()
        districts = None
        if args.stations is not None:
            # Districts are where engines drive first: the user's travel model applies.
            engines = network_from_args(args)
            stations = read_stations(args.stations, coord_system=args.coord_system,
                                     study_area=study_area_wgs84(engines))
            districts = assess(engines, stations, stations_source=str(args.stations)).districts
        bar.next()
        report = assess_hydrants(
            network, hydrants, rules=GB50974, osm=args.osm, buildings=buildings,
            districts=districts, count_unknown=not args.strict_status, source=source,
        )
        bar.next()
        proposal = after = None
        if args.propose:
            xy, snap, _ = counted_points(report.hydrants, report.roads)
            measure, rules = args.measure, GB50974
            if args.meet_spacing:
                measure = "network"
                radius = min(GB50974.protection_radius_m, GB50974.max_spacing_m / 2)
                rules = replace(GB50974, protection_radius_m=radius)
            proposal = propose_hydrants(report.roads, xy, snap, measure=measure,
                                        budget=args.budget, rules=rules, options=options)
            if args.meet_spacing and args.budget is None:
                proposal = fill_spacing_gaps(report, proposal)
            after = after_proposal(report, proposal)
        bar.next()
        with run_folder(out) as tmp:
            paths = _write(report, proposal, after, tmp)
        bar.next()
    _print(report, proposal, after)
    print(f"outputs in {out}/: " + ", ".join(p.name for p in paths))
    if proposal is None:
        return 0
    return exit_code_for(proposal.status, what="the hydrant proposal", message=proposal.message)


def _write(report, proposal, after, out: Path) -> list[Path]:
    hyd_cols = ["id", "status", "status_detail", "type", "source", "snap_m", "in_area",
                "counted", "off_network", "carriageway_offset_m", "offset_basis",
                "far_from_carriageway", "wall_m", "near_wall", "geometry"]
    gap_cols = ["measure", "name", "highway", "osmid", "length_m", "geometry"]
    gaps = gpd.GeoDataFrame(
        pd.concat([report.euclidean.gaps[gap_cols], report.network.gaps[gap_cols]],
                  ignore_index=True),
        geometry="geometry", crs=report.roads.index.crs,
    )
    paths = [
        write_json(report.summary(proposal, after), out / "summary.json"),
        write_geojson(report.hydrants[hyd_cols], out / "hydrants.geojson"),
        write_geojson(gaps, out / "hydrant_gaps.geojson"),
        write_geojson(report.spacing.violations, out / "spacing_violations.geojson"),
    ]
    if report.bridges is not None:
        paths.append(write_geojson(report.bridges.drop(columns=["seg", "pos_m"]),
                                   out / "bridges_tunnels.geojson"))
    if proposal is not None:
        paths.append(write_geojson(proposal.sites.drop(columns=["seg"]),
                                   out / "proposed_hydrants.geojson"))
        paths.append(write_geojson(after.spacing.violations, out / "spacing_violations_after.geojson"))
    paths.append(save_map(hydrant_map(report, proposal), out / "map.html"))
    return paths


def _share(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _print(report, proposal, after) -> None:
    r = report.rules
    print(f"road within {r.protection_radius_m:g} m of a hydrant: "
          f"{_share(report.euclidean.share)} straight-line, "
          f"{_share(report.network.share)} by hose lay along roads")
    print(f"spacing > {r.max_spacing_m:g} m: {len(report.spacing.violations)} stretch(es)")
    if report.bridges is not None:
        print(f"bridge heads / tunnel portals without a hydrant within "
              f"{r.protection_radius_m:g} m: {int(report.bridges['gap'].sum())} of "
              f"{len(report.bridges)}")
    in_area = report.hydrants[report.hydrants["in_area"]]
    rate = in_service_rate(in_area["status"], r.in_service_target)
    print(f"in service: {_share(rate['rate'])} of {rate['in_service'] + rate['out_of_service']} "
          f"hydrants of known status ({rate['unknown']} unknown); target "
          f"{r.in_service_target:.0%}")
    if proposal is not None:
        print(f"proposed {len(proposal.sites)} new hydrant(s) ({proposal.measure}); status "
              f"{proposal.status}: {proposal.message}")
        print(f"after: {_share(after.euclidean.share)} straight-line, "
              f"{_share(after.network.share)} by hose lay; "
              f"{len(after.spacing.violations)} spacing violation(s)")

