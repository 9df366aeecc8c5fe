"""First-due times for a few open sites, reading only their entries of the matrix.

:func:`coverage.optimise.matrix.nearest_open` handles any mask in a few passes
over every entry; p-center's row generation and heuristic evaluate many small
site sets on matrices of up to 10⁸ entries, where one pass over the column
indices (to find the open sites' entries) is all they can afford.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def first_due(csr: sparse.csr_array, mask: np.ndarray, *, want_site: bool = True
              ) -> tuple[np.ndarray, np.ndarray | None]:
    """Seconds to the nearest open column per row (``inf`` if none), and that column.

    Reads only the entries of open columns (one pass over ``indices`` to find
    them), so it costs little when few sites are open, as in p-center. Ties
    go to the lowest column index, as in :func:`coverage.optimise.matrix.nearest_open`.
    """
    n = csr.shape[0]
    d = np.full(n, np.inf)
    site = np.full(n, -1, dtype=np.int64) if want_site else None
    sel = np.flatnonzero(mask[csr.indices])
    if sel.size == 0:
        return d, site
    rows = np.searchsorted(csr.indptr, sel, side="right") - 1
    head = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    vals = np.asarray(csr.data[sel], dtype=np.float64)
    best = np.minimum.reduceat(vals, head)
    d[rows[head]] = best
    if want_site:
        hit = np.flatnonzero(vals == d[rows])
        first = np.r_[True, rows[hit[1:]] != rows[hit[:-1]]]
        site[rows[hit[first]]] = csr.indices[sel[hit[first]]]
    return d, site


def nearest_available(csr: sparse.csr_array, mask: np.ndarray) -> np.ndarray:
    """Seconds to the nearest column in ``mask`` per row, for a mask of many columns."""
    n = csr.shape[0]
    d = np.full(n, np.inf)
    if csr.data.size == 0:
        return d
    vals = np.where(mask[csr.indices], np.asarray(csr.data, dtype=np.float64), np.inf)
    has = np.diff(csr.indptr) > 0
    d[has] = np.minimum.reduceat(vals, csr.indptr[:-1][has])
    return d
