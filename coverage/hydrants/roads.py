"""The roads hydrants are checked against, and the graph a hose is laid along.

Hydrant rules are about *distance*, and a hose is laid on foot: one-way rules
and height limits do not apply to it. So the hose-lay graph is the road network
made undirected, each segment weighted by the planar length of its geometry in
the network's metric CRS. The same lengths measure positions along segments, so
network distances, covered intervals and straight-line intervals are all in
one unit system.

The segments are those of :func:`coverage.engine.build_index` (a two-way road
is one segment), so points snapped once serve every check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from coverage.engine import RoadIndex, build_index
from coverage.errors import InputError
from coverage.network.model import RoadNetwork

__all__ = ["LANE_WIDTH_M", "Roads", "min_csr", "road_set"]

#: Width assumed per lane where OSM gives ``lanes`` but no ``width``, m (CJJ 37-2012
#: Table 5.3.2: 3.5 m for a mixed-traffic lane at a design speed of 60 km/h or less).
LANE_WIDTH_M = 3.5


@dataclass(frozen=True)
class Roads:
    """Road segments with their attributes, the area assessed, and the hose graph.

    Attributes
    ----------
    index : RoadIndex
        The engine's index of the network (segments, geometry, spatial tree).
    area : shapely geometry
        The area assessed, in ``index.crs``: the district boundary, else the
        network's study area.
    length_m : ndarray, shape (m,)
        Planar length of each segment's geometry, m.
    inside_m : ndarray, shape (m,)
        Length of each segment inside ``area``, m.
    osmid : ndarray of int, shape (m,)
        First OSM way id of each segment.
    width_m : ndarray, shape (m,)
        Carriageway width: OSM ``width``, else ``lanes`` × :data:`LANE_WIDTH_M`,
        else NaN.
    width_basis : ndarray of str, shape (m,)
        ``"width"``, ``"lanes"`` or ``""`` (cannot be judged).
    bridge, tunnel : ndarray of bool, shape (m,)
    hose_csr : scipy.sparse.csr_matrix, shape (n, n)
        Undirected hose-lay graph between the index's nodes, metres.
    piece_seg, piece_a, piece_b, piece_offset, piece_len : ndarray
        The straight pieces of every segment's geometry: segment, start and end
        point (k, 2), distance of the start from the segment's start, length.
    piece_tree : shapely.STRtree
        Spatial index over the pieces.
    """

    index: RoadIndex
    area: BaseGeometry
    length_m: np.ndarray
    inside_m: np.ndarray
    osmid: np.ndarray
    width_m: np.ndarray
    width_basis: np.ndarray
    bridge: np.ndarray
    tunnel: np.ndarray
    hose_csr: sp.csr_matrix
    piece_seg: np.ndarray
    piece_a: np.ndarray
    piece_b: np.ndarray
    piece_offset: np.ndarray
    piece_len: np.ndarray
    piece_tree: STRtree

    @property
    def n_segments(self) -> int:
        """Number of road segments."""
        return self.index.n_segments

    @property
    def road_m(self) -> float:
        """Road length inside the area, m."""
        return float(self.inside_m.sum())


def min_csr(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """An (n, n) CSR keeping the smallest weight of duplicate (row, col) pairs.

    scipy sums duplicates on conversion, which would be wrong for parallel roads.
    """
    key = rows.astype(np.int64) * n + cols.astype(np.int64)
    uniq, inverse = np.unique(key, return_inverse=True)
    best = np.full(len(uniq), np.inf)
    np.minimum.at(best, inverse, w)
    return sp.csr_matrix((best, (uniq // n, uniq % n)), shape=(n, n))


def _edge_attr(network: RoadNetwork, index: RoadIndex, name: str, default: object) -> np.ndarray:
    graph = network.graph
    return np.array([graph.edges[e].get(name, default) for e in index.seg_edge])


def _pieces(geoms: np.ndarray) -> tuple[np.ndarray, ...]:
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    same = owner[1:] == owner[:-1]
    a, b, seg = coords[:-1][same], coords[1:][same], owner[:-1][same]
    length = np.hypot(*(b - a).T)
    # Distance of each piece's start from its segment's start: a cumulative sum
    # restarted at every segment.
    total = np.cumsum(length) - length
    first = np.ones(len(seg), dtype=bool)
    first[1:] = seg[1:] != seg[:-1]
    offset = total - np.maximum.accumulate(np.where(first, total, 0.0))
    return seg, a, b, offset, length


def road_set(
    network: RoadNetwork, *, index: RoadIndex | None = None, area: BaseGeometry | None = None
) -> Roads:
    """Collect what the hydrant checks need from a road network.

    Parameters
    ----------
    network : RoadNetwork
        From :func:`coverage.network.load_network`.
    index : RoadIndex, optional
        Reuse an index already built for ``network``.
    area : shapely geometry, optional
        The area assessed, in ``network.crs``; default the district boundary,
        else the study area.

    Returns
    -------
    Roads
    """
    index = index or build_index(network)
    if area is None:
        area = network.boundary if network.boundary is not None else network.study_area
    if area.is_empty or area.area <= 0:
        raise InputError(
            f"the area to assess has no extent (a {area.geom_type}): the roads all lie on "
            "one line", source=network.report.source,
            fix="pass the district boundary (--boundary FILE)")
    geoms = index.seg_geometry
    length = shapely.length(geoms)
    inside = shapely.length(shapely.intersection(geoms, area))

    width = _edge_attr(network, index, "width_m", np.nan).astype(float)
    lanes = _edge_attr(network, index, "lanes", np.nan).astype(float)
    by_lanes = lanes * LANE_WIDTH_M
    basis = np.where(np.isfinite(width), "width", np.where(np.isfinite(by_lanes), "lanes", ""))
    width = np.where(np.isfinite(width), width, by_lanes)

    loop = index.seg_u == index.seg_v
    u, v, w = index.seg_u[~loop], index.seg_v[~loop], length[~loop]
    hose = min_csr(np.concatenate([u, v]), np.concatenate([v, u]), np.concatenate([w, w]),
                   index.n_nodes)
    seg, a, b, offset, plen = _pieces(geoms)
    return Roads(
        index=index,
        area=area,
        length_m=length,
        inside_m=inside,
        osmid=_edge_attr(network, index, "osmid", -1).astype(np.int64),
        width_m=width,
        width_basis=basis.astype(object),
        bridge=_edge_attr(network, index, "bridge", False).astype(bool),
        tunnel=_edge_attr(network, index, "tunnel", False).astype(bool),
        hose_csr=hose,
        piece_seg=seg,
        piece_a=a,
        piece_b=b,
        piece_offset=offset,
        piece_len=plen,
        piece_tree=STRtree(shapely.linestrings(np.stack([a, b], axis=1))),
    )
