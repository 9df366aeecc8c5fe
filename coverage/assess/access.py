"""Access: how a crew reaches a demand location from the road network.

A fire engine does not drive *to* a point of land or into a building: it stops on
a drivable road near it and the crew lays hose or walks the rest. A demand
location's time is therefore

    min over its access points a of ( drive time to a + on-foot distance(a) / walking speed )

where the access points are the nearest points of every drivable road within
``access_m``, plus the nearest road if only that one lies within the hose length.
Both carriageways of a dual carriageway are such roads, so a point on one
carriageway is never worse than its twin by more than the time to cross on foot.
A location with no drivable road within ``hose_m`` has *no vehicle access*
(车进不去): its time is ``inf``.

The engine (:class:`~coverage.engine.AccessArcs`) inserts every access point on
its segment and every location as a sink node fed by its arcs, so the minimum
comes out of the same cutoff Dijkstra as everything else.

``access="snap"`` keeps the old behaviour: every location is snapped to its single
nearest road segment and the on-foot part is ignored (what you want only when
demand means "every point on every carriageway").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

from coverage.engine import AccessArcs, RoadIndex, Snap
from coverage.errors import InputError

__all__ = [
    "AccessRule",
    "DEFAULT_ACCESS",
    "ACCESS_DISTANCE_M",
    "HOSE_LENGTH_M",
    "WALK_SPEED_MPS",
    "access_arcs",
]

#: Roads within this distance of a location are all candidate access points, m.
#: GB 50016-2014 §7.1.1: 街区内的道路应考虑消防车的通行，道路中心线间的距离不宜大于160 m,
#: so every point of a block laid out to the code lies within 80 m of a fire lane.
ACCESS_DISTANCE_M = 80.0
#: Longest hose lay from an engine, m: the 150 m behind GB 50974-2014 §7.2.5 / §7.3.3
#: (a hydrant protects 150 m: the hose an engine company lays from it) and the
#: 150 m fire-lane reach of GB 51080-2015 planning. Beyond it a location has no vehicle access.
HOSE_LENGTH_M = 150.0
#: A crew on foot carrying hose and tools, m/s. An assumption (no standard gives one):
#: set your own from drills; 1.0 m/s is a brisk walk under load on Yuzhong's steps and slopes.
WALK_SPEED_MPS = 1.0
#: OSM road classes an engine cannot stop on to work (no pavement, no stopping).
NO_STOPPING_CLASSES = ("motorway", "motorway_link", "trunk_link")


@dataclass(frozen=True)
class AccessRule:
    """Named parameters of the access rule (see the module docstring for sources).

    Attributes
    ----------
    access_m : float
        Every drivable road within this straight-line distance is an access point, m.
    hose_m : float
        Farthest on-foot distance from an access point, m; beyond it, no vehicle access.
    walk_mps : float
        On-foot speed, m/s.
    max_points : int
        Most access points kept per location (the nearest ones), bounding memory.
    point_spacing_m : float
        Access points on one segment closer than this are merged (their times differ
        by under ``point_spacing_m`` of driving), m.
    surface_only : bool
        Bridges, tunnels and roads in :data:`NO_STOPPING_CLASSES` are not access
        points for land and buildings: nobody reaches the ground beside a tunnel or
        under a viaduct from it. A road sample is always reached from its own road.
    """

    access_m: float = ACCESS_DISTANCE_M
    hose_m: float = HOSE_LENGTH_M
    walk_mps: float = WALK_SPEED_MPS
    max_points: int = 16
    point_spacing_m: float = 5.0
    surface_only: bool = True

    def __post_init__(self):
        for name in ("access_m", "hose_m", "walk_mps", "point_spacing_m"):
            if not getattr(self, name) > 0:
                raise InputError(f"access rule: {name} must be positive, got {getattr(self, name)}",
                                 fix=f"give a positive {name}")
        if self.max_points < 1:
            raise InputError("access rule: max_points must be at least 1", fix="use e.g. 16")

    def as_dict(self) -> dict:
        """The rule's parameters with their sources, for ``summary.json``."""
        return {
            "mode": "access points",
            "access_m": self.access_m,
            "hose_m": self.hose_m,
            "walk_mps": self.walk_mps,
            "max_points": self.max_points,
            "surface_only": self.surface_only,
            "sources": {
                "access_m": "GB 50016-2014 §7.1.1 (fire-lane centre lines ≤ 160 m apart)",
                "hose_m": "GB 50974-2014 (150 m hose lay / hydrant protection radius)",
                "walk_mps": "assumption: crew on foot under load",
            },
        }


DEFAULT_ACCESS = AccessRule()


def _eligible(index: RoadIndex, rule: AccessRule) -> np.ndarray:
    if not rule.surface_only:
        return np.arange(index.n_segments)
    bad = index.seg_bridge | index.seg_tunnel | np.isin(index.seg_highway, NO_STOPPING_CLASSES)
    ok = np.flatnonzero(~bad)
    return ok if len(ok) else np.arange(index.n_segments)


#: Locations searched at a time (bounds the memory of the candidate pairs).
_CHUNK = 200_000


def _within(tree: STRtree, geoms: np.ndarray, pts: np.ndarray, xy: np.ndarray, sub: np.ndarray,
            radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(location, tree item, distance) of every pair within ``radius``: one bulk envelope query
    of squares around the locations, then exact distances on the candidate pairs only."""
    if len(sub) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    x, y = xy[sub, 0], xy[sub, 1]
    local, item = tree.query(shapely.box(x - radius, y - radius, x + radius, y + radius))
    loc = sub[local]
    dist = shapely.distance(pts[loc], geoms[item])
    keep = dist <= radius
    return loc[keep], item[keep], dist[keep]


def _nearest_roads(
    index: RoadIndex, pts: np.ndarray, who: np.ndarray, segs: np.ndarray, rule: AccessRule
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(location, segment, distance) of the nearest ``rule.max_points`` roads among ``segs``
    within ``access_m`` of each location in ``who`` (or its nearest road within the hose length).

    Bulk shapely 2 calls, no per-location loop: roads within ``access_m`` of every location
    first; then, for the locations with none, roads within the hose length, of which the
    nearest (and any tied with it) are kept. Land far from every road costs one empty
    envelope query (no unbounded nearest-neighbour search).
    """
    geoms = index.seg_geometry[segs]
    tree = STRtree(geoms)
    parts = []
    for start in range(0, len(who), _CHUNK):
        chunk = who[start:start + _CHUNK]
        cpts = pts[chunk]
        xy = shapely.get_coordinates(cpts)
        t1, s1, d1 = _within(tree, geoms, cpts, xy, np.arange(len(chunk)), rule.access_m)
        far = np.ones(len(chunk), dtype=bool)
        far[t1] = False
        t2, s2, d2 = _within(tree, geoms, cpts, xy, np.flatnonzero(far), rule.hose_m)
        if len(t2):
            # Nothing within access_m: only the nearest road within the hose length serves.
            d0 = np.full(len(chunk), np.inf)
            np.minimum.at(d0, t2, d2)
            near = d2 <= d0[t2] + 1e-6
            t2, s2, d2 = t2[near], s2[near], d2[near]
        parts.append((chunk[np.concatenate([t1, t2])], segs[np.concatenate([s1, s2])],
                      np.concatenate([d1, d2])))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    target, seg, dist = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.lexsort((dist, target))
    target, seg, dist = target[order], seg[order], dist[order]
    rank = np.arange(len(target)) - np.searchsorted(target, target, side="left")
    keep = rank < rule.max_points
    return target[keep], seg[keep], dist[keep]


def access_arcs(
    index: RoadIndex,
    xy: np.ndarray,
    rule: AccessRule = DEFAULT_ACCESS,
    *,
    own: Snap | None = None,
) -> AccessArcs:
    """Access points and on-foot times for demand locations.

    Parameters
    ----------
    index : RoadIndex
    xy : ndarray, shape (T, 2)
        Demand locations in ``index.crs`` (m).
    rule : AccessRule
    own : Snap, optional
        For locations that lie on a road (road samples): their own position, an
        access point at 0 m whatever the road. A sample on a bridge (in a tunnel) is
        also reached from other bridges (tunnels).

    Returns
    -------
    AccessArcs
        At most ``rule.max_points`` arcs per location (plus its own position);
        none for a location with no eligible road within ``rule.hose_m``.
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    n = len(xy)
    pts = shapely.points(xy)
    groups = [(np.arange(n), _eligible(index, rule))]
    if own is not None and rule.surface_only:
        # A sample on a viaduct (in a tunnel) is also reached from the other bore or deck:
        # OSM often tags only one of a pair, so surface roads stay eligible as well.
        bridge, tunnel = index.seg_bridge[own.seg], index.seg_tunnel[own.seg]
        surface = groups[0][1]
        groups = [(np.flatnonzero(~bridge & ~tunnel), surface),
                  (np.flatnonzero(bridge), np.union1d(surface, np.flatnonzero(index.seg_bridge))),
                  (np.flatnonzero(tunnel & ~bridge), np.union1d(surface, np.flatnonzero(index.seg_tunnel)))]
    found = [_nearest_roads(index, pts, who, segs, rule) for who, segs in groups if len(who) and len(segs)]
    target = np.concatenate([f[0] for f in found]) if found else np.zeros(0, np.int64)
    seg = np.concatenate([f[1] for f in found]) if found else np.zeros(0, np.int64)
    dist = np.concatenate([f[2] for f in found]) if found else np.zeros(0)
    frac = np.clip(shapely.line_locate_point(index.seg_geometry[seg], pts[target], normalized=True), 0, 1)
    if own is not None:
        target = np.concatenate([target, np.arange(n)])
        seg = np.concatenate([seg, own.seg])
        frac = np.concatenate([frac, own.frac])
        dist = np.concatenate([dist, np.zeros(n)])
    # Merge access points closer than point_spacing_m on one segment: shared nodes, fewer columns.
    length = index.seg_length_m[seg]
    step = np.round(frac * length / rule.point_spacing_m).astype(np.int64)
    # One integer key per (segment, step), in the same order as the pairs (a 1-D unique is
    # several times faster than a row-wise one on millions of arcs).
    span = int(step.max()) + 1 if len(step) else 1
    uniq, point = np.unique(seg.astype(np.int64) * span + step, return_inverse=True)
    point = point.reshape(-1)
    u_seg, u_step = np.divmod(uniq, span)
    u_frac = np.clip(u_step * rule.point_spacing_m / np.maximum(index.seg_length_m[u_seg], 1e-9), 0, 1)
    # A location's own position keeps its exact fraction (a sample sits exactly on its road).
    if own is not None:
        u_frac[point[-n:]] = own.frac
    u_xy = shapely.get_coordinates(
        shapely.line_interpolate_point(index.seg_geometry[u_seg], u_frac, normalized=True)
    )
    points = Snap(seg=u_seg, frac=u_frac, dist_m=np.zeros(len(u_seg)), xy=u_xy)
    return AccessArcs(points=points, target=target, point=point, foot_s=dist / rule.walk_mps, n_targets=n)
