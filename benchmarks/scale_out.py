"""Scale-out benchmark: the city assessment and a sweep, serial vs dask.distributed.

Runs on a GENERATED city (tiled from the real Yuzhong drive extract, see
:mod:`coverage.generated_city`) laid over the real boundaries of Chongqing's nine
central districts, with generated stations. Prints, side by side in one run:

- city assessment of the 9 districts: wall time serial (``--workers 1``) and on a
  LocalCluster with 2 workers, and the ratio; whether the results are identical;
- peak memory of each worker process (and of the serial process);
- time per district (serial);
- a 12-point sweep (congestion 1.0/1.25/1.5 x turnout 45/60/90/120 s: 3 network
  groups), serial vs Dask, against "one point plus set-up";
- data sizes that feed the 38-district plan in the README: the pickled network and
  road index scattered to every worker, and the result of one district task.

Cluster start-up (including importing the library on the workers) is timed apart.
Usage: ``python benchmarks/scale_out.py [--size 15k] [--workers 2] [--skip-sweep] [--json]``
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _mb(n_bytes: int) -> float:
    return round(n_bytes / 2**20, 1)


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> int:
    import cloudpickle
    import pandas as pd

    from coverage.city import assess_city, open_runner, read_districts, sweep_city
    from coverage.city.scenario import build_city_network
    from coverage.engine import build_index
    from coverage.generated_city import CENTRAL_DISTRICTS_GEOJSON, generated_city
    from coverage.network import CHINA_URBAN
    from coverage.presets import response_standard

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="15k", help="generated city size: 5k, 15k, 31k or tiles")
    ap.add_argument("--workers", type=int, default=2, help="Dask workers (default 2)")
    ap.add_argument("--cache-dir", default=None, help="graph cache for the source tile")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--json", action="store_true", help="print one JSON object last")
    args = ap.parse_args()
    size = int(args.size) if args.size.isdigit() else args.size
    out: dict = {"network": "GENERATED city (tiled from the real Yuzhong extract) over the "
                 "real nine central district boundaries", "size": args.size}

    import os

    out["load_average_at_start"] = round(os.getloadavg()[0], 1)
    districts = read_districts(CENTRAL_DISTRICTS_GEOJSON)
    t = time.perf_counter()
    city_data = generated_city(size, districts=districts, cache_dir=args.cache_dir)
    out["generate_s"] = round(time.perf_counter() - t, 2)
    net, stations = city_data.network, city_data.stations
    t = time.perf_counter()
    index = build_index(net)
    out["index_s"] = round(time.perf_counter() - t, 2)
    out.update(nodes=net.graph.number_of_nodes(), edges=net.graph.number_of_edges(),
               stations=len(stations), districts=len(districts))
    out["scattered_network_mb"] = _mb(len(cloudpickle.dumps(net)))
    out["scattered_index_mb"] = _mb(len(pickle.dumps(index)))
    print(f"GENERATED city {args.size}: {out['nodes']:,} nodes, {out['stations']} stations, "
          f"9 real districts; generated in {out['generate_s']} s, index {out['index_s']} s; "
          f"scattered once per worker: network {out['scattered_network_mb']} MB + index "
          f"{out['scattered_index_mb']} MB")

    with open_runner(workers=1, progress=False) as serial:
        t = time.perf_counter()
        one = assess_city(net, stations, districts, index=index, runner=serial)
        out["city_serial_s"] = round(time.perf_counter() - t, 2)
    out["serial_peak_mb"] = _peak_mb()
    per = one.districts.set_index("name")
    out["per_district_s"] = {n: float(s) for n, s in per["seconds"].items()}
    out["per_district_demand_points"] = {n: int(p) for n, p in per["demand_points"].items()}
    task = next(iter(one.by_district.values()))
    from dataclasses import replace
    out["district_result_mb_max"] = max(
        _mb(len(cloudpickle.dumps(replace(a, network=None, index=None))))
        for a in one.by_district.values())
    del task
    print(f"city assess, serial (--workers 1): {out['city_serial_s']} s; coverage "
          f"{one.metrics['coverage_share']:.2%}; process peak {out['serial_peak_mb']} MB")
    for name, s in sorted(out["per_district_s"].items(), key=lambda kv: -kv[1]):
        print(f"  {name}: {s:.2f} s, {out['per_district_demand_points'][name]:,} demand points")

    t = time.perf_counter()
    runner = open_runner(workers=args.workers, progress=False)
    out["cluster_start_s"] = round(time.perf_counter() - t, 2)
    with runner:
        t = time.perf_counter()
        two = assess_city(net, stations, districts, index=index, runner=runner)
        out["city_dask_s"] = round(time.perf_counter() - t, 2)
        out["worker_peak_mb"] = {k.rsplit(":", 1)[-1]: round(v, 1)
                                 for k, v in runner.worker_peak_memory_mb().items()}
        cols = [c for c in one.districts.columns if c not in ("geometry", "seconds")]
        out["identical"] = bool(pd.DataFrame(one.districts[cols]).equals(
            pd.DataFrame(two.districts[cols])) and one.metrics == two.metrics)
        out["speedup"] = round(out["city_serial_s"] / out["city_dask_s"], 2)
        out["per_district_dask_s"] = {n: float(s) for n, s in
                                      two.districts.set_index("name")["seconds"].items()}
        out["load_average_after_city"] = round(os.getloadavg()[0], 1)
        print(f"city assess, LocalCluster {args.workers} workers: {out['city_dask_s']} s "
              f"(cluster start {out['cluster_start_s']} s apart); speed-up "
              f"{out['speedup']}x; identical to serial: {out['identical']}; worker peaks "
              f"{out['worker_peak_mb']} MB; task seconds summed: serial "
              f"{sum(out['per_district_s'].values()):.1f}, Dask "
              f"{sum(out['per_district_dask_s'].values()):.1f}; load average "
              f"{out['load_average_at_start']} -> {out['load_average_after_city']} on "
              f"{os.cpu_count()} cores")

        if not args.skip_sweep:
            import functools

            build = functools.partial(
                build_city_network, districts=districts, osm=None, online=False,
                generated=size, tile_crop_m=None, seed=0, buffer_m=1500.0, crs=None,
                cache_dir=args.cache_dir, progress=False)
            spec = {"congestion_factor": [1.0, 1.25, 1.5], "turnout_s": [45, 60, 90, 120]}
            std = response_standard("gb51080")
            t = time.perf_counter()
            s_dask = sweep_city(build, stations, districts, spec, standard=std,
                                base_model=CHINA_URBAN, runner=runner)
            out["sweep_dask_s"] = round(time.perf_counter() - t, 2)
            out["sweep_worker_peak_mb"] = {k.rsplit(":", 1)[-1]: round(v, 1)
                                           for k, v in runner.worker_peak_memory_mb().items()}
    if not args.skip_sweep:
        with open_runner(workers=1, progress=False) as serial:
            t = time.perf_counter()
            s_serial = sweep_city(build, stations, districts, spec, standard=std,
                                  base_model=CHINA_URBAN, runner=serial)
            out["sweep_serial_s"] = round(time.perf_counter() - t, 2)
        out["sweep_points"] = len(s_serial.table)
        out["sweep_groups"] = len(s_serial.group_seconds)
        out["one_point_s"] = round(s_serial.group_seconds[0], 2)
        out["sweep_identical"] = bool(s_serial.table.equals(s_dask.table))
        out["sweep_vs_one_point"] = round(out["sweep_dask_s"] / out["one_point_s"], 2)
        print(f"sweep, {out['sweep_points']} points in {out['sweep_groups']} network groups: "
              f"serial {out['sweep_serial_s']} s, Dask {out['sweep_dask_s']} s "
              f"({round(out['sweep_serial_s'] / out['sweep_dask_s'], 2)}x); one point incl. "
              f"network build {out['one_point_s']} s -> Dask sweep = "
              f"{out['sweep_vs_one_point']}x one point; identical: {out['sweep_identical']}")
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
