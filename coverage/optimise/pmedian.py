"""p-median: p new sites minimising the weighted total (mean) first-due time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pulp

from coverage.optimise.assign import add_assignment, assignment_start
from coverage.optimise.backend import SolveOptions
from coverage.optimise.heuristic import pmedian_incumbent
from coverage.optimise.presolve import PresolveOptions, assign_rows
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.result import PlacementResult
from coverage.optimise.rules import Check
from coverage.optimise.runner import (
    Built,
    Clock,
    finish,
    initial_cuts,
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


def pmedian(problem: PlacementProblem, p: int, *, options: SolveOptions | None = None,
            presolve: PresolveOptions | None = None, check: Check | None = None,
            max_cut_rounds: int = 20) -> PlacementResult:
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
        As for :func:`coverage.optimise.lscp`.

    Returns
    -------
    PlacementResult
        ``objective`` is the weighted total first-due time in seconds
        (OR-Library's p-median value for unit weights);
        ``details["weighted_mean_s"]`` divides it by the reachable weight.
    """
    options = options or SolveOptions()
    presolve = presolve or PresolveOptions()
    p = check_p(p, "p-median")
    clock = Clock(options.time_limit)
    details: dict = {"p": p}
    p = effective_p(problem, p, details)
    checking = rules_active(problem, check)
    method = "assignment+lazy-cuts" if checking else "assignment"
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
            problem, cols, p, deadline=clock.deadline(0.25)), check, clock)

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
        infeasible_hint=(f"No choice of at most p={p} new sites (under the given options) "
                         "gives every reachable demand point an open site within the matrix "
                         "cutoff; widen the cutoff or raise p."),
    )
    total_w = float(problem.weights[reachable].sum())
    if result.objective is None or total_w == 0:
        return result
    return replace(result, details={**result.details,
                                    "weighted_mean_s": result.objective / total_w})
