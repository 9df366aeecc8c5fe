"""Best-first search over sets of new sites: exact MCLP under district rules for small p.

Why not only the MILP: with a handful of new sites the LP relaxation of MCLP is
weak (Yuzhong's land demand, p = 3: 20 % above the optimum), so each round of
the lazy-cut loop is a branch-and-bound of tens of seconds, and the district
rules may need several rounds. The covered weight is a submodular function of
the open set, which bounds every extension of a set cheaply and much more
tightly (Nemhauser, Wolsey & Fisher 1978), and the rules need checking on whole
sets only.

The tree
--------
Order the candidate columns by the weight each covers alone (largest first). A
node is a set ``S`` of new sites; its children add one column later in the
order than ``S``'s last, so every set of at most ``k`` new sites (``k`` = p less
the forced new sites) is met exactly once. Write ``f(S)`` for the weight
covered by ``S`` and the columns open in every solution, and
``g_j(S) = f(S ∪ {j}) − f(S)``. Submodularity gives, for every ``T ⊇ S``,
``f(T) ≤ f(S) + Σ_{j ∈ T∖S} g_j(S)``; and ``g_j(S ∪ {q}) ≤ g_j(S)``. So every
set below child ``S ∪ {q}`` — it plus at most ``r = k − |S| − 1`` columns after
``q`` — covers at most

    f(S) + g_q(S) + (the r largest g_j(S) over the columns j after q).

The search
----------
A queue holds *sets* (key ``f(S)``: to be checked against the rules) and
*subtrees* (the strict extensions of a set; key: the bound above). The largest
key is taken first. A set that obeys the rules, taken when no queued key is
larger, is optimal: every set not yet checked is a queued set or lies in a
queued subtree, with a key no larger. Nothing with a key at or below the
incumbent's value (the rule-abiding heuristic) is queued, since nothing there
beats it. Hence at any stop the larger of the incumbent's value and the
largest queued key bounds the optimum (the bound reported at a time limit); an
empty queue proves the incumbent optimal — or, with none, that no admissible
set obeys the rules (infeasible).

Site options: the budget and the type limits only grow along a branch, so a
child that breaks one is dropped with its whole subtree. Closable stations are
not handled here (:func:`applies` says so; the MILP handles them).

The rules' cuts
---------------
Every cut of :mod:`coverage.optimise.rules` (the seeds, and the cut of every
violation met) holds at every rule-abiding set, so a set that breaks one is
skipped without running the check. A subtree is dropped when none of its sets
can meet a cut: the cut's left-hand side at its root set, plus ``r`` times the
largest positive coefficient of a later column (at most the sum of the ``r``
largest), stays below the right-hand side. A blockers cut, say, all of whose
coefficients are negative, drops the whole subtree of a set that holds the
site and all its blockers, since opening more sites cannot repair that rule.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from coverage.optimise.heuristic import Incumbent
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.rules import Check, Violation, cut_for, violations
from coverage.optimise.sites import Columns, Cut

#: Most queue entries the search holds before it hands over to the MILP (memory guard:
#: about 150 bytes each).
MAX_QUEUE = 1_000_000
#: Most entries of the dense cut table (cuts × columns, 8 bytes each, three copies at a
#: time). Past it, later cuts are not used to skip sets: every set is still checked
#: against the rules, so the search stays exact, only slower.
MAX_TABLE_ENTRIES = 4_000_000


@dataclass
class SearchOutcome:
    """Where the set search ended.

    ``mask`` and ``value`` are the best rule-abiding set known (the search's or
    the incumbent's; None when neither), ``bound`` a valid upper bound on the
    rule-abiding optimum. ``proven`` means ``value == bound`` was established
    (or, with ``mask`` None, that no admissible set obeys the rules). ``stopped``
    says why an unproven search ended (``"time limit"`` or ``"search limit"``).
    """

    mask: np.ndarray | None
    value: float | None
    bound: float | None
    proven: bool
    stopped: str = ""
    found_by_search: bool = False
    sets_checked: int = 0
    expanded: int = 0
    check_s: float = 0.0
    seconds: float = 0.0
    cuts: list[Cut] = field(default_factory=list)
    example: list[Violation] = field(default_factory=list)
    root_reason: str | None = None

    def as_dict(self) -> dict:
        """JSON-ready summary for ``result.details``."""
        return {"proven": self.proven, "stopped": self.stopped, "expanded": self.expanded,
                "sets_checked": self.sets_checked,
                "cuts": len(self.cuts), "rule_check_s": round(self.check_s, 3),
                "seconds": round(self.seconds, 3)}


def applies(problem: PlacementProblem, cols: Columns) -> bool:
    """Whether the search handles these site options (everything but closable stations)."""
    return not (cols.var & ~cols.new).any() and problem.close_min == 0


class _CutTable:
    """Cuts as a dense matrix over the search's column positions, constants folded in."""

    def __init__(self, pos_of: np.ndarray, const_open: np.ndarray, n: int) -> None:
        self.pos_of, self.const_open, self.n = pos_of, const_open, n
        self.rows: list[np.ndarray] = []
        self.rhs_list: list[float] = []
        self.reasons: list[str] = []
        self._dirty = True

    def add(self, cut: Cut) -> None:
        if (len(self.rows) + 1) * self.n > MAX_TABLE_ENTRIES:
            return
        row = np.zeros(self.n)
        rhs = cut.rhs
        for j, c in cut.coef:
            if self.pos_of[j] >= 0:
                row[self.pos_of[j]] += c
            elif self.const_open[j]:
                rhs -= c
        self.rows.append(row)
        self.rhs_list.append(rhs)
        self.reasons.append(cut.reason)
        self._dirty = True

    def _refresh(self) -> None:
        if not self._dirty:
            return
        k = len(self.rows)
        self.C = np.array(self.rows) if k else np.zeros((0, self.n))
        self.rhs = np.array(self.rhs_list) - 1e-9
        pos = np.maximum(self.C, 0.0)
        # Largest positive coefficient at a position strictly after q.
        after = np.zeros((k, self.n))
        if self.n > 1:
            after[:, :-1] = np.maximum.accumulate(pos[:, ::-1], axis=1)[:, ::-1][:, 1:]
        self.max_after = after
        self._dirty = False

    def holds(self, S: tuple[int, ...]) -> bool:
        """Whether the set ``S`` (positions) meets every cut."""
        return not self.rows or bool((self.lhs(S) >= self.rhs).all())

    def broken(self, S: tuple[int, ...]) -> str | None:
        """The reason of a cut ``S`` breaks, or None."""
        if not self.rows:
            return None
        bad = np.flatnonzero(self.lhs(S) < self.rhs)
        return self.reasons[bad[0]] if bad.size else None

    def lhs(self, S: tuple[int, ...]) -> np.ndarray:
        self._refresh()
        return self.C[:, list(S)].sum(axis=1) if S else np.zeros(len(self.rows))

    def children_ok(self, S: tuple[int, ...], first: int, r: int
                    ) -> tuple[np.ndarray, np.ndarray]:
        """For children ``S ∪ {q}``, q ≥ first: does the set meet every cut, can its subtree?"""
        self._refresh()
        width = self.n - first
        if not self.rows:
            return np.ones(width, bool), np.ones(width, bool)
        child = self.lhs(S)[:, None] + self.C[:, first:]
        sets = (child >= self.rhs[:, None]).all(axis=0)
        if r <= 0:
            return sets, np.zeros(width, bool)
        subs = (child + r * self.max_after[:, first:] >= self.rhs[:, None]).all(axis=0)
        return sets, subs


def _top_after(g: np.ndarray, r: int) -> np.ndarray:
    """``out[q]`` = sum of the ``r`` largest ``g`` at positions after ``q`` (r ≥ 1)."""
    n = g.size
    out = np.zeros(n)
    if r == 1:
        if n > 1:
            out[:-1] = np.maximum.accumulate(g[::-1])[::-1][1:]
        return out
    heap: list[float] = []
    total = 0.0
    for q in range(n - 1, -1, -1):
        out[q] = total
        v = float(g[q])
        if len(heap) < r:
            heapq.heappush(heap, v)
            total += v
        elif v > heap[0]:
            total += v - heapq.heapreplace(heap, v)
    return out


def search_sets(problem: PlacementProblem, cols: Columns, radius: float, p: int,
                check: Check | None, *, incumbent: Incumbent | None = None,
                cuts: list[Cut] | None = None, deadline: float | None = None,
                max_queue: int | None = None) -> SearchOutcome:
    """Best rule-abiding set of at most ``p`` new sites by covered weight (see the module).

    Parameters
    ----------
    problem : PlacementProblem
        With :func:`applies` true.
    cols : Columns
        Its :func:`~coverage.optimise.sites.classify`.
    radius : float
        Coverage threshold (s).
    p : int
        Largest number of new sites, forced ones included.
    check : callable or None
        The caller's rule (as for :func:`coverage.optimise.mclp`).
    incumbent : Incumbent, optional
        A rule-abiding solution: prunes the search and is kept if nothing beats it.
    cuts : list of Cut, optional
        Valid rule cuts known already (e.g. the seeds); extended in place with
        the cut of every violation the search meets.
    deadline : float, optional
        ``time.perf_counter()`` value to stop at.
    max_queue : int, optional
        Queue size at which the search stops (``stopped="search limit"``);
        default :data:`MAX_QUEUE`.
    """
    max_queue = MAX_QUEUE if max_queue is None else max_queue
    t_start = time.perf_counter()
    t_check = 0.0
    cuts = [] if cuts is None else cuts
    var = np.flatnonzero(cols.var & cols.new)
    forced_new = cols.const_open & cols.new
    k = p - int(forced_new.sum())
    within = problem.cost.copy()
    within.data = (within.data <= radius).astype(np.float64)
    within.eliminate_zeros()
    w = np.asarray(problem.weights, dtype=np.float64)
    base = cols.const_open.copy()
    covered0 = (within @ base.astype(np.float64)) > 0
    f0 = float(w[covered0].sum())
    live = np.flatnonzero(~covered0 & (w > 0))
    W = sparse.csr_array(within[live][:, var])
    wl = w[live]
    g0 = W.T @ wl
    order = np.lexsort((var, -g0))
    var, g0 = var[order], g0[order]
    W = sparse.csr_array(W[:, order])
    WT = sparse.csr_array(W.T)
    n = var.size
    pos_of = np.full(problem.n_candidates, -1, dtype=np.int64)
    pos_of[var] = np.arange(n)
    table = _CutTable(pos_of, cols.const_open, n)
    for cut in cuts:
        table.add(cut)
    # Site options that only grow along a branch.
    money = costs = None
    if problem.budget is not None:
        costs = problem.costs[var]
        money = problem.budget - float(problem.costs[forced_new].sum()) + 1e-9
    types = np.asarray(problem.site_types)
    type_rows = [(types[var] == t, lim - int((forced_new & (types == t)).sum()))
                 for t, lim in problem.type_limits.items()]

    inc_mask = None if incumbent is None else incumbent.mask
    inc_value = -np.inf if incumbent is None else float(incumbent.objective)
    tol = 1e-9 * max(1.0, float(w.sum()))
    out = SearchOutcome(mask=inc_mask, value=None if incumbent is None else inc_value,
                        bound=None, proven=False, cuts=cuts)

    def admissible_children(S: tuple[int, ...], first: int) -> np.ndarray:
        ok = np.ones(n - first, dtype=bool)
        if money is not None:
            ok &= costs[first:] <= money - float(costs[list(S)].sum())
        for is_t, left in type_rows:
            if int(is_t[list(S)].sum()) >= left:
                ok &= ~is_t[first:]
        return ok

    def coverage(S: tuple[int, ...]) -> tuple[float, np.ndarray]:
        unc = np.ones(live.size, dtype=bool)
        for q in S:
            unc[WT.indices[WT.indptr[q]:WT.indptr[q + 1]]] = False
        return f0 + float(wl[~unc].sum()), WT @ (wl * unc)

    queue: list = []
    seq = 0

    def push(key: float, S: tuple[int, ...], subtree: bool) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(queue, (-key, seq, subtree, S))

    # Why the sites open in every solution alone break the rules, if they do.
    out.root_reason = table.broken(())
    if k >= 0 and out.root_reason is None and f0 > inc_value + tol:
        push(f0, (), False)
    root_bound = f0 + float(np.sort(g0)[::-1][:k].sum())
    if k >= 1 and root_bound > inc_value + tol:
        push(root_bound, (), True)
    while queue:
        if deadline is not None and time.perf_counter() > deadline:
            out.stopped = "time limit"
            break
        if len(queue) > max_queue:
            out.stopped = "search limit"
            break
        neg, _, subtree, S = heapq.heappop(queue)
        key = -neg
        if key <= inc_value + tol:
            queue.clear()
            break
        if not subtree:
            if not table.holds(S):
                continue  # a cut met since it was queued removes it
            mask = base.copy()
            mask[var[list(S)]] = True
            out.sets_checked += 1
            t0 = time.perf_counter()
            found = violations(problem, mask, check)
            t_check += time.perf_counter() - t0
            if not found:
                out.mask, out.value, out.bound = mask, key, key
                out.proven = out.found_by_search = True
                out.check_s, out.seconds = t_check, time.perf_counter() - t_start
                return out
            if not out.example:
                out.example = list(found)
            for v in found:
                cut = cut_for(v, mask, cols)
                cuts.append(cut)
                table.add(cut)
            continue
        out.expanded += 1
        fS, g = coverage(S)
        first = S[-1] + 1 if S else 0
        if first >= n:
            continue
        r = k - len(S) - 1
        vals = fS + g[first:]
        set_ok, sub_ok = table.children_ok(S, first, r)
        adm = admissible_children(S, first)
        set_ok &= adm & (vals > inc_value + tol)
        for i in np.flatnonzero(set_ok):
            push(float(vals[i]), S + (first + int(i),), False)
        if r >= 1:
            ub = vals + _top_after(g, r)[first:]
            sub_ok &= adm & (ub > inc_value + tol)
            for i in np.flatnonzero(sub_ok):
                push(float(ub[i]), S + (first + int(i),), True)
    out.check_s, out.seconds = t_check, time.perf_counter() - t_start
    if queue:
        top = -queue[0][0]
        out.bound = max(top, inc_value) if np.isfinite(inc_value) else top
        return out
    # Queue emptied: nothing beats the incumbent (or no admissible set obeys the rules).
    out.proven = True
    out.bound = out.value
    return out
