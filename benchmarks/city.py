"""City-scale placement benchmark on a GENERATED city tiled from the real Yuzhong extract.

The road network, stations and candidate sites come from
:mod:`coverage.generated_city` (generated, labelled so everywhere; the tiles
may be laid over the real boundaries of Chongqing's nine central districts with
``--districts``). For each size the script times every stage — generating the
city, assessing today's stations (demand points, first-due times), building the
demand × site matrices, then MCLP, p-center, p-median and LSCP — and prints the
peak memory (resident set size) after each stage, with status, bound and gap.

Each model gets the lean matrix :func:`coverage.siting.siting_instance` builds
for it (``model=``): MCLP and LSCP share one cut at the coverage threshold,
p-center and p-median one cut at today's worst first-due time; both drop the
entries slower than the demand point's existing first-due station, and store
float32 times (rounded up) with int32 indices. ``--time-resolution 1`` rounds
every time up to whole seconds (MCLP/LSCP optimum unchanged since 240 s is a
whole second; p-center within one second; p-median within one second per unit
weight — printed with the results). ``--full-matrix`` builds the old single
float64 matrix for every model instead, for comparison.

Targets (issue 11, 31k nodes, ~220k demand points, 5,000 candidates, p = 10):
MCLP and p-center proven optimal or within 0.5 % gap in <= 10 min each; peak
memory <= 6 GB; no stage over 2 min before the solver starts.

When :mod:`coverage.generated_city` is not installed (it is developed on
another branch), the script says so and measures the real Yuzhong instance only.

Usage: ``python benchmarks/city.py [--sizes 5k,15k,31k] [--stations 30]
[--candidates 1000,2500,5000] [--p 10] [--time-limit 600] [--models mclp,pcenter,pmedian,lscp]
[--rules] [--districts] [--demand roads|land] [--time-resolution 1] [--full-matrix] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
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


#: Models sharing one lean matrix (the first names the matrix plan).
GROUPS = (("mclp", "lscp"), ("pcenter", "pmedian"))


def rounding_effect(model: str, resolution: float | None, threshold: float,
                    total_weight: float) -> str:
    """What rounding every time up to ``resolution`` can do to a model's optimum (proven)."""
    if resolution is None:
        return "exact times"
    if model in ("mclp", "lscp", "backup"):
        whole = abs(threshold / resolution - round(threshold / resolution)) < 1e-9
        return ("none: the threshold is a whole number of steps, coverage is unchanged" if whole
                else f"coverage may shrink for times within {resolution:g} s of the threshold")
    if model == "pcenter":
        return f"optimum rises by less than {resolution:g} s"
    return f"optimum rises by less than {resolution * total_weight:.6g} (step × total weight)"


def city_size(size: str, n_candidates: int, args) -> dict:
    from coverage.assess import assess
    from coverage.engine import build_index
    from coverage.generated_city import central_districts, generated_city
    from coverage.presets import response_standard
    from coverage.siting import siting_instance

    stages = Stages(size)
    districts = central_districts() if args.districts else None
    city = stages.run("generate city (GENERATED)", generated_city, size, districts=districts,
                      n_stations=args.stations, n_candidates=n_candidates, seed=args.seed)
    graph = city.network.graph
    index = stages.run("road index", build_index, city.network)
    demand = None
    if args.demand == "roads":
        from coverage.assess.demand import DEFAULT_STEP_M, SNAP, DemandSet

        area = city.network.boundary or city.network.study_area
        demand = stages.run("demand (road samples)", DemandSet.from_roads, index, area,
                            step_m=DEFAULT_STEP_M, access=SNAP)
    before = stages.run("assess today's stations", assess, city.network, city.stations,
                        standard=response_standard("gb51080"), index=index, demand=demand)
    wanted = args.models.split(",")
    info = {"instance": f"generated-city-{size}", "generated": True, "demand": args.demand,
            "graph_nodes": graph.number_of_nodes(), "demand_points": len(before.demand_set),
            "stations": len(city.stations), "candidates": len(city.candidates),
            "time_resolution_s": args.time_resolution, "matrices": {}, "models": []}
    groups = [tuple(wanted)] if args.full_matrix else [
        tuple(m for m in g if m in wanted) for g in GROUPS]
    for group in [g for g in groups if g]:
        plan = None if args.full_matrix else group[0]
        label = "full (float64, any model)" if plan is None else "/".join(group)
        inst = stages.run(f"matrix {label}", siting_instance, city.network, city.stations,
                          candidates=city.candidates, small_station_rules=args.rules,
                          index=index, before=before, model=plan,
                          time_resolution_s=args.time_resolution)
        info["matrices"][label] = {**inst.matrix, "seconds": stages.rows[-1]["seconds"]}
        mx = inst.matrix
        print(f"  {size:<10}GENERATED city: {info['graph_nodes']:,} nodes, "
              f"{info['demand_points']:,} demand points, {info['stations']} stations, "
              f"{info['candidates']:,} candidates; matrix for {label}: {mx['entries']:,} "
              f"entries, {mx['mb']} MB ({mx['dtype']}, cutoff {mx['cutoff_s']:.0f} s, pruned "
              f"beyond today's first-due: {mx['pruned_beyond_station']})", flush=True)
        args_group = argparse.Namespace(**{**vars(args), "models": ",".join(group)})
        rows = solve_all(inst.problem, inst.check, args_group, stages)
        for row in rows:
            row["rounding_effect"] = rounding_effect(
                row["model"], args.time_resolution, inst.problem.threshold,
                float(inst.problem.weights.sum()))
        info["models"] += rows
        del inst
    info["stages"] = stages.rows
    before_solver = [r for r in stages.rows if not r["stage"].startswith("solve")]
    info["longest_stage_before_solver_s"] = max(r["seconds"] for r in before_solver)
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
    ap.add_argument("--demand", choices=("roads", "land"), default="roads",
                    help="road samples snapped to their road, as the city siting uses (about "
                    "220k points at 31k nodes, the issue's scale), or the land grid with "
                    "access points (the assess default; about 5x more points)")
    ap.add_argument("--time-resolution", type=float, default=None,
                    help="round travel times up to this many seconds (e.g. 1)")
    ap.add_argument("--full-matrix", action="store_true",
                    help="one float64 matrix at today's worst first-due for all models (old way)")
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
               "time_resolution_s": args.time_resolution, "full_matrix": args.full_matrix,
               "results": results, "peak_rss_gb": round(peak_rss_gb(), 2),
               "load_average": list(os.getloadavg())}
    print(f"\npeak memory {figures['peak_rss_gb']} GB (target <= 6 GB); load average "
          f"{' '.join(f'{v:.1f}' for v in figures['load_average'])} on "
          f"{os.cpu_count()} cores")
    for r in results:
        if "longest_stage_before_solver_s" in r:
            print(f"{r['instance']}: longest stage before the solver "
                  f"{r['longest_stage_before_solver_s']:.0f} s (target <= 120 s)")
        for m in r["models"]:
            gap = "-" if m["gap"] is None else f"{m['gap']:.3%}"
            print(f"  {m['model']:<8} {m['status']:<9} gap {gap:>8} in {m['seconds']:.0f} s"
                  + (f"; rounding: {m['rounding_effect']}" if "rounding_effect" in m else ""))
    if args.json:
        print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()
