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
        Float64 CSR with sorted indices, unique entries, and only finite
        non-negative stored values (explicit zeros kept).

    Raises
    ------
    InputError
        On wrong dimensionality, NaN, negative values or duplicate sparse entries.
    """
    if sparse.issparse(cost):
        coo = sparse.coo_array(cost)
        rows = np.asarray(coo.row, dtype=np.int64)
        cols = np.asarray(coo.col, dtype=np.int64)
        data = np.asarray(coo.data, dtype=np.float64)
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
    out = sparse.csr_array((data, cols.astype(np.int64), indptr), shape=shape)
    out.has_sorted_indices = True
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
    rows = row_of_entries(csr)[keep]
    cols = csr.indices[keep]
    vals = csr.data[keep]
    first_due = np.full(n, np.inf)
    site = np.full(n, -1, dtype=np.int64)
    if rows.size:
        order = np.lexsort((cols, vals, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        head = np.ones(rows.size, dtype=bool)
        head[1:] = rows[1:] != rows[:-1]
        first_due[rows[head]] = vals[head]
        site[rows[head]] = cols[head]
    return first_due, site


def group_identical_rows(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray | None = None,
    extra: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Group rows whose stored pattern (and values, and ``extra`` key) are identical.

    The key is the exact bytes of each row's column indices (and values), so two
    rows share a group only when they are equal, never on a hash collision.

    Returns
    -------
    group : numpy.ndarray of int, shape (n_rows,)
        Group id of each row; groups are numbered by their first row.
    first : numpy.ndarray of int
        The first (lowest) row of each group.
    """
    n = indptr.size - 1
    seen: dict[bytes, int] = {}
    group = np.empty(n, dtype=np.int64)
    first: list[int] = []
    for i in range(n):
        a, b = indptr[i], indptr[i + 1]
        key = indices[a:b].tobytes()
        if data is not None:
            key += b"|" + data[a:b].tobytes()
        if extra is not None:
            key += b"#" + extra[i].tobytes()
        g = seen.setdefault(key, len(first))
        if g == len(first):
            first.append(i)
        group[i] = g
    return group, np.asarray(first, dtype=np.int64)
