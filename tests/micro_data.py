"""Real Yuzhong walk data for the micro tests, loaded once per test session (cached calls).

Not a conftest: the micro test modules import these helpers explicitly.
"""

from __future__ import annotations

from functools import cache

from conftest import SHARED_DATA, shared

WALK = SHARED_DATA / "osm" / "yuzhong_walk_osm_20260426.osm"
BUILDINGS_OSM = SHARED_DATA / "osm" / "yuzhong_buildings_osm_20260426.osm"
DRIVE = SHARED_DATA / "osm" / "yuzhong_drive_osm_20260424.osm"
STATIONS = SHARED_DATA / "stations" / "yuzhong_stations_baseline.geojson"
BOUNDARY_FILE = SHARED_DATA / "osm" / "yuzhong_boundary_osm_relation4738525.geojson"


@cache
def BOUNDARY():  # noqa: N802 - reads like the constant it stands for
    import geopandas as gpd

    return gpd.read_file(shared("osm/yuzhong_boundary_osm_relation4738525.geojson"))


@cache
def walk_network():
    """The real Yuzhong walk network, running with equipment (MICRO_ON_FOOT), 500 m buffer."""
    from coverage.network import load_network
    from coverage.network.walk import MICRO_ON_FOOT

    return load_network(osm=shared("osm/yuzhong_walk_osm_20260426.osm"), boundary=BOUNDARY(),
                        travel_model=MICRO_ON_FOOT, buffer_m=500, cache_dir=False,
                        progress=False)


@cache
def walk_index():
    from coverage.engine import build_index

    return build_index(walk_network())


@cache
def buildings():
    from coverage.buildings import buildings_demand
    from coverage.micro import building_demand

    return building_demand(buildings_demand(shared("osm/yuzhong_buildings_osm_20260426.osm")))


@cache
def key_units():
    from coverage.micro import key_units_from_osm

    return key_units_from_osm([shared("osm/yuzhong_buildings_osm_20260426.osm"),
                               shared("osm/yuzhong_walk_osm_20260426.osm")],
                              buildings=buildings())


@cache
def generated_stations(n: int = 12, seed: int = 3):
    """A generated micro-station layer (no public positions exist): walk nodes at random."""
    from coverage.micro import generated_micro_stations

    return generated_micro_stations(walk_network(), n, seed=seed)
