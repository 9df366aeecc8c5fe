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
from coverage.optimise.heuristic import Incumbent
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

    def deadline(self, share: float) -> float | None:
        """``perf_counter`` value when ``share`` of the limit is used (None without a limit)."""
        return None if self.limit is None else self.start + share * self.limit


@dataclass
class Built:
    """A model ready to solve.

    ``constant`` is added to the MILP objective to give the model objective;
    ``impossible`` is a cut that no solution can meet (found while building);
    ``aux_start`` gives, for a set of open columns, the values of the model's
    other variables (MCLP's z, p-median's y), so that a heuristic incumbent can
    be handed to the solver as a complete starting solution.
    """

    lp: pulp.LpProblem
    x: dict[int, pulp.LpVariable]
    cols: Columns
    constant: float = 0.0
    impossible: Cut | None = None
    aux_start: Callable[[np.ndarray], dict] | None = None


@dataclass
class Rounds:
    """Where a lazy-cut loop ended.

    ``bound`` is the best proven bound on the model objective over all rounds:
    each round's model is a relaxation of the rule-constrained problem (its cuts
    remove only rule-breaking site sets), so each round's bound is valid.
    ``incumbent`` is the best rule-abiding solution known before the loop (the
    heuristic), kept whatever the later rounds do.
    """

    built: Built | None = None
    outcome: Outcome | None = None
    mask: np.ndarray | None = None
    rounds: int = 0
    violations: list[Violation] = field(default_factory=list)
    cuts: int = 0
    bound: float | None = None
    incumbent: Incumbent | None = None
    timed_out: bool = False


def initial_cuts(problem: PlacementProblem, clock: Clock) -> list[Cut]:
    """Area cuts to put in the first model (:func:`~coverage.optimise.rules.seed_cuts`).

    Seeding counts against the time limit (it is model building): it stops
    early, keeping the cuts made so far, when half the limit is used up. The
    cuts are optional strengthening; the lazy-cut loop enforces the rule.
    """
    with clock.building():
        return seed_cuts(problem, classify(problem), deadline=clock.deadline(0.5))


def rules_active(problem: PlacementProblem, check: Check | None) -> bool:
    """True when district rules must be checked on every solution."""
    return problem.has_area_rule or check is not None


def usable_incumbent(problem: PlacementProblem, incumbent: Incumbent | None,
                     check: Check | None, clock: Clock,
                     evaluate: Callable[[np.ndarray], float | None] | None = None
                     ) -> Incumbent | None:
    """The heuristic incumbent, repaired to obey the district rules, or None.

    With rules on, the incumbent is checked; while it breaks them, the new
    sites at fault close (a site closing can only grow its neighbours'
    districts, so this repeats until the rules hold or no new site is left).
    ``evaluate(mask)`` gives the repaired set's objective, or None when it is
    no longer a solution of the model (then there is no incumbent; without
    ``evaluate`` no repair is tried — LSCP needs every site it opened).
    """
    if incumbent is None or not rules_active(problem, check):
        return incumbent
    with clock.building():
        mask = incumbent.mask.copy()
        cols = classify(problem)
        found = violations(problem, mask, check)
        if not found:
            return incumbent
        if evaluate is None:
            return None
        while found:
            fault = [v.site for v in found if cols.var[v.site] and mask[v.site]]
            if not fault:
                return None
            mask[fault] = False
            found = violations(problem, mask, check)
        value = evaluate(mask)
    if value is None:
        return None
    return Incumbent(mask, float(value), incumbent.method + " (repaired for the district rules)",
                     incumbent.seconds)


def _solve_built(built: Built, options: SolveOptions, clock: Clock,
                 start: dict | None = None) -> Outcome:
    if not built.lp.variables():
        # Presolve settled everything; PuLP would hand HiGHS an empty model.
        return Outcome("optimal", True, 0.0, 0.0, 0.0,
                       "proven optimal: presolve left nothing to decide", 0.0)
    out = backend.solve(built.lp, options, clock.remaining(), start)
    clock.solve_s += out.wall_s
    clock.solver_run_s += out.solver_s or 0.0
    return out


def _start_values(built: Built, mask: np.ndarray, solver: str) -> dict | None:
    """Solver start from an incumbent, or None if it does not fit this model's columns.

    HiGHS gets the site variables only and completes the rest itself: with a
    complete start (auxiliary variables too) highspy 1.16 was seen to credit
    the start with a wrong objective and stop early (our gap check then caught
    it). CBC gets the complete solution, as its ``warmStart`` expects.
    """
    extra = mask & ~built.cols.const_open
    if any(j not in built.x for j in np.flatnonzero(extra)):
        return None  # it opens a column presolve removed
    start = {v: float(mask[j]) for j, v in built.x.items()}
    if built.aux_start is not None and solver != "highs":
        start.update(built.aux_start(mask))
    return start


def _better_bound(old: float | None, new: float | None, maximise: bool) -> float | None:
    if new is None or not np.isfinite(new):
        return old
    if old is None:
        return new
    return min(old, new) if maximise else max(old, new)


def run_rounds(problem: PlacementProblem, build: Callable[[list[Cut]], Built],
               options: SolveOptions, clock: Clock, check: Check | None,
               cuts: list[Cut], max_rounds: int,
               incumbent: Incumbent | None = None, bound: float | None = None) -> Rounds:
    """Solve, check the district rules, add cuts for violations, re-solve.

    ``cuts`` is extended in place so that callers (the p-center bisection)
    can carry cuts from one model to the next: each cut is valid for every
    radius because it only speaks about which sites are open. Every solve
    starts from ``incumbent`` (a rule-abiding solution) when given. When the
    time limit ends the loop, the last round has ``timed_out`` set and the
    caller returns the incumbent with the best bound of all rounds. ``bound``
    is a valid bound known before the loop (e.g. from a set search), kept if no
    round proves a better one.
    """
    state = Rounds(incumbent=incumbent, bound=bound)
    checking = rules_active(problem, check)
    while True:
        if state.rounds and clock.remaining() is not None and clock.remaining() <= 0:
            state.timed_out = True
            return state
        state.rounds += 1
        state.cuts = len(cuts)
        with clock.building():
            built = build(cuts)
        state.built = built
        if built.impossible is not None:
            state.outcome = Outcome(
                "infeasible", False, None, None, None,
                f"the district rules cannot all hold: {built.impossible.reason}", 0.0)
            state.mask = None
            return state
        start = (None if incumbent is None
                 else _start_values(built, incumbent.mask, options.solver))
        out = _solve_built(built, options, clock, start)
        state.outcome = out
        maximise = built.lp.sense == pulp.LpMaximize
        if out.bound is not None:
            state.bound = _better_bound(state.bound, out.bound + built.constant, maximise)
        if out.reason == backend.NOT_STARTED or (
                not out.has_solution and out.status not in ("infeasible", "unbounded")
                and clock.remaining() is not None and clock.remaining() <= 0):
            state.timed_out = True
            state.mask = None
            return state
        if not out.has_solution:
            state.mask = None
            return state
        state.mask = open_mask(built.cols, built.x)
        state.violations = violations(problem, state.mask, check) if checking else []
        if not state.violations or state.rounds >= max_rounds:
            return state
        if out.status != "optimal":
            # A time-limited round broke the rules: its incumbent is no answer, and
            # another round has no time to find a better one.
            state.timed_out = clock.remaining() is not None and clock.remaining() <= 0
            if state.timed_out:
                return state
        cuts.extend(cut_for(v, state.mask, built.cols) for v in state.violations)


def placement(problem: PlacementProblem, mask: np.ndarray, **fields) -> PlacementResult:
    """A :class:`PlacementResult` for the open columns ``mask`` (first-due times recomputed)."""
    first_due, site = nearest_open(problem.cost, mask)
    chosen = np.flatnonzero(mask & ~problem.is_fixed)
    return PlacementResult(
        chosen=tuple(int(j) for j in chosen),
        chosen_ids=tuple(problem.candidate_ids[j] for j in chosen),
        open=tuple(int(j) for j in np.flatnonzero(mask)),
        closed_existing=tuple(int(j) for j in np.flatnonzero(problem.is_fixed & ~mask)),
        first_due=first_due, first_due_site=site, **fields)


def finish(problem: PlacementProblem, *, model: str, method: str, options: SolveOptions,
           clock: Clock, state: Rounds, evaluate: Callable[[np.ndarray, np.ndarray], float],
           uncoverable: np.ndarray, presolve: dict, details: dict,
           infeasible_hint: str = "", maximise: bool | None = None) -> PlacementResult:
    """Assemble a :class:`PlacementResult` from the last round and the incumbent.

    The objective is recomputed from the open sites on the cost matrix by
    ``evaluate(open_mask, first_due)``; if it disagrees with the solver's
    value the result is an ``error`` rather than a silently wrong answer. The
    returned sites are the better of the solver's last rule-abiding solution
    and the heuristic incumbent; the bound is the best over all rounds. A
    time limit therefore never drops a solution found earlier: the answer is
    ``feasible`` with its bound and gap, and ``error`` only when no solution
    at all was found (the message then says so).
    """
    out = state.outcome
    solver = backend.solver_label(options)
    # The solver's own run time; solve_s minus this is PuLP handing the model over.
    details = {**details, "solver_run_s": clock.solver_run_s}
    if state.rounds > 1 or rules_active(problem, None):
        details["cut_rounds"] = state.rounds
        details.setdefault("cuts", state.cuts)
    inc = state.incumbent
    if inc is not None:
        details["heuristic"] = {"method": inc.method, "objective": inc.objective,
                                "seconds": round(inc.seconds, 3)}
    if maximise is None:
        maximise = state.built is not None and state.built.lp.sense == pulp.LpMaximize
    common = dict(model=model, solver=solver, method=method, solve_s=clock.solve_s,
                  build_s=clock.build_s, uncoverable=uncoverable, presolve=presolve,
                  details=details)
    if out is not None and out.status == "infeasible":
        message = out.message + (f". {infeasible_hint}" if infeasible_hint else "")
        return PlacementResult(status="infeasible", message=message, **common)
    bound = state.bound
    solved = (out is not None and out.has_solution and state.mask is not None
              and not state.violations)
    mask = objective = None
    source = ""
    if solved:
        mask = state.mask
        first_due, _ = nearest_open(problem.cost, mask)
        objective = float(evaluate(mask, first_due))
        solver_obj = out.objective + state.built.constant
        tol = 1e-5 * max(1.0, abs(objective))
        # An incumbent's auxiliary variables (MCLP's z, p-median's y) need not be at their
        # best, so the sites' true objective may beat the solver's figure — never trail it.
        trails = solver_obj - objective > tol if maximise else objective - solver_obj > tol
        beats = bound is not None and (objective - bound > tol if maximise
                                       else bound - objective > tol)
        if trails or beats or (out.status == "optimal" and abs(objective - solver_obj) > tol):
            return placement(
                problem, mask, status="error", objective=objective, bound=bound,
                message=(f"internal check failed: the sites' recomputed objective {objective:g} "
                         f"is inconsistent with the solver's {solver_obj:g} (bound {bound}); "
                         "please report this instance"), **common)
        source = "solver"
    if inc is not None and (objective is None or (inc.objective > objective if maximise
                                                  else inc.objective < objective)):
        mask, objective, source = inc.mask, inc.objective, "heuristic"
    if mask is None:
        if state.violations and state.mask is not None:
            return placement(
                problem, state.mask, status="error", objective=None, bound=bound,
                violations=tuple(state.violations),
                message=(f"district rules still broken after {state.rounds} cut rounds "
                         f"({'time limit' if state.timed_out else 'round limit'}); no "
                         "rule-abiding solution was found, and the sites returned violate "
                         "them: " + "; ".join(v.message for v in state.violations)), **common)
        if state.timed_out or (out is not None and out.reason):
            why = (f"no solution found within the time limit of {options.time_limit:g} s"
                   if options.time_limit is not None else "no solution found")
            message = (f"{why} ({state.rounds} solver round(s)); no heuristic solution either. "
                       "Raise the time limit.")
        else:
            message = "no solution" if out is None else out.message
        return PlacementResult(status="error", message=message, bound=bound, **common)
    gap = None if bound is None else backend.relative_gap(objective, bound)
    if gap == 0.0:
        status = "optimal"
        message = (out.message if source == "solver" and out.status == "optimal" else
                   "proven optimal: the sites' objective meets the best bound")
    else:
        status = "feasible"
        if state.timed_out:
            why = (f"time limit reached after {state.rounds} solver round(s); best solution "
                   f"found is the {source}'s")
        elif source == "heuristic":
            why = ("the solver found nothing better than the heuristic"
                   + (f" ({out.reason or out.message})" if out is not None else ""))
        else:
            why = out.reason or out.message
        message = backend.incumbent_message(why, gap)
    details["solution_from"] = source
    return placement(problem, mask, status=status, message=message, objective=objective,
                     bound=bound, gap=gap, **common)


def precheck_failure(problem: PlacementProblem, *, model: str, method: str,
                     options: SolveOptions, reason: str, uncoverable: np.ndarray,
                     details: dict) -> PlacementResult:
    """Result for options that contradict each other before any solve."""
    return PlacementResult(model=model, status="infeasible", message=reason,
                           solver=backend.solver_label(options), method=method,
                           uncoverable=uncoverable, details=details)
