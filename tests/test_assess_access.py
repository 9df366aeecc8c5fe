"""The access and land model on real Yuzhong data, against networkx (times) and shapely (areas)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from conftest import split_graph_reference

from coverage.assess import assess
from coverage.assess.access import NO_STOPPING_CLASSES, AccessRule, access_arcs
from coverage.assess.grid import land_grid
from coverage.engine import Snap, point_times, snap_points
from coverage.errors import InputError
from coverage.layers import read_stations


@pytest.fixture(scope="module")
def result(yuzhong_assessment):
    return yuzhong_assessment


@pytest.fixture(scope="module")
def st_snap(result, yuzhong_index):
    return snap_points(yuzhong_index, shapely.get_coordinates(result.stations.geometry.values))


def _eligible(index):
    bad = index.seg_bridge | index.seg_tunnel | np.isin(index.seg_highway, NO_STOPPING_CLASSES)
    return np.flatnonzero(~bad)


def test_access_times_match_an_independent_networkx_computation(result, yuzhong_index, st_snap):
    """Brute force: every eligible road within access_m (shapely, no index), networkx drive times."""
    rng = np.random.default_rng(7)
    rule = result.demand_set.rule
    pick = rng.choice(len(result.demand), size=40, replace=False)
    xy = shapely.get_coordinates(result.demand.geometry.values[pick])
    segs = _eligible(yuzhong_index)
    pts, snaps, owner = shapely.points(xy), [], []
    for j, p in enumerate(pts):
        d = shapely.distance(p, yuzhong_index.seg_geometry[segs])
        near = d <= max(rule.access_m, min(d.min(), rule.hose_m) if d.min() <= rule.hose_m else -1)
        for s in segs[near]:
            f = shapely.line_locate_point(yuzhong_index.seg_geometry[s], p, normalized=True)
            snaps.append((s, f, shapely.distance(p, yuzhong_index.seg_geometry[s])))
            owner.append(j)
    ap = Snap(np.array([s for s, _, _ in snaps]), np.array([f for _, f, _ in snaps]),
              np.zeros(len(snaps)), np.zeros((len(snaps), 2)))
    foot = np.array([d for _, _, d in snaps]) / rule.walk_mps
    owner = np.array(owner)
    graph = split_graph_reference(yuzhong_index, st_snap, ap)
    expected = np.full((len(st_snap), len(pick)), np.inf)
    for i in range(len(st_snap)):
        dist = nx.single_source_dijkstra_path_length(graph, (0, i), weight="w")
        drive = np.array([dist.get((1, k), np.inf) for k in range(len(ap))])
        np.minimum.at(expected[i], owner, drive + foot)
    # Exact with every access point kept and none merged ...
    exact = AccessRule(access_m=rule.access_m, hose_m=rule.hose_m, walk_mps=rule.walk_mps,
                       max_points=10_000, point_spacing_m=1e-6)
    ours = point_times(yuzhong_index, st_snap, access_arcs(yuzhong_index, xy, exact))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-6)
    # ... and within a few seconds with the default bounds (16 nearest roads, 5 m merging).
    np.testing.assert_allclose(result.times[:, pick], expected, rtol=0, atol=5.0)
    assert (result.times[:, pick] >= expected - 1.0).all()


def test_no_access_land_matches_a_shapely_buffer(result, yuzhong_index, yuzhong_network):
    """Land farther than the hose length from every eligible road, against shapely's buffer."""
    rule = result.demand_set.rule
    reach = shapely.buffer(shapely.union_all(yuzhong_index.seg_geometry[_eligible(yuzhong_index)]), rule.hose_m)
    expected_km2 = shapely.area(shapely.difference(yuzhong_network.boundary, reach)) / 1e6
    got = result.metrics["land"]["no_access_km2"]
    # Cells are in or out by their centre: the error is at most a half cell along the buffer's edge.
    edge_km2 = shapely.length(shapely.intersection(shapely.boundary(reach), yuzhong_network.boundary)) * 12.5 / 1e6
    assert abs(got - expected_km2) <= edge_km2
    assert got == pytest.approx(result.no_access["area_km2"].sum())


def test_districts_and_no_access_zones_partition_the_land(result, yuzhong_network):
    land = yuzhong_network.boundary
    parts = list(result.districts.geometry.values) + list(result.no_access.geometry.values)
    total = result.districts["district_km2"].sum() + result.no_access["area_km2"].sum()
    assert total == pytest.approx(land.area / 1e6, rel=1e-4)
    union = shapely.union_all(parts)
    assert shapely.area(shapely.symmetric_difference(union, land)) / land.area < 1e-4
    assert sum(shapely.area(p) for p in parts) == pytest.approx(shapely.area(union), rel=1e-6)  # no overlap


def test_pieces_add_up_and_radius_is_the_main_piece(result):
    for row, geom in zip(result.stations.itertuples(), result.districts.geometry, strict=True):
        parts = sorted(shapely.get_parts(geom), key=shapely.area, reverse=True)
        assert row.pieces == len(parts)
        assert row.main_piece_share == pytest.approx(shapely.area(parts[0]) / shapely.area(geom), rel=1e-9)
        assert row.protection_radius_m == pytest.approx(
            shapely.hausdorff_distance(row.geometry, parts[0]), rel=1e-9
        )
        if len(parts) > 1:
            assert row.detached_farthest_m == pytest.approx(
                max(shapely.hausdorff_distance(row.geometry, p) for p in parts[1:]), rel=1e-9
            )
    pieces = result.district_pieces
    assert pieces.groupby("station_id")["area_km2"].sum().to_dict() == pytest.approx(
        result.districts.set_index("station_id")["district_km2"].to_dict(), rel=1e-9
    )


def test_cleanup_moves_only_small_pieces_and_reports_it(result, yuzhong_network, yuzhong_index, yuzhong_stations):
    raw = assess(yuzhong_network, read_stations(yuzhong_stations), index=yuzhong_index,
                 demand=result.demand_set, absorb_below_km2=0.0)
    assert raw.metrics["districts"]["cleanup_moved_km2"] == 0.0
    moved = sum(
        shapely.area(shapely.difference(a, b))
        for a, b in zip(raw.districts.geometry, result.districts.geometry, strict=True)
    ) / 1e6
    assert moved == pytest.approx(result.metrics["districts"]["cleanup_moved_km2"], rel=1e-6, abs=1e-9)
    assert result.district_pieces["piece"].max() <= raw.district_pieces["piece"].max()


def test_twin_carriageway_is_never_worse_than_crossing(result, yuzhong_index, yuzhong_network, yuzhong_stations):
    """A sample on one carriageway is worse than the nearest point of the other by at most the walk across."""
    rule = result.demand_set.rule
    roads = result.road_set
    seconds = result.road_samples()["first_due_s"].to_numpy()
    oneway = ~np.isfinite(yuzhong_index.seg_bwd_s)
    name = yuzhong_index.seg_name
    samples = np.flatnonzero(oneway[roads.snap.seg] & (name[roads.snap.seg] != ""))
    pts = shapely.points(roads.snap.xy[samples])
    # The other carriageway: a one-way, non-bridge segment of the same name within 40 m.
    cand, seg = yuzhong_index.tree.query(pts, predicate="dwithin", distance=40.0)
    own = roads.snap.seg[samples[cand]]
    ok = oneway[seg] & (seg != own) & (name[seg] == name[own]) & ~yuzhong_index.seg_bridge[seg] \
        & ~yuzhong_index.seg_tunnel[seg]
    cand, seg = cand[ok], seg[ok]
    geo = yuzhong_index.seg_geometry
    fa = shapely.line_locate_point(geo[own[ok]], pts[cand], normalized=True)
    da = shapely.get_coordinates(shapely.line_interpolate_point(geo[own[ok]], np.minimum(fa + 0.01, 1), normalized=True)) \
        - shapely.get_coordinates(shapely.line_interpolate_point(geo[own[ok]], np.maximum(fa - 0.01, 0), normalized=True))
    fb = shapely.line_locate_point(geo[seg], pts[cand], normalized=True)
    db = shapely.get_coordinates(shapely.line_interpolate_point(geo[seg], np.minimum(fb + 0.01, 1), normalized=True)) \
        - shapely.get_coordinates(shapely.line_interpolate_point(geo[seg], np.maximum(fb - 0.01, 0), normalized=True))
    opposite = (da * db).sum(axis=1) < 0
    cand, seg, fb = cand[opposite], seg[opposite], fb[opposite]
    assert len(cand) > 50, "Yuzhong has dual carriageways (嘉滨路, 长滨路 ...)"
    twin = Snap(seg, fb, np.zeros(len(seg)), np.zeros((len(seg), 2)))
    st_snap = snap_points(yuzhong_index, shapely.get_coordinates(result.stations.geometry.values))
    twin_s = point_times(yuzhong_index, st_snap, twin).min(axis=0)
    cross_s = shapely.distance(pts[cand], geo[seg]) / rule.walk_mps
    gap = seconds[samples[cand]] - twin_s
    # Within 2.5 m of driving either way of the merged access point.
    assert (gap <= cross_s + 2.0).all(), float(np.max(gap - cross_s))
    # The legacy rule had the artefact this fixes: some samples far worse than their twin.
    legacy = assess(yuzhong_network, read_stations(yuzhong_stations), index=yuzhong_index, access="snap")
    legacy_s = legacy.demand["first_due_s"].to_numpy()[samples[cand]]
    assert np.max(legacy_s - twin_s - cross_s) > 60.0


def test_worst_first_due_names_its_place_and_road(result, yuzhong_network):
    worst = result.metrics["worst_first_due"]
    assert worst["first_due_s"] == pytest.approx(result.metrics["first_due_max_s"])
    assert worst["access_road_name"] and worst["station_id"] in set(result.stations["id"])
    assert shapely.contains_xy(yuzhong_network.boundary, worst["x"], worst["y"])
    assert 0 <= worst["on_foot_m"] <= result.demand_set.rule.hose_m
    assert 106.4 < worst["lon"] < 106.7 and 29.4 < worst["lat"] < 29.7


def test_farthest_travel_is_within_the_slowest_first_due(result):
    st = result.stations
    ok = st["farthest_travel_s"].notna()
    assert ok.all()
    slack = result.demand_set.rule.hose_m / result.demand_set.rule.walk_mps
    assert (st["farthest_travel_s"] <= st["max_first_due_s"] + slack + 1e-9).all()
    assert (st["farthest_travel_s"] <= st["max_first_due_s"] + 1e-9).all()


def _cross_share(run, on_land):
    pts = run.demand.geometry.values
    holder = np.full(len(pts), None, dtype=object)
    for sid, geom in zip(run.districts["station_id"], run.districts.geometry, strict=True):
        holder[shapely.contains(geom, pts)] = sid
    w = run.demand["weight"].to_numpy()
    placed = (holder != None) & on_land  # noqa: E711
    return w[placed & (holder != run.demand["first_due_station"].to_numpy())].sum() / w[placed].sum()


def test_cross_district_demand_matches_a_shapely_join(result):
    d = result.metrics["districts"]
    assert d["off_land_share"] == 0.0
    assert d["cross_district_share"] == pytest.approx(_cross_share(result, True), abs=2e-3)
    assert d["cross_district_share_incl_off_land"] == d["cross_district_share"]


@pytest.fixture(scope="module")
def road_run(result, yuzhong_network, yuzhong_index, yuzhong_stations):
    """Road samples through the access rule, districts from the same land."""
    return assess(yuzhong_network, read_stations(yuzhong_stations), index=yuzhong_index,
                  demand=result.road_set, land=result.land_set)


def test_road_samples_on_bridges_and_in_tunnels_are_not_inside_a_land_district(road_run, yuzhong_index):
    """A viaduct's deck is above the land, a tunnel below it: neither lies in a district of land.

    Both shares are checked against a shapely join; the samples left out are exactly those on
    bridge or tunnel segments, and their share is reported."""
    d = road_run.metrics["districts"]
    seg = road_run.demand_set.snap.seg
    off = yuzhong_index.seg_bridge[seg] | yuzhong_index.seg_tunnel[seg]
    w = road_run.demand["weight"].to_numpy()
    assert d["off_land_share"] == pytest.approx(w[off].sum() / w.sum(), rel=1e-12)
    assert off.any() and (~off).any()
    assert d["cross_district_share"] == pytest.approx(_cross_share(road_run, ~off), abs=2e-3)
    assert d["cross_district_share_incl_off_land"] == pytest.approx(
        _cross_share(road_run, np.ones(len(w), dtype=bool)), abs=2e-3)
    # Elevated and underground roads carry demand the land beneath does not see first:
    # counting them would blame the districts for the levels of the road network.
    assert d["cross_district_share_incl_off_land"] > d["cross_district_share"]


def _loop_nearest_roads(index, xy, segs, rule):
    """Reference: one location at a time, distances to every eligible road (no spatial index)."""
    geoms = index.seg_geometry[segs]
    out = {}
    for j, p in enumerate(shapely.points(xy)):
        d = shapely.distance(p, geoms)
        d0 = d.min()
        if d0 > rule.hose_m:
            continue
        near = d <= (rule.access_m if d0 <= rule.access_m else d0 + 1e-6)
        order = np.argsort(d[near], kind="stable")[: rule.max_points]
        out[j] = (np.sort(segs[near][order]), np.sort(d[near][order]))
    return out


def test_bulk_search_equals_a_per_location_loop(result, yuzhong_index):
    """The bulk search (envelope queries within access_m, then the hose length, exact distances) finds,
    for every location, the same roads at the same distances as a plain loop over locations,
    on real Yuzhong land: cells near roads, in the no-access zones and at the hose limit."""
    from coverage.assess.access import _eligible as eligible
    from coverage.assess.access import _nearest_roads

    rule = result.demand_set.rule
    grid = result.land_set.grid
    rng = np.random.default_rng(11)
    no_access = np.setdiff1d(np.arange(len(grid)), result.land_set.grid_pos)
    pick = np.concatenate([rng.choice(len(grid), 500, replace=False), rng.choice(no_access, 150, replace=False)])
    xy = grid.xy[pick]
    segs = eligible(yuzhong_index, rule)
    # Locations exactly at the hose length and just beyond it from their nearest road.
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(yuzhong_index.seg_geometry[segs[:40]], 0.5,
                                                                normalized=True))
    xy = np.vstack([xy, p0 + [0.0, rule.hose_m], p0 + [0.0, rule.hose_m + 0.5]])
    expected = _loop_nearest_roads(yuzhong_index, xy, segs, rule)
    for max_points in (rule.max_points, 10_000):
        r = AccessRule(access_m=rule.access_m, hose_m=rule.hose_m, max_points=max_points)
        target, seg, dist = _nearest_roads(yuzhong_index, shapely.points(xy), np.arange(len(xy)), segs, r)
        ref = expected if max_points == rule.max_points else _loop_nearest_roads(yuzhong_index, xy, segs, r)
        assert set(np.unique(target)) == set(ref)
        for j, (ref_seg, ref_d) in ref.items():
            mine = target == j
            np.testing.assert_allclose(np.sort(dist[mine]), ref_d, rtol=0, atol=1e-9)
            if max_points > rule.max_points:  # no cut at rank 16, so no tie to break
                assert np.array_equal(np.sort(seg[mine]), ref_seg)
    assert len(expected) < len(xy) and any(d.size for _, d in expected.values())


def test_land_grid_areas_match_shapely(yuzhong_network):
    grid = land_grid(yuzhong_network.boundary, cell_m=100.0)
    # Only edge slivers under 0.1 % of a cell are dropped: at most two per 100 m of boundary.
    dropped_km2 = 2 * yuzhong_network.boundary.length / 100.0 * 10.0 / 1e6
    assert 0 <= yuzhong_network.boundary.area / 1e6 - grid.area_km2.sum() <= dropped_km2
    water = shapely.buffer(shapely.Point(*yuzhong_network.boundary.centroid.coords[0]), 300.0)
    wet = land_grid(yuzhong_network.boundary, cell_m=100.0, water=water)
    assert wet.water_km2 == pytest.approx(shapely.area(shapely.intersection(water, yuzhong_network.boundary)) / 1e6)
    assert wet.area_km2.sum() == pytest.approx(grid.area_km2.sum() - wet.water_km2, abs=2 * dropped_km2)
    assert (grid.locate(grid.xy) == np.arange(len(grid))).all()


def test_bad_access_rule_is_a_clear_error():
    with pytest.raises(InputError, match="hose_m"):
        AccessRule(hose_m=0)


def _grid_reference(land, cell_m):
    """Every square of the bounding box clipped to the land (what the grid did before)."""
    x0, y0, x1, y1 = shapely.bounds(land)
    n_cols, n_rows = int(np.ceil((x1 - x0) / cell_m)), int(np.ceil((y1 - y0) / cell_m))
    rr, cc = (a.ravel() for a in np.meshgrid(np.arange(n_rows), np.arange(n_cols), indexing="ij"))
    boxes = shapely.box(x0 + cc * cell_m, y0 + rr * cell_m, x0 + (cc + 1) * cell_m, y0 + (rr + 1) * cell_m)
    cells = shapely.intersection(boxes, land)
    area = shapely.area(cells)
    keep = area > 1e-3 * cell_m * cell_m
    return rr[keep], cc[keep], area[keep]


@pytest.mark.parametrize("cell_m", [40.0])
def test_land_grid_equals_clipping_every_square(yuzhong_network, cell_m):
    """Only squares the boundary may cross are clipped; the result is the same as clipping all,
    on Yuzhong's real boundary with a lake cut out of it (a hole and an island edge)."""
    c = yuzhong_network.boundary.centroid
    water = shapely.buffer(shapely.LineString([(c.x - 2500, c.y - 400), (c.x + 2500, c.y + 600)]), 130.0)
    for wet in (None, water):
        grid = land_grid(yuzhong_network.boundary, cell_m=cell_m, water=wet)
        land = yuzhong_network.boundary if wet is None else shapely.difference(yuzhong_network.boundary, wet)
        rr, cc, area = _grid_reference(land, cell_m)
        assert np.array_equal(grid.row, rr) and np.array_equal(grid.col, cc)
        np.testing.assert_allclose(grid.area_km2 * 1e6, area, rtol=1e-9, atol=1e-6)
        assert shapely.contains_xy(land, grid.xy[:, 0], grid.xy[:, 1]).all()
