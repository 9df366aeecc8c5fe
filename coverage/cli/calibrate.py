"""``station-coverage calibrate``: fit class speeds and congestion to response records."""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage.calibrate import calibrate, read_response_records, write_model_toml
from coverage.cli.common import (
    Steps,
    add_network_args,
    add_station_args,
    input_paths,
    network_from_args,
    number,
    stations_from_args,
)
from coverage.errors import InputError
from coverage.periods import PROFILES, read_profile


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    p = sub.add_parser(
        "calibrate",
        help="fit road-class speeds and congestion factors to response records",
        description="Fit the travel model's speed per road class and a congestion factor per "
        "time-of-day period to response records (station, dispatch, arrival, incident lon/lat) by "
        "bounded least squares on routed times. Prints the fit error (median and p90 absolute "
        "error) and writes the calibrated model as TOML for `assess --travel-model FILE`.",
    )
    add_network_args(p)
    add_station_args(p)
    p.add_argument("records", type=Path, metavar="RECORDS", help="response records (CSV or layer)")
    p.add_argument("--turnout-s", type=number(low=0, high=3600, unit="s"), default=60.0,
                   help="seconds from dispatch to leaving the station, taken off each record (default 60)")
    p.add_argument("--profile", default="cn_urban_weekday",
                   help=f"periods the records are grouped by: {sorted(PROFILES)} or a profile TOML")
    p.add_argument("--reference-period", default="night", help="period taken as free flow (default night)")
    p.add_argument("--min-share", type=number(low=0, high=1), default=0.02,
                   help="fit a class's speed when it carries this share of the routed length (default 0.02)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.toml", help="calibrated model file")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Fit the model and write it."""
    inputs = input_paths(args) + [args.records]
    if any(args.out.resolve() == Path(i).resolve() for i in inputs if i is not None):
        raise InputError("the output would overwrite an input file", source=args.out,
                         fix="choose another --out")
    with Steps(["road network", "records", "fit", "write"], desc="calibrate") as bar:
        network = network_from_args(args)
        bar.next()
        stations = stations_from_args(args, network)
        records = read_response_records(args.records, stations, coord_system=args.coord_system,
                                        turnout_s=args.turnout_s)
        bar.next()
        cal = calibrate(network, stations, records, profile=read_profile(args.profile),
                        reference_period=args.reference_period, min_share=args.min_share)
        bar.next()
        write_model_toml(cal, args.out)
        bar.next()
    print(f"{len(records)} records; fitted {', '.join(cal.fitted_classes)}")
    for k in cal.fitted_classes:
        print(f"  {k}: {cal.model.speeds_kph.get(k, cal.model.fallback_speed_kph):.1f} km/h")
    print("  congestion by period: " + ", ".join(f"{p} ×{g:.2f}" for p, g in cal.period_factors.items()))
    print(f"fit error: median {cal.median_abs_error_s:.1f} s, p90 {cal.p90_abs_error_s:.1f} s "
          f"(base model {cal.initial_median_abs_error_s:.1f} s, {cal.initial_p90_abs_error_s:.1f} s)")
    print(f"model written to {args.out}")
    return 0
