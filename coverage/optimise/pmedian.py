"""p-median: p new sites minimising the weighted total (mean) first-due time."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pulp

from coverage.optimise import backend
from coverage.optimise.assign import add_assignment, assignment_start
from coverage.optimise.backend import SolveOptions
from coverage.optimise.benders import pmedian_benders
from coverage.optimise.heuristic import pmedian_incumbent
from coverage.optimise.matrix import nearest_open
from coverage.optimise.presolve import PresolveOptions, assign_rows
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.result import PlacementResult
from coverage.optimise.rules import Check
from coverage.optimise.runner import (
    Built,
    Clock,
    finish,
    initial_cuts,
    placement,
    precheck_failure,
    rules_active,
    run_rounds,
    usable_incumbent,
)
from coverage.optimise.sites import (
    add_cuts,
    add_site_constraints,
    check_p,
    classify,
    effective_p,
    make_vars,
    precheck,
)

METHODS = ("benders", "assignment")


def pmedian(problem: PlacementProblem, p: int, *, options: SolveOptions | None = None,
            presolve: PresolveOptions | None = None, check: Check | None = None,
            max_cut_rounds: int = 20, method: str | None = None) -> PlacementResult:
    """At most ``p`` new sites minimising Σ wᵢ · (seconds to the nearest open site).

    Assignment formulation on the sparse support (see
    :mod:`coverage.optimise.assign`). Demand that no available site reaches
    within the matrix cutoff is left out and reported in ``uncoverable``.
    Demand that *some* site reaches must be served by an open site within the
    cutoff; if no choice of ``p`` sites does that, the result is
    ``infeasible`` with that reason — widen the matrix cutoff or raise ``p``.
    ``problem.threshold`` is not used.

    Parameters
    ----------
    problem : PlacementProblem
    p : int
        Largest number of new sites (forced ones included).
    options, presolve, check, max_cut_rounds
        As for :func:`coverage.optimise.lscp`. The time limit covers
        presolve, the heuristic, seed cuts and model building as well as the
        solver runs.
    method : {"benders", "assignment"}, optional
        ``benders`` (default with HiGHS): the radius formulation by Benders
        decomposition, passed to highspy as arrays and solved by branch and
        cut with reduced-cost fixing (:mod:`coverage.optimise.benders`). ``assignment``: the classical
        assignment model through PuLP (default with CBC).

    Returns
    -------
    PlacementResult
        ``objective`` is the weighted total first-due time in seconds
        (OR-Library's p-median value for unit weights);
        ``details["weighted_mean_s"]`` divides it by the reachable weight.
    """
    options = options or SolveOptions()
    presolve = presolve or PresolveOptions()
    method_name = method or ("benders" if options.solver == "highs" else "assignment")
    if method_name not in METHODS:
        raise ValueError(f"unknown p-median method {method!r}; use one of {METHODS}")
    if method_name == "benders" and options.solver != "highs":
        raise ValueError("the benders method runs on HiGHS; use method='assignment' with CBC")
    p = check_p(p, "p-median")
    clock = Clock(options.time_limit)
    details: dict = {"p": p}
    p = effective_p(problem, p, details)
    checking = rules_active(problem, check)
    method = method_name + ("+lazy-cuts" if checking else "")
    cols = classify(problem)
    with clock.building():
        rows = assign_rows(problem, cols, options=presolve, weighted=True)
    reason = precheck(problem, p)
    if reason:
        return precheck_failure(problem, model="pmedian", method=method, options=options,
                                reason=reason, uncoverable=rows.uncoverable, details=details)
    reachable = np.ones(problem.n_demand, dtype=bool)
    reachable[rows.uncoverable] = False
    with clock.building():
        incumbent = usable_incumbent(problem, pmedian_incumbent(
            problem, cols, p, deadline=clock.deadline(0.1)), check, clock,
            lambda mask: _served_total(problem, mask, reachable))

    hint = (f"No choice of at most p={p} new sites (under the given options) "
            "gives every reachable demand point an open site within the matrix "
            "cutoff; widen the cutoff or raise p.")
    if method_name == "benders":
        return _benders(problem, p, rows, cols, options, clock, check, checking,
                        max_cut_rounds, incumbent, reachable, method, details, hint)

    def build(cuts: list) -> Built:
        lp = pulp.LpProblem("pmedian", pulp.LpMinimize)
        x = make_vars(lp, cols)
        per_row = add_assignment(lp, rows, x)

        def aux_start(mask: np.ndarray) -> dict:
            return assignment_start(rows, per_row, mask)

        lp.setObjective(pulp.LpAffineExpression(
            [(y, float(rows.weight[g]) * c) for g, pairs in enumerate(per_row)
             for y, c in pairs if rows.weight[g] * c != 0]))
        add_site_constraints(lp, x, problem, cols, p)
        return Built(lp, x, cols, constant=rows.settled_cost,
                     impossible=add_cuts(lp, x, cols, cuts), aux_start=aux_start)

    state = run_rounds(problem, build, options, clock, check, initial_cuts(problem, clock),
                       max_cut_rounds, incumbent)
    result = finish(
        problem, model="pmedian", method=method, options=options, clock=clock, state=state,
        evaluate=lambda _, fd: float((problem.weights[reachable] * fd[reachable]).sum()),
        uncoverable=rows.uncoverable, presolve=rows.report, details=details, maximise=False,
        infeasible_hint=hint,
    )
    total_w = float(problem.weights[reachable].sum())
    if result.objective is None or total_w == 0:
        return result
    return replace(result, details={**result.details,
                                    "weighted_mean_s": result.objective / total_w})


def _benders(problem, p, rows, cols, options, clock, check, checking, max_cut_rounds,
             incumbent, reachable, method, details, hint) -> PlacementResult:
    cuts = initial_cuts(problem, clock)
    deadline = None if clock.limit is None else clock.start + clock.limit
    t0 = time.perf_counter()
    out = pmedian_benders(problem, p, rows, cols, options, deadline, check, cuts, incumbent,
                          checking, max_cut_rounds)
    clock.solve_s += time.perf_counter() - t0
    details = {**details, "lp_bound": out.lp_bound, "lp_rounds": out.lp_rounds,
               "rule_cut_rounds": out.rule_rounds, "nodes": out.nodes, "benders_cuts": out.cuts,
               "fixed_closed_by_reduced_cost": out.fixed_closed, "rule_cuts": len(cuts),
               "theta_blocks": out.blocks}
    if incumbent is not None:
        details["heuristic"] = {"method": incumbent.method, "objective": incumbent.objective,
                                "seconds": round(incumbent.seconds, 3)}
    common = dict(model="pmedian", solver=backend.solver_label(options), method=method,
                  solve_s=clock.solve_s, build_s=clock.build_s, uncoverable=rows.uncoverable,
                  presolve=rows.report)
    if out.status == "infeasible":
        return PlacementResult(status="infeasible", message=f"{out.message}. {hint}",
                               details=details, **common)
    if out.mask is None:
        if out.violations and out.broken_mask is not None:
            limit = "round limit" if out.status == "rules" else "time limit"
            return placement(
                problem, out.broken_mask, status="error", bound=out.bound, details=details,
                violations=tuple(out.violations),
                message=(f"district rules still broken after {out.rule_rounds} cut rounds "
                         f"({limit}); no rule-abiding solution was found, and the sites "
                         "returned violate them: "
                         + "; ".join(v.message for v in out.violations)), **common)
        return PlacementResult(
            status="error", bound=out.bound, details=details, **common,
            message=("no solution found within the time limit, and no heuristic solution "
                     "either; raise the time limit."))
    fd, _ = nearest_open(problem.cost, out.mask)
    objective = float((problem.weights[reachable] * fd[reachable]).sum())
    details["solution_from"] = out.source
    total_w = float(problem.weights[reachable].sum())
    if total_w > 0:
        details["weighted_mean_s"] = objective / total_w
    if abs(objective - out.objective) > 1e-6 * max(1.0, abs(objective)) or (
            out.bound is not None and out.bound - objective > 1e-6 * max(1.0, abs(objective))):
        return placement(problem, out.mask, status="error", objective=objective,
                         bound=out.bound, details=details,
                         message=(f"internal check failed: recomputed objective {objective:g}, "
                                  f"decomposition's {out.objective:g}, bound {out.bound}; "
                                  "please report this instance"), **common)
    gap = None if out.bound is None else backend.relative_gap(objective, out.bound)
    if out.status == "optimal" or gap == 0.0:
        status, gap = "optimal", 0.0
        how = (f"branch and cut ({out.nodes} nodes, " if out.nodes else
               "its LP bound and reduced-cost fixing (")
        message = (f"proven optimal by Benders {how}{out.lp_rounds} LP solves, "
                   f"{out.cuts} cuts)")
    else:
        status = "feasible"
        why = ("time limit reached" if out.status == "timeout" else
               "district-rule round limit reached")
        message = backend.incumbent_message(
            f"{why}; best solution found is the {out.source}'s", gap)
    return placement(problem, out.mask, status=status, message=message, objective=objective,
                     bound=out.bound, gap=gap, details=details, **common)


def _served_total(problem: PlacementProblem, mask: np.ndarray, reachable: np.ndarray
                  ) -> float | None:
    """Weighted total first-due time, or None if some reachable row is left unserved."""
    fd, _ = nearest_open(problem.cost, mask)
    if np.isinf(fd[reachable]).any():
        return None
    return float((problem.weights[reachable] * fd[reachable]).sum())
