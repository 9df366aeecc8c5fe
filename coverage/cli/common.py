"""Arguments, validation and loading steps shared by the subcommands.

Every numeric option is checked by an argparse ``type`` from this module, so a
bad value is refused before any work starts, with the flag the user typed and a
fix (``argument --new: ...``), never a library's parameter name.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
from tqdm.auto import tqdm

from coverage.errors import InputError
from coverage.layers import read_boundary, read_stations
from coverage.network import CHINA_URBAN, NFPA_ISO, RoadNetwork, load_network
from coverage.network.osm import NoRoadsError

SPEED_PRESETS = {"china_urban": CHINA_URBAN, "nfpa_iso": NFPA_ISO}
COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")

#: Longest file or folder name most file systems accept (bytes, ext4/APFS/NTFS).
MAX_NAME_BYTES = 255
#: Pseudo file systems no run may write into.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")


# ------------------------------------------------------------------ option types


def number(
    kind: type = float,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    unit: str = "",
    fix: str | None = None,
) -> Callable[[str], float | int]:
    """An argparse ``type`` for a finite number in ``[low, high]`` (``(low, high]`` if ``low_open``).

    argparse prefixes the message with the flag (``argument --step-m: ...``), so
    the user sees the option they typed, the value, the allowed range and a fix.
    """
    lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
    hi = "" if high is None else f"<= {high:g}"
    span = " and ".join(x for x in (lo, hi) if x)
    what = "a whole number" if kind is int else "a number"
    hint = fix or f"give {what} {span}{' ' + unit if unit else ''}".rstrip()

    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}. Fix: {hint}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number. Fix: {hint}")
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            raise argparse.ArgumentTypeError(f"{text} is out of range ({span}). Fix: {hint}")
        return value

    parse.__name__ = "whole number" if kind is int else "number"  # argparse's "invalid <name> value"
    return parse


def output_folder(text: str) -> Path:
    """An argparse ``type`` for ``--out DIR``: a folder this user can create or write.

    Refuses an empty path, names longer than the file system allows, folders under
    /proc, /sys or /dev, an existing file, and folders that are not writable, so
    that no run starts that could not save its result.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("the output folder is empty. Fix: give a folder, e.g. --out out/run1")
    path = Path(text).expanduser()
    for part in path.parts:
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise argparse.ArgumentTypeError(
                f"the folder name {part[:40]!r}... is {len(part)} characters long; file systems "
                f"allow {MAX_NAME_BYTES} bytes. Fix: use a shorter folder name"
            )
    absolute = Path(os.path.abspath(path))
    for system in SYSTEM_FOLDERS:
        if absolute == Path(system) or Path(system) in absolute.parents:
            raise argparse.ArgumentTypeError(
                f"{text} is inside {system}, a system folder no file can be saved in. "
                "Fix: choose a folder in your home or project directory"
            )
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text} is an existing file, not a folder. Fix: give a folder name (it is created)"
        )
    existing = absolute
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write to {existing} (no permission). Fix: choose a folder you can write to"
        )
    return path


def metric_crs(text: str) -> str:
    """An argparse ``type`` for ``--crs``: a projected CRS in metres that PROJ knows."""
    import pyproj

    try:
        crs = pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a CRS PROJ knows. Fix: give an EPSG code such as EPSG:4545 "
            "(CGCS2000 / 3-degree Gauss-Kruger CM 108E), or leave --crs out for local UTM"
        ) from None
    units = {a.unit_name for a in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter"}:
        raise argparse.ArgumentTypeError(
            f"{text!r} ({crs.name}) is not a projected CRS in metres. Fix: give a metric CRS "
            "such as EPSG:4545, or leave --crs out for local UTM"
        )
    return text


def check_new_sites(p: int | None, n_candidates: int, *, flag: str = "--new") -> None:
    """Refuse asking for more new sites than there are candidate sites."""
    if p is not None and p > n_candidates:
        raise InputError(
            f"{flag} {p} asks for more new sites than the {n_candidates} candidate site(s)",
            source=flag,
            fix=f"give {flag} {max(n_candidates, 1)} or less, or more candidates with --candidates",
        )


def check_breaks_min(value: object, *, source: str) -> list[float]:
    """Service-area breaks (minutes): a non-empty flat list of finite numbers in (0, 120]."""
    fix = "give minutes as a list of numbers, e.g. [2, 3, 4, 5]"
    if not isinstance(value, list | tuple) or not value:
        raise InputError(f"breaks_min = {value!r} is not a non-empty list of minutes",
                         source=source, fix=fix)
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise InputError(f"breaks_min holds {item!r}, which is not a finite number of minutes",
                             source=source, fix=fix)
        if not 0 < item <= MAX_BREAK_MIN:
            raise InputError(f"breaks_min holds {item!r}; breaks must lie in (0, {MAX_BREAK_MIN}] min",
                             source=source, fix=fix)
        out.append(float(item))
    return out


def _range_error(parse: Callable[[str], float | int], value: object, where: str, source) -> None:
    """Run an option ``type`` on a scenario value and raise its complaint as an InputError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return  # the scenario's type check reports wrong types
    try:
        parse(repr(value))
    except argparse.ArgumentTypeError as exc:
        problem, _, fix = str(exc).partition(". Fix: ")
        raise InputError(f"{where}: {problem}", source=source, fix=fix or None) from None


def check_scenario_values(scenario) -> None:
    """Check a plan scenario's numbers, breaks, CRS and paths as the CLI checks its options.

    Raises
    ------
    InputError
        Naming the file, the ``[table] key`` and the fix.
    """
    src = scenario.path
    network, assess_t = scenario.network, scenario.assess
    ranges = [
        ("network", network, "buffer_m", number(low=0, high=50_000, unit="m")),
        ("network", network, "congestion", number(low=1, high=10)),
        ("network", network, "apparatus_height_m", number(low=0, high=10, unit="m")),
        ("network", network, "signal_delay_s", number(low=0, high=600, unit="s")),
        ("assess", assess_t, "step_m", number(low=1, high=1000, unit="m")),
    ]
    if scenario.site is not None:
        ranges += [
            ("site", scenario.site, "p", number(int, low=1, high=MAX_NEW_SITES)),
            ("site", scenario.site, "time_limit_s", number(low=0, low_open=True, high=7 * 24 * 3600)),
            ("site", scenario.site, "mip_gap", number(low=0, high=1)),
        ]
    if scenario.hydrants is not None:
        ranges += [
            ("hydrants", scenario.hydrants, "budget", number(int, low=1, high=100_000)),
            ("hydrants", scenario.hydrants, "time_limit_s",
             number(low=0, low_open=True, high=7 * 24 * 3600)),
        ]
    for table, values, key, parse in ranges:
        if values.get(key) is not None:
            _range_error(parse, values[key], f"[{table}] {key}", src)
    assess_t["breaks_min"] = check_breaks_min(assess_t["breaks_min"], source=f"{src} [assess]")
    if network.get("crs") is not None:
        try:
            metric_crs(network["crs"])
        except argparse.ArgumentTypeError as exc:
            problem, _, fix = str(exc).partition(". Fix: ")
            raise InputError(f"[network] crs: {problem}", source=src, fix=fix or None) from None
    tiles = scenario.output.get("tiles")
    if tiles is not None and tiles not in TILES:
        raise InputError(f"[output] tiles = {tiles!r} is not one of {list(TILES)}", source=src,
                         fix=f"set tiles to one of {list(TILES)}")
    for key, value in scenario.data.items():
        if key in ("osm", "boundary", "stations", "candidates", "hydrants") and isinstance(value, Path):
            if value.is_dir() and value.suffix.lower() != ".gdb":
                raise InputError(f"[data] {key} = {str(value)!r} is a folder, not a file", source=src,
                                 fix=f"name the {key} file itself")


#: summary.json keys whose value must be a JSON object, a list of objects, or a string.
_SUMMARY_OBJECTS = ("demand", "network", "travel_model", "before", "after", "placement",
                    "parameters", "cdf", "proposal", "spacing", "districts")
_SUMMARY_RECORDS = ("stations", "new_sites")
_SUMMARY_NUMBER_SUFFIXES = ("_share", "_s", "_m", "_km2", "_min", "_kph", "_m2")


def check_summary(summary: object, *, source: str | Path) -> dict:
    """Check the types of a ``summary.json`` before a report is built from it.

    Every key ending in ``_share`` must be a number in [0, 1] (or null), every key
    ending in a unit (``_s``, ``_m``, ``_km2``, ``_min``, ...) a number (or null),
    ``stations``/``new_sites`` lists of objects, ``districts`` (district-shape figures),
    ``cdf`` and the other blocks objects, ``standard`` a name; nested blocks (``before``/``after``) alike.

    Raises
    ------
    InputError
        Naming the file, the key path and the value.
    """
    fix = "write the folder again with the command that made it (assess, site or plan)"

    def bad(where: str, value: object, want: str) -> InputError:
        return InputError(f"{where} = {json_text(value)} is not {want}", source=source, fix=fix)

    def walk(node: object, where: str) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]")
            return
        if not isinstance(node, dict) or where.rsplit(".", 1)[-1] == "sources":
            return  # a "sources" block cites the clause behind each parameter: text, not numbers
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if key in _SUMMARY_OBJECTS and value is not None and not isinstance(value, dict):
                raise bad(path, value, "an object")
            if key in _SUMMARY_RECORDS and value is not None and not (
                    isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                raise bad(path, value, "a list of objects")
            if key == "standard" and not isinstance(value, str | dict):
                raise bad(path, value, "a standard's name")
            if str(key).endswith(_SUMMARY_NUMBER_SUFFIXES) and value is not None:
                if isinstance(value, dict) and str(key).endswith("_kph"):  # speeds by road class
                    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                               for v in value.values()):
                        raise bad(path, value, "an object of numbers")
                elif isinstance(value, list) and (where.endswith("cdf") or str(key).endswith("_min")):
                    # cdf columns, and breaks such as breaks_min
                    if not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                               for v in value):
                        raise bad(path, value, "a list of numbers")
                elif isinstance(value, bool) or not isinstance(value, int | float):
                    raise bad(path, value, "a number")
                elif str(key).endswith("_share") and not 0 <= value <= 1:
                    raise bad(path, value, "a share between 0 and 1")
            walk(value, path)

    if not isinstance(summary, dict):
        raise bad("the file", summary, "a JSON object")
    walk(summary, "")
    return summary


def check_report_out(out: Path | None, inputs: list[Path]) -> None:
    """Refuse a report ``--out`` that is a folder or one of the summaries it reads."""
    if out is None:
        return
    if not str(out).strip():
        raise InputError("--out is empty", fix="give a file name, e.g. --out compare.html")
    if out.is_dir():
        raise InputError("--out is a folder, not a file", source=out,
                         fix=f"name the report file, e.g. --out {out / 'report.html'}")
    target = out.resolve()
    for item in inputs:
        item = item / "summary.json" if item.is_dir() else item
        if item.resolve() == target:
            raise InputError("--out would overwrite an input summary.json", source=out,
                             fix="write the report to another file, e.g. report.html")


def json_text(value: object, limit: int = 60) -> str:
    """A value as the user wrote it in JSON, shortened."""
    import json

    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Exit code of a run that finished and wrote its outputs but has no usable answer
#: (solver status infeasible, unbounded or error).
EXIT_NO_SOLUTION = 3


def exit_code_for(status: str, *, what: str, message: str = "") -> int:
    """0 for an ``optimal`` or ``feasible`` solve; else say why on stderr and return 3.

    A script that checks ``$?`` must not take a run without an answer for a success.
    """
    if status in ("optimal", "feasible"):
        return 0
    print(f"error: {what} ended with status {status!r}: {message or 'no solution'}. Fix: raise "
          "--time-limit, relax the rules, or check the inputs; the outputs record this status",
          file=sys.stderr)
    return EXIT_NO_SOLUTION


#: Longest service-area break accepted, minutes (two hours of driving).
MAX_BREAK_MIN = 120.0
#: Most new sites one run may ask for (a whole city has a few hundred stations).
MAX_NEW_SITES = 1000


def add_network_args(parser: argparse.ArgumentParser, *, boundary_required: bool = False) -> None:
    """--osm/--place, --boundary and the travel-model options."""
    src = parser.add_argument_group("road network")
    one = src.add_mutually_exclusive_group(required=True)
    one.add_argument("--osm", type=Path, metavar="FILE", help="local OSM extract (.osm or .osm.pbf), offline")
    one.add_argument("--place", metavar="NAME", help="download a district from OpenStreetMap by name (online)")
    src.add_argument(
        "--boundary", type=Path, metavar="FILE", required=boundary_required,
        help="district polygon (GeoJSON, GeoPackage, Shapefile)",
    )
    src.add_argument(
        "--boundary-coord-system", choices=COORD_SYSTEMS, default="wgs84",
        help="coordinate system of the boundary file when it is not WGS84 (default: wgs84)",
    )
    src.add_argument(
        "--buffer-m", type=number(low=0, high=50_000, unit="m"), default=1500.0,
        help="study area = district + this buffer (m, default 1500)",
    )
    src.add_argument("--speeds", choices=sorted(SPEED_PRESETS), default="china_urban", help="speed preset per road class")
    src.add_argument("--travel-model", type=Path, metavar="FILE", default=None,
                     help="travel model TOML (speeds per class, congestion), e.g. from `calibrate`; "
                     "replaces --speeds")
    src.add_argument(
        "--congestion", type=number(low=1, high=10), default=None,
        help="travel-time multiplier from 1 to 10 (default: preset's)",
    )
    src.add_argument(
        "--apparatus-height-m", type=number(low=0, high=10, unit="m"), default=None,
        help="drop roads with a lower maxheight, m (default 3.2)",
    )
    src.add_argument(
        "--signal-delay-s", type=number(low=0, high=600, unit="s"), default=None,
        help="extra seconds per traffic signal, 0 to 600 (default 0)",
    )
    src.add_argument(
        "--crs", type=metric_crs, default=None,
        help="metric CRS, e.g. EPSG:4545 (CGCS2000 / 3-degree Gauss-Kruger CM 108E); default local UTM",
    )
    src.add_argument("--cache-dir", type=Path, default=None, help="graph cache folder (default: user cache)")
    src.add_argument("--no-cache", action="store_true", help="always parse OSM again")


#: Basemaps of the maps the CLI writes (``coverage.outputs.maps.BASEMAPS``).
TILES = ("osm", "amap", "none")


def add_map_args(parser: argparse.ArgumentParser) -> None:
    """--tiles: the basemap of map.html."""
    parser.add_argument(
        "--tiles", choices=TILES, default="osm",
        help="basemap of map.html: osm (default), amap (高德, GCJ-02: every overlay is shifted "
        "to match) or none (no tiles, fully offline)",
    )


def add_station_args(parser: argparse.ArgumentParser) -> None:
    """--stations and its coordinate system."""
    parser.add_argument(
        "--stations", required=True, metavar="FILE",
        help="station layer (GeoJSON/GPKG/SHP/CSV with lon,lat), or 'osm' to take amenity=fire_station from OSM (online)",
    )
    parser.add_argument(
        "--coord-system", choices=COORD_SYSTEMS, default="wgs84",
        help="coordinate system of point layers: gcj02 (Amap) and bd09 (Baidu) are converted to WGS84",
    )


def travel_model_from_args(args: argparse.Namespace):
    """The chosen speed preset with any overrides applied."""
    model = SPEED_PRESETS[args.speeds]
    if getattr(args, "travel_model", None) is not None:
        from coverage.calibrate import read_travel_model  # a TOML model replaces the preset

        model = read_travel_model(args.travel_model)
    overrides = {
        "congestion_factor": args.congestion,
        "apparatus_height_m": args.apparatus_height_m,
        "signal_delay_s": args.signal_delay_s,
    }
    return replace(model, **{k: v for k, v in overrides.items() if v is not None})


def network_from_args(args: argparse.Namespace) -> RoadNetwork:
    """Load the road network the arguments describe."""
    boundary = None
    if args.boundary is not None:
        boundary = read_boundary(args.boundary, coord_system=args.boundary_coord_system)
    kwargs = dict(
        boundary=boundary,
        buffer_m=args.buffer_m,
        travel_model=travel_model_from_args(args),
        crs=args.crs,
        cache_dir=False if args.no_cache else args.cache_dir,
        connectivity=getattr(args, "connectivity", "strong"),
    )
    kwargs["progress"] = sys.stderr.isatty()
    if args.osm is not None:
        try:
            return load_network(osm=args.osm, **kwargs)
        except NoRoadsError as exc:
            if boundary is None:
                raise
            raise InputError(
                f"no drivable road of the --osm file {Path(args.osm).name} lies within "
                f"{args.buffer_m:g} m of the --boundary polygon ({exc.problem})",
                source=args.boundary,
                fix="check that the boundary and the extract show the same place (a boundary "
                "in GCJ-02 or in projected metres needs --boundary-coord-system or a CRS), or "
                "use an extract that covers the district",
            ) from None
    if boundary is not None:
        kwargs.pop("boundary")
        return load_network(polygon=boundary, **kwargs)
    kwargs.pop("boundary")
    return load_network(place=args.place, **kwargs)


def study_area_wgs84(network: RoadNetwork):
    """The network's study area in WGS84, for checking point layers."""
    return gpd.GeoSeries([network.study_area], crs=network.crs).to_crs(4326).iloc[0]


def stations_from_args(args: argparse.Namespace, network: RoadNetwork) -> gpd.GeoDataFrame:
    """Read the station layer, or take OSM fire stations for ``--stations osm``."""
    area = study_area_wgs84(network)
    if str(args.stations).lower() == "osm":
        from coverage.osm_features import fire_stations_from_osm

        try:
            return fire_stations_from_osm(area)
        except (ConnectionError, OSError) as exc:  # requests' errors derive from OSError
            raise InputError(
                f"cannot download the fire stations from OpenStreetMap ({type(exc).__name__})",
                source="--stations osm",
                fix="check the internet connection, or give a station layer with --stations FILE",
            ) from None
    return read_stations(args.stations, coord_system=args.coord_system, study_area=area)


class Steps:
    """Progress over the named steps of a command; ``next()`` marks one done.

    On a terminal: a tqdm bar. Piped to a file (stderr not a terminal): one plain
    line per step, so a log holds ``site [2/4] stations and candidates`` lines and
    not a wall of carriage-return frames.
    """

    def __init__(self, names: list[str], *, desc: str, stream=None) -> None:
        self._names = list(names)
        self._desc = desc
        self._stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._done = 0
        self._bar = (
            tqdm(total=len(self._names), desc=desc, unit="step", file=self._stream)
            if self._tty else None
        )

    def __enter__(self) -> Steps:
        self._show()
        return self

    def _show(self) -> None:
        if self._done >= len(self._names):
            return
        if self._bar is not None:
            self._bar.set_postfix_str(self._names[self._done])
        else:
            print(f"{self._desc} [{self._done + 1}/{len(self._names)}] {self._names[self._done]}",
                  file=self._stream, flush=True)

    def next(self) -> None:
        """Mark the current step done and show the next one's name."""
        self._done += 1
        if self._bar is not None:
            self._bar.update(1)
        self._show()

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()


#: Options that name an input file (argparse dest → the flag the user typed).
INPUT_OPTIONS = {
    "osm": "--osm", "boundary": "--boundary", "stations": "--stations",
    "candidates": "--candidates", "exclusions": "--exclusions", "hydrants": "--hydrants",
    "scenario": "SCENARIO", "demand_file": "--demand-file", "buildings": "--buildings",
}


def input_paths(args: argparse.Namespace) -> list[Path | None]:
    """Every input file named on the command line, for the no-overwrite check.

    Raises
    ------
    InputError
        Naming the option, when a file does not exist or is a folder.
    """
    out = []
    for key, flag in INPUT_OPTIONS.items():
        value = getattr(args, key, None)
        if value is None or str(value).lower() == "osm":
            continue
        path = Path(value)
        if not str(value).strip():
            raise InputError(f"{flag} is empty", fix=f"give a file name after {flag}")
        if not path.exists():
            raise InputError(f"the {flag} file does not exist", source=path,
                             fix="check the path and file name")
        if path.is_dir() and path.suffix.lower() != ".gdb":  # an Esri FileGDB is a folder
            raise InputError(f"the {flag} path is a folder, not a file", source=path,
                             fix=f"name the file itself after {flag}")
        out.append(path)
    return out
