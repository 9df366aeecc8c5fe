"""Assessment, siting and the combined view on the real Yuzhong walk network (generated stations)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import shapely
from micro_data import buildings, generated_stations, key_units, walk_index, walk_network

from coverage.engine import point_times, snap_points
from coverage.errors import InputError
from coverage.micro import (
    MICRO_3MIN,
    assess_micro,
    combined_metrics,
    combined_view,
    engine_first_due,
    site_micro_stations,
    snap_surface,
)
from coverage.micro.siting import cover_matrix, greedy_cover


@pytest.fixture(scope="module")
def result():
    return assess_micro(walk_network(), generated_stations(), buildings=buildings(),
                        key_units=key_units(), index=walk_index())


def test_first_water_is_turnout_plus_legs_plus_walk(result):
    index, model = walk_index(), walk_network().travel_model
    st = result.stations
    src = snap_surface(index, shapely.get_coordinates(st.geometry.values))
    b = result.buildings.iloc[:200]
    dst = snap_surface(index, shapely.get_coordinates(b.geometry.values))
    net = point_times(index, src, dst)
    total = net + (src.dist_m[:, None] + dst.dist_m[None, :]) / model.speed_mps
    best = total.min(axis=0)
    expect = np.where(best <= 1800, best + 60.0, np.inf)
    assert np.allclose(b["first_water_s"], expect, equal_nan=False)
    assert (b["micro_ok"] == (expect <= MICRO_3MIN.response_s)).all()


def test_shares_add_up(result):
    m, b = result.metrics, result.buildings
    high = b[b["highrise"]]
    assert m["highrises"]["total"] == len(high)
    assert m["highrises"]["share"] == pytest.approx(high["micro_ok"].mean())
    res = b[b["residential"]]
    assert m["residential_floor_area"]["reached"] == pytest.approx(
        res.loc[res["micro_ok"], "floor_area_m2"].sum())
    assert m["key_units"]["reached"] == result.key_units["micro_ok"].sum()
    # every unreached key unit and high-rise is listed, slowest first
    assert len(result.gaps) == (~result.key_units["micro_ok"]).sum() + len(
        set(high.loc[~high["micro_ok"], "id"]) - set(result.key_units["id"]))
    assert result.gaps["first_water_s"].is_monotonic_decreasing
    assert result.cells["buildings"].sum() == len(b)
    assert result.stations["buildings_reached"].sum() == b["micro_ok"].sum()


def test_buildings_do_not_snap_to_bridge_decks_or_tunnels(result):
    index = walk_index()
    snap = snap_surface(index, shapely.get_coordinates(result.buildings.geometry.values))
    plain = snap_points(index, shapely.get_coordinates(result.buildings.geometry.values))
    under = index.seg_bridge[plain.seg] | index.seg_tunnel[plain.seg]
    assert under.any()  # Yuzhong has buildings beside bridges and above tunnels
    moved = index.seg_bridge[snap.seg] | index.seg_tunnel[snap.seg]
    assert moved.sum() < under.sum() / 5


def test_far_closed_and_unstaffed_stations():
    st = generated_stations().copy()
    far = st.copy()
    far.loc[0, "geometry"] = shapely.Point(106.60, 29.40)  # in the hills south of the river
    with pytest.raises(InputError, match="GEN-1.*walkway"):
        assess_micro(walk_network(), far, index=walk_index())
    st.loc[0, "staffing"] = 0
    st.loc[1, "status"] = "closed"
    with pytest.warns(UserWarning, match="no crew on duty.*GEN-1"):
        out = assess_micro(walk_network(), st, index=walk_index())
    assert set(out.stations["id"]) == set(st["id"]) - {"GEN-1", "GEN-2"}


def test_drive_network_is_refused(yuzhong_network):
    with pytest.raises(InputError, match="not for walking"):
        assess_micro(yuzhong_network, generated_stations())


def test_lscp_reaches_every_reachable_building():
    b = buildings()
    site = site_micro_stations(walk_network(), b, existing=generated_stations(),
                               index=walk_index(), min_spacing_m=60)
    assert site.result.status == "optimal" and not site.heuristic
    assert len(site.sites) == site.result.objective
    after = assess_micro(walk_network(), site.stations, buildings=b, index=walk_index())
    unreached = set(after.buildings.loc[~after.buildings["micro_ok"], "id"])
    assert unreached == set(site.uncoverable["id"])


def test_lscp_and_mclp_match_enumeration_on_a_small_instance():
    index, walk = walk_index(), walk_network()
    b = buildings().to_crs(walk.crs)
    centre = shapely.Point(b.geometry.x.median(), b.geometry.y.median())
    near = b[b.distance(centre) < 250].head(25)
    candidates = near.iloc[::3][["geometry"]].assign(id=lambda f: [f"C{i}" for i in range(len(f))])
    site = site_micro_stations(walk, near, candidates=candidates, index=index)
    cand_snap = snap_surface(index, shapely.get_coordinates(candidates.geometry.values))
    dem_snap = snap_surface(index, shapely.get_coordinates(near.geometry.values))
    # Independent reach table: engine seconds plus the straight legs, within 180 s.
    net = point_times(index, cand_snap, dem_snap).T
    legs = (dem_snap.dist_m[:, None] + cand_snap.dist_m[None, :]) / walk.travel_model.speed_mps
    covered = net + legs <= 180.0
    m = cover_matrix(index, cand_snap, dem_snap, speed_mps=walk.travel_model.speed_mps,
                     travel_s=180.0).tocoo()
    stored = np.zeros_like(covered)
    stored[m.row, m.col] = True
    assert (stored == covered).all()
    coverable = covered.any(axis=1)
    best = next(k for k in range(len(candidates) + 1)
                for combo in itertools.combinations(range(len(candidates)), k)
                if covered[:, list(combo)].any(axis=1)[coverable].all())
    assert site.result.status == "optimal" and len(site.sites) == best
    w = near["weight"].to_numpy()
    p = max(best - 1, 1)
    mclp = site_micro_stations(walk, near, candidates=candidates, index=index, model="mclp", p=p)
    brute = max(w[covered[:, list(c)].any(axis=1)].sum()
                for c in itertools.combinations(range(len(candidates)), p))
    assert mclp.result.objective == pytest.approx(brute)
    greedy = greedy_cover(sparse_of(covered), [], 180.0)
    assert covered[:, greedy].any(axis=1)[coverable].all() and len(greedy) >= best


def sparse_of(covered):
    import scipy.sparse as sp

    r, c = np.nonzero(covered)
    return sp.csr_array((np.full(len(r), 1.0), (r, c)), shape=covered.shape)


def test_mclp_needs_p():
    with pytest.raises(InputError, match="MCLP"):
        site_micro_stations(walk_network(), buildings(), model="mclp", index=walk_index())


def test_combined_view(result, yuzhong_network, yuzhong_stations):
    from coverage.layers import read_stations

    engine = engine_first_due(yuzhong_network, read_stations(yuzhong_stations),
                              result.buildings)
    assert (engine["first_engine_s"] == engine["engine_travel_s"] + 60).all()
    view = combined_view(result, engine)
    assert len(view) == len(result.buildings)
    both = np.isfinite(view["time_saved_s"])
    assert np.allclose(view.loc[both, "time_saved_s"],
                       view.loc[both, "first_engine_s"] - view.loc[both, "first_water_s"])
    assert (view["neither"] == (~view["micro_ok"] & ~view["engine_ok"])).all()
    assert (view["engine_ok"] == (view["first_engine_s"] <= 300 + 1e-9)).all()
    m = combined_metrics(view)
    assert m["all"]["buildings"] == len(view)
    assert m["highrises"]["buildings"] == int(view["highrise"].sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert m["all"]["neither"] == int(view["neither"].sum())


def test_station_off_the_walkways_is_warned_by_name():
    from coverage.micro.assess import snap_micro_stations

    st = generated_stations().to_crs(walk_network().crs)
    st["geometry"] = st.geometry.translate(25.0, 25.0)  # 35 m off its walk node
    with pytest.warns(UserWarning, match=r"more than 5 m from the nearest walkway.*GEN-"):
        snap = snap_micro_stations(walk_index(), st, warn_m=5.0)
    assert (snap.dist_m > 0).any()
