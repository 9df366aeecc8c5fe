"""MCLP's best-first set search under district rules, against enumeration of every site set.

Instances are generated (``synthetic_area_instance``: random travel times, land
areas, area caps, site options; and ``synthetic_grid_instance``: a grid of
square cells with full stations on its west edge and small candidates east of
them, for the adjacency rule). The reference optimum enumerates every
admissible set and checks the rules independently: the area rule with dense
NumPy (``rule_ok``), the adjacency rule on dissolved shapely polygons, and an
arbitrary caller rule with no structure at all (its cuts are no-good cuts).
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import shapely
from test_optimise_models import T, admissible_sets, assert_matches, reference
from test_optimise_rules import M, rule_ok, synthetic_area_instance

from coverage.optimise import PlacementProblem, SolveOptions, Violation, mclp, setsearch
from coverage.optimise.heuristic import Incumbent
from coverage.optimise.matrix import nearest_open
from coverage.optimise.rules import seed_cuts
from coverage.optimise.sites import classify

FLAGS = ["f", "fs", "fo", "fc", "fb", "ft", "fbtoc"]


def odd_rule(m: int):
    """A rule with no structure: the open new columns' indices must not sum to a multiple of 3
    (the empty set and the fixed stations alone are fine). As a caller ``check`` and as a
    plain predicate for the enumeration."""
    def bad(mask: np.ndarray, fixed) -> bool:
        new = [j for j in np.flatnonzero(mask) if j not in fixed]
        return bool(new) and sum(new) % 3 == 0

    def check_for(fixed):
        def check(open_cols: np.ndarray) -> list[Violation]:
            mask = np.zeros(m, dtype=bool)
            mask[open_cols] = True
            if not bad(mask, fixed):
                return []
            site = max(j for j in open_cols if j not in fixed)
            return [Violation(rule="odd", site=int(site), message="index sum divisible by 3")]
        return check
    return bad, check_for


@pytest.mark.parametrize("p", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", [1, 2, 3, 5])
@pytest.mark.parametrize("flags", FLAGS)
def test_search_matches_enumeration_with_area_rule(p, seed, flags):
    inst, rule = synthetic_area_instance(seed, flags)
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    ok = rule_ok(inst, rule)
    res = mclp(prob, p)
    assert res.method == "set-search+lazy-cuts"
    assert_matches(inst, res, reference(inst, "mclp", p, area_ok=ok), p)
    if res.status == "optimal":
        assert ok(np.isin(np.arange(M), res.open))
        assert res.bound == res.objective and not res.violations


@pytest.mark.parametrize("p", [2, 3])
@pytest.mark.parametrize("seed", [1, 2, 4, 6])
@pytest.mark.parametrize("flags", ["f", "fo", "fb"])
def test_search_matches_enumeration_with_a_caller_rule(p, seed, flags):
    """Area rule plus a structureless caller rule (no-good cuts only)."""
    inst, rule = synthetic_area_instance(seed, flags)
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    fixed = set(inst.get("fixed", []))
    bad, check_for = odd_rule(M)
    ok = rule_ok(inst, rule)
    res = mclp(prob, p, check=check_for(fixed))
    ref = reference(inst, "mclp", p, area_ok=lambda mk: ok(mk) and not bad(mk, fixed))
    assert_matches(inst, res, ref, p)
    if ref is not None:
        assert not bad(np.isin(np.arange(M), res.open), fixed)


def test_the_rules_bind_in_these_comparisons():
    """Guard against a vacuous comparison: the rules change the optimum often."""
    changed = 0
    for seed, flags, p in itertools.product([1, 2, 3, 5], FLAGS, [2, 3]):
        inst, rule = synthetic_area_instance(seed, flags)
        changed += reference(inst, "mclp", p, area_ok=rule_ok(inst, rule)) != reference(
            inst, "mclp", p)
    assert changed >= 10


def synthetic_grid_instance(seed: int):
    """Generated 8×4 grid of unit cells; full stations west, six small candidates east.

    Returns the problem, the cells, the site types and the dense travel times.
    """
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(8), np.arange(4))
    cxy = np.c_[xs.ravel(), ys.ravel()] + 0.5
    cells = shapely.box(cxy[:, 0] - 0.5, cxy[:, 1] - 0.5, cxy[:, 0] + 0.5, cxy[:, 1] + 0.5)
    types = ["level1", "level2"] + ["small"] * 6
    pick = np.r_[rng.choice(np.flatnonzero(cxy[:, 0] < 1), size=2, replace=False),
                 rng.choice(np.flatnonzero(cxy[:, 0] > 2), size=6, replace=False)]
    cost = np.abs(cxy[:, None, :] - cxy[pick][None, :, :]).sum(axis=2) * 10
    cost = np.round(cost + rng.uniform(0, 3, cost.shape))
    caps = np.r_[np.inf, np.inf, np.full(6, 6.5)]
    prob = PlacementProblem.from_cost_matrix(
        cost, weights=rng.integers(1, 5, size=32).astype(float), threshold=25.0,
        fixed=[0, 1], site_types=types, area_km2=np.ones(32), area_cap_km2=caps)
    return prob, cells, types, cost


def polygon_rules_ok(prob: PlacementProblem, cells, types, D, mask: np.ndarray) -> bool:
    """Both 建标152 rules on dissolved shapely polygons and dense argmin (independent)."""
    sub = np.where(mask[None, :], D, np.inf)
    site = np.argmin(sub, axis=1)
    area = np.bincount(site, weights=prob.area_km2, minlength=mask.size)
    if (area > prob.area_cap_km2 + 1e-9).any():
        return False
    polys = {j: shapely.union_all(cells[site == j]) for j in np.flatnonzero(mask)}
    full = shapely.union_all([polys[j] for j in polys if types[j] != "small"])
    return all(types[j] != "small" or (not polys[j].is_empty and polys[j].distance(full) <= 1.0)
               for j in polys)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [2, 3])
def test_search_matches_enumeration_with_the_adjacency_rule(seed, p):
    from types import SimpleNamespace

    from coverage.siting import _adjacency_check

    prob, cells, types, D = synthetic_grid_instance(seed)
    check = _adjacency_check(prob, SimpleNamespace(cells=cells))
    best = None
    for k in range(p + 1):
        for new in itertools.combinations(range(2, 8), k):
            mask = np.zeros(8, dtype=bool)
            mask[[0, 1, *new]] = True
            if polygon_rules_ok(prob, cells, types, D, mask):
                val = float(prob.weights[(np.where(mask, D, np.inf) <= 25.0).any(axis=1)].sum())
                best = val if best is None else max(best, val)
    res = mclp(prob, p, check=check)
    assert res.status == "optimal" and res.method == "set-search+lazy-cuts"
    assert res.objective == pytest.approx(best)
    assert polygon_rules_ok(prob, cells, types, D, np.isin(np.arange(8), res.open))


def test_adjacency_rule_binds_on_the_grids():
    changed = 0
    for seed in range(6):
        prob, cells, types, D = synthetic_grid_instance(seed)
        vals = {}
        for new in itertools.combinations(range(2, 8), 3):
            mask = np.zeros(8, dtype=bool)
            mask[[0, 1, *new]] = True
            vals[new] = (polygon_rules_ok(prob, cells, types, D, mask),
                         float(prob.weights[(np.where(mask, D, np.inf) <= 25.0).any(axis=1)].sum()))
        changed += max(v for _, v in vals.values()) > max(
            (v for good, v in vals.values() if good), default=-1)
    assert changed >= 2


def _search_inputs(seed: int, flags: str, p: int):
    inst, rule = synthetic_area_instance(seed, flags)
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    ref = reference(inst, "mclp", p, area_ok=rule_ok(inst, rule))
    return inst, rule, prob, classify(prob), ref


@pytest.mark.parametrize("seed", [1, 2, 3, 5])
@pytest.mark.parametrize("max_queue", [0, 1, 3, 10, 40])
def test_bound_is_valid_wherever_the_search_stops(seed, max_queue):
    """A search stopped early never claims a proof, and its bound is never below the optimum."""
    inst, rule, prob, cols, ref = _search_inputs(seed, "f", 3)
    out = setsearch.search_sets(prob, cols, T, 3, None, cuts=seed_cuts(prob, cols),
                                max_queue=max_queue)
    if out.proven:
        assert out.value == pytest.approx(ref)
    else:
        assert out.stopped == "search limit"
        assert out.bound >= ref - 1e-9
        assert out.mask is None or rule_ok(inst, rule)(out.mask)


def test_time_limit_keeps_the_incumbent_and_a_valid_bound():
    inst, rule, prob, cols, ref = _search_inputs(2, "f", 3)
    start = cols.const_open.copy()
    assert rule_ok(inst, rule)(start)
    value = float(prob.weights[nearest_open(prob.cost, start)[0] <= T].sum())
    out = setsearch.search_sets(prob, cols, T, 3, None, incumbent=Incumbent(start, value, "fixed"),
                                deadline=time.perf_counter() - 1)
    assert not out.proven and out.stopped == "time limit"
    assert out.mask is start and out.value == value
    assert out.bound >= ref - 1e-9 > value


def test_search_limit_hands_over_to_the_milp_with_its_bound(monkeypatch):
    inst, rule, prob, cols, ref = _search_inputs(3, "f", 3)
    monkeypatch.setattr(setsearch, "MAX_QUEUE", 2)
    res = mclp(prob, 3)
    assert res.details["set_search"]["stopped"] == "search limit"
    assert res.method == "cover+lazy-cuts"
    assert_matches(inst, res, ref, 3)


def test_no_rule_abiding_set_is_infeasible_with_the_reason():
    """A capped existing station that no new site can relieve: every set is searched."""
    cost = np.array([[10.0, 50.0], [10.0, np.inf], [12.0, np.inf]])
    prob = PlacementProblem.from_cost_matrix(
        cost, threshold=40, fixed=[0], area_km2=[1.0, 1.0, 1.0], area_cap_km2=[2.5, 2.0])
    res = mclp(prob, 1, options=SolveOptions(time_limit=30))
    assert res.status == "infeasible" and res.method == "set-search+lazy-cuts"
    assert "district" in res.message and "km²" in res.message


def test_closable_stations_go_to_the_milp():
    inst, rule = synthetic_area_instance(2, "x")
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    assert not setsearch.applies(prob, classify(prob))
    res = mclp(prob, 3)
    assert res.method == "cover+lazy-cuts" and "set_search" not in res.details
    assert_matches(inst, res, reference(inst, "mclp", 3, area_ok=rule_ok(inst, rule)), 3)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sets_of_every_size_are_searched(seed):
    """A caller rule that forbids every set of more than one new site: the answer is a single
    site (or none), found among the smaller sets."""
    inst, rule = synthetic_area_instance(seed, "f")
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    fixed = np.isin(np.arange(M), inst["fixed"])

    def at_most_one(open_cols: np.ndarray) -> list[Violation]:
        new = [j for j in open_cols if not fixed[j]]
        return ([Violation(rule="one", site=int(new[-1]), message="more than one new site")]
                if len(new) > 1 else [])

    ok = rule_ok(inst, rule)
    ref = reference(inst, "mclp", 3, area_ok=lambda mk: ok(mk) and (mk & ~fixed).sum() <= 1)
    res = mclp(prob, 3, check=at_most_one)
    assert_matches(inst, res, ref, 3)
    assert len(res.chosen) <= 1


@pytest.mark.parametrize("seed", [1, 2, 3, 5])
@pytest.mark.parametrize("flags", ["f", "fs", "fbtoc"])
def test_search_without_the_cut_table_is_still_exact(seed, flags, monkeypatch):
    """The cut table only skips checks: with it full from the start, every set is checked."""
    monkeypatch.setattr(setsearch, "MAX_TABLE_ENTRIES", 0)
    inst, rule = synthetic_area_instance(seed, flags)
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    res = mclp(prob, 3)
    assert res.method == "set-search+lazy-cuts"
    assert_matches(inst, res, reference(inst, "mclp", 3, area_ok=rule_ok(inst, rule)), 3)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("flags", ["f", "fs"])
def test_breaks_rules_agrees_with_violations_on_every_set(seed, flags):
    from coverage.optimise.rules import breaks_rules, violations

    inst, rule = synthetic_area_instance(seed, flags)
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    bad, check_for = odd_rule(M)
    check = check_for(set(inst["fixed"]))
    for bits in itertools.product((False, True), repeat=M):
        mask = np.array(bits)
        assert breaks_rules(prob, mask, check) == bool(violations(prob, mask, check))
        assert breaks_rules(prob, mask, None) == (not rule_ok(inst, rule)(mask))


@pytest.mark.parametrize("seed", range(1, 7))
@pytest.mark.parametrize("flags", ["f", "fo", "fb", "ft"])
def test_swaps_under_the_rules_keep_every_rule_and_never_cover_less(seed, flags):
    """Checked independently: rule-abiding (dense NumPy), within the site options, no worse,
    and no single swap that keeps the rules improves the result any further."""
    from coverage.optimise.heuristic import _Limits
    from coverage.optimise.mclp import swap_under_rules

    inst, rule = synthetic_area_instance(seed, flags)
    prob = PlacementProblem.from_cost_matrix(**inst, **rule)
    ok = rule_ok(inst, rule)
    D = inst["cost"]

    def covered(mask):
        return float(inst["weights"][(np.where(mask[None, :], D, np.inf) <= T).any(axis=1)].sum())

    lim = _Limits(prob, classify(prob), 3)
    start = None
    for mk in admissible_sets(inst, 3):  # the worst rule-abiding set with 3 new sites or fewer
        if ok(mk) and (start is None or covered(mk) < covered(start)):
            start = mk
    out = swap_under_rules(prob, Incumbent(start, covered(start), "worst"), None, T, 3, covered)
    assert ok(out.mask) and lim.ok(out.mask & lim.pool)
    assert out.objective == pytest.approx(covered(out.mask)) and out.objective >= covered(start)
    for s, j in itertools.product(np.flatnonzero(out.mask & lim.pool),
                                  np.flatnonzero(lim.pool & ~out.mask)):
        trial = out.mask.copy()
        trial[s], trial[j] = False, True
        if ok(trial) and lim.ok(trial & lim.pool):
            assert covered(trial) <= out.objective + 1e-9
