"""Build → solve → check rules → cut → re-solve, and turn the outcome into a result.

Every MILP model (LSCP, MCLP, backup, p-median, p-center assignment) goes
through :func:`run_rounds` then :func:`finish`; the p-center bisection drives
:func:`run_rounds` once per radius probe and carries the cuts between probes.
With the district-area rule on, the first model already holds the cuts of
:func:`initial_cuts` (see :mod:`coverage.optimise.rules`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pulp

from coverage.optimise import backend
from coverage.optimise.backend import Outcome, SolveOptions
from coverage.optimise.matrix import nearest_open
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.result import PlacementResult
from coverage.optimise.rules import Check, Violation, cut_for, seed_cuts, violations
from coverage.optimise.sites import Columns, Cut, classify, open_mask


class Clock:
    """Shared wall-clock budget for all solver runs of one model call."""

    def __init__(self, limit: float | None) -> None:
        self.start = time.perf_counter()
        self.limit = limit
        self.build_s = 0.0
        self.solve_s = 0.0
        self.solver_run_s = 0.0

    @contextmanager
    def building(self) -> Iterator[None]:
        """Count the enclosed presolve / model-building time in ``build_s``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.build_s += time.perf_counter() - t0

    def remaining(self) -> float | None:
        if self.limit is None:
            return None
        return self.limit - (time.perf_counter() - self.start)


@dataclass
class Built:
    """A model ready to solve.

    ``constant`` is added to the MILP objective to give the model objective;
    ``impossible`` is a cut that no solution can meet (found while building).
    """

    lp: pulp.LpProblem
    x: dict[int, pulp.LpVariable]
    cols: Columns
    constant: float = 0.0
    impossible: Cut | None = None


@dataclass
class Rounds:
    """Where a lazy-cut loop ended."""

    built: Built | None = None
    outcome: Outcome | None = None
    mask: np.ndarray | None = None
    rounds: int = 0
    violations: list[Violation] = field(default_factory=list)
    cuts: int = 0


def initial_cuts(problem: PlacementProblem, clock: Clock) -> list[Cut]:
    """Area cuts to put in the first model (:func:`~coverage.optimise.rules.seed_cuts`)."""
    with clock.building():
        return seed_cuts(problem, classify(problem))


def rules_active(problem: PlacementProblem, check: Check | None) -> bool:
    """True when district rules must be checked on every solution."""
    return problem.has_area_rule or check is not None


def _solve_built(built: Built, options: SolveOptions, clock: Clock) -> Outcome:
    if not built.lp.variables():
        # Presolve settled everything; PuLP would hand HiGHS an empty model.
        return Outcome("optimal", True, 0.0, 0.0, 0.0,
                       "proven optimal: presolve left nothing to decide", 0.0)
    out = backend.solve(built.lp, options, clock.remaining())
    clock.solve_s += out.wall_s
    clock.solver_run_s += out.solver_s or 0.0
    return out


def run_rounds(problem: PlacementProblem, build: Callable[[list[Cut]], Built],
               options: SolveOptions, clock: Clock, check: Check | None,
               cuts: list[Cut], max_rounds: int) -> Rounds:
    """Solve, check the district rules, add cuts for violations, re-solve.

    ``cuts`` is extended in place so that callers (the p-center bisection)
    can carry cuts from one model to the next: each cut is valid for every
    radius because it only speaks about which sites are open.
    """
    state = Rounds()
    checking = rules_active(problem, check)
    while True:
        state.rounds += 1
        state.cuts = len(cuts)
        with clock.building():
            built = build(cuts)
        state.built = built
        if built.impossible is not None:
            state.outcome = Outcome(
                "infeasible", False, None, None, None,
                f"the district rules cannot all hold: {built.impossible.reason}", 0.0)
            return state
        state.outcome = _solve_built(built, options, clock)
        if not state.outcome.has_solution:
            return state
        state.mask = open_mask(built.cols, built.x)
        state.violations = violations(problem, state.mask, check) if checking else []
        if not state.violations or state.rounds >= max_rounds:
            return state
        cuts.extend(cut_for(v, state.mask, built.cols) for v in state.violations)


def finish(problem: PlacementProblem, *, model: str, method: str, options: SolveOptions,
           clock: Clock, state: Rounds, evaluate: Callable[[np.ndarray, np.ndarray], float],
           uncoverable: np.ndarray, presolve: dict, details: dict,
           infeasible_hint: str = "") -> PlacementResult:
    """Assemble a :class:`PlacementResult` from the last round.

    The objective is recomputed from the open sites on the cost matrix by
    ``evaluate(open_mask, first_due)``; if it disagrees with the solver's
    value the result is an ``error`` rather than a silently wrong answer.
    """
    out = state.outcome
    solver = backend.solver_label(options)
    # The solver's own run time; solve_s minus this is PuLP handing the model over.
    details = {**details, "solver_run_s": clock.solver_run_s}
    if state.rounds > 1 or rules_active(problem, None):
        details["cut_rounds"] = state.rounds
        details.setdefault("cuts", state.cuts)
    common = dict(model=model, solver=solver, method=method, solve_s=clock.solve_s,
                  build_s=clock.build_s, uncoverable=uncoverable, presolve=presolve,
                  details=details)
    if out is None or not out.has_solution:
        status = "error" if out is None else out.status
        message = "no solution" if out is None else out.message
        if status == "infeasible" and infeasible_hint:
            message = f"{message}. {infeasible_hint}"
        return PlacementResult(status=status, message=message, **common)
    mask = state.mask
    first_due, site = nearest_open(problem.cost, mask)
    objective = float(evaluate(mask, first_due))
    solver_obj = out.objective + state.built.constant
    bound = None if out.bound is None else out.bound + state.built.constant
    tol = 1e-5 * max(1.0, abs(objective))
    maximise = state.built.lp.sense == pulp.LpMaximize
    # An incumbent's auxiliary variables (MCLP's z, p-median's y) need not be at their
    # best, so the sites' true objective may beat the solver's figure — never trail it.
    trails = solver_obj - objective > tol if maximise else objective - solver_obj > tol
    beats = bound is not None and (objective - bound > tol if maximise else bound - objective > tol)
    if trails or beats or (out.status == "optimal" and abs(objective - solver_obj) > tol):
        status = "error"
        message = (f"internal check failed: the sites' recomputed objective {objective:g} is "
                   f"inconsistent with the solver's {solver_obj:g} (bound {bound}); "
                   "please report this instance")
        gap = None
    else:
        gap = None if bound is None else backend.relative_gap(objective, bound)
        if gap == 0.0:
            status = "optimal"
            message = out.message if out.status == "optimal" else (
                "proven optimal: the sites' objective meets the solver's bound")
        else:
            status = "feasible"
            message = backend.incumbent_message(out.reason or out.message, gap)
    if state.violations:
        status = "error"
        message = (f"district rules still broken after {state.rounds} cut rounds (limit); "
                   "the sites returned violate them, so this is not a solution of the "
                   "constrained problem: " + "; ".join(v.message for v in state.violations))
    chosen = np.flatnonzero(mask & ~problem.is_fixed)
    return PlacementResult(
        status=status, message=message,
        chosen=tuple(int(j) for j in chosen),
        chosen_ids=tuple(problem.candidate_ids[j] for j in chosen),
        open=tuple(int(j) for j in np.flatnonzero(mask)),
        closed_existing=tuple(int(j) for j in np.flatnonzero(problem.is_fixed & ~mask)),
        objective=objective, bound=bound, gap=gap,
        first_due=first_due, first_due_site=site, violations=tuple(state.violations), **common)


def precheck_failure(problem: PlacementProblem, *, model: str, method: str,
                     options: SolveOptions, reason: str, uncoverable: np.ndarray,
                     details: dict) -> PlacementResult:
    """Result for options that contradict each other before any solve."""
    return PlacementResult(model=model, status="infeasible", message=reason,
                           solver=backend.solver_label(options), method=method,
                           uncoverable=uncoverable, details=details)
