"""The multi-period model against exhaustive enumeration on small generated instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from coverage.errors import InputError
from coverage.optimise import PlacementProblem, SolveOptions
from coverage.phasing import (
    DISCOUNTS,
    NEVER,
    PhaseSpec,
    greedy_plan,
    myopic_plan,
    phase_plan,
    plan_violations,
)


def synthetic_instance(seed: int, n: int = 14, m: int = 6, fixed: int = 1) -> np.ndarray:
    """A generated demand × site travel-time matrix (seconds), some entries unreachable."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(30, 400, size=(n, m))
    cost[rng.random((n, m)) < 0.15] = np.inf
    cost[:, 0] = np.minimum(cost[:, 0], 900)  # the existing station reaches everyone
    return cost


def _problem(cost, seed, *, fixed=(0,)):
    rng = np.random.default_rng(seed + 100)
    return PlacementProblem.from_cost_matrix(
        cost, weights=rng.integers(1, 6, cost.shape[0]).astype(float), threshold=200.0,
        fixed=list(fixed))


def _independent_values(cost, weights, threshold, open_year, n_years, discount):
    """Coverage and worst time per year, with dense numpy only (not the library's evaluator)."""
    cov, worst = [], []
    for t in range(n_years):
        cols = [j for j in range(cost.shape[1]) if 0 <= open_year[j] <= t]
        fd = cost[:, cols].min(axis=1) if cols else np.full(cost.shape[0], np.inf)
        cov.append(weights[fd <= threshold].sum())
        worst.append(fd[np.isfinite(cost).any(axis=1)].max())
    d = (1 + discount) ** -np.arange(n_years)
    return float(np.dot(d, cov)), tuple(worst)


def _enumerate(problem, spec, cost, objective):
    """Every assignment of an opening year (or never) to every new site."""
    m = cost.shape[1]
    new = [j for j in range(m) if j not in problem.fixed]
    best = None
    for years in itertools.product([NEVER, *range(spec.n_years)], repeat=len(new)):
        oy = np.zeros(m, dtype=int)
        oy[new] = years
        if plan_violations(problem, spec, oy):
            continue
        cov, worst = _independent_values(cost, problem.weights, problem.threshold, oy,
                                         spec.n_years, spec.discount.rate)
        key = (-cov,) if objective == "coverage" else worst
        if best is None or key < best[0]:
            best = (key, oy)
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("carry", [False, True])
def test_coverage_matches_enumeration(seed, carry):
    cost = synthetic_instance(seed)
    prob = _problem(cost, seed)
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 4, cost.shape[1]).astype(float)
    spec = PhaseSpec(years=[2026, 2027, 2028], budget=[2, 1, 3], costs=costs, carry_over=carry,
                     discount=DISCOUNTS["cn_social_8pct"])
    res = phase_plan(prob, spec, options=SolveOptions(threads=1))
    assert res.status == "optimal"
    key, _ = _enumerate(prob, spec, cost, "coverage")
    assert res.objective == pytest.approx(-key[0])
    assert not plan_violations(prob, spec, res.open_year)
    myo = myopic_plan(prob, spec, options=SolveOptions(threads=1))
    assert myo.objective <= res.objective + 1e-9
    gr = greedy_plan(prob, spec)
    assert gr.objective <= res.objective + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_minmax_matches_lexicographic_enumeration(seed):
    cost = synthetic_instance(seed, n=12, m=5)
    prob = _problem(cost, seed)
    spec = PhaseSpec(years=[1, 2, 3], budget=[1, 1, 1])
    res = phase_plan(prob, spec, objective="minmax", options=SolveOptions(threads=1))
    assert res.status == "optimal"
    key, _ = _enumerate(prob, spec, cost, "minmax")
    assert res.by_year == pytest.approx(key)
    # Tie-break: among the lexicographically optimal plans, the most coverage summed over years.
    m = cost.shape[1]
    best_cov = max(
        cov for years in itertools.product([NEVER, 0, 1, 2], repeat=m - 1)
        for oy in [np.array([0, *years])] if not plan_violations(prob, spec, oy)
        for cov, worst in [_independent_values(cost, prob.weights, 200.0, oy, 3, 0.0)]
        if np.allclose(worst, key))
    got, _ = _independent_values(cost, prob.weights, 200.0, res.open_year, 3, 0.0)
    assert got == pytest.approx(best_cov)


def test_forced_and_forbidden_years_hold():
    cost = synthetic_instance(7)
    prob = _problem(cost, 7)
    spec = PhaseSpec(years=[1, 2, 3], budget=[1, 1, 1], forced={2: [3]}, forbidden={3: [1]})
    res = phase_plan(prob, spec, options=SolveOptions(threads=1))
    assert res.status == "optimal"
    assert 0 <= res.open_year[3] <= 1
    assert res.open_year[1] == NEVER
    key, _ = _enumerate(prob, spec, cost, "coverage")
    assert res.objective == pytest.approx(-key[0])


def test_robust_worst_period_matches_enumeration():
    cost = synthetic_instance(3)
    peak = np.where(np.isfinite(cost), cost * np.random.default_rng(9).uniform(1.0, 1.6, cost.shape),
                    np.inf)
    probs = [_problem(cost, 3), _problem(peak, 3)]
    spec = PhaseSpec(years=[1, 2], budget=[1, 2])
    res = phase_plan(probs, spec, robust="worst", options=SolveOptions(threads=1))
    assert res.status == "optimal"
    best = None
    m = cost.shape[1]
    for years in itertools.product([NEVER, 0, 1], repeat=m - 1):
        oy = np.array([0, *years])
        if plan_violations(probs[0], spec, oy):
            continue
        per_year = []
        for t in range(2):
            cols = [j for j in range(m) if 0 <= oy[j] <= t]
            per_year.append(min(probs[0].weights[c[:, cols].min(axis=1) <= 200.0].sum()
                                for c in (cost, peak)))
        total = sum(per_year)
        best = total if best is None else max(best, total)
    assert res.objective == pytest.approx(best)


def test_time_limit_keeps_an_answer_and_is_never_called_optimal_without_proof():
    cost = synthetic_instance(11, n=60, m=25)
    prob = _problem(cost, 11)
    spec = PhaseSpec(years=[1, 2, 3, 4], budget=[2, 2, 2, 2])
    res = phase_plan(prob, spec, options=SolveOptions(threads=1, time_limit=0.05))
    assert res.has_solution
    assert not plan_violations(prob, spec, res.open_year)
    if res.status == "optimal":
        assert res.gap == 0.0 and res.bound == pytest.approx(res.objective)
    else:
        assert res.status == "feasible"


def test_bad_specs_are_clear_errors():
    with pytest.raises(InputError, match="increasing"):
        PhaseSpec(years=[2027, 2026], budget=[1, 1])
    with pytest.raises(InputError, match="one budget"):
        PhaseSpec(years=[2026, 2027], budget=[1])
    with pytest.raises(InputError, match="forced open by 2026 but forbidden"):
        PhaseSpec(years=[2026, 2027], budget=[1, 1], forced={2026: [2]}, forbidden={2027: [2]})


def test_robust_every_period_matches_enumeration():
    cost = synthetic_instance(5)
    peak = np.where(np.isfinite(cost), cost * np.random.default_rng(4).uniform(1.0, 1.5, cost.shape),
                    np.inf)
    probs = [_problem(cost, 5), _problem(peak, 5)]
    spec = PhaseSpec(years=[1, 2], budget=[1, 1])
    res = phase_plan(probs, spec, robust="every", options=SolveOptions(threads=1))
    assert res.status == "optimal"
    both = np.maximum(cost, peak)  # within the threshold in every period
    key, _ = _enumerate(probs[0], spec, both, "coverage")
    assert res.objective == pytest.approx(-key[0])
