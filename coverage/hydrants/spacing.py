"""Hydrant spacing along each road (GB 50974-2014 §7.2.5: ≤ 120 m), and both sides of
wide roads (§7.2.4: roads wider than 60 m).

A *road* is the set of segments sharing an OSM name (unnamed segments: their
OSM way id). Its geometry is merged into *chains* with :func:`shapely.line_merge`
(undirected), so a street cut at junctions becomes one line where the pieces
join end to end; a dual carriageway gives two chains, a branching road several.
A hydrant belongs to every chain within ``attach_m`` of it (hydrants stand beside
the carriageway, and on a dual carriageway one hydrant serves both). Along
each chain the hydrants are ordered by position, and every pair of consecutive
hydrants further apart than the limit is a violation, reported with the
stretch of road between them. On a closed chain (a roundabout) the wrap-around
pair counts too.

Wide roads: where a chain's carriageway is wider than the limit, hydrants are
split by the side of the centreline they stand on and each side is checked on
its own. The width is OSM ``width``, else ``lanes`` × 3.5 m; chains with
neither tag cannot be judged and are listed as such. OSM ``width`` and
``lanes`` usually describe one carriageway, so a divided boulevard's full width
is not known from OSM.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString
from shapely.ops import substring

from coverage.hydrants.roads import Roads
from coverage.presets import GB50974, HydrantRules

__all__ = ["SpacingResult", "road_chains", "spacing_check"]

_EPS_M = 1e-6


@dataclass(frozen=True)
class SpacingResult:
    """Spacing along roads.

    Attributes
    ----------
    violations : GeoDataFrame
        One row per pair of consecutive hydrants too far apart (network CRS):
        ``road``, ``chain``, ``highway``, ``side`` (``""``, or ``left``/``right``
        on a wide road), ``from_id``, ``to_id``, ``spacing_m`` and the stretch
        between them as geometry.
    chains : DataFrame
        One row per road chain in the area: ``road``, ``chain``, ``highway``,
        ``length_m``, ``n_hydrants``, ``max_spacing_m`` (NaN with fewer than two
        hydrants), ``width_m``, ``width_basis``, ``both_sides`` (nullable bool:
        wider than the limit; NA when the width cannot be judged), and for wide
        chains ``n_left``/``n_right``.
    max_spacing_m : float
    """

    violations: gpd.GeoDataFrame
    chains: pd.DataFrame
    max_spacing_m: float

    @property
    def width_unknown_m(self) -> float:
        """Length of road chains whose width cannot be judged, m."""
        return float(self.chains.loc[self.chains["width_basis"] == "", "length_m"].sum())


def _road_keys(roads: Roads) -> np.ndarray:
    names = roads.index.seg_name.astype(str)
    return np.where(names != "", names, np.char.add("OSM way ", roads.osmid.astype(str)))


def road_chains(roads: Roads) -> gpd.GeoDataFrame:
    """Every road's segments merged into chains (only roads reaching the area).

    Returns
    -------
    GeoDataFrame
        Network CRS: ``road``, ``chain`` (number within the road), ``highway``
        (the class of most of its length), ``width_m`` (widest segment, NaN if
        none is known), ``width_basis`` and the merged LineString.
    """
    keys = _road_keys(roads)
    geoms = roads.index.seg_geometry
    mids = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    rows = []
    for road in np.unique(keys[roads.inside_m > 0]):
        segs = np.flatnonzero(keys == road)
        merged = shapely.line_merge(MultiLineString(list(geoms[segs])), directed=False)
        chains = [g for g in shapely.get_parts(merged) if g.length > 0]
        # Each segment's midpoint lies on exactly the chain it was merged into.
        owner = np.array([np.argmin(shapely.distance(chains, mids[s])) for s in segs])
        for c, chain in enumerate(chains):
            mine = segs[owner == c]
            if not shapely.intersects(chain, roads.area):
                continue
            by_class = pd.Series(roads.length_m[mine]).groupby(roads.index.seg_highway[mine]).sum()
            width = roads.width_m[mine]
            known = np.isfinite(width)
            widest = mine[known][np.argmax(width[known])] if known.any() else None
            rows.append({
                "road": road,
                "chain": c,
                "highway": by_class.idxmax(),
                "width_m": float(width[known].max()) if known.any() else np.nan,
                "width_basis": roads.width_basis[widest] if widest is not None else "",
                "geometry": chain,
            })
    columns = ["road", "chain", "highway", "width_m", "width_basis", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry="geometry",
                            crs=roads.index.crs)


def _side(chain: LineString, pos: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """+1 left of the chain's direction, -1 right (0 exactly on it)."""
    before = shapely.get_coordinates(shapely.line_interpolate_point(chain, np.maximum(pos - 1, 0)))
    after = shapely.get_coordinates(
        shapely.line_interpolate_point(chain, np.minimum(pos + 1, chain.length)))
    tangent = after - before
    rel = xy - before
    return np.sign(tangent[:, 0] * rel[:, 1] - tangent[:, 1] * rel[:, 0])


def _gaps(chain: LineString, pos: np.ndarray, ids: np.ndarray, limit: float) -> list[dict]:
    """Consecutive hydrants along a chain further apart than ``limit``."""
    order = np.argsort(pos, kind="stable")
    pos, ids = pos[order], ids[order]
    out = []
    pairs = list(zip(range(len(pos) - 1), range(1, len(pos)), strict=True))
    if chain.is_ring and len(pos) >= 2:
        pairs.append((len(pos) - 1, 0))
    for i, j in pairs:
        wraps = j < i
        gap = chain.length - pos[i] + pos[j] if wraps else pos[j] - pos[i]
        if gap <= limit + _EPS_M:
            continue
        if wraps:
            # Round the closing point of the ring; a part of zero length is a Point.
            parts = [p for p in (substring(chain, pos[i], chain.length),
                                 substring(chain, 0.0, pos[j])) if p.length > 0]
            geom = shapely.line_merge(MultiLineString(parts)) if len(parts) > 1 else parts[0]
        else:
            geom = substring(chain, pos[i], pos[j])
        out.append({"from_id": ids[i], "to_id": ids[j], "spacing_m": float(gap),
                    "geometry": geom})
    return out


def spacing_check(
    roads: Roads,
    xy: np.ndarray,
    ids: np.ndarray,
    *,
    rules: HydrantRules = GB50974,
    attach_m: float = 30.0,
) -> SpacingResult:
    """Check hydrant spacing along every road of the area.

    Parameters
    ----------
    roads : Roads
    xy : ndarray, shape (k, 2)
        The hydrants that count, in the network CRS.
    ids : ndarray of str, shape (k,)
        Their ids, for the report.
    rules : HydrantRules
        ``max_spacing_m`` and ``both_sides_width_m``.
    attach_m : float
        A hydrant belongs to a road chain within this distance, m.

    Returns
    -------
    SpacingResult
    """
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    ids = np.asarray(ids, dtype=object)
    points = shapely.points(xy)
    tree = shapely.STRtree(points)
    chains = road_chains(roads)
    violations, rows = [], []
    for chain in chains.itertuples():
        line = chain.geometry
        near = tree.query(line, predicate="dwithin", distance=attach_m)
        pos = shapely.line_locate_point(line, points[near])
        wide = bool(chain.width_m > rules.both_sides_width_m) if chain.width_basis else None
        row = {
            "road": chain.road, "chain": chain.chain, "highway": chain.highway,
            "length_m": float(line.length), "n_hydrants": int(len(near)),
            "max_spacing_m": np.nan, "width_m": chain.width_m,
            "width_basis": chain.width_basis, "both_sides": wide,
            "n_left": pd.NA, "n_right": pd.NA,
        }
        if len(near) >= 2:
            ordered = np.sort(pos)
            gaps = np.diff(ordered)
            if line.is_ring:
                gaps = np.r_[gaps, line.length - ordered[-1] + ordered[0]]
            row["max_spacing_m"] = float(gaps.max())
        groups = [("", np.ones(len(near), dtype=bool))]
        if wide:
            side = _side(line, pos, xy[near])
            groups = [("left", side >= 0), ("right", side <= 0)]
            row["n_left"], row["n_right"] = int((side >= 0).sum()), int((side <= 0).sum())
        for name, mask in groups:
            for v in _gaps(line, pos[mask], ids[near][mask], rules.max_spacing_m):
                violations.append({"road": chain.road, "chain": chain.chain,
                                   "highway": chain.highway, "side": name, **v})
        rows.append(row)
    columns = ["road", "chain", "highway", "side", "from_id", "to_id", "spacing_m", "geometry"]
    table = pd.DataFrame(rows, columns=[
        "road", "chain", "highway", "length_m", "n_hydrants", "max_spacing_m", "width_m",
        "width_basis", "both_sides", "n_left", "n_right"])
    table["both_sides"] = table["both_sides"].astype("boolean")
    return SpacingResult(
        violations=gpd.GeoDataFrame(pd.DataFrame(violations, columns=columns),
                                    geometry="geometry", crs=roads.index.crs),
        chains=table,
        max_spacing_m=rules.max_spacing_m,
    )
