"""The runner's pickling: geometry arrays travel as one WKB array, bit for bit; tasks start
longest first."""

from __future__ import annotations

import pickle

import numpy as np
import shapely

from coverage.city.runner import Runner, dumps


def test_geometry_arrays_round_trip_bit_for_bit():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, size=(40, 2)) + 1 / 3
    cells = np.asarray(shapely.voronoi_polygons(shapely.multipoints(xy)).geoms, dtype=object)
    cells = np.concatenate([cells, [shapely.Polygon(), None, shapely.Point(1 / 7, 2 / 7)]])
    names = np.array([f"road {i}" for i in range(40)], dtype=object)
    data = {"cells": cells, "same": cells, "names": names, "small": cells[:3]}
    back = pickle.loads(dumps(data))
    assert back["cells"].dtype == object and back["cells"].shape == cells.shape
    assert back["cells"][-2] is None and back["cells"][-3].is_empty
    ok = cells != None  # noqa: E711  (elementwise)
    assert (shapely.to_wkb(back["cells"][ok]) == shapely.to_wkb(cells[ok])).all()
    assert back["same"] is back["cells"]  # shared references stay shared
    assert list(back["names"]) == list(names) and back["small"][0].equals_exact(cells[0], 0)


def _square(x: int) -> int:
    return x * x


def test_serial_map_keeps_item_order_and_records_where_time_went():
    runner = Runner(progress=False)
    out = runner.map(_square, [3, 1, 2], ["a", "b", "c"], desc="t", cost=[1, 3, 2])
    assert out == [9, 1, 4]
    stats = runner.stats[-1]
    assert stats["tasks"] == 3 and stats["workers"] == 1
    assert stats["bound_s"] == stats["task_s_sum"] <= stats["wall_s"]
    assert 0 <= stats["task_cpu_s_sum"] and stats["share_s"] == 0.0


def test_serial_share_passes_objects_and_lazy_handles():
    runner = Runner(progress=False)
    obj = {"a": 1}
    assert runner.share(obj) is obj
    handle = runner.share(obj, lazy=True)
    assert handle.value() is obj and runner.share(obj, lazy=True) is handle
    assert runner.shares_folder("/nonexistent/anywhere")  # serial: this process's own folders


def test_topology_pickles_without_edge_attributes():
    import networkx as nx
    from shapely.geometry import LineString

    from coverage.city.assess import _Topology

    g = nx.MultiDiGraph(crs="EPSG:32648", generated=True)
    g.add_edge(1, 2, key=0, geometry=LineString([(0, 0), (1, 0)]), length=1.0)
    g.add_edge(1, 2, key=1, geometry=LineString([(0, 0), (0, 1), (1, 0)]), length=2.4)
    g.add_edge(2, 3, key=0, geometry=LineString([(1, 0), (2, 0)]), length=1.0)
    back = pickle.loads(dumps(_Topology(g)))
    assert isinstance(back, nx.MultiDiGraph)
    assert (back.number_of_nodes(), back.number_of_edges()) == (3, 3)
    assert sorted(back.edges(keys=True)) == sorted(g.edges(keys=True))
    assert back.graph == g.graph and back.edges[1, 2, 1] == {}


def _child_peak(_: int) -> float:
    from coverage.city.runner import _peak_rss_mb

    return _peak_rss_mb()


def test_peak_memory_is_the_process_own():
    # A spawned child (as a Dask worker is) reports its own peak, not its parent's.
    import multiprocessing

    big = np.ones(400 * 2**20 // 8)  # 400 MB touched in this process
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        child = pool.map(_child_peak, [0])[0]
    assert big.sum() > 0
    assert child < 300, child
