"""The city on dask.distributed: identical to serial, workers that die, bad schedulers."""

from __future__ import annotations

import os
import re
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


def _same_figures(a, b) -> None:
    assert a.code == b.code and a.metrics == b.metrics
    for name in ("weight", "first_due_s", "second_due_s", "first_station"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.stations, b.stations, check_exact=True)


def _files(folder: Path) -> dict[str, bytes]:
    """Each file's bytes; the report's "written at" minute blanked."""
    return {p.relative_to(folder).as_posix():
            re.sub(rb"\d{4}-\d\d-\d\d \d\d:\d\d UTC", b"(time)", p.read_bytes())
            if p.name == "report.html" else p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# Written anew on each run: folium's element ids are random, the GeoPackage stores
# the time it was written.
_RUN_STAMPED = ("map.html", "layers.gpkg")


@pytest.mark.slow
def test_dask_results_identical_to_serial(small_city, districts, two_workers, tmp_path):
    serial = assess_city(small_city.network, small_city.stations, districts,
                         district_dir=tmp_path / "serial")
    on_two = assess_city(small_city.network, small_city.stations, districts, runner=two_workers,
                         district_dir=tmp_path / "two")
    with open_runner(workers=1, progress=False) as one:  # --workers 1: serial, no Dask
        assert one.client is None
        on_one = assess_city(small_city.network, small_city.stations, districts, runner=one)
    assert two_workers.workers == 2
    for other in (on_one, on_two):
        pd.testing.assert_frame_equal(_frame(serial), _frame(other), check_exact=True)
        pd.testing.assert_frame_equal(serial.stations, other.stations, check_exact=True)
        assert serial.metrics == other.metrics
        assert serial.by_district.keys() == other.by_district.keys()
        for code, a in serial.by_district.items():
            _same_figures(a, other.by_district[code])
        pd.testing.assert_frame_equal(n_minus_1(serial), n_minus_1(other), check_exact=True)
    assert on_two.runner == "LocalCluster, 2 workers" and on_two.events == []
    # Each worker wrote its districts' own outputs: the same files, byte for byte, as the
    # serial run's (the map and GeoPackage aside, which differ between any two runs).
    assert on_one.district_dir is None
    for code in serial.by_district:
        mine, theirs = _files(tmp_path / "serial" / code), _files(tmp_path / "two" / code)
        assert mine.keys() == theirs.keys() and "summary.json" in mine
        assert {"map.html", "report.html", "demand.geojson"} <= mine.keys()
        for name, data in mine.items():
            if name not in _RUN_STAMPED:
                assert data == theirs[name], (code, name)
        assert on_two.by_district[code].outputs == str(tmp_path / "two" / code)
    # Only the figures travelled back, not the assessments.
    stats = two_workers.stats[-1]
    assert stats["desc"] == "districts" and stats["tasks"] == len(districts)
    points = sum(f.demand_points for f in on_two.by_district.values())
    assert stats["result_mb"] * 2**20 < 64 * points + 200_000 * len(districts)


def test_outputs_sent_back_when_workers_do_not_see_the_folder(small_city, districts, two_workers,
                                                               tmp_path, monkeypatch):
    # Workers on other machines: the probe file is not seen, so each task writes its district
    # to a temporary folder there and sends the files back, written here.
    monkeypatch.setattr(type(two_workers), "shares_folder", lambda self, folder: False)
    some = districts[districts["code"].isin(["500103", "500104"])]
    city = assess_city(small_city.network, small_city.stations, some, runner=two_workers,
                       district_dir=tmp_path / "d")
    serial = assess_city(small_city.network, small_city.stations, some,
                         district_dir=tmp_path / "s")
    for code in ("500103", "500104"):
        assert city.by_district[code].outputs == str(tmp_path / "d" / code)
        _same_figures(serial.by_district[code], city.by_district[code])
        sent, here = _files(tmp_path / "d" / code), _files(tmp_path / "s" / code)
        assert sent.keys() == here.keys()
        assert all(sent[k] == here[k] for k in sent if k not in _RUN_STAMPED)
    assert not list((tmp_path / "d").glob(".*"))  # no temporary folders left


def test_workers_see_a_local_folder(two_workers, tmp_path):
    assert two_workers.shares_folder(tmp_path / "out")
    assert not list((tmp_path / "out").iterdir())  # the probe file is removed


def test_shared_once_per_object(two_workers):
    big = np.arange(1000)
    first, again = two_workers.share(big), two_workers.share(big)
    assert first.key == again.key
    assert two_workers.share(big, lazy=True).key != first.key
    assert two_workers.share(big[:10], like=big, part="head").key != first.key


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


def test_unshare_sends_again(two_workers):
    data = np.arange(10)
    first = two_workers.share(data)
    two_workers.unshare()
    again = two_workers.share(data)
    assert again.key != first.key
    out = two_workers.map(_sum, [1, 2], ["a", "b"], desc="t", shared={"data": again})
    assert out == [46, 47]


def _sum(item: int, *, data) -> int:
    return int(data.sum()) + item


@pytest.mark.slow
def test_workers_killed_in_quick_succession_never_hang_a_run(tmp_path, two_workers):
    # Worker deaths a second apart once hung a map for ever: a task restricted to a worker
    # that died before it started stayed in "no-worker" (dask/distributed#7346), a result
    # lost with its worker was waited on with no worker left to recompute it, and the
    # LocalCluster forgets a worker not back within lost-worker-timeout. Every map must
    # still return every task, and say what happened.
    client = two_workers.client
    before = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    try:
        for round_ in range(6):
            marker = tmp_path / f"round-{round_}"
            (marker / "a").mkdir(parents=True)
            (marker / "b").mkdir()
            client.run_on_scheduler(_allow_failures, before)
            assert two_workers.map(_die_once, list(range(5)), [f"d{i}" for i in range(5)],
                                   desc="districts", shared={"marker": str(marker / "a")}
                                   ) == [0, 10, 20, 30, 40]
            client.run_on_scheduler(_allow_failures, 0)
            assert two_workers.map(_die_once, [1, 2, 3], ["A", "B", "C"], desc="districts",
                                   shared={"marker": str(marker / "b")}) == [10, 20, 30]
    finally:
        client.run_on_scheduler(_allow_failures, before)
    assert sum("'B': worker died, resubmitted" in e for e in two_workers.events) >= 6


async def _drop_worker(cluster, name) -> None:
    # What a LocalCluster does to a worker that died and was not back within Dask's
    # lost-worker-timeout: close its nanny and forget it.
    await cluster.workers.pop(name).close()


def _back_to_two(runner) -> None:
    """Run small maps until the LocalCluster has its two workers again: each map starts
    again the workers it dropped (Dask may still drop one a worker-death test killed,
    lost-worker-timeout after the death)."""
    deadline = time.monotonic() + 120
    while len(runner.cluster.workers) < 2 or runner.workers < 2:
        assert time.monotonic() < deadline, runner.events[-3:]
        assert runner.map(_sum, [1], ["a"], desc="t", shared={"data": np.arange(3)}) == [4]
        time.sleep(0.5)


@pytest.mark.slow
def test_workers_the_local_cluster_dropped_are_started_again(two_workers):
    cluster = two_workers.cluster
    _back_to_two(two_workers)
    cluster.sync(_drop_worker, cluster, next(iter(cluster.workers)))
    assert len(cluster.workers) == 1
    out = two_workers.map(_sum, [1, 2, 3], ["a", "b", "c"], desc="districts",
                          shared={"data": two_workers.share(np.arange(10))})
    assert out == [46, 47, 48]
    assert any("dropped 1 worker(s)" in e and "started again" in e for e in two_workers.events)
    _back_to_two(two_workers)


def test_a_cluster_with_no_worker_left_is_an_error_not_a_hang():
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        runner = open_runner(scheduler=cluster.scheduler_address, progress=False)
        runner.poll_s, runner.no_worker_timeout_s = 0.2, 1.0
        try:
            cluster.scale(0)
            deadline = time.monotonic() + 60
            while runner.workers and time.monotonic() < deadline:
                time.sleep(0.1)
            assert runner.workers == 0
            with pytest.raises(RuntimeError, match=r"no worker for \d+ s while 'a' waited"):
                runner.map(_sum, [1], ["a"], desc="districts", shared={"data": np.arange(3)})
        finally:
            runner.close()
