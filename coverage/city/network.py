"""One road network for a whole city: a large ``.osm.pbf`` clipped by pyosmium to the
districts plus a buffer, a local ``.osm``, an online download, or a GENERATED city.

A city extract is usually a province- or country-wide PBF. :func:`clip_osm` streams it
once with pyosmium and keeps only the ``highway=*`` ways with a node inside the
districts' buffered outline (and those ways' nodes), writing a small PBF that
:func:`coverage.network.load_network` then builds, truncates to the same area and
caches like any district extract.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmium
import shapely
from tqdm.auto import tqdm

from coverage.errors import InputError
from coverage.network import CHINA_URBAN, RoadNetwork, TravelModel, load_network
from coverage.network.build import _buffer_wgs84

__all__ = ["ClipStats", "city_area_wgs84", "city_network", "clip_osm"]


@dataclass(frozen=True)
class ClipStats:
    """What :func:`clip_osm` kept: ``ways`` and ``nodes`` written, ``ways_read`` seen."""

    ways_read: int
    ways: int
    nodes: int


def city_area_wgs84(districts: gpd.GeoDataFrame, buffer_m: float):
    """The union of the districts buffered by ``buffer_m`` metres, WGS84."""
    union = shapely.union_all(districts.to_crs("EPSG:4326").geometry.to_numpy())
    return _buffer_wgs84(union, buffer_m)


def clip_osm(src: str | Path, area_wgs84: Any, dst: str | Path, *,
             progress: bool = False) -> ClipStats:
    """Write the ``highway=*`` ways of ``src`` with a node inside ``area_wgs84`` to ``dst``.

    Parameters
    ----------
    src : str or Path
        Any file pyosmium reads (``.osm.pbf``, ``.osm``, ``.osm.bz2``).
    area_wgs84 : shapely Polygon or MultiPolygon
        Longitude/latitude degrees.
    dst : str or Path
        Output; the format follows the extension (``.osm.pbf`` recommended).

    Returns
    -------
    ClipStats

    Raises
    ------
    InputError
        ``src`` is missing or unreadable, or no road lies in the area.
    """
    src = Path(src)
    if not src.is_file():
        raise InputError("OSM file not found.", source=src,
                         fix="check the path, or download a PBF extract covering the city.")
    shapely.prepare(area_wgs84)
    west, south, east, north = area_wgs84.bounds
    processor = (
        osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    ways, node_ids, read = [], set(), 0
    try:
        for way in tqdm(processor, desc="Clipping OSM ways", unit=" ways", disable=not progress,
                        leave=False):
            read += 1
            xy = np.array([(n.location.lon, n.location.lat) for n in way.nodes
                           if n.location.valid()]).reshape(-1, 2)
            near = ((xy[:, 0] >= west) & (xy[:, 0] <= east)
                    & (xy[:, 1] >= south) & (xy[:, 1] <= north))
            if not near.any() or not shapely.contains_xy(area_wgs84, xy[near, 0],
                                                         xy[near, 1]).any():
                continue
            refs = [n.ref for n in way.nodes]
            # A copy that owns its nodes and tags: the buffer behind ``way`` is reused.
            ways.append(way.replace(nodes=refs, tags=dict(way.tags)))
            node_ids.update(refs)
    except RuntimeError as exc:
        raise InputError(f"cannot be read as OSM data ({exc}).", source=src,
                         fix="pass an uncorrupted .osm.pbf or .osm file.") from exc
    if not ways:
        raise InputError("has no road inside the districts plus buffer.", source=src,
                         fix="use an extract that covers the districts, or check that the "
                         "districts layer is in WGS84 (not GCJ-02).")
    nodes = 0
    with osmium.SimpleWriter(str(dst), overwrite=True) as writer:
        for node in osmium.FileProcessor(str(src), osmium.osm.NODE):
            if node.id in node_ids:
                writer.add_node(node)
                nodes += 1
        for way in ways:
            writer.add_way(way)
    return ClipStats(read, len(ways), nodes)


def city_network(
    districts: gpd.GeoDataFrame,
    *,
    osm: str | Path | None = None,
    online: bool = False,
    buffer_m: float = 1500.0,
    travel_model: TravelModel = CHINA_URBAN,
    crs: Any = None,
    cache_dir: Any = None,
    progress: bool = True,
) -> RoadNetwork:
    """The road network of every district plus ``buffer_m``, as one :class:`RoadNetwork`.

    Parameters
    ----------
    districts : GeoDataFrame
        From :func:`coverage.city.districts.read_districts`.
    osm : str or Path, optional
        Local extract. A ``.pbf`` is first clipped by :func:`clip_osm` to the districts'
        buffered outline; a ``.osm`` goes straight to :func:`load_network`.
    online : bool
        Download the roads of the buffered districts from OpenStreetMap instead.
    buffer_m, travel_model, crs, cache_dir, progress
        As for :func:`coverage.network.load_network`.

    Returns
    -------
    RoadNetwork
        ``boundary`` is the union of the districts.
    """
    if (osm is None) == (not online):
        raise InputError("give exactly one road source for the city.", source="city",
                         fix="set data.osm = PATH (.osm or .osm.pbf), data.online = true, "
                         "or data.generated = SIZE.")
    union = gpd.GeoDataFrame(geometry=[shapely.union_all(
        districts.to_crs("EPSG:4326").geometry.to_numpy())], crs="EPSG:4326")
    options = dict(buffer_m=buffer_m, travel_model=travel_model, crs=crs, cache_dir=cache_dir,
                   progress=progress)
    if online:
        return load_network(polygon=union, **options)
    path = Path(osm)
    if path.suffix.lower() != ".pbf":
        return load_network(osm=path, boundary=union, **options)
    with tempfile.TemporaryDirectory(prefix="station-coverage-city-") as tmp:
        clipped = Path(tmp) / "city-roads.osm.pbf"
        clip_osm(path, city_area_wgs84(districts, buffer_m), clipped, progress=progress)
        network = load_network(osm=clipped, boundary=union, **options)
    report = network.report
    if report is not None:
        from dataclasses import replace

        network = replace(network, report=replace(
            report, source=f"{path} (clipped by pyosmium to the districts + {buffer_m:g} m)"))
    return network
