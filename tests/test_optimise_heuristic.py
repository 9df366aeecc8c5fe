"""Heuristic incumbents and the vectorised matrix helpers, against enumeration and references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from coverage.optimise import PlacementProblem
from coverage.optimise import heuristic as H
from coverage.optimise.matrix import canonical_csr, group_identical_rows, nearest_open
from coverage.optimise.sites import classify


def synthetic_instance(seed: int, n: int = 30, m: int = 9) -> PlacementProblem:
    """A generated (synthetic) instance: random seconds, some pairs unreachable."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 500, (n, m))
    cost[rng.random((n, m)) < 0.3] = np.inf
    return PlacementProblem.from_cost_matrix(cost, rng.integers(1, 10, n).astype(float),
                                             threshold=200.0, fixed=[0])


def enumerate_best(problem: PlacementProblem, p: int) -> dict[str, float]:
    m = problem.n_candidates
    w = problem.weights
    reach = ~np.isinf(nearest_open(problem.cost, np.ones(m, bool))[0])
    best = {"mclp": -1.0, "pmedian": np.inf, "pcenter": np.inf}
    for k in range(p + 1):
        for S in itertools.combinations(range(1, m), k):
            mask = np.zeros(m, bool)
            mask[0] = True
            mask[list(S)] = True
            fd, _ = nearest_open(problem.cost, mask)
            best["mclp"] = max(best["mclp"], float(w[fd <= problem.threshold].sum()))
            if not np.isinf(fd[reach]).any():
                best["pmedian"] = min(best["pmedian"], float((w[reach] * fd[reach]).sum()))
                best["pcenter"] = min(best["pcenter"], float(fd[reach].max()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_incumbents_are_feasible_and_never_beat_the_optimum(seed):
    prob = synthetic_instance(seed)
    cols = classify(prob)
    p = 3
    best = enumerate_best(prob, p)
    reach = ~np.isinf(nearest_open(prob.cost, np.ones(prob.n_candidates, bool))[0])
    inc = H.mclp_incumbent(prob, cols, prob.threshold, p)
    fd, _ = nearest_open(prob.cost, inc.mask)
    assert inc.mask[0] and (inc.mask[1:].sum() <= p)
    assert inc.objective == pytest.approx(prob.weights[fd <= prob.threshold].sum())
    assert inc.objective <= best["mclp"] + 1e-9
    med = H.pmedian_incumbent(prob, cols, p)
    if np.isfinite(best["pmedian"]):
        assert med is not None
    if med is not None:
        fd, _ = nearest_open(prob.cost, med.mask)
        assert med.mask[1:].sum() <= p
        assert med.objective == pytest.approx((prob.weights[reach] * fd[reach]).sum())
        assert med.objective >= best["pmedian"] - 1e-6
    cen = H.pcenter_incumbent(prob, cols, p)
    if cen is not None:
        fd, _ = nearest_open(prob.cost, cen.mask)
        assert cen.mask[1:].sum() <= p
        assert cen.objective == pytest.approx(fd[reach].max())
        assert cen.objective >= best["pcenter"] - 1e-9
    cover = H.lscp_incumbent(prob, cols, prob.threshold)
    fd, _ = nearest_open(prob.cost, cover.mask)
    coverable = nearest_open(prob.cost, np.ones(prob.n_candidates, bool))[0] <= prob.threshold
    assert (fd[coverable] <= prob.threshold).all()


def test_interchange_finds_the_optimum_on_most_small_instances():
    """Greedy + swaps is a heuristic, but on tiny instances it should mostly be optimal."""
    hits = {"mclp": 0, "pmedian": 0}
    for seed in range(12):
        prob = synthetic_instance(seed)
        best = enumerate_best(prob, 3)
        cols = classify(prob)
        hits["mclp"] += H.mclp_incumbent(prob, cols, 200.0, 3).objective == best["mclp"]
        med = H.pmedian_incumbent(prob, cols, 3)
        hits["pmedian"] += med is not None and med.objective == pytest.approx(best["pmedian"])
    assert hits["mclp"] >= 8 and hits["pmedian"] >= 8, hits


def test_heuristics_honour_budget_types_forced_and_forbidden():
    rng = np.random.default_rng(5)
    cost = rng.uniform(0, 400, (40, 10))
    types = ["level1"] + ["small"] * 5 + ["level2"] * 4
    prob = PlacementProblem.from_cost_matrix(
        cost, threshold=150.0, fixed=[0], site_types=types, type_limits={"level2": 1},
        costs=np.arange(10.0), budget=12.0, force_open=[2], force_closed=[3])
    cols = classify(prob)
    for inc in (H.mclp_incumbent(prob, cols, 150.0, 3), H.pmedian_incumbent(prob, cols, 3),
                H.pcenter_incumbent(prob, cols, 3)):
        if inc is None:
            continue
        new = np.flatnonzero(inc.mask & ~prob.is_fixed)
        assert 2 in new and 3 not in new
        assert len(new) <= 3
        assert prob.costs[new].sum() <= 12.0
        assert sum(types[j] == "level2" for j in new) <= 1


def test_no_incumbent_when_closing_is_required():
    prob = PlacementProblem.from_cost_matrix(np.ones((3, 3)), threshold=5.0, fixed=[0, 1],
                                             closable=[0, 1], close_min=1)
    assert H.mclp_incumbent(prob, classify(prob), 5.0, 1) is None


def _nearest_reference(csr, mask):
    n = csr.shape[0]
    fd, site = np.full(n, np.inf), np.full(n, -1)
    for i in range(n):
        a, b = csr.indptr[i], csr.indptr[i + 1]
        for j, c in zip(csr.indices[a:b], csr.data[a:b], strict=True):
            if mask[j] and (c < fd[i] or (c == fd[i] and j < site[i])):
                fd[i], site[i] = c, j
    return fd, site


def _groups_reference(indptr, indices, data, extra):
    seen, group, first = {}, [], []
    for i in range(indptr.size - 1):
        key = (tuple(indices[indptr[i]:indptr[i + 1]]),
               None if data is None else tuple(data[indptr[i]:indptr[i + 1]]),
               None if extra is None else extra[i])
        g = seen.setdefault(key, len(first))
        if g == len(first):
            first.append(i)
        group.append(g)
    return np.array(group), np.array(first)


@pytest.mark.parametrize("seed", range(30))
def test_vectorised_matrix_helpers_match_plain_loops(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 40)), int(rng.integers(1, 8))
    dense = rng.integers(0, 4, (n, m)).astype(float)
    dense[rng.random((n, m)) < 0.4] = np.inf
    csr = canonical_csr(dense)
    mask = rng.random(m) < 0.6
    for got, want in zip(nearest_open(csr, mask), _nearest_reference(csr, mask), strict=True):
        np.testing.assert_array_equal(got, want)
    extra = rng.integers(0, 2, n).astype(float)
    for data in (None, csr.data):
        for ex in (None, extra):
            group, first = group_identical_rows(csr.indptr, csr.indices, data, ex)
            ref_group, ref_first = _groups_reference(csr.indptr, csr.indices, data, ex)
            np.testing.assert_array_equal(group, ref_group)
            np.testing.assert_array_equal(first, ref_first)
