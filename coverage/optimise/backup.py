"""Backup coverage (Hogan & ReVelle 1986, BACOP1): cover all once, most weight twice."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pulp

from coverage.optimise.backend import SolveOptions
from coverage.optimise.cover import add_cover_once, row_terms
from coverage.optimise.lscp import lscp
from coverage.optimise.matrix import within
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


def backup(problem: PlacementProblem, p: int | None = None, *,
           options: SolveOptions | None = None, presolve: PresolveOptions | None = None,
           check: Check | None = None, max_cut_rounds: int = 20) -> PlacementResult:
    """At most ``p`` new sites covering all coverable demand once and most weight twice.

    Maximise Σ wᵢ uᵢ subject to Σⱼ aᵢⱼ xⱼ ≥ 1 and uᵢ ≤ Σⱼ aᵢⱼ xⱼ − 1 for every
    coverable row (existing stations count in both sums), 0 ≤ uᵢ ≤ 1. A row
    that fewer than two available sites can cover therefore never counts as
    backed up — unlike spopt's LSCP-B, which lets such rows score.

    Parameters
    ----------
    problem : PlacementProblem
        Needs ``threshold``.
    p : int, optional
        Largest number of new sites. ``None``: first solve :func:`lscp` for
        the fewest new sites that cover everything, then use that number (the
        LSCP-B variant); the time limit then applies to each of the two solves.
    options, presolve, check, max_cut_rounds
        As for :func:`coverage.optimise.lscp`.

    Returns
    -------
    PlacementResult
        ``objective`` is the weight covered at least twice;
        ``details["covered_once_weight"]`` the weight covered at least once.
    """
    options = options or SolveOptions()
    presolve = presolve or PresolveOptions()
    radius = problem.require_threshold("backup coverage")
    details: dict = {"threshold_s": radius}
    if p is None:
        first = lscp(problem, options=options, presolve=presolve, check=check,
                     max_cut_rounds=max_cut_rounds)
        if first.status != "optimal":
            return PlacementResult(
                model="backup", status="error" if first.status == "feasible" else first.status,
                message=(f"the LSCP step that sets p ended '{first.status}', so p is not "
                         f"known: {first.message}"),
                solver=first.solver, method="lscp-then-backup", solve_s=first.solve_s,
                build_s=first.build_s, uncoverable=first.uncoverable, details=details)
        p = int(round(first.objective))
        details["p_from_lscp"] = p
    p = check_p(p, "backup coverage")
    details["p"] = p
    clock = Clock(options.time_limit)
    checking = rules_active(problem, check)
    method = "cover+lazy-cuts" if checking else "cover"
    with clock.building():
        rows = cover_rows(problem, radius, classify(problem), need=2, options=presolve,
                          drop_uncoverable=True, dominance=False)
    reason = precheck(problem, p)
    if reason:
        return precheck_failure(problem, model="backup", method=method, options=options,
                                reason=reason, uncoverable=rows.uncoverable, details=details)
    cols = rows.cols
    A = within(problem.cost, radius)

    def build(cuts: list) -> Built:
        lp = pulp.LpProblem("backup", pulp.LpMaximize)
        x = make_vars(lp, cols)
        u = [new_var(lp, f"u_{g:07d}", 0, 1) for g in range(rows.n_rows)]
        lp.setObjective(pulp.LpAffineExpression(
            [(u[g], float(rows.weight[g])) for g in range(rows.n_rows) if rows.weight[g] > 0]))
        add_cover_once(lp, rows, x)
        for g in range(rows.n_rows):
            if rows.weight[g] > 0:
                expr = pulp.LpAffineExpression([(u[g], 1)] + [(v, -1) for v, _ in
                                                               row_terms(rows, x, g)])
                lp.addConstraint(expr <= int(rows.n_const[g]) - 1, f"backup_{g:07d}")
        add_site_constraints(lp, x, problem, cols, p)
        return Built(lp, x, cols, constant=rows.settled_weight,
                     impossible=add_cuts(lp, x, cols, cuts))

    def twice(mask: np.ndarray, _: np.ndarray) -> float:
        count = A @ mask.astype(np.int64)
        return float(problem.weights[count >= 2].sum())

    state = run_rounds(problem, build, options, clock, check, initial_cuts(problem, clock),
                       max_cut_rounds)
    result = finish(
        problem, model="backup", method=method, options=options, clock=clock, state=state,
        evaluate=twice, uncoverable=rows.uncoverable, presolve=rows.report, details=details,
        infeasible_hint=(f"No choice of at most p={p} new sites covers every coverable demand "
                         "point once under the given options; run lscp for the fewest "
                         "sites needed, or relax budget / type limits."),
    )
    if result.first_due is None:
        return result
    once = float(problem.weights[result.first_due <= radius].sum())
    return replace(result, details={**result.details, "covered_once_weight": once})
