"""p-median reproduces the published OR-Library optima (Beasley 1985) for pmed1–5.

Costs are all-pairs shortest paths (scipy.sparse.csgraph) over the instance's
1-based undirected edges; when an edge is listed twice the last occurrence
counts (see shared/data/SOURCES.md). The larger instances run in
``benchmarks/placement.py``, not here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import shortest_path

from coverage.optimise import PlacementProblem, pmedian

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "benchmarks" / "orlib_pmed"

pytestmark = pytest.mark.skipif(not (DATA / "pmedopt.txt").exists(),
                                reason=f"OR-Library data not found at {DATA}")


def orlib_costs(path: Path) -> tuple[np.ndarray, int]:
    """All-pairs shortest-path matrix and p of one pmed file (last duplicate edge wins)."""
    lines = path.read_text().split("\n")
    n, _, p = (int(v) for v in lines[0].split())
    edges: dict[tuple[int, int], float] = {}
    for line in lines[1:]:
        parts = line.split()
        if len(parts) == 3:
            i, j, c = int(parts[0]) - 1, int(parts[1]) - 1, float(parts[2])
            edges[(min(i, j), max(i, j))] = c  # later lines overwrite earlier ones
    ij = np.array(list(edges))
    g = sparse.csr_array((list(edges.values()), (ij[:, 0], ij[:, 1])), shape=(n, n))
    return shortest_path(g, method="D", directed=False), p


def optima() -> dict[str, float]:
    rows = (DATA / "pmedopt.txt").read_text().split("\n")[1:]
    return {r.split()[0]: float(r.split()[1]) for r in rows if len(r.split()) == 2}


def test_last_duplicate_edge_wins():
    lines = (DATA / "pmed1.txt").read_text().split("\n")[1:]
    keys = [tuple(sorted(line.split()[:2])) for line in lines if len(line.split()) == 3]
    assert len(keys) > len(set(keys)), "pmed1 is known to repeat edges"


@pytest.mark.parametrize("name", ["pmed1", "pmed2", "pmed3", "pmed4", "pmed5"])
def test_pmedian_reproduces_orlib_optimum(name):
    cost, p = orlib_costs(DATA / f"{name}.txt")
    res = pmedian(PlacementProblem.from_cost_matrix(cost), p)
    assert res.status == "optimal", res.message
    assert res.objective == pytest.approx(optima()[name])
    assert len(res.chosen) == p
