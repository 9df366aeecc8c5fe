"""The assignment formulation shared by p-median and the p-center cross-check.

Each demand row group g is assigned to one site: yᵍⱼ ≥ 0 for every candidate
pair stored in the sparse matrix (after presolve), plus one option ``f`` for
"the nearest site that is open anyway" when such a site exists. Σ y = 1 and
yᵍⱼ ≤ xⱼ. Only the sparse support is modelled: a pair absent from the matrix
(beyond its cutoff) cannot be used, so a row whose reachable sites are all
closed makes the model infeasible rather than silently unserved.
"""

from __future__ import annotations

import math

import pulp

from coverage.optimise.presolve import AssignRows
from coverage.optimise.sites import new_var


def add_assignment(lp: pulp.LpProblem, rows: AssignRows, x: dict[int, pulp.LpVariable]
                   ) -> list[list[tuple[pulp.LpVariable, float]]]:
    """Add Σ y = 1 and y ≤ x; return per row group its (y, seconds) pairs."""
    per_row = []
    for g in range(rows.n_rows):
        pairs = []
        for k in range(rows.indptr[g], rows.indptr[g + 1]):
            j = int(rows.indices[k])
            y = new_var(lp, f"y_{g:07d}_{j:07d}", 0)
            lp.addConstraint(pulp.LpAffineExpression([(y, 1), (x[j], -1)]) <= 0)
            pairs.append((y, float(rows.data[k])))
        if math.isfinite(rows.fixed_cost[g]):
            pairs.append((new_var(lp, f"f_{g:07d}", 0), float(rows.fixed_cost[g])))
        lp.addConstraint(pulp.LpAffineExpression([(y, 1) for y, _ in pairs]) == 1,
                         f"assign_{g:07d}")
        per_row.append(pairs)
    return per_row


def assignment_start(rows: AssignRows, per_row: list, mask) -> dict:
    """Assignment variable values for the open columns ``mask``: each group to its nearest.

    The nearest open option of each row group (ties to the first pair, as
    listed) gets 1, every other pair 0. Groups with no open option are left
    out, which makes the start incomplete rather than wrong.
    """
    start = {}
    for g, pairs in enumerate(per_row):
        a, b = int(rows.indptr[g]), int(rows.indptr[g + 1])
        best, best_c = None, math.inf
        for k, (_y, c) in enumerate(pairs):
            is_open = mask[int(rows.indices[a + k])] if k < b - a else True
            if is_open and c < best_c:
                best, best_c = k, c
        for k, (y, _) in enumerate(pairs):
            start[y] = 1.0 if k == best else 0.0
    return start
