"""Road length within a hydrant's protection radius, measured two ways, exactly.

Coverage is computed as *intervals along road segments* (metres from the
segment's start), not at sample points, so the covered length is exact up to
floating point:

- **straight-line** (the literal reading of GB 50974-2014 §7.2.5): a road point
  is covered when a hydrant lies within the radius. Each straight piece of a
  segment's geometry meets the hydrant's circle in one interval (a quadratic).
- **network** (the hose-lay reading): the hose runs from the hydrant to its
  nearest road (the snap distance counts) and then along roads, on the
  undirected hose graph of :mod:`coverage.hydrants.roads`. Distances from the
  hydrant to every node within reach come from one Dijkstra; a segment ``u–v``
  of length ``L`` is then covered on ``[0, R − d(u)]`` and ``[L − (R − d(v)), L]``,
  plus the stretch around the hydrant on its own segment. That union is
  exactly the set of points within hose distance ``R``.

The network reading uses the drivable roads of the network only: footpaths and
stairs a crew might carry a hose along are not in it, so it can be stricter than
reality where such shortcuts exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from coverage.engine import Snap
from coverage.hydrants.roads import Roads, min_csr

__all__ = [
    "MEASURES",
    "CoverageResult",
    "Intervals",
    "complement",
    "district_shares",
    "euclidean_reach",
    "gap_lines",
    "intervals_cover",
    "network_reach",
    "road_coverage",
    "union",
]

MEASURES = ("euclidean", "network")
_EPS_M = 1e-6


@dataclass(frozen=True)
class Intervals:
    """Stretches of road segments, ``[start_m, end_m]`` metres from each segment's start.

    ``source`` is the hydrant or candidate each stretch is reached from (``-1``
    after :func:`union`, which merges sources).
    """

    seg: np.ndarray
    start_m: np.ndarray
    end_m: np.ndarray
    source: np.ndarray

    def __len__(self) -> int:
        return len(self.seg)

    @property
    def length_m(self) -> np.ndarray:
        """Length of each stretch, m."""
        return self.end_m - self.start_m

    @staticmethod
    def build(seg, start, end, source) -> Intervals:
        """Stretches from arrays, dropping those of zero length."""
        seg, start, end, source = (np.asarray(a) for a in (seg, start, end, source))
        keep = end - start > _EPS_M
        return Intervals(seg[keep].astype(np.int64), start[keep].astype(float),
                         end[keep].astype(float), source[keep].astype(np.int64))


def euclidean_reach(roads: Roads, xy: np.ndarray, radius_m: float) -> Intervals:
    """Stretches of road within ``radius_m`` straight-line distance of each point.

    Parameters
    ----------
    roads : Roads
    xy : ndarray, shape (k, 2)
        Hydrant (or candidate) positions in the network CRS, m.
    radius_m : float

    Returns
    -------
    Intervals
        One stretch per (point, straight piece of road) pair that meet; the
        stretches of one point along one segment may touch or overlap.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 0:
        return Intervals.build([], [], [], [])
    pt, piece = roads.piece_tree.query(shapely.points(xy), predicate="dwithin", distance=radius_m)
    a, b, length = roads.piece_a[piece], roads.piece_b[piece], roads.piece_len[piece]
    ok = length > 0
    pt, piece, a, b, length = pt[ok], piece[ok], a[ok], b[ok], length[ok]
    direction = (b - a) / length[:, None]
    rel = xy[pt] - a
    along = np.einsum("ij,ij->i", rel, direction)
    perp2 = np.einsum("ij,ij->i", rel, rel) - along**2
    half = np.sqrt(np.clip(radius_m**2 - perp2, 0.0, None))
    start = np.clip(along - half, 0.0, length) + roads.piece_offset[piece]
    end = np.clip(along + half, 0.0, length) + roads.piece_offset[piece]
    return Intervals.build(roads.piece_seg[piece], start, end, pt)


def _incidence(roads: Roads) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each node, the segments that start (side 0) or end (side 1) there."""
    idx = roads.index
    m = idx.n_segments
    node = np.concatenate([idx.seg_u, idx.seg_v])
    seg = np.concatenate([np.arange(m), np.arange(m)])
    side = np.concatenate([np.zeros(m, np.int8), np.ones(m, np.int8)])
    order = np.argsort(node, kind="stable")
    ptr = np.searchsorted(node[order], np.arange(idx.n_nodes + 1))
    return ptr, seg[order], side[order]


def network_reach(
    roads: Roads, snap: Snap, radius_m: float, *, chunk: int = 512
) -> Intervals:
    """Stretches of road within ``radius_m`` hose-lay distance of each snapped point.

    The hose length is the point's snap distance (``snap.dist_m``) plus the
    distance along the undirected hose graph.

    Parameters
    ----------
    roads : Roads
    snap : Snap
        The points on the road segments (:func:`coverage.engine.snap_points`).
    radius_m : float
    chunk : int
        Points per Dijkstra call, bounding memory at ``chunk × nodes`` floats.

    Returns
    -------
    Intervals
    """
    n = roads.index.n_nodes
    seg_u, seg_v = roads.index.seg_u, roads.index.seg_v
    length = roads.length_m
    residual = radius_m - snap.dist_m
    pos = snap.frac * length[snap.seg]
    ptr, inc_seg, inc_side = _incidence(roads)
    base = roads.hose_csr.tocoo()
    parts: list[tuple[np.ndarray, ...]] = []

    # The stretch around each point on its own segment.
    parts.append((snap.seg, np.maximum(pos - residual, 0.0),
                  np.minimum(pos + residual, length[snap.seg]), np.arange(len(snap))))

    for start in range(0, len(snap), chunk):
        src = np.arange(start, min(start + chunk, len(snap)))
        src = src[residual[src] >= 0]
        if len(src) == 0:
            continue
        k = len(src)
        virtual = n + np.arange(k)
        s = snap.seg[src]
        rows = np.concatenate([base.row, virtual, virtual])
        cols = np.concatenate([base.col, seg_u[s], seg_v[s]])
        w = np.concatenate([base.data, pos[src], length[s] - pos[src]])
        graph = min_csr(rows, cols, w, n + k)
        dist = dijkstra(graph, directed=True, indices=virtual, limit=float(residual[src].max()))
        dist = np.atleast_2d(dist)[:, :n]
        which, node = np.nonzero(dist <= residual[src][:, None])
        remaining = residual[src][which] - dist[which, node]
        # Expand each reached node to the segments that meet there.
        count = ptr[node + 1] - ptr[node]
        rep = np.repeat(np.arange(len(node)), count)
        at = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        flat = ptr[node][rep] + at
        seg, side, rem = inc_seg[flat], inc_side[flat], remaining[rep]
        seg_len = length[seg]
        lo = np.where(side == 0, 0.0, np.maximum(seg_len - rem, 0.0))
        hi = np.where(side == 0, np.minimum(rem, seg_len), seg_len)
        parts.append((seg, lo, hi, src[which][rep]))
    seg, lo, hi, source = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Intervals.build(seg, lo, hi, source)


def union(iv: Intervals) -> Intervals:
    """Merge overlapping or touching stretches per segment (``source = -1``)."""
    if len(iv) == 0:
        return iv
    order = np.lexsort((iv.start_m, iv.seg))
    seg, start, end = iv.seg[order], iv.start_m[order], iv.end_m[order]
    # Running maximum of the end within each segment: a new run starts where a
    # stretch begins beyond everything before it on the same segment.
    new_seg = np.ones(len(seg), dtype=bool)
    new_seg[1:] = seg[1:] != seg[:-1]
    group = np.cumsum(new_seg) - 1
    offset = group * (float(end.max()) + 1.0)
    reach = np.maximum.accumulate(end + offset) - offset
    starts_run = new_seg.copy()
    starts_run[1:] |= start[1:] > reach[:-1] + _EPS_M
    first = np.flatnonzero(starts_run)
    last = np.r_[first[1:], len(seg)] - 1
    return Intervals(seg[first], start[first], reach[last], np.full(len(first), -1, np.int64))


def complement(roads: Roads, covered: Intervals) -> Intervals:
    """The stretches of every segment not in ``covered`` (which must be a :func:`union`)."""
    m = roads.n_segments
    length = roads.length_m
    has = np.zeros(m, dtype=bool)
    has[covered.seg] = True
    segs = [np.flatnonzero(~has)]
    lo = [np.zeros(len(segs[0]))]
    hi = [length[segs[0]]]
    if len(covered):
        first = np.ones(len(covered), dtype=bool)
        first[1:] = covered.seg[1:] != covered.seg[:-1]
        last = np.r_[first[1:], True]
        segs += [covered.seg[first], covered.seg[last]]
        lo += [np.zeros(first.sum()), covered.end_m[last]]
        hi += [covered.start_m[first], length[covered.seg[last]]]
        inner = ~last
        segs.append(covered.seg[inner])
        lo.append(covered.end_m[inner])
        hi.append(covered.start_m[np.flatnonzero(inner) + 1])
    seg = np.concatenate(segs)
    return union(Intervals.build(seg, np.concatenate(lo), np.concatenate(hi),
                                 np.full(len(seg), -1)))


def intervals_cover(covered: Intervals, seg: np.ndarray, pos_m: np.ndarray) -> np.ndarray:
    """Whether each position (segment, metres along it) lies in a stretch of ``covered``.

    ``covered`` must come from :func:`union` (sorted and disjoint per segment).
    """
    seg, pos_m = np.asarray(seg, dtype=np.int64), np.asarray(pos_m, dtype=float)
    if len(covered) == 0:
        return np.zeros(len(seg), dtype=bool)
    scale = float(covered.end_m.max()) + 1.0
    keys = covered.seg * scale + covered.start_m
    i = np.searchsorted(keys, seg * scale + pos_m + _EPS_M, side="right") - 1
    ok = i >= 0
    i = np.maximum(i, 0)
    return ok & (covered.seg[i] == seg) & (covered.end_m[i] >= pos_m - _EPS_M)


def gap_lines(roads: Roads, gaps: Intervals, *, measure: str) -> gpd.GeoDataFrame:
    """Uncovered stretches as lines clipped to the assessed area.

    Returns
    -------
    GeoDataFrame
        Network CRS; ``measure``, ``seg``, ``highway``, ``name``, ``osmid``,
        ``from_m``/``to_m`` (along the segment) and ``length_m`` (inside the
        area), one row per stretch with some length inside the area.
    """
    geoms = roads.index.seg_geometry
    lines = np.array(
        [substring(geoms[s], a, b) for s, a, b in zip(gaps.seg, gaps.start_m, gaps.end_m,
                                                      strict=True)],
        dtype=object,
    )
    clipped = shapely.intersection(lines, roads.area) if len(lines) else lines
    inside = shapely.length(clipped) if len(lines) else np.zeros(0)
    keep = inside > _EPS_M
    seg = gaps.seg[keep]
    return gpd.GeoDataFrame(
        {
            "measure": measure,
            "seg": seg,
            "highway": roads.index.seg_highway[seg],
            "name": roads.index.seg_name[seg],
            "osmid": roads.osmid[seg],
            "from_m": gaps.start_m[keep],
            "to_m": gaps.end_m[keep],
            "length_m": inside[keep],
        },
        geometry=list(clipped[keep]),
        crs=roads.index.crs,
    )


@dataclass(frozen=True)
class CoverageResult:
    """Road coverage by hydrants under one measure.

    Attributes
    ----------
    measure : {"euclidean", "network"}
    radius_m : float
    covered : Intervals
        Covered stretches (a :func:`union`), on the whole network.
    gaps : GeoDataFrame
        Uncovered stretches inside the area (:func:`gap_lines`).
    road_m, covered_m : float
        Road length inside the area, and the covered part of it, m.
    by_class : DataFrame
        Per OSM ``highway`` class: ``highway``, ``road_m``, ``covered_m``, ``share``.
    """

    measure: str
    radius_m: float
    covered: Intervals
    gaps: gpd.GeoDataFrame
    road_m: float
    covered_m: float
    by_class: pd.DataFrame

    @property
    def share(self) -> float | None:
        """Covered share of road length inside the area (None without roads)."""
        return self.covered_m / self.road_m if self.road_m > 0 else None


def road_coverage(
    roads: Roads, xy: np.ndarray, snap: Snap, *, measure: str, radius_m: float
) -> CoverageResult:
    """Share of road length within ``radius_m`` of a hydrant, by one measure.

    Parameters
    ----------
    roads : Roads
    xy : ndarray, shape (k, 2)
        Hydrant positions in the network CRS (for the straight-line measure).
    snap : Snap
        The same hydrants on the road network (for the network measure).
    measure : {"euclidean", "network"}
    radius_m : float
        Protection radius, m (GB 50974-2014 §7.2.5: 150 m).

    Returns
    -------
    CoverageResult
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    reach = (euclidean_reach(roads, xy, radius_m) if measure == "euclidean"
             else network_reach(roads, snap, radius_m))
    covered = union(reach)
    gaps = gap_lines(roads, complement(roads, covered), measure=measure)
    frame = pd.DataFrame({"highway": roads.index.seg_highway, "road_m": roads.inside_m})
    gap_m = gaps.groupby("highway")["length_m"].sum()
    by_class = frame.groupby("highway", as_index=False)["road_m"].sum()
    by_class = by_class[by_class["road_m"] > 0].reset_index(drop=True)
    by_class["covered_m"] = by_class["road_m"] - by_class["highway"].map(gap_m).fillna(0.0)
    by_class["share"] = by_class["covered_m"] / by_class["road_m"]
    road_m = roads.road_m
    return CoverageResult(
        measure=measure,
        radius_m=float(radius_m),
        covered=covered,
        gaps=gaps,
        road_m=road_m,
        covered_m=road_m - float(gaps["length_m"].sum()),
        by_class=by_class.sort_values("road_m", ascending=False, ignore_index=True),
    )


def district_shares(
    roads: Roads, result: CoverageResult, districts: gpd.GeoDataFrame, *, key: str
) -> pd.DataFrame:
    """Covered share of road length inside each district polygon.

    Parameters
    ----------
    roads : Roads
    result : CoverageResult
    districts : GeoDataFrame
        Polygons in the network CRS with a ``key`` column.
    key : str
        Column naming each district (e.g. ``station_id``).

    Returns
    -------
    DataFrame
        ``key``, ``road_m``, ``covered_m``, ``share`` (None without roads).
    """
    rows = []
    roads_in_area = shapely.intersection(roads.index.seg_geometry, roads.area)
    for name, poly in zip(districts[key], districts.geometry, strict=True):
        road_m = float(shapely.length(shapely.intersection(roads_in_area, poly)).sum())
        gap_m = float(shapely.length(shapely.intersection(result.gaps.geometry.values, poly)).sum())
        rows.append({key: name, "road_m": road_m, "covered_m": road_m - gap_m,
                     "share": (road_m - gap_m) / road_m if road_m > 0 else None})
    return pd.DataFrame(rows, columns=[key, "road_m", "covered_m", "share"])
