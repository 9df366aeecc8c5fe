"""Scale-out benchmark: the city assessment and sweeps, serial vs dask.distributed.

Runs on a GENERATED city (tiled from the real Yuzhong drive extract, see
:mod:`coverage.generated_city`) laid over the real boundaries of Chongqing's nine
central districts, with generated stations. Prints, side by side in one run:

- city assessment of the 9 districts: wall time serial (``--workers 1``) and on a
  LocalCluster with 2 workers, and the ratio; whether the results are identical;
  where the 2-worker wall time went (pickling and scattering the shared network and
  road index, summed task time, the best split of those tasks over the workers, busy
  share, figures sent back, unpickling);
- with ``--repeat N``, N serial and N Dask runs, alternating, and the best of each;
- with ``--district-outputs``, the same with each district's own outputs written by
  its task (what ``station-coverage city`` does), serial and on 2 workers;
- peak memory of each worker process (and of the serial process);
- time per district (serial and on the workers);
- one sweep point including set-up (building the network and its road index), then
  a 12-point sweep (congestion 1.0/1.25/1.5 x turnout 45/60/90/120 s), serial and on
  Dask, as a multiple of that one point; and a mixed 12-point sweep (2 speed tables x
  heights 3.2/4.0 m x congestion 1.0/1.25/1.5) on Dask;
- data sizes that feed the 38-district plan in the README.

The load average is printed at each stage: the speed-up needs free cores.
Usage: ``python benchmarks/scale_out.py [--size 15k] [--workers 2] [--skip-sweep]
[--repeat N] [--district-outputs] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _mb(n_bytes: int) -> float:
    return round(n_bytes / 2**20, 1)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _load() -> float:
    return round(os.getloadavg()[0], 1)


def _stats(runner) -> dict:
    s = runner.stats[-1]
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in s.items()}


def _identical(one, two) -> bool:
    """Same district table (but the task seconds), stations, metrics and figures."""
    import numpy as np
    import pandas as pd

    cols = [c for c in one.districts.columns if c not in ("geometry", "seconds")]
    same = (pd.DataFrame(one.districts[cols]).equals(pd.DataFrame(two.districts[cols]))
            and one.stations.equals(two.stations) and one.metrics == two.metrics)
    for code, a in one.by_district.items():
        b = two.by_district[code]
        same = same and a.metrics == b.metrics and a.stations.equals(b.stations) and all(
            np.array_equal(getattr(a, k), getattr(b, k))
            for k in ("weight", "first_due_s", "second_due_s", "first_station"))
    return bool(same)


def _repeats(n: int, out: dict, net, stations, districts, index, runner) -> dict:
    """``n`` serial and ``n`` Dask runs in all (the first pair already done), alternating;
    each Dask run shares the network and index anew."""
    from coverage.city import assess_city, open_runner

    serial_s, dask_s, loads = [out["city_serial_s"]], [out["city_dask_s"]], []
    for _ in range(n - 1):
        with open_runner(workers=1, progress=False) as serial:
            t = time.perf_counter()
            assess_city(net, stations, districts, index=index, runner=serial)
            serial_s.append(round(time.perf_counter() - t, 2))
        runner.unshare()
        t = time.perf_counter()
        assess_city(net, stations, districts, index=index, runner=runner)
        dask_s.append(round(time.perf_counter() - t, 2))
        loads.append(_load())
    res = {"serial_s": serial_s, "dask_s": dask_s, "load_averages": loads,
           "speedup_best": round(min(serial_s) / min(dask_s), 2),
           "speedup_per_pair": [round(a / b, 2) for a, b in zip(serial_s, dask_s, strict=True)]}
    print(f"repeated {n} times, alternating: serial {serial_s} s, {runner.workers} workers "
          f"{dask_s} s; best of each {res['speedup_best']}x, per pair {res['speedup_per_pair']}; "
          f"load averages {loads}")
    return res


def _with_outputs(net, stations, districts, index, runner) -> dict:
    """Serial and distributed runs that also write each district's own outputs (the
    ``city`` command's work): the outputs are written by the tasks, where they run."""
    from coverage.city import assess_city, open_runner

    res: dict = {}
    tmp = Path(tempfile.mkdtemp(prefix="scale-out-"))
    try:
        with open_runner(workers=1, progress=False) as serial:
            t = time.perf_counter()
            one = assess_city(net, stations, districts, index=index, runner=serial,
                              district_dir=tmp / "serial")
            res["serial_s"] = round(time.perf_counter() - t, 2)
            res["serial_map"] = _stats(serial)
        res["load_average_after_serial"] = _load()
        t = time.perf_counter()
        two = assess_city(net, stations, districts, index=index, runner=runner,
                          district_dir=tmp / "dask")
        res["dask_s"] = round(time.perf_counter() - t, 2)
        res["dask_map"] = _stats(runner)
        res["load_average_after_dask"] = _load()
        res["identical"] = _identical(one, two)
        res["speedup"] = round(res["serial_s"] / res["dask_s"], 2)
        res["outputs_mb"] = _mb(sum(p.stat().st_size for p in (tmp / "serial").rglob("*")
                                    if p.is_file()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    m = res["dask_map"]
    print(f"city assess + each district's own outputs ({res['outputs_mb']} MB, written by the "
          f"tasks): serial {res['serial_s']} s, {runner.workers} workers {res['dask_s']} s, "
          f"speed-up {res['speedup']}x; CPU seconds of the tasks: serial "
          f"{res['serial_map']['task_cpu_s_sum']:.1f} s, on the workers {m['task_cpu_s_sum']:.1f} s "
          f"summed; identical: {res['identical']}; figures sent back "
          f"{m['result_mb']:.2f} MB; load average {res['load_average_after_serial']} -> "
          f"{res['load_average_after_dask']}")
    return res


def main() -> int:
    import functools

    import cloudpickle

    from coverage.city import assess_city, open_runner, read_districts, sweep_city
    from coverage.city.runner import dumps
    from coverage.city.scenario import build_city_network
    from coverage.engine import build_index
    from coverage.generated_city import CENTRAL_DISTRICTS_GEOJSON, generated_city
    from coverage.network import CHINA_URBAN
    from coverage.presets import response_standard

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="15k", help="generated city size: 5k, 15k, 31k or tiles")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (default 2)")
    ap.add_argument("--cache-dir", default=None, help="graph cache for the source tile")
    ap.add_argument("--tile-crop-m", type=float, default=None,
                    help="crop each tile to a square of this side, m (a quick smoke run)")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the city assessment this many times serial and on Dask, "
                    "alternately, and report the best of each (less noise from other jobs)")
    ap.add_argument("--district-outputs", action="store_true",
                    help="also time the run with each district's own outputs written")
    ap.add_argument("--json", action="store_true", help="print one JSON object last")
    args = ap.parse_args()
    size = int(args.size) if args.size.isdigit() else args.size
    out: dict = {"network": "GENERATED city (tiled from the real Yuzhong extract) over the "
                 "real nine central district boundaries", "size": args.size,
                 "cores": os.cpu_count(), "load_average_at_start": _load()}

    districts = read_districts(CENTRAL_DISTRICTS_GEOJSON)
    t = time.perf_counter()
    city_data = generated_city(size, districts=districts, cache_dir=args.cache_dir,
                               tile_crop_m=args.tile_crop_m)
    out["generate_s"] = round(time.perf_counter() - t, 2)
    net, stations = city_data.network, city_data.stations
    t = time.perf_counter()
    index = build_index(net)
    out["index_s"] = round(time.perf_counter() - t, 2)
    out.update(nodes=net.graph.number_of_nodes(), edges=net.graph.number_of_edges(),
               stations=len(stations), districts=len(districts))
    from dataclasses import replace

    from coverage.city.assess import _Topology

    out["network_with_graph_mb"] = _mb(len(cloudpickle.dumps(net)))
    out["scattered_network_mb"] = _mb(len(dumps(replace(net, graph=None))))
    out["scattered_index_mb"] = _mb(len(dumps(index)))
    out["graph_topology_mb"] = _mb(len(dumps(_Topology(net.graph))))
    print(f"GENERATED city {args.size}: {out['nodes']:,} nodes, {out['stations']} stations, "
          f"9 real districts; generated in {out['generate_s']} s, index {out['index_s']} s; "
          f"scattered once per worker: road index {out['scattered_index_mb']} MB + network "
          f"without its graph {out['scattered_network_mb']} MB (+ graph topology "
          f"{out['graph_topology_mb']} MB when writing outputs; the whole network would be "
          f"{out['network_with_graph_mb']} MB); load average {out['load_average_at_start']} on "
          f"{out['cores']} cores")

    with open_runner(workers=1, progress=False) as serial:
        t = time.perf_counter()
        one = assess_city(net, stations, districts, index=index, runner=serial)
        out["city_serial_s"] = round(time.perf_counter() - t, 2)
        out["city_serial_map"] = _stats(serial)
    out["serial_peak_mb"] = _peak_mb()
    out["load_average_after_serial"] = _load()
    per = one.districts.set_index("name")
    out["per_district_s"] = {n: float(s) for n, s in per["seconds"].items()}
    out["per_district_demand_points"] = {n: int(p) for n, p in per["demand_points"].items()}
    # What a task sends back: the district's figures, not its assessment.
    out["district_result_mb_max"] = max(_mb(len(dumps(f))) for f in one.by_district.values())
    print(f"city assess, serial (--workers 1): {out['city_serial_s']} s; coverage "
          f"{one.metrics['coverage_share']:.2%}; process peak {out['serial_peak_mb']} MB; "
          f"load average {out['load_average_after_serial']}")
    for name, s in sorted(out["per_district_s"].items(), key=lambda kv: -kv[1]):
        print(f"  {name}: {s:.2f} s, {out['per_district_demand_points'][name]:,} demand points")

    t = time.perf_counter()
    runner = open_runner(workers=args.workers, progress=False)
    out["cluster_start_s"] = round(time.perf_counter() - t, 2)
    with runner:
        t = time.perf_counter()
        two = assess_city(net, stations, districts, index=index, runner=runner)
        out["city_dask_s"] = round(time.perf_counter() - t, 2)
        out["city_dask_map"] = _stats(runner)
        out["worker_peak_mb"] = {k.rsplit(":", 1)[-1]: round(v, 1)
                                 for k, v in runner.worker_peak_memory_mb().items()}
        out["identical"] = _identical(one, two)
        out["speedup"] = round(out["city_serial_s"] / out["city_dask_s"], 2)
        # The best any scheduler could do with these task times on these workers.
        serial_tasks = list(out["per_district_s"].values())
        out["speedup_bound"] = round(out["city_serial_s"] / max(
            max(serial_tasks), sum(serial_tasks) / args.workers), 2)
        out["per_district_dask_s"] = {n: float(s) for n, s in
                                      two.districts.set_index("name")["seconds"].items()}
        out["load_average_after_city"] = _load()
        m = out["city_dask_map"]
        print(f"city assess, LocalCluster {args.workers} workers: {out['city_dask_s']} s "
              f"(cluster start {out['cluster_start_s']} s apart); speed-up "
              f"{out['speedup']}x (bound from the serial task times: {out['speedup_bound']}x); "
              f"identical to serial: {out['identical']}; worker peaks {out['worker_peak_mb']} MB")
        cpu_one, cpu_two = out["city_serial_map"]["task_cpu_s_sum"], m["task_cpu_s_sum"]
        # On free cores the map takes at least the workers' CPU time shared evenly; with the
        # set-up before it, this is what the ratio would be if nothing else ran (an estimate).
        outside = out["city_serial_s"] - sum(serial_tasks)  # set-up and combining, both runs
        out["speedup_from_cpu"] = round((outside + cpu_one) / (
            outside + m["share_s"] + cpu_two / args.workers), 2)
        print(f"  CPU seconds of the tasks: serial {cpu_one:.1f} s, on {args.workers} workers "
              f"{cpu_two:.1f} s summed ({cpu_two / cpu_one:.2f}x: unpickling the shared data once "
              f"per worker, contention for memory); ratio if the workers had the cores to "
              f"themselves, from these CPU times: {out['speedup_from_cpu']}x")
        print(f"  where the {args.workers}-worker time went: tasks summed {m['task_s_sum']:.1f} s "
              f"(serial {sum(serial_tasks):.1f} s), longest {m['task_s_max']:.1f} s, best split "
              f"{m['bound_s']:.1f} s of {m['wall_s']:.1f} s wall; workers busy "
              f"{m['busy_share']:.0%}; before the map, network and index pickled and scattered "
              f"in {m['share_s']:.2f} s; figures sent back {m['result_mb']:.2f} MB, unpickled in "
              f"{m['unpickle_s']:.2f} s; load average {out['load_average_at_start']} -> "
              f"{out['load_average_after_city']}")

        if args.repeat > 1:
            out["repeats"] = _repeats(args.repeat, out, net, stations, districts, index, runner)

        if args.district_outputs:
            out["with_outputs"] = _with_outputs(net, stations, districts, index, runner)

        if not args.skip_sweep:
            build = functools.partial(
                build_city_network, districts=districts, osm=None, online=False,
                generated=size, tile_crop_m=args.tile_crop_m, seed=0, buffer_m=1500.0, crs=None,
                cache_dir=args.cache_dir, progress=False)
            std = response_standard("gb51080")
            grid = {"congestion_factor": [1.0, 1.25, 1.5], "turnout_s": [45, 60, 90, 120]}
            mixed = {"congestion_factor": [1.0, 1.25, 1.5], "speeds": ["china_urban", "nfpa_iso"],
                     "apparatus_height_m": [3.2, 4.0]}
            t = time.perf_counter()
            s_dask = sweep_city(build, stations, districts, grid, standard=std,
                                base_model=CHINA_URBAN, runner=runner)
            out["sweep_dask_s"] = round(time.perf_counter() - t, 2)
            out["sweep_dask_map"] = _stats(runner)
            t = time.perf_counter()
            s_mixed = sweep_city(build, stations, districts, mixed, standard=std,
                                 base_model=CHINA_URBAN, runner=runner)
            out["mixed_sweep_dask_s"] = round(time.perf_counter() - t, 2)
            out["mixed_sweep"] = {"points": len(s_mixed.table), "networks": s_mixed.networks,
                                  "routings": s_mixed.routings,
                                  "seconds": {k: round(v, 2) for k, v in s_mixed.seconds.items()
                                              if k != "task_s"}}
            out["sweep_worker_peak_mb"] = {k.rsplit(":", 1)[-1]: round(v, 1)
                                           for k, v in runner.worker_peak_memory_mb().items()}
    if not args.skip_sweep:
        with open_runner(workers=1, progress=False) as serial:
            t = time.perf_counter()
            s_one = sweep_city(build, stations, districts, {}, standard=std,
                               base_model=CHINA_URBAN, runner=serial)
            out["one_point_s"] = round(time.perf_counter() - t, 2)
            out["one_point_setup_s"] = round(s_one.seconds["networks_s"], 2)
            t = time.perf_counter()
            s_serial = sweep_city(build, stations, districts, grid, standard=std,
                                  base_model=CHINA_URBAN, runner=serial)
            out["sweep_serial_s"] = round(time.perf_counter() - t, 2)
        out["load_average_after_sweeps"] = _load()
        out["sweep_points"] = len(s_serial.table)
        out["sweep_networks"], out["sweep_routings"] = s_serial.networks, s_serial.routings
        out["sweep_identical"] = bool(s_serial.table.equals(s_dask.table)
                                      and s_serial.n_minus_1.equals(s_dask.n_minus_1))
        same = s_serial.table[(s_serial.table["congestion_factor"] == 1.0)
                              & (s_serial.table["turnout_s"] == std.turnout_s)]
        out["sweep_point_equals_one_point"] = bool(
            same["coverage_share"].iloc[0] == s_one.table.iloc[0]["coverage_share"])
        out["sweep_serial_vs_one_point"] = round(out["sweep_serial_s"] / out["one_point_s"], 2)
        out["sweep_dask_vs_one_point"] = round(out["sweep_dask_s"] / out["one_point_s"], 2)
        out["mixed_sweep_dask_vs_one_point"] = round(out["mixed_sweep_dask_s"] / out["one_point_s"], 2)
        print(f"one sweep point incl. set-up (network build + index {out['one_point_setup_s']} s): "
              f"{out['one_point_s']} s serial")
        print(f"12-point sweep (3 congestion x 4 turnout: {out['sweep_networks']} network, "
              f"{out['sweep_routings']} routing): serial {out['sweep_serial_s']} s = "
              f"{out['sweep_serial_vs_one_point']}x one point; Dask {out['sweep_dask_s']} s = "
              f"{out['sweep_dask_vs_one_point']}x one point; identical: {out['sweep_identical']}")
        ms = out["mixed_sweep"]
        print(f"mixed 12-point sweep (3 congestion x 2 speed tables x 2 heights: {ms['networks']} "
              f"network(s), {ms['routings']} routings): Dask {out['mixed_sweep_dask_s']} s = "
              f"{out['mixed_sweep_dask_vs_one_point']}x one point; worker peaks "
              f"{out['sweep_worker_peak_mb']} MB; load average {out['load_average_after_sweeps']}")
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
