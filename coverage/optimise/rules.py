"""District rules checked on a solution, and the cuts that enforce them lazily.

A site's *district* is the demand whose nearest open site (by travel time,
ties to the lowest column index) it is. The small-station area rule
(建标152-2017: a 小型站's district ≤ 2 km²) is checked here on the cost matrix;
rules that need geometry, such as "a small district borders a full station's
district", are checked by the caller through a ``check`` callback returning
:class:`Violation` objects.

Area cuts
---------
Say column ``j`` *beats* ``s`` at demand row ``i`` when it is strictly nearer
to ``i``, or equally near with a lower index (the closest-assignment order).
Take any set ``O`` of open columns with ``s`` open and district ``D`` of area
``a(D)`` above the cap. A row of ``D`` has no column of ``O`` that beats ``s``.
In any other solution ``O'`` with ``s`` open, such a row therefore leaves
``s``'s district only if a column of ``O' \\ O`` beats ``s`` there — closing
columns of ``O`` (an existing station in the closing what-if, say) never takes
a row away from ``s``, so the argument needs no "add-only" restriction. With
``A(r, s)`` the area of the rows of ``D`` that ``r`` beats ``s`` at, ``s``'s
district in ``O'`` keeps at least ``a(D) − Σ_{r ∈ O' \\ O} A(r, s)``, so every
solution that obeys the cap satisfies the knapsack-cover inequality

    Σ_{r ∉ O} A(r, s) · open_r  ≥  (a(D) − cap_s) · open_s.

Capping each ``A(r, s)`` at ``a(D) − cap_s`` keeps it valid (one such column
alone meets the right-hand side) and tightens its LP relaxation; dividing by
the excess gives the form used: ``Σ min(1, A(r, s) / excess) · open_r ≥
open_s``. It implies the plain cover cut ``Σ_{A(r, s) > 0} open_r ≥ open_s``.

``O`` need not be a solution of the model: :func:`seed_cuts` uses
``O = {columns open in every solution} ∪ {s}`` for every capped column before
the first solve, so that no site with a district too large to begin with is
opened on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from coverage.optimise.matrix import nearest_open, row_of_entries
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.sites import Columns, Cut

#: Relative and absolute slack on an area cap (km²): a district this little above
#: its cap counts as obeying it, and the cuts only ask for the excess beyond it.
CAP_RTOL, CAP_ATOL = 1e-9, 1e-12
#: Cut coefficients are rounded *up* to this step, which only weakens a ≥ cut,
#: so that no solver drops a tiny coefficient (which would tighten it).
COEF_STEP = 1e-6


@dataclass(frozen=True)
class Violation:
    """One broken district rule in a solution.

    Attributes
    ----------
    rule : str
        Short rule name, e.g. ``"area"`` or ``"adjacency"``.
    site : int
        Candidate column at fault (an open site).
    message : str
        Planner-readable description.
    remedy : tuple of int, optional
        Columns whose opening could repair the violation while ``site`` stays
        open. Without ``relief`` the cut is ``open[site] <= Σ open[remedy]``.
        ``None`` means the caller cannot say; the solver then cuts off exactly
        this set of open sites (a no-good cut: valid, but weaker).
    value, limit : float, optional
        Measured value and its limit (e.g. km²).
    relief : tuple of float, optional
        Aligned with ``remedy``: how much of ``value`` each remedy column would
        take away if it opened (km² for the area rule).
    need : float, optional
        How much the remedy columns must take away together (> 0). With
        ``relief`` the cut is the knapsack cover
        ``Σ min(1, relief / need) · open[remedy] >= open[site]``.
    blockers : tuple of int, optional
        Open columns of which at least one must close for ``site`` to meet
        the rule, whatever else opens: the cut is
        ``open[site] <= Σ (1 − open[blockers])``. Stronger than a no-good cut
        (which also lets any closed column open), valid for rules that opening
        more sites can never repair, such as the 建标152 adjacency rule.
    """

    rule: str
    site: int
    message: str
    remedy: tuple[int, ...] | None = None
    value: float | None = None
    limit: float | None = None
    relief: tuple[float, ...] | None = None
    need: float | None = None
    blockers: tuple[int, ...] | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"rule": self.rule, "site": self.site, "message": self.message,
                "value": self.value, "limit": self.limit}


#: A caller-supplied rule: sorted open column indices → violations.
Check = Callable[[np.ndarray], Sequence[Violation]]


def district_areas(problem: PlacementProblem, open_mask: np.ndarray) -> np.ndarray:
    """District area (km²) of every column under closest assignment (0 if closed)."""
    _, site = nearest_open(problem.cost, open_mask)
    served = site >= 0
    return np.bincount(site[served], weights=problem.area_km2[served],
                       minlength=problem.n_candidates)


def _allowed(cap: np.ndarray) -> np.ndarray:
    return cap * (1 + CAP_RTOL) + CAP_ATOL


def _beats(cost: np.ndarray, col: np.ndarray, to_s: np.ndarray, s: np.ndarray | int
           ) -> np.ndarray:
    """Whether column ``col`` is nearer than ``s`` (at ``to_s`` seconds), ties to the lower index."""
    return (cost < to_s) | ((cost == to_s) & (col < s))


def _relief(problem: PlacementProblem, s: int, rows: np.ndarray, to_s: np.ndarray,
            takers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns of ``takers`` that beat ``s`` at some of ``rows``, and the area they would take.

    ``rows`` is a district of ``s`` and ``to_s`` the travel times from ``s`` to them.
    """
    sub = problem.cost[rows]
    k = row_of_entries(sub)
    col = sub.indices
    take = takers[col] & _beats(sub.data, col, to_s[k], s)
    got = np.bincount(col[take], weights=problem.area_km2[rows][k[take]],
                      minlength=problem.n_candidates)
    # A column that would take no land cannot help: leaving it out is exact.
    cols = np.flatnonzero(got > 0)
    return cols, got[cols]


def area_violations(problem: PlacementProblem, open_mask: np.ndarray) -> list[Violation]:
    """Open sites whose district exceeds their area cap, each with its knapsack cut data.

    For a violating site ``s``, ``remedy`` lists every closed column that is
    nearer than ``s`` (or equally near with a lower index) to some demand in
    ``s``'s district, ``relief`` the land area of that demand, and ``need``
    the district's excess over the cap (see the module docstring for why the
    resulting cut removes no solution that obeys the rule).
    """
    if not problem.has_area_rule:
        return []
    first_due, site = nearest_open(problem.cost, open_mask)
    served = site >= 0
    area = np.bincount(site[served], weights=problem.area_km2[served],
                       minlength=problem.n_candidates)
    cap = problem.area_cap_km2
    excess = area - _allowed(cap)
    out = []
    for j in np.flatnonzero(open_mask & (excess > 0)):
        rows = np.flatnonzero(site == j)
        remedy, relief = _relief(problem, int(j), rows, first_due[rows], ~open_mask)
        out.append(Violation(
            rule="area", site=int(j), value=float(area[j]), limit=float(cap[j]),
            remedy=tuple(int(k) for k in remedy), relief=tuple(float(a) for a in relief),
            need=float(excess[j]),
            message=(f"site {problem.candidate_ids[j]!r} ({problem.site_types[j]}) has a "
                     f"district of {area[j]:.3f} km², above its cap of {cap[j]:g} km²"),
        ))
    return out


#: Largest number of matrix entries :func:`seed_cuts` reads in total. Seed cuts only
#: strengthen the first model (the lazy-cut loop enforces the rule anyway), so on a
#: very large instance the seeding stops here rather than holding up the solve.
SEED_WORK_ENTRIES = 30_000_000


def seed_cuts(problem: PlacementProblem, cols: Columns, *,
              deadline: float | None = None) -> list[Cut]:
    """Area cuts known before any solve, one per capped column that needs one.

    For every capped column ``s`` that may open, take ``O`` = the columns open
    in every solution plus ``s``: ``s``'s district is then the demand for
    which ``s`` beats every such column. If that district is above the cap,
    the knapsack cut of the module docstring says which new sites must open
    beside ``s`` (and ``s`` stays closed when none can help).

    Columns are seeded in order of decreasing excess. Seeding stops, keeping
    the cuts made so far, at ``deadline`` (a ``time.perf_counter()`` value)
    or after reading :data:`SEED_WORK_ENTRIES` matrix entries: the cuts are
    optional, the lazy-cut loop still enforces the rule on every solution.
    """
    if not problem.has_area_rule:
        return []
    cost = problem.cost
    first_due, site = nearest_open(cost, cols.const_open)
    r, c = row_of_entries(cost), cost.indices
    capped = cols.available & np.isfinite(problem.area_cap_km2)
    own = capped[c] & ((c == site[r]) | _beats(cost.data, c, first_due[r], site[r]))
    own_col, own_row, own_s = c[own], r[own], cost.data[own]
    area = np.bincount(own_col, weights=problem.area_km2[own_row],
                       minlength=problem.n_candidates)
    cap = problem.area_cap_km2
    excess = area - _allowed(cap)
    # Group the district entries by column; rows stay sorted within each group.
    order = np.argsort(own_col, kind="stable")
    own_col, own_row, own_s = own_col[order], own_row[order], own_s[order]
    cuts = []
    row_len = np.diff(cost.indptr)
    work = 0
    for s in sorted(np.flatnonzero(excess > 0), key=lambda k: -excess[k]):
        if deadline is not None and time.perf_counter() > deadline:
            break
        lo, hi = np.searchsorted(own_col, [s, s + 1])
        work += int(row_len[own_row[lo:hi]].sum())
        if work > SEED_WORK_ENTRIES:
            break
        remedy, relief = _relief(problem, int(s), own_row[lo:hi], own_s[lo:hi], cols.var)
        cuts.append(_knapsack(int(s), remedy, relief, float(excess[s]), (
            f"site {problem.candidate_ids[s]!r} ({problem.site_types[s]}) would have a "
            f"district of {area[s]:.3f} km² beside the sites open in every solution, "
            f"above its cap of {cap[s]:g} km²")))
    return cuts


def _knapsack(s: int, remedy: np.ndarray, relief: np.ndarray, need: float,
              reason: str) -> Cut:
    """``Σ min(1, relief / need) · open[remedy] >= open[s]``, coefficients rounded up."""
    coef = np.minimum(np.ceil(np.minimum(relief / need, 1.0) / COEF_STEP) * COEF_STEP, 1.0)
    terms = tuple((int(j), float(a)) for j, a in zip(remedy, coef, strict=True))
    return Cut(coef=terms + ((s, -1.0),), rhs=0.0, reason=reason)


def cut_for(violation: Violation, open_mask: np.ndarray, cols: Columns) -> Cut:
    """The inequality that removes the violating solution (see :class:`Violation`)."""
    if violation.blockers is not None:
        coef = tuple((int(k), -1.0) for k in violation.blockers) + ((violation.site, -1.0),)
        return Cut(coef=coef, rhs=-float(len(violation.blockers)), reason=violation.message)
    if violation.remedy is not None and violation.relief is not None \
            and violation.need is not None:
        return _knapsack(violation.site, np.asarray(violation.remedy, dtype=np.int64),
                         np.asarray(violation.relief), float(violation.need),
                         violation.message)
    if violation.remedy is not None:
        coef = tuple((k, 1.0) for k in violation.remedy) + ((violation.site, -1.0),)
        return Cut(coef=coef, rhs=0.0, reason=violation.message)
    on = np.flatnonzero(cols.var & open_mask)
    off = np.flatnonzero(cols.var & ~open_mask)
    coef = tuple((int(j), 1.0) for j in off) + tuple((int(j), -1.0) for j in on)
    return Cut(coef=coef, rhs=1.0 - on.size, reason=violation.message)


def breaks_rules(problem: PlacementProblem, open_mask: np.ndarray, check: Check | None) -> bool:
    """Whether a solution breaks a rule: :func:`violations` without building any cut data."""
    if problem.has_area_rule and (district_areas(problem, open_mask)
                                  > _allowed(problem.area_cap_km2)).any():
        return True
    return check is not None and bool(check(np.flatnonzero(open_mask)))


def violations(problem: PlacementProblem, open_mask: np.ndarray,
               check: Check | None) -> list[Violation]:
    """All rule violations of a solution: the area rule, then the caller's check."""
    found = area_violations(problem, open_mask)
    if check is not None:
        found.extend(check(np.flatnonzero(open_mask)))
    return found
