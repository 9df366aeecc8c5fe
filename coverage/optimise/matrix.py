"""Sparse cost-matrix helpers shared by the placement models.

All functions work on a *canonical* CSR matrix: sorted column indices, no
duplicate entries, no NaN, no negative and no infinite values. A stored entry,
including an explicit ``0.0``, is a real travel time; an absent entry means
"not reachable within the matrix cutoff". SciPy operations such as
``eliminate_zeros`` or ``min(axis=1)`` treat absent entries as zeros, so this
module never calls them and reads ``indptr`` / ``indices`` / ``data`` directly.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from coverage.errors import InputError


def canonical_csr(cost: object, *, source: str = "cost matrix") -> sparse.csr_array:
    """Validate a demand × candidate cost matrix and return it as canonical CSR.

    Parameters
    ----------
    cost : numpy.ndarray or scipy.sparse matrix/array
        Travel times in seconds, shape (n_demand, n_candidates). Dense input:
        every finite value is a real cost (zeros included) and ``+inf`` marks an
        unreachable pair. Sparse input: every *stored* entry is a real cost
        (explicit zeros included), absent entries and stored ``+inf`` are
        unreachable.
    source : str
        Name used in error messages.

    Returns
    -------
    scipy.sparse.csr_array
        CSR with sorted indices, unique entries, and only finite non-negative
        stored values (explicit zeros kept). Values stay ``float32`` when given
        as ``float32`` (half the memory; whole seconds are exact in it) and are
        ``float64`` otherwise; indices are ``int32`` while they fit. A canonical
        CSR input whose arrays are read-only (handed over, as
        :func:`coverage.siting.siting_instance` does) is shared, not copied; a
        writeable one is copied once, so later changes to it cannot reach the
        problem.

    Raises
    ------
    InputError
        On wrong dimensionality, NaN, negative values or duplicate sparse entries.
    """
    if sparse.issparse(cost) and cost.format == "csr":
        fast = _canonical_csr_as_is(cost, source)
        if fast is not None:
            return fast
    if sparse.issparse(cost):
        coo = sparse.coo_array(cost)
        rows = np.asarray(coo.row, dtype=np.int64)
        cols = np.asarray(coo.col, dtype=np.int64)
        keep32 = coo.data.dtype == np.float32
        data = np.asarray(coo.data, dtype=np.float32 if keep32 else np.float64)
        shape = coo.shape
        if rows.size:
            key = rows * shape[1] + cols
            order = np.argsort(key, kind="stable")
            dup = np.flatnonzero(np.diff(key[order]) == 0)
            if dup.size:
                i, j = rows[order[dup[0]]], cols[order[dup[0]]]
                raise InputError(
                    f"entry (demand {i}, candidate {j}) is stored more than once; "
                    "SciPy would silently add the copies",
                    source=source, row=int(i),
                    fix="call .sum_duplicates() only if adding is meant, otherwise keep one value",
                )
            rows, cols, data = rows[order], cols[order], data[order]
    else:
        dense = np.asarray(cost, dtype=np.float64)
        if dense.ndim != 2:
            raise InputError(
                f"expected a 2-D demand × candidate matrix, got {dense.ndim}-D",
                source=source, fix="pass an array of shape (n_demand, n_candidates)",
            )
        shape = dense.shape
        rows, cols = np.nonzero(~np.isposinf(dense))
        data = dense[rows, cols]
    if shape[0] == 0 or shape[1] == 0:
        raise InputError(
            f"matrix has shape {shape}; it needs at least one demand row and one candidate",
            source=source, fix="check that demand points and candidate sites were loaded",
        )
    bad = np.flatnonzero(np.isnan(data))
    if bad.size:
        raise InputError(
            f"NaN travel time at (demand {rows[bad[0]]}, candidate {cols[bad[0]]})",
            source=source, row=int(rows[bad[0]]),
            fix="use +inf (dense) or leave the entry out (sparse) for unreachable pairs",
        )
    bad = np.flatnonzero(data < 0)
    if bad.size:
        raise InputError(
            f"negative travel time {data[bad[0]]} at (demand {rows[bad[0]]}, "
            f"candidate {cols[bad[0]]})",
            source=source, row=int(rows[bad[0]]), fix="travel times must be >= 0 seconds",
        )
    keep = np.isfinite(data)
    rows, cols, data = rows[keep], cols[keep], data[keep]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    # Built from (data, indices, indptr) so explicit zeros survive; rows/cols are
    # already sorted row-major, which makes the indices canonical.
    idx = _index_dtype(cols.size)
    out = sparse.csr_array((data, cols.astype(idx), indptr.astype(idx)), shape=shape)
    out.has_sorted_indices = True
    return out


def _check_values(data: np.ndarray, rows: np.ndarray | None, cols: np.ndarray, source: str,
                  indptr: np.ndarray | None = None) -> None:
    """Raise on NaN or negative stored times (row taken from ``rows`` or ``indptr``)."""
    for bad, what in ((np.flatnonzero(np.isnan(data)), "nan"), (np.flatnonzero(data < 0), "neg")):
        if not bad.size:
            continue
        k = int(bad[0])
        i = int(rows[k]) if rows is not None else int(np.searchsorted(indptr, k, side="right") - 1)
        if what == "nan":
            raise InputError(
                f"NaN travel time at (demand {i}, candidate {cols[k]})", source=source, row=i,
                fix="use +inf (dense) or leave the entry out (sparse) for unreachable pairs")
        raise InputError(
            f"negative travel time {data[k]} at (demand {i}, candidate {cols[k]})",
            source=source, row=i, fix="travel times must be >= 0 seconds")


def _index_dtype(nnz: int) -> type:
    """int32 indices while they fit (half the memory of int64), else int64."""
    return np.int32 if nnz < 2**31 - 1 else np.int64


def _canonical_csr_as_is(cost, source: str) -> sparse.csr_array | None:
    """The canonical form of a CSR input without copying it, or None if it needs sorting.

    Sorted, duplicate-free column indices are checked in one vectorised pass;
    anything else (unsorted or duplicate entries, stored ``inf``, a dtype other
    than float32/float64) goes the general way.
    """
    indptr, indices, data = cost.indptr, cost.indices, cost.data
    if data.dtype not in (np.float32, np.float64) or cost.shape[0] == 0 or cost.shape[1] == 0:
        return None
    if indices.size:
        step = np.diff(indices.astype(np.int64))
        first = indptr[1:-1]
        first = first[(first > 0) & (first < indices.size)]
        step[first - 1] = 1  # a new row may start at any column
        if (step <= 0).any() or np.isinf(data).any():
            return None
        if indices.min() < 0 or indices.max() >= cost.shape[1]:
            return None
    _check_values(data, None, indices, source, indptr=indptr)
    idx = _index_dtype(indices.size)
    out = sparse.csr_array((data, indices.astype(idx, copy=False), indptr.astype(idx, copy=False)),
                           shape=cost.shape, copy=False)
    out.has_sorted_indices = True
    if any(np.shares_memory(a, g) and g.flags.writeable
           for a, g in ((out.data, data), (out.indices, indices), (out.indptr, indptr))):
        # The caller may still change its arrays: the problem keeps its own copy.
        out = sparse.csr_array((out.data.copy(), out.indices.copy(), out.indptr.copy()),
                               shape=cost.shape, copy=False)
    out.has_sorted_indices = True
    for a in (out.data, out.indices, out.indptr):
        a.flags.writeable = False
    return out


def row_of_entries(csr: sparse.csr_array) -> np.ndarray:
    """Row index of every stored entry, aligned with ``csr.indices``."""
    return np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))


def within(csr: sparse.csr_array, radius: float) -> sparse.csr_array:
    """Boolean coverage pattern: stored entries with cost ≤ ``radius`` (inclusive)."""
    keep = csr.data <= radius
    rows = row_of_entries(csr)[keep]
    indptr = np.zeros(csr.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=csr.shape[0]), out=indptr[1:])
    return sparse.csr_array(
        (np.ones(int(keep.sum()), dtype=np.int8), csr.indices[keep], indptr), shape=csr.shape
    )


def select_columns(csr: sparse.csr_array, mask: np.ndarray) -> sparse.csr_array:
    """Keep the stored entries whose column is in ``mask``; shape and indices unchanged."""
    keep = mask[csr.indices]
    rows = row_of_entries(csr)[keep]
    indptr = np.zeros(csr.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=csr.shape[0]), out=indptr[1:])
    return sparse.csr_array((csr.data[keep], csr.indices[keep], indptr), shape=csr.shape)


def nearest_open(csr: sparse.csr_array, open_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cost to, and index of, the nearest open site for every demand row.

    Ties go to the lowest candidate index, so districts are deterministic.
    One pass over the stored entries (no sort): a per-row minimum, then the
    first entry of each row that attains it (indices are sorted within rows).

    Parameters
    ----------
    csr : scipy.sparse.csr_array
        Canonical cost matrix (seconds).
    open_mask : numpy.ndarray of bool, shape (n_candidates,)
        True for open sites.

    Returns
    -------
    first_due : numpy.ndarray of float, shape (n_demand,)
        Seconds to the nearest open site; ``inf`` when no open site is reachable.
    site : numpy.ndarray of int, shape (n_demand,)
        Candidate index of that site; ``-1`` when none.
    """
    n = csr.shape[0]
    keep = open_mask[csr.indices]
    first_due = np.full(n, np.inf)
    site = np.full(n, -1, dtype=np.int64)
    if not keep.any():
        return first_due, site
    counts = np.bincount(row_of_entries(csr)[keep], minlength=n)
    vals = csr.data[keep]
    cols = csr.indices[keep]
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    has = counts > 0
    first_due[has] = np.minimum.reduceat(vals, starts[has])
    rows = np.repeat(np.arange(n), counts)
    hit = np.flatnonzero(vals == first_due[rows])
    # The first hit of each row is its lowest column at the minimum.
    head = np.ones(hit.size, dtype=bool)
    head[1:] = rows[hit[1:]] != rows[hit[:-1]]
    site[rows[hit[head]]] = cols[hit[head]]
    return first_due, site


def nearest_two(csr: sparse.csr_array, open_mask: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest open site (cost, column) and the second-nearest cost, per demand row.

    Used by the interchange heuristics: closing a row's nearest site sends it
    to the second-nearest. ``inf`` where there is no such site.
    """
    d1, s1 = nearest_open(csr, open_mask)
    keep = open_mask[csr.indices]
    rows = row_of_entries(csr)
    keep &= csr.indices != s1[rows]
    d2 = np.full(csr.shape[0], np.inf)
    np.minimum.at(d2, rows[keep], csr.data[keep])
    return d1, s1, d2


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _mix(v: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads uint64 keys before they are summed per row."""
    with np.errstate(over="ignore"):
        v = (v + _MIX).astype(np.uint64)
        v = (v ^ (v >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        v = (v ^ (v >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return v ^ (v >> np.uint64(31))


def group_identical_rows(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray | None = None,
    extra: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Group rows whose stored pattern (and values, and ``extra`` key) are identical.

    Rows are bucketed by a 64-bit hash of their (position, column, value)
    entries, then every row is compared entry by entry with the first row of
    its bucket: two rows share a group only when they are equal, never on a
    hash collision (a colliding row starts a group of its own). Vectorised:
    no Python loop over rows except for the (astronomically rare) collisions.

    Returns
    -------
    group : numpy.ndarray of int, shape (n_rows,)
        Group id of each row; groups are numbered by their first row.
    first : numpy.ndarray of int
        The first (lowest) row of each group.
    """
    indptr = np.asarray(indptr, dtype=np.int64)
    n = indptr.size - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    length = np.diff(indptr)
    rows = np.repeat(np.arange(n), length)
    pos = np.arange(indices.size, dtype=np.int64) - indptr[rows]
    key = _mix(np.asarray(indices, dtype=np.int64).astype(np.uint64) * np.uint64(1_000_003)
               + pos.astype(np.uint64))
    if data is not None:
        bits = np.ascontiguousarray(data, dtype=np.float64).view(np.uint64)
        key = _mix(key ^ bits)
    h = np.zeros(n, dtype=np.uint64)
    full = length > 0
    if full.any():
        with np.errstate(over="ignore"):
            h[full] = np.add.reduceat(key, indptr[:-1][full])
    cols = [length.astype(np.uint64), h]
    if extra is not None:
        cols.append(np.ascontiguousarray(extra, dtype=np.float64).view(np.uint64))
    order = np.lexsort(cols[::-1])
    ks = np.stack([c[order] for c in cols], axis=1)
    new = np.ones(n, dtype=bool)
    new[1:] = (ks[1:] != ks[:-1]).any(axis=1)
    bucket = np.empty(n, dtype=np.int64)
    bucket[order] = np.cumsum(new) - 1
    # First (lowest) row of each bucket, then check every row against it exactly.
    lead = np.full(int(bucket.max()) + 1, n, dtype=np.int64)
    np.minimum.at(lead, bucket, np.arange(n))
    ref = lead[bucket]
    same = np.ones(n, dtype=bool)
    if indices.size:
        e_ref = indptr[ref[rows]] + pos
        diff = indices != indices[e_ref]
        if data is not None:
            diff |= data != data[e_ref]
        same &= np.bincount(rows, weights=diff, minlength=n) == 0
    group = np.where(same, ref, -1)
    for i in np.flatnonzero(~same):  # hash collisions only
        a, b = indptr[i], indptr[i + 1]
        leaders = np.flatnonzero((group[:i] == np.arange(i)) & (length[:i] == length[i]))
        group[i] = i
        for k in leaders:
            c, d = indptr[k], indptr[k + 1]
            if np.array_equal(indices[a:b], indices[c:d]) and (
                    data is None or np.array_equal(data[a:b], data[c:d])) and (
                    extra is None or extra[k] == extra[i]):
                group[i] = k
                break
    first, group = np.unique(group, return_inverse=True)
    return group.astype(np.int64), first.astype(np.int64)
