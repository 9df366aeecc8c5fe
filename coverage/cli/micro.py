"""``station-coverage micro``: micro fire stations (微型消防站) on the walk network."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from coverage.buildings import buildings_demand
from coverage.cli.common import COORD_SYSTEMS, Steps, number, output_folder, study_area_wgs84
from coverage.engine import build_index
from coverage.errors import InputError
from coverage.layers import read_boundary, read_points, read_stations
from coverage.micro import (
    MICRO_3MIN,
    assess_micro,
    building_demand,
    combined_metrics,
    combined_view,
    engine_first_due,
    grid_demand,
    key_units_from_osm,
    micro_layers,
    micro_map,
    micro_report_html,
    micro_summary,
    read_key_units,
    read_micro_stations,
    site_micro_stations,
)
from coverage.network import CHINA_URBAN, load_network
from coverage.network.walk import WALK_PRESETS, with_overrides
from coverage.optimise import SolveOptions
from coverage.outputs.files import atomic_write, run_folder, write_geojson, write_json
from coverage.outputs.maps import save_map
from coverage.outputs.write import check_outputs
from coverage.presets import STANDARDS


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``micro`` subcommand."""
    p = sub.add_parser(
        "micro",
        help="micro fire stations on the walk network: 1 min turnout + 3 min on foot",
        description="Assess micro fire stations (微型消防站) on the pedestrian network (steps, "
        "lanes, footways): share of key units, high-rises and residential floor area reached "
        "within 1 min turnout + 3 min on the way, per grid cell, with the gaps listed; the "
        "combined view of first water (micro station) against first engine (fire stations on "
        "the road network); and, with --propose, community micro-station sites (LSCP or MCLP). "
        "Writes summary.json, report.html, map.html and GeoJSON layers.",
    )
    net = p.add_argument_group("walk network")
    one = net.add_mutually_exclusive_group(required=True)
    one.add_argument("--walk-osm", type=Path, metavar="FILE",
                     help="local OSM extract with the pedestrian ways (.osm or .osm.pbf), offline")
    one.add_argument("--place", metavar="NAME",
                     help="download the district's walk network from OpenStreetMap (online)")
    net.add_argument("--boundary", type=Path, metavar="FILE", help="district polygon")
    net.add_argument("--boundary-coord-system", choices=COORD_SYSTEMS, default="wgs84",
                     help="coordinate system of the boundary file (default wgs84)")
    net.add_argument("--buffer-m", type=number(low=0, high=20_000, unit="m"), default=500.0,
                     help="study area = district + this buffer (m, default 500)")
    net.add_argument("--crs", default=None, help="metric CRS (default local UTM)")
    net.add_argument("--cache-dir", type=Path, default=None, help="graph cache folder")
    net.add_argument("--no-cache", action="store_true", help="always parse OSM again")

    w = p.add_argument_group("walk model (presets in coverage.network.walk, with sources)")
    w.add_argument("--profile", choices=sorted(WALK_PRESETS), default="on_foot",
                   help="on_foot: running with equipment 2.0 m/s (default); walking: 1.35 m/s; "
                   "ebike: electric bike/tricycle 15 km/h, no steps or elevators")
    w.add_argument("--speed-mps", type=number(low=0, low_open=True, high=15, unit="m/s"), help="level speed, m/s")
    w.add_argument("--stair-up-mps", type=number(low=0, low_open=True, high=5, unit="m/s"), help="vertical speed up steps, m/s")
    w.add_argument("--stair-down-mps", type=number(low=0, low_open=True, high=5, unit="m/s"), help="vertical speed down steps, m/s")
    w.add_argument("--step-rise-m", type=number(low=0, low_open=True, high=0.5, unit="m"), help="step height, m (default 0.15)")
    w.add_argument("--step-tread-m", type=number(low=0, low_open=True, high=1, unit="m"), help="step depth, m (default 0.30)")
    w.add_argument("--unknown-stairs", choices=("up", "mean"),
                   help="steps without incline: up both ways (default) or the mean")
    w.add_argument("--elevator-s", type=number(low=0, high=3600, unit="s"), help="seconds per public elevator (default 90)")
    w.add_argument("--turnout-s", type=number(low=0, high=3600, unit="s"), default=MICRO_3MIN.turnout_s,
                   help="turnout, s (default 60)")
    w.add_argument("--travel-s", type=number(low=0, low_open=True, high=3600, unit="s"), default=MICRO_3MIN.travel_s,
                   help="time on the way, s (default 180)")

    lay = p.add_argument_group("layers")
    lay.add_argument("--micro-stations", type=Path, metavar="FILE",
                     help="micro stations (id, name, type community/unit, staffing, status); "
                     "without it, --propose proposes a network from scratch")
    lay.add_argument("--coord-system", choices=COORD_SYSTEMS, default="wgs84",
                     help="coordinate system of point layers (gcj02 = Amap, bd09 = Baidu)")
    lay.add_argument("--buildings", type=Path, metavar="FILE",
                     help="OSM buildings extract: floor area, high-rises and POIs")
    lay.add_argument("--key-units", type=Path, metavar="FILE",
                     help="key-unit layer (points with id, name, category); default: derived "
                     "from OSM POIs in --buildings and --walk-osm, and high-rises")
    lay.add_argument("--highrise-height-m", type=number(low=0, low_open=True, high=1000, unit="m"), default=27.0,
                     help="high-rise above this height, m (GB 50016-2014 §2.1.1 residential: 27)")
    lay.add_argument("--cell-m", type=number(low=10, high=5000, unit="m"), default=500.0,
                     help="grid cell for the per-cell summary, m (default 500)")

    eng = p.add_argument_group("first engine (combined view)")
    eng.add_argument("--drive-osm", type=Path, metavar="FILE", help="OSM drive extract")
    eng.add_argument("--stations", type=Path, metavar="FILE", help="fire-station layer")
    eng.add_argument("--standard", choices=sorted(STANDARDS), default="gb51080",
                     help="engine standard (default gb51080)")

    s = p.add_argument_group("siting")
    s.add_argument("--propose", action="store_true", help="propose community micro stations")
    s.add_argument("--model", choices=("lscp", "mclp"), default="lscp",
                   help="lscp: fewest stations reaching every reachable demand point (default); "
                   "mclp: the best --new N")
    s.add_argument("--new", type=number(int, low=1, high=100_000), metavar="N", help="new stations for mclp")
    s.add_argument("--site-demand", choices=("buildings", "residential", "grid"),
                   default="buildings",
                   help="what community stations must reach: every building by floor area "
                   "(default: most OSM buildings in Chinese cities are untagged 'yes'), "
                   "residential-tagged buildings only, or the land grid (--grid-m)")
    s.add_argument("--grid-m", type=number(low=5, high=5000, unit="m"), default=100.0, help="grid demand cell, m")
    s.add_argument("--candidates", type=Path, metavar="FILE",
                   help="candidate sites (points); default: walk-network nodes in the district")
    s.add_argument("--min-spacing-m", type=number(low=0, high=5000, unit="m"), default=0.0,
                   help="thin walk-node candidates to this spacing, m")
    s.add_argument("--time-limit", type=number(low=0, low_open=True, high=86_400, unit="s"), default=300.0, help="solver time limit, s")
    s.add_argument("--solver", choices=("highs", "cbc"), default="highs",
                   help="MILP solver (default highs)")
    p.add_argument("--out", type=output_folder, required=True, metavar="DIR", help="output folder")
    p.set_defaults(run=run)


def _inputs(args: argparse.Namespace) -> list[Path]:
    out = []
    for key in ("walk_osm", "boundary", "micro_stations", "buildings", "key_units", "drive_osm",
                "stations", "candidates"):
        value = getattr(args, key, None)
        if value is not None:
            if not Path(value).exists():
                raise InputError("file not found", source=value, fix="check the path")
            out.append(Path(value))
    return out


def _model(args: argparse.Namespace):
    return with_overrides(
        WALK_PRESETS[args.profile], speed_mps=args.speed_mps, stair_up_mps=args.stair_up_mps,
        stair_down_mps=args.stair_down_mps, step_rise_m=args.step_rise_m,
        step_tread_m=args.step_tread_m, unknown_stairs=args.unknown_stairs,
        elevator_s=args.elevator_s)


def run(args: argparse.Namespace) -> int:
    """Load, assess, optionally site, and write the outputs."""
    started = time.perf_counter()
    out = check_outputs(args.out, _inputs(args))
    if args.micro_stations is None and not args.propose:
        raise InputError("nothing to assess: no --micro-stations and no --propose",
                         fix="pass your micro-station layer, or --propose to site them")
    if (args.drive_osm is None) != (args.stations is None):
        raise InputError("the combined view needs both --drive-osm and --stations",
                         fix="pass both, or neither")
    standard = replace(MICRO_3MIN, turnout_s=args.turnout_s, travel_s=args.travel_s)
    cache = False if args.no_cache else args.cache_dir
    names = ["walk network", "layers", "siting", "assessment", "first engine", "outputs"]
    with Steps(names, desc="micro") as bar:
        boundary = None if args.boundary is None else read_boundary(
            args.boundary, coord_system=args.boundary_coord_system)
        kw = dict(buffer_m=args.buffer_m, travel_model=_model(args), crs=args.crs,
                  cache_dir=cache)
        if args.walk_osm is not None:
            walk = load_network(osm=args.walk_osm, boundary=boundary, **kw)
        elif boundary is not None:
            walk = load_network(polygon=boundary, **kw)
        else:
            walk = load_network(place=args.place, **kw)
        index = build_index(walk)
        bar.next()

        area = study_area_wgs84(walk)
        micro = None if args.micro_stations is None else read_micro_stations(
            args.micro_stations, coord_system=args.coord_system, study_area=area)
        buildings = None
        if args.buildings is not None:
            buildings = building_demand(buildings_demand(
                args.buildings, highrise_height_m=args.highrise_height_m))
        if args.key_units is not None:
            keys = read_key_units(args.key_units, coord_system=args.coord_system)
        else:
            files = [f for f in (args.buildings, args.walk_osm) if f is not None]
            keys = key_units_from_osm(files, buildings=buildings) if files else None
        bar.next()

        siting = None
        if args.propose:
            district = walk.boundary if walk.boundary is not None else walk.study_area
            if args.site_demand == "grid":
                demand = grid_demand(district, walk.crs, cell_m=args.grid_m)
            else:
                if buildings is None:
                    raise InputError(f"--site-demand {args.site_demand} needs --buildings FILE",
                                     fix="pass the OSM buildings extract, or --site-demand grid")
                demand = buildings if args.site_demand == "buildings" else \
                    buildings[buildings["residential"]]
            candidates = None
            if args.candidates is not None:
                candidates = read_points(args.candidates, coord_system=args.coord_system,
                                         name="candidates")
            siting = site_micro_stations(
                walk, demand, existing=micro, candidates=candidates, model=args.model, p=args.new,
                standard=standard, min_spacing_m=args.min_spacing_m, index=index,
                options=SolveOptions(solver=args.solver, time_limit=args.time_limit))
            stations = siting.stations
        else:
            stations = micro
        bar.next()

        result = assess_micro(walk, stations, buildings=buildings, key_units=keys,
                              standard=standard, index=index, cell_m=args.cell_m,
                              source=str(args.micro_stations or "proposed micro stations"))
        bar.next()

        view, comb = None, None
        if args.drive_osm is not None and buildings is not None:
            drive = load_network(osm=args.drive_osm, boundary=boundary, travel_model=CHINA_URBAN,
                                 crs=walk.crs, cache_dir=cache)
            fire = read_stations(args.stations, coord_system=args.coord_system,
                                 study_area=study_area_wgs84(drive))
            engine = engine_first_due(drive, fire, result.buildings, standard=args.standard)
            view = combined_view(result, engine)
            comb = combined_metrics(view)
        bar.next()

        run_s = time.perf_counter() - started
        summary = micro_summary(
            result, siting=siting, combined=comb, network_report=walk.report.as_dict(),
            run_s=run_s, inputs={k: str(v) for k, v in vars(args).items()
                                 if isinstance(v, Path)})
        proposed = siting.sites if siting is not None else None
        district = walk.boundary if walk.boundary is not None else walk.study_area
        # Written whole, like assess and site: OUT holds this run or the previous one, never a mix.
        with run_folder(out) as tmp:
            write_json(summary, tmp / "summary.json")
            for stem, layer in micro_layers(result, walk.graph, combined=view,
                                            proposed=proposed).items():
                write_geojson(layer, tmp / f"{stem}.geojson")
            fmap = micro_map(result, walk.graph, combined=view, proposed=proposed, area=district)
            save_map(fmap, tmp / "map.html")
            atomic_write(tmp / "report.html", micro_report_html(summary))
        bar.next()

    m = result.metrics
    print(f"{m['stations']} micro stations reach within {standard.turnout_s:.0f} s + "
          f"{standard.travel_s:.0f} s: {_pct(m['highrises'])} of {m['highrises']['total']:.0f} "
          f"high-rises, {_pct(m['key_units'])} of {m['key_units']['total']:.0f} key units, "
          f"{_pct(m['residential_floor_area'])} of residential floor area")
    if siting is not None:
        r = siting.result
        print(f"siting: {len(siting.sites)} new community micro stations ({r.model}, status "
              f"{r.status}, bound {r.bound}, gap {r.gap})"
              + (" [greedy fallback: the solver returned no solution]" if siting.heuristic else ""))
    if comb is not None:
        for label, key in (("all buildings", "all"), ("high-rises", "highrises")):
            c = comb[key]
            if c["buildings"] and c["median_time_saved_s"] is not None:
                print(f"{label}: median first water {c['median_first_water_s'] / 60:.1f} min, "
                      f"first engine {c['median_first_engine_s'] / 60:.1f} min, median time "
                      f"saved {c['median_time_saved_s'] / 60:.1f} min; {c['neither']} reached "
                      "by neither in time")
    print(f"run time {time.perf_counter() - started:.1f} s with outputs ({run_s:.1f} s to the "
          f"figures); outputs in {out}/")
    return 0


def _pct(block) -> str:
    return "n/a" if block.get("share") is None else f"{100 * block['share']:.1f} %"


