"""The distance engine against networkx and shapely on the real Yuzhong graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from conftest import split_graph_reference
from shapely.geometry import LineString

from coverage.assess.demand import road_demand
from coverage.engine import (
    build_index,
    due_times,
    point_times,
    snap_points,
    travel_time_matrix,
)


@pytest.fixture(scope="module")
def sources(yuzhong_index):
    """Twelve off-road points near random nodes (seeded), snapped to the network."""
    rng = np.random.default_rng(7)
    xy = yuzhong_index.node_xy[rng.choice(yuzhong_index.n_nodes, 12, replace=False)]
    return snap_points(yuzhong_index, xy + rng.normal(0, 25, xy.shape))


@pytest.fixture(scope="module")
def demand(yuzhong_index, yuzhong_network):
    return road_demand(yuzhong_index, step_m=50, area=yuzhong_network.boundary)[1]


def test_point_times_match_networkx_to_a_microsecond(yuzhong_index, sources, demand):
    times = point_times(yuzhong_index, sources, demand)
    reference = split_graph_reference(yuzhong_index, sources, demand)
    for i in range(len(sources)):
        dist = nx.single_source_dijkstra_path_length(reference, (0, i), weight="w")
        expected = np.array([dist.get((1, j), np.inf) for j in range(len(demand))])
        np.testing.assert_allclose(times[i], expected, rtol=0, atol=1e-6)


def test_one_way_streets_are_respected(yuzhong_index):
    # Two points on a one-way segment: the one behind cannot be reached directly.
    one_way = np.flatnonzero(~np.isfinite(yuzhong_index.seg_bwd_s))
    seg = int(one_way[np.argmax(yuzhong_index.seg_length_m[one_way])])
    line = yuzhong_index.seg_geometry[seg]
    ahead, behind = (shapely.line_interpolate_point(line, f, normalized=True) for f in (0.6, 0.4))
    src = snap_points(yuzhong_index, shapely.get_coordinates(ahead))
    dst = snap_points(yuzhong_index, shapely.get_coordinates(behind))
    back = point_times(yuzhong_index, src, dst)[0, 0]
    forward = point_times(yuzhong_index, dst, src)[0, 0]
    np.testing.assert_allclose(forward, 0.2 * yuzhong_index.seg_fwd_s[seg], atol=1e-6)
    assert back > forward


def test_matrix_keeps_zero_times_and_drops_beyond_cutoff(yuzhong_index, sources, demand):
    cutoff = 180.0
    dense = point_times(yuzhong_index, sources, demand)
    # A source placed exactly on a demand point has a stored zero.
    both = sources.concat([sources, demand.take(np.array([5]))])
    matrix = travel_time_matrix(yuzhong_index, both, demand, cutoff_s=cutoff)
    got = np.full(matrix.shape, np.inf)
    coo = matrix.tocoo()
    got[coo.row, coo.col] = coo.data
    expected = np.where(dense <= cutoff, dense, np.inf)
    np.testing.assert_allclose(got[: len(sources)], expected, atol=1e-9)
    assert matrix[len(sources), 5] == 0 and (len(sources), 5) in set(zip(coo.row, coo.col, strict=True))


def test_snap_goes_to_the_nearest_segment(yuzhong_index):
    rng = np.random.default_rng(3)
    lo, hi = yuzhong_index.node_xy.min(axis=0), yuzhong_index.node_xy.max(axis=0)
    xy = rng.uniform(lo, hi, size=(40, 2))
    snap = snap_points(yuzhong_index, xy)
    brute = shapely.distance(
        shapely.points(xy)[:, None], yuzhong_index.seg_geometry[None, :]
    ).min(axis=1)
    np.testing.assert_allclose(snap.dist_m, brute, atol=1e-6)
    back = shapely.distance(shapely.points(snap.xy), shapely.points(xy))
    np.testing.assert_allclose(back, snap.dist_m, atol=1e-6)


def test_two_way_roads_become_one_segment(yuzhong_network, yuzhong_index):
    graph = yuzhong_network.graph
    reverse_pairs = sum(
        1
        for u, v, d in graph.edges(data=True)
        if u != v
        and graph.has_edge(v, u)
        and any(abs(e["length"] - d["length"]) < 0.5 for e in graph[v][u].values())
    )
    assert yuzhong_index.n_segments == graph.number_of_edges() - reverse_pairs // 2
    assert yuzhong_index.csr.shape == (graph.number_of_nodes(),) * 2


def test_due_times_rank_sources_with_ties_to_the_lower_index():
    times = np.array([[5.0, 1.0, np.inf], [3.0, 1.0, np.inf], [4.0, 2.0, 7.0]])
    due = due_times(times)
    np.testing.assert_array_equal(due.first_idx, [1, 0, 2])
    np.testing.assert_array_equal(due.first_s, [3.0, 1.0, 7.0])
    np.testing.assert_array_equal(due.second_idx, [2, 1, -1])
    np.testing.assert_array_equal(due.second_s, [4.0, 1.0, np.inf])


def synthetic_square_graph():
    """Generated fixture: a 100 m square of two-way roads, 10 m/s, in a metric CRS."""
    graph = nx.MultiDiGraph(crs="EPSG:32648")
    corners = {0: (0, 0), 1: (100, 0), 2: (100, 100), 3: (0, 100)}
    for n, (x, y) in corners.items():
        graph.add_node(n, x=x, y=y)
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 0)]:
        for u, v in [(a, b), (b, a)]:
            geom = LineString([corners[u], corners[v]])
            graph.add_edge(u, v, length=100.0, travel_s=10.0, geometry=geom, highway="primary")
    return graph


def test_same_segment_and_around_the_block_on_a_generated_square():
    index = build_index(synthetic_square_graph())
    src = snap_points(index, [(20, -5)])
    dst = snap_points(index, [(70, 0), (0, 50), (100, 90)])
    times = point_times(index, src, dst)[0]
    np.testing.assert_allclose(times, [5.0, 2.0 + 5.0, 8.0 + 9.0])
    _, snap = road_demand(index, step_m=30)
    assert len(snap) == 4 * 4


def test_snapping_far_from_a_road_warns_naming_the_station_and_errors_far_above():
    """Issue 9: a station 260 m from any road was snapped silently (coverage fell to 0.2 %)."""
    import warnings

    import geopandas as gpd
    from shapely.geometry import Point

    from coverage.assess.demand import snap_layer
    from coverage.engine import SNAP_MAX_M, SNAP_WARN_M
    from coverage.errors import InputError

    index = build_index(synthetic_square_graph())
    assert SNAP_WARN_M < 260 < SNAP_MAX_M
    near = gpd.GeoDataFrame({"id": ["S1"], "name": ["Near"]}, geometry=[Point(50, 20)], crs="EPSG:32648")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 20 m: silent
        snap_layer(index, near, what="station", source="stations.geojson")
    far = gpd.GeoDataFrame({"id": ["S9"], "name": ["河边站"]}, geometry=[Point(50, 360)], crs="EPSG:32648")
    with pytest.warns(UserWarning, match=r"station S9 \(河边站\): 260 m"):
        snap_layer(index, far, what="station", source="stations.geojson")
    lost = gpd.GeoDataFrame({"id": ["S7"]}, geometry=[Point(50, 700)], crs="EPSG:32648")
    with pytest.raises(InputError, match=r"station S7 is 600 m away.*Fix: check the coordinates"):
        snap_layer(index, lost, what="station", source="stations.geojson")
    # The threshold is a named parameter.
    with pytest.raises(InputError, match="more than 200 m"):
        snap_layer(index, far, what="station", max_m=200)


def test_lean_matrix_prunes_beyond_the_nearest_anchor_exactly(yuzhong_index, sources, demand):
    """anchors=k keeps, for the other sources, exactly the entries no slower than the nearest
    of the first k sources; float32 storage rounds every time up, never down."""
    cutoff = 400.0
    full = travel_time_matrix(yuzhong_index, sources, demand, cutoff_s=cutoff).toarray()
    full[full == 0] = np.inf  # densified: absent = inf (no source sits on a demand point here)
    lean = travel_time_matrix(yuzhong_index, sources, demand, cutoff_s=cutoff, anchors=2,
                              dtype=np.float32)
    assert lean.dtype == np.float32 and lean.indices.dtype == np.int32
    got = np.full(lean.shape, np.inf)
    coo = lean.tocoo()
    got[coo.row, coo.col] = coo.data
    nearest_anchor = np.minimum(full[:2].min(axis=0), np.inf)
    want = full.copy()
    want[2:] = np.where(full[2:] <= nearest_anchor.astype(np.float32).astype(float) + 1e-4,
                        full[2:], np.inf)
    assert np.array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(got)
    assert (got[ok] >= want[ok]).all()
    assert np.abs(got[ok] - want[ok]).max() < 1e-4


def test_rounding_up_to_whole_seconds(yuzhong_index, sources, demand):
    exact = travel_time_matrix(yuzhong_index, sources, demand, cutoff_s=240.0)
    rounded = travel_time_matrix(yuzhong_index, sources, demand, cutoff_s=240.0,
                                 dtype=np.float32, resolution_s=1.0)
    # Same pattern within a threshold that is a whole number of seconds, values rounded up.
    assert np.array_equal(exact.indptr, rounded.indptr)
    assert np.array_equal(exact.indices, rounded.indices)
    assert (rounded.data == np.ceil(exact.data - 1e-7)).all()
