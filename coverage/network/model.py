"""The road network handed from the OSM side to everything below it.

Nothing downstream of :class:`RoadNetwork` reads OSM tags except through the
normalised edge attributes documented here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import networkx as nx
import pyproj
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class NetworkReport:
    """What went into the graph and what was dropped, and why.

    Attributes
    ----------
    source : str
        The OSM file, place name, polygon or bbox the graph came from.
    nodes_in, edges_in : int
        Size of the graph osmnx built, before the travel model and the
        connectivity filter.
    dropped_edges : dict[str, int]
        Edges removed, per reason (for example ``"maxheight 2.3 m < apparatus 3.2 m"``
        or ``"outside largest strongly connected component"``).
    dropped_nodes : dict[str, int]
        Nodes removed, per reason.
    nodes, edges : int
        Size of the final graph.
    crs : str
        The metric CRS the graph is projected to.
    from_cache : bool
        True when the graph was read from the cache instead of parsed from OSM.
    """

    source: str
    nodes_in: int
    edges_in: int
    dropped_edges: dict[str, int]
    dropped_nodes: dict[str, int]
    nodes: int
    edges: int
    crs: str
    from_cache: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form, for ``summary.json``."""
        return asdict(self)


@dataclass(frozen=True)
class RoadNetwork:
    """A routable emergency-vehicle road network in a metric CRS.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The largest strongly connected component, projected to ``crs``.
        Node attributes: ``x``, ``y`` (metres in ``crs``), ``lon``, ``lat``
        (WGS84 degrees), optional ``elevation`` (m) and ``highway``.
        Edge attributes, present on every edge:

        - ``length`` (m) and ``travel_s`` (s, > 0);
        - ``geometry``: a LineString in ``crs`` running from ``u`` to ``v``;
        - ``highway`` (one string, e.g. ``"primary"``), ``name`` (str, may be ``""``);
        - ``osmid`` (int, first OSM way id), ``speed_kph`` (float);
        - ``bridge`` and ``tunnel`` (bool), ``width_m`` and ``lanes`` (float, NaN
          where untagged).
    crs : pyproj.CRS
        The metric CRS of the graph (local UTM by default).
    study_area : shapely geometry
        The district boundary plus its buffer, in ``crs``. Demand and layers
        are checked against it.
    boundary : shapely geometry or None
        The district itself, in ``crs``; districts and areas are clipped to it.
    report : NetworkReport
        What was dropped and why.
    travel_model : object
        The :class:`~coverage.network.travel.TravelModel` that set ``travel_s``.
    """

    graph: nx.MultiDiGraph
    crs: pyproj.CRS
    study_area: BaseGeometry
    boundary: BaseGeometry | None
    report: NetworkReport
    travel_model: Any = field(default=None)


@dataclass(frozen=True)
class NetworkProfile:
    """Who travels the network: which OSM ways to read and how to time them.

    :func:`~coverage.network.load_network` builds the fire-engine profile from a
    :class:`~coverage.network.travel.TravelModel`; a travel model with a
    ``network_profile()`` method (the walk model,
    :class:`~coverage.network.walk.WalkModel`) supplies its own.

    Attributes
    ----------
    name : str
        ``"drive"`` or ``"walk"``; part of the cache key.
    way_filter : object
        A :class:`~coverage.network.osm.WayFilter`.
    bidirectional : bool
        Both directions of one-way ways (True for walking).
    what : str
        What the filter keeps, for "the file has no ..." errors.
    prepare : callable or None
        ``prepare(G)`` on the raw unsimplified graph (WGS84, osmnx ``reversed``
        and ``length`` on edges), before simplification; sets per-edge counts.
    sum_attrs : tuple of str
        Edge attributes ``prepare`` sets, summed when edges are merged.
    apply : callable
        ``apply(G) -> (G, dropped)``: sets ``travel_s`` and ``speed_kph`` and
        removes impassable edges, counting them per reason.
    """

    name: str
    way_filter: Any
    bidirectional: bool
    what: str
    prepare: Callable[[nx.MultiDiGraph], nx.MultiDiGraph] | None
    sum_attrs: tuple[str, ...]
    apply: Callable[[nx.MultiDiGraph], tuple[nx.MultiDiGraph, dict[str, int]]]
