"""``station-coverage phase``: a phased build-out plan from a TOML scenario.

The scenario has the ``[data]`` and ``[network]`` tables of ``plan`` (see
``station-coverage plan --help``), a ``[phase]`` table with the years and
budgets, and optionally ``[periods]`` (time of day) and ``[incidents]``
(historical records for the workload table). ``data/geo/yuzhong_phase.toml``
is a worked example.
"""

from __future__ import annotations

import argparse
import math
import tomllib
from pathlib import Path
from typing import Any

from coverage.cli.common import (
    Steps,
    network_from_args,
    output_folder,
    stations_from_args,
    study_area_wgs84,
)
from coverage.cli.plan import SCHEMA as PLAN_SCHEMA
from coverage.cli.plan import _choice, _existing
from coverage.errors import InputError
from coverage.hydrants import assess_hydrants, counted_points, osm_hydrants, read_hydrants
from coverage.incidents import WorkloadRules, incident_weights, read_incidents
from coverage.layers import read_points
from coverage.optimise import SolveOptions
from coverage.outputs.files import run_folder
from coverage.outputs.write import check_outputs
from coverage.periods import PROFILES, read_profile
from coverage.phasing import DISCOUNTS, Discount, PhaseSpec
from coverage.phasing.hydrants import phase_hydrants
from coverage.phasing.plan import run_phasing
from coverage.phasing.report import write_phase_outputs
from coverage.presets import STANDARDS, STATION_TYPES

__all__ = ["PHASE_SCHEMA", "load_phase_scenario", "run_phase"]

PHASE_SCHEMA: dict[str, dict[str, tuple[Any, Any, str]]] = {
    "": PLAN_SCHEMA[""],
    "data": {**PLAN_SCHEMA["data"],
             "incidents": (str, None, "historical incidents (CSV with lon,lat,time,type or a layer)")},
    "network": {**PLAN_SCHEMA["network"],
                "travel_model": (str, None, "travel model TOML (e.g. from `calibrate`)")},
    "phase": {
        "years": (list, None, "plan years, e.g. [2026, 2027, 2028, 2029, 2030]"),
        "budget": ((int, float, list), 1, "per-year budget: one number for every year or a list"),
        "carry_over": (bool, False, "unspent budget carries over to later years"),
        "costs": (dict, None, "cost per station type, e.g. { small = 1200 }; budgets are then costs"),
        "forced": (dict, None, "year = [site ids] that must be open by that year"),
        "forbidden": (dict, None, "year = [site ids] that may not be open in that year"),
        "objective": (str, "coverage", "coverage (summed over years, discounted) or minmax"),
        "discount": (str, "none", f"named discount: {sorted(DISCOUNTS)}"),
        "discount_rate": ((int, float), None, "a custom yearly rate instead of a named discount"),
        "standard": (str, "gb51080", "response standard: gb51080 or nfpa1710"),
        "new_type": (str, "small", "station type of candidates without a type column"),
        "solver": (str, "highs", "highs or cbc"),
        "time_limit_s": ((int, float), None, "wall-clock limit for the phased model, s"),
        "mip_gap": ((int, float), 0.0, "relative gap at which the solver may stop"),
    },
    "periods": {
        "profile": (str, "cn_urban_weekday", f"preset {sorted(PROFILES)} or a profile TOML file"),
        "robust": (str, "none", "none (plan on the travel model), worst (max worst period's "
                   "coverage) or every (cover within the threshold in every period)"),
    },
    "incidents": {
        "coord_system": (str, "wgs84", "coordinate system of the incident layer"),
        "type_weights": (dict, None, "demand weight per incident type (default fire 3, rescue 2, ...)"),
        "as_demand": (bool, False, "plan on incident locations instead of road samples"),
        "time_on_scene_min": ((int, float), 30.0, "named average time on scene, minutes"),
        "busy_threshold": ((int, float), 0.25, "report stations busier than this share of the year"),
    },
    "hydrants": {
        "new_per_year": ((int, list), 0, "new hydrants that can be built each year (one number or a list)"),
        "repairs_per_year": ((int, list), 0, "out-of-service hydrants that can be repaired each year"),
        "measure": (str, "euclidean", "coverage measure: euclidean or network (hose lay)"),
        "in_service_target": ((int, float), 0.98, "in-service share (完好率) target"),
        "strict_status": (bool, False, "count only hydrants recorded as in service today"),
        "time_limit_s": ((int, float), 300.0, "solver wall-clock limit, s"),
    },
    "output": {"tiles": (bool, True, "OpenStreetMap basemap on map.html")},
}


def _validated(raw: dict, table: str, source: Path) -> dict:
    """One table with defaults filled in; unknown keys and wrong types are errors."""
    schema = PHASE_SCHEMA[table]
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} in [{table or 'top level'}]", source=source,
                         fix=f"use one of {sorted(schema)}")
    out = {}
    for key, (kind, default, meaning) in schema.items():
        value = raw.get(key, default)
        if key in raw and (not isinstance(value, kind) or (
                isinstance(value, bool) and kind in (int, (int, float), (int, float, list)))):
            raise InputError(f"[{table or 'top level'}] {key} = {value!r} has the wrong type",
                             source=source, fix=meaning)
        out[key] = list(value) if isinstance(value, list) else value
    return out


def load_phase_scenario(path: str | Path) -> dict:
    """Read and validate a phase scenario; returns the tables with defaults and resolved paths."""
    path = Path(path)
    if not path.is_file():
        raise InputError("scenario file not found", source=path, fix="check the path")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", source=path, fix="check the syntax") from None
    tables = {k: v for k, v in raw.items() if isinstance(v, dict)}
    unknown = sorted(set(tables) - set(PHASE_SCHEMA))
    if unknown:
        raise InputError(f"unknown table [{unknown[0]}]", source=path,
                         fix=f"use tables {sorted(t for t in PHASE_SCHEMA if t)}")
    if "phase" not in tables:
        raise InputError("no [phase] table", source=path, fix="add [phase] with years = [...]")

    def table(name: str) -> dict:
        given = tables.get(name, {}) if name else {k: v for k, v in raw.items()
                                                   if not isinstance(v, dict)}
        return _validated(given, name, path)

    s = {name: table(name) for name in PHASE_SCHEMA}
    s["has_periods"] = "periods" in tables
    s["has_incidents"] = s["data"]["incidents"] is not None
    data = s["data"]
    base = (path.parent / data["base"]).resolve()
    s["path"], s["base"] = path, base
    for key in ("osm", "boundary", "candidates", "incidents"):
        if data[key] is not None:
            data[key] = _existing(base / data[key], key, path)
    for key in ("stations", "hydrants"):
        if data[key] is not None and data[key].lower() != "osm":
            data[key] = _existing(base / data[key], key, path)
    s["has_hydrants"] = "hydrants" in tables or data["hydrants"] is not None
    if s["has_hydrants"]:
        data["hydrants"] = data["hydrants"] or "osm"
        if data["hydrants"] == "osm" and data["osm"] is None:
            raise InputError("hydrants = 'osm' needs data.osm", source=path,
                             fix="name a hydrant layer in data.hydrants")
        _choice(s["hydrants"]["measure"], ("euclidean", "network"), "hydrants.measure", path)
    if (data["osm"] is None) == (data["place"] is None):
        raise InputError("give exactly one of data.osm and data.place", source=path,
                         fix="set osm = 'path/to/extract.osm' (offline) or place = 'District, City'")
    if data["stations"] is None:
        raise InputError("data.stations is missing", source=path, fix="name the station layer")
    if s["network"]["travel_model"] is not None:
        s["network"]["travel_model"] = _existing(base / s["network"]["travel_model"],
                                                 "travel_model", path)
    if s["network"]["cache_dir"] is not None:
        s["network"]["cache_dir"] = base / s["network"]["cache_dir"]
    ph = s["phase"]
    if not ph["years"] or not all(isinstance(y, int) for y in ph["years"]):
        raise InputError("phase.years must list integer years", source=path,
                         fix="e.g. years = [2026, 2027, 2028, 2029, 2030]")
    if not isinstance(ph["budget"], list):
        ph["budget"] = [ph["budget"]] * len(ph["years"])
    _choice(ph["objective"], ("coverage", "minmax"), "phase.objective", path)
    if ph["discount_rate"] is None:
        _choice(ph["discount"], DISCOUNTS, "phase.discount", path)
    _choice(ph["standard"], STANDARDS, "phase.standard", path)
    _choice(ph["new_type"], STATION_TYPES, "phase.new_type", path)
    _choice(s["periods"]["robust"], ("none", "worst", "every"), "periods.robust", path)
    prof = s["periods"]["profile"]
    if prof not in PROFILES:
        s["periods"]["profile"] = _existing(base / prof, "periods.profile", path)
    s["out"] = None if s[""]["out"] is None else base / s[""]["out"]
    s["name"] = s[""]["name"] or path.stem
    return s


def _namespace(s: dict, *, no_cache: bool) -> argparse.Namespace:
    d, n = s["data"], s["network"]
    return argparse.Namespace(
        osm=d["osm"], place=d["place"], boundary=d["boundary"],
        boundary_coord_system=d["boundary_coord_system"], buffer_m=float(n["buffer_m"]),
        speeds=n["speeds"], congestion=n["congestion"], apparatus_height_m=n["apparatus_height_m"],
        signal_delay_s=n["signal_delay_s"], crs=n["crs"], cache_dir=n["cache_dir"],
        no_cache=no_cache, stations=d["stations"], coord_system=d["coord_system"],
        travel_model=n["travel_model"],
    )


def _spec_factory(s: dict):
    ph = s["phase"]
    discount = (DISCOUNTS[ph["discount"]] if ph["discount_rate"] is None else
                Discount(f"rate_{ph['discount_rate']:g}", float(ph["discount_rate"]),
                         "scenario's phase.discount_rate"))

    def make(ids: list, costs) -> PhaseSpec:
        pos = {str(i): k for k, i in enumerate(ids)}

        def cols(rule: str) -> dict[int, list[int]]:
            out = {}
            for year, names in (ph[rule] or {}).items():
                if not str(year).isdigit() or not isinstance(names, list):
                    raise InputError(f"phase.{rule}: use \"YEAR\" = [site ids], got {year!r}",
                                     source=s["path"], fix=f'e.g. {rule} = {{ "2027" = ["N123"] }}')
                missing = [n for n in names if str(n) not in pos]
                if missing:
                    raise InputError(f"phase.{rule} names site {missing[0]!r}, which is not a "
                                     "candidate or station id", source=s["path"],
                                     fix="use ids from candidates.geojson of a site run, or give "
                                     "data.candidates")
                out[int(year)] = [pos[str(n)] for n in names]
            return out

        return PhaseSpec(years=ph["years"], budget=ph["budget"], costs=costs,
                         carry_over=ph["carry_over"], forced=cols("forced"),
                         forbidden=cols("forbidden"), discount=discount)

    return make


def _hydrant_phasing(s: dict, args: argparse.Namespace, run):
    """New hydrants and repairs per year (GB 50974 coverage, 98 % in service)."""
    cfg, data = s["hydrants"], s["data"]
    # A hose is laid on foot: roads under a height limit stay, one-way rules do not bind.
    net = network_from_args(argparse.Namespace(**{**vars(args), "apparatus_height_m": 0.0,
                                                  "connectivity": "weak"}))
    if data["hydrants"] == "osm":
        layer, source = osm_hydrants(data["osm"]), str(data["osm"])
    else:
        layer, source = read_hydrants(data["hydrants"], coord_system=data["coord_system"]), \
            str(data["hydrants"])
    if len(layer) == 0:
        raise InputError("no hydrant found", source=source, fix="name a hydrant layer in data.hydrants")
    report = assess_hydrants(net, layer, osm=data["osm"], count_unknown=not cfg["strict_status"],
                             source=source)
    xy, snap, _ = counted_points(report.hydrants, report.roads)
    return phase_hydrants(
        report.roads, xy, snap, list(run.spec.years), cfg["new_per_year"],
        status=report.hydrants["status"], repairs_per_year=cfg["repairs_per_year"],
        measure=cfg["measure"], in_service_target=float(cfg["in_service_target"]),
        count_unknown=not cfg["strict_status"],
        options=SolveOptions(solver=s["phase"]["solver"], time_limit=float(cfg["time_limit_s"])))


def run_phase(s: dict, out: str | Path | None = None, *, no_cache: bool = False) -> dict[str, Path]:
    """Run a loaded phase scenario and write its outputs; returns their paths."""
    target = out if out is not None else s["out"]
    if target is None:
        raise InputError("no output folder", source=s["path"], fix="set out = '...' or pass --out DIR")
    inputs = [s["path"]] + [v for v in s["data"].values() if isinstance(v, Path)]
    root = check_outputs(target, inputs)
    args = _namespace(s, no_cache=no_cache)
    ph = s["phase"]
    with Steps(["road network", "layers", "phased and myopic plans", "hydrants", "outputs"],
               desc=f"phase {s['name']}") as bar:
        network = network_from_args(args)
        bar.next()
        stations = stations_from_args(args, network)
        area = study_area_wgs84(network)
        candidates = None
        if s["data"]["candidates"] is not None:
            candidates = read_points(s["data"]["candidates"], coord_system=s["data"]["coord_system"],
                                     study_area=area, name="candidates").to_crs(network.crs)
        incidents = weights = None
        inc_cfg = s["incidents"]
        if s["has_incidents"]:
            incidents = read_incidents(s["data"]["incidents"], coord_system=inc_cfg["coord_system"],
                                       study_area=area)
            weights = incident_weights(incidents, inc_cfg["type_weights"])
        profile = read_profile(s["periods"]["profile"]) if s["has_periods"] else None
        bar.next()
        run = run_phasing(
            network, stations, _spec_factory(s), candidates=candidates,
            standard=ph["standard"], new_type=ph["new_type"], type_costs=ph["costs"],
            objective=ph["objective"], robust=s["periods"]["robust"], profile=profile,
            incidents=incidents, incident_weights=weights, demand_from_incidents=inc_cfg["as_demand"],
            workload=WorkloadRules(time_on_scene_min=float(inc_cfg["time_on_scene_min"]),
                                   busy_threshold=float(inc_cfg["busy_threshold"])),
            options=SolveOptions(solver=ph["solver"], time_limit=ph["time_limit_s"],
                                 mip_gap=float(ph["mip_gap"])),
        )
        hydrants = _hydrant_phasing(s, args, run) if s["has_hydrants"] else None
        bar.next()
        notes = [f"scenario {s['path']}", f"travel model: {network.travel_model.name}"]
        if profile is not None:
            notes.append(f"time profile {profile.name}: {profile.note}")
        if incidents is not None and (incidents["source"] == "generated").any():
            notes.append("WARNING: the incident set is GENERATED (source = 'generated'), not real "
                         "records; the workload figures only demonstrate the method")
        if incidents is not None:
            notes.append(f"incidents: {s['data']['incidents']} ({len(incidents)} records); time on "
                         f"scene {inc_cfg['time_on_scene_min']} min (named assumption), workload "
                         f"threshold {inc_cfg['busy_threshold']:.0%} of the year")
        # Written whole, like assess and site: OUT holds this run or the previous one, never a mix.
        with run_folder(root) as tmp:
            written = write_phase_outputs(run, tmp, title=f"Phased build-out — {s['name']}",
                                          notes=notes, tiles=s["output"]["tiles"], hydrants=hydrants)
        paths = {role: root / Path(path).relative_to(tmp) for role, path in written.items()}
        bar.next()
    res, myo = run.phased, run.myopic
    gap = "n/a" if res.gap is None or not math.isfinite(res.gap) else f"{res.gap:.2%}"
    print(f"phased plan ({res.objective_name}): {res.status} ({res.solver}), objective "
          f"{res.objective:,.1f}, bound {res.bound}, gap {gap}")
    print(f"myopic plan: {myo.status}, objective "
          f"{'n/a' if myo.objective is None else format(myo.objective, ',.1f')}")
    ph_rows = run.years[run.years["plan"] == "phased"]
    for r in ph_rows.itertuples():
        print(f"  {r.year}: opens {r.opened or '—'}; coverage {r.coverage_share:.1%}, "
              f"p90 {r.first_due_p90_s / 60:.1f} min, caps {'met' if r.caps_met else 'NOT met'}")
    d = run.difference()
    if d["summed_coverage_share"] is not None:
        print(f"summed coverage share, phased − myopic: {100 * d['summed_coverage_share']:+.2f} "
              "points")
    print(f"outputs in {root}/")
    return paths


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``phase`` subcommand."""
    keys = "\n".join(
        f"  [{table}] {key}: {meaning}" if table else f"  {key}: {meaning}"
        for table, entries in PHASE_SCHEMA.items() for key, (_, _, meaning) in entries.items()
        if table in ("phase", "periods", "incidents", "hydrants", "")
        or key in ("incidents", "travel_model")
    )
    p = sub.add_parser(
        "phase",
        help="phased build-out: which station opens in which year, under yearly budgets",
        description="Plan a multi-year build-out with an exact multi-period MILP (a site opened "
        "stays open): maximise coverage summed over the years with a named discount, or minimise "
        "the worst first-due time year by year. Compares with the myopic plan (each year's best on "
        "its own). Optional: time-of-day periods ([periods]) and incident workload ([incidents]). "
        "Writes summary.json, years.csv, sites.geojson, map.html, coverage_by_year.png, "
        "report.html (and periods.csv, workload.csv). Example: data/geo/yuzhong_phase.toml.",
        epilog="scenario keys ([data] and [network] as for `plan`):\n" + keys,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", type=Path, metavar="SCENARIO.toml", help="scenario file")
    p.add_argument("--out", type=output_folder, metavar="DIR", help="output folder (default: the scenario's 'out')")
    p.add_argument("--no-cache", action="store_true", help="always parse OSM again")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the scenario and run it."""
    run_phase(load_phase_scenario(args.scenario), args.out, no_cache=args.no_cache)
    return 0
