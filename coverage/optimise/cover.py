"""Pieces shared by the covering models (LSCP, MCLP, backup, p-center steps)."""

from __future__ import annotations

import pulp

from coverage.optimise.presolve import CoverRows


def row_terms(rows: CoverRows, x: dict[int, pulp.LpVariable], g: int) -> list:
    """(variable, 1) pairs of the candidates covering row group ``g``."""
    return [(x[j], 1) for j in rows.indices[rows.indptr[g]:rows.indptr[g + 1]]]


def add_cover_once(lp: pulp.LpProblem, rows: CoverRows, x: dict[int, pulp.LpVariable]) -> None:
    """Every kept row group is covered at least once (constants count)."""
    for g in range(rows.n_rows):
        need = 1 - int(rows.n_const[g])
        terms = row_terms(rows, x, g)
        if need > 0 or terms:
            lp.addConstraint(pulp.LpAffineExpression(terms) >= need, f"cover_{g:07d}")

