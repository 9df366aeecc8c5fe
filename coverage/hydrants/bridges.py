"""Bridge heads and tunnel portals without a hydrant (GB 50974-2014 §7.2: 市政桥桥头和
城市交通隧道出入口 need municipal hydrants).

The ends are read from the OSM file itself, not from the simplified graph:
osmnx merges a bridge way with the road on either side of it, so graph edges
do not end where bridges end. A *run* is a chain of OSM ways of one kind
(bridge or tunnel) passing the network's way filter; a node is a head or portal
when it ends such a way and lies on no other way of the same kind. Only ends
on the assessed network (within ``on_network_m`` of its roads) and inside the
area are kept.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import shapely

from coverage.engine import snap_points
from coverage.errors import InputError
from coverage.hydrants.coverage import Intervals, intervals_cover
from coverage.hydrants.roads import Roads
from coverage.network.osm import emergency_filter

__all__ = ["bridge_tunnel_ends", "bridge_tunnel_gaps"]

KINDS = ("bridge", "tunnel")


def _kind_of(tags: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, tags[k]) for k in KINDS if tags.get(k, "no").lower() not in {"no", "false", "0"}]


def bridge_tunnel_ends(
    osm: str | Path, roads: Roads, *, on_network_m: float = 1.0
) -> gpd.GeoDataFrame:
    """Bridge heads and tunnel portals of the road network, from an OSM file.

    Parameters
    ----------
    osm : str or Path
        The OSM extract the network was built from (``.osm`` or ``.osm.pbf``).
    roads : Roads
        The assessed roads (network CRS and area).
    on_network_m : float
        An end further than this from every road segment is not on the network
        (its way was cut away by the study area or the connectivity filter), m.

    Returns
    -------
    GeoDataFrame
        Points in the network CRS: ``kind`` (``bridge``/``tunnel``), ``node``
        (OSM node id), ``way`` (OSM way id), ``name``, ``tag`` (the OSM value,
        e.g. ``yes``, ``viaduct``, ``building_passage``), ``seg``, ``pos_m``
        (metres along the segment). One row per (kind, node).

    Raises
    ------
    InputError
        The file is missing or is not OSM data.
    """
    path = Path(osm)
    if not path.is_file():
        raise InputError("OSM file not found.", source=path, fix="check the path")
    way_filter = emergency_filter()
    ways: list[tuple[str, str, int, str, list[int]]] = []
    where: dict[int, tuple[float, float]] = {}
    members: dict[str, defaultdict[int, int]] = {k: defaultdict(int) for k in KINDS}
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("bridge", "tunnel"))
    )
    try:
        for way in processor:
            tags = dict(way.tags)
            kinds = _kind_of(tags)
            if not kinds or not way_filter.matches(tags):
                continue
            refs = [n.ref for n in way.nodes if n.location.valid()]
            if len(refs) < 2:
                continue
            for n in way.nodes:
                if n.location.valid():
                    where[n.ref] = (n.location.lon, n.location.lat)
            for kind, value in kinds:
                ways.append((kind, value, way.id, tags.get("name", ""), refs))
                for ref in set(refs):
                    members[kind][ref] += 1
    except RuntimeError as exc:
        raise InputError(
            f"cannot be read as OSM data ({exc}).", source=path,
            fix="pass the OSM XML (.osm) or PBF (.osm.pbf) file the network was built from.",
        ) from exc
    rows, seen = [], set()
    for kind, value, way_id, name, refs in ways:
        for end in (refs[0], refs[-1]):
            # An end shared with another way of the same kind is inside the run.
            if members[kind][end] == 1 and (kind, end) not in seen:
                seen.add((kind, end))
                rows.append({"kind": kind, "node": end, "way": way_id, "name": name,
                             "tag": value, "lon": where[end][0], "lat": where[end][1]})
    frame = pd.DataFrame(rows, columns=["kind", "node", "way", "name", "tag", "lon", "lat"])
    ends = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=shapely.points(frame[["lon", "lat"]].to_numpy(float).reshape(-1, 2)),
        crs="EPSG:4326",
    ).to_crs(roads.index.crs)
    snap = snap_points(roads.index, shapely.get_coordinates(ends.geometry.values))
    ends["seg"] = snap.seg
    ends["pos_m"] = snap.frac * roads.length_m[snap.seg] if len(ends) else np.zeros(0)
    keep = (snap.dist_m <= on_network_m) & shapely.covers(roads.area, ends.geometry.values)
    return ends[keep].reset_index(drop=True)


def bridge_tunnel_gaps(
    ends: gpd.GeoDataFrame,
    hydrant_xy: np.ndarray,
    covered_network: Intervals,
    *,
    radius_m: float,
) -> gpd.GeoDataFrame:
    """Which bridge heads and tunnel portals have no hydrant within the radius.

    Parameters
    ----------
    ends : GeoDataFrame
        From :func:`bridge_tunnel_ends`.
    hydrant_xy : ndarray, shape (k, 2)
        The hydrants that count, network CRS.
    covered_network : Intervals
        Road covered by those hydrants by hose-lay distance (a union).
    radius_m : float

    Returns
    -------
    GeoDataFrame
        ``ends`` with ``nearest_hydrant_m`` (straight line; inf without
        hydrants), ``gap`` (no hydrant within ``radius_m`` in a straight line:
        the literal rule) and ``gap_network`` (not reachable within ``radius_m``
        of hose).
    """
    out = ends.copy()
    pts = out.geometry.values
    if len(hydrant_xy) and len(out):
        tree = shapely.STRtree(shapely.points(np.asarray(hydrant_xy).reshape(-1, 2)))
        (which, _), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        nearest = np.full(len(out), np.inf)
        nearest[which] = dist
    else:
        nearest = np.full(len(out), np.inf)
    out["nearest_hydrant_m"] = nearest
    out["gap"] = nearest > radius_m
    out["gap_network"] = ~intervals_cover(covered_network, out["seg"].to_numpy(),
                                          out["pos_m"].to_numpy())
    return out
