"""p-center: p new sites minimising the worst first-due time ("shrink the radius").

Three exact methods:

``rowgen`` (default with HiGHS)
    Client row generation (Contardo, Iori & Kramer 2019): bisection over the
    distinct times of a small client subset, each probe a covering MILP on
    that subset built as arrays for highspy; clients the probe's sites leave
    too far away join the subset. See :mod:`coverage.optimise.rowgen`.
``bisection`` (default with CBC)
    The optimum is one of the distinct travel times in the matrix. Bisect over
    them; at each probe radius r solve a set-covering *feasibility* MILP ("can
    at most p new sites, with the existing stations, cover all reachable demand
    within r?") on every demand row, through PuLP.
``assignment``
    The classical formulation: min z with z ≥ Σⱼ cᵢⱼ yᵢⱼ, Σⱼ yᵢⱼ = 1, yᵢⱼ ≤ xⱼ,
    on the sparse support. Kept to cross-check the bisection.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pulp
from tqdm.auto import tqdm

from coverage.optimise import backend
from coverage.optimise.assign import add_assignment, assignment_start
from coverage.optimise.backend import SolveOptions
from coverage.optimise.cover import add_cover_once
from coverage.optimise.heuristic import pcenter_incumbent
from coverage.optimise.matrix import nearest_open
from coverage.optimise.presolve import PresolveOptions, assign_rows, cover_rows
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.result import PlacementResult
from coverage.optimise.rowgen import pcenter_rowgen
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
from coverage.optimise.served import first_due, nearest_available
from coverage.optimise.sites import (
    Columns,
    Cut,
    add_cuts,
    add_site_constraints,
    check_p,
    classify,
    effective_p,
    make_vars,
    new_var,
    precheck,
)

METHODS = ("rowgen", "bisection", "assignment")


def pcenter(problem: PlacementProblem, p: int, *, method: str | None = None,
            options: SolveOptions | None = None, presolve: PresolveOptions | None = None,
            check: Check | None = None, max_cut_rounds: int = 20) -> PlacementResult:
    """At most ``p`` new sites minimising the largest first-due time over demand.

    Every demand row that some available site reaches within the matrix cutoff
    counts, whatever its weight; rows no site reaches are reported in
    ``uncoverable``. Existing stations serve demand in every solution.
    ``problem.threshold`` is not used.

    Parameters
    ----------
    problem : PlacementProblem
    p : int
        Largest number of new sites (forced ones included).
    method : {"rowgen", "bisection", "assignment"}, optional
        See the module docstring. Default: ``rowgen`` with HiGHS, ``bisection``
        with CBC (``rowgen`` runs on HiGHS only).
    options, presolve, check, max_cut_rounds
        As for :func:`coverage.optimise.lscp`. With ``bisection`` the time
        limit covers all probes; the cut-round limit applies per probe.

    Returns
    -------
    PlacementResult
        ``objective``: worst first-due time (seconds) of the returned sites;
        ``bound``: proven lower bound. ``details["probes"]`` lists the
        bisection probes ``(radius_s, outcome)`` (``rowgen``: with the client
        subset's size).
    """
    options = options or SolveOptions()
    method = method or ("rowgen" if options.solver == "highs" else "bisection")
    if method not in METHODS:
        raise ValueError(f"unknown p-center method {method!r}; use one of {METHODS}")
    if method == "rowgen" and options.solver != "highs":
        raise ValueError("the rowgen method runs on HiGHS; use method='bisection' with CBC")
    presolve = presolve or PresolveOptions()
    p = check_p(p, "p-center")
    details: dict = {"p": p}
    p = effective_p(problem, p, details)
    cols = classify(problem)
    reachable = np.isfinite(nearest_available(problem.cost, cols.available))
    uncoverable = np.flatnonzero(~reachable)
    checking = rules_active(problem, check)
    label = method + ("+lazy-cuts" if checking else "")
    reason = precheck(problem, p)
    if reason:
        return precheck_failure(problem, model="pcenter", method=label, options=options,
                                reason=reason, uncoverable=uncoverable, details=details)

    def worst(_: np.ndarray, fd: np.ndarray) -> float:
        return float(fd[reachable].max(initial=0.0))

    hint = (f"No choice of at most p={p} new sites (under the given options) gives every "
            "reachable demand point an open site within the matrix cutoff; widen the cutoff "
            "or raise p.")
    if method == "rowgen":
        return _rowgen(problem, p, cols, reachable, options, check, max_cut_rounds, label,
                       uncoverable, details, hint)
    if method == "assignment":
        return _assignment(problem, p, cols, options, presolve, check, max_cut_rounds, label,
                           worst, uncoverable, details, hint)
    return _bisection(problem, p, cols, reachable, options, presolve, check, max_cut_rounds,
                      label, worst, uncoverable, details, hint)


def _assignment(problem, p, cols, options, presolve, check, max_cut_rounds, label, worst,
                uncoverable, details, hint) -> PlacementResult:
    clock = Clock(options.time_limit)
    with clock.building():
        rows = assign_rows(problem, cols, options=presolve, weighted=False)
        reachable = np.ones(problem.n_demand, dtype=bool)
        reachable[uncoverable] = False
        incumbent = usable_incumbent(problem, pcenter_incumbent(
            problem, cols, p, deadline=clock.deadline(0.25)), check, clock,
            lambda mask: _worst_served(problem, mask, reachable))

    def build(cuts: list) -> Built:
        lp = pulp.LpProblem("pcenter", pulp.LpMinimize)
        x = make_vars(lp, cols)
        z = new_var(lp, "z", rows.settled_max)
        lp.setObjective(pulp.LpAffineExpression([(z, 1)]))
        per_row = add_assignment(lp, rows, x)
        for g, pairs in enumerate(per_row):
            lp.addConstraint(pulp.LpAffineExpression([(y, c) for y, c in pairs] + [(z, -1)])
                             <= 0, f"worst_{g:07d}")
        add_site_constraints(lp, x, problem, cols, p)

        def aux_start(mask: np.ndarray) -> dict:
            start = assignment_start(rows, per_row, mask)
            start[z] = max([rows.settled_max] + [
                c for pairs in per_row for y, c in pairs if start.get(y, 0.0) > 0.5])
            return start

        return Built(lp, x, cols, impossible=add_cuts(lp, x, cols, cuts), aux_start=aux_start)

    state = run_rounds(problem, build, options, clock, check, initial_cuts(problem, clock),
                       max_cut_rounds, incumbent)
    return finish(problem, model="pcenter", method=label, options=options, clock=clock,
                  state=state, evaluate=worst, uncoverable=uncoverable,
                  presolve=rows.report, details=details, infeasible_hint=hint, maximise=False)


def _rowgen(problem, p, cols: Columns, reachable, options, check, max_cut_rounds, label,
            uncoverable, details, hint) -> PlacementResult:
    clock = Clock(options.time_limit)
    checking = rules_active(problem, check)
    with clock.building():
        incumbent = usable_incumbent(problem, pcenter_incumbent(
            problem, cols, p, deadline=clock.deadline(0.25)), check, clock,
            lambda mask: _worst_served(problem, mask, reachable))
    cuts: list[Cut] = initial_cuts(problem, clock)
    deadline = None if clock.limit is None else clock.start + clock.limit
    bar = tqdm(desc="p-center row generation", unit="probe", disable=None, leave=False)

    def progress(lo: float, hi: float, clients: int) -> None:
        bar.set_postfix(lo=f"{lo:.4g}", hi=f"{hi:.4g}", clients=clients, refresh=False)
        bar.update()

    t0 = time.perf_counter()
    out = pcenter_rowgen(problem, p, cols, reachable, options, deadline, check, cuts,
                         incumbent, checking, max_cut_rounds, progress)
    bar.close()
    clock.solve_s += time.perf_counter() - t0
    details = {**details, "probes": out.probes, "clients_in_subset": out.clients,
               "milp_solves": out.solves, "cuts": len(cuts)}
    if incumbent is not None:
        details["heuristic"] = {"method": incumbent.method, "objective": incumbent.objective,
                                "seconds": round(incumbent.seconds, 3)}
    common = dict(model="pcenter", solver=backend.solver_label(options), method=label,
                  solve_s=clock.solve_s, build_s=clock.build_s, uncoverable=uncoverable)
    if out.status == "infeasible":
        return PlacementResult(status="infeasible", message=f"{out.message}. {hint}",
                               details=details, **common)
    if out.mask is None:
        if out.violations and out.broken_mask is not None:
            return placement(
                problem, out.broken_mask, status="error", bound=out.bound, details=details,
                violations=tuple(out.violations),
                message=("district rules still broken after the cut-round limit; no "
                         "rule-abiding solution was found, and the sites returned violate "
                         "them: " + "; ".join(v.message for v in out.violations)), **common)
        return PlacementResult(
            status="error", bound=out.bound, details=details, **common,
            message=("no solution found within the time limit and no heuristic solution "
                     "either; raise the time limit"))
    radius = _worst_served(problem, out.mask, reachable)
    details["solution_from"] = out.source
    if radius is None or abs(radius - out.objective) > 1e-9 * max(1.0, radius) or (
            out.bound is not None and out.bound > radius + 1e-9 * max(1.0, radius)):
        return placement(problem, out.mask, status="error", objective=radius, bound=out.bound,
                         details=details, message=(
                             f"internal check failed: recomputed worst time {radius}, row "
                             f"generation's {out.objective:g}, bound {out.bound}; please "
                             "report this instance"), **common)
    bound = out.bound
    if out.status == "optimal":
        status, gap = "optimal", 0.0
        message = (f"proven optimal by client row generation ({len(out.probes)} probes, "
                   f"{out.clients} of {int(reachable.sum())} demand rows in the final subset, "
                   f"starting from the heuristic's "
                   f"{'-' if incumbent is None else f'{incumbent.objective:g}'} s)")
    else:
        status = "feasible"
        gap = (radius - bound) / radius if radius else math.inf
        message = (f"row generation stopped early ({out.message}); the sites returned (from "
                   f"the {out.source}) reach all demand within {radius:g} s, the optimum is "
                   f"at least {bound:g} s")
    return placement(problem, out.mask, status=status, message=message, objective=radius,
                     bound=bound, gap=gap, details=details, **common)


def _bisection(problem, p, cols: Columns, reachable, options, presolve, check,
               max_cut_rounds, label, worst, uncoverable, details, hint) -> PlacementResult:
    clock = Clock(options.time_limit)
    with clock.building():
        lo_val = float(nearest_open(problem.cost, cols.available)[0][reachable].max(initial=0.0))
        incumbent = usable_incumbent(problem, pcenter_incumbent(
            problem, cols, p, deadline=clock.deadline(0.25)), check, clock,
            lambda mask: _worst_served(problem, mask, reachable))
        data = problem.cost.data[cols.available[problem.cost.indices]]
        # Only the distinct times between the lower bound and the incumbent's worst time
        # can be the optimum; at least one value, so that demand nobody reaches still
        # gets one (trivial) probe.
        keep = data >= lo_val
        if incumbent is not None:
            keep &= data <= incumbent.objective
        values = np.unique(np.append(data[keep], lo_val))
        lo = 0
        hi = values.size - 1
    if incumbent is not None:
        details = {**details, "heuristic": {"method": incumbent.method,
                                            "objective": incumbent.objective,
                                            "seconds": round(incumbent.seconds, 3)}}
    checking = rules_active(problem, check)
    cuts: list[Cut] = initial_cuts(problem, clock)
    probes: list[tuple[float, str]] = []
    # (radius, open mask, presolve report, where it came from)
    best = None if incumbent is None else (incumbent.objective, incumbent.mask, {}, "heuristic")
    if best is not None:
        hi = int(np.searchsorted(values, best[0]))
    last = None
    stop_reason = ""

    def probe(radius: float):
        with clock.building():
            rows = cover_rows(problem, radius, cols, need=1, options=presolve,
                              drop_uncoverable=True, dominance=not checking)
        pc = rows.cols

        def build(cut_list: list) -> Built:
            lp = pulp.LpProblem("pcenter_probe", pulp.LpMinimize)
            x = make_vars(lp, pc)
            # Feasibility only: a zero objective lets the solver stop at the first
            # covering set instead of proving a minimum count.
            lp.setObjective(pulp.LpAffineExpression())
            add_cover_once(lp, rows, x)
            add_site_constraints(lp, x, problem, pc, p)
            return Built(lp, x, pc, impossible=add_cuts(lp, x, pc, cut_list))

        return run_rounds(problem, build, options, clock, check, cuts, max_cut_rounds), rows

    # disable=None: a bar on a terminal, silent in logs and tests.
    bar = tqdm(desc="p-center bisection", unit="probe", disable=None, leave=False)
    below = False  # whether the next probe goes just below the incumbent's radius
    while True:
        if best is not None and lo >= hi:
            break
        if clock.remaining() is not None and clock.remaining() <= 0:
            stop_reason = "time limit reached"
            break
        # After a probe finds a covering set, try the value just below its worst time:
        # near the optimum one infeasible probe there proves optimality, where plain
        # bisection would spend many hard probes narrowing the interval.
        mid = hi if best is None else (hi - 1 if below else (lo + hi) // 2)
        bar.set_postfix(lo=f"{values[lo]:.4g}", hi=f"{values[hi]:.4g}", refresh=False)
        bar.update()
        state, rows = probe(float(values[mid]))
        last = state
        out = state.outcome
        if out is not None and out.has_solution and not state.violations \
                and state.mask is not None:
            fd, _ = nearest_open(problem.cost, state.mask)
            r = float(fd[reachable].max(initial=0.0))
            probes.append((float(values[mid]), f"covered, worst {r:g} s"))
            below = best is not None and not below
            if best is None or r < best[0]:
                best = (r, state.mask, rows.report, "solver")
            hi = int(np.searchsorted(values, best[0]))
            continue
        if out is not None and out.status == "infeasible":
            probes.append((float(values[mid]), "infeasible"))
            if best is None:
                break
            lo, below = mid + 1, False
            continue
        probes.append((float(values[mid]), "time limit" if state.timed_out else
                       (out.status if out is not None else "not run")))
        stop_reason = ("time limit reached" if state.timed_out and not state.violations else
                       "district rules still broken after the cut-round limit"
                       if state.violations else out.message)
        break
    bar.close()
    details = {**details, "probes": probes, "cuts": len(cuts),
               "solver_run_s": clock.solver_run_s}
    if best is None:
        if last is None:
            return PlacementResult(
                model="pcenter", status="error", method=label,
                solver=backend.solver_label(options),
                message=("no solution found within the time limit and no heuristic solution "
                         "either; raise the time limit"), solve_s=clock.solve_s,
                build_s=clock.build_s, uncoverable=uncoverable, details=details)
        return finish(problem, model="pcenter", method=label, options=options, clock=clock,
                      state=last, evaluate=worst, uncoverable=uncoverable, presolve={},
                      details=details, infeasible_hint=hint, maximise=False)
    radius, mask, report, source = best
    bound = float(values[lo])
    if lo >= hi:
        message = (f"proven optimal by bisection over {values.size} candidate radii "
                   f"({len(probes)} probes, starting from the {source}'s {radius:g} s)")
        status, gap = "optimal", 0.0
    else:
        message = (f"bisection stopped early ({stop_reason}); the sites returned (from the "
                   f"{source}) reach all demand within {radius:g} s, the optimum is at least "
                   f"{bound:g} s")
        status = "feasible"
        gap = (radius - bound) / radius if radius else math.inf
    details["solution_from"] = source
    return placement(problem, mask, model="pcenter", status=status, message=message,
                     solver=backend.solver_label(options), method=label, objective=radius,
                     bound=bound, gap=gap, solve_s=clock.solve_s, build_s=clock.build_s,
                     uncoverable=uncoverable, presolve=report, details=details)


def _worst_served(problem: PlacementProblem, mask: np.ndarray, reachable: np.ndarray
                  ) -> float | None:
    """Worst first-due time over reachable rows, or None if one is left unserved."""
    fd, _ = first_due(problem.cost, mask, want_site=False)
    if np.isinf(fd[reachable]).any():
        return None
    return float(fd[reachable].max(initial=0.0))
