"""p-center by client row generation against the compact formulation and enumeration.

The row generation (``method="rowgen"``, :mod:`coverage.optimise.rowgen`) must
give the same optimum as the PuLP assignment model and the full bisection, and
as brute-force enumeration on small instances with every site option; a time
limit must return a lower bound that never exceeds the true optimum.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from test_optimise_models import admissible_sets, reference, synthetic_instance

from coverage.optimise import PlacementProblem, SolveOptions, pcenter
from coverage.optimise.matrix import nearest_open
from coverage.optimise.served import first_due, nearest_available


def _check_sites(inst: dict, res) -> None:
    mask = np.zeros(inst["cost"].shape[1], dtype=bool)
    mask[list(res.open)] = True
    assert any((mask == a).all() for a in admissible_sets(inst, res.details["p"]))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("flags", ["", "f", "fo", "c", "b", "t", "x", "fbt"])
def test_rowgen_matches_enumeration_and_compact_model(seed, flags):
    inst = synthetic_instance(seed, n=24, m=10, options=flags)
    prob = PlacementProblem.from_cost_matrix(**inst)
    for p in (1, 2, 3):
        ref = reference(inst, "pcenter", p)
        res = pcenter(prob, p, method="rowgen")
        if ref is None:
            assert res.status == "infeasible", res.message
            assert pcenter(prob, p, method="assignment").status == "infeasible"
            continue
        assert res.status == "optimal", res.message
        assert res.objective == pytest.approx(ref)
        assert res.bound == res.objective and res.gap == 0.0
        assert res.method == "rowgen"
        _check_sites(inst, res)
        # The recomputed worst first-due time over reachable rows is the objective.
        reach = ~np.isin(np.arange(prob.n_demand), res.uncoverable)
        assert res.first_due[reach].max(initial=0.0) == pytest.approx(res.objective)
        compact = pcenter(prob, p, method="assignment")
        assert compact.status == "optimal" and compact.objective == pytest.approx(ref)


@pytest.mark.parametrize("seed", range(4))
def test_rowgen_equals_bisection_on_larger_instances(seed):
    rng = np.random.default_rng(seed)
    pts, sites = rng.uniform(0, 5000, (400, 2)), rng.uniform(0, 5000, (60, 2))
    cost = np.rint(np.hypot(*(pts[:, None] - sites[None]).transpose(2, 0, 1)) / 10.0)
    cost[cost > 250] = np.inf  # a matrix cutoff: sparse, some rows reach few sites
    prob = PlacementProblem.from_cost_matrix(cost, fixed=[0, 1])
    for p in (2, 5):
        a = pcenter(prob, p, method="rowgen")
        b = pcenter(prob, p, method="bisection")
        assert a.status == b.status
        if a.status == "optimal":
            assert a.objective == b.objective
            assert a.details["clients_in_subset"] <= prob.n_demand


def test_rowgen_time_limit_keeps_a_valid_bound():
    rng = np.random.default_rng(7)
    pts, sites = rng.uniform(0, 5000, (600, 2)), rng.uniform(0, 5000, (80, 2))
    cost = np.rint(np.hypot(*(pts[:, None] - sites[None]).transpose(2, 0, 1)) / 10.0)
    prob = PlacementProblem.from_cost_matrix(cost)
    exact = pcenter(prob, 8, method="rowgen")
    limited = pcenter(prob, 8, method="rowgen", options=SolveOptions(time_limit=0.2))
    assert exact.status == "optimal"
    assert limited.status in ("optimal", "feasible")
    assert limited.bound <= exact.objective + 1e-9 <= limited.objective + 1e-9
    if limited.status == "feasible":
        assert limited.gap == pytest.approx((limited.objective - limited.bound)
                                            / limited.objective)
    else:
        assert limited.objective == exact.objective


def test_rowgen_needs_highs():
    prob = PlacementProblem.from_cost_matrix(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="HiGHS"):
        pcenter(prob, 1, method="rowgen", options=SolveOptions(solver="cbc"))
    assert pcenter(prob, 1, options=SolveOptions(solver="cbc")).method == "bisection"


@pytest.mark.parametrize("seed", range(5))
def test_first_due_equals_nearest_open(seed):
    rng = np.random.default_rng(seed)
    dense = rng.integers(0, 20, (50, 30)).astype(np.float64)
    dense[rng.random(dense.shape) < 0.6] = np.inf
    prob = PlacementProblem.from_cost_matrix(dense)  # canonical CSR, explicit zeros kept
    C = prob.cost
    for frac in (0.0, 0.1, 0.5, 1.0):
        mask = rng.random(30) < frac
        d, s = first_due(C, mask)
        d0, s0 = nearest_open(C, mask)
        assert np.array_equal(d, d0) and np.array_equal(s, s0)
        assert np.array_equal(nearest_available(C, mask), d0)
    f32 = sparse.csr_array((C.data.astype(np.float32), C.indices.astype(np.int32),
                            C.indptr), shape=C.shape)
    mask = rng.random(30) < 0.3
    assert np.array_equal(first_due(f32, mask)[0], nearest_open(C, mask)[0])
