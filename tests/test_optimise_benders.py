"""p-median by Benders: every MILP phase and θ aggregation against enumeration.

Small instances never reach θ aggregated per nearest candidate
(``AGGREGATE_ABOVE``) by default; with and without it the decomposition must
give the brute-force optimum with every site option, and agree with the PuLP
assignment model.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from test_optimise_models import admissible_sets, reference, synthetic_instance

from coverage.optimise import PlacementProblem, pmedian

benders = importlib.import_module("coverage.optimise.benders")


@pytest.mark.parametrize("aggregate", [False, True])
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("flags", ["", "fo", "bt", "x", "c"])
def test_benders_variants_match_enumeration(monkeypatch, aggregate, seed, flags):
    monkeypatch.setattr(benders, "AGGREGATE_ABOVE", 0 if aggregate else 10**9)
    inst = synthetic_instance(seed, n=20, m=9, options=flags)
    prob = PlacementProblem.from_cost_matrix(**inst)
    for p in (1, 2, 3):
        ref = reference(inst, "pmedian", p)
        res = pmedian(prob, p, method="benders")
        if ref is None:
            assert res.status == "infeasible", res.message
            continue
        assert res.status == "optimal", res.message
        assert res.objective == pytest.approx(ref)
        assert res.bound == pytest.approx(ref) and res.gap == 0.0
        mask = np.zeros(prob.n_candidates, dtype=bool)
        mask[list(res.open)] = True
        assert any((mask == a).all() for a in admissible_sets(inst, p))
        if aggregate:
            assert res.details["theta_blocks"] <= prob.n_candidates


def test_whole_number_objectives_round_the_bound_up():
    rng = np.random.default_rng(3)
    cost = rng.integers(1, 60, (120, 25)).astype(float)
    prob = PlacementProblem.from_cost_matrix(cost)
    res = pmedian(prob, 4)
    ref = pmedian(prob, 4, method="assignment")
    assert res.status == ref.status == "optimal"
    assert res.objective == ref.objective == res.bound
    assert float(res.bound).is_integer()
