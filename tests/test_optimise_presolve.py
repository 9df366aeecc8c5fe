"""Each presolve reduction leaves every model's optimum unchanged, and removes something.

The instances are generated here (``synthetic_geo_instance``): demand and
candidate points on a coarse grid (so that many demand points share a
candidate set), Euclidean travel times, a sparse cutoff, existing stations.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy import sparse

from coverage.optimise import (
    PlacementProblem,
    PresolveOptions,
    backup,
    lscp,
    mclp,
    pcenter,
    pmedian,
)
from coverage.optimise.matrix import group_identical_rows
from coverage.optimise.presolve import dominated_columns
from coverage.optimise.sites import classify


def synthetic_geo_instance(seed: int, n: int = 160, m: int = 16) -> PlacementProblem:
    rng = np.random.default_rng(seed)
    demand = rng.integers(0, 12, size=(n, 2)) * 100.0
    sites = rng.uniform(0, 1200, size=(m, 2))
    dist = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    seconds = np.round(dist / 10.0)
    seconds[seconds > 90] = np.inf  # sparse cutoff: 90 s
    return PlacementProblem.from_cost_matrix(
        seconds, weights=rng.integers(1, 5, size=n).astype(float), threshold=35.0,
        fixed=[0, 1])


STEPS = ["fixed", "uncoverable", "merge", "dominated"]
RUNS = [(lscp, ()), (mclp, (3,)), (backup, (None,)), (backup, (8,)), (pmedian, (3,)), (pcenter, (3,))]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("fn,args", RUNS, ids=[f.__name__ for f, _ in RUNS])
def test_each_step_keeps_the_optimum(seed, fn, args):
    prob = synthetic_geo_instance(seed)
    base = fn(prob, *args, presolve=PresolveOptions.off())
    assert base.status == "optimal", base.message
    every = fn(prob, *args, presolve=PresolveOptions())
    assert every.objective == pytest.approx(base.objective)
    for step in STEPS:
        only = PresolveOptions(**{s: s == step for s in STEPS})
        res = fn(prob, *args, presolve=only)
        assert res.status == "optimal"
        assert res.objective == pytest.approx(base.objective), step


@pytest.mark.parametrize("fn,args,steps", [
    (mclp, (3,), ["fixed", "merge", "dominated"]),
    (lscp, (), ["fixed", "merge"]),
    (pmedian, (3,), ["fixed"]),
])
def test_steps_actually_remove_rows(fn, args, steps):
    res = fn(synthetic_geo_instance(0), *args)
    for step in steps:
        removed = res.presolve[step]
        assert max(removed.values()) > 0, (step, res.presolve)
    assert res.presolve["rows_out"] < res.presolve["rows_in"]


def test_group_identical_rows_is_exact():
    csr = sparse.csr_array(np.array([[1, 0, 2], [1, 0, 2], [0, 3, 0], [1, 0, 2.5]]))
    group, first = group_identical_rows(csr.indptr, csr.indices)
    assert list(group) == [0, 0, 1, 0] and list(first) == [0, 2]
    group, _ = group_identical_rows(csr.indptr, csr.indices, csr.data)
    assert list(group) == [0, 0, 1, 2]  # values differ in row 3


def test_dominated_columns_against_brute_force():
    rng = np.random.default_rng(3)
    A = rng.random((30, 10)) < 0.3
    A[:, 4] = A[:, 2]  # an identical pair: the higher index goes
    A[:, 7] = False  # covers nothing
    cost = np.where(A, 10.0, 100.0)
    prob = PlacementProblem.from_cost_matrix(cost, threshold=50.0)
    cov = sparse.csr_array(A.astype(float))
    got = dominated_columns(cov.indptr, cov.indices, prob, classify(prob))
    sets = [frozenset(np.flatnonzero(A[:, j])) for j in range(10)]
    expect = np.zeros(10, dtype=bool)
    for j, k in combinations(range(10), 2):
        if sets[j] <= sets[k] and (sets[j] != sets[k] or k < j):
            expect[j] = True
        if sets[k] <= sets[j] and (sets[j] != sets[k] or j < k):
            expect[k] = True
    assert (got == expect).all()
    assert got[4] and not got[2] and got[7]


def test_dominance_respects_type_and_cost():
    cost = np.array([[10.0, 10.0], [10.0, 100.0]])  # column 1 covers a subset of column 0
    base = dict(threshold=50.0)
    prob = PlacementProblem.from_cost_matrix(cost, **base)
    cov = sparse.csr_array((cost <= 50).astype(float))
    assert list(dominated_columns(cov.indptr, cov.indices, prob, classify(prob))) == [0, 1]
    typed = PlacementProblem.from_cost_matrix(cost, site_types=["small", "level2"],
                                              type_limits={"small": 0}, **base)
    assert not dominated_columns(cov.indptr, cov.indices, typed, classify(typed)).any()
    pricey = PlacementProblem.from_cost_matrix(cost, costs=[5.0, 1.0], budget=3.0, **base)
    assert not dominated_columns(cov.indptr, cov.indices, pricey, classify(pricey)).any()
