"""Site decision variables and the options every model shares.

Columns fall into three groups: *open constants* (existing stations that
cannot close, and forced sites), *decision variables* (new candidates and
closable stations) and *closed* (forbidden sites and columns removed by
presolve). Constants never become PuLP variables: their effect is folded into
the right-hand sides, which keeps the MILP small and makes "covered by an
existing station" visible to presolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pulp

from coverage.errors import InputError
from coverage.optimise.problem import PlacementProblem


@dataclass(frozen=True)
class Columns:
    """Boolean masks over candidate columns.

    Attributes
    ----------
    const_open : numpy.ndarray of bool
        Open in every solution.
    var : numpy.ndarray of bool
        Decided by the model.
    new : numpy.ndarray of bool
        Not an existing station (counts against ``p``, budget and type limits).
    """

    const_open: np.ndarray
    var: np.ndarray
    new: np.ndarray

    @property
    def available(self) -> np.ndarray:
        """Columns that may be open in some solution."""
        return self.const_open | self.var


def classify(problem: PlacementProblem, removed: np.ndarray | None = None) -> Columns:
    """Split columns into open constants, decision variables and closed ones."""
    m = problem.n_candidates
    fixed = problem.is_fixed
    closable = np.zeros(m, dtype=bool)
    closable[list(problem.closable)] = True
    forced = np.zeros(m, dtype=bool)
    forced[list(problem.force_open)] = True
    banned = np.zeros(m, dtype=bool)
    banned[list(problem.force_closed)] = True
    if removed is not None:
        banned |= removed
    const_open = (fixed & ~closable) | forced
    var = ~const_open & ~banned
    return Columns(const_open=const_open, var=var, new=~fixed)


def check_p(p: object, model: str) -> int:
    """Validate the number of new sites."""
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0:
        raise InputError(f"p={p!r} must be a whole number of new sites >= 0", source=model,
                         fix="pass p=0, 1, 2, ...")
    return int(p)


def effective_p(problem: PlacementProblem, p: int, details: dict) -> int:
    """``p`` capped at the number of new sites that can open at all.

    Asking for more new sites than there are candidates is answered at once
    (every candidate that helps opens) and said in ``details["p_requested"]``.
    """
    cols = classify(problem)
    most = int((cols.available & cols.new).sum())
    if p > most:
        details["p_requested"] = p
        details["p_note"] = (f"p={p} is more than the {most} candidate sites that may open; "
                             f"solved with p={most}")
        return most
    return p


def precheck(problem: PlacementProblem, p: int | None) -> str | None:
    """Reasons the site options contradict each other, before any MILP is built.

    Returns
    -------
    str or None
        A planner-readable reason the problem is infeasible, or None.
    """
    forced = np.asarray(problem.force_open, dtype=np.int64)
    forced_new = forced[~problem.is_fixed[forced]] if forced.size else forced
    if p is not None and forced_new.size > p:
        return (f"{forced_new.size} new sites are forced open but p={p}; "
                "raise p or force fewer sites")
    if problem.budget is not None and forced_new.size:
        spent = float(problem.costs[forced_new].sum())
        if spent > problem.budget:
            return (f"the forced new sites cost {spent:g}, more than the budget "
                    f"{problem.budget:g}; raise the budget or force fewer sites")
    for t, limit in problem.type_limits.items():
        k = sum(problem.site_types[j] == t for j in forced_new)
        if k > limit:
            return f"{k} forced new sites have type {t!r} but its limit is {limit}"
    closable = set(problem.closable)
    must_close = len(closable & set(problem.force_closed))
    may_close = len(closable - set(problem.force_open))
    if must_close > problem.close_max:
        return (f"{must_close} closable stations are forced closed but close_max="
                f"{problem.close_max}")
    if may_close < problem.close_min:
        return (f"close_min={problem.close_min} stations must close but only {may_close} "
                "closable stations are not forced open")
    return None


def new_var(lp: pulp.LpProblem, name: str, low: float | None = None, up: float | None = None,
            cat: str = pulp.LpContinuous) -> pulp.LpVariable:
    """A variable owned by ``lp`` (PuLP ≥ 3.3 API; plain LpVariable on older PuLP)."""
    if hasattr(lp, "add_variable"):
        return lp.add_variable(name, low, up, cat)
    return pulp.LpVariable(name, low, up, cat)


def make_vars(lp: pulp.LpProblem, cols: Columns) -> dict[int, pulp.LpVariable]:
    """One binary per decision column, named by zero-padded index so order is stable."""
    return {int(j): new_var(lp, f"x_{j:07d}", cat=pulp.LpBinary)
            for j in np.flatnonzero(cols.var)}


def add_site_constraints(lp: pulp.LpProblem, x: Mapping[int, pulp.LpVariable],
                         problem: PlacementProblem, cols: Columns, p: int | None) -> None:
    """Add the count, budget, type-limit and closing constraints.

    ``p`` bounds the number of new sites from above ("at most p"): opening
    more sites never worsens any of these models, so the optimum value equals
    the classical "exactly p" one whenever p candidates are available, and a
    solution with fewer sites tells the planner the rest add nothing.
    """
    forced_new = [j for j in problem.force_open if cols.new[j]]
    new_vars = [(j, v) for j, v in x.items() if cols.new[j]]
    if p is not None and new_vars and len(new_vars) > p - len(forced_new):
        lp.addConstraint(pulp.LpAffineExpression([(v, 1) for _, v in new_vars])
                         <= p - len(forced_new), "new_sites")
    if problem.budget is not None:
        left = problem.budget - float(sum(problem.costs[j] for j in forced_new))
        terms = [(v, float(problem.costs[j])) for j, v in new_vars if problem.costs[j] > 0]
        if terms and sum(c for _, c in terms) > left:
            lp.addConstraint(pulp.LpAffineExpression(terms) <= left, "budget")
    for t, limit in sorted(problem.type_limits.items()):
        left = limit - sum(problem.site_types[j] == t for j in forced_new)
        terms = [(v, 1) for j, v in new_vars if problem.site_types[j] == t]
        if len(terms) > left:
            lp.addConstraint(pulp.LpAffineExpression(terms) <= left, f"type_{t}")
    closable_vars = [(j, x[j]) for j in problem.closable if j in x]
    if closable_vars:
        must = len(set(problem.closable) & set(problem.force_closed))
        # closed = must + Σ(1 − x_j) over the closable variables
        kept = pulp.LpAffineExpression([(v, 1) for _, v in closable_vars])
        n = len(closable_vars)
        lp.addConstraint(kept >= n + must - problem.close_max, "close_max")
        lp.addConstraint(kept <= n + must - problem.close_min, "close_min")


@dataclass(frozen=True)
class Cut:
    """A valid inequality ``Σ coef_j · open_j >= rhs`` over candidate columns.

    Cuts come from district-rule violations and only remove open sets that
    break the rule, so adding them never removes a rule-abiding optimum.
    """

    coef: tuple[tuple[int, float], ...]
    rhs: float
    reason: str


def add_cuts(lp: pulp.LpProblem, x: Mapping[int, pulp.LpVariable], cols: Columns,
             cuts: list[Cut]) -> Cut | None:
    """Add cuts with constant columns folded in; return a cut no solution can meet."""
    for k, cut in enumerate(cuts):
        rhs = cut.rhs
        terms = []
        for j, c in cut.coef:
            if j in x:
                terms.append((x[j], c))
            elif cols.const_open[j]:
                rhs -= c
        if not terms:
            if rhs > 1e-9:
                return cut
            continue
        lp.addConstraint(pulp.LpAffineExpression(terms) >= rhs, f"cut_{k}")
    return None


def open_mask(cols: Columns, x: Mapping[int, pulp.LpVariable]) -> np.ndarray:
    """Open columns in the solver's solution (constants plus variables at 1)."""
    mask = cols.const_open.copy()
    for j, v in x.items():
        if v.varValue is not None and v.varValue > 0.5:
            mask[j] = True
    return mask
