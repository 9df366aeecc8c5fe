"""The adjacency rule's check (cell-contact graph) against dissolved shapely polygons.

On generated grids (``synthetic_grid_instance``), for every set of open sites the
check must flag exactly the small sites whose dissolved district is empty or lies
more than 1 m from every full station's dissolved district.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest
import shapely
from test_optimise_setsearch import synthetic_grid_instance

from coverage.siting import _adjacency_check


def polygon_offenders(D: np.ndarray, cells, types, mask: np.ndarray) -> list[int]:
    site = np.argmin(np.where(mask[None, :], D, np.inf), axis=1)
    polys = {j: shapely.union_all(cells[site == j]) for j in np.flatnonzero(mask)}
    full = shapely.union_all([polys[j] for j in polys if types[j] != "small"])
    return sorted(int(j) for j in polys if types[j] == "small" and (
        polys[j].is_empty or not shapely.dwithin(polys[j], full, 1.0)))


@pytest.mark.parametrize("seed", range(4))
def test_graph_check_equals_the_polygon_check_on_every_set(seed):
    prob, cells, types, D = synthetic_grid_instance(seed)
    check = _adjacency_check(prob, SimpleNamespace(cells=cells))
    flagged = 0
    for k in range(7):
        for new in itertools.combinations(range(2, 8), k):
            mask = np.zeros(8, dtype=bool)
            mask[[0, 1, *new]] = True
            got = sorted(v.site for v in check(np.flatnonzero(mask)))
            assert got == polygon_offenders(D, cells, types, mask), new
            flagged += bool(got)
    assert flagged > 0
