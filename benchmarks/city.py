"""City-scale placement benchmark on a GENERATED city tiled from the real Yuzhong extract.

The road network, stations and candidate sites come from
:mod:`coverage.generated_city` (generated, labelled so everywhere; the tiles
may be laid over the real boundaries of Chongqing's nine central districts with
``--districts``). For each size the script times every stage — generating the
city, assessing today's stations (demand points, first-due times), building the
demand × site matrix, then MCLP, p-center, p-median and LSCP — and prints the
peak memory (resident set size) after each stage, with status, bound and gap.

Targets (issue 11, 31k nodes, ~220k demand points, 5,000 candidates, p = 10):
MCLP and p-center proven optimal or within 0.5 % gap in <= 10 min each; peak
memory <= 6 GB; no stage over 2 min before the solver starts.

When :mod:`coverage.generated_city` is not installed (it is developed on
another branch), the script says so and measures the real Yuzhong instance only.

Usage: ``python benchmarks/city.py [--sizes 5k,15k,31k] [--stations 30]
[--candidates 1000,2500,5000] [--p 10] [--time-limit 600] [--models mclp,pcenter,pmedian,lscp]
[--rules] [--districts] [--json]``
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.optimise import SolveOptions, lscp, mclp, pcenter, pmedian  # noqa: E402

MODELS = {"mclp": mclp, "pcenter": pcenter, "pmedian": pmedian, "lscp": lscp}


def peak_rss_gb() -> float:
    """Peak resident set size of this process so far, GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


class Stages:
    """Wall time and peak memory per stage, printed as they finish."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.rows: list[dict] = []

    def run(self, name: str, fn, *args, **kwargs):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        row = {"stage": name, "seconds": round(time.perf_counter() - t0, 2),
               "peak_rss_gb": round(peak_rss_gb(), 2)}
        self.rows.append(row)
        print(f"  {self.label:<10}{name:<28}{row['seconds']:>9.2f} s   peak {row['peak_rss_gb']:.2f} GB",
              flush=True)
        return out


def solve_all(problem, check, args, stages: Stages) -> list[dict]:
    out = []
    opts = SolveOptions(time_limit=args.time_limit)
    for name in args.models.split(","):
        fn = MODELS[name]
        kw = {"options": opts, "check": check}
        res = stages.run(f"solve {name}", fn, problem, **kw) if name == "lscp" else \
            stages.run(f"solve {name} p={args.p}", fn, problem, args.p, **kw)
        row = {"model": name, "status": res.status, "objective": res.objective,
               "bound": res.bound, "gap": res.gap, "method": res.method,
               "build_s": res.build_s, "solve_s": res.solve_s, "message": res.message,
               "new_sites": len(res.chosen), "seconds": stages.rows[-1]["seconds"],
               "peak_rss_gb": stages.rows[-1]["peak_rss_gb"]}
        gap = "-" if res.gap is None else f"{res.gap:.3%}"
        print(f"  {'':<10}-> {res.status}, objective {res.objective}, bound {res.bound}, "
              f"gap {gap}: {res.message[:100]}", flush=True)
        out.append(row)
    return out


def city_size(size: str, n_candidates: int, args) -> dict:
    from coverage.generated_city import central_districts, generated_city
    from coverage.siting import siting_instance

    stages = Stages(size)
    districts = central_districts() if args.districts else None
    city = stages.run("generate city (GENERATED)", generated_city, size, districts=districts,
                      n_stations=args.stations, n_candidates=n_candidates, seed=args.seed)
    graph = city.network.graph
    inst = stages.run("assess + matrix", siting_instance, city.network, city.stations,
                      candidates=city.candidates, small_station_rules=args.rules)
    prob = inst.problem
    info = {"instance": f"generated-city-{size}", "generated": True,
            "graph_nodes": graph.number_of_nodes(), "demand_points": prob.n_demand,
            "stations": len(inst.existing), "candidates": len(inst.candidates),
            "matrix_entries": int(prob.cost.nnz),
            "matrix_mb": round((prob.cost.data.nbytes + prob.cost.indices.nbytes
                                + prob.cost.indptr.nbytes) / 1e6, 1)}
    print(f"  {size:<10}GENERATED city: {info['graph_nodes']:,} nodes, "
          f"{info['demand_points']:,} demand points, {info['stations']} stations, "
          f"{info['candidates']:,} candidates, matrix {info['matrix_entries']:,} entries "
          f"({info['matrix_mb']} MB)", flush=True)
    info["models"] = solve_all(prob, inst.check, args, stages)
    info["stages"] = stages.rows
    return info


def yuzhong_only(args) -> dict:
    import geopandas as gpd

    from coverage.layers import read_stations
    from coverage.network import load_network
    from coverage.siting import siting_instance

    data = args.data
    stages = Stages("yuzhong")
    net = stages.run("load network", load_network,
                     osm=data / "osm" / "yuzhong_drive_osm_20260424.osm",
                     boundary=gpd.read_file(data / "osm" /
                                            "yuzhong_boundary_osm_relation4738525.geojson"),
                     progress=False)
    inst = stages.run("assess + matrix", siting_instance, net,
                      read_stations(data / "stations" / "yuzhong_stations_baseline.geojson"),
                      small_station_rules=args.rules)
    prob = inst.problem
    info = {"instance": "yuzhong (real)", "generated": False,
            "graph_nodes": net.graph.number_of_nodes(), "demand_points": prob.n_demand,
            "candidates": len(inst.candidates), "matrix_entries": int(prob.cost.nnz)}
    info["models"] = solve_all(prob, inst.check, args, stages)
    info["stages"] = stages.rows
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5k,15k,31k", help="generated city sizes (5k, 15k, 31k)")
    ap.add_argument("--candidates", default="1000,2500,5000",
                    help="candidate sites per size, comma separated, aligned with --sizes")
    ap.add_argument("--stations", type=int, default=30, help="existing stations (20-50)")
    ap.add_argument("--p", type=int, default=10, help="new sites for MCLP, p-center, p-median")
    ap.add_argument("--models", default="mclp,pcenter,pmedian,lscp")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds per model")
    ap.add_argument("--rules", action="store_true", help="enforce the 建标152 small-station rules")
    ap.add_argument("--districts", action="store_true",
                    help="lay the tiles over the real nine central districts of Chongqing")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()

    results = []
    try:
        import coverage.generated_city  # noqa: F401
    except ImportError:
        print("coverage.generated_city is not available on this branch yet: measuring the "
              "real Yuzhong instance only", flush=True)
        results.append(yuzhong_only(args))
    else:
        sizes = args.sizes.split(",")
        counts = [int(c) for c in args.candidates.split(",")]
        for size, n_cand in zip(sizes, counts + counts[-1:] * len(sizes), strict=False):
            results.append(city_size(size, n_cand, args))
    figures = {"time_limit_s": args.time_limit, "p": args.p, "rules": args.rules,
               "results": results, "peak_rss_gb": round(peak_rss_gb(), 2)}
    if args.json:
        print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()
