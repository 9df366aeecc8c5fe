"""The exact multi-period placement model: which site opens in which year.

Pure computation on :class:`~coverage.optimise.PlacementProblem` (one per
time-of-day period when siting robustly). Columns listed in ``fixed`` are
today's stations, open in every year; every other column is a candidate site.

Decision ``x[j, t] = 1`` when site ``j`` is open in year ``t``; a site opened
stays open (``x[j, t] ≤ x[j, t+1]``). Per year the new sites' cost (or count)
fits that year's budget, or, with carry-over, the cumulative budget to date.
Sites can be forced open by, or forbidden in, given years.

Objectives
----------
``coverage``
    Maximise Σₜ dₜ · Cₜ, Cₜ the demand weight within the threshold in year t
    and dₜ = (1 + r)^−t the named discount factor (year 0 undiscounted).
    With several periods, Cₜ is the worst period's coverage (``robust="worst"``)
    or the weight covered within the threshold in *every* period
    (``robust="every"``).
``minmax``
    Lexicographically minimise the worst first-due time: year 0 first, then
    year 1 given year 0's optimum, and so on. Each step bisects over the
    distinct travel times of the matrix with a set-covering feasibility MILP
    over all years to date.

Every solve goes through :func:`coverage.optimise.backend.solve` and is stated
honestly: ``optimal`` only with a proof, ``feasible`` with the bound and gap
otherwise. A greedy plan and the myopic plan are incumbents from the start,
so a time limit never leaves the planner without an answer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pulp
from scipy import sparse

from coverage.errors import InputError
from coverage.optimise import PlacementProblem, SolveOptions, backend, mclp, pcenter


def _var(lp: pulp.LpProblem, name: str, low=None, up=None, cat: str = pulp.LpContinuous):
    """A variable owned by ``lp`` (PuLP >= 3.3 API; plain LpVariable on older PuLP)."""
    if hasattr(lp, "add_variable"):
        return lp.add_variable(name, low, up, cat)
    return pulp.LpVariable(name, low, up, cat)


__all__ = [
    "DISCOUNTS",
    "Discount",
    "PhaseResult",
    "PhaseSpec",
    "first_due",
    "greedy_plan",
    "myopic_plan",
    "phase_plan",
    "plan_values",
]

NEVER = -1  #: ``open_year`` of a site that the plan does not open


@dataclass(frozen=True)
class Discount:
    """A named discount rate for coverage in later years.

    Attributes
    ----------
    name : str
    rate : float
        Yearly rate r; year t (0-based) weighs (1 + r)^−t.
    source : str
        Where the figure comes from.
    """

    name: str
    rate: float
    source: str = ""

    def factors(self, n_years: int) -> np.ndarray:
        """Weights of years 0 .. n_years − 1."""
        return (1.0 + self.rate) ** -np.arange(n_years, dtype=float)


#: Named discounts. ``cn_social_8pct``: the social discount rate of 8 % set for public
#: projects in 《建设项目经济评价方法与参数》(第三版, 国家发展改革委/建设部 2006).
DISCOUNTS: dict[str, Discount] = {
    "none": Discount("none", 0.0, "every year counts the same"),
    "cn_social_8pct": Discount(
        "cn_social_8pct", 0.08, "社会折现率 8 %, 建设项目经济评价方法与参数 (第三版, 2006)"),
    "uk_green_book_3_5pct": Discount(
        "uk_green_book_3_5pct", 0.035, "HM Treasury Green Book social time preference rate 3.5 %"),
}


@dataclass(frozen=True)
class PhaseSpec:
    """Years, budgets and per-year site rules of a phased build-out.

    Parameters
    ----------
    years : sequence of int
        Calendar years, increasing (e.g. 2026 .. 2030).
    budget : sequence of float
        Per year: the number of new sites (``costs`` None) or their total cost.
    costs : array_like, optional
        Cost of opening each column (fixed columns are ignored); None = count.
    carry_over : bool
        Unspent budget carries over to later years.
    forced : mapping of int to sequence of int
        Year → columns that must be open by that year.
    forbidden : mapping of int to sequence of int
        Year → columns that must not be open in that year (a site that stays
        open once opened is then also closed in every earlier year).
    discount : Discount
    """

    years: Sequence[int]
    budget: Sequence[float]
    costs: np.ndarray | None = None
    carry_over: bool = False
    forced: Mapping[int, Sequence[int]] = field(default_factory=dict)
    forbidden: Mapping[int, Sequence[int]] = field(default_factory=dict)
    discount: Discount = DISCOUNTS["none"]

    def __post_init__(self) -> None:
        years = tuple(int(y) for y in self.years)
        if not years or any(b <= a for a, b in zip(years, years[1:], strict=False)):
            raise InputError(f"years {list(years)} must be a non-empty increasing list",
                             source="years", fix="list each plan year once, in order")
        budget = tuple(float(b) for b in self.budget)
        if len(budget) != len(years) or any(not math.isfinite(b) or b < 0 for b in budget):
            raise InputError(f"need one budget >= 0 per year ({len(years)}), got {list(budget)}",
                             source="budget", fix="give a budget for every year")
        object.__setattr__(self, "years", years)
        object.__setattr__(self, "budget", budget)
        if self.costs is not None:
            costs = np.asarray(self.costs, dtype=float)
            if (~np.isfinite(costs)).any() or (costs < 0).any():
                raise InputError("site costs must be finite and >= 0", source="costs")
            object.__setattr__(self, "costs", costs)
        for name in ("forced", "forbidden"):
            rules = {int(y): tuple(int(c) for c in cols) for y, cols in dict(getattr(self, name)).items()}
            bad = sorted(set(rules) - set(years))
            if bad:
                raise InputError(f"{name} names year {bad[0]}, which is not a plan year",
                                 source=name, fix=f"use one of {list(years)}")
            object.__setattr__(self, name, rules)
        for y, cols in self.forced.items():
            for y2, banned in self.forbidden.items():
                clash = sorted(set(cols) & set(banned))
                if clash and y2 >= y:
                    raise InputError(f"site column {clash[0]} is forced open by {y} but forbidden "
                                     f"in {y2} (an opened site stays open)",
                                     source="forced/forbidden", fix="drop one of the two rules")

    @property
    def n_years(self) -> int:
        return len(self.years)

    def cost_of(self, problem: PlacementProblem) -> np.ndarray:
        """Per-column opening cost (1 per site for a count budget)."""
        m = problem.n_candidates
        if self.costs is None:
            return np.ones(m)
        if self.costs.shape != (m,):
            raise InputError(f"{self.costs.shape[0]} costs for {m} columns", source="costs",
                             fix="give one cost per column")
        return self.costs

    def allowance(self) -> np.ndarray:
        """Budget usable in each year: cumulative with carry-over, else the year's own."""
        b = np.asarray(self.budget)
        return np.cumsum(b) if self.carry_over else b

    def forced_by(self, t: int) -> set[int]:
        """Columns that must be open in year index ``t``."""
        return {c for y, cols in self.forced.items() if self.years.index(y) <= t for c in cols}

    def banned_at(self, t: int) -> set[int]:
        """Columns that may not be open in year index ``t`` (forbidden then or later)."""
        return {c for y, cols in self.forbidden.items() if self.years.index(y) >= t for c in cols}


@dataclass(frozen=True)
class PhaseResult:
    """A phased plan and how well it is proven.

    Attributes
    ----------
    method : str
        ``"multi-period"``, ``"myopic"`` or ``"greedy"``.
    objective_name : str
        ``"coverage"`` or ``"minmax"``.
    status : str
        ``optimal`` (proven), ``feasible`` (bound and gap given where known),
        ``infeasible`` or ``error``.
    message : str
    open_year : numpy.ndarray of int
        Per column: year index in which the site opens, :data:`NEVER` if not
        opened; fixed columns are 0.
    objective : float or None
        Discounted sum of per-year coverage (weight), or for ``minmax`` the sum
        of the per-year worst first-due seconds that were minimised in turn.
    bound : float or None
        Best proven bound on ``objective`` (coverage only).
    gap : float or None
    by_year : tuple of float
        Per year: covered weight (coverage; worst period's when robust) or
        worst first-due seconds (minmax).
    solver : str
    solve_s : float
    details : dict
    """

    method: str
    objective_name: str
    status: str
    message: str
    open_year: np.ndarray
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    by_year: tuple[float, ...] = ()
    solver: str = ""
    solve_s: float = 0.0
    details: dict = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        return self.objective is not None

    def opened_in(self, t: int, fixed: Sequence[int] = ()) -> list[int]:
        """Columns newly opened in year index ``t`` (today's stations excluded)."""
        out = np.flatnonzero(self.open_year == t)
        return [int(c) for c in out if int(c) not in set(fixed)]

    def open_at(self, t: int) -> np.ndarray:
        """Boolean mask of the columns open in year index ``t``."""
        return (self.open_year >= 0) & (self.open_year <= t)


# --------------------------------------------------------------------------- evaluation

def first_due(cost: sparse.csr_array, open_mask: np.ndarray) -> np.ndarray:
    """Per demand row, seconds to the nearest open column (``inf`` if none is stored)."""
    coo = sparse.coo_array(cost)
    keep = open_mask[coo.col]
    out = np.full(cost.shape[0], np.inf)
    np.minimum.at(out, coo.row[keep], coo.data[keep])
    return out


def _problems(problems: PlacementProblem | Sequence[PlacementProblem]) -> list[PlacementProblem]:
    probs = [problems] if isinstance(problems, PlacementProblem) else list(problems)
    if not probs:
        raise InputError("no placement problem given", source="problems")
    m = probs[0].n_candidates
    for p in probs:
        if p.n_candidates != m or tuple(p.fixed) != tuple(probs[0].fixed):
            raise InputError("period problems must share the same columns and fixed stations",
                             source="problems", fix="build every period's matrix on the same sites")
        if p.closable:
            raise InputError("closing existing stations is not part of a phased plan",
                             source="closable", fix="phase new sites only")
    return probs


def _year_coverage(probs: list[PlacementProblem], mask: np.ndarray, robust: str) -> float:
    """Covered weight of one year's open sites (worst period, or covered in every period)."""
    if len(probs) == 1:
        p = probs[0]
        return float(p.weights[first_due(p.cost, mask) <= p.require_threshold("coverage")].sum())
    if robust == "every":
        ok = np.ones(probs[0].n_demand, dtype=bool)
        for p in probs:
            ok &= first_due(p.cost, mask) <= p.require_threshold("coverage")
        return float(probs[0].weights[ok].sum())
    return min(float(p.weights[first_due(p.cost, mask) <= p.require_threshold("coverage")].sum())
               for p in probs)


def _cover_csc(p: PlacementProblem) -> sparse.csr_array:
    """0/1 demand × column matrix: within the threshold."""
    a = sparse.csr_array(p.cost).copy()
    a.data = (a.data <= p.require_threshold("coverage")).astype(np.int8)
    a.eliminate_zeros()
    return a


def _year_worst(problem: PlacementProblem, mask: np.ndarray, reachable: np.ndarray) -> float:
    fd = first_due(problem.cost, mask)[reachable]
    return float(fd.max()) if fd.size else 0.0


def plan_values(problems: PlacementProblem | Sequence[PlacementProblem], spec: PhaseSpec,
                open_year: np.ndarray, *, objective: str = "coverage",
                robust: str = "worst") -> tuple[float, tuple[float, ...]]:
    """Objective and per-year values of a plan, recomputed from the matrices.

    Returns
    -------
    objective : float
        Discounted covered weight summed over years (``coverage``), or the sum
        of the per-year worst first-due seconds (``minmax``).
    by_year : tuple of float
    """
    probs = _problems(problems)
    d = spec.discount.factors(spec.n_years)
    vals = []
    reachable = _reachable(probs[0])
    for t in range(spec.n_years):
        mask = (open_year >= 0) & (open_year <= t)
        vals.append(_year_coverage(probs, mask, robust) if objective == "coverage"
                    else _year_worst(probs[0], mask, reachable))
    total = float(np.dot(d, vals)) if objective == "coverage" else float(sum(vals))
    return total, tuple(vals)


def plan_violations(problem: PlacementProblem, spec: PhaseSpec, open_year: np.ndarray) -> list[str]:
    """Budget and per-year rules a plan breaks (empty when it is feasible)."""
    cost = spec.cost_of(problem)
    new = ~problem.is_fixed
    out = []
    allow = spec.allowance()
    for t in range(spec.n_years):
        opened = new & (open_year == t)
        spent = float(cost[new & (open_year >= 0) & (open_year <= t)].sum()) if spec.carry_over \
            else float(cost[opened].sum())
        if spent > allow[t] + 1e-9:
            out.append(f"{spec.years[t]}: spends {spent:g} over the budget {allow[t]:g}")
        mask = (open_year >= 0) & (open_year <= t)
        missing = [c for c in spec.forced_by(t) if not mask[c]]
        if missing:
            out.append(f"{spec.years[t]}: forced site {problem.candidate_ids[missing[0]]} is not open")
        banned = [c for c in spec.forbidden.get(spec.years[t], ()) if mask[c]]
        if banned:
            out.append(f"{spec.years[t]}: forbidden site {problem.candidate_ids[banned[0]]} is open")
    return out


def _reachable(problem: PlacementProblem) -> np.ndarray:
    """Demand rows that some column reaches within the matrix cutoff."""
    return np.diff(sparse.csr_array(problem.cost).indptr) > 0


def _base_open_year(problem: PlacementProblem) -> np.ndarray:
    oy = np.full(problem.n_candidates, NEVER, dtype=np.int64)
    oy[list(problem.fixed)] = 0
    return oy


# --------------------------------------------------------------------------- greedy

def greedy_plan(problems: PlacementProblem | Sequence[PlacementProblem], spec: PhaseSpec, *,
                objective: str = "coverage", robust: str = "worst") -> PhaseResult:
    """Year by year, forced sites first, then the best gain per unit cost while it fits.

    Not optimal; an incumbent that exists before any solver runs.
    """
    probs = _problems(problems)
    p0 = probs[0]
    cost = spec.cost_of(p0)
    oy = _base_open_year(p0)
    allow = spec.allowance()
    spent_total = 0.0
    reachable = _reachable(p0)

    covers = [_cover_csc(p) for p in probs] if objective == "coverage" else []
    cost_csc = sparse.csc_array(p0.cost) if objective == "minmax" else None

    def gains(mask: np.ndarray) -> np.ndarray:
        """Per column, the objective gain of opening it next (vectorised over columns)."""
        if objective == "coverage":
            now, after = [], []
            for p, a in zip(probs, covers, strict=True):
                covered = (a @ mask.astype(np.int8)) > 0
                base = float(p.weights[covered].sum())
                now.append(base)
                after.append(base + a.T @ (p.weights * ~covered))
            if robust == "every" or len(probs) == 1:
                return after[0] - now[0]
            return np.min(after, axis=0) - min(now)
        fd = first_due(p0.cost, mask)
        fd_r = np.where(reachable, fd, -np.inf)
        worst_now = fd_r.max() if reachable.any() else 0.0
        out = np.zeros(p0.n_candidates)
        for j in range(p0.n_candidates):
            rows = cost_csc.indices[cost_csc.indptr[j]:cost_csc.indptr[j + 1]]
            vals = cost_csc.data[cost_csc.indptr[j]:cost_csc.indptr[j + 1]]
            new = fd_r.copy()
            new[rows] = np.minimum(new[rows], vals)
            # Smaller worst time first, then the total time saved as a tie-break.
            saved = np.where(np.isfinite(fd_r[rows]), fd_r[rows] - new[rows], 1e6).sum()
            out[j] = (worst_now - new.max()) * 1e6 + saved * 1e-3
        return out

    for t in range(spec.n_years):
        spent_year = 0.0
        for c in sorted(spec.forced_by(t)):
            if oy[c] == NEVER:
                oy[c] = t
                spent_year += cost[c]
        left = (allow[t] - spent_total - spent_year) if spec.carry_over else allow[t] - spent_year
        banned = spec.banned_at(t)
        while True:
            mask = (oy >= 0) & (oy <= t)
            gain = gains(mask)
            ok = (oy == NEVER) & (cost <= left + 1e-9) & (gain > 1e-9)
            ok[list(banned)] = False
            if not ok.any():
                break
            per = np.where(cost > 0, gain / np.where(cost > 0, cost, 1.0), gain * 1e12)
            best = int(np.flatnonzero(ok)[np.argmax(per[ok])])
            oy[best] = t
            left -= cost[best]
            spent_year += cost[best]
        spent_total += spent_year
    bad = plan_violations(p0, spec, oy)
    if bad:
        return PhaseResult("greedy", objective, "infeasible", "greedy plan breaks a rule: " + bad[0],
                           oy)
    obj, by_year = plan_values(probs, spec, oy, objective=objective, robust=robust)
    return PhaseResult("greedy", objective, "feasible", "greedy heuristic (not proven optimal)", oy,
                       objective=obj, by_year=by_year)


# --------------------------------------------------------------------------- myopic

def myopic_plan(problems: PlacementProblem | Sequence[PlacementProblem], spec: PhaseSpec, *,
                objective: str = "coverage", robust: str = "worst",
                options: SolveOptions | None = None) -> PhaseResult:
    """Each year's best on its own, given the sites of the years before.

    Year t solves one single-period model of :mod:`coverage.optimise` (MCLP for
    ``coverage``, p-center for ``minmax``) with the sites open so far fixed.
    With several periods and ``robust="every"`` the single period is "covered in
    every period" (the worst-time matrix); ``robust="worst"`` with several
    periods runs the exact multi-period model restricted to one year.
    """
    options = options or SolveOptions()
    probs = _problems(problems)
    p0 = probs[0]
    cost = spec.cost_of(p0)
    oy = _base_open_year(p0)
    statuses, solve_s, spent_total = [], 0.0, 0.0
    allow = spec.allowance()
    t0 = time.perf_counter()
    for t in range(spec.n_years):
        left = (allow[t] - spent_total) if spec.carry_over else allow[t]
        open_cols = [int(c) for c in np.flatnonzero(oy >= 0)]
        forced = sorted(spec.forced_by(t) - set(open_cols))
        banned = sorted(spec.banned_at(t) - set(open_cols))
        remaining = None if options.time_limit is None else max(
            1.0, options.time_limit - (time.perf_counter() - t0))
        opts = SolveOptions(solver=options.solver, time_limit=remaining, mip_gap=options.mip_gap,
                            threads=options.threads, msg=options.msg)
        chosen, status = _one_year(probs, open_cols, forced, banned, cost, left, spec,
                                   objective, robust, opts)
        if chosen is None:
            # The year's model found nothing in its time: that year's greedy pick instead.
            one = PhaseSpec(years=[0], budget=[max(left, 0.0)], costs=cost,
                            forced={0: forced} if forced else {},
                            forbidden={0: banned} if banned else {})
            gr = greedy_plan([_refix(p, open_cols) for p in probs], one, objective=objective,
                             robust=robust)
            if not gr.has_solution:
                return PhaseResult("myopic", objective, status, f"{spec.years[t]}: no solution "
                                   f"({status})", oy, solve_s=time.perf_counter() - t0)
            chosen = [int(c) for c in np.flatnonzero(gr.open_year == 0) if c not in set(open_cols)]
            status = f"greedy ({status})"
        statuses.append(status)
        for c in chosen:
            oy[c] = t
        spent_total += float(cost[list(chosen)].sum()) if chosen else 0.0
    solve_s = time.perf_counter() - t0
    obj, by_year = plan_values(probs, spec, oy, objective=objective, robust=robust)
    status = "optimal" if all(s == "optimal" for s in statuses) else "feasible"
    msg = ("every year's model proven optimal on its own" if status == "optimal"
           else "some year's model was not proven optimal: " + ", ".join(
               f"{y} {s}" for y, s in zip(spec.years, statuses, strict=True)))
    return PhaseResult("myopic", objective, status, msg, oy, objective=obj, by_year=by_year,
                       solver=backend.solver_label(options), solve_s=solve_s,
                       details={"year_status": statuses})


def _one_year(probs, open_cols, forced, banned, cost, left, spec, objective, robust, opts):
    """One myopic year: the columns to open now and the solver's status."""
    p0 = probs[0]
    if objective == "coverage" and len(probs) > 1 and robust == "worst":
        one = PhaseSpec(years=[0], budget=[max(left, 0.0)], costs=cost, carry_over=False,
                        forced={0: forced} if forced else {}, forbidden={0: banned} if banned else {})
        fixed_probs = [_refix(p, open_cols) for p in probs]
        res = phase_plan(fixed_probs, one, objective="coverage", robust="worst", options=opts,
                         incumbents=False)
        if not res.has_solution:
            return None, res.status
        return [c for c in np.flatnonzero(res.open_year == 0) if c not in set(open_cols)], res.status
    base = _every_problem(probs) if (len(probs) > 1 and robust == "every") else p0
    prob = _refix(base, open_cols, costs=cost, budget=max(left, 0.0), forced=forced, banned=banned)
    n_new = p0.n_candidates - len(open_cols)
    if objective == "coverage":
        res = mclp(prob, n_new, options=opts)
    else:
        res = pcenter(prob, n_new, options=opts)
    if not res.has_solution:
        return None, res.status
    return [int(c) for c in res.chosen], res.status


def _refix(p: PlacementProblem, open_cols, *, costs=None, budget=None, forced=(), banned=()):
    """The same matrix with ``open_cols`` as the fixed stations."""
    return PlacementProblem.from_cost_matrix(
        p.cost, weights=p.weights, threshold=p.threshold, fixed=list(open_cols),
        candidate_ids=p.candidate_ids, site_types=p.site_types,
        **({} if costs is None else {"costs": costs, "budget": budget}),
        force_open=list(forced), force_closed=list(banned))


def _every_problem(probs: list[PlacementProblem]) -> PlacementProblem:
    """Covered in every period = within the threshold on the period-wise worst time."""
    worst = sparse.csr_array(probs[0].cost)
    for p in probs[1:]:
        worst = _elementwise_max(worst, sparse.csr_array(p.cost))
    return PlacementProblem.from_cost_matrix(
        worst, weights=probs[0].weights, threshold=probs[0].threshold, fixed=list(probs[0].fixed),
        candidate_ids=probs[0].candidate_ids, site_types=probs[0].site_types)


def _elementwise_max(a: sparse.csr_array, b: sparse.csr_array) -> sparse.csr_array:
    """Entry-wise max over the entries stored in both (an entry absent in one is unreachable)."""
    ca, cb = sparse.coo_array(a), sparse.coo_array(b)
    n = a.shape[1]
    ka = ca.row.astype(np.int64) * n + ca.col
    kb = cb.row.astype(np.int64) * n + cb.col
    common, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    data = np.maximum(ca.data[ia], cb.data[ib])
    return sparse.csr_array((data, (common // n, common % n)), shape=a.shape)


# --------------------------------------------------------------------------- exact model

def _cover_groups(p: PlacementProblem, radius: float, new_cols: np.ndarray):
    """Rows grouped by the set of new columns within ``radius``.

    Returns the weight already covered by fixed stations, and for the other rows
    with at least one new column: per group its weight and its column list.
    """
    cost = sparse.csr_array(p.cost)
    a = cost.copy()
    a.data = (a.data <= radius).astype(np.int8)
    a.eliminate_zeros()
    fixed = np.zeros(p.n_candidates, dtype=bool)
    fixed[list(p.fixed)] = True
    by_fixed = (a @ fixed.astype(np.int8)) > 0
    keep_col = np.zeros(p.n_candidates, dtype=bool)
    keep_col[new_cols] = True
    groups: dict[tuple[int, ...], float] = {}
    rows_of: dict[tuple[int, ...], list[int]] = {}
    w = p.weights
    for i in np.flatnonzero(~by_fixed):
        cols = a.indices[a.indptr[i]:a.indptr[i + 1]]
        key = tuple(int(c) for c in cols[keep_col[cols]])
        if key:
            groups[key] = groups.get(key, 0.0) + float(w[i])
            rows_of.setdefault(key, []).append(int(i))
    return float(w[by_fixed].sum()), groups, rows_of


def _site_vars(lp, problem, spec, t_last, cost, prefix="x"):
    """x[j][t] for the new columns, with stay-open, budget and per-year rules."""
    fixed = set(problem.fixed)
    new_cols = [j for j in range(problem.n_candidates) if j not in fixed]
    x: dict[int, list] = {}
    for j in new_cols:
        x[j] = [_var(lp, f"{prefix}_{j}_{t}", cat=pulp.LpBinary) for t in range(t_last + 1)]
        for t in range(t_last):
            lp += x[j][t] <= x[j][t + 1], f"stay_{j}_{t}"
    allow = spec.allowance()
    for t in range(t_last + 1):
        if spec.carry_over:
            expr = pulp.lpSum(float(cost[j]) * x[j][t] for j in new_cols if cost[j] > 0)
        else:
            expr = pulp.lpSum(float(cost[j]) * (x[j][t] - (x[j][t - 1] if t else 0))
                              for j in new_cols if cost[j] > 0)
        lp += expr <= float(allow[t]), f"budget_{t}"
        for c in spec.forced_by(t):
            if c in x:
                lp += x[c][t] == 1, f"forced_{c}_{t}"
        for c in spec.forbidden.get(spec.years[t], ()):
            if c in x:
                lp += x[c][t] == 0, f"forbidden_{c}_{t}"
    return x, np.asarray(new_cols, dtype=np.int64)


def _open_year_from(x, problem, n_years) -> np.ndarray:
    oy = _base_open_year(problem)
    for j, vs in x.items():
        vals = [v.value() or 0.0 for v in vs]
        opened = [t for t in range(len(vals)) if vals[t] > 0.5]
        if opened:
            oy[j] = opened[0]
    return oy


def phase_plan(problems: PlacementProblem | Sequence[PlacementProblem], spec: PhaseSpec, *,
               objective: str = "coverage", robust: str = "worst",
               options: SolveOptions | None = None, incumbents: bool = True) -> PhaseResult:
    """The exact multi-period plan (see the module docstring for the model).

    Parameters
    ----------
    problems : PlacementProblem or sequence of them
        One matrix, or one per time-of-day period on the same columns (robust siting).
        Needs ``threshold`` for ``coverage``.
    spec : PhaseSpec
    objective : {"coverage", "minmax"}
    robust : {"worst", "every"}
        With several periods: maximise the worst period's coverage, or the weight
        covered within the threshold in every period. ``minmax`` with several
        periods minimises the worst time over all periods (entry-wise worst matrix).
    options : SolveOptions
        ``time_limit`` bounds the whole call.
    incumbents : bool
        Also compute the greedy and myopic plans and return the best of all when
        the solver stops short (default True).

    Returns
    -------
    PhaseResult
        ``method="multi-period"``; when a heuristic beat the solver's incumbent,
        ``details["incumbent"]`` names it.
    """
    if objective not in ("coverage", "minmax"):
        raise InputError(f"unknown phasing objective {objective!r}", source="objective",
                         fix="use 'coverage' or 'minmax'")
    if robust not in ("worst", "every"):
        raise InputError(f"unknown robust mode {robust!r}", source="robust",
                         fix="use 'worst' or 'every'")
    options = options or SolveOptions()
    probs = _problems(problems)
    if objective == "coverage" and len(probs) > 1 and robust == "every":
        probs = [_every_problem(probs)]
    if objective == "minmax" and len(probs) > 1:
        probs = [_every_problem(probs)]  # worst time over periods, entry by entry
    t0 = time.perf_counter()
    heur = []
    if incumbents:
        heur.append(greedy_plan(probs, spec, objective=objective, robust=robust))
    if objective == "coverage":
        res = _coverage_milp(probs, spec, robust, options)
    else:
        res = _minmax_lex(probs[0], spec, options, heur)
    if incumbents and res.status != "optimal":
        left = None if options.time_limit is None else max(
            1.0, options.time_limit - (time.perf_counter() - t0))
        heur.append(myopic_plan(probs, spec, objective=objective, robust=robust,
                                options=SolveOptions(solver=options.solver, time_limit=left,
                                                     threads=options.threads)))
        res = _best(res, heur, objective)
    return PhaseResult(**{**res.__dict__, "solve_s": time.perf_counter() - t0})


def _best(res: PhaseResult, heur: list[PhaseResult], objective: str) -> PhaseResult:
    """The solver's answer, or a heuristic plan that beats its incumbent (bound kept)."""
    def key(r: PhaseResult):
        # Coverage: the discounted sum; minmax: the per-year worst times, compared in order.
        return (-r.objective,) if objective == "coverage" else tuple(round(v, 6) for v in r.by_year)

    best = res
    for h in heur:
        if h.has_solution and (not best.has_solution or key(h) < key(best)):
            best = h
    if best is res:
        return res
    gap = None if res.bound is None else backend.relative_gap(best.objective, res.bound)
    status = "optimal" if gap == 0.0 else "feasible"
    why = res.message if res.message else res.status
    return PhaseResult("multi-period", objective, status,
                       f"{best.method} plan kept: the solver stopped short ({why}); "
                       + ("proven optimal by the solver's bound" if status == "optimal" else
                          backend.incumbent_message("incumbent from a heuristic", gap)),
                       best.open_year, objective=best.objective, bound=res.bound, gap=gap,
                       by_year=best.by_year, solver=res.solver,
                       details={**res.details, "incumbent": best.method})


def _coverage_milp(probs, spec, robust, options, radii: list[float] | None = None) -> PhaseResult:
    """The coverage model; with ``radii``, every reachable row must also be reached within
    ``radii[t]`` in year t (the tie-break stage of the lexicographic minmax)."""
    p0 = probs[0]
    cost = spec.cost_of(p0)
    T = spec.n_years
    d = spec.discount.factors(T)
    lp = pulp.LpProblem("phase_coverage", pulp.LpMaximize)
    x, new_cols = _site_vars(lp, p0, spec, T - 1, cost)
    for t, r in enumerate(radii or []):
        _, groups, _ = _cover_groups(p0, r, new_cols)
        for g, cols in enumerate(groups):
            lp += pulp.lpSum(x[c][t] for c in cols) >= 1, f"radius_{g}_{t}"
    consts, covs = [], []
    n_groups = 0
    for k, p in enumerate(probs):
        const, groups, _ = _cover_groups(p, p.require_threshold("coverage"), new_cols)
        consts.append(const)
        per_year = []
        for t in range(T):
            terms = []
            for g, (cols, w) in enumerate(groups.items()):
                z = _var(lp, f"z_{k}_{g}_{t}", 0, 1)
                lp += z <= pulp.lpSum(x[c][t] for c in cols), f"cover_{k}_{g}_{t}"
                terms.append((z, w))
            per_year.append(pulp.LpAffineExpression(terms))
        n_groups += len(groups)
        covs.append(per_year)
    if len(probs) == 1:
        lp.setObjective(pulp.lpSum(float(d[t]) * covs[0][t] for t in range(T)))
        constant = float(consts[0] * d.sum())
    else:
        v = [_var(lp, f"worst_{t}", 0) for t in range(T)]
        for t in range(T):
            for k in range(len(probs)):
                lp += v[t] <= covs[k][t] + consts[k], f"worst_{k}_{t}"
        lp.setObjective(pulp.lpSum(float(d[t]) * v[t] for t in range(T)))
        constant = 0.0
    details = {"row_groups": n_groups, "site_vars": int(len(new_cols) * T), "periods": len(probs)}
    solver = backend.solver_label(options)
    if not lp.variables():
        oy = _base_open_year(p0)
        obj, by_year = plan_values(probs, spec, oy, robust=robust)
        return PhaseResult("multi-period", "coverage", "optimal", "nothing to decide", oy, obj, obj,
                           0.0, by_year, solver, details=details)
    out = backend.solve(lp, options, options.time_limit)
    # HiGHS reports an infinite dual bound when it stopped before the root bound: no bound.
    bound = None if out.bound is None or not math.isfinite(out.bound) else out.bound + constant
    if not out.has_solution:
        return PhaseResult("multi-period", "coverage", out.status, out.message, _base_open_year(p0),
                           bound=bound, solver=solver, solve_s=out.wall_s, details=details)
    oy = _open_year_from(x, p0, T)
    obj, by_year = plan_values(probs, spec, oy, robust=robust)
    solver_obj = out.objective + constant
    tol = 1e-5 * max(1.0, abs(obj))
    if solver_obj - obj > tol or (bound is not None and obj - bound > tol):
        return PhaseResult("multi-period", "coverage", "error",
                           f"internal check failed: recomputed coverage {obj:g} disagrees with the "
                           f"solver's {solver_obj:g} (bound {bound}); please report this instance",
                           oy, solver=solver, details=details)
    gap = None if bound is None else backend.relative_gap(obj, bound)
    status = "optimal" if gap == 0.0 else "feasible"
    message = out.message if status == "optimal" else backend.incumbent_message(
        out.reason or out.message, gap)
    return PhaseResult("multi-period", "coverage", status, message, oy, obj, bound, gap, by_year,
                       solver, out.wall_s, details)


def _feasible_within(p: PlacementProblem, spec: PhaseSpec, radii: list[float],
                     options: SolveOptions, time_limit: float | None):
    """Is there a plan with every reachable row within ``radii[t]`` in years 0..len(radii)−1?"""
    cost = spec.cost_of(p)
    t_last = len(radii) - 1
    lp = pulp.LpProblem("phase_minmax_probe", pulp.LpMinimize)
    x, new_cols = _site_vars(lp, p, spec, t_last, cost)
    reach = _reachable(p)
    for t, r in enumerate(radii):
        const, groups, rows_of = _cover_groups(p, r, new_cols)
        covered = np.zeros(p.n_demand, dtype=bool)
        for rows in rows_of.values():
            covered[rows] = True
        fixed_mask = np.zeros(p.n_candidates, dtype=bool)
        fixed_mask[list(p.fixed)] = True
        by_fixed = first_due(p.cost, fixed_mask) <= r
        if (reach & ~covered & ~by_fixed).any():
            return False, None, "infeasible"  # some row has no site at all within r
        for g, cols in enumerate(groups):
            lp += pulp.lpSum(x[c][t] for c in cols) >= 1, f"cover_{g}_{t}"
    lp.setObjective(pulp.lpSum(x[j][t_last] for j in x))
    if not lp.variables():
        return True, _base_open_year(p), "optimal"
    out = backend.solve(lp, SolveOptions(solver=options.solver, threads=options.threads,
                                         msg=options.msg), time_limit)
    if out.status == "infeasible":
        return False, None, "infeasible"
    if not out.has_solution:
        return None, None, out.status  # unknown: time limit or error
    return True, _open_year_from(x, p, t_last + 1), out.status


def _minmax_lex(p: PlacementProblem, spec: PhaseSpec, options: SolveOptions,
                heur: list[PhaseResult]) -> PhaseResult:
    """Lexicographic min of the worst first-due time, year by year, by bisection."""
    t0 = time.perf_counter()
    solver = backend.solver_label(options)
    reach = _reachable(p)
    values = np.unique(sparse.csr_array(p.cost).data)
    radii: list[float] = []
    plan = None
    proven = True
    probes = 0

    def left() -> float | None:
        return None if options.time_limit is None else options.time_limit - (
            time.perf_counter() - t0)

    start = next((h for h in heur if h.has_solution), None)
    for t in range(spec.n_years):
        # An upper end known to be feasible: the greedy plan in year 0, else a probe.
        known = start.open_year if (t == 0 and start is not None) else None
        prev = known if known is not None else (plan if plan is not None else _base_open_year(p))
        hi_val = _year_worst(p, (prev >= 0) & (prev <= t), reach)
        hi_i = int(np.searchsorted(values, hi_val, side="left")) if np.isfinite(hi_val) \
            else len(values) - 1
        hi_i = min(hi_i, len(values) - 1)
        if known is None:
            ok, oy, _ = _feasible_within(p, spec, radii + [float(values[hi_i])], options, left())
            probes += 1
            if ok is False and hi_i < len(values) - 1:
                hi_i = len(values) - 1
                ok, oy, _ = _feasible_within(p, spec, radii + [float(values[hi_i])], options, left())
                probes += 1
            if ok is False:
                return PhaseResult("multi-period", "minmax", "infeasible",
                                   f"no plan meets the budgets and site rules by {spec.years[t]}",
                                   _base_open_year(p), solver=solver, details={"probes": probes})
            if ok is None:
                proven = False
                break
            known = oy
        lo_i = 0
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            budget = left()
            if budget is not None and budget <= 0:
                proven = False
                break
            ok, oy, _ = _feasible_within(p, spec, radii + [float(values[mid])], options, budget)
            probes += 1
            if ok is None:
                proven = False
                break
            if ok:
                hi_i, known = mid, oy
            else:
                lo_i = mid + 1
        if not proven:
            break
        radii.append(float(values[hi_i]))
        plan = known
    if plan is None:
        plan = start.open_year if start is not None else _base_open_year(p)
    elif len(radii) < spec.n_years:
        # Later years were not reached: keep the proven years and add nothing after them.
        proven = False
    bad = plan_violations(p, spec, plan)
    if bad:
        if start is not None:
            plan = start.open_year
        else:
            return PhaseResult("multi-period", "minmax", "error", "plan breaks a rule: " + bad[0],
                               plan, solver=solver)
    details = {"probes": probes, "proven_years": len(radii)}
    tie = ""
    if proven and p.threshold is not None:
        # Among the plans that meet every year's minimal worst time, the most coverage.
        budget = left()
        second = _coverage_milp([p], spec, "worst", SolveOptions(
            solver=options.solver, threads=options.threads, msg=options.msg,
            time_limit=None if budget is None else max(budget, 1.0)), radii=radii)
        if second.has_solution and second.status in ("optimal", "feasible"):
            plan = second.open_year
            details["tie_break"] = {"objective": "coverage", "status": second.status,
                                    "gap": second.gap}
            tie = ("; among such plans, the most coverage summed over the years "
                   f"({second.status})")
    obj, by_year = plan_values(p, spec, plan, objective="minmax")
    status = "optimal" if proven else "feasible"
    message = ("lexicographic optimum: each year's worst first-due time proven minimal given the "
               "years before" + tie if proven else
               f"stopped after {len(radii)} of {spec.n_years} years (time limit); later years "
               "not proven")
    return PhaseResult("multi-period", "minmax", status, message, plan, obj, None,
                       0.0 if proven else None, by_year, solver, time.perf_counter() - t0, details)
