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
