"""A GENERATED city-size road network, tiled from the real Yuzhong drive extract.

Nothing here is real data. :func:`generated_city_network` loads the real Yuzhong
(渝中区) OSM drive extract through :func:`coverage.network.load_network`, then
builds a larger, **generated** network from it:

1. the Yuzhong graph (optionally cropped to a square, for fast tests) is copied
   ``n_tiles`` times, each copy translated to a cell of a grid;
2. every node of every copy is jittered by up to ``jitter_m`` metres (seeded), so
   copies are not exact duplicates; edge geometries follow their end nodes and
   lengths are recomputed;
3. neighbouring copies are stitched across their seams by a few two-way connector
   roads, and copies that do not touch are linked by two-way connector roads along
   a minimum spanning tree, so the city is one strongly connected network;
4. the travel model is applied to the whole (speeds, height limits), and the
   largest strongly connected component is kept, as :func:`load_network` does.

Optionally the tiles are laid over real district boundaries (for example the nine
central districts of Chongqing, :func:`central_districts`): grid cells are chosen so
that every district gets at least one tile and the rest go to districts in
proportion to their area, preferring cells near the city core. The boundaries are
real; the roads on them are generated.

Labelling: the graph carries ``generated=True`` and a ``description``; the network
report's source starts with ``"GENERATED city"``; street names get a
``" (generated tile k)"`` suffix; connector roads are named ``"generated connector"``;
station and candidate layers have ids ``GEN-S..``/``GEN-C..``, names starting with
``"generated"`` and a ``generated`` column. Nothing is written to disk here.

Sizes: Yuzhong's strongly connected drive network has about 1,250 nodes, so
:data:`GENERATED_CITY_SIZES` maps ``"5k"``, ``"15k"`` and ``"31k"`` to 4, 12 and 25 tiles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pyproj
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, box

from coverage.errors import InputError
from coverage.network import CHINA_URBAN, NetworkReport, RoadNetwork, TravelModel, load_network
from coverage.network.build import SCC_REASON
from coverage.network.travel import apply_travel_model
from coverage.presets import STATION_TYPES

__all__ = [
    "CENTRAL_DISTRICTS_GEOJSON",
    "GENERATED_CITY_SIZES",
    "YUZHONG_DRIVE_OSM",
    "GeneratedCity",
    "central_districts",
    "generated_city",
    "generated_city_candidates",
    "generated_city_network",
    "generated_city_stations",
]

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
#: The real Yuzhong drive extract the tiles are copied from (``../shared/data``).
YUZHONG_DRIVE_OSM = _SHARED / "osm" / "yuzhong_drive_osm_20260424.osm"
#: Real boundaries of Chongqing's nine central districts, WGS84 (``../shared/data``).
CENTRAL_DISTRICTS_GEOJSON = _SHARED / "boundaries" / "chongqing_central9_districts_wgs84.geojson"

#: Tiles per named size (about 1,250 graph nodes per uncropped tile).
GENERATED_CITY_SIZES: dict[str, int] = {"5k": 4, "15k": 12, "31k": 25}

#: Node key of tile ``k``: ``k * _TILE_KEY + OSM node id`` (OSM ids are below 1e12).
_TILE_KEY = 10**12
_CONNECTOR_NAME = "generated connector"


@dataclass(frozen=True)
class GeneratedCity:
    """A GENERATED city: network, stations, candidate sites and its tile layout.

    Attributes
    ----------
    network : RoadNetwork
        The generated road network (``network.graph.graph["generated"] is True``).
    stations : GeoDataFrame
        Generated stations, WGS84, as :func:`coverage.layers.read_stations` returns them.
    candidates : GeoDataFrame
        Generated candidate sites, WGS84 (``id``, ``name``, ``generated``).
    districts : GeoDataFrame or None
        The district layer the tiles were laid over (real boundaries), WGS84, or None.
    tiles : GeoDataFrame
        One row per tile: ``tile``, grid ``col``/``row``, offset ``dx_m``/``dy_m``,
        ``district`` (code it was placed for, or ``""``), footprint in the network CRS.
    """

    network: RoadNetwork
    stations: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame | None
    tiles: gpd.GeoDataFrame


def central_districts(path: str | Path = CENTRAL_DISTRICTS_GEOJSON) -> gpd.GeoDataFrame:
    """The REAL boundaries of Chongqing's nine central districts, as ``name``, ``code``.

    Parameters
    ----------
    path : str or Path
        The WGS84 GeoJSON (default: ``../shared/data/boundaries/...wgs84.geojson``).

    Returns
    -------
    GeoDataFrame
        EPSG:4326, columns ``name`` (e.g. 渝中区), ``code`` (adcode as str), geometry.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("district boundary file not found.", source=path,
                         fix="put ../shared/data beside the repository or pass the file.")
    gdf = gpd.read_file(path).to_crs("EPSG:4326")
    code = gdf["adcode"] if "adcode" in gdf else gdf["code"]
    return gpd.GeoDataFrame({"name": gdf["name"].astype(str), "code": code.astype(str)},
                            geometry=gdf.geometry.values, crs="EPSG:4326")


def _tile_source(
    osm: Path, crop_m: float | None, cache_dir: Any, progress: bool
) -> tuple[nx.MultiDiGraph, pyproj.CRS]:
    """The real Yuzhong graph with every edge kept (no height limit yet), optionally
    cropped to a ``crop_m`` square around its centre (largest SCC of the crop)."""
    if not Path(osm).is_file():
        raise InputError("the real Yuzhong drive extract the generated city is tiled from "
                         "was not found.", source=osm,
                         fix="put ../shared/data beside the repository or pass osm=PATH.")
    # Height limits are applied to the whole city later, with the caller's model,
    # so the tile keeps the low tunnels (the sweep varies apparatus height).
    permissive = replace(CHINA_URBAN, name="tile source", apparatus_height_m=0.0)
    net = load_network(osm=osm, travel_model=permissive, cache_dir=cache_dir, progress=progress)
    G = net.graph
    if crop_m is not None:
        xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)])
        cx, cy = xy.mean(axis=0)
        half = crop_m / 2
        keep = [n for n, (x, y) in zip(G.nodes, xy, strict=True)
                if abs(x - cx) <= half and abs(y - cy) <= half]
        G = G.subgraph(keep).copy()
        if G.number_of_edges() == 0:
            raise InputError(f"tile_crop_m={crop_m} leaves no road in the tile.",
                             source="generated_city_network", fix="use at least 1000 m.")
        G = ox.truncate.largest_component(G, strongly=True)
    return G, net.crs


def _grid_cells(n_tiles: int, cols: int | None) -> list[tuple[int, int]]:
    cols = cols or math.ceil(math.sqrt(n_tiles))
    return [(k % cols, k // cols) for k in range(n_tiles)]


def _district_cells(
    districts_m: gpd.GeoDataFrame, n_tiles: int, w: float, h: float, px: float, py: float,
    origin: tuple[float, float],
) -> tuple[list[tuple[int, int]], list[str], tuple[float, float]]:
    """Grid cells covering the districts: one per district first (smallest district
    first, largest overlap), then the others in proportion to district area, preferring
    cells with more overlap and nearer the core (the smallest district's centroid)."""
    if n_tiles < len(districts_m):
        raise InputError(
            f"{n_tiles} tiles cannot give each of the {len(districts_m)} districts a road.",
            source="generated_city_network",
            fix=f"use n_tiles >= {len(districts_m)}, or tile_crop_m to make smaller tiles.",
        )
    x0, y0, x1, y1 = districts_m.total_bounds
    # Anchor the grid so that one cell sits exactly where the real tile is.
    gx0 = origin[0] - math.ceil((origin[0] - x0) / px) * px
    gy0 = origin[1] - math.ceil((origin[1] - y0) / py) * py
    ncol, nrow = math.ceil((x1 - gx0) / px), math.ceil((y1 - gy0) / py)
    cells = [(i, j) for j in range(nrow) for i in range(ncol)]
    boxes = np.array([box(gx0 + i * px, gy0 + j * py, gx0 + i * px + w, gy0 + j * py + h)
                      for i, j in cells])
    geoms = districts_m.geometry.to_numpy()
    overlap_km2 = shapely.area(shapely.intersection(boxes[:, None], geoms[None, :])) / 1e6
    areas = shapely.area(geoms)
    core = geoms[int(np.argmin(areas))].centroid
    dist_core = shapely.distance(shapely.centroid(boxes), core)
    codes = districts_m["code"].astype(str).to_numpy()
    free = np.ones(len(cells), dtype=bool)
    chosen: list[int] = []
    owner: list[str] = []
    counts = np.zeros(len(geoms))

    def take(d: int) -> bool:
        ok = free & (overlap_km2[:, d] > 0)
        if not ok.any():
            return False
        cand = np.flatnonzero(ok)
        # Round overlap to whole km² so that cells fully inside tie and the core wins.
        key = np.lexsort((dist_core[cand], -np.round(overlap_km2[cand, d])))
        c = int(cand[key[0]])
        free[c] = False
        chosen.append(c)
        owner.append(str(codes[d]))
        counts[d] += 1
        return True

    for d in np.argsort(areas, kind="stable"):
        if not take(int(d)):
            raise InputError(f"district {codes[d]} overlaps no grid cell.",
                             source="generated_city_network", fix="check the district layer.")
    exhausted = np.zeros(len(geoms), dtype=bool)
    while len(chosen) < n_tiles:
        need = np.where(exhausted, -np.inf, areas / (counts + 1))
        if not np.isfinite(need).any():
            raise InputError(f"only {len(chosen)} grid cells overlap the districts.",
                             source="generated_city_network", fix="use fewer tiles.")
        d = int(np.argmax(need))
        if not take(d):
            exhausted[d] = True
    return [cells[c] for c in chosen], owner, (gx0, gy0)


def _union_find_links(cells: list[tuple[int, int]], centres: np.ndarray) -> tuple[list, list]:
    """Seams (grid neighbours) and extra links (MST over the rest) between tiles."""
    pos = {c: k for k, c in enumerate(cells)}
    parent = list(range(len(cells)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    seams = []
    for k, (i, j) in enumerate(cells):
        for di, dj in ((1, 0), (0, 1)):
            other = pos.get((i + di, j + dj))
            if other is not None:
                seams.append((k, other, "x" if di else "y"))
                parent[find(k)] = find(other)
    pairs = sorted(
        (float(np.hypot(*(centres[a] - centres[b]))), a, b)
        for a in range(len(cells)) for b in range(a + 1, len(cells))
    )
    links = []
    for _, a, b in pairs:
        if find(a) != find(b):
            parent[find(a)] = find(b)
            links.append((a, b))
    return seams, links


def _jittered_copy(
    G: nx.MultiDiGraph, out: nx.MultiDiGraph, tile: int, offset: np.ndarray,
    jitter_m: float, rng: np.random.Generator,
) -> dict[Any, int]:
    """Add tile ``tile`` of ``G`` to ``out``; returns original node -> new key."""
    nodes = list(G.nodes)
    shift = offset + rng.uniform(-jitter_m, jitter_m, size=(len(nodes), 2))
    key = {n: tile * _TILE_KEY + int(n) for n in nodes}
    move = dict(zip(nodes, shift, strict=True))
    for n, data in G.nodes(data=True):
        d = dict(data)
        d["x"], d["y"] = data["x"] + move[n][0], data["y"] + move[n][1]
        d["generated_tile"] = tile
        out.add_node(key[n], **d)
    for u, v, data in G.edges(data=True):
        d = dict(data)
        coords = np.asarray(data["geometry"].coords, dtype=float)
        # Interior vertices move with the mean of both ends, so the two directed
        # edges of a two-way road stay mirror images of each other.
        coords = coords + (move[u] + move[v]) / 2
        coords[0], coords[-1] = data["geometry"].coords[0] + move[u], \
            data["geometry"].coords[-1] + move[v]
        geom = LineString(coords)
        d["geometry"] = geom
        d["length"] = float(geom.length)
        if d.get("name"):
            d["name"] = f"{d['name']} (generated tile {tile})"
        d["generated"] = True
        out.add_edge(key[u], key[v], **d)
    return key


def _connector(out: nx.MultiDiGraph, a: int, b: int, highway: str) -> None:
    pa = (out.nodes[a]["x"], out.nodes[a]["y"])
    pb = (out.nodes[b]["x"], out.nodes[b]["y"])
    length = max(float(math.dist(pa, pb)), 1.0)
    for u, v, p, q in ((a, b, pa, pb), (b, a, pb, pa)):
        out.add_edge(u, v, geometry=LineString([p, q]), length=length, highway=highway,
                     name=_CONNECTOR_NAME, osmid=-1, bridge=False, tunnel=False,
                     width_m=math.nan, lanes=math.nan, signals=0, oneway=False,
                     reversed=u == b, generated=True)


def generated_city_network(
    n_tiles: int | str = "5k",
    *,
    districts: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    jitter_m: float = 3.0,
    gap_m: float = 100.0,
    connectors_per_seam: int = 3,
    tile_crop_m: float | None = None,
    travel_model: TravelModel = CHINA_URBAN,
    osm: str | Path = YUZHONG_DRIVE_OSM,
    cache_dir: Any = None,
    progress: bool = False,
) -> RoadNetwork:
    """A GENERATED city-size road network tiled from the real Yuzhong extract.

    Parameters
    ----------
    n_tiles : int or {"5k", "15k", "31k"}
        Number of translated copies, or a named size (:data:`GENERATED_CITY_SIZES`).
    districts : GeoDataFrame, optional
        Real district polygons (any CRS, ``code`` column) to lay the tiles over; each
        district gets at least one tile. Without it the tiles form a compact grid
        whose first cell is Yuzhong's real position.
    seed : int
        Seed of the node jitter.
    jitter_m : float
        Each node moves by up to this many metres in x and in y.
    gap_m : float
        Width of the seam between neighbouring tiles, m.
    connectors_per_seam : int
        Two-way connector roads across each seam between grid neighbours.
    tile_crop_m : float, optional
        Crop the source tile to a square of this side (m) around its centre, for
        small fast networks (tests).
    travel_model : TravelModel
        Applied to the whole generated city, as :func:`load_network` does.
    osm : str or Path
        The real extract to tile (default: the Yuzhong drive extract in ../shared/data).
    cache_dir : str, Path, None or False
        Passed to :func:`load_network` for the source tile.
    progress : bool
        Show :func:`load_network`'s progress bars.

    Returns
    -------
    RoadNetwork
        In the tile's metric CRS (UTM 48N). ``graph.graph["generated"] is True``; the
        report source starts with ``"GENERATED city"``; ``boundary`` is the union of the
        districts (or of the tile footprints) and ``study_area`` its 1,500 m buffer.
    """
    return _generate(n_tiles, districts, seed, jitter_m, gap_m, connectors_per_seam,
                     tile_crop_m, travel_model, osm, cache_dir, progress)[0]


def _n_tiles(n_tiles: int | str) -> int:
    if isinstance(n_tiles, str):
        if n_tiles not in GENERATED_CITY_SIZES:
            raise InputError(f"unknown generated city size {n_tiles!r}.",
                             source="generated_city_network",
                             fix=f"use one of {sorted(GENERATED_CITY_SIZES)} or a tile count.")
        return GENERATED_CITY_SIZES[n_tiles]
    if not isinstance(n_tiles, (int, np.integer)) or n_tiles < 1:
        raise InputError(f"n_tiles={n_tiles!r} is not a positive whole number.",
                         source="generated_city_network", fix="pass e.g. 4.")
    return int(n_tiles)


def _generate(
    n_tiles, districts, seed, jitter_m, gap_m, connectors_per_seam, tile_crop_m,
    travel_model, osm, cache_dir, progress,
) -> tuple[RoadNetwork, gpd.GeoDataFrame]:
    n = _n_tiles(n_tiles)
    src, crs = _tile_source(Path(osm), tile_crop_m, cache_dir, progress)
    xy = np.array([(d["x"], d["y"]) for _, d in src.nodes(data=True)])
    x0, y0 = xy.min(axis=0)
    w, h = np.ptp(xy, axis=0)
    px, py = w + gap_m, h + gap_m
    districts_m = None
    if districts is not None:
        if districts.crs is None:
            raise InputError("the districts GeoDataFrame has no CRS.", source="districts",
                             fix="set it, e.g. gdf.set_crs('EPSG:4326').")
        districts_m = districts.to_crs(crs)
        if "code" not in districts_m:
            districts_m = districts_m.assign(code=[str(i + 1) for i in range(len(districts_m))])
        cells, owner, (gx0, gy0) = _district_cells(districts_m, n, w, h, px, py, (x0, y0))
    else:
        cells, owner, (gx0, gy0) = _grid_cells(n, None), [""] * n, (x0, y0)
    offsets = np.array([(gx0 + i * px - x0, gy0 + j * py - y0) for i, j in cells])

    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph(crs=crs)
    keys, trees, tile_nodes = [], [], []
    for k, off in enumerate(offsets):
        key = _jittered_copy(src, G, k, off, jitter_m, rng)
        keys.append(key)
        nodes = np.array(list(key.values()))
        pts = np.array([(G.nodes[m]["x"], G.nodes[m]["y"]) for m in nodes])
        trees.append(cKDTree(pts))
        tile_nodes.append(nodes)

    def nearest(tile: int, point: Sequence[float]) -> int:
        return int(tile_nodes[tile][trees[tile].query(point)[1]])

    footprints = [box(x0 + dx, y0 + dy, x0 + dx + w, y0 + dy + h) for dx, dy in offsets]
    centres = offsets + np.array([x0 + w / 2, y0 + h / 2])
    seams, links = _union_find_links(cells, centres)
    n_conn = 0
    for a, b, axis in seams:
        fa = footprints[a].bounds
        for t in range(connectors_per_seam):
            share = (t + 0.5) / connectors_per_seam
            if axis == "x":  # b is right of a: seam at x = a.maxx + gap/2
                p = (fa[2] + gap_m / 2, fa[1] + share * h)
            else:  # b is above a
                p = (fa[0] + share * w, fa[3] + gap_m / 2)
            na, nb = nearest(a, p), nearest(b, p)
            if not G.has_edge(na, nb):
                _connector(G, na, nb, "primary")
                n_conn += 1
    for a, b in links:
        # Two expressway links per pair: from the nodes nearest each other's centre
        # and from those nearest the midpoint, so one closure does not split the city.
        mid = (centres[a] + centres[b]) / 2
        for pa, pb in ((centres[b], centres[a]), (mid, mid)):
            na, nb = nearest(a, pa), nearest(b, pb)
            if not G.has_edge(na, nb):
                _connector(G, na, nb, "trunk")
                n_conn += 1

    to_wgs = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    nodes = list(G.nodes)
    lon, lat = to_wgs.transform([G.nodes[m]["x"] for m in nodes], [G.nodes[m]["y"] for m in nodes])
    for m, lo, la in zip(nodes, lon, lat, strict=True):
        G.nodes[m]["lon"], G.nodes[m]["lat"] = float(lo), float(la)

    nodes_in, edges_in = len(G), G.number_of_edges()
    H, drops = apply_travel_model(G, travel_model)
    core = ox.truncate.largest_component(H, strongly=True)
    dropped_edges = {**drops}
    if H.number_of_edges() - core.number_of_edges():
        dropped_edges[SCC_REASON] = H.number_of_edges() - core.number_of_edges()
    dropped_nodes = {SCC_REASON: len(H) - len(core)} if len(H) > len(core) else {}
    description = (
        f"GENERATED city: {n} translated copies of the real Yuzhong drive extract "
        f"({Path(osm).name}{'' if tile_crop_m is None else f', cropped to {tile_crop_m:g} m'}), "
        f"nodes jittered by up to {jitter_m:g} m (seed {seed}), stitched by {n_conn} two-way "
        f"generated connector roads{'' if districts is None else ', laid over real district boundaries'}. "
        "Not real roads."
    )
    core.graph.update(crs=crs, generated=True, description=description, tiles=n, seed=seed)
    boundary = (shapely.union_all(districts_m.geometry.to_numpy()) if districts_m is not None
                else shapely.union_all([shapely.convex_hull(shapely.multipoints(
                    [(G.nodes[m]["x"], G.nodes[m]["y"]) for m in t])) for t in tile_nodes]))
    report = NetworkReport(
        source=description, nodes_in=nodes_in, edges_in=edges_in,
        dropped_edges=dropped_edges, dropped_nodes=dropped_nodes,
        nodes=len(core), edges=core.number_of_edges(), crs=crs.to_string(),
    )
    network = RoadNetwork(graph=core, crs=crs, study_area=boundary.buffer(1500.0),
                          boundary=boundary, report=report, travel_model=travel_model)
    tiles = gpd.GeoDataFrame(
        {"tile": np.arange(n), "col": [c[0] for c in cells], "row": [c[1] for c in cells],
         "dx_m": offsets[:, 0], "dy_m": offsets[:, 1], "district": owner,
         "generated": True},
        geometry=footprints, crs=crs,
    )
    return network, tiles


def _node_xy(network: RoadNetwork) -> np.ndarray:
    return np.array([(d["x"], d["y"]) for _, d in network.graph.nodes(data=True)])


def _farthest_points(xy: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    """``k`` well-spread rows of ``xy``: farthest-point sampling from a seeded start."""
    k = min(k, len(xy))
    picked = [int(rng.integers(len(xy)))]
    dist = np.hypot(*(xy - xy[picked[0]]).T)
    while len(picked) < k:
        nxt = int(np.argmax(dist))
        picked.append(nxt)
        dist = np.minimum(dist, np.hypot(*(xy - xy[nxt]).T))
    return picked


def _points_frame(network: RoadNetwork, xy: np.ndarray, columns: dict) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=shapely.points(xy), crs=network.crs).to_crs(
        "EPSG:4326")


def generated_city_stations(
    network: RoadNetwork,
    n_stations: int | None = None,
    *,
    districts: gpd.GeoDataFrame | None = None,
    seed: int = 0,
) -> gpd.GeoDataFrame:
    """GENERATED fire stations on a generated city's road nodes, well spread.

    Parameters
    ----------
    network : RoadNetwork
        Usually from :func:`generated_city_network`.
    n_stations : int, optional
        Default: one per 600 graph nodes, clipped to 20–50.
    districts : GeoDataFrame, optional
        With a ``code`` column: stations are shared among districts in proportion to
        their road nodes (at least one each) and carry that ``district`` code.
    seed : int
        Seed of the first pick of farthest-point sampling.

    Returns
    -------
    GeoDataFrame
        WGS84 points shaped like :func:`coverage.layers.read_stations` output: ``id``
        ``GEN-S01``…, ``name`` ``generated station 1``…, ``type`` (every fifth a
        ``small`` station, the others ``level1``), ``area_cap_km2``, ``status``
        ``existing``, ``district``, ``generated`` True.
    """
    xy = _node_xy(network)
    n = n_stations or int(np.clip(round(len(xy) / 600), 20, 50))
    rng = np.random.default_rng(seed)
    if districts is not None:
        dm = districts.to_crs(network.crs)
        codes = dm["code"].astype(str).to_numpy() if "code" in dm else np.arange(len(dm)).astype(str)
        inside = [shapely.contains_xy(g, xy[:, 0], xy[:, 1]) for g in dm.geometry]
        counts = np.array([m.sum() for m in inside], dtype=float)
        if n < (counts > 0).sum():
            n = int((counts > 0).sum())
        share = np.where(counts > 0, 1, 0) + np.floor(
            (n - (counts > 0).sum()) * counts / counts.sum()).astype(int)
        for d in np.argsort(-counts)[: n - share.sum()]:
            share[d] += 1
        picks, owner = [], []
        for d, m in enumerate(inside):
            rows = np.flatnonzero(m)
            if share[d] and len(rows):
                picks += [int(rows[i]) for i in _farthest_points(xy[rows], int(share[d]), rng)]
                owner += [str(codes[d])] * min(int(share[d]), len(rows))
    else:
        picks, owner = _farthest_points(xy, n, rng), [""] * n
    types = ["small" if i % 5 == 4 else "level1" for i in range(len(picks))]
    return _points_frame(network, xy[picks], {
        "id": [f"GEN-S{i + 1:02d}" for i in range(len(picks))],
        "name": [f"generated station {i + 1}" for i in range(len(picks))],
        "type": types,
        "area_cap_km2": [STATION_TYPES[t].area_cap_km2 for t in types],
        "status": "existing", "status_detail": "existing",
        "district": owner, "generated": True,
    })


def generated_city_candidates(
    network: RoadNetwork, n_candidates: int | None = None, *, seed: int = 0
) -> gpd.GeoDataFrame:
    """GENERATED candidate sites: a seeded random sample of the city's road nodes.

    Parameters
    ----------
    n_candidates : int, optional
        Default: one per 6 graph nodes, clipped to 1,000–5,000 (never more than nodes).

    Returns
    -------
    GeoDataFrame
        WGS84 points with ``id`` ``GEN-C00001``…, ``name`` ``generated site 1``…,
        ``generated`` True.
    """
    xy = _node_xy(network)
    n = min(n_candidates or int(np.clip(round(len(xy) / 6), 1000, 5000)), len(xy))
    rows = np.sort(np.random.default_rng(seed + 1).choice(len(xy), size=n, replace=False))
    return _points_frame(network, xy[rows], {
        "id": [f"GEN-C{i + 1:05d}" for i in range(n)],
        "name": [f"generated site {i + 1}" for i in range(n)],
        "generated": True,
    })


def generated_city(
    n_tiles: int | str = "5k",
    *,
    districts: gpd.GeoDataFrame | None = None,
    n_stations: int | None = None,
    n_candidates: int | None = None,
    seed: int = 0,
    jitter_m: float = 3.0,
    gap_m: float = 100.0,
    connectors_per_seam: int = 3,
    tile_crop_m: float | None = None,
    travel_model: TravelModel = CHINA_URBAN,
    osm: str | Path = YUZHONG_DRIVE_OSM,
    cache_dir: Any = None,
    progress: bool = False,
) -> GeneratedCity:
    """A whole GENERATED city: network, stations, candidates and tile layout.

    The network options are those of :func:`generated_city_network`; ``n_stations``
    and ``n_candidates`` those of :func:`generated_city_stations` and
    :func:`generated_city_candidates`.
    """
    net, tiles = _generate(n_tiles, districts, seed, jitter_m, gap_m, connectors_per_seam,
                           tile_crop_m, travel_model, osm, cache_dir, progress)
    return GeneratedCity(
        network=net,
        stations=generated_city_stations(net, n_stations, districts=districts, seed=seed),
        candidates=generated_city_candidates(net, n_candidates, seed=seed),
        districts=None if districts is None else districts.to_crs("EPSG:4326"),
        tiles=tiles,
    )
