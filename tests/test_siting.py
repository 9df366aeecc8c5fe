"""Station siting on real Yuzhong data: the MILP answer agrees with the engine's own after-assessment."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pytest
from shapely.geometry import Point

from coverage.candidates import network_candidates
from coverage.errors import InputError
from coverage.layers import read_stations
from coverage.optimise import SolveOptions
from coverage.siting import rule_violations, site_stations


@pytest.fixture(scope="module")
def stations(yuzhong_stations):
    return read_stations(yuzhong_stations)


@pytest.fixture(scope="module")
def few_candidates(yuzhong_network):
    """Every fourth default candidate: small enough for quick exact solves."""
    return network_candidates(yuzhong_network).iloc[::4].reset_index(drop=True)


@pytest.fixture(scope="module")
def pcenter_run(yuzhong_network, yuzhong_index, stations, few_candidates):
    return site_stations(
        yuzhong_network, stations, model="pcenter", p=1, candidates=few_candidates,
        index=yuzhong_index, small_station_rules=False,
    )


def test_pcenter_objective_is_the_after_worst_first_due(pcenter_run):
    res = pcenter_run.result
    assert res.status == "optimal" and res.gap == 0
    assert res.objective == pytest.approx(pcenter_run.after.metrics["first_due_max_s"], abs=1e-6)
    assert res.objective <= pcenter_run.before.metrics["first_due_max_s"]


def test_pcenter_beats_every_single_candidate(pcenter_run, yuzhong_network, yuzhong_index, stations, few_candidates):
    """Exhaustive check on the real network: no other single site gives a smaller worst time."""
    from coverage.assess import assess

    best = min(
        assess(
            yuzhong_network,
            gpd.GeoDataFrame(
                {"id": list(stations["id"]) + ["X"], "type": list(stations["type"]) + ["small"]},
                geometry=list(stations.geometry) + [few_candidates.to_crs(4326).geometry.iloc[i]],
                crs=4326,
            ),
            index=yuzhong_index,
            demand=pcenter_run.before.demand_set,
        ).metrics["first_due_max_s"]
        for i in range(0, len(few_candidates), 3)
    )
    assert pcenter_run.result.objective <= best + 1e-6


def test_mclp_objective_is_the_after_covered_weight(yuzhong_network, yuzhong_index, stations, few_candidates):
    run = site_stations(
        yuzhong_network, stations, model="mclp", p=2, candidates=few_candidates,
        index=yuzhong_index, small_station_rules=False,
    )
    assert run.result.status == "optimal"
    demand = run.after.demand
    covered = demand.loc[demand["first_due_s"] <= 240, "weight"].sum()
    assert run.result.objective == pytest.approx(covered, rel=1e-9)
    assert len(run.new_sites) == 2
    assert run.after.metrics["coverage_share"] >= run.before.metrics["coverage_share"]


def test_summary_has_the_documented_keys(pcenter_run):
    s = pcenter_run.summary()
    for key in ("model", "solver", "status", "objective", "bound", "gap", "solve_s", "new_sites", "before", "after"):
        assert key in s
    site = s["new_sites"][0]
    assert set(site) >= {"id", "lon", "lat", "type"} and site["type"] == "small"
    assert 106.4 < site["lon"] < 106.7 and 29.4 < site["lat"] < 29.7
    ids = {st["id"] for st in s["after"]["stations"]}
    assert site["id"] in ids and {"S1", "S2", "S3", "S4"} <= ids


def test_small_station_rules_hold_on_the_answer(yuzhong_network, yuzhong_index, stations, few_candidates):
    free = site_stations(
        yuzhong_network, stations, model="mclp", p=2, candidates=few_candidates,
        index=yuzhong_index, small_station_rules=False,
    )
    run = site_stations(
        yuzhong_network, stations, model="mclp", p=2, candidates=few_candidates,
        index=yuzhong_index, options=SolveOptions(time_limit=120),
    )
    assert run.result.status == "optimal" and run.result.method.endswith("+lazy-cuts")
    assert run.violations == []
    small = run.after.districts[run.after.districts["type"] == "small"]
    assert len(small) >= 1 and (small["district_km2"] <= 2.0 + 1e-9).all()
    # The rules cost coverage here: the unconstrained answer breaks them.
    assert run.result.objective <= free.result.objective + 1e-6
    assert (free.after.districts.loc[free.after.districts["type"] == "small", "district_km2"] > 2.0).any()


def test_rule_violations_flags_a_large_isolated_small_district(pcenter_run):
    after = pcenter_run.after
    districts = after.districts.copy()
    districts.loc[districts["type"] != "small", "type"] = "small"
    found = rule_violations(dataclasses.replace(after, districts=districts))
    assert any(v["rule"] == "area" for v in found)
    assert {v["station"] for v in found if v["rule"] == "adjacency"} == set(districts["station_id"])


def test_candidate_ids_must_not_clash_with_stations(yuzhong_network, yuzhong_index, stations, few_candidates):
    clash = few_candidates.copy()
    clash.loc[0, "id"] = "S1"
    with pytest.raises(InputError, match="S1"):
        site_stations(yuzhong_network, stations, model="mclp", p=1, candidates=clash, index=yuzhong_index)


def test_count_models_need_p(yuzhong_network, stations):
    with pytest.raises(InputError, match="number of new sites"):
        site_stations(yuzhong_network, stations, model="mclp")


def test_far_candidate_is_a_clear_error(yuzhong_network, yuzhong_index, stations, few_candidates):
    minx, miny, maxx, maxy = yuzhong_network.study_area.bounds
    far = gpd.GeoDataFrame({"id": ["far"]}, geometry=[Point(maxx + 3000, maxy + 3000)], crs=yuzhong_network.crs)
    with pytest.raises(InputError, match="far"):
        site_stations(yuzhong_network, stations, model="mclp", p=1, candidates=far, index=yuzhong_index)


@pytest.mark.parametrize("seed", range(8))
def test_adjacency_blocker_cuts_keep_every_rule_abiding_site_set(seed):
    """The adjacency cut from any violating set holds at every set that obeys the rule.

    Synthetic (generated) grids: 8×4 unit cells, Manhattan-distance seconds with
    random noise, existing stations (full ones, and for odd seeds one small one)
    fixed, six small candidates; every site set is enumerated.
    """
    import itertools
    from types import SimpleNamespace

    import numpy as np
    import shapely

    from coverage.optimise import PlacementProblem
    from coverage.optimise.rules import cut_for
    from coverage.optimise.sites import classify
    from coverage.siting import _adjacency_check

    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(8), np.arange(4))
    cxy = np.c_[xs.ravel(), ys.ravel()] + 0.5
    cells = shapely.box(cxy[:, 0] - 0.5, cxy[:, 1] - 0.5, cxy[:, 0] + 0.5, cxy[:, 1] + 0.5)
    fixed_types = ["level1"] if seed % 3 == 0 else ["level1", "level2"]
    if seed % 2:
        fixed_types.append("small")
    m = len(fixed_types) + 6
    # Full stations on the west edge, small sites further east: many small districts
    # then sit behind others, away from every full district.
    west = np.flatnonzero(cxy[:, 0] < 1)
    east = np.flatnonzero(cxy[:, 0] > 2)
    pick = np.r_[rng.choice(west, size=2, replace=False)[: min(2, len(fixed_types))],
                 rng.choice(east, size=m - min(2, len(fixed_types)), replace=False)]
    sites = cxy[pick]
    cost = np.abs(cxy[:, None, :] - sites[None, :, :]).sum(axis=2) * 10
    cost = np.round(cost + rng.uniform(0, 3, cost.shape))
    prob = PlacementProblem.from_cost_matrix(
        cost, threshold=100.0, fixed=list(range(len(fixed_types))),
        site_types=fixed_types + ["small"] * 6)
    check = _adjacency_check(prob, SimpleNamespace(cells=cells))
    cols = classify(prob)
    masks = []
    for k in range(7):
        for new in itertools.combinations(range(len(fixed_types), m), k):
            mask = np.zeros(m, dtype=bool)
            mask[: len(fixed_types)] = True
            mask[list(new)] = True
            masks.append(mask)
    good = [mk for mk in masks if not check(np.flatnonzero(mk))]
    bad = [mk for mk in masks if check(np.flatnonzero(mk))]
    assert bad
    for mk in bad:
        for v in check(np.flatnonzero(mk)):
            cut = cut_for(v, mk, cols)
            rhs = cut.rhs
            # Fold the constants (fixed stations) in, as the models do.
            terms = [(j, c) for j, c in cut.coef if cols.var[j]]
            rhs -= sum(c for j, c in cut.coef if cols.const_open[j])
            assert sum(c * mk[j] for j, c in terms) < rhs  # it removes the violating set
            for g in good:
                assert sum(c * g[j] for j, c in terms) >= rhs - 1e-9, (
                    np.flatnonzero(mk), np.flatnonzero(g))


def test_more_new_sites_than_candidates_is_a_clear_error(yuzhong_network, yuzhong_index, stations,
                                                         few_candidates):
    with pytest.raises(InputError, match="more new sites than the"):
        site_stations(yuzhong_network, stations, model="mclp", p=100_000,
                      candidates=few_candidates, index=yuzhong_index)


def _recomputed(assessment, sid):
    """Figures of station ``sid`` recomputed independently from the assessment's own state."""
    import numpy as np
    import shapely

    st = assessment.stations.set_index("id").loc[sid]
    district = assessment.districts.set_index("station_id").geometry[sid]
    main = max(shapely.get_parts(district), key=shapely.area)
    i = list(assessment.stations["id"]).index(sid)
    land = assessment.land_set
    inside = shapely.contains_xy(district, *land.grid.xy[land.grid_pos].T)
    return {
        "district_km2": shapely.area(district) / 1e6,
        "protection_radius_m": shapely.hausdorff_distance(st.geometry, main),
        "max_first_due_s": float(np.max(assessment.land_times[i, inside])),
    }


def test_after_figures_are_recomputed_from_the_after_state(pcenter_run):
    """No after-figure may equal its before-figure while the district changed, unless the after
    state itself gives that value (e.g. the farthest point did not move)."""
    import shapely

    before, after = pcenter_run.before, pcenter_run.after
    b_d = before.districts.set_index("station_id").geometry
    a_d = after.districts.set_index("station_id").geometry
    b_st, a_st = before.stations.set_index("id"), after.stations.set_index("id")
    changed = [sid for sid in b_d.index
               if shapely.area(shapely.symmetric_difference(b_d[sid], a_d[sid])) > 1.0]
    assert changed, "the new site takes land from some existing district"
    for sid in changed:
        assert a_st.loc[sid, "district_km2"] != b_st.loc[sid, "district_km2"]
        fresh = _recomputed(after, sid)
        for key, value in fresh.items():
            assert a_st.loc[sid, key] == pytest.approx(value, rel=1e-6, abs=0.5), (sid, key)
            if a_st.loc[sid, key] == b_st.loc[sid, key]:
                assert _recomputed(before, sid)[key] == pytest.approx(value, rel=1e-9), (sid, key)
    rule = after.demand_set.rule
    for run in (before, after):
        st = run.stations
        assert (st["farthest_travel_s"] <= st["max_first_due_s"] + rule.hose_m / rule.walk_mps).all()


def test_summary_explains_the_objective_and_the_sites(pcenter_run):
    s = pcenter_run.summary()
    why = s["objective_set_by"]
    assert why["after"]["first_due_s"] == pytest.approx(pcenter_run.result.objective, abs=1e-6)
    assert why["before"]["first_due_s"] == pytest.approx(pcenter_run.before.metrics["first_due_max_s"])
    assert why["before"]["access_road_name"] and why["after"]["access_road_name"]
    (effect,) = s["site_effects"]
    assert effect["id"] == s["new_sites"][0]["id"] and effect["road_name"]
    assert effect["nearest_station_id"] in {"S1", "S2", "S3", "S4"} and effect["nearest_station_m"] > 0
    assert effect["district_km2"] > 0 and 0 <= effect["newly_covered_share"] <= 1


@pytest.mark.parametrize("model,p", [("mclp", 2), ("pcenter", 1), ("pmedian", 1), ("lscp", None)])
def test_lean_matrix_gives_the_full_matrix_optimum(yuzhong_network, yuzhong_index, stations,
                                                   few_candidates, model, p):
    """The per-model matrix (cut at the threshold, pruned beyond today's first-due station,
    float32 for the coverage models) is smaller and gives the optimum of the full matrix."""
    import numpy as np

    from coverage.optimise import MODELS
    from coverage.siting import siting_instance

    kw = {"candidates": few_candidates, "index": yuzhong_index, "small_station_rules": False}
    full = siting_instance(yuzhong_network, stations, **kw)
    lean = siting_instance(yuzhong_network, stations, model=model, demand=full.before.demand_set,
                           **kw)
    # float32 only where it is exact for the model (coverage within 240 s).
    narrow = model in ("mclp", "lscp")
    assert lean.problem.cost.dtype == (np.float32 if narrow else np.float64)
    assert lean.problem.cost.indices.dtype == np.int32
    assert lean.matrix["entries"] < full.matrix["entries"]
    solve = MODELS[model]
    args = () if p is None else (p,)
    a, b = solve(full.problem, *args), solve(lean.problem, *args)
    assert a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-12 if not narrow else 1e-9)
    # The lean answer, scored on the full matrix, is just as good.
    mask = np.zeros(full.problem.n_candidates, dtype=bool)
    mask[list(b.open)] = True
    fd = np.full(full.problem.n_demand, np.inf)
    coo = full.problem.cost.tocoo()
    on = mask[coo.col]
    np.minimum.at(fd, coo.row[on], coo.data[on])
    if model == "pcenter":
        assert fd[np.isfinite(fd)].max() == pytest.approx(a.objective, rel=1e-12)
    elif model == "mclp":
        w = full.problem.weights
        assert w[fd <= full.problem.threshold].sum() == pytest.approx(a.objective, rel=1e-9)


def test_time_resolution_rounds_up_and_keeps_coverage(yuzhong_network, yuzhong_index, stations,
                                                      few_candidates):
    from coverage.siting import siting_instance

    kw = {"candidates": few_candidates, "index": yuzhong_index, "small_station_rules": False,
          "model": "mclp"}
    exact = siting_instance(yuzhong_network, stations, **kw)
    whole = siting_instance(yuzhong_network, stations, time_resolution_s=1.0,
                            demand=exact.before.demand_set, **kw)
    assert whole.matrix["time_resolution_s"] == 1.0
    assert (whole.problem.cost.data % 1 == 0).all()
    # Rounding up makes ties with today's first-due station, kept: never fewer entries.
    assert whole.problem.cost.nnz >= exact.problem.cost.nnz
    # 240 s is a whole number of seconds, so coverage and the MCLP optimum do not move.
    from coverage.optimise import mclp

    a, b = mclp(exact.problem, 2), mclp(whole.problem, 2)
    assert a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-12)
    with pytest.raises(InputError, match="resolution"):
        siting_instance(yuzhong_network, stations, time_resolution_s=0, **kw)
