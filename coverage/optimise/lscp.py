"""Location set covering (LSCP): the fewest new sites that cover all coverable demand."""

from __future__ import annotations

import numpy as np
import pulp

from coverage.optimise.arrays import (
    ArrayModel,
    add_cut_rows,
    cover_matrix,
    site_columns,
    site_rows,
    take_rows,
)
from coverage.optimise.backend import SolveOptions, model_build
from coverage.optimise.cover import add_cover_once
from coverage.optimise.heuristic import lscp_incumbent
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
    usable_incumbent,
)
from coverage.optimise.sites import add_cuts, add_site_constraints, classify, make_vars, precheck


def lscp(problem: PlacementProblem, *, options: SolveOptions | None = None,
         presolve: PresolveOptions | None = None, check: Check | None = None,
         max_cut_rounds: int = 20, build: str | None = None) -> PlacementResult:
    """Fewest new sites so that every coverable demand row is within the threshold.

    Minimise the number of new sites such that each demand row that some
    available site can reach within ``problem.threshold`` seconds is covered
    by at least one open site (existing stations count). Rows no site can
    reach are reported in ``uncoverable`` instead of making the model
    infeasible. Weights are not used: every row must be covered.

    Parameters
    ----------
    problem : PlacementProblem
        Needs ``threshold``. Budget, type limits, forced sites and closing
        options apply.
    options : SolveOptions, optional
        Solver, time limit, gap, threads. The time limit covers presolve, the
        heuristic, seed cuts and model building as well as every solver round
        (see :class:`~coverage.optimise.SolveOptions`); a solution found before
        it ran out is returned as ``feasible`` with the best bound.
    presolve : PresolveOptions, optional
        Which exact reductions to apply.
    check : callable, optional
        Extra district rule ``check(open_indices) -> list[Violation]``.
    max_cut_rounds : int
        Limit of the solve–check–cut loop used for district rules.
    build : {"arrays", "pulp"}, optional
        ``"arrays"`` builds the model with NumPy and passes it to HiGHS in one
        call (default with HiGHS); ``"pulp"`` builds the PuLP model (default
        with CBC, and the cross-check). Both give the same optimum.

    Returns
    -------
    PlacementResult
        ``objective`` is the number of new sites (forced ones included).
    """
    options = options or SolveOptions()
    presolve = presolve or PresolveOptions()
    build = model_build(build, options)
    radius = problem.require_threshold("LSCP")
    clock = Clock(options.time_limit)
    checking = rules_active(problem, check)
    method = "cover+lazy-cuts" if checking else "cover"
    with clock.building():
        rows = cover_rows(problem, radius, classify(problem), need=1, options=presolve,
                          drop_uncoverable=True, dominance=not checking)
    details = {"threshold_s": radius}
    reason = precheck(problem, None)
    if reason:
        return precheck_failure(problem, model="lscp", method=method, options=options,
                                reason=reason, uncoverable=rows.uncoverable, details=details)
    cols = rows.cols
    n_forced_new = sum(1 for j in problem.force_open if cols.new[j])
    with clock.building():
        incumbent = usable_incumbent(problem, lscp_incumbent(problem, classify(problem), radius),
                                     check, clock)

    def build_arrays(cuts: list) -> Built:
        model = ArrayModel("lscp", pulp.LpMinimize)
        xcol, x = site_columns(model, cols, cost=cols.new.astype(np.float64))
        need = 1 - rows.n_const
        has = np.diff(rows.indptr) > 0
        # A row with no variable and need > 0 stays, empty, so HiGHS proves infeasibility.
        keep = np.flatnonzero((need > 0) | has)
        ip, ix = take_rows(rows.indptr, rows.indices, keep)
        starts, index, value = cover_matrix(ip, ix, xcol)
        model.add_rows(need[keep].astype(float), np.full(keep.size, np.inf), starts, index,
                       value)
        site_rows(model, problem, cols, xcol, None)
        return Built(model, x, cols, constant=float(n_forced_new),
                     impossible=add_cut_rows(model, xcol, cols, cuts))

    def build_pulp(cuts: list) -> Built:
        lp = pulp.LpProblem("lscp", pulp.LpMinimize)
        x = make_vars(lp, cols)
        lp.setObjective(pulp.LpAffineExpression([(v, 1) for j, v in x.items() if cols.new[j]]))
        add_cover_once(lp, rows, x)
        add_site_constraints(lp, x, problem, cols, None)
        return Built(lp, x, cols, constant=float(n_forced_new),
                     impossible=add_cuts(lp, x, cols, cuts))

    details["build"] = build
    state = run_rounds(problem, build_arrays if build == "arrays" else build_pulp, options, clock, check, initial_cuts(problem, clock),
                       max_cut_rounds, incumbent)
    return finish(
        problem, model="lscp", method=method, options=options, clock=clock, state=state,
        evaluate=lambda mask, _: float((mask & ~problem.is_fixed).sum()),
        uncoverable=rows.uncoverable, presolve=rows.report, details=details, maximise=False,
        infeasible_hint=(
            ("No set of new sites covers every coverable demand point within "
             f"{radius:g} s while every district rule holds (with the 建标152 rules: each "
             "small station's district within its area cap and bordering a full station's "
             "district) and the site options are met; relax the rules or the options, or "
             "use mclp to cover the most demand under the rules.") if checking else
            ("No set of new sites meets the budget / type limits / closing "
             "options and still covers every coverable demand point; relax them.")),
    )

