"""The GENERATED city: tiled from the real Yuzhong extract, labelled generated everywhere."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from coverage.engine import build_index
from coverage.errors import InputError
from coverage.generated_city import (
    _TILE_KEY,
    central_districts,
    generated_city,
    generated_city_network,
)
from tests.conftest import shared

CROP_M = 2500.0  # small tiles keep the tests fast; the benchmarks use whole tiles


@pytest.fixture(scope="module")
def tile_cache(tmp_path_factory):
    shared("osm/yuzhong_drive_osm_20260424.osm")
    return tmp_path_factory.mktemp("tile-cache")


@pytest.fixture(scope="module")
def districts():
    return central_districts(shared("boundaries/chongqing_central9_districts_wgs84.geojson"))


@pytest.fixture(scope="module")
def city9(districts, tile_cache):
    return generated_city(9, districts=districts, tile_crop_m=CROP_M, cache_dir=tile_cache,
                          n_candidates=300)


def test_labelled_generated_everywhere(city9):
    net = city9.network
    assert net.graph.graph["generated"] is True
    assert net.report.source.startswith("GENERATED city")
    assert "Not real roads" in net.graph.graph["description"]
    names = {d["name"] for *_, d in net.graph.edges(data=True) if d["name"]}
    assert names and all("generated" in n for n in names)
    assert all(d["generated"] for *_, d in net.graph.edges(data=True))
    for layer, prefix in ((city9.stations, "GEN-S"), (city9.candidates, "GEN-C")):
        assert layer["generated"].all()
        assert layer["id"].str.startswith(prefix).all()
        assert layer["name"].str.startswith("generated").all()


def test_one_strongly_connected_network_with_every_tile(city9):
    G = city9.network.graph
    assert nx.is_strongly_connected(G)
    tiles = {n // _TILE_KEY for n in G.nodes}
    assert tiles == set(range(9))
    connectors = [d for *_, d in G.edges(data=True) if d["name"] == "generated connector"]
    assert connectors and all(d["length"] > 0 and d["travel_s"] > 0 for d in connectors)
    # Connectors are two-way: each one has its reverse.
    for u, v, d in G.edges(data=True):
        if d["name"] == "generated connector":
            assert G.has_edge(v, u)
    index = build_index(city9.network)
    assert index.n_nodes == len(G)


def test_tiles_are_translated_jittered_copies(districts, tile_cache):
    a = generated_city_network(2, tile_crop_m=CROP_M, cache_dir=tile_cache, jitter_m=3.0, seed=1)
    b = generated_city_network(2, tile_crop_m=CROP_M, cache_dir=tile_cache, jitter_m=3.0, seed=1)
    c = generated_city_network(2, tile_crop_m=CROP_M, cache_dir=tile_cache, jitter_m=3.0, seed=2)
    xy = {n: (d["x"], d["y"]) for n, d in a.graph.nodes(data=True)}
    assert xy == {n: (d["x"], d["y"]) for n, d in b.graph.nodes(data=True)}  # seeded
    assert xy != {n: (d["x"], d["y"]) for n, d in c.graph.nodes(data=True)}
    # The same OSM node in tiles 0 and 1: offset by one tile pitch, plus at most 2 x 3 m.
    common = [n for n in xy if n < _TILE_KEY and n + _TILE_KEY in xy]
    assert len(common) > 100
    shift = np.array([np.subtract(xy[n + _TILE_KEY], xy[n]) for n in common])
    pitch = np.median(shift, axis=0)
    assert pitch[0] > CROP_M * 0.5 and abs(pitch[1]) < 1e-6 + 6.0
    assert np.abs(shift - pitch).max() <= 2 * 2 * 3.0 + 1e-9
    # Two-way roads stay mirror images, so lengths still pair up in the engine.
    for u, v, d in a.graph.edges(data=True):
        if a.graph.has_edge(v, u):
            back = min(abs(e["length"] - d["length"]) for e in a.graph[v][u].values())
            assert back < 0.5
        assert d["length"] == pytest.approx(d["geometry"].length)


def test_laid_over_real_districts(city9, districts):
    net = city9.network
    assert set(city9.tiles["district"]) == set(districts["code"])
    xy = np.array([(d["x"], d["y"]) for _, d in net.graph.nodes(data=True)])
    for name, geom in zip(districts["name"], districts.to_crs(net.crs).geometry, strict=True):
        assert shapely.contains_xy(geom, xy[:, 0], xy[:, 1]).sum() > 50, name
    assert set(city9.stations["district"]) == set(districts["code"])
    assert 20 <= len(city9.stations) <= 50
    assert net.boundary.area == pytest.approx(
        districts.to_crs(net.crs).union_all().area, rel=1e-9)


def test_named_sizes_and_bad_input(districts, tile_cache):
    with pytest.raises(InputError, match="9 districts"):
        generated_city_network(4, districts=districts, cache_dir=tile_cache)
    with pytest.raises(InputError, match="unknown generated city size"):
        generated_city_network("7k", cache_dir=tile_cache)
    with pytest.raises(InputError, match="not found"):
        generated_city_network(1, osm="/nonexistent/roads.osm")
