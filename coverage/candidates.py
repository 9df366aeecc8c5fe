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
from pathlib import Path
from xml.etree.ElementTree import ParseError

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
    "SITE_RULES",
    "site_rule_exclusions",
]

#: Named rules that remove default candidate sites (first failing rule is reported).
SITE_RULES: dict[str, str] = {
    "bridge_or_tunnel": "on a bridge or at a tunnel: no frontage to build a station on, and "
    "engines would leave onto a structure",
    "ramp": "on a ramp or slip road (*_link, motorway): engines cannot turn out into the district",
    "one_way": "only one-way carriageways at the node: the station could leave in one direction only",
    "not_reachable_both_ways": "outside the strongly connected road network: an engine there "
    "cannot both reach the district and be reached from it",
}
_RAMP_CLASSES = ("motorway", "motorway_link", "trunk_link", "primary_link", "secondary_link",
                 "tertiary_link")


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
    return_rejected: bool = False,
) -> gpd.GeoDataFrame | tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Nodes on the rules' road classes inside ``area``, passing :data:`SITE_RULES`, thinned.

    Parameters
    ----------
    network : RoadNetwork
    rules : CandidateRules
    area : shapely geometry, optional
        In the network CRS; defaults to the district boundary (else the study area).
    return_rejected : bool
        Also return the nodes a :data:`SITE_RULES` rule removed (before thinning).

    Returns
    -------
    GeoDataFrame
        Points in the network CRS with ``id`` (``"N<osm node id>"``), ``node``,
        ``road_class``, ``road_name``, ``source="network"`` and ``excluded_by`` (``""``).
    rejected : GeoDataFrame
        With ``return_rejected``: the removed nodes, ``excluded_by`` naming the rule.
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
    )[inside].reset_index(drop=True)
    frame["excluded_by"] = site_rule_exclusions(network, frame["node"].tolist())
    kept = thin(frame[frame["excluded_by"] == ""].reset_index(drop=True), rules.min_spacing_m)
    if return_rejected:
        return kept, frame[frame["excluded_by"] != ""].reset_index(drop=True)
    return kept


def site_rule_exclusions(network: RoadNetwork, nodes: list) -> np.ndarray:
    """The first :data:`SITE_RULES` rule each node fails (``""`` when it passes them all).

    Parameters
    ----------
    network : RoadNetwork
    nodes : list
        Graph node keys.

    Returns
    -------
    ndarray of str
    """
    import networkx as nx

    graph = network.graph
    main = max(nx.strongly_connected_components(graph), key=len) if len(graph) else set()
    out = []
    for n in nodes:
        edges = list(graph.out_edges(n, data=True)) + list(graph.in_edges(n, data=True))
        classes = [str(d.get("highway", "")) for _, _, d in edges]
        if any(_flag(d.get("bridge")) or _flag(d.get("tunnel")) for _, _, d in edges):
            out.append("bridge_or_tunnel")
        elif any(c in _RAMP_CLASSES for c in classes):
            out.append("ramp")
        elif not any(graph.has_edge(v, u) for u, v, _ in graph.out_edges(n, data=True)):
            out.append("one_way")
        elif n not in main:
            out.append("not_reachable_both_ways")
        else:
            out.append("")
    return np.asarray(out, dtype=object)


def _flag(value) -> bool:
    """An OSM yes/no-ish attribute (``True``, ``"yes"``, ``"viaduct"`` ...) as a bool."""
    if isinstance(value, list | tuple):
        return any(_flag(v) for v in value)
    return value is not None and value is not False and str(value).lower() not in ("", "no", "false", "0", "nan")


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


#: File endings read as OpenStreetMap XML by :func:`exclusion_features`.
OSM_XML_SUFFIXES = (".osm", ".xml", ".osm.bz2")


def exclusion_features(source, *, area_wgs84: BaseGeometry | None = None) -> gpd.GeoDataFrame:
    """Places to keep away from, with a ``kind`` column (``sensitive`` or ``hazardous``).

    Parameters
    ----------
    source : str, Path or GeoDataFrame
        An OSM XML file (read with osmnx), a GIS layer with a ``kind`` column, or,
        with ``source="osm"``, an online OpenStreetMap query over ``area_wgs84``.
    area_wgs84 : shapely geometry, optional
        Study area in WGS84; required for ``source="osm"``.

    Returns
    -------
    GeoDataFrame
        One row per place, ``kind`` and geometry, EPSG:4326 for OSM input, else the
        layer's own CRS.

    Raises
    ------
    InputError
        Missing, empty or unreadable file, a download that failed, a layer without
        a ``kind`` column or with unknown kinds.
    """
    if isinstance(source, gpd.GeoDataFrame):
        layer = source
    elif str(source) == "osm" or str(source).lower().endswith(OSM_XML_SUFFIXES):
        layer = _osm_exclusions(source, area_wgs84)
    else:
        from coverage.layers import read_layer

        layer = read_layer(source, name="exclusions")
    if "kind" not in layer:
        raise InputError(
            "an exclusion layer needs a 'kind' column (sensitive or hazardous)",
            source=str(source),
            fix="add the column, or pass an OSM file",
        )
    kinds = layer["kind"].astype(str)
    unknown = sorted(set(kinds) - set(EXCLUSION_TAGS))
    if unknown:
        raise InputError(
            f"unknown exclusion kinds {unknown}",
            source=str(source),
            fix=f"use one of {sorted(EXCLUSION_TAGS)}",
        )
    if layer.geometry.isna().any() or layer.geometry.is_empty.any():
        bad = np.flatnonzero((layer.geometry.isna() | layer.geometry.is_empty).to_numpy())
        raise InputError(
            f"{bad.size} exclusion feature(s) have no geometry",
            source=str(source),
            row=", ".join(str(i + 1) for i in bad[:5]),
            fix="draw those places or delete the rows",
        )
    if layer.crs is None:
        raise InputError("the exclusion layer has no CRS", source=str(source),
                         fix="save it with a CRS (e.g. EPSG:4326)")
    return layer


def _osm_exclusions(source, area_wgs84: BaseGeometry | None) -> gpd.GeoDataFrame:
    """Sensitive and hazardous places from an OSM XML file, or online for ``"osm"``."""
    import osmnx as ox

    online = str(source) == "osm"
    if online and area_wgs84 is None:
        raise InputError("exclusions from OSM online need the study area", source="osm",
                         fix="pass area_wgs84=")
    if not online:
        path = Path(source)
        if not path.is_file():
            raise InputError("the exclusions file does not exist", source=path,
                             fix="check the path and file name")
        if path.stat().st_size == 0:
            raise InputError("the exclusions file is empty", source=path,
                             fix="export the OSM extract again")
    parts = []
    for kind, tags in EXCLUSION_TAGS.items():
        try:
            if online:
                found = ox.features_from_polygon(area_wgs84, tags=tags)
            else:
                found = ox.features_from_xml(source, tags=tags)
        except ox._errors.InsufficientResponseError:  # no such feature in the area
            continue
        except (ParseError, ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"cannot read the exclusions as OpenStreetMap XML ({type(exc).__name__}: "
                f"{str(exc)[:120]})",
                source=str(source),
                fix="export the extract again as .osm XML, or give a layer with a 'kind' column",
            ) from None
        except OSError as exc:  # requests' connection errors derive from OSError
            raise InputError(
                f"cannot query OpenStreetMap for exclusions ({type(exc).__name__})",
                source="--exclusions osm",
                fix="check the internet connection, or give a local .osm file",
            ) from None
        if len(found) == 0:
            continue
        # One kind per row: a list as long as the features (a scalar has no index to broadcast to).
        parts.append(gpd.GeoDataFrame({"kind": [kind] * len(found)},
                                      geometry=list(found.geometry.values), crs=found.crs))
    if not parts:
        return gpd.GeoDataFrame({"kind": pd.Series([], dtype=str)}, geometry=[], crs=4326)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                            crs=parts[0].crs)


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
