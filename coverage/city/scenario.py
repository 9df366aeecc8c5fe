"""A city scenario file (TOML) for ``station-coverage city`` and ``sweep``.

Example (the generated city over the real nine central districts)::

    name = "central9-generated"
    out = "out/central9"

    [data]
    districts = "../shared/data/boundaries/chongqing_central9_districts_wgs84.geojson"
    generated = "15k"        # or: osm = "chongqing.osm.pbf"  /  online = true
    stations = "generated"   # or a station layer covering every district

    [network]
    speeds = "china_urban"

    [assess]
    standard = "gb51080"

    [dask]
    workers = 2              # 1 = serial in this process; unset = one per core
    # scheduler = "tcp://10.0.0.5:8786"

    [sweep]
    congestion_factor = [1.0, 1.3, 1.6]
    turnout_s = [45, 60, 90, 120]

Relative paths are relative to ``data.base``, itself relative to the scenario file.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd

from coverage.city.districts import read_districts
from coverage.city.network import city_network
from coverage.errors import InputError
from coverage.network import CHINA_URBAN, NFPA_ISO, RoadNetwork, TravelModel
from coverage.presets import STANDARDS

__all__ = ["SCHEMA", "CityScenario", "build_city_network", "load_city_scenario"]

_SPEEDS = {"china_urban": CHINA_URBAN, "nfpa_iso": NFPA_ISO}

#: Keys per table: (type, default, meaning).
SCHEMA: dict[str, dict[str, tuple[Any, Any, str]]] = {
    "": {"name": (str, None, "scenario name"), "out": (str, None, "output folder")},
    "data": {
        "base": (str, ".", "folder other paths are relative to"),
        "districts": (str, None, "district polygons with a name and a code (required)"),
        "district_name_col": (str, "name", "column with the district name"),
        "district_code_col": (str, "code", "column with the district code (adcode accepted)"),
        "districts_coord_system": (str, "wgs84", "coordinate system of the districts file"),
        "allow_overlaps": (bool, False, "report overlapping districts instead of stopping"),
        "osm": (str, None, "road extract: .osm, or a large .osm.pbf clipped by pyosmium"),
        "online": (bool, False, "download the roads from OpenStreetMap"),
        "generated": ((str, int), None, "GENERATED city: 5k, 15k, 31k or a tile count"),
        "generated_tile_crop_m": ((int, float), None, "crop generated tiles to this square, m"),
        "generated_seed": (int, 0, "seed of the generated city"),
        "stations": (str, None, "stations of every district, or 'generated'"),
        "coord_system": (str, "wgs84", "coordinate system of the station layer"),
        "candidates": (str, None, "candidate sites for [site], or 'generated'"),
    },
    "network": {
        "speeds": (str, "china_urban", "speed table: china_urban or nfpa_iso"),
        "buffer_m": ((int, float), 1500.0, "roads kept beyond the districts, m"),
        "congestion": ((int, float), None, "travel-time multiplier >= 1"),
        "apparatus_height_m": ((int, float), None, "drop roads with a lower maxheight, m"),
        "signal_delay_s": ((int, float), None, "extra seconds per traffic signal"),
        "crs": (str, None, "metric CRS, e.g. EPSG:4545"),
        "cache_dir": (str, None, "graph cache folder"),
    },
    "assess": {
        "standard": (str, "gb51080", "gb51080 or nfpa1710"),
        "step_m": ((int, float), 50.0, "road demand spacing, m"),
    },
    "site": {
        "model": (str, "mclp", "lscp, mclp, pcenter, pmedian or backup"),
        "p": (int, 1, "new stations per district (mode per_district) or in total (city)"),
        "mode": (str, "per_district", "per_district (default) or city"),
        "new_type": (str, "small", "station type of new sites"),
        "time_limit_s": ((int, float), None, "solver limit per model, s"),
        "small_station_rules": (bool, True, "enforce the 建标152 small-station rules"),
    },
    "dask": {
        "scheduler": (str, None, "address of a running Dask scheduler"),
        "workers": (int, None, "1 = serial; N >= 2 = LocalCluster workers (default: one per core)"),
        "timeout_s": ((int, float), 10.0, "seconds to wait for the scheduler"),
    },
    "sweep": {
        "congestion_factor": (list, None, "congestion factors"),
        "turnout_s": (list, None, "turnout times, s"),
        "speeds": (list, None, "speed tables"),
        "apparatus_height_m": (list, None, "appliance heights, m"),
        "n_minus_1": (bool, True, "rank stations by coverage lost when closed"),
    },
    "output": {
        "tiles": (str, "osm", "basemap: osm or none"),
        "district_outputs": (bool, True, "write each district's own outputs"),
    },
}


@dataclass(frozen=True)
class CityScenario:
    """A parsed city scenario: every table with defaults, paths resolved."""

    name: str
    path: Path
    base: Path
    out: Path | None
    data: dict
    network: dict
    assess: dict
    dask: dict
    site: dict | None
    sweep: dict | None
    output: dict

    def travel_model(self) -> TravelModel:
        """The speed table with the scenario's overrides."""
        n = self.network
        overrides = {"congestion_factor": n["congestion"],
                     "apparatus_height_m": n["apparatus_height_m"],
                     "signal_delay_s": n["signal_delay_s"]}
        return replace(_SPEEDS[n["speeds"]], **{k: v for k, v in overrides.items()
                                                if v is not None})

    def read_districts(self) -> gpd.GeoDataFrame:
        """The districts layer (WGS84, ``name``, ``code``)."""
        d = self.data
        return read_districts(d["districts"], name_col=d["district_name_col"],
                              code_col=d["district_code_col"],
                              coord_system=d["districts_coord_system"])

    @property
    def generated(self) -> bool:
        """Whether the roads are a GENERATED city."""
        return self.data["generated"] is not None

    def builder(self, districts: gpd.GeoDataFrame, *, progress: bool = True):
        """``build(travel_model) -> RoadNetwork`` for this scenario (picklable)."""
        d, n = self.data, self.network
        return functools.partial(
            build_city_network, districts=districts, osm=d["osm"], online=d["online"],
            generated=d["generated"], tile_crop_m=d["generated_tile_crop_m"],
            seed=d["generated_seed"], buffer_m=float(n["buffer_m"]), crs=n["crs"],
            cache_dir=n["cache_dir"], progress=progress)

    def parameters(self) -> dict:
        """Flat ``table.key = value`` listing for the summary."""
        return {f"{t}.{k}": v for t in ("data", "network", "assess", "dask")
                for k, v in getattr(self, t).items() if v is not None}


def build_city_network(
    travel_model: TravelModel, *, districts: gpd.GeoDataFrame, osm: str | None, online: bool,
    generated: str | int | None, tile_crop_m: float | None, seed: int, buffer_m: float,
    crs: str | None, cache_dir: str | None, progress: bool,
) -> RoadNetwork:
    """The city's network from the scenario's road source, with ``travel_model``."""
    if generated is not None:
        from coverage.generated_city import generated_city_network

        return generated_city_network(generated, districts=districts, seed=seed,
                                      tile_crop_m=tile_crop_m, travel_model=travel_model,
                                      cache_dir=cache_dir, progress=progress)
    return city_network(districts, osm=osm, online=online, buffer_m=buffer_m,
                        travel_model=travel_model, crs=crs, cache_dir=cache_dir,
                        progress=progress)


def _table(raw: dict, table: str, source: Path) -> dict:
    schema = SCHEMA[table]
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} in [{table or 'top level'}].",
                         source=source, fix=f"use one of {', '.join(sorted(schema))}.")
    out = {}
    for key, (kind, default, meaning) in schema.items():
        value = raw.get(key, default)
        if key in raw and (not isinstance(value, kind) or (
                kind in (int, (int, float)) and isinstance(value, bool))):
            raise InputError(f"[{table or 'top level'}] {key} = {value!r} has the wrong type.",
                             source=source, fix=f"give {meaning}.")
        out[key] = value
    return out


def load_city_scenario(path: str | Path) -> CityScenario:
    """Read and validate a city scenario file.

    Raises
    ------
    InputError
        Missing file, invalid TOML, unknown table or key, wrong type, missing data
        file, not exactly one road source, unknown speed table or standard.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("scenario file not found.", source=path, fix="check the path.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc}).", source=path, fix="check the syntax.") from None
    tables = {k: v for k, v in raw.items() if isinstance(v, dict)}
    unknown = sorted(set(tables) - set(SCHEMA))
    if unknown:
        raise InputError(f"unknown table [{unknown[0]}].", source=path,
                         fix=f"use {', '.join(f'[{t}]' for t in SCHEMA if t)}.")
    top = _table({k: v for k, v in raw.items() if not isinstance(v, dict)}, "", path)
    parsed = {t: _table(tables.get(t, {}), t, path) for t in SCHEMA if t}
    data = parsed["data"]
    base = (path.parent / data["base"]).resolve()
    for key in ("districts", "osm", "stations", "candidates"):
        value = data[key]
        if value is None or (key in ("stations", "candidates") and value == "generated"):
            continue
        full = (base / value).resolve()
        if not full.exists():
            raise InputError(f"data.{key} file {value!r} not found (looked in {base}).",
                             source=path, fix="check the path; it is relative to data.base.")
        data[key] = str(full)
    if data["districts"] is None:
        raise InputError("data.districts is missing.", source=path,
                         fix="name the districts layer (one polygon per district, name, code).")
    sources = [k for k in ("osm", "online", "generated") if data[k] not in (None, False)]
    if len(sources) != 1:
        raise InputError(f"{len(sources)} road sources given ({', '.join(sources) or 'none'}).",
                         source=path, fix="set exactly one of data.osm, data.online = true, "
                         "data.generated = '15k'.")
    if data["stations"] is None:
        raise InputError("data.stations is missing.", source=path,
                         fix="name the station layer of every district (or 'generated' with a "
                         "generated city).")
    if data["stations"] == "generated" and data["generated"] is None:
        raise InputError("stations = 'generated' needs a generated city.", source=path,
                         fix="give the real station layer, or set data.generated.")
    if parsed["network"]["speeds"] not in _SPEEDS:
        raise InputError(f"unknown speed table {parsed['network']['speeds']!r}.", source=path,
                         fix=f"use {', '.join(_SPEEDS)}.")
    if parsed["assess"]["standard"] not in STANDARDS:
        raise InputError(f"unknown standard {parsed['assess']['standard']!r}.", source=path,
                         fix=f"use {', '.join(STANDARDS)}.")
    if parsed["network"]["cache_dir"] is not None:
        parsed["network"]["cache_dir"] = str((base / parsed["network"]["cache_dir"]).resolve())
    if "site" in tables:
        from coverage.city.siting import SITING_MODES

        if parsed["site"]["mode"] not in SITING_MODES:
            raise InputError(f"[site] mode = {parsed['site']['mode']!r} is unknown.", source=path,
                             fix=f"use {' or '.join(SITING_MODES)}.")
        if data["candidates"] is None:
            raise InputError("[site] needs data.candidates.", source=path,
                             fix="name a candidate-site layer (or 'generated' with a generated "
                             "city).")
    sweep = None
    if "sweep" in tables:
        sweep = {k: v for k, v in parsed["sweep"].items() if v is not None}
    return CityScenario(
        name=top["name"] or path.stem, path=path, base=base,
        out=None if top["out"] is None else (base / top["out"]).resolve(),
        data=data, network=parsed["network"], assess=parsed["assess"], dask=parsed["dask"],
        site=parsed["site"] if "site" in tables else None, sweep=sweep, output=parsed["output"],
    )
