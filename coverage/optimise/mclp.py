"""Maximal covering location (MCLP): p new sites that cover the most demand weight."""

from __future__ import annotations

from dataclasses import replace

import pulp

from coverage.optimise.backend import SolveOptions
from coverage.optimise.cover import row_terms
from coverage.optimise.presolve import PresolveOptions, cover_rows
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
)
from coverage.optimise.sites import (
    add_cuts,
    add_site_constraints,
    check_p,
    classify,
    make_vars,
    new_var,
    precheck,
)


def mclp(problem: PlacementProblem, p: int, *, options: SolveOptions | None = None,
         presolve: PresolveOptions | None = None, check: Check | None = None,
         max_cut_rounds: int = 20) -> PlacementResult:
    """At most ``p`` new sites maximising the demand weight within the threshold.

    Maximise Σ wᵢ zᵢ subject to zᵢ ≤ Σⱼ aᵢⱼ xⱼ (plus the existing stations that
    cover i), 0 ≤ zᵢ ≤ 1, Σ new xⱼ ≤ p. The z are continuous: at an optimum each
    equals min(1, coverage count), which is integral once x is.

    Parameters
    ----------
    problem : PlacementProblem
        Needs ``threshold``.
    p : int
        Largest number of new sites (forced ones included).
    options, presolve, check, max_cut_rounds
        As for :func:`coverage.optimise.lscp`.

    Returns
    -------
    PlacementResult
        ``objective`` is the covered demand weight (existing stations'
        coverage included); ``details["covered_share"]`` its share of the
        total weight.
    """
    options = options or SolveOptions()
    presolve = presolve or PresolveOptions()
    p = check_p(p, "MCLP")
    radius = problem.require_threshold("MCLP")
    clock = Clock(options.time_limit)
    checking = rules_active(problem, check)
    method = "cover+lazy-cuts" if checking else "cover"
    with clock.building():
        rows = cover_rows(problem, radius, classify(problem), need=1, options=presolve,
                          drop_uncoverable=False, dominance=not checking)
    total = float(problem.weights.sum())
    details: dict = {"p": p, "threshold_s": radius, "total_weight": total}
    reason = precheck(problem, p)
    if reason:
        return precheck_failure(problem, model="mclp", method=method, options=options,
                                reason=reason, uncoverable=rows.uncoverable, details=details)
    cols = rows.cols

    def build(cuts: list) -> Built:
        lp = pulp.LpProblem("mclp", pulp.LpMaximize)
        x = make_vars(lp, cols)
        z = [new_var(lp, f"z_{g:07d}", 0, 1) for g in range(rows.n_rows)]
        lp.setObjective(pulp.LpAffineExpression(
            [(z[g], float(rows.weight[g])) for g in range(rows.n_rows) if rows.weight[g] > 0]))
        for g in range(rows.n_rows):
            if rows.weight[g] > 0:
                expr = pulp.LpAffineExpression([(z[g], 1)] + [(v, -1) for v, _ in
                                                               row_terms(rows, x, g)])
                lp.addConstraint(expr <= int(rows.n_const[g]), f"cover_{g:07d}")
        add_site_constraints(lp, x, problem, cols, p)
        return Built(lp, x, cols, constant=rows.settled_weight,
                     impossible=add_cuts(lp, x, cols, cuts))

    state = run_rounds(problem, build, options, clock, check, initial_cuts(problem, clock),
                       max_cut_rounds)
    result = finish(
        problem, model="mclp", method=method, options=options, clock=clock, state=state,
        evaluate=lambda _, fd: float(problem.weights[fd <= radius].sum()),
        uncoverable=rows.uncoverable, presolve=rows.report, details=details,
    )
    if result.objective is None or total == 0:
        return result
    return replace(result, details={**result.details,
                                    "covered_share": result.objective / total})
