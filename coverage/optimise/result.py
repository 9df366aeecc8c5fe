"""The one result object every placement model returns."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from coverage.optimise.rules import Violation

STATUSES = ("optimal", "feasible", "infeasible", "unbounded", "error")


def _num(v: float | None) -> float | None:
    """JSON-safe float: ``None`` for missing or infinite."""
    return None if v is None or not math.isfinite(v) else float(v)


@dataclass(frozen=True, eq=False)
class PlacementResult:
    """Outcome of one placement model run, stated honestly.

    Attributes
    ----------
    model : str
        ``"lscp"``, ``"mclp"``, ``"pcenter"``, ``"pmedian"`` or ``"backup"``.
    status : str
        ``"optimal"`` (proven), ``"feasible"`` (a time or gap limit stopped
        the solver: incumbent, best bound and gap are given), ``"infeasible"``
        (``message`` says why), ``"unbounded"`` or ``"error"`` (no usable
        solution, or a district rule still broken after the last cut round:
        ``violations`` lists what is left).
    message : str
        One or two sentences for the planner.
    chosen : tuple of int
        Sorted candidate columns newly opened (not existing stations).
    chosen_ids : tuple
        ``candidate_ids`` of ``chosen``.
    open : tuple of int
        Every open column, existing stations included.
    closed_existing : tuple of int
        Existing stations closed by the what-if.
    objective : float or None
        The model's objective for ``open``, recomputed from the cost matrix
        (LSCP: number of new sites; MCLP: covered weight; backup: weight covered
        at least twice; p-median: weighted total first-due seconds; p-center:
        worst first-due seconds over reachable demand).
    bound : float or None
        Best proven bound on the objective (lower for minimisation, upper for
        maximisation).
    gap : float or None
        ``|objective − bound| / |objective|``; 0 when proven optimal.
    method : str
        Formulation that ran (``"cover"``, ``"assignment"``, ``"bisection"``;
        suffixed ``"+lazy-cuts"`` when district rules were enforced by cuts).
    solver : str
        Solver name and version.
    solve_s, build_s : float
        Wall seconds in the solver (PuLP hand-over included) and in presolve
        plus model building.
    first_due : numpy.ndarray or None
        Per demand row, seconds to the nearest open site (``inf`` if none
        reachable); ``None`` when there is no solution.
    first_due_site : numpy.ndarray or None
        Column of that site (``-1`` if none).
    uncoverable : numpy.ndarray
        Demand rows no available site can reach (within the threshold for
        covering models, within the matrix cutoff for p-center and p-median).
    presolve : mapping
        What each reduction removed.
    violations : tuple of Violation
        District-rule violations left in the returned solution.
    details : mapping
        Model-specific figures (``p``, iterations, cut rounds, covered share, ...).
    """

    model: str
    status: str
    message: str
    solver: str
    method: str
    chosen: tuple[int, ...] = ()
    chosen_ids: tuple = ()
    open: tuple[int, ...] = ()
    closed_existing: tuple[int, ...] = ()
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    solve_s: float = 0.0
    build_s: float = 0.0
    first_due: np.ndarray | None = None
    first_due_site: np.ndarray | None = None
    uncoverable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    presolve: Mapping = field(default_factory=dict)
    violations: tuple[Violation, ...] = ()
    details: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")

    @property
    def has_solution(self) -> bool:
        """True when ``open`` holds a solution (optimal, feasible, or rule-breaking)."""
        return self.first_due is not None

    def as_dict(self, *, per_demand: bool = True) -> dict:
        """JSON-ready dict (infinite times become ``None``).

        Parameters
        ----------
        per_demand : bool
            Include the per-demand ``first_due`` / ``first_due_site`` lists.
        """
        out = {
            "model": self.model, "status": self.status, "message": self.message,
            "solver": self.solver, "method": self.method,
            "chosen": list(self.chosen), "chosen_ids": list(self.chosen_ids),
            "open": list(self.open), "closed_existing": list(self.closed_existing),
            "objective": _num(self.objective), "bound": _num(self.bound),
            "gap": _num(self.gap), "solve_s": self.solve_s, "build_s": self.build_s,
            "uncoverable": [int(i) for i in self.uncoverable],
            "presolve": dict(self.presolve),
            "violations": [v.as_dict() for v in self.violations],
            "details": dict(self.details),
        }
        if per_demand:
            out["first_due"] = (None if self.first_due is None
                                else [_num(v) for v in self.first_due])
            out["first_due_site"] = (None if self.first_due_site is None
                                     else [int(v) for v in self.first_due_site])
        return out
