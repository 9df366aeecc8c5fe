"""Honest solver status: limits never yield "optimal"; infeasible input says why.

``synthetic_hard_mclp`` is generated here: random (non-geometric) coverage
sets, which give MCLP a weak LP relaxation, so neither HiGHS nor CBC can close
the gap in a fraction of a second (both need minutes on it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from coverage.errors import InputError
from coverage.optimise import (
    PlacementProblem,
    SolveOptions,
    backup,
    lscp,
    mclp,
    pcenter,
    pmedian,
)
from coverage.optimise.backend import parse_cbc_log, relative_gap


def synthetic_hard_mclp() -> PlacementProblem:
    rng = np.random.default_rng(2)
    cover = sparse.random_array((2000, 200), density=0.03, rng=rng, format="csr")
    cover.data[:] = 1.0  # every stored pair: 1 s, within the 10 s threshold
    return PlacementProblem.from_cost_matrix(
        cover, weights=rng.integers(1, 100, size=2000).astype(float), threshold=10.0)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_time_limit_is_never_reported_optimal(solver):
    prob = synthetic_hard_mclp()
    res = mclp(prob, 12, options=SolveOptions(solver=solver, time_limit=1.0))
    assert res.status in ("feasible", "error"), res.message
    if res.status == "feasible":
        assert res.bound is not None and res.bound > res.objective
        assert res.gap > 0
        assert "not proven optimal" in res.message
        assert len(res.chosen) <= 12
    else:
        assert "no feasible solution" in res.message


def test_gap_limit_is_reported_feasible_not_optimal():
    res = mclp(synthetic_hard_mclp(), 12, options=SolveOptions(mip_gap=0.5, time_limit=30))
    assert res.status == "feasible"
    assert 0 < res.gap <= 0.5
    assert res.bound == pytest.approx(res.objective * (1 + res.gap))


def test_pcenter_bisection_time_limit_is_feasible_with_bound():
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 10_000, size=(400, 2))
    cost = np.hypot(*(pts[:, None, :] - pts[None, ::4, :]).transpose(2, 0, 1))
    problem = PlacementProblem.from_cost_matrix(cost)
    res = pcenter(problem, 15, options=SolveOptions(time_limit=0.3))
    # The heuristic incumbent comes first, so a time limit always leaves an answer.
    assert res.status in ("feasible", "optimal")
    assert len(res.chosen) <= 15
    assert res.objective == pytest.approx(res.first_due.max())
    exact = pcenter(problem, 15)
    assert exact.status == "optimal"
    assert res.bound <= exact.objective + 1e-9 <= res.objective + 2e-9
    if res.status == "feasible":
        assert res.bound < res.objective and res.gap > 0
    else:
        assert res.objective == pytest.approx(exact.objective)


def test_relative_gap():
    assert relative_gap(100.0, 100.0) == 0.0
    assert relative_gap(100.0, 100.0 + 1e-8) == 0.0
    assert relative_gap(100.0, 110.0) == pytest.approx(0.1)
    assert math.isinf(relative_gap(0.0, 5.0))


# Final summaries as CBC 2.10.3 prints them (captured from runs of this package's models).
CBC_STOPPED = """
Result - Stopped on time limit

Objective value:                38037.00000000
Upper bound:                    41649.694
Gap:                            -0.09
Enumerated nodes:               0
Time (Wallclock seconds):       2.21
"""
CBC_OPTIMAL = """
Result - Optimal solution found

Objective value:                78804.00000000
Enumerated nodes:               0
Time (Wallclock seconds):       0.15
"""


def test_parse_cbc_log():
    stopped = parse_cbc_log(CBC_STOPPED)
    assert stopped == {"result": "Stopped on time limit", "objective": 38037.0,
                       "bound": 41649.694, "wall_s": 2.21}
    optimal = parse_cbc_log(CBC_OPTIMAL)
    assert optimal["result"] == "Optimal solution found" and "bound" not in optimal
    assert parse_cbc_log("Problem is infeasible - 0.00 seconds")["result"].endswith("infeasible")


def test_backup_p0_with_uncovered_demand_is_infeasible_with_reason():
    cost = np.array([[10.0, 99.0], [99.0, 10.0]])
    res = backup(PlacementProblem.from_cost_matrix(cost, threshold=30, fixed=[0]), 0)
    assert res.status == "infeasible"
    assert "p=0" in res.message and "lscp" in res.message
    assert res.chosen == () and res.first_due is None


def test_budget_below_forced_sites_is_infeasible_with_reason():
    cost = np.full((3, 3), 5.0)
    prob = PlacementProblem.from_cost_matrix(cost, threshold=30, costs=[4.0, 4.0, 1.0],
                                             budget=5.0, force_open=[0, 1])
    for res in (lscp(prob), mclp(prob, 2), pmedian(prob, 2), pcenter(prob, 2)):
        assert res.status == "infeasible"
        assert "budget" in res.message


def test_more_forced_than_p_is_infeasible_with_reason():
    prob = PlacementProblem.from_cost_matrix(np.ones((2, 3)), threshold=5,
                                             force_open=[0, 1])
    res = mclp(prob, 1)
    assert res.status == "infeasible" and "p=1" in res.message


def test_lscp_type_limit_infeasible_with_reason():
    cost = np.array([[10.0, 99.0], [99.0, 10.0]])
    prob = PlacementProblem.from_cost_matrix(cost, threshold=30, site_types=["small", "small"],
                                             type_limits={"small": 1})
    res = lscp(prob)
    assert res.status == "infeasible" and "type limits" in res.message


def test_pmedian_unreachable_within_cutoff_is_clear():
    # Row 1 is only reachable from site 1; with p=1 and site 0 forced, it cannot be served.
    cost = sparse.csr_array(np.array([[5.0, 0.0], [0.0, 7.0]]))
    cost.eliminate_zeros()  # absent = beyond the cutoff
    prob = PlacementProblem.from_cost_matrix(cost, force_open=[0])
    res = pmedian(prob, 1)
    assert res.status == "infeasible" and "cutoff" in res.message


@pytest.mark.parametrize("kw,match", [
    ({"solver": "gurobi"}, "solver"),
    ({"time_limit": 0}, "time_limit"),
    ({"mip_gap": 1.5}, "mip_gap"),
])
def test_solve_options_validation(kw, match):
    with pytest.raises(InputError, match=match):
        SolveOptions(**kw)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_threads_and_solver_label(solver):
    cost = np.array([[10.0, 99.0], [99.0, 10.0], [20.0, 20.0]])
    res = lscp(PlacementProblem.from_cost_matrix(cost, threshold=30),
               options=SolveOptions(solver=solver, threads=1))
    assert res.status == "optimal" and res.objective == 2.0
    assert res.solver.split()[0] == {"highs": "HiGHS", "cbc": "CBC"}[solver]


def test_highs_thread_changes_within_one_process():
    """highspy 1.16: threads=1 after a default solve ended in status "Not Set" (issue 9)."""
    prob = PlacementProblem.from_cost_matrix(
        np.array([[10.0, 99.0], [99.0, 10.0], [20.0, 20.0]]), threshold=30)
    for threads in (None, 1, 2, None, 1):
        res = lscp(prob, options=SolveOptions(solver="highs", threads=threads))
        assert res.status == "optimal", (threads, res.message)
        assert res.objective == 2.0


def test_backup_without_p_reports_why_lscp_failed():
    cost = np.array([[10.0, 99.0], [99.0, 10.0]])
    prob = PlacementProblem.from_cost_matrix(cost, threshold=30, site_types=["small", "small"],
                                             type_limits={"small": 1})
    res = backup(prob)
    assert res.status == "infeasible" and "LSCP step" in res.message
