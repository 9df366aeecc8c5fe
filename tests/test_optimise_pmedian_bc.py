"""p-median branch and cut (``coverage.optimise.benders``) against enumeration and the compact model.

Random non-metric costs with small p give fractional LP relaxations, so these
instances make the search branch, fix sites by reduced cost, round the LP and
rebuild the master without the fixed sites — the paths OR-Library's small-p
instances take. Every optimum is checked against exhaustive enumeration, a few
against the PuLP assignment model, and time-limited answers against an
independent recomputation of objective, bound and gap.
"""

from __future__ import annotations

import importlib
import itertools
from types import SimpleNamespace

import numpy as np
import pytest
from test_optimise_models import reference, synthetic_instance

from coverage.optimise import PlacementProblem, pmedian
from coverage.optimise.backend import SolveOptions, relative_gap

benders = importlib.import_module("coverage.optimise.benders")


def generated_nonmetric(seed: int, n: int = 30, m: int = 14, whole: bool = True) -> dict:
    """A generated demand × site matrix of random times (not a metric) and weights."""
    rng = np.random.default_rng(seed)
    cost = rng.integers(1, 100, (n, m)).astype(float)
    w = rng.integers(1, 5, n).astype(float)
    if not whole:
        w = w + rng.random(n)  # fractional weights: no rounding of bounds allowed
    return {"cost": cost, "weights": w}


def brute_force(cost: np.ndarray, w: np.ndarray, p: int) -> float:
    """Optimum over every set of exactly p sites (more sites never hurt p-median)."""
    return min(float((w * cost[:, list(s)].min(axis=1)).sum())
               for s in itertools.combinations(range(cost.shape[1]), p))


def objective_of(cost: np.ndarray, w: np.ndarray, chosen) -> float:
    return float((w * cost[:, list(chosen)].min(axis=1)).sum())


@pytest.mark.parametrize("whole", [True, False])
def test_branch_and_cut_matches_enumeration(whole):
    branched = fixed = 0
    for seed in range(8):
        inst = generated_nonmetric(seed, whole=whole)
        prob = PlacementProblem.from_cost_matrix(inst["cost"], inst["weights"])
        for p in (2, 3, 4):
            ref = brute_force(inst["cost"], inst["weights"], p)
            res = pmedian(prob, p)
            assert res.status == "optimal", res.message
            assert res.objective == pytest.approx(ref, rel=1e-9)
            assert res.bound == pytest.approx(ref, rel=1e-9) and res.gap == 0.0
            assert objective_of(inst["cost"], inst["weights"], res.open) == pytest.approx(ref)
            branched += res.details["nodes"] > 1
            fixed += res.details["fixed_closed_by_reduced_cost"] > 0
    # The instances exercise the search, not only an integral root LP.
    assert branched >= 10 and fixed >= 10, (branched, fixed)


@pytest.mark.parametrize("seed", range(3))
def test_branch_and_cut_agrees_with_the_assignment_model(seed):
    inst = generated_nonmetric(seed, n=40, m=16)
    prob = PlacementProblem.from_cost_matrix(inst["cost"], inst["weights"])
    bc = pmedian(prob, 3, method="benders")
    compact = pmedian(prob, 3, method="assignment")
    assert bc.status == compact.status == "optimal"
    assert bc.objective == pytest.approx(compact.objective)


@pytest.mark.parametrize("flags", ["f", "fo", "bt", "x", "c"])
@pytest.mark.parametrize("seed", range(4))
def test_branch_and_cut_with_site_options(flags, seed):
    """Existing stations, forced sites, budget, types and closing, with branching."""
    inst = synthetic_instance(seed, n=24, m=10, options=flags)
    inst["cost"] = np.where(np.isfinite(inst["cost"]),
                            np.random.default_rng(seed).integers(1, 100, inst["cost"].shape),
                            np.inf)
    prob = PlacementProblem.from_cost_matrix(**inst)
    for p in (2, 3):
        ref = reference(inst, "pmedian", p)
        res = pmedian(prob, p)
        if ref is None:
            assert res.status == "infeasible", res.message
            continue
        assert res.status == "optimal", res.message
        assert res.objective == pytest.approx(ref) and res.bound == pytest.approx(ref)


@pytest.mark.parametrize("ticks", [1, 3, 6, 12, 25])
def test_time_limit_gives_an_honest_incumbent(monkeypatch, ticks):
    """Run out of time part-way (a clock that jumps 1 s per reading): never called optimal
    unless it is, and the bound is a true lower bound of the enumerated optimum."""
    real = benders.time.perf_counter
    calls = [0]

    def jumping() -> float:
        calls[0] += 1
        return real() + calls[0]

    monkeypatch.setattr(benders, "time", SimpleNamespace(perf_counter=jumping))
    seen = set()
    for seed in range(6):
        inst = generated_nonmetric(seed, n=40, m=16)
        prob = PlacementProblem.from_cost_matrix(inst["cost"], inst["weights"])
        ref = brute_force(inst["cost"], inst["weights"], 3)
        calls[0] = 0
        res = pmedian(prob, 3, options=SolveOptions(time_limit=float(ticks)))
        seen.add(res.status)
        assert res.status in ("optimal", "feasible"), res.message
        obj = objective_of(inst["cost"], inst["weights"], res.open)
        assert res.objective == pytest.approx(obj)
        assert obj >= ref - 1e-9
        if res.bound is not None:
            assert res.bound <= ref + 1e-9
            assert res.gap == pytest.approx(relative_gap(obj, res.bound))
        if res.status == "optimal":
            assert obj == pytest.approx(ref) and res.bound == pytest.approx(ref)
        else:
            assert res.gap is None or res.gap > 0
    if ticks <= 3:
        assert "feasible" in seen


@pytest.mark.parametrize("knob", ["AGGREGATE_ABOVE", "QUEUE_BASES"])
def test_branch_and_cut_exact_with_theta_aggregated_or_without_stored_bases(monkeypatch, knob):
    """θ aggregated per nearest candidate (AGGREGATE_ABOVE = 0), or no stored bases past
    QUEUE_BASES = 0 open nodes (children start from whatever basis is current)."""
    monkeypatch.setattr(benders, knob, 0)
    for seed in range(4):
        inst = generated_nonmetric(seed)
        prob = PlacementProblem.from_cost_matrix(inst["cost"], inst["weights"])
        res = pmedian(prob, 3)
        assert res.status == "optimal"
        assert res.objective == pytest.approx(brute_force(inst["cost"], inst["weights"], 3))
        if knob == "AGGREGATE_ABOVE":  # one θ block per nearest candidate at most
            assert res.details["theta_blocks"] <= prob.n_candidates


@pytest.mark.parametrize("dive", [-1e9, 0.5, 1.0])
def test_purging_keeps_stored_bases_and_dives_stay_exact(monkeypatch, dive):
    """Purging after every node (PURGE = 0) never deletes a row a stored basis holds
    nonbasic, so every restore is a basis; dives (none, default, always) stay exact."""
    monkeypatch.setattr(benders, "PURGE", 0)
    monkeypatch.setattr(benders, "DIVE", dive)
    restores = {"done": 0, "skipped": 0}
    original = benders._Master.restore

    def counting(self, basis):
        before = self.h.getBasis()
        original(self, basis)
        after = self.h.getBasis()
        same = list(after.row_status) == list(before.row_status) and \
            list(after.col_status) == list(before.col_status)
        restores["skipped" if same and list(basis[0]) != list(before.col_status) else "done"] += 1

    monkeypatch.setattr(benders._Master, "restore", counting)
    branched = 0
    for seed in range(6):
        inst = generated_nonmetric(seed)
        prob = PlacementProblem.from_cost_matrix(inst["cost"], inst["weights"])
        for p in (3, 4):
            res = pmedian(prob, p)
            assert res.status == "optimal", res.message
            assert res.objective == pytest.approx(brute_force(inst["cost"], inst["weights"], p))
            branched += res.details["nodes"] > 1
    assert branched >= 3
    assert restores["skipped"] == 0, restores
