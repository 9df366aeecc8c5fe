"""Large travel-time matrices in blocks of Dijkstra sources, on a :class:`Runner`.

A candidate × demand matrix for a whole city (thousands of sources) is split into
blocks of ``block`` sources; each block is one task running
:func:`coverage.engine.travel_time_matrix` on the road index that was sent once to
every worker. The blocks are stacked back in source order. Within a block the
engine inserts only that block's sources into the road graph, so times can differ
from one unblocked call by floating-point rounding (a segment cut at more points
sums its pieces in a different order): at most 1e-9 s, tested. The block layout
depends only on ``block``, never on the number of workers, so serial and Dask runs
give identical matrices.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from coverage.city.runner import Runner
from coverage.engine import RoadIndex, Snap, travel_time_matrix

__all__ = ["blocked_travel_time_matrix"]


def block_task(rows: np.ndarray, *, index: RoadIndex, src: Snap, dst: Snap,
               cutoff_s: float) -> sp.csr_matrix:
    """Travel seconds from the sources at positions ``rows`` to every target."""
    return travel_time_matrix(index, src.take(rows), dst, cutoff_s=cutoff_s)


def blocked_travel_time_matrix(
    index: RoadIndex, src: Snap, dst: Snap, *, cutoff_s: float, block: int = 512,
    runner: Runner | None = None,
) -> sp.csr_matrix:
    """:func:`coverage.engine.travel_time_matrix` computed in blocks of sources.

    Parameters
    ----------
    index : RoadIndex
    src, dst : Snap
        Sources (e.g. candidate sites) and targets (demand points).
    cutoff_s : float
        Entries beyond it are absent.
    block : int
        Sources per task.
    runner : Runner, optional
        Serial by default; on Dask the index is sent once to every worker.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (len(src), len(dst))
    """
    runner = runner or Runner(progress=False)
    starts = list(range(0, len(src), block))
    items = [np.arange(s, min(s + block, len(src))) for s in starts]
    if not items:
        return sp.csr_matrix((0, len(dst)))
    parts = runner.map(block_task, items, [f"sources {s + 1}-{s + len(r)}" for s, r in
                                           zip(starts, items, strict=True)],
                       desc="Dijkstra blocks",
                       shared={"index": runner.share(index), "src": src, "dst": dst,
                               "cutoff_s": float(cutoff_s)})
    return sp.vstack(parts, format="csr")
