"""Placement benchmark: coverage.optimise vs PySAL spopt, same matrices, same solver, one run.

Instances:

- ``random-mclp``: 5,000 demand × 200 candidate points uniform in a 10 km
  square, Euclidean metres as cost, coverage radius 1,200, p = 20, integer
  weights 1–100 (seeded, generated here).
- ``random-pcenter``: 1,000 demand × 100 candidates, same layout, p = 10.
- ``yuzhong``: the real Yuzhong siting instance, built by the library from the
  shared data (``--data``, default ``../shared/data``; skipped with a message
  when missing): :func:`coverage.siting.site_stations`'s demand × column
  travel-time matrix (the 4 existing stations fixed, the default candidate
  sites on 主次干路), MCLP with p = 3 and the GB 51080 threshold of 240 s. Both
  sides solve it *without* the small-station rules (spopt has none); an extra
  row ``ours+rules`` solves it with the 建标152 rules that ``site`` enforces
  (district ≤ 2 km², district borders a full station's).
- ``yuzhong-rules``: the same Yuzhong instance with the 建标152 rules on (as
  ``site`` runs it), ours only (spopt has no district rules): LSCP, p-median
  ``--new 2``, MCLP p = 3 and p-center p = 3, each with status, bound and gap.
- ``--orlib 1-40``: OR-Library pmed instances, ours only: p-median (Benders)
  checked against ``pmedopt.txt`` and p-center (client row generation)
  against the published vertex p-center optima (``tests/test_optimise_orlib.py``
  names the sources; pmed13 is 36 there and 35 in another table, we prove 36).

Both sides get ``pulp.HiGHS(timeLimit=T, gapRel=0)``. For spopt, *build* is
``from_cost_matrix`` and *solve* is ``.solve(solver, results=False)``; its
status is what spopt/PuLP report ("Optimal" = PuLP status 1, which PuLP also
returns for a time-limited incumbent), shown next to HiGHS's own model status
read from the same solver object. For ours, *build* is presolve plus model
construction, *solve* the solver call, and ``status`` is the package's honest one.

Usage: ``python benchmarks/placement.py [--time-limit 120] [--data DIR]
[--orlib 1-40] [--skip-spopt] [--skip-random] [--skip-yuzhong] [--skip-pcenter]
[--skip-pulp-build] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pulp
from scipy import sparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.optimise import (  # noqa: E402
    PlacementProblem,
    SolveOptions,
    lscp,
    mclp,
    pcenter,
    pmedian,
)

#: Stand-in for "unreachable" when spopt needs a dense matrix (it has no sparse input).
UNREACHABLE = 1e9


def random_instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense Euclidean cost (metres) and integer weights, points uniform in 10 km."""
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 10_000, size=(n, 2))
    sites = rng.uniform(0, 10_000, size=(m, 2))
    cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    return cost, rng.integers(1, 101, size=n).astype(float)


def highs(time_limit: float) -> pulp.HiGHS:
    return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0.0)


def run_ours(model: str, problem: PlacementProblem, p: int, time_limit: float,
             impl: str = "ours", **kwargs) -> dict:
    t0 = time.perf_counter()
    opts = SolveOptions(time_limit=time_limit)
    if model == "lscp":
        res = lscp(problem, options=opts, **kwargs)
    else:
        fn = {"mclp": mclp, "pcenter": pcenter, "pmedian": pmedian}[model]
        res = fn(problem, p, options=opts, **kwargs)
    total = time.perf_counter() - t0
    return {"impl": impl, "build_s": res.build_s, "solve_s": res.solve_s, "total_s": total,
            "objective": res.objective, "bound": res.bound, "gap": res.gap,
            "status": res.status, "solver_says": res.message, "chosen": list(res.chosen), "method": res.method,
            "presolve": res.presolve, "details": dict(res.details)}


def run_spopt(model: str, dense: np.ndarray, weights: np.ndarray, radius: float | None,
              p: int, fixed: list[int], time_limit: float) -> dict:
    try:
        from spopt.locate import MCLP, PCenter
    except ImportError:
        raise SystemExit("spopt is not installed: run `make bench` (installs the [bench] extra) "
                         "or pass --skip-spopt") from None

    pre = None
    if fixed:
        pre = np.zeros(dense.shape[1], dtype=int)
        pre[fixed] = 1
    t0 = time.perf_counter()
    # spopt's p counts predefined facilities too.
    if model == "mclp":
        obj = MCLP.from_cost_matrix(dense, weights, radius, p + len(fixed),
                                    predefined_facilities_arr=pre)
    else:
        obj = PCenter.from_cost_matrix(dense, p + len(fixed), predefined_facilities_arr=pre)
    build = time.perf_counter() - t0
    solver = highs(time_limit)
    t0 = time.perf_counter()
    status = "error"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj.solve(solver, results=False)
        status = pulp.LpStatus[obj.problem.status]
    except RuntimeError as exc:  # spopt raises when PuLP's status is not 1
        status = f"raised: {exc}"
    solve = time.perf_counter() - t0
    h = obj.problem.solverModel
    chosen = [j for j, v in enumerate(obj.fac_vars) if (v.varValue or 0) > 0.5]
    return {"impl": "spopt", "build_s": build, "solve_s": solve, "total_s": build + solve,
            "objective": pulp.value(obj.problem.objective), "status": status,
            "solver_says": h.modelStatusToString(h.getModelStatus()),
            "chosen": [j for j in chosen if j not in fixed]}


def dense_for_spopt(problem: PlacementProblem) -> np.ndarray:
    """The problem's matrix as spopt needs it: dense, absent entries set to UNREACHABLE."""
    coo = sparse.coo_array(problem.cost)
    dense = np.full(coo.shape, UNREACHABLE)
    dense[coo.row, coo.col] = coo.data  # stored zeros stay real zero costs
    return dense


def compare(name: str, model: str, problem: PlacementProblem, p: int, args,
            extra: dict | None = None) -> dict:
    """Ours and spopt on the same problem (plus an ``extra`` row of ours, if given).

    For MCLP a second row of ours, ``ours-pulp``, builds the same model through
    PuLP instead of as arrays passed to HiGHS (``build="pulp"``), unless
    ``--skip-pulp-build``: the difference is what the array build saves.
    """
    radius = problem.threshold
    fixed = list(problem.fixed)
    ours = run_ours(model, problem, p, args.time_limit)
    rows = [ours]
    out = {"instance": name, "model": model, "shape": list(problem.cost.shape), "p": p,
           "fixed": len(fixed), "ours": ours}
    if not args.skip_spopt:
        spopt = run_spopt(model, dense_for_spopt(problem), np.asarray(problem.weights), radius,
                          p, fixed, args.time_limit)
        rows.append(spopt)
        out["spopt"] = spopt
        out["speedup_total"] = spopt["total_s"] / ours["total_s"]
        out["speedup_build"] = spopt["build_s"] / max(ours["build_s"], 1e-9)
        out["speedup_solve"] = spopt["solve_s"] / max(ours["solve_s"], 1e-9)
        both = ours["status"] == "optimal" and spopt["solver_says"] == "Optimal"
        out["same_optimum"] = (bool(np.isclose(ours["objective"], spopt["objective"]))
                               if both else None)
    if extra is not None:
        rows.append(extra)
        out[extra["impl"]] = extra
    if model == "mclp" and not args.skip_pulp_build:
        via_pulp = run_ours(model, problem, p, args.time_limit, impl="ours-pulp", build="pulp")
        rows.append(via_pulp)
        out["ours-pulp"] = via_pulp
        if "spopt" in out:
            out["speedup_total_pulp_build"] = out["spopt"]["total_s"] / via_pulp["total_s"]
    out["load_average"] = list(os.getloadavg())
    print(f"\n{name}: {model}, {problem.cost.shape[0]} demand × {problem.cost.shape[1]} "
          f"candidates ({len(fixed)} existing), p={p}"
          + (f", radius {radius:g}" if model == "mclp" else ""))
    print(f"  {'impl':<11}{'build s':>9}{'solve s':>10}{'total s':>10}{'objective':>14}"
          f"  status (solver's own status)")
    for r in rows:
        obj = "-" if r["objective"] is None else f"{r['objective']:.6g}"
        print(f"  {r['impl']:<11}{r['build_s']:>9.3f}{r['solve_s']:>10.3f}{r['total_s']:>10.3f}"
              f"{obj:>14}  {r['status']} ({r['solver_says']})")
    if "spopt" in out:
        print(f"  spopt/ours: total {out['speedup_total']:.1f}x, build "
              f"{out['speedup_build']:.1f}x, solve {out['speedup_solve']:.1f}x; "
              f"same optimum: {out['same_optimum']}"
              + (f"; spopt/ours-pulp total {out['speedup_total_pulp_build']:.1f}x"
                 if "speedup_total_pulp_build" in out else "")
              + " (target for MCLP: >= 10x, proven optimal)" * (model == "mclp"))
    for r in rows:
        inc = (r.get("details") or {}).get("heuristic")
        if inc:
            print(f"  {r['impl']} incumbent before the solver: {inc['objective']:.6g} "
                  f"({inc['method']}, {inc['seconds']:.2f} s)")
    print(f"  load average {' '.join(f'{v:.1f}' for v in out['load_average'])} on "
          f"{os.cpu_count()} cores (wall times on a shared machine)")
    return out


@dataclass
class Siting:
    """What :func:`coverage.siting.site_stations` hands its model: problem and options."""

    problem: PlacementProblem
    kwargs: dict
    build_s: float


def yuzhong_siting(data: Path) -> Siting | None:
    """The real Yuzhong siting problem, as ``station-coverage site`` builds it.

    Returns None (after saying why) when the shared data are missing.
    """
    import geopandas as gpd

    from coverage.layers import read_stations
    from coverage.network import load_network
    from coverage.siting import siting_instance

    files = {"osm": data / "osm" / "yuzhong_drive_osm_20260424.osm",
             "boundary": data / "osm" / "yuzhong_boundary_osm_relation4738525.geojson",
             "stations": data / "stations" / "yuzhong_stations_baseline.geojson"}
    missing = [str(f) for f in files.values() if not f.exists()]
    if missing:
        print(f"\nyuzhong: skipped, {missing[0]} not found (give --data DIR)")
        return None
    t0 = time.perf_counter()
    net = load_network(osm=files["osm"], boundary=gpd.read_file(files["boundary"]),
                       progress=False)
    inst = siting_instance(net, read_stations(files["stations"]))
    kwargs = {"check": inst.check, "max_cut_rounds": 200}
    return Siting(inst.problem, kwargs, time.perf_counter() - t0)


def yuzhong(args) -> list[dict]:
    """Yuzhong: MCLP p=3 ours vs spopt without rules; every model of ours with the rules."""
    inst = yuzhong_siting(args.data)
    if inst is None:
        return []
    print(f"\nyuzhong instance built by the library in {inst.build_s:.1f} s "
          "(network, demand, candidates, travel-time matrix)")
    rules = run_ours("mclp", inst.problem, 3, args.time_limit, impl="ours+rules",
                     **inst.kwargs)
    free = replace(inst.problem, area_km2=None, area_cap_km2=None)
    out = compare("yuzhong", "mclp", free, 3, args, extra=rules)
    out["instance_build_s"] = inst.build_s
    results = [out]
    print(f"\nyuzhong-rules: ours with the 建标152 rules, time limit {args.time_limit:g} s "
          "(targets: LSCP and p-median --new 2 proven in <= 60 s)")
    print(f"  {'model':<16}{'total s':>9}{'objective':>16}{'bound':>16}{'gap':>9}  status")
    for model, p in (("lscp", None), ("pmedian", 2), ("mclp", 3), ("pcenter", 3)):
        r = rules if model == "mclp" else run_ours(model, inst.problem, p, args.time_limit,
                                                   impl="ours+rules", **inst.kwargs)
        r.update(instance="yuzhong-rules", model=model, p=p)
        results.append(r)
        fmt = lambda v: "-" if v is None else f"{v:.6g}"  # noqa: E731
        gap = "-" if r["gap"] is None else f"{r['gap']:.2%}"
        print(f"  {model + ('' if p is None else f' p={p}'):<16}{r['total_s']:>9.2f}"
              f"{fmt(r['objective']):>16}{fmt(r['bound']):>16}{gap:>9}  {r['status']}: "
              f"{r['solver_says'][:90]}")
    return results


def orlib(spec: str, data: Path, time_limit: float) -> list[dict]:
    """p-median and p-center on OR-Library pmed instances, checked against published optima."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_optimise_orlib import (
        PCENTER_OPTIMA,
        PCENTER_OTHER_SOURCES,
        optima,
        orlib_costs,
        pcenter_matches,
    )

    lo, _, hi = spec.partition("-")
    best = optima()
    out = []
    print("\nOR-Library pmed (ours; target: each proven optimal in <= 30 s):")
    print(f"  {'inst':<7}{'n':>5}{'p':>5}  {'p-median':>9} {'published':>9} {'status':<9}{'s':>7}"
          f"  {'p-center':>8} {'published':>9} {'status':<9}{'s':>7}")
    for k in range(int(lo), int(hi or lo) + 1):
        name = f"pmed{k}"
        cost, p = orlib_costs(data / f"{name}.txt")
        prob = PlacementProblem.from_cost_matrix(cost)
        med = run_ours("pmedian", prob, p, time_limit)
        cen = run_ours("pcenter", prob, p, time_limit)
        med.update(instance=name, model="pmedian", published=best[name], n=cost.shape[0], p=p,
                   matches=med["objective"] is not None
                   and abs(med["objective"] - best[name]) < 1e-6)
        cen.update(instance=name, model="pcenter", published=PCENTER_OPTIMA[name],
                   n=cost.shape[0], p=p, matches=cen["objective"] is not None
                   and pcenter_matches(name, cen["objective"]))
        print(f"  {name:<7}{cost.shape[0]:>5}{p:>5}  {med['objective']!s:>9} "
              f"{best[name]:>9g} {med['status']:<9}{med['total_s']:>7.2f}  "
              f"{cen['objective']!s:>8} {PCENTER_OPTIMA[name]:>9g} {cen['status']:<9}"
              f"{cen['total_s']:>7.2f}")
        if name in PCENTER_OTHER_SOURCES:
            print(f"         (another table gives p-center {PCENTER_OTHER_SOURCES[name]} for "
                  f"{name}; proven here: {cen['objective']!s}, status {cen['status']})")
        out += [med, cen]
    ok = [r for r in out if r["status"] == "optimal" and r["matches"]]
    fast = [r for r in ok if r["total_s"] <= 30]
    print(f"  proven optimal and equal to the published value: {len(ok)}/{len(out)}; "
          f"of them within 30 s: {len(fast)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per model, both sides")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--orlib", help="OR-Library pmed range, e.g. 1-15 (ours only)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                    help="shared data directory (Yuzhong OSM and stations, OR-Library)")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--skip-random", action="store_true", help="no random instances")
    ap.add_argument("--skip-pulp-build", action="store_true",
                    help="no second MCLP row built through PuLP")
    ap.add_argument("--skip-pcenter", action="store_true", help="no random p-center instance")
    ap.add_argument("--skip-yuzhong", action="store_true", help="no Yuzhong instance")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()

    results = []
    if not args.skip_random:
        cost, w = random_instance(5000, 200, args.seed)
        results.append(compare("random-mclp", "mclp", PlacementProblem.from_cost_matrix(
            cost, w, threshold=1200.0), 20, args))
        if not args.skip_pcenter:
            cost, w = random_instance(1000, 100, args.seed + 1)
            results.append(compare("random-pcenter", "pcenter",
                                   PlacementProblem.from_cost_matrix(cost, w), 10, args))
    if not args.skip_yuzhong:
        results += yuzhong(args)
    figures = {"time_limit_s": args.time_limit, "seed": args.seed, "solver": "HiGHS via PuLP",
               "results": results}
    if args.orlib:
        figures["orlib"] = orlib(args.orlib, args.data / "benchmarks" / "orlib_pmed",
                                 args.time_limit)
    if args.json:
        print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()
