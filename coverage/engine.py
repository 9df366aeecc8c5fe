"""Network-distance engine: a CSR matrix built once, cutoff Dijkstra from stations to demand.

Points (stations, candidate sites, demand, hydrants) do not sit on graph nodes:
they are snapped to the nearest *road segment* and carry a fraction along it.
A fire engine leaves its station, so every search runs **from** the sources:
sources and targets are inserted as nodes into the CSR of their segments
(a vectorised split, milliseconds), and :func:`scipy.sparse.csgraph.dijkstra`
runs from the source nodes with a cutoff (C speed). Target times are then a
contiguous column slice, and runs along a segment shared by a source and a
target come out exactly, with no special case.

Travel time is taken as uniform along a segment (one speed per edge), so a
point at fraction ``f`` from ``u`` is ``f * travel_s(u→v)`` from ``u``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely import STRtree

from coverage.errors import InputError
from coverage.network.model import RoadNetwork

#: Snap distance (m) above which a point is reported: a station or site this far from
#: its access road is probably misplaced, and every time from it starts at the
#: nearest road point instead (an engine does not cross a park or a river bank).
SNAP_WARN_M = 100.0
#: Snap distance (m) above which a point is refused: almost certainly wrong
#: coordinates or CRS, and any coverage figure computed from it would be meaningless.
SNAP_MAX_M = 500.0

__all__ = [
    "RoadIndex",
    "Snap",
    "DueTimes",
    "AccessArcs",
    "build_index",
    "snap_points",
    "check_snap",
    "SNAP_WARN_M",
    "SNAP_MAX_M",
    "point_times",
    "travel_time_matrix",
    "due_times",
]

_PAIR_TOLERANCE_M = 0.5


@dataclass(frozen=True)
class RoadIndex:
    """The road graph as arrays: nodes, a CSR of travel seconds, and road segments.

    A *segment* is one physical road piece between two nodes, traversable in
    one or both directions. Two-way roads appear once, not twice.

    Attributes
    ----------
    crs : pyproj.CRS
        Metric CRS of all coordinates.
    node_ids : ndarray, shape (n,)
        Graph node keys, in CSR order.
    node_xy : ndarray, shape (n, 2)
        Node coordinates in ``crs`` (m).
    csr : scipy.sparse.csr_matrix, shape (n, n)
        Travel seconds between adjacent nodes (minimum over parallel edges).
    seg_u, seg_v : ndarray of int, shape (m,)
        CSR indices of each segment's ends; the geometry runs from ``seg_u`` to ``seg_v``.
    seg_fwd_s, seg_bwd_s : ndarray of float, shape (m,)
        Travel seconds u→v and v→u; ``inf`` where one-way rules forbid it.
    seg_length_m : ndarray of float, shape (m,)
        Segment length, m.
    seg_geometry : ndarray of shapely.LineString, shape (m,)
        Geometry in ``crs``, running u→v.
    seg_edge : ndarray of object, shape (m,)
        The ``(u, v, key)`` graph edge each segment was built from.
    seg_highway, seg_name : ndarray of str, shape (m,)
        Road class and name.
    seg_bridge, seg_tunnel : ndarray of bool, shape (m,)
        OSM ``bridge`` / ``tunnel`` flags.
    tree : shapely.STRtree
        Spatial index over ``seg_geometry``.
    """

    crs: pyproj.CRS
    node_ids: np.ndarray
    node_xy: np.ndarray
    csr: sp.csr_matrix
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_fwd_s: np.ndarray
    seg_bwd_s: np.ndarray
    seg_length_m: np.ndarray
    seg_geometry: np.ndarray
    seg_edge: np.ndarray
    seg_highway: np.ndarray
    seg_name: np.ndarray
    seg_bridge: np.ndarray
    seg_tunnel: np.ndarray
    tree: STRtree

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.node_ids)

    @property
    def n_segments(self) -> int:
        """Number of road segments."""
        return len(self.seg_u)


@dataclass(frozen=True)
class Snap:
    """Points placed on road segments.

    Attributes
    ----------
    seg : ndarray of int, shape (k,)
        Segment index of each point.
    frac : ndarray of float, shape (k,)
        Position along the segment geometry, 0 at ``seg_u``, 1 at ``seg_v``.
    dist_m : ndarray of float, shape (k,)
        Straight-line distance from the original point to the road, m.
    xy : ndarray, shape (k, 2)
        The snapped position in the index CRS.
    """

    seg: np.ndarray
    frac: np.ndarray
    dist_m: np.ndarray
    xy: np.ndarray

    def __len__(self) -> int:
        return len(self.seg)

    def take(self, idx: np.ndarray) -> Snap:
        """The subset of points at positions ``idx``."""
        idx = np.asarray(idx)
        return Snap(self.seg[idx], self.frac[idx], self.dist_m[idx], self.xy[idx])

    @staticmethod
    def concat(parts: list[Snap]) -> Snap:
        """Stack several snaps in order."""
        return Snap(
            np.concatenate([p.seg for p in parts]),
            np.concatenate([p.frac for p in parts]),
            np.concatenate([p.dist_m for p in parts]),
            np.concatenate([p.xy for p in parts]).reshape(-1, 2),
        )


@dataclass(frozen=True)
class DueTimes:
    """First- and second-due travel times for each target point.

    Attributes
    ----------
    first_s, second_s : ndarray of float, shape (T,)
        Travel seconds from the nearest and second-nearest source (``inf`` if none).
    first_idx, second_idx : ndarray of int, shape (T,)
        Source positions (``-1`` if none). Ties go to the lower source index.
    """

    first_s: np.ndarray
    first_idx: np.ndarray
    second_s: np.ndarray
    second_idx: np.ndarray


@dataclass(frozen=True)
class AccessArcs:
    """Targets off the road network, reached on foot from access points on it.

    A target (a land cell, a building) is reached by driving to one of its access
    points and walking the rest; its time is the minimum over its arcs of drive
    time + ``foot_s``. The engine inserts the access points as nodes on their
    segments and every target as a sink node fed by its arcs, so one cutoff
    Dijkstra per source gives the minimum with no Python loop.

    Attributes
    ----------
    points : Snap
        Access points on road segments (K).
    target : ndarray of int, shape (E,)
        Target of each arc.
    point : ndarray of int, shape (E,)
        Access point of each arc (index into ``points``).
    foot_s : ndarray of float, shape (E,)
        On-foot seconds from the access point to the target.
    n_targets : int
        Number of targets; one with no arc is unreachable (``inf``).
    """

    points: Snap
    target: np.ndarray
    point: np.ndarray
    foot_s: np.ndarray
    n_targets: int

    def __len__(self) -> int:
        return self.n_targets

    def take(self, idx: np.ndarray) -> AccessArcs:
        """The arcs of the targets at positions ``idx``, renumbered 0..len(idx)-1."""
        idx = np.asarray(idx, dtype=np.int64)
        new = np.full(self.n_targets, -1, dtype=np.int64)
        new[idx] = np.arange(len(idx))
        keep = new[self.target] >= 0
        used, point = np.unique(self.point[keep], return_inverse=True)
        return AccessArcs(self.points.take(used), new[self.target[keep]], point,
                          self.foot_s[keep], len(idx))


def build_index(network: RoadNetwork | nx.MultiDiGraph) -> RoadIndex:
    """Turn a projected road graph into a :class:`RoadIndex` (done once per graph).

    Parameters
    ----------
    network : RoadNetwork or networkx.MultiDiGraph
        A graph whose edges carry ``travel_s``, ``length`` and a ``geometry``
        running u→v in a metric CRS (see :class:`~coverage.network.model.RoadNetwork`).

    Returns
    -------
    RoadIndex
    """
    graph = network.graph if isinstance(network, RoadNetwork) else network
    crs = pyproj.CRS.from_user_input(graph.graph["crs"])
    node_ids = np.array(list(graph.nodes), dtype=object)
    pos = {n: i for i, n in enumerate(node_ids)}
    node_xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)

    edges = sorted(graph.edges(keys=True, data=True), key=lambda e: (pos[e[0]], pos[e[1]], str(e[2])))
    seg_u, seg_v, fwd, bwd, length, geom, edge_key, highway, name, bridge, tunnel = (
        [] for _ in range(11)
    )
    # A two-way road is two directed edges with reversed geometry; pair them into one
    # segment so a point on it is snapped once and can be left in either direction.
    awaiting_reverse: dict[tuple[int, int], list[int]] = {}
    for u, v, k, d in edges:
        iu, iv = pos[u], pos[v]
        pending = awaiting_reverse.get((iu, iv), [])
        match = next((s for s in pending if abs(length[s] - d["length"]) < _PAIR_TOLERANCE_M), None)
        if match is not None and iu != iv:
            pending.remove(match)
            bwd[match] = float(d["travel_s"])
            continue
        seg = len(seg_u)
        seg_u.append(iu)
        seg_v.append(iv)
        fwd.append(float(d["travel_s"]))
        bwd.append(np.inf)
        length.append(float(d["length"]))
        geom.append(d["geometry"])
        edge_key.append((u, v, k))
        highway.append(str(d.get("highway", "")))
        name.append(str(d.get("name", "") or ""))
        bridge.append(bool(d.get("bridge", False)))
        tunnel.append(bool(d.get("tunnel", False)))
        awaiting_reverse.setdefault((iv, iu), []).append(seg)

    n = len(node_ids)
    arc_u = np.concatenate([seg_u, seg_v]).astype(np.int64)
    arc_v = np.concatenate([seg_v, seg_u]).astype(np.int64)
    arc_w = np.concatenate([fwd, bwd])
    ok = np.isfinite(arc_w) & (arc_u != arc_v)
    csr = _min_csr(arc_u[ok], arc_v[ok], arc_w[ok], n)

    geometry = np.empty(len(geom), dtype=object)
    geometry[:] = geom
    keys = np.empty(len(edge_key), dtype=object)
    keys[:] = edge_key
    return RoadIndex(
        crs=crs,
        node_ids=node_ids,
        node_xy=node_xy,
        csr=csr,
        seg_u=np.asarray(seg_u, dtype=np.int64),
        seg_v=np.asarray(seg_v, dtype=np.int64),
        seg_fwd_s=np.asarray(fwd, dtype=float),
        seg_bwd_s=np.asarray(bwd, dtype=float),
        seg_length_m=np.asarray(length, dtype=float),
        seg_geometry=geometry,
        seg_edge=keys,
        seg_highway=np.asarray(highway, dtype=object),
        seg_name=np.asarray(name, dtype=object),
        seg_bridge=np.asarray(bridge, dtype=bool),
        seg_tunnel=np.asarray(tunnel, dtype=bool),
        tree=STRtree(geometry),
    )


def _min_csr(rows: np.ndarray, cols: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR keeping the smallest weight of duplicate (row, col) pairs.

    scipy sums duplicates on conversion, which would be wrong for parallel edges.
    """
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))


def snap_points(index: RoadIndex, xy: np.ndarray) -> Snap:
    """Snap points to the nearest road segment (not the nearest node).

    Parameters
    ----------
    index : RoadIndex
    xy : array-like, shape (k, 2)
        Point coordinates in ``index.crs`` (m).

    Returns
    -------
    Snap
        Segment, fraction along it, snap distance (m) and snapped position.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return Snap(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros((0, 2)))
    points = shapely.points(xy)
    (_, seg), dist = index.tree.query_nearest(points, return_distance=True, all_matches=False)
    # query_nearest returns input order for all_matches=False; keep it explicit.
    seg = np.asarray(seg, dtype=np.int64)
    lines = index.seg_geometry[seg]
    frac = np.clip(shapely.line_locate_point(lines, points, normalized=True), 0.0, 1.0)
    on_road = shapely.get_coordinates(shapely.line_interpolate_point(lines, frac, normalized=True))
    return Snap(seg=seg, frac=frac, dist_m=np.asarray(dist, dtype=float), xy=on_road)


def check_snap(
    index: RoadIndex,
    snap: Snap,
    labels: Sequence[str],
    *,
    what: str = "point",
    source: str = "layer",
    warn_m: float = SNAP_WARN_M,
    max_m: float = SNAP_MAX_M,
) -> None:
    """Warn about points far from any road, and refuse points much farther.

    Parameters
    ----------
    index : RoadIndex
    snap : Snap
        From :func:`snap_points`.
    labels : sequence of str
        How the user knows each point (id and name), in snap order.
    what : str
        The kind of point, for messages ("station", "candidate site").
    source : str
        File or layer name, for messages.
    warn_m, max_m : float
        Thresholds, m: warn above ``warn_m`` (default :data:`SNAP_WARN_M`), raise above
        ``max_m`` (default :data:`SNAP_MAX_M`).

    Raises
    ------
    InputError
        Naming each point beyond ``max_m``, its distance and the fix.

    Warns
    -----
    UserWarning
        Naming each point beyond ``warn_m``, its distance and the road it was snapped to.
    """
    dist = np.asarray(snap.dist_m, dtype=float)
    bad = np.flatnonzero(~np.isfinite(dist) | (dist > max_m))
    if bad.size:
        listed = "; ".join(f"{what} {labels[i]} is {dist[i]:.0f} m away" for i in bad[:5])
        raise InputError(
            f"{bad.size} {what}(s) lie more than {max_m:.0f} m from any road of the network "
            f"({listed}{' ...' if bad.size > 5 else ''}), so no travel time from them would mean "
            "anything",
            source=source,
            row=labels[bad[0]],
            fix="check the coordinates and their coordinate system (GCJ-02/BD-09 data needs "
            "--coord-system gcj02/bd09), or move the point to the gate on its access road",
        )
    far = np.flatnonzero(dist > warn_m)
    if far.size:
        names = index.seg_name[snap.seg[far]]
        listed = "; ".join(
            f"{what} {labels[i]}: {dist[i]:.0f} m, snapped to {_road_label(n)}"
            for i, n in zip(far[:5], names[:5], strict=True)
        )
        warnings.warn(
            f"{source}: {far.size} {what}(s) more than {warn_m:.0f} m from the nearest road; "
            f"times are measured from that road point ({listed}{' ...' if far.size > 5 else ''}). "
            "Check the position if the coverage looks too low",
            UserWarning,
            stacklevel=3,
        )


def _road_label(name: object) -> str:
    text = "" if name is None else str(name)
    return f"'{text}'" if text and text != "nan" else "an unnamed road"


def _split_csr(
    index: RoadIndex, points: list[Snap], extra: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None
) -> sp.csr_matrix:
    """The road graph with every point inserted as a node where it lies on its segment.

    Node ``index.n_nodes + k`` is the ``k``-th point of ``points`` concatenated.
    Each segment becomes a chain ``u → p1 → p2 → … → v`` (and back, where the
    segment is two-way) with travel time split in proportion to the fractions,
    so one Dijkstra from a source point gives exact times to every target point,
    including runs along a shared segment. ``extra`` = ``(rows, cols, seconds, n_more)``
    adds arcs between those nodes and ``n_more`` further nodes numbered after them.
    """
    n, m = index.n_nodes, index.n_segments
    seg = np.concatenate([np.arange(m)] + [p.seg for p in points] + [np.arange(m)])
    n_pts = len(seg) - 2 * m
    frac = np.concatenate([np.zeros(m)] + [p.frac for p in points] + [np.ones(m)])
    node = np.concatenate([index.seg_u, n + np.arange(n_pts), index.seg_v])
    # Segment ends bracket the points on them even at fractions of exactly 0 or 1.
    rank = np.concatenate([np.zeros(m), np.ones(n_pts), np.full(m, 2.0)])
    order = np.lexsort((rank, frac, seg))
    seg, frac, node = seg[order], frac[order], node[order]
    link = seg[1:] == seg[:-1]
    a, b, s = node[:-1][link], node[1:][link], seg[:-1][link]
    share = (frac[1:] - frac[:-1])[link]
    fwd, bwd = index.seg_fwd_s[s], index.seg_bwd_s[s]
    ok_f, ok_b = np.isfinite(fwd), np.isfinite(bwd)
    rows, cols = [a[ok_f], b[ok_b]], [b[ok_f], a[ok_b]]
    w = [share[ok_f] * fwd[ok_f], share[ok_b] * bwd[ok_b]]
    n_more = 0
    if extra is not None:
        rows.append(extra[0])
        cols.append(extra[1])
        w.append(extra[2])
        n_more = extra[3]
    return _min_csr(np.concatenate(rows), np.concatenate(cols), np.concatenate(w), n + n_pts + n_more)


def _target_graph(index: RoadIndex, src: Snap, dst: Snap | AccessArcs) -> tuple[sp.csr_matrix, int]:
    """The split graph for ``src`` → ``dst`` and the node number of the first target."""
    if isinstance(dst, Snap):
        return _split_csr(index, [src, dst]), index.n_nodes + len(src)
    first_point = index.n_nodes + len(src)
    first_target = first_point + len(dst.points)
    extra = (first_point + dst.point, first_target + dst.target, dst.foot_s, dst.n_targets)
    return _split_csr(index, [src, dst.points], extra), first_target


#: Dijkstra output held at once by :func:`_blocks`, in float64 values (256 MB).
BLOCK_VALUES = 32_000_000


def _blocks(index: RoadIndex, src: Snap, dst: Snap | AccessArcs, cutoff_s: float | None, chunk: int,
            sources: np.ndarray | None = None):
    """Yield ``(first_source, times)`` with ``times`` of shape (k, T), ``inf`` beyond the cutoff.

    ``sources`` (optional, sorted) limits the search to those source positions;
    ``first_source`` is then a position in ``sources``. SciPy's Dijkstra returns
    a dense row over every node of the split graph per source, so ``chunk`` is
    capped to keep that at :data:`BLOCK_VALUES` values.
    """
    graph, first_dst = _target_graph(index, src, dst)
    limit = np.inf if cutoff_s is None else float(cutoff_s)
    pos = np.arange(len(src)) if sources is None else np.asarray(sources, dtype=np.int64)
    chunk = max(1, min(chunk, BLOCK_VALUES // max(graph.shape[0], 1)))
    for start in range(0, len(pos), chunk):
        stop = min(start + chunk, len(pos))
        dist = dijkstra(graph, directed=True, indices=index.n_nodes + pos[start:stop], limit=limit)
        yield start, np.atleast_2d(dist)[:, first_dst : first_dst + len(dst)]


def point_times(
    index: RoadIndex,
    src: Snap,
    dst: Snap | AccessArcs,
    *,
    cutoff_s: float | None = None,
    chunk: int = 256,
) -> np.ndarray:
    """Dense travel seconds from every source to every target point.

    Parameters
    ----------
    index : RoadIndex
    src : Snap
        Sources (stations, candidate sites).
    dst : Snap or AccessArcs
        Targets: points on the roads, or targets reached on foot from access points.
    cutoff_s : float, optional
        Times above this are returned as ``inf``; also bounds the Dijkstra search.
    chunk : int
        Sources per Dijkstra call, bounding memory at ``chunk × (n + S + T)`` floats.

    Returns
    -------
    ndarray, shape (S, T)
    """
    out = np.full((len(src), len(dst)), np.inf)
    if len(src) and len(dst):
        for start, times in _blocks(index, src, dst, cutoff_s, chunk):
            out[start : start + len(times)] = times
    return out


def round_up_times(times: np.ndarray, resolution_s: float | None) -> np.ndarray:
    """Times rounded *up* to a multiple of ``resolution_s`` (None: unchanged).

    Rounding up never makes a site look closer than it is, and a time within a
    threshold that is itself a multiple of the resolution stays within it, so
    coverage (MCLP, LSCP) is unchanged; p-center and p-median values move by
    less than one resolution step per demand point. A relative tolerance of
    1e-9 keeps float noise (240.0000000001 s) from adding a whole step.
    """
    if resolution_s is None:
        return times
    r = float(resolution_s)
    return np.ceil(times / r - 1e-9) * r


def _stored(times: np.ndarray, dtype: type) -> np.ndarray:
    """Times in ``dtype``; narrowing rounds *up* (the next float32 at or above each time).

    Rounding up keeps every time at or above its true value, so a time within
    a threshold that the narrow type holds exactly (240 s) stays within it, and
    a time above it never drops inside.
    """
    out = times.astype(dtype)
    if out.dtype != times.dtype:
        low = out < times
        out[low] = np.nextafter(out[low], np.asarray(np.inf, dtype=out.dtype))
    return out


def travel_time_matrix(
    index: RoadIndex, src: Snap, dst: Snap | AccessArcs, *, cutoff_s: float, chunk: int = 256,
    anchors: int = 0, dtype: type = np.float64, resolution_s: float | None = None,
) -> sp.csr_matrix:
    """Sparse source × target travel seconds within a cutoff, ready for the MILP.

    Entries beyond ``cutoff_s`` are *absent*; a stored zero is a real zero time
    (a site exactly on a demand point). Transpose for a demand × candidate matrix.

    Parameters
    ----------
    index, src, dst
        The road index, the sources (stations, candidate sites) and the targets.
    cutoff_s : float
        Largest time kept (inclusive); also bounds every Dijkstra search.
    chunk : int
        Sources per Dijkstra call (capped so one call's output stays near
        :data:`BLOCK_VALUES` values).
    anchors : int
        The first ``anchors`` sources are stations open in every solution. For
        every other source, an entry *slower* than the target's nearest anchor
        is left out: the target is served at least as fast by an anchor, so no
        nearest-site model (coverage, p-center, p-median, district areas) can
        use it. Not for models that count second covers (backup coverage).
        Anchor rows keep all their entries within the cutoff.
    dtype : numpy dtype
        Dtype of the stored times. ``float32`` halves the matrix; each time is
        then rounded up to the next float32 (see :func:`_stored`), and times
        rounded to whole seconds are exact in it.
    resolution_s : float, optional
        Round every time up to a multiple of this (see :func:`round_up_times`).

    Returns
    -------
    scipy.sparse.csr_matrix, shape (S, T)
    """
    S, T = len(src), len(dst)
    counts = np.zeros(S, dtype=np.int64)
    cols, data = [np.zeros(0, np.int32)], [np.zeros(0, dtype)]
    limit = np.full(T, float(cutoff_s))
    anchors = int(min(max(anchors, 0), S))

    def keep(first: int, times: np.ndarray, bound: np.ndarray | float) -> None:
        times = round_up_times(times, resolution_s)
        r, c = np.nonzero(times <= bound)
        counts[first : first + len(times)] = np.bincount(r, minlength=len(times))
        cols.append(c.astype(np.int32))
        data.append(_stored(times[r, c], dtype))

    if S and T:
        if anchors:
            for start, times in _blocks(index, src, dst, cutoff_s, chunk, np.arange(anchors)):
                keep(start, times, float(cutoff_s))
                if data[-1].size:
                    np.minimum.at(limit, cols[-1], data[-1].astype(np.float64))
        rest = np.arange(anchors, S)
        if rest.size:
            for start, times in _blocks(index, src, dst, cutoff_s, chunk, rest):
                keep(anchors + start, times, limit[None, :])
    # nonzero() walks row-major and blocks come in source order: entries are in CSR order.
    indptr = np.zeros(S + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return sp.csr_matrix((np.concatenate(data), np.concatenate(cols), indptr), shape=(S, T))


def due_times(times: np.ndarray) -> DueTimes:
    """First- and second-due sources from a dense source × target time array.

    Parameters
    ----------
    times : ndarray, shape (S, T)
        As returned by :func:`point_times`.
    """
    times = np.atleast_2d(times)
    n_src, n_dst = times.shape
    cols = np.arange(n_dst)
    if n_src == 0:
        none = np.full(n_dst, np.inf), np.full(n_dst, -1)
        return DueTimes(none[0], none[1], none[0].copy(), none[1].copy())
    # A stable argsort gives ties to the lower source index, so results are deterministic.
    order = np.argsort(times, axis=0, kind="stable")
    first_idx = order[0]
    first_s = times[first_idx, cols]
    if n_src > 1:
        second_idx = order[1]
        second_s = times[second_idx, cols]
    else:
        second_idx = np.full(n_dst, -1)
        second_s = np.full(n_dst, np.inf)
    first_idx = np.where(np.isfinite(first_s), first_idx, -1)
    second_idx = np.where(np.isfinite(second_s), second_idx, -1)
    return DueTimes(first_s, first_idx, second_s, second_idx)
