"""Fast heuristic incumbents: greedy construction plus swap (interchange) local search.

Every model first asks this module for a feasible set of open sites, so that
a time limit — or a solver that finds nothing in time — never leaves the user
without an answer. The exact phase then starts from it (MILP warm start, or
the p-center bisection's first upper bound) and only returns something else
when it is at least as good.

- MCLP: greedy by uncovered weight, then best-improvement swaps using the
  "covered once" bookkeeping (gain of the new site − loss of the old one +
  the weight both cover that only the old one covered), then a few rounds of
  iterated local search (close a fifth of the sites at random, refill
  greedily without them, swap again; keep the better set).
- LSCP: greedy by newly covered rows, then drop redundant sites.
- p-median: greedy add, then fast interchange (Whitaker 1983; Resende &
  Werneck 2004): with each row's nearest and second-nearest open site, the
  profit of every (out, in) swap comes from one pass over the matrix entries.
- p-center: bisection over the distinct travel times with the greedy cover
  as the feasibility test at each radius; on matrices of more than
  :data:`LARGE_PCENTER` entries, farthest-first (Gonzalez 1985): open the
  site nearest to the worst-served demand point, p times.

The heuristics honour forced, forbidden and existing sites, ``p``, budget and
type limits. Closable existing stations are kept open, which is feasible only
when no closing is required; with ``close_min > 0`` no heuristic incumbent is
made (the exact phase still runs). District rules are checked by the caller:
an incumbent that breaks them is not used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from coverage.optimise.matrix import (
    group_identical_rows,
    nearest_open,
    nearest_two,
    row_of_entries,
    within,
)
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.served import first_due, nearest_available
from coverage.optimise.sites import Columns

#: Relative improvement a swap must bring (guards against cycling on round-off).
EPS = 1e-9
#: Largest number of swaps; each is one pass over the matrix entries.
MAX_SWAPS = 500
#: MCLP iterated local search: at most this many perturbation rounds, and it stops
#: after :data:`PERTURB_STALL` rounds in a row that found nothing better.
PERTURB_ROUNDS = 100
PERTURB_STALL = 30
#: ... and it stops after max(PERTURB_MIN_S, PERTURB_FACTOR × the greedy + swap time).
PERTURB_MIN_S = 1.5
PERTURB_FACTOR = 3.0
#: Relative random noise on the refill's gains, so that refills differ from round to round.
PERTURB_NOISE = 0.05
#: Matrix entries above which the p-center heuristic is farthest-first (one pass over
#: the column indices per site) instead of the greedy-cover bisection (which builds
#: the coverage matrix and its transpose at every radius).
LARGE_PCENTER = 20_000_000


@dataclass(frozen=True)
class Incumbent:
    """A feasible set of open columns and its model objective (recomputed on the matrix)."""

    mask: np.ndarray
    objective: float
    method: str
    seconds: float = 0.0


class _Limits:
    """The site options of one problem, for checking a set of new sites quickly."""

    def __init__(self, problem: PlacementProblem, cols: Columns, p: int | None) -> None:
        self.pool = cols.var & cols.new
        # Closable stations stay open; forced new sites count against every limit.
        self.base = cols.const_open | (cols.var & ~cols.new)
        forced_new = cols.const_open & cols.new
        self.slots = None if p is None else p - int(forced_new.sum())
        self.costs = problem.costs if problem.budget is not None else None
        self.money = (None if self.costs is None
                      else problem.budget - float(self.costs[forced_new].sum()))
        types = np.asarray(problem.site_types)
        self.type_of = {t: types == t for t in problem.type_limits}
        self.type_left = {t: k - int((forced_new & (types == t)).sum())
                          for t, k in problem.type_limits.items()}

    def ok(self, chosen: np.ndarray) -> bool:
        """Whether the new-site mask ``chosen`` meets p, budget and type limits."""
        if self.slots is not None and chosen.sum() > self.slots:
            return False
        if self.money is not None and self.costs[chosen].sum() > self.money + 1e-9:
            return False
        return all(int((chosen & self.type_of[t]).sum()) <= k for t, k in self.type_left.items())

    def addable(self, chosen: np.ndarray) -> np.ndarray:
        """Pool columns that can be added to ``chosen`` without breaking a limit."""
        out = self.pool & ~chosen
        if self.slots is not None and chosen.sum() >= self.slots:
            return np.zeros_like(out)
        if self.money is not None:
            out &= self.costs <= self.money - self.costs[chosen].sum() + 1e-9
        for t, k in self.type_left.items():
            if int((chosen & self.type_of[t]).sum()) >= k:
                out &= ~self.type_of[t]
        return out


def _supported(problem: PlacementProblem, cols: Columns) -> bool:
    return problem.close_min == 0


def _swap_ok(lim: _Limits, chosen: np.ndarray, j: int, k: int) -> bool:
    trial = chosen.copy()
    trial[j], trial[k] = False, True
    return lim.ok(trial)


# --------------------------------------------------------------------------- covering
def _greedy_cover(A: sparse.csr_array, AT: sparse.csr_array, rows: np.ndarray,
                  base_count: np.ndarray, lim: _Limits) -> np.ndarray | None:
    """Greedy set cover of ``rows`` (bool) within the limits; None if it cannot finish."""
    chosen = np.zeros(lim.pool.size, dtype=bool)
    left = rows & (base_count == 0)
    while left.any():
        gain = AT @ left.astype(np.float64)
        gain[~lim.addable(chosen)] = -1
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            return None
        chosen[j] = True
        left[_rows_of(AT, j)] = False
    # Drop sites every row of which is covered by another open site (latest first).
    count = base_count + A @ chosen.astype(np.int64)
    for j in np.flatnonzero(chosen)[::-1]:
        r = _rows_of(AT, j)
        r = r[rows[r]]
        if (count[r] >= 2).all():
            chosen[j] = False
            count[_rows_of(AT, j)] -= 1
    return chosen


def _rows_of(AT: sparse.csr_array, j: int) -> np.ndarray:
    return AT.indices[AT.indptr[j]:AT.indptr[j + 1]]


def _cover_parts(problem: PlacementProblem, radius: float, lim: _Limits):
    A = within(problem.cost, radius)
    AT = sparse.csr_array(A.T)
    base_count = A @ lim.base.astype(np.int64)
    return A, AT, base_count


def lscp_incumbent(problem: PlacementProblem, cols: Columns, radius: float
                   ) -> Incumbent | None:
    """Greedy cover of every coverable row, redundant sites dropped."""
    t0 = time.perf_counter()
    if not _supported(problem, cols):
        return None
    lim = _Limits(problem, cols, None)
    A, AT, base_count = _cover_parts(problem, radius, lim)
    coverable = (base_count + A @ lim.pool.astype(np.int64)) > 0
    chosen = _greedy_cover(A, AT, coverable, base_count, lim)
    if chosen is None:
        return None
    mask = lim.base | chosen
    n_new = int((mask & ~problem.is_fixed).sum())
    return Incumbent(mask, float(n_new), "greedy cover", time.perf_counter() - t0)


def mclp_incumbent(problem: PlacementProblem, cols: Columns, radius: float, p: int,
                   deadline: float | None = None,
                   perturb_rounds: int = PERTURB_ROUNDS) -> Incumbent | None:
    """Greedy by uncovered weight, then best-improvement swaps.

    Up to ``perturb_rounds`` rounds of iterated local search follow
    (:func:`_mclp_perturb`; 0 for none), stopping early at ``deadline``.
    """
    t0 = time.perf_counter()
    if not _supported(problem, cols):
        return None
    lim = _Limits(problem, cols, p)
    A, AT, w = _open_rows(problem, radius, lim)
    chosen = np.zeros(lim.pool.size, dtype=bool)
    count = np.zeros(w.size, dtype=np.int64)  # open new sites covering each row
    while True:
        gain = AT @ (w * (count == 0))
        can = lim.addable(chosen)
        if not can.any():
            break
        gain[~can] = -1
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen[j] = True
        count[_rows_of(AT, j)] += 1
    chosen, swaps = _mclp_swaps(A, AT, w, lim, chosen, count, deadline)
    # The perturbation rounds get a few times what greedy + swaps took (at least
    # PERTURB_MIN_S), so that they stay a small share of the run at any size.
    spent = time.perf_counter() - t0
    stop = t0 + spent + max(PERTURB_MIN_S, PERTURB_FACTOR * spent)
    chosen, rounds, kicks = _mclp_perturb(A, AT, w, lim, chosen,
                                          stop if deadline is None else min(stop, deadline),
                                          rounds=perturb_rounds)
    mask = lim.base | chosen
    fd, _ = nearest_open(problem.cost, mask)
    method = f"greedy + {swaps} swaps"
    if rounds:
        method += f" + {rounds} perturbation rounds ({kicks} improved)"
    return Incumbent(mask, float(problem.weights[fd <= radius].sum()), method,
                     time.perf_counter() - t0)


def _open_rows(problem: PlacementProblem, radius: float, lim: _Limits
               ) -> tuple[sparse.csr_array, sparse.csr_array, np.ndarray]:
    """Coverage rows the new sites decide: ``A``, its transpose and the row weights.

    Rows the fixed stations already cover, and rows of zero weight, cannot
    change the covered weight, so they are left out; rows with the same
    covering sites act as one, with their weights summed (the swaps and
    perturbation rounds run on far fewer rows). Objectives are recomputed on
    the full matrix by the caller.
    """
    A, _, base_count = _cover_parts(problem, radius, lim)
    keep = np.flatnonzero((base_count == 0) & (problem.weights > 0))
    A = sparse.csr_array(A[keep])
    group, first = group_identical_rows(A.indptr, A.indices)
    w = np.bincount(group, weights=problem.weights[keep], minlength=first.size)
    A = sparse.csr_array(A[first])
    return A, sparse.csr_array(A.T), w


def _mclp_swaps(A: sparse.csr_array, AT: sparse.csr_array, w: np.ndarray, lim: _Limits,
                chosen: np.ndarray, count: np.ndarray, deadline: float | None
                ) -> tuple[np.ndarray, int]:
    """Best-improvement (out, in) swaps until none gains; ``count`` is updated in place."""
    chosen = chosen.copy()
    swaps = 0
    while swaps < MAX_SWAPS and chosen.any() and not _late(deadline):
        on = np.flatnonzero(chosen)
        once = w * (count == 1)
        gain = AT @ (w * (count == 0))
        loss = AT[on] @ once
        # extra[a, k]: weight covered only by on[a] that k would also cover.
        extra = (AT[on] @ sparse.diags_array(once) @ A).toarray()
        profit = gain[None, :] - loss[:, None] + extra
        profit[:, ~(lim.pool & ~chosen)] = -np.inf
        best = _best_swap(profit, on, chosen, lim, float(w.sum()))
        if best is None:
            break
        j, k = best
        chosen[j], chosen[k] = False, True
        count[_rows_of(AT, j)] -= 1
        count[_rows_of(AT, k)] += 1
        swaps += 1
    return chosen, swaps


def _mclp_perturb(A: sparse.csr_array, AT: sparse.csr_array, w: np.ndarray, lim: _Limits,
                  chosen: np.ndarray, deadline: float | None, rounds: int
                  ) -> tuple[np.ndarray, int, int]:
    """Iterated local search: close a few sites, refill greedily without them, swap again.

    A swap-optimal set is often a poor local optimum (one swap at a time cannot
    move two sites that cover for each other). Each round closes about a fifth
    of the open sites — in odd rounds at random, in even rounds one random site
    and the open sites sharing most demand with it — reopens sites greedily by
    uncovered weight (with :data:`PERTURB_NOISE` relative noise, the closed
    ones excluded), runs the swaps, and keeps the result when it covers more.
    ``A`` holds the rows the new sites decide (:func:`_open_rows`). It stops after ``rounds`` rounds, after :data:`PERTURB_STALL` rounds in
    a row without a better set, or at ``deadline``. The random generator is
    seeded, so the incumbent is reproducible. Returns the best set, the rounds
    run and how many of them improved it.
    """
    if not chosen.any() or rounds <= 0:
        return chosen, 0, 0
    rng = np.random.default_rng(0)
    tol = EPS * max(1.0, float(w.sum()))

    def value(mask: np.ndarray) -> float:
        return float(w[(A @ mask.astype(np.int64)) > 0].sum())

    best, best_val = chosen, value(chosen)
    done = improved = stall = 0
    while done < rounds and stall < PERTURB_STALL and not _late(deadline):
        done += 1
        stall += 1
        on = np.flatnonzero(best)
        k = max(2, on.size // 5)
        trial = best.copy()
        if done % 2:
            out = rng.choice(on, size=min(k, on.size), replace=False)
        else:
            # A neighbourhood: one site and the open sites sharing most demand with it.
            a = int(rng.choice(on))
            shared = AT[on] @ A[:, [a]].toarray().ravel()
            out = on[np.argsort(-shared, kind="stable")[:min(k, on.size)]]
        trial[out] = False
        count = A @ trial.astype(np.int64)
        while True:
            # The closed sites may not come straight back (the swaps may reopen them).
            can = lim.addable(trial)
            can[out] = False
            if not can.any():
                break
            gain = AT @ (w * (count == 0))
            gain = np.where(can, gain * (1.0 + PERTURB_NOISE * rng.random(gain.size)), -1.0)
            j = int(np.argmax(gain))
            if gain[j] <= 0:
                break
            trial[j] = True
            count[_rows_of(AT, j)] += 1
        trial, _ = _mclp_swaps(A, AT, w, lim, trial, count, deadline)
        val = value(trial)
        if val > best_val + tol and lim.ok(trial):
            best, best_val = trial, val
            improved += 1
            stall = 0
    return best, done, improved


def _best_swap(profit: np.ndarray, on: np.ndarray, chosen: np.ndarray, lim: _Limits,
               scale: float) -> tuple[int, int] | None:
    """The most profitable (out, in) swap that keeps the limits, if it gains enough."""
    tol = EPS * max(1.0, scale)
    flat = np.argsort(profit, axis=None)[::-1]
    for f in flat[:64]:
        a, k = np.unravel_index(f, profit.shape)
        if not profit[a, k] > tol:
            return None
        if _swap_ok(lim, chosen, int(on[a]), int(k)):
            return int(on[a]), int(k)
    return None


def _late(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() > deadline


# --------------------------------------------------------------------------- p-median
def pmedian_incumbent(problem: PlacementProblem, cols: Columns, p: int,
                      deadline: float | None = None) -> Incumbent | None:
    """Greedy add, then fast interchange; None if some reachable row stays unserved."""
    t0 = time.perf_counter()
    if not _supported(problem, cols):
        return None
    lim = _Limits(problem, cols, p)
    C = problem.cost
    w = problem.weights
    avail = lim.base | lim.pool
    reach = ~np.isinf(nearest_open(C, avail)[0])
    # Unserved reachable rows cost BIG, so that the search serves them first.
    big = (float(C.data.max(initial=0.0)) + 1.0) * 1e3
    rows = row_of_entries(C)
    wr = np.where(reach, w, 0.0)
    wr_big = np.where(reach, np.maximum(w, 1e-9), 0.0)  # a zero-weight row must still be served
    chosen = np.zeros(C.shape[1], dtype=bool)

    def costs(mask):
        d1, s1, d2 = nearest_two(C, mask)
        return np.minimum(d1, big), s1, np.minimum(d2, big)

    d1, s1, d2 = costs(lim.base)
    while True:
        can = lim.addable(chosen)
        if not can.any():
            break
        unserved = d1 >= big
        if _late(deadline) and not unserved[reach].any():
            break  # out of time: every reachable row is served, keep the sites so far
        e = can[C.indices]
        ww = np.where(unserved, wr_big, wr)
        gain = np.bincount(C.indices[e], weights=ww[rows[e]] *
                           np.maximum(0.0, d1[rows[e]] - C.data[e]), minlength=C.shape[1])
        gain[~can] = -1
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen[j] = True
        d1, s1, d2 = costs(lim.base | chosen)
    swaps = 0
    while swaps < MAX_SWAPS and chosen.any() and not _late(deadline):
        on = np.flatnonzero(chosen)
        slot = np.full(C.shape[1], -1)
        slot[on] = np.arange(on.size)
        ww = np.where(d1 >= big, wr_big, wr)
        cand = lim.pool & ~chosen
        e = cand[C.indices]
        er, ek, ec = rows[e], C.indices[e], C.data[e]
        gain = np.bincount(ek, weights=ww[er] * np.maximum(0.0, d1[er] - ec),
                           minlength=C.shape[1])
        mine = (s1 >= 0) & (slot[np.maximum(s1, 0)] >= 0)
        loss = np.bincount(slot[s1[mine]], weights=ww[mine] * (d2[mine] - d1[mine]),
                           minlength=on.size)
        x = mine[er] & (ec < d2[er])
        m = C.shape[1]
        extra = np.bincount(slot[s1[er[x]]] * m + ek[x],
                            weights=ww[er[x]] * (d2[er[x]] - np.maximum(ec[x], d1[er[x]])),
                            minlength=on.size * m).reshape(on.size, m)
        profit = gain[None, :] - loss[:, None] + extra
        profit[:, ~cand] = -np.inf
        best = _best_swap(profit, on, chosen, lim, float((ww * d1).sum()))
        if best is None:
            break
        j, k = best
        chosen[j], chosen[k] = False, True
        d1, s1, d2 = costs(lim.base | chosen)
        swaps += 1
    mask = lim.base | chosen
    fd, _ = nearest_open(C, mask)
    if np.isinf(fd[reach]).any():
        return None
    return Incumbent(mask, float((w[reach] * fd[reach]).sum()),
                     f"greedy + fast interchange ({swaps} swaps)", time.perf_counter() - t0)


# --------------------------------------------------------------------------- p-center
def pcenter_incumbent(problem: PlacementProblem, cols: Columns, p: int,
                      deadline: float | None = None) -> Incumbent | None:
    """Bisection on the distinct travel times, greedy cover as the test at each radius."""
    t0 = time.perf_counter()
    if not _supported(problem, cols):
        return None
    lim = _Limits(problem, cols, p)
    C = problem.cost
    if C.nnz > LARGE_PCENTER:
        return _farthest_first(C, lim, t0)
    avail = lim.base | lim.pool
    fd_all, _ = nearest_open(C, avail)
    reach = ~np.isinf(fd_all)
    lo_val = float(fd_all[reach].max(initial=0.0))
    values = np.unique(C.data[avail[C.indices] & (C.data >= lo_val)])
    if values.size == 0:
        mask = lim.base.copy()
        return Incumbent(mask, 0.0, "no demand to serve", time.perf_counter() - t0)
    best = None
    lo, hi = 0, values.size - 1
    while lo <= hi and not (_late(deadline) and best is not None):
        mid = (lo + hi) // 2 if best is not None else hi
        A = within(C, float(values[mid]))
        AT = sparse.csr_array(A.T)
        base_count = A @ lim.base.astype(np.int64)
        chosen = _greedy_cover(A, AT, reach, base_count, lim)
        if chosen is None:
            if best is None:
                return None
            lo = mid + 1
            continue
        mask = lim.base | chosen
        fd, _ = nearest_open(C, mask)
        r = float(fd[reach].max(initial=0.0))
        best = (r, mask)
        hi = int(np.searchsorted(values, r)) - 1
    if best is None:
        return None
    return Incumbent(best[1], best[0], "greedy cover bisection", time.perf_counter() - t0)


def _farthest_first(C: sparse.csr_array, lim: _Limits, t0: float) -> Incumbent | None:
    """Farthest-first traversal: the site nearest the worst-served reachable row, p times."""
    reach = np.isfinite(nearest_available(C, lim.base | lim.pool))
    chosen = np.zeros(C.shape[1], dtype=bool)
    d, _ = first_due(C, lim.base, want_site=False)
    while True:
        can = lim.addable(chosen)
        worst = np.where(reach, d, -1.0)
        i = int(np.argmax(worst))
        if not can.any() or worst[i] <= 0:
            break
        js = C.indices[C.indptr[i]:C.indptr[i + 1]]
        cs = C.data[C.indptr[i]:C.indptr[i + 1]]
        ok = can[js] & (cs < d[i])
        if not ok.any():
            break  # no site left that brings the worst row closer
        j = int(js[ok][np.argmin(cs[ok])])
        chosen[j] = True
        one = np.zeros_like(chosen)
        one[j] = True
        d = np.minimum(d, first_due(C, one, want_site=False)[0])
    if np.isinf(d[reach]).any():
        return None
    return Incumbent(lim.base | chosen, float(d[reach].max(initial=0.0)), "farthest-first",
                     time.perf_counter() - t0)
