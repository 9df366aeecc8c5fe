"""``station-coverage plan``: everything for one district from a TOML scenario file.

A scenario names the data (OSM extract or place, boundary, stations,
candidates, hydrants), the travel model, the response standard and, optionally,
a placement model. ``plan`` assesses today's stations (``<out>/assess/``); when
the scenario has a ``[site]`` table it sites new stations and writes the
before/after run (``<out>/site/``); when it names hydrants (``data.hydrants`` or
a ``[hydrants]`` table) it checks them against GB 50974 (``<out>/hydrants/``).
``data/geo/yuzhong.toml`` is a worked example.

Relative paths in ``[data]`` are relative to ``data.base``, itself relative to
the scenario file (default: the scenario file's folder); ``out`` is relative
to the same base.
"""

from __future__ import annotations

import argparse
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyproj

from coverage.assess import assess
from coverage.candidates import network_candidates
from coverage.cli.common import (
    COORD_SYSTEMS,
    SPEED_PRESETS,
    Steps,
    check_new_sites,
    check_scenario_values,
    network_from_args,
    output_folder,
    stations_from_args,
    study_area_wgs84,
)
from coverage.errors import InputError
from coverage.hydrants import (
    after_proposal,
    assess_hydrants,
    counted_points,
    osm_hydrants,
    propose_hydrants,
    read_hydrants,
)
from coverage.hydrants.coverage import MEASURES
from coverage.layers import read_points
from coverage.optimise import MODELS, SolveOptions
from coverage.outputs.files import run_folder, write_json
from coverage.outputs.layers import hydrant_layers, write_layers
from coverage.outputs.maps import BASEMAPS, coverage_map, save_map
from coverage.outputs.report import read_summary, summary_lines
from coverage.outputs.write import check_outputs, write_assessment, write_placement
from coverage.presets import STANDARDS, STATION_TYPES
from coverage.siting import site_stations

__all__ = ["SCHEMA", "Scenario", "load_scenario", "run_plan"]

#: Scenario keys per table: (type, default, meaning). ``None`` default = optional.
SCHEMA: dict[str, dict[str, tuple[type | tuple[type, ...], Any, str]]] = {
    "": {
        "name": (str, None, "scenario name (default: the file name)"),
        "out": (str, None, "output folder, relative to data.base"),
    },
    "data": {
        "base": (str, ".", "folder the other paths are relative to, relative to this file"),
        "osm": (str, None, "local OSM extract (.osm / .osm.pbf)"),
        "place": (str, None, "place name to download from OpenStreetMap instead (online)"),
        "boundary": (str, None, "district polygon file"),
        "boundary_coord_system": (str, "wgs84", "coordinate system of the boundary file"),
        "stations": (str, None, "station layer, or 'osm'"),
        "coord_system": (str, "wgs84", "coordinate system of point layers (gcj02 for Amap data)"),
        "candidates": (str, None, "candidate sites for new stations (default: arterial road nodes)"),
        "hydrants": (str, None, "hydrant layer, or 'osm' for the emergency=fire_hydrant nodes of data.osm"),
    },
    "network": {
        "speeds": (str, "china_urban", "speed preset: china_urban or nfpa_iso"),
        "buffer_m": ((int, float), 1500.0, "study area = district + this buffer, m"),
        "congestion": ((int, float), None, "travel-time multiplier >= 1"),
        "apparatus_height_m": ((int, float), None, "drop roads with a lower maxheight, m"),
        "signal_delay_s": ((int, float), None, "extra seconds per traffic signal"),
        "crs": (str, None, "metric CRS, e.g. EPSG:4545"),
        "cache_dir": (str, None, "graph cache folder"),
    },
    "assess": {
        "standard": (str, "gb51080", "response standard: gb51080 or nfpa1710"),
        "step_m": ((int, float), 50.0, "road demand sample spacing, m"),
        "breaks_min": (list, [2, 3, 4, 5], "service-area breaks, minutes"),
    },
    "site": {
        "model": (str, "pcenter", "lscp, mclp, pcenter, pmedian or backup"),
        "p": (int, None, "number of new sites (all models but lscp)"),
        "new_type": (str, "small", "station type of new sites"),
        "solver": (str, "highs", "highs or cbc"),
        "time_limit_s": ((int, float), None, "solver wall-clock limit, s"),
        "mip_gap": ((int, float), 0.0, "relative gap at which the solver may stop"),
        "small_station_rules": (bool, True, "enforce the 2 km² and adjacency rules for small stations"),
    },
    "hydrants": {
        "propose": (bool, True, "propose new hydrant sites"),
        "measure": (str, "euclidean", "coverage the proposal must reach: euclidean or network (hose lay)"),
        "budget": (int, None, "at most this many new hydrants (default: fewest for full coverage)"),
        "strict_status": (bool, False, "count only hydrants recorded as in service"),
        "solver": (str, "highs", "highs or cbc"),
        "time_limit_s": ((int, float), 300.0, "solver wall-clock limit, s"),
    },
    "output": {
        "tiles": (str, "osm", "map basemap: osm, amap or none"),
        "gpkg_crs": (str, "EPSG:4326", "CRS of layers.gpkg, e.g. EPSG:4490 or EPSG:4545"),
        "gcj02": (bool, False, "also write GCJ-02 GeoJSON copies"),
    },
}


@dataclass(frozen=True)
class Scenario:
    """A parsed scenario file: every table with defaults filled in and paths resolved.

    Attributes
    ----------
    name : str
    path : Path
        The TOML file.
    base : Path
        Folder relative paths were resolved against.
    out : Path or None
        Output folder from the file.
    data, network, assess, output : dict
    site : dict or None
        None when the file has no ``[site]`` table.
    hydrants : dict or None
        None when the file names no hydrants.
    """

    name: str
    path: Path
    base: Path
    out: Path | None
    data: dict
    network: dict
    assess: dict
    site: dict | None
    hydrants: dict | None
    output: dict

    def parameters(self) -> dict:
        """Flat ``table.key = value`` listing for reports."""
        out = {}
        for table in ("network", "assess", "site", "hydrants", "output"):
            for key, value in (getattr(self, table) or {}).items():
                if value is not None:
                    out[f"{table}.{key}"] = value
        return out


def _table(raw: dict, table: str, source: Path) -> dict:
    schema = SCHEMA[table]
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} in [{table or 'top level'}]", source=source,
            fix=f"use one of {sorted(schema)}",
        )
    out = {}
    for key, (kind, default, _) in schema.items():
        value = raw.get(key, default)
        if value is not None and key in raw:
            if not isinstance(value, kind) or (kind in (int, (int, float)) and isinstance(value, bool)):
                raise InputError(
                    f"[{table or 'top level'}] {key} = {value!r} has the wrong type", source=source,
                    fix=f"give a {getattr(kind, '__name__', 'number')}: {schema[key][2]}",
                )
        out[key] = list(value) if isinstance(value, list) else value
    return out


def _choice(value: str, allowed, key: str, source: Path) -> None:
    if value not in allowed:
        raise InputError(f"{key} = {value!r} is not one of {sorted(allowed)}", source=source,
                         fix=f"set {key} to one of {sorted(allowed)}")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Raises
    ------
    InputError
        Missing file, invalid TOML, unknown tables or keys, wrong types,
        unknown choices, missing data files, or no road source.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("scenario file not found", source=path, fix="check the path")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", source=path, fix="check the syntax") from None
    tables = {k: v for k, v in raw.items() if isinstance(v, dict)}
    unknown = sorted(set(tables) - set(SCHEMA))
    if unknown:
        raise InputError(f"unknown table [{unknown[0]}]", source=path,
                         fix=f"use tables {sorted(t for t in SCHEMA if t)}")
    top = _table({k: v for k, v in raw.items() if not isinstance(v, dict)}, "", path)
    data = _table(tables.get("data", {}), "data", path)
    base = (path.parent / data["base"]).resolve()
    for key in ("osm", "boundary", "candidates"):
        if data[key] is not None:
            data[key] = _existing(base / data[key], key, path)
    for key in ("stations", "hydrants"):
        if data[key] is not None and data[key].lower() != "osm":
            data[key] = _existing(base / data[key], key, path)
    if (data["osm"] is None) == (data["place"] is None):
        raise InputError("give exactly one of data.osm and data.place", source=path,
                         fix="set osm = 'path/to/extract.osm' (offline) or place = 'District, City'")
    if data["stations"] is None:
        raise InputError("data.stations is missing", source=path, fix="name the station layer, or 'osm'")
    for key in ("coord_system", "boundary_coord_system"):
        _choice(data[key], COORD_SYSTEMS, f"data.{key}", path)
    network = _table(tables.get("network", {}), "network", path)
    _choice(network["speeds"], SPEED_PRESETS, "network.speeds", path)
    if network["cache_dir"] is not None:
        network["cache_dir"] = base / network["cache_dir"]
    assess_t = _table(tables.get("assess", {}), "assess", path)
    _choice(assess_t["standard"], STANDARDS, "assess.standard", path)
    site = _table(tables["site"], "site", path) if "site" in tables else None
    if site is not None:
        _choice(site["model"], MODELS, "site.model", path)
        _choice(site["new_type"], STATION_TYPES, "site.new_type", path)
    hydrants = None
    if "hydrants" in tables or data["hydrants"] is not None:
        hydrants = _table(tables.get("hydrants", {}), "hydrants", path)
        data["hydrants"] = data["hydrants"] or "osm"
        _choice(hydrants["measure"], MEASURES, "hydrants.measure", path)
        if data["hydrants"] == "osm" and data["osm"] is None:
            raise InputError("hydrants = 'osm' needs data.osm", source=path,
                             fix="name a hydrant layer in data.hydrants, or use a local OSM extract")
    output = _table(tables.get("output", {}), "output", path)
    _check_values(path, network=network, assess_t=assess_t, site=site, hydrants=hydrants, output=output)
    scenario = Scenario(
        name=top["name"] or path.stem, path=path, base=base,
        out=None if top["out"] is None else base / top["out"],
        data=data, network=network, assess=assess_t, site=site, hydrants=hydrants, output=output,
    )
    check_scenario_values(scenario)  # ranges, breaks, CRS and folders, as the CLI options
    return scenario


def _number(table: dict, key: str, name: str, source: Path, *, low: float | None = None,
            low_open: bool = False, high: float | None = None, what: str = "") -> None:
    value = table.get(key)
    if value is None:
        return
    ok = math.isfinite(float(value))
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        raise InputError(f"{name}.{key} = {value!r} is out of range", source=source,
                         fix=f"set {name}.{key} to {what}")


def _check_values(source: Path, *, network: dict, assess_t: dict, site: dict | None, hydrants: dict | None,
                  output: dict) -> None:
    """Every value of every table, before anything is computed or written."""
    _number(network, "buffer_m", "network", source, low=0, what="a distance ≥ 0 in metres, e.g. 1500")
    _number(network, "congestion", "network", source, low=1, what="a multiplier ≥ 1")
    _number(network, "apparatus_height_m", "network", source, low=0, what="a height ≥ 0 in metres, e.g. 3.2")
    _number(network, "signal_delay_s", "network", source, low=0, high=600, what="seconds between 0 and 600")
    _number(assess_t, "step_m", "assess", source, low=0, low_open=True, what="a spacing > 0 in metres, e.g. 50")
    breaks = assess_t["breaks_min"]
    if (not breaks or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in breaks)
            or not all(math.isfinite(b) and b > 0 for b in breaks)
            or any(b >= c for b, c in zip(breaks, breaks[1:], strict=False))):
        raise InputError(f"assess.breaks_min = {breaks!r} is not a list of increasing minutes", source=source,
                         fix="give increasing positive numbers of minutes, e.g. breaks_min = [2, 3, 4, 5]")
    if site is not None:
        _choice(site["solver"], ("highs", "cbc"), "site.solver", source)
        if site["model"] != "lscp" and site["p"] is None:
            raise InputError(f"site.model = {site['model']!r} needs the number of new sites", source=source,
                             fix="set p = 1 (or more) in [site], or use model = 'lscp'")
        _number(site, "p", "site", source, low=0, high=10_000, what="a count of new sites, e.g. 3")
        _number(site, "time_limit_s", "site", source, low=0, low_open=True, what="seconds > 0, e.g. 300")
        _number(site, "mip_gap", "site", source, low=0, high=1, what="a share between 0 and 1, e.g. 0.01")
    if hydrants is not None:
        _choice(hydrants["solver"], ("highs", "cbc"), "hydrants.solver", source)
        _number(hydrants, "budget", "hydrants", source, low=0, what="a count of hydrants ≥ 0")
        _number(hydrants, "time_limit_s", "hydrants", source, low=0, low_open=True, what="seconds > 0, e.g. 300")
    _choice(output["tiles"], BASEMAPS, "output.tiles", source)
    try:
        pyproj.CRS.from_user_input(output["gpkg_crs"])
    except pyproj.exceptions.CRSError:
        raise InputError(f"output.gpkg_crs = {output['gpkg_crs']!r} is not a known CRS", source=source,
                         fix="give an EPSG code such as 'EPSG:4326', 'EPSG:4490' or 'EPSG:4545'") from None


def _existing(path: Path, key: str, source: Path) -> Path:
    if not path.exists():
        raise InputError(f"data.{key} file {path} not found", source=source,
                         fix="fix the path (relative to data.base)")
    return path


def _namespace(s: Scenario, *, no_cache: bool) -> argparse.Namespace:
    """The scenario as the arguments the assess command's loaders take."""
    return argparse.Namespace(
        osm=s.data["osm"], place=s.data["place"], boundary=s.data["boundary"],
        boundary_coord_system=s.data["boundary_coord_system"], buffer_m=float(s.network["buffer_m"]),
        speeds=s.network["speeds"], congestion=s.network["congestion"],
        apparatus_height_m=s.network["apparatus_height_m"], signal_delay_s=s.network["signal_delay_s"],
        crs=s.network["crs"], cache_dir=s.network["cache_dir"], no_cache=no_cache,
        stations=s.data["stations"], coord_system=s.data["coord_system"],
    )


def _hydrant_step(scenario: Scenario, args: argparse.Namespace, before, out: Path, out_opts: dict) -> dict:
    """GB 50974 hydrant checks (and proposals), written to ``out``."""
    cfg = scenario.hydrants
    # A hose is laid on foot: roads under a height limit stay in the network.
    network = network_from_args(argparse.Namespace(**{**vars(args), "apparatus_height_m": 0.0}))
    if scenario.data["hydrants"] == "osm":
        hydrants, source = osm_hydrants(scenario.data["osm"]), str(scenario.data["osm"])
    else:
        source = str(scenario.data["hydrants"])
        hydrants = read_hydrants(scenario.data["hydrants"], coord_system=scenario.data["coord_system"])
    if len(hydrants) == 0:
        raise InputError("no hydrant found", source=source, fix="name a hydrant layer in data.hydrants")
    report = assess_hydrants(network, hydrants, osm=scenario.data["osm"], districts=before.districts,
                             count_unknown=not cfg["strict_status"], source=source)
    proposal = after = None
    if cfg["propose"]:
        xy, snap, _ = counted_points(report.hydrants, report.roads)
        proposal = propose_hydrants(
            report.roads, xy, snap, measure=cfg["measure"], budget=cfg["budget"],
            options=SolveOptions(solver=cfg["solver"], time_limit=float(cfg["time_limit_s"])),
        )
        after = after_proposal(report, proposal)
    layers = hydrant_layers(report, proposal)
    paths = {"summary": write_json(report.summary(proposal, after), out / "summary.json")}
    paths.update(write_layers(layers, out, gpkg_crs=out_opts["gpkg_crs"], gcj02=out_opts["gcj02"]))
    paths["map"] = save_map(coverage_map(before, hydrants=layers, tiles=out_opts["tiles"]), out / "map.html")
    return paths


def run_plan(scenario: Scenario, out: str | Path | None = None, *, no_cache: bool = False) -> dict[str, Any]:
    """Run every step of a scenario and write its outputs.

    Parameters
    ----------
    scenario : Scenario
        From :func:`load_scenario`.
    out : str or Path, optional
        Output folder; default the scenario's ``out``.
    no_cache : bool
        Parse the OSM extract again instead of using the graph cache.

    Returns
    -------
    dict
        ``steps`` (names run), ``paths`` (step to its outputs, by role) and
        ``plan`` (path of ``plan.json``).
    """
    target = out if out is not None else scenario.out
    if target is None:
        raise InputError("no output folder", source=scenario.path, fix="set out = '...' or pass --out DIR")
    inputs = [scenario.path, scenario.network["cache_dir"]]
    inputs += [v for v in scenario.data.values() if isinstance(v, Path)]
    final = check_outputs(target, inputs)
    args = _namespace(scenario, no_cache=no_cache)
    names = ["road network", "stations", "assess", "assess outputs"]
    if scenario.site is not None:
        names += ["site", "site outputs"]
    if scenario.hydrants is not None:
        names += ["hydrants"]
    out_opts = {"tiles": scenario.output["tiles"], "gpkg_crs": scenario.output["gpkg_crs"],
                "gcj02": scenario.output["gcj02"]}
    paths: dict[str, dict] = {}
    # The whole plan is one run: assess/, site/, hydrants/ and plan.json appear together or not at all.
    with run_folder(final) as root, Steps(names, desc=f"plan {scenario.name}") as bar:
        network = network_from_args(args)
        bar.next()
        stations = stations_from_args(args, network)
        candidates = None
        if scenario.site is not None:
            # Read and count the candidates before the long steps, so a [site] table asking
            # for more new sites than there are candidates fails in seconds, not after assess.
            if scenario.data["candidates"] is not None:
                candidates = read_points(
                    scenario.data["candidates"], coord_system=scenario.data["coord_system"],
                    study_area=study_area_wgs84(network), name="candidates",
                )
            else:
                candidates = network_candidates(network)
            check_new_sites(scenario.site["p"], len(candidates),
                            flag=f"site.p in {scenario.path.name}")
        bar.next()
        before = assess(
            network, stations, standard=scenario.assess["standard"], step_m=float(scenario.assess["step_m"]),
            breaks_min=scenario.assess["breaks_min"], stations_source=str(scenario.data["stations"]),
        )
        bar.next()
        paths["assess"] = write_assessment(before, root / "assess", **out_opts)
        bar.next()
        if scenario.site is not None:
            cfg = scenario.site
            run = site_stations(
                network, stations, model=cfg["model"], p=cfg["p"], candidates=candidates,
                standard=scenario.assess["standard"], new_type=cfg["new_type"],
                options=SolveOptions(solver=cfg["solver"], time_limit=cfg["time_limit_s"],
                                     mip_gap=float(cfg["mip_gap"])),
                small_station_rules=cfg["small_station_rules"],
                demand=before.demand_set, index=before.index,
            )
            bar.next()
            paths["site"] = write_placement(run, root / "site", parameters=scenario.parameters(), **out_opts)
            bar.next()
        if scenario.hydrants is not None:
            folder = root / "hydrants"
            folder.mkdir()
            paths["hydrants"] = _hydrant_step(scenario, args, before, folder, out_opts)
            bar.next()
        paths = {step: {k: final / Path(v).relative_to(root) for k, v in p.items()} for step, p in paths.items()}
        plan = {
            "scenario": str(scenario.path),
            "name": scenario.name,
            "steps": [n for n in names if not n.endswith("outputs")],
            "parameters": scenario.parameters(),
            "outputs": {step: {k: str(v) for k, v in p.items()} for step, p in paths.items()},
        }
        write_json(plan, root / "plan.json")
    return {"steps": plan["steps"], "paths": paths, "plan": final / "plan.json"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``plan`` subcommand."""
    keys = "\n".join(
        f"  [{table}] {key}: {meaning}" if table else f"  {key}: {meaning}"
        for table, entries in SCHEMA.items() for key, (_, _, meaning) in entries.items()
    )
    p = sub.add_parser(
        "plan",
        help="run assess, site and hydrants for one district from a TOML scenario",
        description="Run everything for one district from a scenario file: assess today's stations, "
        "site new stations when the file has a [site] table, and check hydrants against GB 50974 "
        "when it names them. Outputs: OUT/assess/ and OUT/site/ (summary.json, GeoJSON layers, "
        "layers.gpkg, CSV tables, map.html, report.html), OUT/hydrants/ (summary.json, hydrant "
        "layers, map.html) and OUT/plan.json. Example: data/geo/yuzhong.toml.",
        epilog="scenario keys:\n" + keys,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", type=Path, metavar="SCENARIO.toml", help="scenario file")
    p.add_argument("--out", type=output_folder, metavar="DIR", help="output folder (default: the scenario's 'out')")
    p.add_argument("--no-cache", action="store_true", help="always parse OSM again")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the scenario and run it."""
    scenario = load_scenario(args.scenario)
    result = run_plan(scenario, args.out, no_cache=args.no_cache)
    for step, paths in result["paths"].items():
        folder = Path(paths["summary"]).parent
        print(f"{step}: {folder}/ ({len(paths)} files)")
        if step in ("assess", "site"):
            print("\n".join(f"  {line}" for line in summary_lines(read_summary(folder))))
    print(f"plan record: {result['plan']}")
    return 0
