"""The city on dask.distributed: identical to serial, workers that die, bad schedulers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coverage.city import assess_city, n_minus_1, open_runner, read_districts, sweep_city
from coverage.city.scenario import build_city_network
from coverage.errors import InputError
from coverage.generated_city import generated_city
from coverage.presets import response_standard
from tests.conftest import shared

CROP_M = 2000.0


@pytest.fixture(scope="module")
def districts():
    return read_districts(shared("boundaries/chongqing_central9_districts_wgs84.geojson"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    shared("osm/yuzhong_drive_osm_20260424.osm")
    return tmp_path_factory.mktemp("tile-cache")


@pytest.fixture(scope="module")
def small_city(districts, cache):
    return generated_city(9, districts=districts, tile_crop_m=CROP_M, n_candidates=200,
                          cache_dir=cache)


@pytest.fixture(scope="module")
def two_workers():
    with open_runner(workers=2, progress=False) as runner:
        yield runner


def _frame(city) -> pd.DataFrame:
    return pd.DataFrame(city.districts.drop(columns=["geometry", "seconds"]))


@pytest.mark.slow
def test_dask_results_identical_to_serial(small_city, districts, two_workers):
    serial = assess_city(small_city.network, small_city.stations, districts)
    on_two = assess_city(small_city.network, small_city.stations, districts, runner=two_workers)
    with open_runner(workers=1, progress=False) as one:  # --workers 1: serial, no Dask
        assert one.client is None
        on_one = assess_city(small_city.network, small_city.stations, districts, runner=one)
    assert two_workers.workers == 2
    for other in (on_one, on_two):
        pd.testing.assert_frame_equal(_frame(serial), _frame(other), check_exact=True)
        assert serial.metrics == other.metrics
        for code, a in serial.by_district.items():
            b = other.by_district[code]
            np.testing.assert_array_equal(a.times, b.times)
            np.testing.assert_array_equal(a.demand["first_due_s"], b.demand["first_due_s"])
        pd.testing.assert_frame_equal(n_minus_1(serial), n_minus_1(other), check_exact=True)
    assert on_two.runner == "LocalCluster, 2 workers" and on_two.events == []


def _die_once(item: int, *, marker: str) -> int:
    """Kill the worker process the first time item 2 runs (as an OOM kill would)."""
    flag = Path(marker) / f"died-{item}"
    if item == 2 and not flag.exists():
        flag.write_text("died")
        os._exit(1)
    return item * 10


def test_worker_death_is_retried_and_reported(tmp_path, two_workers):
    out = two_workers.map(_die_once, list(range(5)), [f"district {i}" for i in range(5)],
                          desc="districts", shared={"marker": str(tmp_path)})
    assert out == [0, 10, 20, 30, 40]  # nothing dropped
    assert (tmp_path / "died-2").exists()
    assert any("died" in e for e in two_workers.events)


def _allow_failures(n: int, dask_scheduler=None) -> None:
    dask_scheduler.allowed_failures = n


@pytest.mark.slow
def test_killed_worker_is_resubmitted(tmp_path, two_workers):
    # With no failures allowed the scheduler gives up at once (KilledWorker); the runner
    # resubmits and says so.
    client = two_workers.client
    before = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    client.run_on_scheduler(_allow_failures, 0)
    try:
        out = two_workers.map(_die_once, [1, 2, 3], ["A", "B", "C"], desc="districts",
                              shared={"marker": str(tmp_path)})
    finally:
        client.run_on_scheduler(_allow_failures, before)
    events = list(two_workers.events)
    assert out == [10, 20, 30]
    assert any("'B': worker died, resubmitted" in e for e in events)


def test_unreachable_scheduler_is_a_clear_error_within_the_timeout():
    start = time.perf_counter()
    with pytest.raises(InputError, match="did not answer within 2 s"):
        open_runner(scheduler="tcp://127.0.0.1:9", timeout_s=2)
    assert time.perf_counter() - start < 60  # a hang would be caught by the timeout


@pytest.mark.slow
def test_sweep_on_dask_equals_serial(small_city, districts, cache, two_workers):
    import functools

    build = functools.partial(
        build_city_network, districts=districts, osm=None, online=False, generated=9,
        tile_crop_m=CROP_M, seed=0, buffer_m=1500.0, crs=None, cache_dir=str(cache),
        progress=False)
    spec = {"congestion_factor": [1.0, 1.4], "turnout_s": [60, 90]}
    std = response_standard("gb51080")
    serial = sweep_city(build, small_city.stations, districts, spec, standard=std)
    dist = sweep_city(build, small_city.stations, districts, spec, standard=std,
                      runner=two_workers)
    pd.testing.assert_frame_equal(serial.table, dist.table, check_exact=True)
    pd.testing.assert_frame_equal(serial.n_minus_1, dist.n_minus_1, check_exact=True)


def test_dijkstra_blocks_on_dask_identical_to_serial(small_city, two_workers):
    import shapely

    from coverage.city.blocks import blocked_travel_time_matrix
    from coverage.engine import build_index, snap_points

    net = small_city.network
    index = build_index(net)
    cands = small_city.candidates.to_crs(net.crs)
    src = snap_points(index, shapely.get_coordinates(cands.geometry.values))
    dst = snap_points(index, index.node_xy[::3])
    serial = blocked_travel_time_matrix(index, src, dst, cutoff_s=300.0, block=32)
    dist = blocked_travel_time_matrix(index, src, dst, cutoff_s=300.0, block=32,
                                      runner=two_workers)
    assert serial.nnz > 0 and (serial != dist).nnz == 0


def _started(item: int) -> tuple[float, int]:
    start = time.time()
    time.sleep(0.3)
    return start, os.getpid()


def test_largest_tasks_start_first_one_per_worker(two_workers):
    two_workers.client.wait_for_workers(2, timeout=60)  # after the worker-death tests
    two_workers.map(_started, [0, 1], ["a", "b"], desc="warm-up")  # import this module there
    costs = [1.0, 5.0, 2.0, 9.0, 3.0, 4.0]
    out = two_workers.map(_started, list(range(6)), [f"d{i}" for i in range(6)],
                          desc="districts", cost=costs)
    start = [o[0] for o in out]
    assert out[3][1] != out[1][1], out  # the two largest start together, one on each worker
    assert max(start[3], start[1]) < min(start[2], start[0]), out  # the smallest start last
    assert two_workers.stats[-1]["tasks"] == 6 and two_workers.stats[-1]["workers"] == 2
