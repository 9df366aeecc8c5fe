"""Placement benchmark: coverage.optimise vs PySAL spopt, same matrices, same solver, one run.

Instances (seeded, generated here, no geography):

- ``mclp``: 5,000 demand × 200 candidate points uniform in a 10 km square,
  Euclidean metres as cost, coverage radius 1,200, p = 20, integer weights 1–100.
- ``pcenter``: 1,000 demand × 100 candidates, same layout, p = 10.
- ``--yuzhong PATH``: a saved ``.npz`` instance (see :func:`load_npz`), run as
  MCLP and p-center.
- ``--orlib 1-15``: OR-Library pmed instances, p-median, ours only, checked
  against ``pmedopt.txt``.

Both sides get ``pulp.HiGHS(timeLimit=T, gapRel=0)``. For spopt, *build* is
``from_cost_matrix`` and *solve* is ``.solve(solver, results=False)``; its
status is what spopt/PuLP report ("Optimal" = PuLP status 1, which PuLP also
returns for a time-limited incumbent), shown next to HiGHS's own model status
read from the same solver object. For ours, *build* is presolve plus model
construction, *solve* the solver call, and ``status`` is the package's honest one.

Usage: ``python benchmarks/placement.py [--time-limit 120] [--yuzhong FILE.npz]
[--orlib 1-15] [--skip-spopt] [--skip-random] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pulp
from scipy import sparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.optimise import (  # noqa: E402
    PlacementProblem,
    SolveOptions,
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


def load_npz(path: Path) -> dict:
    """Load a saved instance.

    Either a ``scipy.sparse.save_npz`` file (the matrix alone) or an ``np.savez``
    file with ``data``, ``indices``, ``indptr``, ``shape`` (CSR, demand ×
    candidates, seconds; absent = beyond the cutoff) and optionally
    ``weights``, ``fixed`` (column indices of existing stations),
    ``threshold`` (s, default 240) and ``p`` (default 3).
    """
    raw = np.load(path, allow_pickle=False)
    if "format" in raw.files:
        cost = sparse.load_npz(path)
        raw = {}
    else:
        cost = sparse.csr_array((raw["data"], raw["indices"], raw["indptr"]),
                                shape=tuple(raw["shape"]))
    get = raw.get if isinstance(raw, dict) else (
        lambda k, d=None: raw[k] if k in raw.files else d)
    return {
        "cost": sparse.csr_array(cost),
        "weights": get("weights"),
        "fixed": [] if get("fixed") is None else [int(v) for v in get("fixed")],
        "threshold": float(get("threshold", 240.0)),
        "p": int(get("p", 3)),
    }


def highs(time_limit: float) -> pulp.HiGHS:
    return pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=0.0)


def run_ours(model: str, problem: PlacementProblem, p: int, time_limit: float) -> dict:
    fn = {"mclp": mclp, "pcenter": pcenter, "pmedian": pmedian}[model]
    t0 = time.perf_counter()
    res = fn(problem, p, options=SolveOptions(time_limit=time_limit))
    total = time.perf_counter() - t0
    return {"impl": "ours", "build_s": res.build_s, "solve_s": res.solve_s, "total_s": total,
            "objective": res.objective, "bound": res.bound, "status": res.status,
            "solver_says": res.message, "chosen": list(res.chosen), "method": res.method,
            "presolve": res.presolve}


def run_spopt(model: str, dense: np.ndarray, weights: np.ndarray, radius: float | None,
              p: int, fixed: list[int], time_limit: float) -> dict:
    from spopt.locate import MCLP, PCenter

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


def compare(name: str, model: str, cost, weights, radius, p, fixed, args) -> dict:
    problem = PlacementProblem.from_cost_matrix(cost, weights, threshold=radius, fixed=fixed)
    ours = run_ours(model, problem, p, args.time_limit)
    rows = [ours]
    out = {"instance": name, "model": model, "shape": list(problem.cost.shape), "p": p,
           "ours": ours}
    if not args.skip_spopt:
        if sparse.issparse(cost):
            coo = sparse.coo_array(cost)
            dense = np.full(coo.shape, UNREACHABLE)
            dense[coo.row, coo.col] = coo.data  # stored zeros stay real zero costs
        else:
            dense = np.asarray(cost)
        spopt = run_spopt(model, dense, weights if weights is not None
                          else np.ones(dense.shape[0]), radius, p, fixed, args.time_limit)
        rows.append(spopt)
        out["spopt"] = spopt
        out["speedup_total"] = spopt["total_s"] / ours["total_s"]
        out["speedup_build"] = spopt["build_s"] / max(ours["build_s"], 1e-9)
        out["speedup_solve"] = spopt["solve_s"] / max(ours["solve_s"], 1e-9)
        both = ours["status"] == "optimal" and spopt["solver_says"] == "Optimal"
        out["same_optimum"] = (bool(np.isclose(ours["objective"], spopt["objective"]))
                               if both else None)
    print(f"\n{name}: {model}, {problem.cost.shape[0]} demand × {problem.cost.shape[1]} "
          f"candidates, p={p}" + (f", radius {radius:g}" if model == "mclp" else ""))
    print(f"  {'impl':<6}{'build s':>10}{'solve s':>10}{'total s':>10}{'objective':>16}"
          f"  status (solver's own status)")
    for r in rows:
        print(f"  {r['impl']:<6}{r['build_s']:>10.3f}{r['solve_s']:>10.3f}{r['total_s']:>10.3f}"
              f"{r['objective']:>16.6g}  {r['status']} ({r['solver_says']})")
    if "spopt" in out:
        print(f"  spopt/ours: total {out['speedup_total']:.1f}x, build "
              f"{out['speedup_build']:.1f}x, solve {out['speedup_solve']:.1f}x; "
              f"same optimum: {out['same_optimum']}")
    return out


def orlib(spec: str, data: Path, time_limit: float) -> list[dict]:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_optimise_orlib import optima, orlib_costs

    lo, _, hi = spec.partition("-")
    best = optima()
    out = []
    print("\nOR-Library p-median (ours):")
    for k in range(int(lo), int(hi or lo) + 1):
        cost, p = orlib_costs(data / f"pmed{k}.txt")
        r = run_ours("pmedian", PlacementProblem.from_cost_matrix(cost), p, time_limit)
        r.update(instance=f"pmed{k}", published=best[f"pmed{k}"], n=cost.shape[0], p=p)
        print(f"  pmed{k:<3} n={cost.shape[0]:<4} p={p:<4} {r['objective']!s:>10} "
              f"(published {best[f'pmed{k}']:g})  {r['status']:<9} {r['total_s']:.2f} s")
        out.append(r)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per model, both sides")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--yuzhong", type=Path, help="saved .npz instance (see load_npz)")
    ap.add_argument("--orlib", help="OR-Library pmed range, e.g. 1-15 (ours only)")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--skip-random", action="store_true", help="only --yuzhong / --orlib")
    ap.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = ap.parse_args()

    results = []
    if not args.skip_random:
        cost, w = random_instance(5000, 200, args.seed)
        results.append(compare("random-mclp", "mclp", cost, w, 1200.0, 20, [], args))
        cost, w = random_instance(1000, 100, args.seed + 1)
        results.append(compare("random-pcenter", "pcenter", cost, w, None, 10, [], args))
    if args.yuzhong:
        inst = load_npz(args.yuzhong)
        for model in ("mclp", "pcenter"):
            results.append(compare("yuzhong", model, inst["cost"], inst["weights"],
                                   inst["threshold"], inst["p"], inst["fixed"], args))
    figures = {"time_limit_s": args.time_limit, "seed": args.seed, "solver": "HiGHS via PuLP",
               "results": results}
    if args.orlib:
        figures["orlib"] = orlib(args.orlib, args.data / "benchmarks" / "orlib_pmed",
                                 args.time_limit)
    if args.json:
        print(json.dumps(figures, default=float))


if __name__ == "__main__":
    main()
