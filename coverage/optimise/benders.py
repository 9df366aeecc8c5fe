"""p-median by Benders decomposition on the radius formulation, built as arrays for HiGHS.

García, Labbé & Marín (2011) write p-median with one "radius" variable per
client and distance level; Duran-Mateluna, Ales & Elloumi (2023) project it
onto the site variables: with θ_g the travel time of row group g,

    θ_g  ≥  D − Σ_j (D − c_gj)⁺ · x_j          for every level D ≤ f_g,

where ``c_gj`` are the group's candidate times and ``f_g`` the time to its
nearest site open in every solution (an existing station). Each inequality is
valid: at any open set its right-hand side is at most ``min(D, nearest open)``.
The master holds only x and θ; the inequalities are added when violated.

1. **LP phase.** Start with one cut per group at the incumbent's sites (only
   the sites closer than its nearest one: sparse), solve the LP master, add
   for every group the most violated level (the first level where the LP's x
   add up to one), re-solve (HiGHS warm-starts the simplex after added rows)
   until none is violated. This is the LP bound of the assignment
   formulation. An integral LP optimum is the optimum (often, on p-median).
2. **Reduced-cost fixing.** A site whose LP reduced cost lifts the LP bound
   above the heuristic incumbent cannot be in a better solution: fixed closed.
3. **MILP phase.** Solve the master with integer x, from the incumbent; add
   the cuts its solution violates (and district-rule cuts), re-solve, until
   the master's θ equal the true times: then the master's optimum is proven.
   With an incumbent, HiGHS's primal heuristics are off (they rarely beat fast
   interchange), and when every objective is a whole number a gap below 1 is
   a proof. (Solving the assignment model on the sites left after the fixing
   instead was measured 2–12× slower on OR-Library pmed6, 11, 12 and 14.)

HiGHS has no lazy-constraint callback through PuLP, hence the re-solves. The
model never goes through PuLP's per-row Python expressions; it is passed to
highspy as arrays (``addCols``/``addRows``). The classical assignment model
(:mod:`coverage.optimise.assign`, through PuLP, HiGHS or CBC) stays as
``method="assignment"`` and the tests check that both give the same optimum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from coverage.optimise import backend, radius
from coverage.optimise.backend import SolveOptions
from coverage.optimise.heuristic import Incumbent
from coverage.optimise.matrix import group_identical_rows
from coverage.optimise.presolve import AssignRows
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.rules import Check, Violation, cut_for, violations
from coverage.optimise.sites import Columns, Cut

#: Relative violation below which a Benders cut is not added.
TOL = 1e-7
RADIUS_PHASE = "bc"
#: Row groups above which the master's θ are aggregated per nearest candidate.
AGGREGATE_ABOVE = 5_000


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
    milp_rounds: int = 0
    nodes: int = 0
    cuts: int = 0
    fixed_closed: int = 0
    blocks: int = 0
    radius_nnz: int = 0
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


def pmedian_benders(problem: PlacementProblem, p: int, rows: AssignRows, cols: Columns,
                    options: SolveOptions, deadline: float | None, check: Check | None,
                    rule_cuts: list[Cut], incumbent: Incumbent | None, checking: bool,
                    max_cut_rounds: int) -> BendersOutcome:
    """Solve p-median exactly by the Benders scheme of the module docstring.

    ``deadline`` is a ``time.perf_counter()`` value (None: no limit). Returns
    the best rule-abiding solution found (the incumbent's if nothing beats it)
    and the best proven bound.
    """
    import highspy

    def left() -> float | None:
        return None if deadline is None else deadline - time.perf_counter()

    const = rows.settled_cost
    out = BendersOutcome(status="timeout")
    if incumbent is not None:
        out.mask, out.objective, out.source = incumbent.mask, incumbent.objective, "heuristic"
    var = np.flatnonzero(cols.var)
    xcol = np.full(problem.n_candidates, -1, dtype=np.int64)
    xcol[var] = np.arange(var.size)
    nx, ng = var.size, rows.n_rows
    G = _Groups(rows)
    theta0 = nx
    w = rows.weight
    # θ per block of groups: one per group on small instances; on large ones the groups
    # nearest the same candidate share one θ (and one aggregated cut per round), which
    # keeps the master's LP small when demand rows outnumber sites by far.
    if ng > AGGREGATE_ABOVE and G.col.size:
        near = np.where(G.count > 0, G.col[np.minimum(G.start, max(G.col.size - 1, 0))], -1)
        _, block = np.unique(near, return_inverse=True)
    else:
        block = np.arange(ng)
    block = block.astype(np.int64)
    nb = int(block.max()) + 1 if ng else 0
    out.blocks = nb
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    first_c = np.full(ng, np.inf)
    has = G.count > 0
    first_c[has] = G.c[G.start[has]]
    lb_theta = np.minimum(G.f, first_c)
    lb_theta = np.where(np.isfinite(lb_theta), lb_theta, 0.0)
    wcap = np.where(np.isfinite(G.cap), w * G.cap, 0.0)
    ub_theta = np.where(np.bincount(block, weights=np.isinf(G.cap), minlength=nb) > 0, np.inf,
                        np.bincount(block, weights=wcap, minlength=nb))
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
                  xcol[G.col[sel]].astype(np.int32), np.ones(int(sel.sum())))
    for lo, hi, idx, val in _site_rows(problem, cols, xcol, p):
        h.addRows(1, np.array([lo], float), np.array([hi], float), len(idx),
                  np.array([0], dtype=np.int32), np.asarray(idx, dtype=np.int32),
                  np.asarray(val, dtype=np.float64))
    for cut in rule_cuts:
        if not _add_rule_cut(h, cut, cols, xcol):
            out.status, out.message = "infeasible", f"the district rules cannot all hold: {cut.reason}"
            return out

    def per_block(values: np.ndarray) -> np.ndarray:
        return np.bincount(block, weights=w * values, minlength=nb)

    def add_cuts(blocks: np.ndarray, D: np.ndarray) -> None:
        if blocks.size == 0:
            return
        lo, starts, idx, val = G.block_cut_rows(blocks, D, xcol, theta0, block, w, nx)
        h.addRows(blocks.size, lo, np.full(blocks.size, np.inf), idx.size,
                  starts.astype(np.int32), idx.astype(np.int32), val)
        out.cuts += int(blocks.size)

    S = highspy.HighsModelStatus
    full_x = np.zeros(problem.n_candidates)
    full_x[cols.const_open] = 0.0  # constants are folded into f_g, never in the pairs

    # One cut per group to start from: at the incumbent's sites (the level of its nearest
    # one: a sparse cut, with only the closer sites), or at x = 0 without an incumbent
    # (the strongest single cut, but dense: every pair of the group).
    if out.mask is not None:
        full_x[out.mask & cols.var] = 1.0
    D0, _ = G.levels(full_x)
    full_x[:] = 0.0
    add_cuts(np.arange(nb), D0)
    # ---- LP phase
    lp_value = None
    while True:
        t = left()
        if t is not None and t <= 0:
            return out
        backend.run_highs(h, options, t)
        st = h.getModelStatus()
        if st == S.kInfeasible:
            out.status = "infeasible"
            out.message = "proven infeasible (LP relaxation of the Benders master)"
            return out
        if st != S.kOptimal:
            out.message = f"LP master: HiGHS {h.modelStatusToString(st)}"
            return out
        out.lp_rounds += 1
        sol = np.asarray(h.getSolution().col_value)
        full_x[var] = sol[:nx]
        theta = sol[nx:]
        D, rhs = G.levels(full_x)
        rhs = per_block(rhs)
        viol = np.flatnonzero(theta < rhs - TOL * np.maximum(1.0, np.abs(rhs)))
        lp_value = float(h.getInfo().objective_function_value) + const
        if viol.size == 0:
            break
        add_cuts(viol, D)
    out.lp_bound = lp_value
    out.bound = lp_value
    # An integral LP optimum (common on p-median) is the optimum, if it obeys the rules.
    xs = sol[:nx]
    if np.all(np.minimum(xs, 1.0 - xs) <= 1e-6):
        mask = cols.const_open.copy()
        mask[var] = xs > 0.5
        if not (checking and violations(problem, mask, check)):
            obj = float((rows.weight * G.true_cost(mask)).sum()) + const
            if out.objective is None or obj < out.objective - 1e-9 * max(1.0, abs(obj)):
                out.mask, out.objective, out.source = mask, obj, "LP relaxation"
            if out.objective <= lp_value + 1e-6 * max(1.0, abs(lp_value)):
                out.bound = min(lp_value, out.objective)
                out.status = "optimal"
                return out
    # ---- reduced-cost fixing against the incumbent
    integral = _integral(rows, G)
    fixed = np.zeros(nx, dtype=bool)
    if out.objective is not None:
        rc = np.asarray(h.getSolution().col_dual)[:nx]
        # Only solutions better than the incumbent matter: with whole-number objectives
        # that means at least 1 better.
        gap = out.objective - lp_value - (1.0 - 1e-6 if integral else 0.0)
        fix = np.flatnonzero((sol[:nx] < 1e-9) & (rc > gap + 1e-6 * max(1.0, abs(gap))))
        if fix.size:
            h.changeColsBounds(fix.size, fix.astype(np.int32), np.zeros(fix.size),
                               np.zeros(fix.size))
            out.fixed_closed = int(fix.size)
            fixed[fix] = True
    # ---- MILP phase
    if RADIUS_PHASE == "radius":
        return _radius_phase(out, problem, G, w, cols, var, xcol, fixed, p, options, left,
                             check, checking, rule_cuts, max_cut_rounds, const, integral)
    if RADIUS_PHASE == "bc":
        return _branch_and_cut(h, out, problem, G, w, cols, var, xcol, fixed, p, options, left,
                               check, checking, max_cut_rounds, const, integral, add_cuts,
                               per_block)
    h.changeColsIntegrality(nx, np.arange(nx, dtype=np.int32),
                            np.full(nx, highspy.HighsVarType.kInteger, dtype=np.uint8))
    if out.mask is not None:
        _no_primal_heuristics(h)
    if integral:
        h.setOptionValue("mip_abs_gap", 1.0 - 1e-6)
    rounds_with_rules = 0
    seen: set[bytes] = set()

    def seen_same(mask: np.ndarray) -> bool:
        key = np.packbits(mask).tobytes()
        if key in seen:
            return True
        seen.add(key)
        return False

    while True:
        t = left()
        if t is not None and t <= 0:
            return out
        if out.mask is not None:
            start = out.mask[var].astype(np.float64)
            if not ((xcol[out.mask & cols.var] < 0).any()):
                h.setSolution(nx, np.arange(nx, dtype=np.int32), start)
        backend.run_highs(h, options, t)
        out.milp_rounds += 1
        st = h.getModelStatus()
        info = h.getInfo()
        if st == S.kInfeasible:
            if out.mask is None:
                out.status = "infeasible"
                out.message = ("proven infeasible: no choice of sites meets the options"
                               + (" and the district rules" if checking else ""))
            else:  # the incumbent is rule-abiding, so this cannot happen; stay honest
                out.status = "feasible"
            return out
        if info.mip_dual_bound is not None and np.isfinite(info.mip_dual_bound):
            b = _round_bound(float(info.mip_dual_bound) + const, integral)
            if out.objective is not None:
                b = min(b, out.objective)  # the fixing holds only against the incumbent
            out.bound = b if out.bound is None else max(out.bound, b)
        if info.primal_solution_status != 2:
            return out
        sol = np.asarray(h.getSolution().col_value)
        mask = cols.const_open.copy()
        mask[var] = sol[:nx] > 0.5
        d = G.true_cost(mask)
        theta = sol[nx:]
        bd = per_block(d)
        viol = np.flatnonzero(theta < bd - TOL * np.maximum(1.0, bd))
        found = violations(problem, mask, check) if checking else []
        if not found:
            obj = float((rows.weight * d).sum()) + const
            if out.objective is None or obj < out.objective - 1e-9 * max(1.0, abs(obj)):
                out.mask, out.objective, out.source = mask, obj, "solver"
        proven = st == S.kOptimal and viol.size == 0 and not found
        if st == S.kOptimal and not found and viol.size and seen_same(mask):
            # The same sites again with violated cuts would loop: numerical trouble.
            out.status = "feasible"
            out.message = "cut loop stalled on numerical tolerances"
            return out
        if proven and out.objective is not None and out.bound is not None \
                and out.bound >= out.objective - 1e-6 * max(1.0, abs(out.objective)):
            # The master is a relaxation; its bound meets a solution's true objective.
            out.bound = out.objective
            out.status = "optimal"
            return out
        if proven:
            out.status = "feasible"
            out.message = "HiGHS stopped at its tolerances short of a proof"
            return out
        if st != S.kOptimal:
            return out  # time limit inside the MILP
        full_x[:] = 0.0
        full_x[mask & cols.var] = 1.0
        D, _ = G.levels(full_x)
        add_cuts(viol, D)
        if found:
            rounds_with_rules += 1
            out.violations, out.broken_mask = found, mask
            if rounds_with_rules > max_cut_rounds:
                out.status = "rules"
                return out
            for v in found:
                if not _add_rule_cut(h, cut_for(v, mask, cols), cols, xcol):
                    out.status = "infeasible"
                    out.message = f"the district rules cannot all hold: {v.message}"
                    return out


def _integral(rows: AssignRows, G: _Groups) -> bool:
    """Whether every solution's objective is a whole number (integer weights × times)."""
    def whole(a: np.ndarray) -> bool:
        a = a[np.isfinite(a)]
        return bool(np.all(a == np.round(a)))

    w = rows.weight
    return (whole(w[G.grp] * G.c) and whole(w * np.where(np.isfinite(G.f), G.f, 0.0))
            and float(rows.settled_cost).is_integer())


def _round_bound(b: float, integral: bool) -> float:
    """A lower bound rounded up to a whole number when objectives are whole numbers."""
    return float(np.ceil(b - 1e-6)) if integral else b


def _no_primal_heuristics(h) -> None:
    """Switch off HiGHS's primal heuristics (sub-MIPs included) for a run with a good start."""
    h.setOptionValue("mip_heuristic_effort", 0.0)
    for name in ("rins", "rens", "root_reduced_cost", "feasibility_jump"):
        h.setOptionValue(f"mip_heuristic_run_{name}", False)


def _radius_phase(out: BendersOutcome, problem, G, w, cols, var, xcol, fixed, p, options, left,
                  check, checking, rule_cuts, max_cut_rounds, const, integral) -> BendersOutcome:
    """Solve the radius model on the sites not fixed closed, with rule-cut rounds."""
    import highspy

    nx = var.size
    m = radius.build(G.grp, xcol[G.col], G.c, G.f, w, ~fixed)
    out.radius_nnz = m.nnz
    if m.infeasible:
        return _nothing_better(out, "every site of some demand row is fixed closed")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    n = nx + m.n_z
    h.addCols(n, np.r_[np.zeros(nx), m.z_cost], np.zeros(n), np.r_[np.where(fixed, 0.0, 1.0),
              np.ones(m.n_z)], 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32),
              np.zeros(0))
    h.addRows(m.row_lower.size, m.row_lower, np.full(m.row_lower.size, np.inf), m.nnz,
              m.starts.astype(np.int32), m.index.astype(np.int32), m.value)
    for lo, hi, idx, val in _site_rows(problem, cols, xcol, p):
        h.addRows(1, np.array([lo], float), np.array([hi], float), len(idx),
                  np.array([0], dtype=np.int32), np.asarray(idx, dtype=np.int32),
                  np.asarray(val, dtype=np.float64))
    for cut in rule_cuts:
        _add_rule_cut(h, cut, cols, xcol)  # satisfiable: the LP phase checked them
    h.changeColsIntegrality(nx, np.arange(nx, dtype=np.int32),
                            np.full(nx, highspy.HighsVarType.kInteger, dtype=np.uint8))
    if out.mask is not None:
        _no_primal_heuristics(h)
    if integral:
        h.setOptionValue("mip_abs_gap", 1.0 - 1e-6)
    S = highspy.HighsModelStatus
    constant = const + m.constant
    rounds_with_rules = 0
    while True:
        t = left()
        if t is not None and t <= 0:
            return out
        if out.mask is not None:
            x0 = out.mask[var].astype(np.float64)
            if not (x0 * fixed).any():
                h.setSolution(n, np.arange(n, dtype=np.int32), np.r_[x0, m.z_values(x0)])
        backend.run_highs(h, options, t)
        out.milp_rounds += 1
        st = h.getModelStatus()
        info = h.getInfo()
        if st == S.kInfeasible:
            return _nothing_better(out, "the model on the sites left is infeasible")
        if info.mip_dual_bound is not None and np.isfinite(info.mip_dual_bound):
            b = _round_bound(float(info.mip_dual_bound) + constant, integral)
            if out.objective is not None:
                b = min(b, out.objective)  # the fixing holds only against the incumbent
            out.bound = b if out.bound is None else max(out.bound, b)
        if info.primal_solution_status != 2:
            return out
        sol = np.asarray(h.getSolution().col_value)
        mask = cols.const_open.copy()
        mask[var] = sol[:nx] > 0.5
        found = violations(problem, mask, check) if checking else []
        if not found:
            obj = float((w * G.true_cost(mask)).sum()) + const
            if out.objective is None or obj < out.objective - 1e-9 * max(1.0, abs(obj)):
                out.mask, out.objective, out.source = mask, obj, "solver"
        if st != S.kOptimal:
            return out  # time limit inside the MILP
        if not found:
            out.bound = out.objective
            out.status = "optimal"
            return out
        rounds_with_rules += 1
        out.violations, out.broken_mask = found, mask
        if rounds_with_rules > max_cut_rounds:
            out.status = "rules"
            return out
        for v in found:
            if not _add_rule_cut(h, cut_for(v, mask, cols), cols, xcol):
                return _nothing_better(out, f"the district rules cannot all hold: {v.message}")


def _nothing_better(out: BendersOutcome, why: str) -> BendersOutcome:
    """The reduced model has no solution: the incumbent is optimal, or there is none."""
    if out.mask is None:
        out.status = "infeasible"
        out.message = f"proven infeasible: {why}"
    else:
        out.status, out.bound = "optimal", out.objective
    return out


#: Cut rounds at one node after which the separation is taken to have stalled.
NODE_ROUNDS = 200


def _branch_and_cut(h, out: BendersOutcome, problem, G, w, cols, var, xcol, fixed, p, options,
                    left, check, checking, max_cut_rounds, const, integral, add_cuts,
                    per_block) -> BendersOutcome:
    """Best-first branch and bound on the sites, the LP master re-separated at every node.

    Each node's LP is solved to its full value (Benders cuts added until none is
    violated; the cuts are global), so its bound is the assignment LP's under the
    node's fixings. A node is pruned when its LP reaches the incumbent (minus
    one with whole-number objectives); an integral node is a solution; a
    fractional one fixes sites by reduced cost for its subtree and branches on
    its most fractional site. District rules are checked on every integral
    node and enforced by cuts valid for every rule-abiding solution.
    """
    import heapq

    import highspy

    S = highspy.HighsModelStatus
    nx = var.size
    allx = np.arange(nx, dtype=np.int32)
    full_x = np.zeros(problem.n_candidates)
    plain = _plain(problem, cols) and not checking
    new_x = cols.new[var]
    rule_rounds = 0

    def cutoff() -> float:
        if out.objective is None:
            return np.inf
        if integral:
            return out.objective - 1.0 + 1e-6
        return out.objective - backend.OPTIMAL_GAP * max(1.0, abs(out.objective))

    def offer(mask: np.ndarray, source: str) -> None:
        obj = float((w * G.true_cost(mask)).sum()) + const
        if out.objective is None or obj < out.objective - 1e-9 * max(1.0, abs(obj)):
            out.mask, out.objective, out.source = mask, obj, source

    def solve_node(lo: np.ndarray, hi: np.ndarray):
        """("timeout"|"pruned"|"integral"|"fractional"|"stalled", value, x, rc)."""
        nonlocal rule_rounds
        h.changeColsBounds(nx, allx, lo, hi)
        value = -np.inf
        for _ in range(NODE_ROUNDS):
            t = left()
            if t is not None and t <= 0:
                return "timeout", value, None, None
            backend.run_highs(h, options, t)
            st = h.getModelStatus()
            if st == S.kInfeasible:
                return "pruned", np.inf, None, None
            if st != S.kOptimal:
                return "timeout", value, None, None
            out.lp_rounds += 1
            value = max(value, float(h.getInfo().objective_function_value) + const)
            if value >= cutoff():
                return "pruned", value, None, None
            sol = np.asarray(h.getSolution().col_value)
            xs = sol[:nx]
            full_x[var] = xs
            D, rhs = G.levels(full_x)
            rhs = per_block(rhs)
            theta = sol[nx:]
            viol = np.flatnonzero(theta < rhs - TOL * np.maximum(1.0, np.abs(rhs)))
            if viol.size:
                add_cuts(viol, D)
                continue
            if np.all(np.minimum(xs, 1.0 - xs) <= 1e-6):
                mask = cols.const_open.copy()
                mask[var] = xs > 0.5
                found = violations(problem, mask, check) if checking else []
                if not found:
                    offer(mask, "solver")
                    return "integral", value, None, None
                rule_rounds += 1
                out.violations, out.broken_mask = found, mask
                if rule_rounds > max_cut_rounds:
                    return "rules", value, None, None
                for v in found:
                    if not _add_rule_cut(h, cut_for(v, mask, cols), cols, xcol):
                        return "impossible", value, None, v.message
                continue
            return "fractional", value, xs, np.asarray(h.getSolution().col_dual)[:nx]
        return "stalled", value, None, None

    root_hi = np.where(fixed, 0.0, 1.0)
    queue = [(-np.inf, 0, 0, np.zeros(nx), root_hi)]
    count = 1
    while queue:
        lb, _, _, lo, hi = heapq.heappop(queue)
        if lb >= cutoff():
            continue
        out.nodes += 1
        status, value, xs, rc = solve_node(lo, hi)
        if status in ("timeout", "stalled", "rules"):
            open_lb = min([lb] + [q[0] for q in queue])
            if status != "timeout":
                open_lb = min(open_lb, value) if status == "stalled" else open_lb
            _set_bound(out, open_lb, integral)
            out.status = {"timeout": "timeout", "stalled": "feasible", "rules": "rules"}[status]
            if status == "stalled":
                out.message = "cut loop stalled on numerical tolerances"
            return out
        if status == "impossible":
            out.status = "infeasible"
            out.message = f"the district rules cannot all hold: {rc}"
            return out
        if status != "fractional":
            continue
        if plain:
            # Rounding: the p sites the LP leans on most (new sites only count against p).
            order = np.argsort(-np.where(hi > 0, xs, -1.0), kind="stable")
            pick = np.zeros(nx, dtype=bool)
            pick[lo > 0.5] = True
            budget = p - int((pick & new_x).sum())
            for j in order:
                if budget <= 0 or hi[j] <= 0:
                    break
                if not pick[j]:
                    pick[j] = True
                    budget -= int(new_x[j])
            mask = cols.const_open.copy()
            mask[var] = pick
            offer(mask, "LP rounding")
        # Reduced-cost fixing for the subtree.
        gap = cutoff() - value
        lo, hi = lo.copy(), hi.copy()
        free = hi > lo
        hi[free & (xs <= 1e-9) & (rc > gap)] = 0.0
        lo[free & (xs >= 1 - 1e-9) & (-rc > gap)] = 1.0
        frac = np.flatnonzero((hi > lo) & (np.minimum(xs, 1.0 - xs) > 1e-6))
        if frac.size == 0:
            # Every fractional site was fixed: solve the node again under its fixings.
            heapq.heappush(queue, (value, -out.nodes, count, lo, hi))
            count += 1
            continue
        j = frac[np.argmin(np.abs(xs[frac] - 0.5))]
        for side in (1.0, 0.0):
            clo, chi = lo.copy(), hi.copy()
            clo[j] = chi[j] = side
            heapq.heappush(queue, (value, -out.nodes, count, clo, chi))
            count += 1
    if out.mask is None:
        out.status = "infeasible"
        out.message = ("proven infeasible: no choice of sites meets the options"
                       + (" and the district rules" if checking else ""))
        return out
    out.status, out.bound = "optimal", out.objective
    return out


def _set_bound(out: BendersOutcome, lb: float, integral: bool) -> None:
    """Raise ``out.bound`` to ``lb`` (capped at the incumbent: the fixings assume it)."""
    if not np.isfinite(lb):
        return
    b = _round_bound(lb, integral)
    if out.objective is not None:
        b = min(b, out.objective)
    out.bound = b if out.bound is None else max(out.bound, b)


def _plain(problem: PlacementProblem, cols: Columns) -> bool:
    """Only the count of new sites limits the choice (no budget, types or closing)."""
    return (problem.budget is None and not problem.type_limits
            and not any(cols.var[j] for j in problem.closable))
