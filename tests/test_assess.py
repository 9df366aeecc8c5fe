"""Legacy assessment (``access="snap"``: road samples, Voronoi districts) on real Yuzhong data
against networkx and shapely. The access/land model is tested in test_assess_access.py."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from conftest import split_graph_reference
from shapely.geometry import Point

from coverage.assess import assess
from coverage.engine import snap_points
from coverage.errors import InputError
from coverage.layers import read_stations


@pytest.fixture(scope="module")
def stations(yuzhong_stations):
    return read_stations(yuzhong_stations)


@pytest.fixture(scope="module")
def result(yuzhong_network, yuzhong_index, stations):
    return assess(yuzhong_network, stations, index=yuzhong_index, access="snap")


@pytest.fixture(scope="module")
def reference_times(result, yuzhong_index):
    """Travel seconds station × demand from networkx on the split graph."""
    st_snap = snap_points(
        yuzhong_index, shapely.get_coordinates(result.stations.geometry.values)
    )
    dem = result.demand_set.snap
    graph = split_graph_reference(yuzhong_index, st_snap, dem)
    rows = []
    for i in range(len(st_snap)):
        dist = nx.single_source_dijkstra_path_length(graph, (0, i), weight="w")
        rows.append([dist.get((1, j), np.inf) for j in range(len(dem))])
    return np.array(rows), graph, st_snap


def test_first_and_second_due_match_networkx(result, reference_times):
    ref = reference_times[0]
    ordered = np.sort(ref, axis=0)
    np.testing.assert_allclose(result.demand["first_due_s"], ordered[0], atol=1e-6)
    np.testing.assert_allclose(result.demand["second_due_s"], ordered[1], atol=1e-6)


def test_coverage_share_is_the_weight_within_240_s(result, reference_times):
    w = result.demand["weight"].to_numpy()
    first = reference_times[0].min(axis=0)
    assert result.metrics["coverage_share"] == pytest.approx(w[first <= 240].sum() / w.sum())
    assert result.metrics["first_due_max_s"] == pytest.approx(first.max(), abs=1e-6)


def test_demand_weight_is_the_road_length_inside_the_district(result, yuzhong_index, yuzhong_network):
    clipped = shapely.intersection(yuzhong_index.seg_geometry, yuzhong_network.boundary)
    road_m = shapely.length(clipped).sum()
    assert result.demand["weight"].sum() == pytest.approx(road_m, rel=0.01)


def test_districts_partition_the_boundary(result, yuzhong_network):
    assert result.districts["district_km2"].sum() == pytest.approx(
        yuzhong_network.boundary.area / 1e6, rel=1e-6
    )
    union = shapely.union_all(result.districts.geometry.values)
    assert union.symmetric_difference(yuzhong_network.boundary).area < 1.0  # m²


def test_protection_radius_is_the_hausdorff_distance_of_the_main_piece(result):
    for row, district in zip(
        result.stations.itertuples(), result.districts.geometry, strict=True
    ):
        main = max(shapely.get_parts(district), key=shapely.area)
        expected = shapely.hausdorff_distance(row.geometry, main)
        assert row.protection_radius_m == pytest.approx(expected, rel=1e-9)


def test_farthest_travel_time_matches_networkx(result, yuzhong_index, reference_times):
    _, _, st_snap = reference_times
    for i, (row, district) in enumerate(
        zip(result.stations.itertuples(), result.districts.geometry, strict=True)
    ):
        coords = shapely.get_coordinates(max(shapely.get_parts(district), key=shapely.area))
        far = coords[np.argmax(np.hypot(*(coords - shapely.get_coordinates(row.geometry)).T))]
        far_snap = snap_points(yuzhong_index, far)
        graph = split_graph_reference(yuzhong_index, st_snap.take(np.array([i])), far_snap)
        expected = nx.dijkstra_path_length(graph, (0, 0), (1, 0), weight="w")
        assert row.farthest_travel_s == pytest.approx(expected, abs=1e-6)


def test_summary_has_the_documented_keys(result):
    summary = result.summary()
    for key in (
        "standard", "turnout_s", "travel_threshold_s", "coverage_share", "first_due_p50_s",
        "first_due_p90_s", "first_due_max_s", "second_due_coverage_share", "network", "stations",
    ):
        assert key in summary
    assert set(summary["network"]) >= {"nodes", "edges", "crs"}
    assert {s["id"] for s in summary["stations"]} == set(result.stations["id"])


def test_nfpa_standard_changes_turnout_and_judging(yuzhong_network, yuzhong_index, stations, result):
    nfpa = assess(yuzhong_network, stations, standard="nfpa1710", index=yuzhong_index, access="snap")
    assert nfpa.metrics["response_p90_s"] == pytest.approx(nfpa.metrics["first_due_p90_s"] + 80)
    assert nfpa.metrics["first_due_judged_s"] == nfpa.metrics["first_due_p90_s"]
    assert nfpa.metrics["coverage_share"] == pytest.approx(result.metrics["coverage_share"])


def test_empty_station_layer_is_a_clear_error(yuzhong_network, yuzhong_index, stations):
    with pytest.raises(InputError, match="empty"):
        assess(yuzhong_network, stations.iloc[:0], index=yuzhong_index)


def test_station_two_km_from_any_road_is_a_clear_error(yuzhong_network, yuzhong_index, stations):
    far = gpd.GeoSeries([yuzhong_network.study_area.centroid], crs=yuzhong_network.crs)
    # Put a station 2 km beyond the study area's outer edge.
    minx, miny, maxx, maxy = yuzhong_network.study_area.bounds
    far = gpd.GeoSeries([Point(maxx + 2000, maxy + 2000)], crs=yuzhong_network.crs).to_crs(4326)
    bad = stations.copy()
    bad.loc[0, "geometry"] = far.iloc[0]
    with pytest.raises(InputError, match=r"S1.*from any road"):
        assess(yuzhong_network, bad, index=yuzhong_index, stations_source="stations.geojson")


def test_only_surface_roads_claim_land(result, yuzhong_index):
    demand = result.demand_set
    passing = yuzhong_index.seg_bridge[demand.snap.seg] | yuzhong_index.seg_tunnel[demand.snap.seg]
    assert passing.any() and (~passing).any()
    assert (demand.cell_km2[passing] == 0).all()
    # Yet every sample is demand: bridges and tunnels still need reaching.
    assert result.demand["weight"][passing].sum() > 0
    assert demand.cell_km2.sum() == pytest.approx(result.districts["district_km2"].sum(), rel=1e-9)


def test_demand_points_outside_the_district_are_reported_not_dropped_silently(yuzhong_index):
    """Issue 9: a demand point in another city was dropped without a word."""
    import geopandas as gpd
    from coverage.demand import point_demand
    from shapely.geometry import Point, box

    area = box(*yuzhong_index.tree.geometries[0].buffer(2000).bounds)
    centre = area.centroid
    layer = gpd.GeoDataFrame(
        {"id": ["home", "beijing"], "weight": [1.0, 5.0]},
        geometry=[Point(centre.x, centre.y), Point(116.40, 39.90)], crs=yuzhong_index.crs,
    )
    layer.loc[1, "geometry"] = gpd.GeoSeries([Point(116.40, 39.90)], crs=4326).to_crs(
        yuzhong_index.crs).iloc[0]
    with pytest.warns(UserWarning, match=r"1 of 2 demand point\(s\) lie outside .* beijing \(1,"):
        demand, _ = point_demand(yuzhong_index, layer, area=area, source="generated_demand.csv")
    assert list(demand["id"]) == ["home"]
