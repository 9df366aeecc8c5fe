"""Normalising osmnx edge attributes to the :class:`~coverage.network.model.RoadNetwork`
contract: one type per attribute, present on every edge."""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import osmnx as ox
from shapely.geometry import LineString

from coverage.network.travel import most_important_highway, parse_length_m, tag_values

__all__ = ["TRAFFIC_SIGNALS", "normalise_edges", "simplify"]

TRAFFIC_SIGNALS = "traffic_signals"


def _first(values: list[Any]) -> Any:
    return values[0]


def simplify(G: nx.MultiDiGraph, sum_attrs: tuple[str, ...] = ()) -> nx.MultiDiGraph:
    """``ox.simplify_graph`` with signal counts and the first way id kept.

    Before merging, each raw edge of ``G`` gets ``signals`` = 1 if its head node is
    tagged ``highway=traffic_signals`` (set in place on ``G``, which is not copied
    first: it is a throw-away unsimplified graph); merged edges sum it, so signal
    nodes that simplification removes from the middle of a street still count.
    ``osmid`` becomes the id of the first way along the merged edge (u -> v).
    ``sum_attrs`` are further numeric edge attributes summed along merged edges
    (the walk model's stair counts).
    Topology is exactly that of ``ox.simplify_graph(G)``.
    """
    for _, v, data in G.edges(data=True):
        data["signals"] = int(G.nodes[v].get("highway") == TRAFFIC_SIGNALS)
    return ox.simplify_graph(
        G, edge_attr_aggs={"length": sum, "signals": sum, "osmid": _first,
                           **dict.fromkeys(sum_attrs, sum)}
    )


def _truthy(value: Any) -> bool:
    """OSM bridge/tunnel style tag: anything but absent or ``no`` means yes."""
    return any(v.lower() not in {"no", "false", "0"} for v in tag_values(value))


def _name(value: Any) -> str:
    if isinstance(value, (list, tuple, set)):
        return " / ".join(sorted({str(v).strip() for v in value if str(v).strip()}))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _lanes(value: Any) -> float:
    counts = []
    for v in tag_values(value):
        try:
            counts.append(float(v))
        except ValueError:
            continue
    counts = [c for c in counts if math.isfinite(c) and c > 0]
    return min(counts) if counts else math.nan


def _osmid(value: Any) -> int:
    if isinstance(value, (list, tuple)):
        value = min(value)  # only raw lists reach here: simplify() keeps the first way
    return int(value)


def normalise_edges(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Copy of ``G`` with the contract's edge attributes on every edge.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An osmnx graph in any CRS (node ``x``/``y`` in that CRS).

    Returns
    -------
    networkx.MultiDiGraph
        Every edge has ``length`` (float, m), ``geometry`` (straight u -> v
        LineString where osmnx had none), ``highway`` (the most important class
        of a merged list), ``name`` (``""`` if none; several joined with
        ``" / "``), ``osmid`` (int), ``bridge``/``tunnel`` (bool), ``width_m``
        (smallest parsed ``width``, m) and ``lanes`` (smallest parsed count),
        NaN where untagged, and ``signals`` (int). Raw OSM attributes such as
        ``maxspeed`` and ``maxheight`` are kept as osmnx gives them.
    """
    H = G.copy()
    for u, v, data in H.edges(data=True):
        if "geometry" not in data:
            nu, nv = H.nodes[u], H.nodes[v]
            data["geometry"] = LineString([(nu["x"], nu["y"]), (nv["x"], nv["y"])])
        width = parse_length_m(data.get("width"))
        data.update(
            length=float(data["length"]),
            highway=most_important_highway(data.get("highway")),
            name=_name(data.get("name")),
            osmid=_osmid(data["osmid"]),
            bridge=_truthy(data.get("bridge")),
            tunnel=_truthy(data.get("tunnel")),
            width_m=math.nan if width is None else float(width),
            lanes=_lanes(data.get("lanes")),
            signals=int(data.get("signals", 0)),
        )
    return H
