"""``load_network``: from OSM (a file or an online query) to a :class:`RoadNetwork`.

Pipeline, in this order:

1. the district (``boundary``, or the place/polygon/bbox queried) is buffered by
   ``buffer_m`` to give the study area;
2. the ways passing :func:`~coverage.network.osm.emergency_filter` are read from the
   file (within the study area's bbox) or downloaded (within the study area);
3. osmnx simplifies the graph, which is then truncated to the study area (an edge
   with one node inside is kept, ``truncate_by_edge``);
4. optional DEM elevations; projection to the metric CRS (local UTM by default);
5. edge attributes are normalised and the travel model sets speeds and times and
   removes edges the apparatus cannot pass;
6. only the largest strongly connected component is kept, so every node can be
   reached from every other.

Every removal is counted, with its reason, in :class:`NetworkReport`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry
from tqdm.auto import tqdm

from coverage.errors import InputError
from coverage.network import cache
from coverage.network.attributes import normalise_edges, simplify
from coverage.network.model import NetworkProfile, NetworkReport, RoadNetwork
from coverage.network.osm import (
    WAY_TAGS,
    download_graph,
    emergency_filter,
    read_osm_file,
)
from coverage.network.travel import CHINA_URBAN, TravelModel, apply_travel_model

__all__ = ["SCC_REASON", "load_network"]

WGS84 = "EPSG:4326"
SCC_REASON = "outside largest strongly connected component"
WCC_REASON = "outside largest weakly connected component"


def _polygonal(geom: BaseGeometry, what: str, source: str | None) -> Polygon | MultiPolygon:
    """``geom`` as a valid (Multi)Polygon, repairing self-intersections with
    ``shapely.make_valid``; InputError for anything without area."""
    if geom is None or geom.is_empty:
        raise InputError(f"{what} is empty.", source=source, fix="pass the district polygon.")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        if not isinstance(geom, (Polygon, MultiPolygon)):
            geom = shapely.union_all(
                [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, (Polygon, MultiPolygon))]
            )
    if not isinstance(geom, (Polygon, MultiPolygon)) or geom.is_empty or geom.area <= 0:
        raise InputError(
            f"{what} is a {geom.geom_type}, not a polygon.", source=source,
            fix="pass the district area as a Polygon or MultiPolygon.",
        )
    return geom


def _as_wgs84_polygon(value: Any, what: str) -> Polygon | MultiPolygon:
    """A boundary given as a shapely geometry (WGS84) or GeoDataFrame/GeoSeries (any CRS)."""
    if isinstance(value, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if value.crs is None:
            raise InputError(
                f"{what} GeoDataFrame has no CRS.", source=what,
                fix="set it, e.g. gdf.set_crs('EPSG:4326') for GeoJSON in WGS84.",
            )
        if len(value) == 0:
            raise InputError(f"{what} GeoDataFrame has no features.", source=what,
                             fix="pass the district polygon.")
        return _polygonal(value.to_crs(WGS84).geometry.union_all(), what, what)
    if not isinstance(value, BaseGeometry):
        raise InputError(
            f"{what} is a {type(value).__name__}, not a geometry.", source=what,
            fix="pass a shapely Polygon in WGS84 or a GeoDataFrame with a CRS.",
        )
    west, south, east, north = value.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InputError(
            f"{what} coordinates {value.bounds} are not longitude/latitude degrees.",
            source=what,
            fix="pass shapely geometries in WGS84, or a GeoDataFrame carrying its CRS.",
        )
    return _polygonal(value, what, what)


def _bbox_polygon(bbox: Any) -> Polygon:
    try:
        west, south, east, north = (float(b) for b in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError(f"bbox {bbox!r} is not four numbers.", source="bbox",
                         fix="pass (west, south, east, north) in WGS84 degrees.") from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InputError(f"bbox {bbox!r} is not a (west, south, east, north) box in degrees.",
                         source="bbox", fix="pass (west, south, east, north) in WGS84 degrees.")
    return box(west, south, east, north)


def _geocode(place: str) -> Polygon | MultiPolygon:
    try:
        gdf = ox.geocode_to_gdf(place)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"place {place!r} could not be geocoded ({exc}).", source="place",
            fix="check the spelling and the internet connection, or pass boundary and a local osm file.",
        ) from exc
    return _polygonal(gdf.to_crs(WGS84).geometry.union_all(), f"place {place!r}", "place")


def _buffer_wgs84(geom: BaseGeometry, buffer_m: float) -> BaseGeometry:
    """Buffer a WGS84 geometry by metres, in its local UTM zone."""
    projected, utm = ox.projection.project_geometry(geom, crs=WGS84)
    buffered, _ = ox.projection.project_geometry(
        projected.buffer(buffer_m), crs=utm, to_latlong=True
    )
    return buffered


def _metric_crs(crs: Any) -> pyproj.CRS | None:
    if crs is None:
        return None
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(f"crs {crs!r} is not a known CRS ({exc}).", source="crs",
                         fix='pass e.g. "EPSG:4545", or None for local UTM.') from exc
    units = {a.unit_name for a in parsed.axis_info}
    if not parsed.is_projected or not units <= {"metre", "meter"}:
        raise InputError(
            f"crs {crs!r} is not a projected CRS in metres.", source="crs",
            fix='pass a metric CRS such as "EPSG:4545" (CGCS2000 / 3-degree GK CM 108E), '
            "or None for local UTM.",
        )
    return parsed


@dataclass(frozen=True)
class _Request:
    """Validated inputs: what to read, the district and study area (WGS84)."""

    source: str
    osm: Path | None
    district: BaseGeometry | None
    study_area: BaseGeometry | None
    download: bool
    key_parts: dict[str, Any]


#: Longest straight piece of road accepted between two consecutive OSM nodes, m. Real
#: roads have nodes every few hundred metres at most; a piece thousands of km long is
#: a misplaced node (e.g. one moved to the North Pole), which would stretch the
#: projected network over a continent.
MAX_OSM_SEGMENT_M = 50_000.0


def _check_segment_lengths(raw: nx.MultiDiGraph, source: str) -> None:
    """Refuse a road whose consecutive nodes lie absurdly far apart (a misplaced node)."""
    long: list[tuple[float, Any, Any, Any]] = []
    for u, v, data in raw.edges(data=True):
        length = data.get("length")
        if length is None:
            a, b = raw.nodes[u], raw.nodes[v]
            length = ox.distance.great_circle(a["y"], a["x"], b["y"], b["x"])
        if not math.isfinite(length) or length > MAX_OSM_SEGMENT_M:
            long.append((length, u, v, data.get("osmid")))
    if not long:
        return
    # The misplaced node is the one at the end of the most over-long pieces.
    ends = Counter(n for _, u, v, _ in long for n in (u, v))
    node_id, _ = ends.most_common(1)[0]
    length, u, v, way = max((x for x in long if node_id in x[1:3]),
                            key=lambda x: x[0] if math.isfinite(x[0]) else math.inf)
    node = raw.nodes[node_id]
    raise InputError(
        f"OSM node {node_id} (read as lat {node['y']:.5f}, lon {node['x']:.5f}) is misplaced: "
        f"way {way} runs {length / 1000:,.0f} km from node {u} to node {v}, and no road is "
        f"drawn like that (limit {MAX_OSM_SEGMENT_M / 1000:g} km between two nodes).",
        source=source,
        fix="correct or delete that node in the extract (JOSM, QGIS), or export the extract again.",
    )


#: File name endings read as OpenStreetMap data (the formats pyosmium reads).
OSM_FILE_SUFFIXES = (".osm", ".xml", ".pbf", ".osm.bz2", ".osm.gz", ".o5m", ".opl")


def _request(
    osm: str | Path | None,
    place: str | None,
    polygon: Any,
    bbox: Sequence[float] | None,
    boundary: Any,
    buffer_m: float,
) -> _Request:
    given = [k for k, v in {"osm": osm, "place": place, "polygon": polygon, "bbox": bbox}.items()
             if v is not None]
    if len(given) != 1:
        raise InputError(
            f"got {len(given)} road sources ({', '.join(given) or 'none'}).", source="load_network",
            fix="pass exactly one of osm=PATH, place=NAME, polygon=GEOMETRY or bbox=(W, S, E, N).",
        )
    if not (isinstance(buffer_m, (int, float)) and math.isfinite(buffer_m) and buffer_m >= 0):
        raise InputError(f"buffer_m={buffer_m!r} is not a distance in metres >= 0.",
                         source="load_network", fix="pass e.g. buffer_m=1500.")
    if osm is not None:
        path = Path(osm)
        if not path.is_file():
            raise InputError(
                "OSM file not found.", source=path,
                fix="check the path, or download an extract (.osm or .osm.pbf) covering the district.",
            )
        if not path.name.lower().endswith(OSM_FILE_SUFFIXES):
            raise InputError(
                f"{path.name!r} does not end in an OSM file extension ({', '.join(OSM_FILE_SUFFIXES)}).",
                source=path,
                fix="pass an OSM extract (.osm XML or .osm.pbf); rename the file if it is one.",
            )
        if path.stat().st_size == 0:
            raise InputError("the OSM file is empty.", source=path,
                             fix="download or export the extract again.")
        district = None if boundary is None else _as_wgs84_polygon(boundary, "boundary")
        key = {"osm": cache.file_digest(path)}
        return _Request(str(path), path, district,
                        None if district is None else _buffer_wgs84(district, buffer_m),
                        False, key)
    if boundary is not None:
        raise InputError(
            f"boundary cannot be combined with {given[0]}: the queried area is the district.",
            source="load_network",
            fix="pass the district as polygon=GEOMETRY, or use boundary with a local osm file.",
        )
    if place is not None:
        district, source, key = _geocode(str(place)), f"place {place!r}", {"place": str(place)}
    elif polygon is not None:
        district = _as_wgs84_polygon(polygon, "polygon")
        source, key = "polygon", {"polygon": shapely.to_wkb(district, hex=True)}
    else:
        district = _bbox_polygon(bbox)
        source, key = f"bbox {tuple(bbox)}", {"bbox": list(district.bounds)}
    return _Request(source, None, district, _buffer_wgs84(district, buffer_m), True, key)


def _check_dem(dem: Path) -> Any:
    """The DEM's CRS, after checking that it can be read at all (before any parsing)."""
    try:
        import rasterio
    except ImportError as exc:
        raise InputError(
            "reading a DEM needs the rasterio package, which is not installed.", source=dem,
            fix="pip install rasterio, or leave dem unset (no uphill penalty).",
        ) from exc
    if not dem.is_file():
        raise InputError("DEM raster not found.", source=dem, fix="check the path.")
    try:
        with rasterio.open(dem) as raster:
            raster_crs = raster.crs
    except rasterio.errors.RasterioError as exc:
        raise InputError(f"cannot be read as a raster ({exc}).", source=dem,
                         fix="pass a GeoTIFF DEM.") from exc
    if raster_crs is None:
        raise InputError("DEM raster has no CRS.", source=dem,
                         fix="georeference it (e.g. gdal_edit.py -a_srs EPSG:4326).")
    return raster_crs


def _add_dem_elevations(G: nx.MultiDiGraph, dem: Path, raster_crs: Any) -> None:
    """Set node ``elevation`` (m) from a local DEM raster, in place (G in WGS84)."""
    # Query the raster in its own CRS; only node positions are needed.
    to_raster = pyproj.Transformer.from_crs(WGS84, raster_crs.to_wkt(), always_xy=True)
    nodes = list(G.nodes)
    xs, ys = to_raster.transform([G.nodes[n]["x"] for n in nodes], [G.nodes[n]["y"] for n in nodes])
    points = nx.MultiDiGraph(crs=raster_crs)
    points.add_nodes_from((n, {"x": x, "y": y}) for n, x, y in zip(nodes, xs, ys, strict=True))
    ox.elevation.add_node_elevations_raster(points, dem, cpus=1)
    nx.set_node_attributes(G, dict(points.nodes(data="elevation")), "elevation")


def _edge_count_drop(before: nx.MultiDiGraph, after: nx.MultiDiGraph) -> int:
    return before.number_of_edges() - after.number_of_edges()


def _add(counts: dict[str, int], reason: str, n: int) -> None:
    if n > 0:
        counts[reason] = counts.get(reason, 0) + n


def load_network(
    *,
    osm: str | Path | None = None,
    place: str | None = None,
    polygon: Any = None,
    bbox: Sequence[float] | None = None,
    boundary: Any = None,
    buffer_m: float = 1500.0,
    travel_model: Any = CHINA_URBAN,
    crs: Any = None,
    dem: str | Path | None = None,
    cache_dir: str | Path | None | bool = None,
    connectivity: str = "strong",
    progress: bool = True,
) -> RoadNetwork:
    """Build (or read from cache) the emergency-vehicle road network of a district.

    Parameters
    ----------
    osm : str or Path, optional
        Local OSM extract, ``.osm`` XML or ``.osm.pbf``. Offline.
    place : str, optional
        Place name geocoded by Nominatim; its polygon is the district. Online.
    polygon : shapely geometry (WGS84) or GeoDataFrame (any CRS), optional
        The district, downloaded from Overpass. Online.
    bbox : (west, south, east, north), optional
        WGS84 degrees; the box is the district. Online.
    boundary : shapely geometry (WGS84) or GeoDataFrame (any CRS), optional
        The district, with ``osm`` only (for online sources the queried area is
        the district). Without it the whole file is used and the study area is
        the convex hull of the roads.
    buffer_m : float
        Study area = district buffered by this many metres, so that routes
        leaving and re-entering the district, and stations just outside it, count.
    travel_model : TravelModel or WalkModel
        Speeds and restrictions (:data:`~coverage.network.travel.CHINA_URBAN`), or a
        pedestrian model (:class:`~coverage.network.walk.WalkModel`), which reads
        the walk ways instead of the drivable ones.
    crs : CRS-like, optional
        Metric CRS of the result, e.g. ``"EPSG:4545"`` (CGCS2000 / 3-degree
        Gauss-Kruger CM 108E); None projects to the local UTM zone.
    dem : str or Path, optional
        DEM raster for node elevations (needs ``rasterio``), for the travel
        model's uphill penalty.
    cache_dir : str or Path, None or False
        Where built networks are cached; None = :func:`cache.default_cache_dir`,
        False = no cache. The key covers the file's bytes (or the query), the
        district, buffer, travel model, CRS, DEM and way filter. Online results
        are cached too: delete the entry to fetch fresh OSM data.
    connectivity : {"strong", "weak"}
        Keep the largest strongly connected component (default: every node can
        reach every other by car, one-way rules included), or the largest weakly
        connected one, for uses that ignore one-way rules such as laying hose.
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    RoadNetwork
        Largest strongly (or weakly) connected component in ``crs``, with the attributes its
        docstring lists, the study area and district in ``crs``, and a report of
        every removal.

    Raises
    ------
    InputError
        Not exactly one source; missing, corrupt or empty OSM file; boundary not
        a polygon; bad CRS, buffer or DEM; nothing left after filtering.
    """
    profile = _profile(travel_model)
    req = _request(osm, place, polygon, bbox, boundary, buffer_m)
    target_crs = _metric_crs(crs)
    dem_path = None if dem is None else Path(dem)
    dem_crs = None if dem_path is None else _check_dem(dem_path)
    if connectivity not in ("strong", "weak"):
        raise InputError(f"unknown connectivity {connectivity!r}", fix="use 'strong' or 'weak'")
    way_filter = profile.way_filter
    key = cache.cache_key({
        "profile": profile.name,
        "connectivity": connectivity,
        **req.key_parts,
        "district": None if req.district is None else shapely.to_wkb(req.district, hex=True),
        "buffer_m": float(buffer_m),
        "travel_model": travel_model.as_dict(),
        "crs": None if target_crs is None else target_crs.to_wkt(),
        "dem": None if dem_path is None else cache.file_digest(dem_path),
        "filter": way_filter.overpass(),
        "tags": WAY_TAGS,
        "osmnx": ox.__version__,
    })
    cache_path = None if cache_dir is False else (
        cache.default_cache_dir() if cache_dir is None else Path(cache_dir))
    if cache_path is not None:
        hit = cache.read(cache_path, key)
        if hit is not None:
            return RoadNetwork(
                graph=hit["graph"], crs=pyproj.CRS.from_wkt(hit["crs"]),
                study_area=hit["study_area"], boundary=hit["boundary"],
                report=replace(hit["report"], from_cache=True), travel_model=travel_model,
            )
    dem_arg = None if dem_path is None else (dem_path, dem_crs)
    network = _build(req, profile, travel_model, target_crs, dem_arg, buffer_m, progress,
                     connectivity)
    if cache_path is not None:
        cache.write(cache_path, key, {
            "graph": network.graph, "crs": network.crs.to_wkt(),
            "study_area": network.study_area, "boundary": network.boundary,
            "report": network.report,
        })
    return network


def _profile(model: Any) -> NetworkProfile:
    """The drive profile of a TravelModel, or the model's own (the walk model's)."""
    if isinstance(model, TravelModel):
        return NetworkProfile(
            name="drive", way_filter=emergency_filter(), bidirectional=False,
            what="way drivable by a fire engine", prepare=None, sum_attrs=(),
            apply=lambda G: apply_travel_model(G, model),
        )
    if hasattr(model, "network_profile"):
        return model.network_profile()
    raise InputError(f"travel_model is a {type(model).__name__}.", source="load_network",
                     fix="pass a TravelModel (e.g. CHINA_URBAN) or a WalkModel.")


def _build(
    req: _Request,
    profile: NetworkProfile,
    model: Any,
    target_crs: pyproj.CRS | None,
    dem: tuple[Path, Any] | None,
    buffer_m: float,
    progress: bool,
    connectivity: str = "strong",
) -> RoadNetwork:
    dropped_edges: dict[str, int] = {}
    dropped_nodes: dict[str, int] = {}
    stages = tqdm(total=6, desc="Road network", disable=not progress, leave=False)
    with stages:
        stages.set_postfix_str("reading OSM")
        if req.download:
            raw = download_graph(req.study_area, profile.way_filter, source=req.source,
                                 network_type="walk" if profile.bidirectional else "drive")
        else:
            bounds = None if req.study_area is None else req.study_area.bounds
            raw, stats = read_osm_file(req.osm, profile.way_filter, bbox=bounds,
                                       progress=progress, bidirectional=profile.bidirectional,
                                       what=profile.what)
            _add(dropped_edges, "OSM ways without two consecutive nodes in the file (ways)",
                 stats.incomplete)
            _add(dropped_edges, "OSM ways cut to the part whose nodes are in the file (ways)",
                 stats.clipped)
        _check_segment_lengths(raw, req.source)
        stages.update()

        stages.set_postfix_str("simplifying")
        if profile.prepare is not None:
            raw = profile.prepare(raw)
        G = simplify(raw, profile.sum_attrs)
        if G.number_of_edges() == 0:  # e.g. a lone ring road, which osmnx removes
            raise InputError(
                "osmnx found no street network in the roads read (isolated rings only).",
                source=req.source, fix="use an extract that covers the district's road network.",
            )
        nodes_in, edges_in = len(G), G.number_of_edges()
        if req.study_area is not None:
            reason = f"outside study area (district + {buffer_m:g} m)"
            try:
                inside = ox.truncate.truncate_graph_polygon(
                    G, req.study_area, truncate_by_edge=True)
            except ValueError as exc:  # osmnx: no node inside the polygon
                raise InputError(
                    f"no road of the OSM data lies in the study area ({exc}).", source=req.source,
                    fix="check that the boundary and the OSM extract cover the same place.",
                ) from exc
            _add(dropped_nodes, reason, len(G) - len(inside))
            _add(dropped_edges, reason, _edge_count_drop(G, inside))
            G = inside
        stages.update()

        stages.set_postfix_str("elevations")
        if dem is not None:
            _add_dem_elevations(G, *dem)
        for _, data in G.nodes(data=True):
            data["lon"], data["lat"] = data["x"], data["y"]
        stages.update()

        stages.set_postfix_str("projecting")
        G = ox.project_graph(G, to_crs=target_crs)
        graph_crs = pyproj.CRS.from_user_input(G.graph["crs"])
        # Attributes are normalised after projection: osmnx's GeoDataFrame round
        # trip drops NaN attributes, and the contract wants NaN present.
        G = normalise_edges(G)
        stages.update()

        stages.set_postfix_str("travel model")
        G, drops = profile.apply(G)
        for reason, n in drops.items():
            _add(dropped_edges, reason, n)
        stages.update()

        stages.set_postfix_str("connectivity")
        if G.number_of_edges() == 0:
            core = nx.MultiDiGraph(**G.graph)
        else:
            core = ox.truncate.largest_component(G, strongly=connectivity == "strong")
        reason = SCC_REASON if connectivity == "strong" else WCC_REASON
        _add(dropped_nodes, reason, len(G) - len(core))
        _add(dropped_edges, reason, _edge_count_drop(G, core))
        stages.update()

    if core.number_of_edges() == 0:
        raise InputError(
            f"no connected road network is left after filtering (removed: {dropped_edges}).",
            source=req.source,
            fix="check apparatus_height_m and the boundary, or use a larger OSM extract.",
        )

    def to_crs(geom: BaseGeometry | None) -> BaseGeometry | None:
        if geom is None:
            return None
        return ox.projection.project_geometry(geom, crs=WGS84, to_crs=graph_crs)[0]

    study_area = to_crs(req.study_area)
    if study_area is None:
        study_area = shapely.MultiPoint(
            [(d["x"], d["y"]) for _, d in core.nodes(data=True)]).convex_hull
    report = NetworkReport(
        source=req.source, nodes_in=nodes_in, edges_in=edges_in,
        dropped_edges=dropped_edges, dropped_nodes=dropped_nodes,
        nodes=len(core), edges=core.number_of_edges(), crs=graph_crs.to_string(),
    )
    return RoadNetwork(graph=core, crs=graph_crs, study_area=study_area,
                       boundary=to_crs(req.district), report=report, travel_model=model)
