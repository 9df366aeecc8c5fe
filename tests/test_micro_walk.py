"""The walk network (coverage.network.walk): stair model by hand, times against networkx."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from micro_data import walk_index, walk_network

from coverage.engine import point_times, snap_points
from coverage.errors import InputError
from coverage.network import load_network
from coverage.network.walk import (
    MICRO_EBIKE,
    MICRO_ON_FOOT,
    MICRO_WALKING,
    edge_walk_s,
)

QUIET = {"cache_dir": False, "progress": False}
M_PER_DEG_LAT = 110_574.0  # near 29.55°N; only used to place generated nodes


def generated_osm(path: Path, nodes: dict[int, tuple[float, float]],
                  ways: list[tuple[int, list[int], dict]]) -> Path:
    """A generated OSM XML file: nodes at (east m, north m) from 106.55 E, 29.55 N."""
    lon_m = 111_320.0 * math.cos(math.radians(29.55))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for n, (east, north) in nodes.items():
        lines.append(f'  <node id="{n}" version="1" lat="{29.55 + north / M_PER_DEG_LAT:.8f}" '
                     f'lon="{106.55 + east / lon_m:.8f}"/>')
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{n}"/>' for n in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def stairs_osm(tmp_path):
    """Generated: footway 1-2 (100 m), steps 2-3 (8 m, 20 steps, incline=up drawn 2->3),
    footway 3-4 (50 m); footway 4-5 (40 m), untagged steps 5-6 (6 m), footway 6-7-1; spurs
    at 1, 4 and 5 keep them junctions."""
    nodes = {1: (0, 0), 2: (100, 0), 3: (108, 0), 4: (158, 0), 5: (158, 40), 6: (152, 40),
             7: (0, 40), 8: (-30, 0), 9: (188, 0), 10: (188, 40)}
    ways = [
        (10, [1, 2], {"highway": "footway"}),
        (11, [2, 3], {"highway": "steps", "step_count": "20", "incline": "up"}),
        (12, [3, 4], {"highway": "footway"}),
        (13, [4, 5], {"highway": "footway"}),
        (14, [5, 6], {"highway": "steps"}),
        (15, [6, 7, 1], {"highway": "footway"}),
        (16, [1, 8], {"highway": "footway"}),
        (17, [4, 9], {"highway": "footway"}),
        (18, [5, 10], {"highway": "footway"}),
    ]
    return generated_osm(tmp_path / "generated_stairs.osm", nodes, ways)


def _edge(G, u, v):
    (data,) = [d for d in G.get_edge_data(u, v).values() if d["osmid"] in (10, 12)]
    return data


def test_stair_model_matches_a_hand_computation(stairs_osm):
    net = load_network(osm=stairs_osm, travel_model=MICRO_ON_FOOT, **QUIET)
    G = net.graph
    # 1-2-3-4 merge into one edge (2 and 3 have degree 2); the steps keep their direction.
    up = _edge(G, 1, 4)
    down = _edge(G, 4, 1)
    flat = up["length"] - up["stairs_m"]
    assert up["stairs_m"] == pytest.approx(8.0, abs=0.05)
    assert up["steps_up"] == pytest.approx(20) and down["steps_down"] == pytest.approx(20)
    # Up: 20 steps x 0.15 m = 3 m of height at 0.25 m/s = 12 s (slower than 8 m at 2 m/s).
    assert up["travel_s"] == pytest.approx(flat / 2.0 + 12.0, rel=1e-9)
    # Down: 3 m at 0.33 m/s = 9.0909 s.
    assert down["travel_s"] == pytest.approx(flat / 2.0 + 3.0 / 0.33, rel=1e-9)
    assert flat == pytest.approx(150.0, abs=0.5)
    # Untagged 6 m of steps: 6 / 0.30 = 20 steps, 3 m of height, taken as up both ways.
    loops = [d for u, v, d in G.edges(data=True) if d["steps_unknown"] > 0]
    assert len(loops) == 2
    for d in loops:
        assert d["steps_unknown"] == pytest.approx(20, rel=1e-3)
        assert d["travel_s"] == pytest.approx((d["length"] - d["stairs_m"]) / 2.0 + 12.0, rel=1e-3)


def test_edge_formula_per_step_and_overrides():
    model = dataclasses.replace(MICRO_WALKING, stair_up_mps=0.3, step_rise_m=0.18)
    assert model.stair_up_s_per_step == pytest.approx(0.6)
    # 10 steps up, 5 m of stairs, 20 m flat: 20/1.35 + 10*0.6
    assert edge_walk_s(25.0, 10, 0, 0, 5.0, 0, model) == pytest.approx(20 / 1.35 + 6.0)
    # A gentle flight cannot be faster than the level speed.
    assert edge_walk_s(20.0, 1, 0, 0, 20.0, 0, model) == pytest.approx(20 / 1.35)
    mean = dataclasses.replace(MICRO_ON_FOOT, unknown_stairs="mean")
    assert edge_walk_s(10.0, 0, 0, 20, 10.0, 0, mean) == pytest.approx(
        (20 * 0.6 + 20 * 0.15 / 0.33) / 2)
    assert edge_walk_s(0.0, 0, 0, 0, 0.0, 1, MICRO_ON_FOOT) == pytest.approx(90.0)
    # Off the network the e-bike crew walks: legs at 2.0 m/s, not 15 km/h.
    assert MICRO_EBIKE.leg_speed_mps == 2.0 and MICRO_ON_FOOT.leg_speed_mps == 2.0
    assert MICRO_WALKING.leg_speed_mps == MICRO_WALKING.speed_mps


@pytest.mark.parametrize("field,value", [("speed_mps", 0), ("stair_up_mps", -1.0),
                                         ("step_rise_m", float("nan")), ("elevator_s", -5),
                                         ("access_speed_mps", 0.0),
                                         ("unknown_stairs", "sideways")])
def test_bad_walk_parameters_are_clear_errors(field, value):
    with pytest.raises(InputError, match=field):
        dataclasses.replace(MICRO_ON_FOOT, **{field: value})


def test_extract_without_pedestrian_ways_is_a_clear_error(tmp_path):
    osm = generated_osm(tmp_path / "generated_motorway_only.osm", {1: (0, 0), 2: (500, 0)},
                        [(1, [1, 2], {"highway": "motorway"})])
    with pytest.raises(InputError, match="no pedestrian way"):
        load_network(osm=osm, travel_model=MICRO_ON_FOOT, **QUIET)


def test_small_vehicle_cannot_use_steps(stairs_osm):
    net = load_network(osm=stairs_osm, travel_model=MICRO_EBIKE, **QUIET)
    # Both routes between 1 and 4 have steps: the e-bike keeps the side of 4 only.
    assert set(net.graph.nodes) == {4, 5, 9, 10}
    assert net.report.dropped_edges["steps: not passable by MICRO_EBIKE"] == 4
    assert all(d["travel_s"] == pytest.approx(d["length"] / (15 / 3.6))
               for *_, d in net.graph.edges(data=True))


def test_real_walk_graph_has_directed_stairs():
    G = walk_network().graph
    stairs = [d for *_, d in G.edges(data=True) if d["stairs_m"] > 0]
    assert len(stairs) > 300  # the extract maps 345 highway=steps ways
    up = [d for d in stairs if d["steps_up"] > 0]
    assert up and all(d["travel_s"] > (d["length"] - d["stairs_m"]) / 2.0 for d in up)
    assert nx.is_strongly_connected(G)


def test_real_ebike_network_drops_every_flight_of_steps():
    from micro_data import BOUNDARY, WALK

    net = load_network(osm=WALK, boundary=BOUNDARY(), travel_model=MICRO_EBIKE, buffer_m=500,
                       **QUIET)
    assert not any(d["stairs_m"] > 0 for *_, d in net.graph.edges(data=True))
    assert net.report.dropped_edges["steps: not passable by MICRO_EBIKE"] > 300


def test_walk_times_match_networkx_on_the_real_walk_graph():
    """Engine seconds between walk nodes = networkx Dijkstra on the walk graph itself."""
    net, index = walk_network(), walk_index()
    G = net.graph
    rng = np.random.default_rng(7)
    stair_nodes = sorted({u for u, v, d in G.edges(data=True) if d["stairs_m"] > 0})
    src_nodes = list(rng.choice(stair_nodes, 6, replace=False))
    dst_nodes = list(rng.choice(list(G.nodes), 40, replace=False)) + list(
        rng.choice(stair_nodes, 10, replace=False))
    pos = {n: i for i, n in enumerate(index.node_ids)}
    src = snap_points(index, index.node_xy[[pos[n] for n in src_nodes]])
    dst = snap_points(index, index.node_xy[[pos[n] for n in dst_nodes]])
    ours = point_times(index, src, dst)
    asymmetric = 0
    for i, s in enumerate(src_nodes):
        ref = nx.single_source_dijkstra_path_length(G, s, weight="travel_s")
        for j, t in enumerate(dst_nodes):
            assert ours[i, j] == pytest.approx(ref[t], rel=1e-9, abs=1e-6), (s, t)
        back = nx.single_source_dijkstra_path_length(G.reverse(copy=False), s, weight="travel_s")
        asymmetric += sum(abs(back[t] - ref[t]) > 1.0 for t in dst_nodes)
    assert asymmetric > 0  # up and down the steps differ


hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies


@hypothesis.given(length=st.floats(0.1, 500), stairs_frac=st.floats(0, 1), steps=st.floats(0, 2000),
                  extra=st.floats(0, 100))
@hypothesis.settings(max_examples=200, deadline=None)
def test_stair_time_bounds_and_monotonicity(length, stairs_frac, steps, extra):
    stairs = length * stairs_frac
    up = edge_walk_s(length, steps, 0, 0, stairs, 0, MICRO_ON_FOOT)
    down = edge_walk_s(length, 0, steps, 0, stairs, 0, MICRO_ON_FOOT)
    unknown = edge_walk_s(length, 0, 0, steps, stairs, 0, MICRO_ON_FOOT)
    level = max(length / MICRO_ON_FOOT.speed_mps, 0.01)
    # never faster than the level, up no faster than down, unknown read as up
    assert up >= level - 1e-9 and down >= level - 1e-9
    assert up >= down - 1e-9 and unknown == pytest.approx(up)
    # more steps never make it faster
    assert edge_walk_s(length, steps + extra, 0, 0, stairs, 0, MICRO_ON_FOOT) >= up - 1e-9
    if stairs > 0:
        expect = (length - stairs) / 2.0 + max(steps * 0.15 / 0.25, stairs / 2.0)
        assert up == pytest.approx(max(expect, 0.01))
