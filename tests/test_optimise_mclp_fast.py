"""The fast MCLP path: iterated local search incumbent and the HiGHS settings of the array build.

Every check is against an independent recomputation: enumeration of the
admissible site sets (``test_optimise_models.reference``), the covered weight
recomputed from the open sites on the cost matrix, and the PuLP build.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from test_optimise_models import admissible_sets, reference, synthetic_instance

from coverage.optimise import PlacementProblem, PresolveOptions, SolveOptions, mclp
from coverage.optimise import heuristic as H
from coverage.optimise.arrays import covering_highs_options
from coverage.optimise.matrix import nearest_open
from coverage.optimise.sites import classify

backend = importlib.import_module("coverage.optimise.backend")


def generated_plane(seed: int, n: int, m: int, radius: float = 1200.0) -> PlacementProblem:
    """A generated instance: uniform points in a 10 km square, Euclidean metres, weights 1–100."""
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 10_000, (n, 2))
    sites = rng.uniform(0, 10_000, (m, 2))
    cost = np.hypot(*(demand[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    return PlacementProblem.from_cost_matrix(cost, rng.integers(1, 101, n).astype(float),
                                             threshold=radius)


def covered(prob: PlacementProblem, mask: np.ndarray) -> float:
    """Covered weight of the open columns ``mask``, recomputed on the cost matrix."""
    fd, _ = nearest_open(prob.cost, mask)
    return float(prob.weights[fd <= prob.threshold].sum())


@pytest.mark.parametrize("flags", ["", "f", "foc", "fb", "ft", "fbtoc"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_local_search_incumbent_is_admissible_and_never_beats_enumeration(seed, flags):
    inst = synthetic_instance(seed, n=24, m=11, options=flags)
    prob = PlacementProblem.from_cost_matrix(**inst)
    p = 3
    inc = H.mclp_incumbent(prob, classify(prob), prob.threshold, p)
    plain = H.mclp_incumbent(prob, classify(prob), prob.threshold, p, perturb_rounds=0)
    assert inc is not None and plain is not None
    assert any((inc.mask == a).all() for a in admissible_sets(inst, p))
    assert inc.objective == pytest.approx(covered(prob, inc.mask))
    assert plain.objective - 1e-9 <= inc.objective <= reference(inst, "mclp", p) + 1e-9


def test_local_search_improves_on_swaps_and_is_reproducible():
    prob = generated_plane(3, 600, 60, radius=900.0)
    cols = classify(prob)
    plain = H.mclp_incumbent(prob, cols, prob.threshold, 8, perturb_rounds=0)
    first = H.mclp_incumbent(prob, cols, prob.threshold, 8)
    again = H.mclp_incumbent(prob, cols, prob.threshold, 8)
    assert (first.mask == again.mask).all() and first.objective == again.objective
    assert first.objective >= plain.objective
    assert first.objective == pytest.approx(covered(prob, first.mask))
    assert first.mask.sum() <= 8
    assert "perturbation rounds" in first.method


def test_local_search_stops_at_the_deadline():
    prob = generated_plane(4, 400, 40)
    inc = H.mclp_incumbent(prob, classify(prob), prob.threshold, 6, deadline=0.0)
    # Out of time before it starts: the greedy set, no swaps and no perturbation.
    assert inc is not None and "perturbation" not in inc.method
    assert inc.objective == pytest.approx(covered(prob, inc.mask))


@pytest.mark.parametrize("seed", [5, 6])
def test_arrays_pulp_and_unpresolved_agree_on_a_generated_plane(seed):
    """Same optimum from the array build (HiGHS settings on), PuLP, and no presolve at all."""
    prob = generated_plane(seed, 500, 50)
    runs = [mclp(prob, 6), mclp(prob, 6, build="pulp"),
            mclp(prob, 6, presolve=PresolveOptions.off())]
    for res in runs:
        assert res.status == "optimal", res.message
        mask = np.zeros(prob.n_candidates, dtype=bool)
        mask[list(res.open)] = True
        assert res.objective == pytest.approx(covered(prob, mask))
        assert res.bound == pytest.approx(res.objective) and res.gap == 0.0
        assert len(res.chosen) <= 6
    assert runs[1].objective == pytest.approx(runs[0].objective)
    assert runs[2].objective == pytest.approx(runs[0].objective)


def test_array_build_hands_highs_its_settings(monkeypatch):
    seen = []
    solve = backend._solve_arrays

    def spy(model, options, time_limit, start=None):
        out = solve(model, options, time_limit, start)
        h = model.solverModel
        seen.append((dict(model.highs_options), h.getOptionValue("presolve")[1],
                     h.getOptionValue("mip_heuristic_effort")[1], start is not None))
        return out

    monkeypatch.setattr(backend, "_solve_arrays", spy)
    res = mclp(generated_plane(7, 300, 30), 4)
    assert res.status == "optimal"
    (opts, presolve, effort, started), = seen
    assert started and opts == covering_highs_options(strong_start=True)
    assert presolve == "off" and effort == 0.0
    assert covering_highs_options(strong_start=False) == {"presolve": "off"}


def test_time_limited_run_reports_an_honest_bound_and_gap():
    """A limit too short for the proof: an incumbent, a bound no lower, the gap between them."""
    prob = generated_plane(8, 3000, 150)
    res = mclp(prob, 15, options=SolveOptions(time_limit=0.5))
    assert res.has_solution, res.message
    mask = np.zeros(prob.n_candidates, dtype=bool)
    mask[list(res.open)] = True
    assert res.objective == pytest.approx(covered(prob, mask))
    assert res.bound is not None and res.bound >= res.objective - 1e-6
    gap = (res.bound - res.objective) / res.objective
    if res.status == "optimal":
        assert gap == pytest.approx(0.0, abs=1e-6) and res.gap == 0.0
    else:
        assert res.status == "feasible" and res.gap == pytest.approx(gap, rel=1e-6, abs=1e-9)
        assert gap > 0
