"""p-median by Benders decomposition on the radius formulation, built as arrays for HiGHS.

García, Labbé & Marín (2011) write p-median with one "radius" variable per
client and distance level; Duran-Mateluna, Ales & Elloumi (2023) project it
onto the site variables: with θ_g the travel time of row group g,

    θ_g  ≥  D − Σ_j (D − c_gj)⁺ · x_j          for every level D ≤ f_g,

where ``c_gj`` are the group's candidate times and ``f_g`` the time to its
nearest site open in every solution (an existing station). Each inequality is
valid: at any open set its right-hand side is at most ``min(D, nearest open)``.
The master holds only x and θ; the inequalities are added when violated.

1. **Root LP.** Start with one cut per group at the incumbent's sites (only
   the sites closer than its nearest one: sparse), solve the LP master, add
   for every group the most violated level (the first level where the LP's x
   add up to one), re-solve (HiGHS warm-starts the dual simplex after added
   rows) until none is violated. This is the LP bound of the assignment
   formulation. An integral LP optimum is the optimum (common on p-median).
2. **Reduced-cost fixing.** Only solutions better than the heuristic
   incumbent matter (by at least 1 when every objective is a whole number); a
   site whose LP reduced cost lifts the bound past that cannot be in one. The
   master is rebuilt without the fixed sites (on OR-Library's small-p
   instances 60–90 % of them): a smaller LP and cheaper separation.
3. **Branch and cut.** Best-first branch and bound on the site variables; at
   every node the LP master is re-separated to its full value (the cuts are
   global), the node is pruned once its bound reaches the incumbent (the dual
   simplex stops there by itself), fixes sites by its own reduced costs for
   its subtree, offers the rounding of its LP to the incumbent, and branches
   by pseudo-costs. While a node's bound is within half the gap between the
   best open bound and the incumbent, its child with the smaller pseudo-cost
   estimate is solved next straight from the basis the LP holds (a dive); the
   other children wait and warm-start from their parent's stored basis. Slack
   cuts are purged when they outnumber the θ blocks thrice, except rows a
   stored basis holds nonbasic (deleting those would leave it no longer a
   basis, and the child would start cold: on pmed36 163 of 198 restores). District rules are
   checked on every integral node and enforced with cuts valid for every
   rule-abiding solution. A time limit returns the incumbent with the
   smallest bound of the open nodes.

This replaced (a) HiGHS's MILP on the master, re-solved from scratch after each
round of cuts its solution violated: on OR-Library pmed16, 22, 36, 38 and 39
each round took 10–30 s, mostly strong branching on a master missing the cuts
deeper nodes need; and (b) the full radius model solved by HiGHS on the sites
left after fixing, slower still (pmed16: gap 0.6 % at 30 s, against 2 s here).

HiGHS has no lazy-constraint callback through PuLP, hence the own search. The
model never goes through PuLP's per-row Python expressions; it is passed to
highspy as arrays (``addCols``/``addRows``). The classical assignment model
(:mod:`coverage.optimise.assign`, through PuLP, HiGHS or CBC) stays as
``method="assignment"`` and the tests check that both give the same optimum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from coverage.optimise import backend
from coverage.optimise.backend import SolveOptions
from coverage.optimise.heuristic import Incumbent
from coverage.optimise.matrix import group_identical_rows
from coverage.optimise.presolve import AssignRows
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.rules import Check, Violation, cut_for, violations
from coverage.optimise.sites import Columns, Cut

#: Relative violation below which a Benders cut is not added.
TOL = 1e-7
#: LP rounds at one node after which the separation is taken to have stalled.
NODE_ROUNDS = 200
#: Open nodes beyond which children no longer keep their parent's basis.
QUEUE_BASES = 2_000
#: Row groups above which the master's θ are aggregated per nearest candidate.
AGGREGATE_ABOVE = 5_000
#: A node's child is solved next (a dive from the node's basis) while the node's bound is
#: within this fraction of the gap between the best open bound and the cutoff.
DIVE = 0.5
#: Slack Benders cuts are purged once the cuts outnumber the θ blocks this many times.
PURGE = 3


@dataclass
class BendersOutcome:
    """What the decomposition established (objectives include the settled constant)."""

    status: str  # "optimal", "feasible", "infeasible", "timeout", "rules"
    mask: np.ndarray | None = None
    objective: float | None = None
    bound: float | None = None
    source: str = ""
    lp_bound: float | None = None
    lp_rounds: int = 0
    rule_rounds: int = 0
    nodes: int = 0
    cuts: int = 0
    fixed_closed: int = 0
    blocks: int = 0
    violations: list[Violation] = field(default_factory=list)
    broken_mask: np.ndarray | None = None  # the last rule-breaking solution
    message: str = ""


class _Groups:
    """The assignment rows sorted by (group, time), for vectorised separation."""

    def __init__(self, rows: AssignRows) -> None:
        n = rows.n_rows
        grp = np.repeat(np.arange(n), np.diff(rows.indptr))
        order = np.lexsort((rows.data, grp))
        self.grp = grp[order]
        self.col = rows.indices[order].astype(np.int64)
        self.c = rows.data[order].astype(np.float64)
        self.start = rows.indptr[:-1].astype(np.int64)
        self.count = np.diff(rows.indptr)
        self.f = rows.fixed_cost.astype(np.float64)
        last = np.where(self.count > 0, self.start + self.count - 1, 0)
        top = np.where(self.count > 0, self.c[last] if self.c.size else 0.0, np.inf)
        # No level above this helps: f when an existing station serves the group, else
        # its farthest pair (some pair must then be open).
        self.cap = np.where(np.isfinite(self.f), self.f, top)
        self.n = n

    def levels(self, xval: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Most violated level D per group at ``xval`` and the cut's right-hand side there."""
        xv = xval[self.col]
        cs = np.cumsum(xv)
        base = np.where(self.start > 0, cs[np.maximum(self.start - 1, 0)], 0.0)
        within = cs - np.repeat(base, self.count)
        pos = np.arange(self.c.size)
        hit = np.where(within >= 1 - 1e-9, pos, np.iinfo(np.int64).max)
        first = np.full(self.n, np.iinfo(np.int64).max)
        has = self.count > 0
        if self.c.size:
            first[has] = np.minimum.reduceat(hit, self.start[has])
        D = self.cap.copy()
        ok = first < np.iinfo(np.int64).max
        D[ok] = np.minimum(self.c[first[ok]], self.cap[ok])
        below = self.c < D[self.grp]
        rhs = D - np.bincount(self.grp[below], weights=(D[self.grp] - self.c)[below] * xv[below],
                              minlength=self.n)
        return D, rhs

    def true_cost(self, mask: np.ndarray) -> np.ndarray:
        """Time of each group to its nearest open site (fixed option included)."""
        d = self.f.copy()
        on = mask[self.col]
        np.minimum.at(d, self.grp[on], self.c[on])
        return d

    def block_cut_rows(self, B: np.ndarray, D: np.ndarray, xcol: np.ndarray, theta0: int,
                       block: np.ndarray, w: np.ndarray, nx: int):
        """CSR arrays of θ_b + Σ_g∈b w_g Σ_j (D_g − c_gj)⁺ x_j ≥ Σ_g∈b w_g D_g for blocks ``B``."""
        gb = block[self.grp]
        sel = np.isin(gb, B) & (self.c < D[self.grp])
        g_e = self.grp[sel]
        key = gb[sel] * nx + xcol[self.col[sel]]
        uk, inv = np.unique(key, return_inverse=True)
        val = np.bincount(inv, weights=w[g_e] * (D[g_e] - self.c[sel]), minlength=uk.size)
        b_e, j_e = uk // nx, uk % nx
        b_all = np.r_[b_e, B]
        idx = np.r_[j_e, theta0 + B]
        vals = np.r_[val, np.ones(B.size)]
        order = np.argsort(b_all, kind="stable")
        counts = np.bincount(np.searchsorted(B, b_all[order]), minlength=B.size)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        rhs = np.bincount(block, weights=w * D, minlength=int(block.max()) + 1)[B]
        return rhs, starts, idx[order], vals[order]


def _site_rows(problem: PlacementProblem, cols: Columns, xcol: np.ndarray, p: int):
    """Count, budget, type and closing rows as (lower, upper, indices, values) tuples."""
    out = []
    var = np.flatnonzero(cols.var)
    forced_new = [j for j in problem.force_open if cols.new[j]]
    new_vars = var[cols.new[var]]
    if new_vars.size > p - len(forced_new):
        out.append((-np.inf, p - len(forced_new), xcol[new_vars], np.ones(new_vars.size)))
    if problem.budget is not None:
        left = problem.budget - float(sum(problem.costs[j] for j in forced_new))
        out.append((-np.inf, left, xcol[new_vars], problem.costs[new_vars]))
    types = np.asarray(problem.site_types)
    for t, limit in sorted(problem.type_limits.items()):
        left = limit - sum(problem.site_types[j] == t for j in forced_new)
        js = new_vars[types[new_vars] == t]
        out.append((-np.inf, left, xcol[js], np.ones(js.size)))
    closable = np.array([j for j in problem.closable if cols.var[j]], dtype=np.int64)
    if closable.size:
        must = len(set(problem.closable) & set(problem.force_closed))
        n = closable.size
        out.append((n + must - problem.close_max, n + must - problem.close_min, xcol[closable],
                    np.ones(n)))
    return out


def _add_rule_cut(h, cut: Cut, cols: Columns, xcol: np.ndarray) -> bool:
    """Add a district-rule cut with constants folded in; False if no solution can meet it."""
    rhs = cut.rhs
    idx, val = [], []
    for j, c in cut.coef:
        if cols.var[j] and xcol[j] >= 0:
            idx.append(int(xcol[j]))
            val.append(c)
        elif cols.const_open[j]:
            rhs -= c
    if not idx:
        return rhs <= 1e-9
    h.addRows(1, np.array([rhs]), np.array([np.inf]), len(idx), np.array([0], dtype=np.int32),
              np.array(idx, dtype=np.int32), np.array(val, dtype=np.float64))
    return True


class _Master:
    """The LP master on the site columns ``cols.var``: x, one θ per block, and cuts.

    Built as arrays and passed to highspy; cuts are added as rows and stay (they
    are valid everywhere), so every re-solve warm-starts the dual simplex.
    """

    def __init__(self, problem: PlacementProblem, p: int, rows: AssignRows, cols: Columns,
                 rule_cuts: list[Cut], out: BendersOutcome) -> None:
        import highspy

        self.problem, self.rows, self.cols, self.out = problem, rows, cols, out
        self.var = np.flatnonzero(cols.var)
        self.xcol = np.full(problem.n_candidates, -1, dtype=np.int64)
        self.xcol[self.var] = np.arange(self.var.size)
        nx, ng = self.var.size, rows.n_rows
        self.nx = nx
        G = self.G = _Groups(rows)
        w = self.w = rows.weight
        # θ per block of groups: one per group on small instances; on large ones the groups
        # nearest the same candidate share one θ (and one aggregated cut per round), which
        # keeps the master's LP small when demand rows outnumber sites by far.
        if ng > AGGREGATE_ABOVE and G.col.size:
            near = np.where(G.count > 0, G.col[np.minimum(G.start, max(G.col.size - 1, 0))],
                            -1)
            _, block = np.unique(near, return_inverse=True)
        else:
            block = np.arange(ng)
        self.block = block.astype(np.int64)
        nb = self.nb = int(self.block.max()) + 1 if ng else 0
        out.blocks = nb
        h = self.h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        first_c = np.full(ng, np.inf)
        has = G.count > 0
        first_c[has] = G.c[G.start[has]]
        lb_theta = np.minimum(G.f, first_c)
        lb_theta = np.where(np.isfinite(lb_theta), lb_theta, 0.0)
        wcap = np.where(np.isfinite(G.cap), w * G.cap, 0.0)
        ub_theta = np.where(np.bincount(block, weights=np.isinf(G.cap), minlength=nb) > 0,
                            np.inf, np.bincount(block, weights=wcap, minlength=nb))
        costs = np.r_[np.zeros(nx), np.ones(nb)]
        lower = np.r_[np.zeros(nx), np.bincount(block, weights=w * lb_theta, minlength=nb)]
        upper = np.r_[np.ones(nx), ub_theta]
        h.addCols(nx + nb, costs, lower, upper, 0, np.zeros(0, dtype=np.int32),
                  np.zeros(0, dtype=np.int32), np.zeros(0))
        # Rows no existing station serves must have an open site among their pairs; one row
        # per distinct set of pairs (on a complete matrix they are all the same row, and
        # hundreds of copies of it slow every simplex iteration of the master).
        need = np.flatnonzero(np.isinf(G.f))
        if need.size:
            keep = np.zeros(ng, dtype=bool)
            keep[need] = True
            ip = np.r_[0, np.cumsum(np.diff(rows.indptr)[keep])]
            ix = rows.indices[np.repeat(keep, np.diff(rows.indptr))]
            _, first = group_identical_rows(ip, ix)
            need = need[first]
            sel = np.isin(G.grp, need)
            counts = np.bincount(np.searchsorted(need, G.grp[sel]), minlength=need.size)
            h.addRows(need.size, np.ones(need.size), np.full(need.size, np.inf), int(sel.sum()),
                      np.r_[0, np.cumsum(counts)[:-1]].astype(np.int32),
                      self.xcol[G.col[sel]].astype(np.int32), np.ones(int(sel.sum())))
        for lo, hi, idx, val in _site_rows(problem, cols, self.xcol, p):
            h.addRows(1, np.array([lo], float), np.array([hi], float), len(idx),
                      np.array([0], dtype=np.int32), np.asarray(idx, dtype=np.int32),
                      np.asarray(val, dtype=np.float64))
        self.impossible = None
        for cut in rule_cuts:
            if not self.add_rule_cut(cut):
                self.impossible = cut.reason
                break
        self.full_x = np.zeros(problem.n_candidates)
        self.row_id = np.arange(h.getNumRow())
        self.next_id = h.getNumRow()
        self.cut_row = np.zeros(h.getNumRow(), dtype=bool)
        self.pins = np.zeros(h.getNumRow(), dtype=np.int32)

    def snapshot(self) -> tuple[list, np.ndarray, list]:
        """The current simplex basis: column statuses, row ids, row statuses."""
        b = self.h.getBasis()
        return list(b.col_status), self._ids().copy(), list(b.row_status)

    def pin(self, basis: tuple[list, np.ndarray, list] | None, step: int) -> None:
        """Count (``step`` +1) or release (−1) a stored basis: the rows it holds nonbasic
        are not purged while some open node will restore it."""
        import highspy

        if basis is None:
            return
        _, ids, rows = basis
        if self.pins.size < self.next_id:
            self.pins = np.r_[self.pins, np.zeros(self.next_id - self.pins.size, np.int32)]
        basic = highspy.HighsBasisStatus.kBasic
        tight = ids[np.fromiter((r != basic for r in rows), bool, len(rows))]
        self.pins[tight] += step

    def restore(self, basis: tuple[list, np.ndarray, list]) -> None:
        """Warm-start from ``basis``; rows added since enter as basic (slack). Skipped
        when purged rows make it no longer a basis."""
        import highspy

        cols, ids, rows = basis
        basic = highspy.HighsBasisStatus.kBasic
        cur = self._ids()
        pos = np.searchsorted(ids, cur)
        pos = np.minimum(pos, max(ids.size - 1, 0))
        known = (ids.size > 0) & (ids[pos] == cur) if ids.size else np.zeros(cur.size, bool)
        row_status = [rows[k] if ok else basic for k, ok in zip(pos.tolist(), known.tolist(),
                                                               strict=True)]
        n_basic = sum(c == basic for c in cols) + sum(r == basic for r in row_status)
        if n_basic != cur.size:
            return
        b = highspy.HighsBasis()
        b.valid = True
        b.col_status = cols
        b.row_status = row_status
        self.h.setBasis(b)

    def _ids(self) -> np.ndarray:
        """Ids of the master's rows in their current order (rows are never renumbered)."""
        n = self.h.getNumRow()
        if self.row_id.size < n:
            extra = n - self.row_id.size
            self.row_id = np.r_[self.row_id, self.next_id + np.arange(extra)]
            self.cut_row = np.r_[self.cut_row, np.zeros(extra, dtype=bool)]
            self.next_id += extra
        return self.row_id

    def purge(self) -> None:
        """Delete the Benders cuts slack at the current basis once they outnumber the blocks
        thrice (a smaller LP re-solves faster; a cut needed again is separated again)."""
        import highspy

        ids = self._ids()
        if int(self.cut_row.sum()) <= PURGE * max(self.nb, 1):
            return
        status = self.h.getBasis().row_status
        basic = np.array([r == highspy.HighsBasisStatus.kBasic for r in status])
        if self.pins.size < self.next_id:
            self.pins = np.r_[self.pins, np.zeros(self.next_id - self.pins.size, np.int32)]
        drop = np.flatnonzero(self.cut_row & basic & (self.pins[ids] == 0))
        if drop.size == 0:
            return
        self.h.deleteRows(drop.size, drop.astype(np.int32))
        keep = np.ones(ids.size, dtype=bool)
        keep[drop] = False
        self.row_id, self.cut_row = ids[keep], self.cut_row[keep]

    def add_rule_cut(self, cut: Cut) -> bool:
        return _add_rule_cut(self.h, cut, self.cols, self.xcol)

    def per_block(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.block, weights=self.w * values, minlength=self.nb)

    def add_cuts(self, blocks: np.ndarray, D: np.ndarray) -> None:
        if blocks.size == 0:
            return
        lo, starts, idx, val = self.G.block_cut_rows(blocks, D, self.xcol, self.nx, self.block,
                                                     self.w, self.nx)
        self._ids()
        self.h.addRows(blocks.size, lo, np.full(blocks.size, np.inf), idx.size,
                       starts.astype(np.int32), idx.astype(np.int32), val)
        self._ids()
        self.cut_row[-blocks.size:] = True
        self.out.cuts += int(blocks.size)

    def seed(self, mask: np.ndarray | None) -> None:
        """One cut per block: at the sites of ``mask`` (sparse: only the sites closer than
        its nearest one), or at x = 0 without one (the strongest single cut, but dense)."""
        self.full_x[:] = 0.0
        if mask is not None:
            self.full_x[mask & self.cols.var] = 1.0
        D0, _ = self.G.levels(self.full_x)
        self.add_cuts(np.arange(self.nb), D0)

    def mask_of(self, x: np.ndarray) -> np.ndarray:
        mask = self.cols.const_open.copy()
        mask[self.var] = x > 0.5
        return mask

    def separate(self, options: SolveOptions, left, cutoff: float, const: float):
        """Re-solve the LP, adding violated cuts until there are none.

        Returns ``(status, value, x, reduced_costs)`` with status "optimal", "pruned"
        (infeasible, or the LP reached ``cutoff``), "timeout" or "stalled" (no
        convergence in :data:`NODE_ROUNDS` rounds); ``value`` is a valid lower bound
        of the current bounds' problem whatever the status (−inf if none yet).
        """
        import highspy

        S = highspy.HighsModelStatus
        h, nx = self.h, self.nx
        value = -np.inf
        for _ in range(NODE_ROUNDS):
            t = left()
            if t is not None and t <= 0:
                return "timeout", value, None, None
            # The dual simplex stops once its (lower-bounding) objective reaches the cutoff.
            h.setOptionValue("objective_bound", float(cutoff - const) if np.isfinite(cutoff)
                             else np.inf)
            _run(h, options, t)
            st = h.getModelStatus()
            if st == S.kInfeasible:
                return "pruned", np.inf, None, None
            if st == S.kObjectiveBound:
                return "pruned", max(value, cutoff), None, None
            if st != S.kOptimal:
                return "timeout", value, None, None
            self.out.lp_rounds += 1
            value = max(value, float(h.getInfo().objective_function_value) + const)
            if value >= cutoff:
                return "pruned", value, None, None
            sol = np.asarray(h.getSolution().col_value)
            self.full_x[self.var] = sol[:nx]
            D, rhs = self.G.levels(self.full_x)
            rhs = self.per_block(rhs)
            theta = sol[nx:]
            viol = np.flatnonzero(theta < rhs - TOL * np.maximum(1.0, np.abs(rhs)))
            if viol.size == 0:
                return "optimal", value, sol[:nx], np.asarray(h.getSolution().col_dual)[:nx]
            self.add_cuts(viol, D)
        return "stalled", value, None, None


def _restricted(rows: AssignRows, cols: Columns, closed: np.ndarray
                ) -> tuple[AssignRows, Columns]:
    """The rows and columns without the candidate columns ``closed`` (fixed closed)."""
    var = cols.var & ~closed
    n_pairs = np.diff(rows.indptr)
    keep = var[rows.indices]
    row = np.repeat(np.arange(rows.n_rows), n_pairs)
    indptr = np.r_[0, np.cumsum(np.bincount(row[keep], minlength=rows.n_rows))]
    return (replace(rows, indptr=indptr.astype(rows.indptr.dtype), indices=rows.indices[keep],
                    data=rows.data[keep]),
            Columns(const_open=cols.const_open, var=var, new=cols.new))


def pmedian_benders(problem: PlacementProblem, p: int, rows: AssignRows, cols: Columns,
                    options: SolveOptions, deadline: float | None, check: Check | None,
                    rule_cuts: list[Cut], incumbent: Incumbent | None, checking: bool,
                    max_cut_rounds: int) -> BendersOutcome:
    """Solve p-median exactly by the scheme of the module docstring.

    ``deadline`` is a ``time.perf_counter()`` value (None: no limit). Returns
    the best rule-abiding solution found (the incumbent's if nothing beats it)
    and the best proven bound.
    """
    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    const = rows.settled_cost
    out = BendersOutcome(status="timeout")
    if incumbent is not None:
        out.mask, out.objective, out.source = incumbent.mask, incumbent.objective, "heuristic"
    integral = _integral(rows)
    m = _Master(problem, p, rows, cols, rule_cuts, out)
    if m.impossible:
        out.status = "infeasible"
        out.message = f"the district rules cannot all hold: {m.impossible}"
        return out
    m.seed(out.mask)
    # ---- root LP
    status, value, xs, rc = m.separate(options, left, _cutoff(out, integral), const)
    if status == "pruned" and out.mask is None:
        out.status = "infeasible"
        out.message = "proven infeasible (LP relaxation of the Benders master)"
        return out
    if status == "pruned":
        return _nothing_better(out, "")
    if status != "optimal":
        _raise_bound(out, value, integral)
        return _stalled(out) if status == "stalled" else out
    out.lp_bound = value
    _raise_bound(out, value, integral)
    # ---- fixing by reduced cost against the incumbent: only solutions better than it
    # matter (by at least 1 with whole-number objectives), and a site whose reduced cost
    # lifts the LP bound to the incumbent's cannot open in one. The master is rebuilt
    # without those sites: a smaller LP and cheaper separation at every node.
    if out.objective is not None:
        gap = _cutoff(out, integral) - value
        fix = (xs <= 1e-9) & (rc > gap)
        if fix.any():
            out.fixed_closed = int(fix.sum())
            closed = np.zeros(problem.n_candidates, dtype=bool)
            closed[m.var[fix]] = True
            rows2, cols2 = _restricted(rows, cols, closed)
            if (np.isinf(rows2.fixed_cost) & (np.diff(rows2.indptr) == 0)).any():
                return _nothing_better(out, "")
            m = _Master(problem, p, rows2, cols2, rule_cuts, out)
            if m.impossible:
                return _nothing_better(out, "")
            m.seed(out.mask)
    return _branch_and_cut(m, out, p, options, left, check, checking, max_cut_rounds, const,
                           integral)


def _branch_and_cut(m: _Master, out: BendersOutcome, p: int, options: SolveOptions, left,
                    check: Check | None, checking: bool, max_cut_rounds: int, const: float,
                    integral: bool) -> BendersOutcome:
    """Best-first branch and bound on the sites, the LP master re-separated at every node.

    Each node's LP is solved to its full value (Benders cuts added until none is
    violated; the cuts are global), so its bound is the assignment LP's under
    the node's fixings. A node is pruned when its LP reaches the incumbent
    (less one with whole-number objectives); an integral node is a solution; a
    fractional one fixes sites by reduced cost for its subtree, offers the
    rounding of its LP to the incumbent, and branches on its most fractional
    site. District rules are checked on every integral node and enforced by
    cuts valid for every rule-abiding solution.
    """
    import heapq

    problem, cols, nx = m.problem, m.cols, m.nx
    allx = np.arange(nx, dtype=np.int32)
    plain = _plain(problem, cols) and not checking
    new_x = cols.new[m.var]
    rule_rounds = 0

    def offer(mask: np.ndarray, source: str) -> None:
        obj = float((m.w * m.G.true_cost(mask)).sum()) + const
        if out.objective is None or obj < out.objective - 1e-9 * max(1.0, abs(obj)):
            out.mask, out.objective, out.source = mask, obj, source

    def solve_node(lo: np.ndarray, hi: np.ndarray, basis):
        nonlocal rule_rounds
        m.h.changeColsBounds(nx, allx, lo.astype(np.float64), hi.astype(np.float64))
        if basis is not None:
            m.restore(basis)
        while True:
            status, value, xs, rc = m.separate(options, left, _cutoff(out, integral), const)
            if status != "optimal" or not np.all(np.minimum(xs, 1.0 - xs) <= 1e-6):
                return status, value, xs, rc
            mask = m.mask_of(xs)
            found = violations(problem, mask, check) if checking else []
            if not found:
                offer(mask, "solver")
                return "integral", value, xs, rc
            rule_rounds += 1
            out.rule_rounds = rule_rounds
            out.violations, out.broken_mask = found, mask
            if rule_rounds > max_cut_rounds:
                return "rules", value, xs, rc
            for v in found:
                if not m.add_rule_cut(cut_for(v, mask, cols)):
                    return "pruned", np.inf, xs, rc  # no rule-abiding solution here

    # Pseudo-costs: mean LP gain per unit of change when a site is branched down / up.
    gain = np.zeros((2, nx))
    seen = np.zeros((2, nx))
    # Open nodes hold their site bounds as int8 and, up to QUEUE_BASES of them, the
    # parent's basis (memory stays bounded on long searches).
    queue = [(-np.inf, 0, 0, np.zeros(nx, dtype=np.int8), np.ones(nx, dtype=np.int8),
              None, None)]
    count = 1
    dive = None  # a child solved next, straight from its parent's basis (no restore)
    while queue or dive is not None:
        if dive is not None:
            (lb, _, _, lo, hi, basis, branch), dive = dive, None
        else:
            lb, _, _, lo, hi, basis, branch = heapq.heappop(queue)
            m.pin(basis, -1)
        if lb >= _cutoff(out, integral):
            continue
        out.nodes += 1
        status, value, xs, rc = solve_node(lo, hi, basis)
        if branch is not None and status in ("optimal", "integral", "pruned"):
            j, side, frac = branch
            g = (min(value, _cutoff(out, integral) + 1.0) - lb) / max(frac, 1e-6)
            if np.isfinite(g):
                gain[side, j] += max(g, 0.0)
                seen[side, j] += 1
        if status in ("timeout", "stalled", "rules"):
            # Open nodes keep their parents' bounds; a stalled LP's value is still a bound.
            floor = max(lb, value) if status != "timeout" else lb
            _raise_bound(out, min([floor] + [q[0] for q in queue]), integral)
            if status == "rules":
                out.status = "rules"
                return out
            return _stalled(out) if status == "stalled" else out
        if status != "optimal":
            continue  # pruned, or an integral solution
        if plain:
            # Rounding: the p sites the LP leans on most (existing sites do not count).
            pick = lo > 0.5
            room = p - int((pick & new_x).sum())
            for j in np.argsort(-xs, kind="stable"):
                if room <= 0:
                    break
                if not pick[j] and hi[j] > 0 and xs[j] > 1e-9:
                    pick[j] = True
                    room -= int(new_x[j])
            offer(m.mask_of(pick.astype(float)), "LP rounding")
        # Reduced-cost fixing for the subtree.
        gap = _cutoff(out, integral) - value
        lo, hi = lo.copy(), hi.copy()
        free = hi > lo
        hi[free & (xs <= 1e-9) & (rc > gap)] = 0.0
        lo[free & (xs >= 1 - 1e-9) & (-rc > gap)] = 1.0
        frac = np.flatnonzero((hi > lo) & (np.minimum(xs, 1.0 - xs) > 1e-6))
        # Children warm-start from this node's basis (best-first jumps across the tree).
        # One child is solved next from the basis the LP holds now (a dive, no restore)
        # while the node's bound stays near the best open one; the other waits in the heap.
        m.purge()
        cutoff = _cutoff(out, integral)
        best = queue[0][0] if queue else value
        diving = not np.isfinite(cutoff) or value <= best + DIVE * (cutoff - best)
        if frac.size == 0:  # every fractional site was fixed: the node again, smaller
            node = (value, -out.nodes, count, lo, hi, None, None)
            count += 1
            if diving:
                dive = node
            else:
                snap = m.snapshot()
                m.pin(snap, 1)
                heapq.heappush(queue, node[:5] + (snap, None))
            continue
        basis = m.snapshot() if len(queue) < QUEUE_BASES else None
        down, up = xs[frac], 1.0 - xs[frac]
        mean = [gain[k].sum() / seen[k].sum() if seen[k].any() else 1.0 for k in (0, 1)]
        pc = [np.where(seen[k, frac] > 0, gain[k, frac] / np.maximum(seen[k, frac], 1), mean[k])
              for k in (0, 1)]
        score = np.maximum(pc[0] * down, 1e-6) * np.maximum(pc[1] * up, 1e-6)
        k = int(np.argmax(score))
        j = frac[k]
        # Dive into the child whose pseudo-cost estimate rises least.
        first = 1.0 if pc[1][k] * up[k] <= pc[0][k] * down[k] else 0.0
        for side in (first, 1.0 - first):
            clo, chi = lo.copy(), hi.copy()
            clo[j] = chi[j] = side
            branch = (j, int(side), (1.0 - xs[j]) if side else xs[j])
            if diving and side == first:
                dive = (value, -out.nodes, count, clo, chi, None, branch)
            else:
                heapq.heappush(queue, (value, -out.nodes, count, clo, chi, basis, branch))
                m.pin(basis, 1)
            count += 1
    if out.mask is None:
        out.status = "infeasible"
        out.message = ("proven infeasible: no choice of sites meets the options"
                       + (" and the district rules" if checking else ""))
        return out
    out.status, out.bound = "optimal", out.objective
    return out


def _cutoff(out: BendersOutcome, integral: bool) -> float:
    """Lower bounds at or above this cannot lead to a solution better than the incumbent."""
    if out.objective is None:
        return np.inf
    if integral:
        return out.objective - 1.0 + 1e-6
    return out.objective - backend.OPTIMAL_GAP * max(1.0, abs(out.objective))


def _raise_bound(out: BendersOutcome, lb: float, integral: bool) -> None:
    """Raise ``out.bound`` to ``lb``, capped at the incumbent (the fixings assume it)."""
    if not np.isfinite(lb):
        return
    b = _round_bound(lb, integral)
    if out.objective is not None:
        b = min(b, out.objective)
    out.bound = b if out.bound is None else max(out.bound, b)


def _nothing_better(out: BendersOutcome, why: str) -> BendersOutcome:
    """No solution better than the incumbent exists: it is optimal."""
    out.status, out.bound = "optimal", out.objective
    return out


def _stalled(out: BendersOutcome) -> BendersOutcome:
    out.status = "feasible"
    out.message = "cut loop stalled on numerical tolerances"
    return out


def _plain(problem: PlacementProblem, cols: Columns) -> bool:
    """Only the count of new sites limits the choice (no budget, types or closing)."""
    return (problem.budget is None and not problem.type_limits
            and not any(cols.var[j] for j in problem.closable))


def _integral(rows: AssignRows) -> bool:
    """Whether every solution's objective is a whole number (integer weights × times)."""
    def whole(a: np.ndarray) -> bool:
        a = a[np.isfinite(a)]
        return bool(np.all(a == np.round(a)))

    w = rows.weight
    row = np.repeat(np.arange(rows.n_rows), np.diff(rows.indptr))
    return (whole(w[row] * rows.data) and whole(w * np.where(np.isfinite(rows.fixed_cost),
                                                             rows.fixed_cost, 0.0))
            and float(rows.settled_cost).is_integer())


def _round_bound(b: float, integral: bool) -> float:
    """A lower bound rounded up to a whole number when objectives are whole numbers."""
    return float(np.ceil(b - 1e-6)) if integral else b


def _run(h, options: SolveOptions, seconds: float | None) -> None:
    """Run HiGHS for at most ``seconds`` more (its time limit counts the object's whole life)."""
    backend.run_highs(h, options, None if seconds is None else h.getRunTime() + seconds)
