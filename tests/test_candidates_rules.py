"""Named site rules for default candidates (both directions, no bridges/tunnels/ramps) on Yuzhong."""

from __future__ import annotations

import networkx as nx
import pytest

from coverage.candidates import SITE_RULES, network_candidates


@pytest.fixture(scope="module")
def split(yuzhong_network):
    return network_candidates(yuzhong_network, return_rejected=True)


def test_kept_sites_can_leave_both_ways_off_ramps_and_bridges(split, yuzhong_network):
    kept, _ = split
    g = yuzhong_network.graph
    main = max(nx.strongly_connected_components(g), key=len)
    assert len(kept) > 20 and (kept["excluded_by"] == "").all()
    for node in kept["node"]:
        assert node in main
        assert any(g.has_edge(v, u) for u, v in g.out_edges(node))
        classes = {d.get("highway") for _, _, d in g.edges(node, data=True)}
        classes |= {d.get("highway") for _, _, d in g.in_edges(node, data=True)}
        assert not any(str(c).endswith("_link") or c == "motorway" for c in classes)
        edges = list(g.edges(node, data=True)) + list(g.in_edges(node, data=True))
        assert not any(d.get("bridge") or d.get("tunnel") for _, _, d in edges)


def test_every_removed_site_names_a_rule_it_breaks(split, yuzhong_network):
    _, rejected = split
    g = yuzhong_network.graph
    assert set(rejected["excluded_by"]) <= set(SITE_RULES) and len(rejected) > 0
    for row in rejected.itertuples():
        edges = list(g.out_edges(row.node, data=True)) + list(g.in_edges(row.node, data=True))
        if row.excluded_by == "ramp":
            assert any(str(d.get("highway")).endswith("_link") or d.get("highway") == "motorway"
                       for _, _, d in edges)
        elif row.excluded_by == "one_way":
            assert not any(g.has_edge(v, u) for u, v in g.out_edges(row.node))
        elif row.excluded_by == "bridge_or_tunnel":
            assert any(d.get("bridge") or d.get("tunnel") for _, _, d in edges)
