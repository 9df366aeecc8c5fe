"""Spacing along roads on generated straight and ring roads, and both sides of wide roads."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point

from coverage.hydrants.roads import road_set
from coverage.hydrants.spacing import road_chains, spacing_check
from coverage.network.model import NetworkReport, RoadNetwork
from coverage.presets import GB50974

_CRS = "EPSG:32650"
X0, Y0 = 500_000.0, 3_300_000.0


def synthetic_road_network(
    points: list[tuple[float, float]],
    *,
    name: str = "Test Road",
    width_m: float = math.nan,
    lanes: float = math.nan,
) -> RoadNetwork:
    """A generated (not real) two-way road through ``points`` (metres from the origin),
    one graph edge per consecutive pair, all with the same name."""
    G = nx.MultiDiGraph(crs=_CRS)
    for k, (x, y) in enumerate(points):
        G.add_node(k, x=X0 + x, y=Y0 + y, lon=0.0, lat=0.0)
    ids = list(range(len(points)))
    if points[0] == points[-1]:
        ids[-1] = 0
        G.remove_node(len(points) - 1)
    for a, b in zip(ids[:-1], ids[1:], strict=True):
        pa, pb = G.nodes[a], G.nodes[b]
        line = LineString([(pa["x"], pa["y"]), (pb["x"], pb["y"])])
        for u, v, geom in ((a, b, line), (b, a, LineString(line.coords[::-1]))):
            G.add_edge(u, v, length=geom.length, travel_s=geom.length / 10, geometry=geom,
                       highway="primary", name=name, osmid=7, speed_kph=36.0, bridge=False,
                       tunnel=False, width_m=width_m, lanes=lanes)
    hull = shapely.MultiPoint([(d["x"], d["y"]) for _, d in G.nodes(data=True)]).envelope
    report = NetworkReport("synthetic road", len(G), G.number_of_edges(), {}, {}, len(G),
                           G.number_of_edges(), _CRS)
    return RoadNetwork(G, pyproj.CRS(_CRS), hull.buffer(300.0), None, report)


def _xy(along: list[float], offset: float = 3.0) -> np.ndarray:
    return np.array([[X0 + a, Y0 + offset] for a in along])


@pytest.fixture(scope="module")
def straight():
    """A 1 km straight road in four segments of 250 m."""
    return road_set(synthetic_road_network([(x, 0.0) for x in (0, 250, 500, 750, 1000)]))


def test_straight_road_is_one_chain(straight):
    chains = road_chains(straight)
    assert len(chains) == 1
    assert chains.geometry.iloc[0].length == pytest.approx(1000.0)


def test_consecutive_gaps_beyond_120_m_are_listed(straight):
    along = [0.0, 100.0, 250.0, 300.0, 419.0, 560.0, 1000.0]
    ids = np.array([f"H{i}" for i in range(len(along))], dtype=object)
    res = spacing_check(straight, _xy(along), ids, rules=GB50974)
    v = res.violations.sort_values("spacing_m").reset_index(drop=True)
    # Independent: consecutive differences along x.
    gaps = np.diff(along)
    expected = sorted(g for g in gaps if g > 120.0)
    assert v["spacing_m"].tolist() == pytest.approx(expected)
    pairs = {(r.from_id, r.to_id) for r in v.itertuples()}
    assert pairs == {("H1", "H2"), ("H4", "H5"), ("H5", "H6")}
    # Each stretch runs along the road between the two hydrants.
    row = v.iloc[0]
    assert row.geometry.length == pytest.approx(row.spacing_m)
    assert res.chains["n_hydrants"].iloc[0] == len(along)
    assert res.chains["max_spacing_m"].iloc[0] == pytest.approx(440.0)


def test_hydrants_beyond_attach_distance_do_not_count(straight):
    along = [0.0, 100.0, 200.0]
    xy = np.vstack([_xy(along), [[X0 + 150.0, Y0 + 80.0]]])  # 80 m off the road
    res = spacing_check(straight, xy, np.array(["a", "b", "c", "far"]), attach_m=30.0)
    assert res.chains["n_hydrants"].iloc[0] == 3
    assert len(res.violations) == 0


def test_spacing_of_exactly_120_m_complies(straight):
    res = spacing_check(straight, _xy([0.0, 120.0, 240.0]), np.array(["a", "b", "c"]))
    assert len(res.violations) == 0


def test_ring_road_wraps_around():
    # A 400 m square ring: hydrants at 0 and 100 m leave a 300 m gap round the back.
    ring = road_set(synthetic_road_network([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]))
    xy = np.array([[X0, Y0 - 2.0], [X0 + 100.0, Y0 - 2.0]])
    res = spacing_check(ring, xy, np.array(["A", "B"]))
    assert len(res.violations) == 1
    assert res.violations["spacing_m"].iloc[0] == pytest.approx(300.0)
    assert res.violations.geometry.iloc[0].length == pytest.approx(300.0)


def test_wide_road_needs_both_sides():
    wide = road_set(synthetic_road_network([(0, 0), (500, 0)], width_m=70.0))
    # North side every 100 m; south side only at 0 and 300 m.
    north = _xy([0, 100, 200, 300, 400, 500], offset=36.0)
    south = _xy([0, 300], offset=-36.0)
    xy = np.vstack([north, south])
    ids = np.array([f"N{i}" for i in range(6)] + ["S0", "S1"])
    res = spacing_check(wide, xy, ids, attach_m=40.0)
    chain = res.chains.iloc[0]
    assert bool(chain["both_sides"]) is True
    assert {int(chain["n_left"]), int(chain["n_right"])} == {6, 2}
    assert len(res.violations) == 1
    v = res.violations.iloc[0]
    assert (v.from_id, v.to_id) == ("S0", "S1")
    assert v.spacing_m == pytest.approx(300.0)
    assert v.side in {"left", "right"}
    # Without the side rule the mixed sequence would have no gap above 120 m.
    narrow = road_set(synthetic_road_network([(0, 0), (500, 0)], width_m=20.0))
    assert len(spacing_check(narrow, xy, ids, attach_m=40.0).violations) == 0


def test_width_from_lanes_and_unknown_width():
    by_lanes = road_set(synthetic_road_network([(0, 0), (300, 0)], lanes=18.0))
    chains = spacing_check(by_lanes, _xy([0.0]), np.array(["a"])).chains
    assert chains["width_basis"].iloc[0] == "lanes"
    assert chains["width_m"].iloc[0] == pytest.approx(18 * 3.5)
    assert bool(chains["both_sides"].iloc[0]) is True
    unknown = road_set(synthetic_road_network([(0, 0), (300, 0)]))
    res = spacing_check(unknown, _xy([0.0]), np.array(["a"]))
    assert res.chains["both_sides"].isna().all()
    assert res.width_unknown_m == pytest.approx(300.0)


def test_side_is_taken_from_the_road_direction():
    from coverage.hydrants.spacing import _side

    line = LineString([(0, 0), (100, 0)])
    xy = np.array([[50.0, 5.0], [50.0, -5.0]])
    pos = shapely.line_locate_point(line, shapely.points(xy))
    assert _side(line, pos, xy).tolist() == [1.0, -1.0]
    assert Point(0, 0).distance(line) == 0
