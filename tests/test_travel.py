"""Travel model: tag parsing, speeds, times and restrictions on generated toy graphs."""

from __future__ import annotations

import dataclasses
import math

import networkx as nx
import pytest

from coverage.errors import InputError
from coverage.network.travel import (
    CHINA_URBAN,
    MIN_TRAVEL_S,
    NFPA_ISO,
    TravelModel,
    apply_travel_model,
    class_speed_kph,
    most_important_highway,
    parse_length_m,
    parse_maxspeed_kph,
)

MILE_KM = 1.609344


@pytest.mark.parametrize(
    ("tag", "kph"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("50kmh", 50.0),
        ("30 mph", 30 * MILE_KM),
        ("10 knots", 18.52),
        ("CN:urban", 50.0),
        ("DE:zone30", 30.0),
        ("DE:zone:30", 30.0),
        ("50;30", 40.0),
        (["40", "30"], 35.0),
        (["40", "none"], 40.0),
        ("none", None),
        ("signals", None),
        ("CN:rural", None),
        ("walk", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_maxspeed_parsing(tag, kph):
    got = parse_maxspeed_kph(tag)
    assert got == (None if kph is None else pytest.approx(kph))


@pytest.mark.parametrize(
    ("tag", "metres"),
    [
        ("2.3", 2.3),
        ("2.3 m", 2.3),
        ("2.3m", 2.3),
        ("2,3", 2.3),
        ("7'6\"", 7 * 0.3048 + 6 * 0.0254),
        ("7 ft 6 in", 7 * 0.3048 + 6 * 0.0254),
        ("12'", 12 * 0.3048),
        (["4.5", "2.3"], 2.3),
        ("default", None),
        ("none", None),
        ("below_default", None),
        (None, None),
    ],
)
def test_length_parsing(tag, metres):
    got = parse_length_m(tag)
    assert got == (None if metres is None else pytest.approx(metres))


def test_most_important_highway_picks_the_higher_class():
    assert most_important_highway(["residential", "tertiary"]) == "tertiary"
    assert most_important_highway(["motorway_link", "primary_link"]) == "motorway_link"
    assert most_important_highway(["trunk_link", "tertiary"]) == "trunk_link"
    assert most_important_highway("secondary") == "secondary"
    assert most_important_highway(["zzz_unknown", "service"]) == "service"
    assert most_important_highway(None) == "road"


def test_class_speed_lookup_links_and_fallback():
    assert class_speed_kph("primary", CHINA_URBAN) == CHINA_URBAN.speeds_kph["primary"]
    assert class_speed_kph("primary_link", CHINA_URBAN) == CHINA_URBAN.speeds_kph["primary_link"]
    no_links = dataclasses.replace(CHINA_URBAN, speeds_kph={"primary": 42.0})
    assert class_speed_kph("primary_link", no_links) == 42.0
    assert class_speed_kph("bus_stop", no_links) == no_links.fallback_speed_kph
    assert NFPA_ISO.speeds_kph["primary"] == pytest.approx(35 * MILE_KM)  # ISO PPC 35 mph


def test_presets_are_frozen_and_overridable():
    with pytest.raises(TypeError):
        CHINA_URBAN.speeds_kph["primary"] = 99.0  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        CHINA_URBAN.congestion_factor = 2.0  # type: ignore[misc]
    slower = dataclasses.replace(CHINA_URBAN, congestion_factor=1.3)
    assert slower.congestion_factor == 1.3 and CHINA_URBAN.congestion_factor == 1.0
    assert {CHINA_URBAN: "preset"}[dataclasses.replace(CHINA_URBAN)] == "preset"  # hashable
    assert slower != CHINA_URBAN
    assert CHINA_URBAN.apparatus_height_m == 3.2


@pytest.mark.parametrize(
    "change",
    [
        {"congestion_factor": 0.8},
        {"speeds_kph": {"primary": 0.0}},
        {"speeds_kph": {"primary": "fast"}},
        {"fallback_speed_kph": -5.0},
        {"apparatus_height_m": -1.0},
        {"signal_delay_s": -2.0},
        {"uphill_penalty_per_grade": float("nan")},
    ],
)
def test_invalid_model_is_an_input_error(change):
    with pytest.raises(InputError, match="TravelModel"):
        dataclasses.replace(CHINA_URBAN, **change)


def synthetic_chain(edges: list[dict], elevations: list[float] | None = None) -> nx.MultiDiGraph:
    """Generated toy graph: nodes 0..n in a row, edge i runs i -> i+1 with the given attrs."""
    G = nx.MultiDiGraph(crs="EPSG:32648")
    for i in range(len(edges) + 1):
        G.add_node(i, x=float(i), y=0.0)
        if elevations is not None:
            G.nodes[i]["elevation"] = elevations[i]
    for i, attrs in enumerate(edges):
        G.add_edge(i, i + 1, **attrs)
    return G


def times(G: nx.MultiDiGraph) -> dict:
    return {(u, v, k): d["travel_s"] for u, v, k, d in G.edges(keys=True, data=True)}


def test_class_speed_and_maxspeed_set_time():
    G = synthetic_chain([
        {"length": 1000.0, "highway": "primary"},
        {"length": 1000.0, "highway": "primary", "maxspeed": "30"},
        {"length": 1000.0, "highway": "primary", "maxspeed": "30 mph"},
        {"length": 1000.0, "highway": ["residential", "primary"]},
    ])
    model = dataclasses.replace(CHINA_URBAN, speeds_kph={"primary": 40.0, "residential": 20.0})
    H, dropped = apply_travel_model(G, model)
    assert dropped == {}
    speeds = [H.edges[i, i + 1, 0]["speed_kph"] for i in range(4)]
    assert speeds == pytest.approx([40.0, 30.0, 40.0, 40.0])  # 30 mph = 48 km/h > 40
    # 1 km at 40 km/h is 90 s; at 30 km/h, 120 s.
    assert H.edges[0, 1, 0]["travel_s"] == pytest.approx(90.0)
    assert H.edges[1, 2, 0]["travel_s"] == pytest.approx(120.0)
    ignore = dataclasses.replace(model, respect_maxspeed=False)
    assert apply_travel_model(G, ignore)[0].edges[1, 2, 0]["speed_kph"] == 40.0
    assert "travel_s" not in G.edges[0, 1, 0], "the input graph must not be modified"


def test_congestion_factor_scales_every_time():
    G = synthetic_chain([
        {"length": 350.0, "highway": "secondary", "signals": 1},
        {"length": 20.0, "highway": "residential", "maxspeed": "20"},
        {"length": 1200.0, "highway": "trunk"},
    ])
    base = times(apply_travel_model(G, dataclasses.replace(CHINA_URBAN, signal_delay_s=15))[0])
    model = dataclasses.replace(CHINA_URBAN, signal_delay_s=15, congestion_factor=1.5)
    slow = times(apply_travel_model(G, model)[0])
    assert slow.keys() == base.keys()
    for key, t in base.items():
        assert slow[key] == pytest.approx(1.5 * t)


def test_signal_delay_per_signal_node():
    G = synthetic_chain([
        {"length": 500.0, "highway": "tertiary", "signals": 0},
        {"length": 500.0, "highway": "tertiary", "signals": 2},
    ])
    free = times(apply_travel_model(G, CHINA_URBAN)[0])
    delayed = times(apply_travel_model(G, dataclasses.replace(CHINA_URBAN, signal_delay_s=20))[0])
    assert delayed[(0, 1, 0)] == pytest.approx(free[(0, 1, 0)])
    assert delayed[(1, 2, 0)] == pytest.approx(free[(1, 2, 0)] + 40.0)


def test_uphill_penalty_uses_node_elevations():
    # 0 m -> 50 m -> 0 m over two 1 km edges: +5 % then -5 %.
    G = synthetic_chain(
        [{"length": 1000.0, "highway": "primary"}, {"length": 1000.0, "highway": "primary"}],
        elevations=[0.0, 50.0, 0.0],
    )
    flat = times(apply_travel_model(G, CHINA_URBAN)[0])
    hilly = times(apply_travel_model(G, dataclasses.replace(CHINA_URBAN, uphill_penalty_per_grade=2.0))[0])
    assert hilly[(0, 1, 0)] == pytest.approx(flat[(0, 1, 0)] * (1 + 2.0 * 0.05))
    assert hilly[(1, 2, 0)] == pytest.approx(flat[(1, 2, 0)])  # downhill: no bonus
    G.nodes[1]["elevation"] = math.nan  # DEM without data at this node
    nodata = times(apply_travel_model(G, dataclasses.replace(CHINA_URBAN, uphill_penalty_per_grade=2.0))[0])
    assert nodata == pytest.approx(flat)


def test_maxheight_drops_edges_below_the_apparatus():
    G = synthetic_chain([
        {"length": 300.0, "highway": "primary", "maxheight": "2.3"},
        {"length": 300.0, "highway": "primary", "maxheight": "4.5 m"},
        {"length": 300.0, "highway": "primary", "maxheight": "default"},
        {"length": 300.0, "highway": "primary", "maxheight": ["2.3", "5"]},
    ])
    H, dropped = apply_travel_model(G, CHINA_URBAN)
    assert dropped == {"maxheight 2.3 m < apparatus 3.2 m": 2}
    assert sorted((u, v) for u, v in H.edges()) == [(1, 2), (2, 3)]
    assert len(H) == len(G), "nodes are left for the connectivity filter"
    low = dataclasses.replace(CHINA_URBAN, apparatus_height_m=2.0)
    H2, dropped2 = apply_travel_model(G, low)
    assert dropped2 == {} and H2.number_of_edges() == 4


def test_zero_length_edge_still_has_positive_time():
    G = synthetic_chain([{"length": 0.0, "highway": "residential"}])
    H, _ = apply_travel_model(G, CHINA_URBAN)
    assert H.edges[0, 1, 0]["travel_s"] == MIN_TRAVEL_S > 0


def test_custom_model_defaults_match_the_documented_ones():
    model = TravelModel(name="custom", speeds_kph={"primary": 50.0}, fallback_speed_kph=25.0)
    assert (model.congestion_factor, model.respect_maxspeed, model.apparatus_height_m) == (1.0, True, 3.2)
    assert (model.signal_delay_s, model.uphill_penalty_per_grade) == (0.0, 0.0)
    assert model.as_dict()["speeds_kph"] == {"primary": 50.0}
