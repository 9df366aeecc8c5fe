"""Candidate sites for new stations.

By default: network nodes on primary, secondary and tertiary roads (建标152-2017
wants a station on the frontage of a 主次干路 so that engines turn straight
onto an arterial), inside the district, thinned to a minimum spacing, and kept
away from places where a station may not go: 50 m from hospitals and schools,
300 m from hazardous-chemical sites. A user layer (e.g. parcels the city can
offer) replaces or adds to them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from coverage.errors import InputError
from coverage.network.model import RoadNetwork

__all__ = [
    "CandidateRules",
    "DEFAULT_RULES",
    "network_candidates",
    "thin",
    "apply_exclusions",
    "exclusion_features",
    "combine",
]


@dataclass(frozen=True)
class CandidateRules:
    """Where default candidate sites may go.

    Attributes
    ----------
    road_classes : tuple of str
        OSM highway classes whose nodes are candidates (主次干路 frontage).
    min_spacing_m : float
        Candidates closer than this are thinned out.
    sensitive_buffer_m : float
        Minimum distance to hospitals, schools and kindergartens (建标152-2017 第十四条:
        距人员密集场所主要疏散出口不应小于50 m).
    hazardous_buffer_m : float
        Minimum distance to hazardous-chemical sites (the Yuzhong plan's siting rule).
    """

    road_classes: tuple[str, ...] = ("primary", "secondary", "tertiary")
    min_spacing_m: float = 150.0
    sensitive_buffer_m: float = 50.0
    hazardous_buffer_m: float = 300.0


DEFAULT_RULES = CandidateRules()

#: OSM tags of places a station must keep away from, by kind.
EXCLUSION_TAGS: dict[str, dict[str, list[str]]] = {
    "sensitive": {"amenity": ["hospital", "school", "kindergarten", "clinic"]},
    "hazardous": {
        "industrial": ["chemical", "oil", "gas", "petroleum_terminal"],
        "landuse": ["depot"],
        "man_made": ["storage_tank", "petroleum_well"],
        "amenity": ["fuel"],
    },
}


def network_candidates(
    network: RoadNetwork,
    *,
    rules: CandidateRules = DEFAULT_RULES,
    area: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Nodes on the rules' road classes inside ``area``, thinned to the minimum spacing.

    Parameters
    ----------
    network : RoadNetwork
    rules : CandidateRules
    area : shapely geometry, optional
        In the network CRS; defaults to the district boundary (else the study area).

    Returns
    -------
    GeoDataFrame
        Points in the network CRS with ``id`` (``"N<osm node id>"``), ``node``,
        ``road_class``, ``road_name`` and ``source="network"``.
    """
    if area is None:
        area = network.boundary if network.boundary is not None else network.study_area
    rank = {c: i for i, c in enumerate(rules.road_classes)}
    best: dict = {}
    for u, v, d in network.graph.edges(data=True):
        cls = d.get("highway")
        if cls not in rank:
            continue
        for node in (u, v):
            if node not in best or rank[cls] < rank[best[node][0]]:
                best[node] = (cls, d.get("name", ""))
    if not best:
        raise InputError(
            f"the network has no {', '.join(rules.road_classes)} roads for candidate sites",
            fix="give candidate sites with --candidates FILE",
        )
    nodes = sorted(best, key=lambda n: (rank[best[n][0]], str(n)))
    xy = np.array([(network.graph.nodes[n]["x"], network.graph.nodes[n]["y"]) for n in nodes])
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    frame = gpd.GeoDataFrame(
        {
            "id": [f"N{n}" for n in nodes],
            "node": nodes,
            "road_class": [best[n][0] for n in nodes],
            "road_name": [best[n][1] for n in nodes],
            "source": "network",
        },
        geometry=shapely.points(xy),
        crs=network.crs,
    )[inside]
    return thin(frame.reset_index(drop=True), rules.min_spacing_m)


def thin(points: gpd.GeoDataFrame, min_spacing_m: float) -> gpd.GeoDataFrame:
    """Greedy thinning in row order: keep a point unless a kept one is within ``min_spacing_m``.

    Row order is the priority (put arterial nodes first), so the result is
    deterministic and every pair of kept points is at least ``min_spacing_m`` apart.
    """
    if len(points) == 0 or min_spacing_m <= 0:
        return points
    xy = shapely.get_coordinates(points.geometry.values)
    tree = cKDTree(xy)
    dropped = np.zeros(len(points), dtype=bool)
    keep = []
    for i in range(len(points)):
        if dropped[i]:
            continue
        keep.append(i)
        dropped[tree.query_ball_point(xy[i], r=min_spacing_m - 1e-9)] = True
    return points.iloc[keep].reset_index(drop=True)


def exclusion_features(source, *, area_wgs84: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """Places to keep away from, with a ``kind`` column (``sensitive`` or ``hazardous``).

    Parameters
    ----------
    source : str, Path or GeoDataFrame
        An OSM XML file (read with osmnx), a GIS layer with a ``kind`` column, or,
        with ``source="osm"``, an online OpenStreetMap query over ``area_wgs84``.
    """
    import osmnx as ox

    if isinstance(source, gpd.GeoDataFrame):
        layer = source
    elif str(source).endswith((".osm", ".xml", ".osm.bz2")) or str(source) == "osm":
        parts = []
        for kind, tags in EXCLUSION_TAGS.items():
            try:
                if str(source) == "osm":
                    found = ox.features_from_polygon(area_wgs84, tags=tags)
                else:
                    found = ox.features_from_xml(source, tags=tags)
            except ox._errors.InsufficientResponseError:
                continue
            parts.append(gpd.GeoDataFrame({"kind": kind}, geometry=found.geometry.values, crs=found.crs))
        if not parts:
            return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=4326)
        layer = pd.concat(parts, ignore_index=True)
    else:
        layer = gpd.read_file(source)
    if "kind" not in layer:
        raise InputError(
            "an exclusion layer needs a 'kind' column (sensitive or hazardous)",
            source=str(source),
            fix="add the column, or pass an OSM file",
        )
    unknown = sorted(set(layer["kind"]) - set(EXCLUSION_TAGS))
    if unknown:
        raise InputError(
            f"unknown exclusion kinds {unknown}",
            source=str(source),
            fix=f"use one of {sorted(EXCLUSION_TAGS)}",
        )
    return layer


def apply_exclusions(
    candidates: gpd.GeoDataFrame,
    exclusions: gpd.GeoDataFrame,
    *,
    rules: CandidateRules = DEFAULT_RULES,
) -> gpd.GeoDataFrame:
    """Drop candidates within the rules' distances of sensitive or hazardous places.

    Returns
    -------
    GeoDataFrame
        The remaining candidates; ``attrs["excluded"]`` counts drops per kind.
    """
    if len(exclusions) == 0 or len(candidates) == 0:
        out = candidates.copy()
        out.attrs["excluded"] = {}
        return out
    places = exclusions.to_crs(candidates.crs)
    buffers = {"sensitive": rules.sensitive_buffer_m, "hazardous": rules.hazardous_buffer_m}
    bad = np.zeros(len(candidates), dtype=bool)
    excluded = {}
    for kind, dist in buffers.items():
        geoms = places.geometry[places["kind"] == kind].values
        if len(geoms) == 0:
            continue
        tree = shapely.STRtree(geoms)
        idx, _ = tree.query(candidates.geometry.values, predicate="dwithin", distance=dist)
        hit = np.zeros(len(candidates), dtype=bool)
        hit[np.unique(idx)] = True
        excluded[kind] = int((hit & ~bad).sum())
        bad |= hit
    out = candidates[~bad].reset_index(drop=True)
    out.attrs["excluded"] = excluded
    return out


def combine(
    default: gpd.GeoDataFrame | None, user: gpd.GeoDataFrame | None, *, mode: str = "replace"
) -> gpd.GeoDataFrame:
    """Merge the default candidates with a user layer (``mode`` = ``replace`` or ``add``)."""
    if mode not in {"replace", "add"}:
        raise InputError(f"unknown candidate mode {mode!r}", fix="use 'replace' or 'add'")
    frames: Iterable[gpd.GeoDataFrame] = [
        f for f in ((user,) if (mode == "replace" and user is not None) else (default, user)) if f is not None
    ]
    frames = list(frames)
    if not frames:
        raise InputError("no candidate sites", fix="give --candidates FILE or use network candidates")
    crs = frames[0].crs
    out = pd.concat([f.to_crs(crs) for f in frames], ignore_index=True)
    if out["id"].duplicated().any():
        dup = out.loc[out["id"].duplicated(), "id"].iloc[0]
        raise InputError(f"candidate id {dup!r} appears twice", row=dup, fix="make candidate ids unique")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=crs)
