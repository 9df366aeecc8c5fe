"""Exact reductions applied before a model is built.

Each step is switchable through :class:`PresolveOptions` and removes only what
cannot change the optimum value:

``fixed``
    Demand already settled by sites open in every solution (existing stations
    that cannot close, forced sites): covered (LSCP, MCLP), covered twice
    (backup), or — for the assignment models — served at least as well by them
    as by any candidate. For assignment models this step also drops the
    demand–candidate pairs no better than the nearest fixed station.
``uncoverable``
    Demand no available site reaches (MCLP: its rows can never score). In LSCP,
    backup, p-center and p-median such demand is left out by the model's own
    definition and reported in ``PlacementResult.uncoverable``.
``merge``
    Demand rows with identical candidate sets (and, for assignment models,
    identical costs) become one row with the summed weight. Rows are compared
    by the exact bytes of their sparse pattern, never by a lossy hash.
``dominated``
    (LSCP and MCLP only.) A new candidate whose covered set is contained in
    another's, with the same type and no lower cost, is dropped; ties keep the
    lowest index. Valid because these models open *at most* ``p`` sites and
    neither depends on how often a point is covered. Switched off when a
    district rule is active, because districts depend on which site opens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from coverage.optimise.matrix import (
    group_identical_rows,
    nearest_open,
    row_of_entries,
    select_columns,
    within,
)
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.sites import Columns


@dataclass(frozen=True)
class PresolveOptions:
    """Which exact reductions to apply (all on by default)."""

    fixed: bool = True
    uncoverable: bool = True
    merge: bool = True
    dominated: bool = True

    @classmethod
    def off(cls) -> PresolveOptions:
        """No reductions at all (for cross-checks)."""
        return cls(False, False, False, False)


@dataclass(frozen=True)
class CoverRows:
    """Demand rows of a covering model after presolve.

    ``indptr``/``indices`` give, per kept row group, the *variable* columns
    (original indices) that cover it; ``n_const`` counts the open constants
    covering it; ``weight`` sums the members' weights. ``settled_weight`` is the
    weight of rows dropped because constants already meet the requirement.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray
    n_const: np.ndarray
    settled_weight: float
    uncoverable: np.ndarray
    cols: Columns
    report: dict

    @property
    def n_rows(self) -> int:
        return self.weight.size


def _rows(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, keep: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """indptr, indices, data of the kept rows of a CSR layout, in order."""
    counts = np.diff(indptr)
    mask = np.repeat(keep, counts)
    out = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=out[1:])
    return out, indices[mask], data[mask]


def _merge(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray | None,
           extra: np.ndarray, weight: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Collapse identical rows into their first one, summing weights."""
    group, first = group_identical_rows(indptr, indices, data, extra)
    w = np.bincount(group, weights=weight, minlength=first.size)
    keep = np.zeros(indptr.size - 1, dtype=bool)
    keep[first] = True
    ip, ix, dt = _rows(indptr, indices, indices if data is None else data, keep)
    return ip, ix, (None if data is None else dt), extra[first], w


def dominated_columns(indptr: np.ndarray, indices: np.ndarray, problem: PlacementProblem,
                      cols: Columns) -> np.ndarray:
    """New candidates whose covered rows are a subset of another eligible candidate's.

    A candidate ``j`` is dropped when some ``k`` (new, not closable, same type
    if type limits apply, cost no higher if a budget applies) covers every row
    ``j`` covers and is strictly better in (covered set, cost, index) order, or
    when ``j`` covers no row at all. The order is strict, so every dropped
    candidate keeps an undropped dominator.
    """
    m = problem.n_candidates
    pool = cols.var & cols.new  # closable stations are not new, so never in the pool
    n_rows = indptr.size - 1
    keep_entry = pool[indices]
    rows = np.repeat(np.arange(n_rows), np.diff(indptr))[keep_entry]
    B = sparse.csc_array((np.ones(rows.size, dtype=np.int32), (rows, indices[keep_entry])),
                         shape=(n_rows, m))
    size = np.diff(B.indptr)
    C = (B.T @ B).tocoo()
    r, c, v = C.row, C.col, C.data
    cost = problem.costs if problem.budget is not None else np.zeros(m)
    types = np.asarray(problem.site_types)
    ok = (v == size[r]) & (r != c) & pool[r] & pool[c]
    if problem.type_limits:
        ok &= types[r] == types[c]
    ok &= cost[c] <= cost[r]
    strict = (size[c] > size[r]) | (cost[c] < cost[r]) | (c < r)
    out = np.zeros(m, dtype=bool)
    out[r[ok & strict]] = True
    out |= pool & (size == 0)
    return out


def cover_rows(problem: PlacementProblem, radius: float, cols: Columns, *, need: int,
               options: PresolveOptions, drop_uncoverable: bool, dominance: bool) -> CoverRows:
    """Coverage rows for LSCP, MCLP, backup and the p-center feasibility steps.

    Parameters
    ----------
    problem : PlacementProblem
    radius : float
        Coverage threshold, seconds (inclusive).
    cols : Columns
        Column classification before presolve.
    need : int
        Covers a row needs to be settled by constants (1, or 2 for backup).
    options : PresolveOptions
    drop_uncoverable : bool
        Drop uncoverable rows regardless of ``options.uncoverable`` (models
        that exclude them by definition).
    dominance : bool
        Whether the model allows the dominated-candidate step.
    """
    A = within(problem.cost, radius)
    ent_rows = row_of_entries(A)
    n = problem.n_demand
    n_const = np.bincount(ent_rows[cols.const_open[A.indices]], minlength=n)
    V = select_columns(A, cols.var)
    n_var = np.diff(V.indptr)
    uncoverable = np.flatnonzero((n_const + n_var) == 0)
    settled = n_const >= need
    keep = np.ones(n, dtype=bool)
    report: dict = {"rows_in": n, "columns_in": int(cols.var.sum())}
    settled_weight = 0.0
    if options.fixed:
        keep &= ~settled
        settled_weight = float(problem.weights[settled].sum())
        report["fixed"] = {"rows_removed": int(settled.sum())}
    if drop_uncoverable or options.uncoverable:
        gone = keep & ((n_const + n_var) == 0)
        keep &= ~gone
        report["uncoverable"] = {"rows_removed": int(gone.sum())}
    indptr, indices, _ = _rows(V.indptr, V.indices, V.data, keep)
    weight = problem.weights[keep].astype(np.float64)
    nc = np.minimum(n_const[keep], need).astype(np.int64)
    merged = 0
    if options.merge and weight.size:
        before = weight.size
        indptr, indices, _, nc, weight = _merge(indptr, indices, None, nc, weight)
        merged = before - weight.size
    if options.dominated and dominance:
        gone = dominated_columns(indptr, indices, problem, cols)
        report["dominated"] = {"columns_removed": int(gone.sum())}
        if gone.any():
            cols = Columns(const_open=cols.const_open, var=cols.var & ~gone, new=cols.new)
            sub = sparse.csr_array((np.ones(indices.size), indices, indptr),
                                   shape=(weight.size, problem.n_candidates))
            sub = select_columns(sub, ~gone)
            indptr, indices = sub.indptr, sub.indices
            if options.merge and weight.size:
                before = weight.size
                indptr, indices, _, nc, weight = _merge(indptr, indices, None, nc, weight)
                merged += before - weight.size
    if options.merge:
        report["merge"] = {"rows_removed": merged}
    report["rows_out"] = int(weight.size)
    report["columns_out"] = int(cols.var.sum())
    return CoverRows(indptr=np.asarray(indptr), indices=np.asarray(indices), weight=weight,
                     n_const=nc, settled_weight=settled_weight, uncoverable=uncoverable,
                     cols=cols, report=report)


@dataclass(frozen=True)
class AssignRows:
    """Demand rows of an assignment model (p-median, p-center) after presolve.

    Per row group: the candidate pairs ``indices``/``data`` (variable columns,
    seconds) and ``fixed_cost`` — the travel time to the nearest open constant
    (``inf`` when none), available as one more assignment option. Rows whose
    answer is settled by constants are summarised in ``settled_cost`` (weighted
    sum) and ``settled_max`` (largest time).
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    fixed_cost: np.ndarray
    weight: np.ndarray
    settled_cost: float
    settled_max: float
    uncoverable: np.ndarray
    report: dict

    @property
    def n_rows(self) -> int:
        return self.weight.size


def assign_rows(problem: PlacementProblem, cols: Columns, *, options: PresolveOptions,
                weighted: bool) -> AssignRows:
    """Assignment rows for p-median (``weighted``) and the p-center assignment model."""
    n = problem.n_demand
    f, _ = nearest_open(problem.cost, cols.const_open)
    V = select_columns(problem.cost, cols.var)
    report: dict = {"rows_in": n, "columns_in": int(cols.var.sum()), "pairs_in": int(V.nnz)}
    n_var = np.diff(V.indptr)
    uncoverable = np.flatnonzero(np.isinf(f) & (n_var == 0))
    keep = ~(np.isinf(f) & (n_var == 0))
    settled_cost, settled_max = 0.0, 0.0
    if options.fixed:
        better = V.data < f[row_of_entries(V)]
        rows = row_of_entries(V)[better]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        V = sparse.csr_array((V.data[better], V.indices[better], indptr), shape=V.shape)
        settled = keep & (np.diff(V.indptr) == 0)
        keep &= ~settled
        settled_cost = float((problem.weights[settled] * f[settled]).sum())
        settled_max = float(f[settled].max(initial=0.0))
        report["fixed"] = {"rows_removed": int(settled.sum()),
                           "pairs_removed": int((~better).sum())}
    report["uncoverable"] = {"rows_removed": int(uncoverable.size)}
    indptr, indices, data = _rows(V.indptr, V.indices, V.data, keep)
    weight = (problem.weights[keep] if weighted else np.ones(int(keep.sum()))).astype(np.float64)
    fixed_cost = f[keep]
    if options.merge and weight.size:
        before = weight.size
        indptr, indices, data, fixed_cost, weight = _merge(indptr, indices, data, fixed_cost,
                                                           weight)
        report["merge"] = {"rows_removed": before - weight.size}
    report["rows_out"] = int(weight.size)
    report["pairs_out"] = int(indices.size)
    return AssignRows(indptr=indptr, indices=indices, data=data, fixed_cost=fixed_cost,
                      weight=weight, settled_cost=settled_cost, settled_max=settled_max,
                      uncoverable=uncoverable, report=report)
