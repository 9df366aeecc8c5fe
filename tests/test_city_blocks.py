"""Travel-time matrices in blocks of Dijkstra sources equal the one-call matrix."""

from __future__ import annotations

import numpy as np

from coverage.city.blocks import blocked_travel_time_matrix
from coverage.engine import snap_points, travel_time_matrix


def test_blocks_equal_one_call(yuzhong_index):
    rng = np.random.default_rng(3)
    xy = yuzhong_index.node_xy
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    src = snap_points(yuzhong_index, rng.uniform(lo, hi, size=(70, 2)))
    dst = snap_points(yuzhong_index, rng.uniform(lo, hi, size=(400, 2)))
    whole_sp = travel_time_matrix(yuzhong_index, src, dst, cutoff_s=300.0)
    whole = whole_sp.toarray()
    for block in (1, 16, 64, 100):
        blocked = blocked_travel_time_matrix(yuzhong_index, src, dst, cutoff_s=300.0,
                                             block=block)
        assert blocked.shape == (70, 400)
        got = blocked.toarray()
        present = whole > 0
        # Same entries within the cutoff (up to rounding at the cutoff itself) and times.
        assert np.abs(got[present] - whole[present]).max() <= 1e-9
        assert abs(blocked.nnz - whole_sp.nnz) <= 2
        assert whole_sp.nnz > 1000
