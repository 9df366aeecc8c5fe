"""Run a PuLP model on HiGHS or CBC and state the outcome honestly.

PuLP reports status 1 ("Optimal") for a time-limited incumbent, for both HiGHS
and CBC. This module instead reads each solver's own verdict — HiGHS's model
status, primal solution status and MIP dual bound through ``lp.solverModel``;
CBC's ``Result -`` line and bound from its log file — and calls a solution
``optimal`` only when the solver says so *and* the incumbent meets the best
bound (relative gap ≤ :data:`OPTIMAL_GAP`).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import cache

import pulp

from coverage.errors import InputError

#: Largest relative gap still called "optimal" (solver tolerances, not a gap limit).
OPTIMAL_GAP = 1e-6

SOLVERS = ("highs", "cbc")


@dataclass(frozen=True)
class SolveOptions:
    """How to run the MILP solver.

    Attributes
    ----------
    solver : {"highs", "cbc"}
        HiGHS through highspy (default) or the CBC binary bundled with PuLP.
    time_limit : float, optional
        Wall-clock seconds for the whole model call: presolve, the heuristic
        incumbent, district-rule seed cuts (which stop at half the limit),
        model building, and every solver run of the lazy-cut rounds,
        bisection probes or Benders iterations. When it runs out the best
        solution found so far is returned as ``feasible`` with the best bound;
        never ``error`` when a solution exists. ``None`` = no limit.
    mip_gap : float
        Relative gap at which the solver may stop. The default 0 asks for a
        proof of optimality; a positive value may end with status ``feasible``.
    threads : int, optional
        Solver threads (``None`` = solver default).
    msg : bool
        Show the solver log.
    """

    solver: str = "highs"
    time_limit: float | None = None
    mip_gap: float = 0.0
    threads: int | None = None
    msg: bool = False

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise InputError(f"unknown solver {self.solver!r}", source="solver",
                             fix=f"use one of {SOLVERS}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise InputError(f"time_limit {self.time_limit!r} must be > 0 seconds",
                             source="time_limit")
        if not 0 <= self.mip_gap < 1:
            raise InputError(f"mip_gap {self.mip_gap!r} must be in [0, 1)", source="mip_gap")


@dataclass(frozen=True)
class Outcome:
    """What one solver run established, in the model's own objective sense.

    ``objective`` and ``bound`` exclude any constant the model builder kept
    outside the MILP.
    """

    status: str
    has_solution: bool
    objective: float | None
    bound: float | None
    gap: float | None
    message: str
    wall_s: float
    solver_s: float | None = None
    reason: str = ""


def relative_gap(objective: float, bound: float) -> float:
    """|objective − bound| / |objective|, 0 when they meet within tolerance."""
    diff = abs(objective - bound)
    if diff <= OPTIMAL_GAP * max(1.0, abs(objective)):
        return 0.0
    return diff / abs(objective) if objective != 0 else math.inf


def solver_label(options: SolveOptions) -> str:
    """Human-readable solver name with version."""
    return _label(options.solver)


@cache
def _label(solver: str) -> str:
    if solver == "highs":
        import highspy

        return f"HiGHS {highspy.Highs().version()} via PuLP {pulp.__version__}"
    return f"CBC (PuLP {pulp.__version__} bundled)"


#: How a covering model is built: as arrays straight into HiGHS, or through PuLP.
BUILDS = ("arrays", "pulp")


def model_build(build: str | None, options: SolveOptions) -> str:
    """The build to use: ``"arrays"`` with HiGHS, ``"pulp"`` with CBC, unless one is asked for.

    ``"arrays"`` passes the model to highspy in one call (no per-row Python
    expressions); ``"pulp"`` is the PuLP model users can inspect, and the
    only one CBC can solve.
    """
    if build is None:
        return "arrays" if options.solver == "highs" else "pulp"
    if build not in BUILDS:
        raise InputError(f"unknown build {build!r}", source="build", fix=f"use one of {BUILDS}")
    if build == "arrays" and options.solver != "highs":
        raise InputError("build='arrays' passes the model to HiGHS directly; CBC needs PuLP",
                         source="build", fix="use build='pulp' (or None) with solver='cbc'")
    return build


#: Status of an Outcome for a run that never started because the time was used up.
NOT_STARTED = "time limit reached before this solve started"


def solve(lp: pulp.LpProblem, options: SolveOptions, time_limit: float | None,
          start: dict[pulp.LpVariable, float] | None = None) -> Outcome:
    """Solve ``lp`` and return an honest :class:`Outcome`.

    Parameters
    ----------
    lp : pulp.LpProblem
        The model; must have at least one variable.
    options : SolveOptions
        Solver choice and settings.
    time_limit : float or None
        Seconds left for this run (the caller tracks a shared budget).
    start : dict, optional
        A feasible solution (variable → value) to start from: HiGHS gets it
        through ``setSolution``, CBC through PuLP's ``warmStart``.
    """
    if time_limit is not None and time_limit <= 0:
        # No solution and no bound from this run; the caller keeps what it had.
        return Outcome("error", False, None, None, None, NOT_STARTED, 0.0, reason=NOT_STARTED)
    from coverage.optimise.arrays import ArrayModel

    if isinstance(lp, ArrayModel):
        if options.solver != "highs":
            raise InputError(f"model {lp.name!r} was built as arrays for HiGHS, not "
                             f"{options.solver}", source="solver",
                             fix="build it through PuLP (build='pulp') to use CBC")
        return _solve_arrays(lp, options, time_limit, start)
    if options.solver == "highs":
        return _solve_highs(lp, options, time_limit, start)
    return _solve_cbc(lp, options, time_limit, start)


def _finish(lp, said_optimal: bool, has_solution: bool, bound: float | None,
            wall: float, solver_s: float | None, stop_reason: str) -> Outcome:
    """Turn a solver's verdict into an Outcome, checking the gap ourselves."""
    if not has_solution:
        return Outcome("error", False, None, bound, None,
                       f"no feasible solution found ({stop_reason})", wall, solver_s)
    obj = (float(lp.objective_value) if hasattr(lp, "objective_value")
           else float(pulp.value(lp.objective) or 0.0))
    if bound is None or not math.isfinite(bound):
        bound = obj if said_optimal else None
    gap = None if bound is None else relative_gap(obj, bound)
    if said_optimal and gap == 0.0:
        return Outcome("optimal", True, obj, bound, 0.0, "proven optimal", wall, solver_s)
    why = "stopped at the gap limit" if said_optimal else f"stopped: {stop_reason}"
    return Outcome("feasible", True, obj, bound, gap, incumbent_message(why, gap), wall,
                   solver_s, reason=why)


def incumbent_message(why: str, gap: float | None) -> str:
    """Message for a solution that is not proven optimal."""
    gap_txt = "unknown gap (no bound reported)" if gap is None else f"relative gap {gap:.4%}"
    return f"{why}; incumbent not proven optimal, {gap_txt}"


# HiGHS sizes one thread scheduler per process at its first solve. From then on, a run that
# asks for another ``threads`` value ends with model status "Not Set" (highspy 1.7 for any
# change, 1.16 for threads=1 after a default run). We therefore remember the size the
# scheduler was built with and rebuild it, under a lock, whenever a solve asks for another.
_SCHEDULER_LOCK = threading.Lock()
_scheduler_threads: int | None = None  # None: no HiGHS solve yet in this process


def _highs_threads(requested: int | None) -> int:
    """HiGHS's own ``threads`` value: 0 means "let HiGHS choose"."""
    return 0 if requested is None else int(requested)


class _StartedHiGHS(pulp.HiGHS):
    """PuLP's highspy interface, handing HiGHS a starting solution before it runs."""

    def __init__(self, *args, start: dict[pulp.LpVariable, float] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.start = start or {}

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 (PuLP's name)
        if self.start:
            import numpy as np

            # Variables in no row and not in the objective never reach HiGHS.
            given = [(v.index, value) for v, value in self.start.items()
                     if getattr(v, "index", None) is not None]
            idx = np.fromiter((i for i, _ in given), dtype=np.int32, count=len(given))
            val = np.fromiter((a for _, a in given), dtype=np.float64, count=len(given))
            lp.solverModel.setSolution(int(idx.size), idx, val)
        lp.solverModel.run()


def run_highs(h, options: SolveOptions, time_limit: float | None) -> float:
    """Run a highspy model built as arrays (no PuLP) with the package's solver options.

    Applies ``msg``, ``mip_gap``, ``threads`` and the time limit, and handles the
    per-process thread scheduler as :func:`solve` does. Returns wall seconds.
    """
    import highspy

    global _scheduler_threads
    threads = _highs_threads(options.threads)
    h.setOptionValue("output_flag", bool(options.msg))
    h.setOptionValue("mip_rel_gap", float(options.mip_gap))
    if options.threads is not None:
        h.setOptionValue("threads", int(options.threads))
    h.setOptionValue("time_limit", float("inf") if time_limit is None else float(time_limit))
    with _SCHEDULER_LOCK:
        if _scheduler_threads is not None and _scheduler_threads != threads:
            highspy.Highs.resetGlobalScheduler(True)
        _scheduler_threads = threads
        t0 = time.perf_counter()
        h.run()
        return time.perf_counter() - t0


def _solve_highs(lp: pulp.LpProblem, options: SolveOptions, time_limit: float | None,
                 start: dict[pulp.LpVariable, float] | None = None) -> Outcome:
    import highspy

    global _scheduler_threads
    threads = _highs_threads(options.threads)
    solver = _StartedHiGHS(msg=options.msg, timeLimit=time_limit, gapRel=options.mip_gap,
                           threads=options.threads, start=start)
    with _SCHEDULER_LOCK:
        if _scheduler_threads is not None and _scheduler_threads != threads:
            highspy.Highs.resetGlobalScheduler(True)
        _scheduler_threads = threads
        t0 = time.perf_counter()
        lp.solve(solver)
        wall = time.perf_counter() - t0
    h = lp.solverModel
    status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(status)
    run_s = float(h.getRunTime())
    S = highspy.HighsModelStatus
    if status == S.kInfeasible:
        return Outcome("infeasible", False, None, None, None, "proven infeasible by HiGHS",
                       wall, run_s)
    if status == S.kUnboundedOrInfeasible:
        return Outcome("infeasible", False, None, None, None,
                       "HiGHS: infeasible or unbounded (all variables here are bounded, "
                       "so the model is infeasible)", wall, run_s)
    if status == S.kUnbounded:
        return Outcome("unbounded", False, None, None, None, "HiGHS: unbounded", wall, run_s)
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    # PuLP hands HiGHS "minimise −f" for a maximisation, so the dual bound flips sign.
    sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
    bound = sign * float(info.mip_dual_bound)
    if status == S.kOptimal:
        return _finish(lp, True, has_solution, bound, wall, run_s, text)
    if status in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit,
                  S.kObjectiveBound, S.kObjectiveTarget):
        return _finish(lp, False, has_solution, bound, wall, run_s, f"HiGHS: {text}")
    return Outcome("error", False, None, None, None, f"HiGHS: {text}", wall, run_s)


def _solve_arrays(model, options: SolveOptions, time_limit: float | None,
                  start: dict | None = None) -> Outcome:
    """Solve an :class:`~coverage.optimise.arrays.ArrayModel` with highspy (``passModel``)."""
    import highspy
    import numpy as np

    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(options.msg))
    h.passModel(model.to_highs_lp())
    for name, value in model.highs_options.items():  # the model builder's solver settings
        h.setOptionValue(name, value)
    if start:
        idx = np.fromiter((v.index for v in start), dtype=np.int32, count=len(start))
        val = np.fromiter(start.values(), dtype=np.float64, count=len(start))
        h.setSolution(int(idx.size), idx, val)
    model.solverModel = h
    wall = run_highs(h, options, time_limit)
    status = h.getModelStatus()
    info = h.getInfo()
    text = h.modelStatusToString(status)
    run_s = float(h.getRunTime())
    S = highspy.HighsModelStatus
    if status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return Outcome("infeasible", False, None, None, None, "proven infeasible by HiGHS",
                       wall, run_s)
    if status == S.kUnbounded:
        return Outcome("unbounded", False, None, None, None, "HiGHS: unbounded", wall, run_s)
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    model.set_solution(np.asarray(h.getSolution().col_value) if has_solution else None,
                       float(info.objective_function_value) if has_solution else None)
    bound = float(info.mip_dual_bound)  # the model's own sense (passed to HiGHS as such)
    if status == S.kOptimal:
        return _finish(model, True, has_solution, bound, wall, run_s, text)
    if status in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kSolutionLimit,
                  S.kObjectiveBound, S.kObjectiveTarget):
        return _finish(model, False, has_solution, bound, wall, run_s, f"HiGHS: {text}")
    return Outcome("error", False, None, None, None, f"HiGHS: {text}", wall, run_s)


_RESULT = re.compile(r"^Result - (.+)$", re.M)
_OBJ = re.compile(r"^Objective value:\s+(\S+)", re.M)
_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.M)
_WALL = re.compile(r"^Time \(Wallclock seconds\):\s+(\S+)", re.M)


def parse_cbc_log(log: str) -> dict[str, object]:
    """Read CBC's final summary: result line, objective, best bound, wall time.

    CBC prints ``Lower bound:`` (minimisation) or ``Upper bound:``
    (maximisation, already in the user's sign) only when it stopped short of
    a proof; a proven optimum prints the objective alone.
    """
    out: dict[str, object] = {}
    if m := _RESULT.search(log):
        out["result"] = m.group(1).strip()
    elif "infeasible" in log.lower():
        out["result"] = "Problem proven infeasible"
    for key, rx in (("objective", _OBJ), ("bound", _BOUND), ("wall_s", _WALL)):
        if m := rx.search(log):
            try:
                out[key] = float(m.group(1))
            except ValueError:
                pass
    return out


def _solve_cbc(lp: pulp.LpProblem, options: SolveOptions, time_limit: float | None,
               start: dict[pulp.LpVariable, float] | None = None) -> Outcome:
    fd, log_path = tempfile.mkstemp(prefix="cbc-", suffix=".log")
    os.close(fd)
    for var, value in (start or {}).items():
        var.setInitialValue(value)
    try:
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=options.mip_gap,
                                   threads=options.threads, logPath=log_path,
                                   warmStart=bool(start))
        t0 = time.perf_counter()
        try:
            lp.solve(solver)
        except pulp.PulpSolverError as exc:
            return Outcome("error", False, None, None, None, f"CBC failed: {exc}",
                           time.perf_counter() - t0)
        wall = time.perf_counter() - t0
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            log = fh.read()
    finally:
        os.unlink(log_path)
    if options.msg:
        print(log)
    info = parse_cbc_log(log)
    result = str(info.get("result", "no result line in the CBC log"))
    run_s = info.get("wall_s")
    if lp.status == pulp.LpStatusInfeasible:
        return Outcome("infeasible", False, None, None, None, f"CBC: {result}", wall, run_s)
    if lp.status == pulp.LpStatusUnbounded:
        return Outcome("unbounded", False, None, None, None, f"CBC: {result}", wall, run_s)
    has_solution = lp.status == pulp.LpStatusOptimal and lp.sol_status in (
        pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    said_optimal = (has_solution and lp.sol_status == pulp.LpSolutionOptimal
                    and result.startswith("Optimal"))
    bound = info.get("bound")
    if said_optimal and bound is None and "gap tolerance" in result:
        said_optimal = False  # stopped on the gap limit without printing a bound
    return _finish(lp, said_optimal, has_solution, bound, wall, run_s, f"CBC: {result}")
