"""p-center by client row generation; each covering probe built as arrays for HiGHS.

Contardo, Iori & Kramer (2019, "A scalable exact algorithm for the vertex
p-center problem", Computers & OR 103) observe that the p-center optimum is
fixed by a few critical clients. Solve the problem on a small client subset
S; its optimum is a lower bound for all clients (a relaxation), and any
solution it returns, evaluated on all clients, is an upper bound. Clients the
subset solution leaves too far away join S, and the search goes on:

* the search is a bisection over radii r taken from the distinct times of the
  rows in S only (the subset's optimum is one of them), never over every
  entry of the matrix;
* a probe asks "can at most p new sites, with the open stations, reach every
  client of S within r?" — a set-covering feasibility MILP with |S| rows,
  built as arrays and passed to highspy (no PuLP expressions);
* infeasible: the optimum exceeds r, so the lower bound moves to the next time
  above r in the rows of S;
* feasible: the sites are evaluated on all clients. Every such set is a
  candidate upper bound (if it obeys the district rules). If some clients are
  farther than r, the worst of each open site's district joins S and the same
  radius is probed again; otherwise the upper bound is at most r.

District-rule cuts (:mod:`coverage.optimise.rules`) only speak about which
sites open, so they are valid at every radius and carried between probes; a
probe's infeasibility therefore proves a bound for the rule-constrained
problem. The bound and incumbent are valid at every moment, so a time limit
returns the best rule-abiding sites with the proven lower bound.

The compact assignment formulation and the full-matrix bisection through PuLP
stay in :mod:`coverage.optimise.pcenter` as cross-checks (and for CBC).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from coverage.optimise import backend
from coverage.optimise.backend import SolveOptions
from coverage.optimise.benders import _add_rule_cut, _site_rows
from coverage.optimise.heuristic import Incumbent
from coverage.optimise.presolve import dominated_columns
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.rules import Check, Violation, cut_for, violations
from coverage.optimise.served import first_due, nearest_available
from coverage.optimise.sites import Columns, Cut


@dataclass
class RowGenOutcome:
    """What the row generation established (objective and bound in seconds)."""

    status: str  # "optimal", "feasible", "infeasible", "rules", "timeout"
    mask: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    source: str = ""
    probes: list[tuple[float, str, int]] = field(default_factory=list)
    clients: int = 0
    solves: int = 0
    violations: list[Violation] = field(default_factory=list)
    broken_mask: np.ndarray | None = None
    message: str = ""


class _Subset:
    """The client subset S and its rows of the cost matrix (available columns only)."""

    def __init__(self, csr: sparse.csr_array, available: np.ndarray) -> None:
        self.csr = csr
        self.available = available
        self.rows = np.zeros(0, dtype=np.int64)
        self.sub: sparse.csr_array | None = None

    def add(self, rows: np.ndarray) -> int:
        new = np.setdiff1d(np.asarray(rows, dtype=np.int64), self.rows)
        if new.size:
            self.rows = np.r_[self.rows, new]
            self.sub = None
        return int(new.size)

    def matrix(self) -> sparse.csr_array:
        if self.sub is None:
            sub = self.csr[self.rows]
            keep = self.available[sub.indices]
            r = np.repeat(np.arange(self.rows.size), np.diff(sub.indptr))[keep]
            indptr = np.zeros(self.rows.size + 1, dtype=np.int64)
            np.cumsum(np.bincount(r, minlength=self.rows.size), out=indptr[1:])
            self.sub = sparse.csr_array(
                (np.asarray(sub.data[keep], dtype=np.float64), sub.indices[keep], indptr),
                shape=(self.rows.size, self.csr.shape[1]))
        return self.sub

    def levels(self, lo: float, hi: float) -> np.ndarray:
        """Distinct times of S's rows in ``[lo, hi)``, with ``lo`` itself."""
        data = self.matrix().data
        return np.unique(np.append(data[(data >= lo) & (data < hi)], lo))

    def next_above(self, r: float) -> float:
        data = self.matrix().data
        above = data[data > r]
        return float(above.min()) if above.size else np.inf


def _spread(rows: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` rows spread evenly over ``rows``."""
    if rows.size <= k:
        return rows
    return rows[np.linspace(0, rows.size - 1, k).round().astype(np.int64)]


def _worst_per_site(rows: np.ndarray, d: np.ndarray, site: np.ndarray, k_unserved: int
                    ) -> np.ndarray:
    """The farthest of ``rows`` in each open site's district, plus some unserved rows."""
    served = rows[site[rows] >= 0]
    out = []
    if served.size:
        order = np.lexsort((-d[served], site[served]))
        s = site[served][order]
        head = np.r_[True, s[1:] != s[:-1]]
        out.append(served[order][head])
    unserved = rows[site[rows] < 0]
    if unserved.size:
        out.append(_spread(unserved, k_unserved))
    return np.concatenate(out) if out else rows[:0]


def pcenter_rowgen(problem: PlacementProblem, p: int, cols: Columns, reachable: np.ndarray,
                   options: SolveOptions, deadline: float | None, check: Check | None,
                   cuts: list[Cut], incumbent: Incumbent | None, checking: bool,
                   max_cut_rounds: int, progress=None) -> RowGenOutcome:
    """Solve p-center exactly by the row generation of the module docstring.

    ``deadline`` is a ``time.perf_counter()`` value (None: no limit); ``cuts``
    holds district-rule cuts and is extended in place. ``progress`` (optional)
    is called with ``(lower, upper, clients)`` after every probe.
    """
    import highspy

    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    C = problem.cost
    out = RowGenOutcome(status="timeout")
    clients = np.flatnonzero(reachable)
    f, _ = first_due(C, cols.const_open, want_site=False)
    near = nearest_available(C, cols.available)
    lo = float(near[clients].max(initial=0.0))
    hi = np.inf
    if incumbent is not None:
        out.mask, out.objective, out.source = incumbent.mask, incumbent.objective, "heuristic"
        hi = incumbent.objective
    if clients.size == 0:
        mask = cols.const_open.copy() if out.mask is None else out.mask
        out.mask, out.objective, out.bound, out.status = mask, 0.0, 0.0, "optimal"
        out.source = out.source or "no demand to serve"
        return out
    var = np.flatnonzero(cols.var)
    xcol = np.full(problem.n_candidates, -1, dtype=np.int64)
    xcol[var] = np.arange(var.size)
    site_rows = _site_rows(problem, cols, xcol, p)
    # A site whose reach (within r, on S) is inside another's can be dropped: the models
    # open at most p sites and never count covers twice. Not with district rules, which
    # depend on exactly which sites open.
    dominance = not checking
    S = _Subset(C, cols.available)
    # Start from the row that fixes the trivial bound, and the worst client of each
    # district of the incumbent (or rows spread over the demand).
    S.add(clients[[int(np.argmax(near[clients]))]])
    if incumbent is not None:
        d, site = first_due(C, incumbent.mask)
        S.add(_worst_per_site(clients, d, site, p + 1))
    else:
        S.add(_spread(clients, 2 * p + 1))

    def probe(r: float):
        """None: time up; "infeasible"; or the open mask of a cover of S within r."""
        sub = S.matrix()
        need = f[S.rows] > r
        ok = (sub.data <= r) & cols.var[sub.indices]
        rr = np.repeat(np.arange(S.rows.size), np.diff(sub.indptr))[ok]
        keep = need[rr]
        rr, cc = rr[keep], xcol[sub.indices[ok][keep]]
        counts = np.bincount(rr, minlength=S.rows.size)[need]
        if (counts == 0).any():
            return "infeasible"
        t = left()
        if t is not None and t <= 0:
            return None
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        # Minimise the number of new sites, stopping at the first cover within the
        # limits: a feasible probe ends early, an infeasible one is pruned by the bound.
        h.setOptionValue("mip_max_improving_sols", 1)
        nx = var.size
        upper = np.ones(nx)
        if dominance:
            upper[xcol[np.flatnonzero(dominated_columns(
                np.r_[0, np.cumsum(counts)], var[cc], problem, cols) & cols.var)]] = 0.0
        h.addCols(nx, cols.new[var].astype(np.float64), np.zeros(nx), upper, 0,
                  np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        if nx:
            h.changeColsIntegrality(nx, np.arange(nx, dtype=np.int32),
                                    np.full(nx, highspy.HighsVarType.kInteger, dtype=np.uint8))
        m = counts.size
        if m:
            starts = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int32)
            h.addRows(m, np.ones(m), np.full(m, np.inf), cc.size, starts,
                      cc.astype(np.int32), np.ones(cc.size))
        for low, up, idx, val in site_rows:
            h.addRows(1, np.array([low], float), np.array([up], float), len(idx),
                      np.array([0], dtype=np.int32), np.asarray(idx, dtype=np.int32),
                      np.asarray(val, dtype=np.float64))
        for cut in cuts:
            if not _add_rule_cut(h, cut, cols, xcol):
                return "infeasible"
        backend.run_highs(h, options, t)
        out.solves += 1
        st = h.getModelStatus()
        S_ = highspy.HighsModelStatus
        if st == S_.kInfeasible:
            return "infeasible"
        if st not in (S_.kOptimal, S_.kSolutionLimit) or h.getInfo().primal_solution_status != 2:
            return None
        mask = cols.const_open.copy()
        if nx:
            mask[var] = np.asarray(h.getSolution().col_value)[:nx] > 0.5
        return mask

    stop = ""
    while lo < hi:
        levels = S.levels(lo, hi)
        r = float(levels[(levels.size - 1) // 2])
        rounds = 0
        while True:
            res = probe(r)
            if res is None:
                stop = "time limit reached"
                break
            if isinstance(res, str):  # infeasible on S: the optimum exceeds r
                out.probes.append((r, "infeasible", int(S.rows.size)))
                lo = max(lo, S.next_above(r))
                break
            d, site = first_due(C, res)
            worst = float(d[clients].max())
            found: list[Violation] = []
            if worst < hi:
                found = violations(problem, res, check) if checking else []
                if not found:
                    out.mask, out.objective, out.source = res, worst, "solver"
                    hi = worst
            if worst <= r:
                if not found:
                    out.probes.append((r, f"covered, worst {worst:g} s", int(S.rows.size)))
                    break
                rounds += 1
                out.violations, out.broken_mask = found, res
                if rounds > max_cut_rounds:
                    stop = "district rules still broken after the cut-round limit"
                    out.status = "rules"
                    break
                cuts.extend(cut_for(v, res, cols) for v in found)
                continue
            far = clients[d[clients] > r]
            S.add(_worst_per_site(far, d, site, p + 1))
        if progress is not None:
            progress(lo, hi, int(S.rows.size))
        if stop:
            break
    out.clients = int(S.rows.size)
    out.bound = min(lo, hi)
    if lo >= hi:
        if out.mask is None:
            out.status = "infeasible"
            out.message = ("proven infeasible: no choice of sites covers the clients"
                           + (" under the district rules" if checking else ""))
            out.bound = None
        else:
            out.status = "optimal"
    elif out.status != "rules":
        out.status = "timeout"
    out.message = out.message or stop
    return out
