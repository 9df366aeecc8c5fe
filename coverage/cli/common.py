"""Arguments and loading steps shared by the subcommands."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
from tqdm.auto import tqdm

from coverage.errors import InputError
from coverage.layers import read_boundary, read_stations
from coverage.network import CHINA_URBAN, NFPA_ISO, RoadNetwork, load_network

SPEED_PRESETS = {"china_urban": CHINA_URBAN, "nfpa_iso": NFPA_ISO}
COORD_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09")


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
    src.add_argument("--buffer-m", type=float, default=1500.0, help="study area = district + this buffer (m, default 1500)")
    src.add_argument("--speeds", choices=sorted(SPEED_PRESETS), default="china_urban", help="speed preset per road class")
    src.add_argument("--travel-model", type=Path, metavar="FILE", default=None,
                     help="travel model TOML (speeds per class, congestion), e.g. from `calibrate`; "
                     "replaces --speeds")
    src.add_argument("--congestion", type=float, default=None, help="travel-time multiplier ≥ 1 (default: preset's)")
    src.add_argument("--apparatus-height-m", type=float, default=None, help="drop roads with a lower maxheight (default 3.2)")
    src.add_argument("--signal-delay-s", type=float, default=None, help="extra seconds per traffic signal (default 0)")
    src.add_argument("--crs", default=None, help="metric CRS, e.g. EPSG:4545 (CGCS2000 / 3° GK CM 105E); default local UTM")
    src.add_argument("--cache-dir", type=Path, default=None, help="graph cache folder (default: user cache)")
    src.add_argument("--no-cache", action="store_true", help="always parse OSM again")


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
    if args.osm is not None:
        return load_network(osm=args.osm, **kwargs)
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

        return fire_stations_from_osm(area)
    return read_stations(args.stations, coord_system=args.coord_system, study_area=area)


class Steps:
    """A tqdm bar over the named steps of a command; ``next()`` marks one done."""

    def __init__(self, names: list[str], *, desc: str) -> None:
        self._names = list(names)
        self._bar = tqdm(total=len(self._names), desc=desc, unit="step")

    def __enter__(self) -> Steps:
        self._bar.set_postfix_str(self._names[0])
        return self

    def next(self) -> None:
        """Mark the current step done and show the next one's name."""
        self._bar.update(1)
        if self._bar.n < len(self._names):
            self._bar.set_postfix_str(self._names[self._bar.n])

    def __exit__(self, *exc) -> None:
        self._bar.close()


def input_paths(args: argparse.Namespace) -> list[Path | None]:
    """Every input file named on the command line, for the no-overwrite check."""
    out = []
    for key in ("osm", "boundary", "stations", "candidates", "hydrants", "scenario", "demand_file", "buildings"):
        value = getattr(args, key, None)
        if value is not None and str(value).lower() != "osm":
            path = Path(value)
            if not path.exists():
                raise InputError("file not found", source=path, fix="check the path")
            out.append(path)
    return out
