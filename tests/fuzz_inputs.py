"""Generated inputs for the bad-input (fuzz) suite: a tiny valid case and its mutations.

Everything here is *generated* (named ``generated_*``): a 6 × 6 grid of named roads,
about 100 m apart, at Yuzhong's longitude and latitude, with two fire hydrants; a
boundary polygon inside it; two stations; a demand layer; a scenario file. Each
``mutate_*`` function turns one valid input into one bad input of its family.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

#: South-west corner of the generated grid (deg) and its spacing (deg, ~100 m).
LON0, LAT0, STEP = 106.5600, 29.5500, 0.0010
N = 6
ROAD_CLASSES = ("primary", "secondary", "tertiary", "residential")


def node_lonlat(i: int, j: int) -> tuple[float, float]:
    return LON0 + j * STEP, LAT0 + i * STEP


def generated_osm_xml(*, highway: str | None = None, node_override: dict | None = None,
                      hydrants: bool = True) -> str:
    """OSM XML of the generated grid; ``node_override`` maps node id → (lat, lon) text."""
    node_override = node_override or {}
    lines = ["<?xml version='1.0' encoding='UTF-8'?>",
             '<osm version="0.6" generator="station-coverage generated test grid">']
    for i in range(N):
        for j in range(N):
            nid = 1 + i * N + j
            lon, lat = node_lonlat(i, j)
            lat_t, lon_t = node_override.get(nid, (f"{lat:.7f}", f"{lon:.7f}"))
            lines.append(f'  <node id="{nid}" version="1" lat="{lat_t}" lon="{lon_t}"/>')
    if hydrants:
        for k, (i, j) in enumerate([(1, 1), (3, 4)]):
            lon, lat = node_lonlat(i, j)
            lines.append(f'  <node id="{1000 + k}" version="1" lat="{lat + 0.0001:.7f}" '
                         f'lon="{lon:.7f}"><tag k="emergency" v="fire_hydrant"/></node>')
    way = 100
    for i in range(N):  # east-west roads
        cls = highway or ROAD_CLASSES[i % len(ROAD_CLASSES)]
        refs = "".join(f'<nd ref="{1 + i * N + j}"/>' for j in range(N))
        lines.append(f'  <way id="{way}" version="1">{refs}<tag k="highway" v="{cls}"/>'
                     f'<tag k="name" v="东西路{i}"/></way>')
        way += 1
    for j in range(N):  # north-south roads
        cls = highway or ROAD_CLASSES[j % len(ROAD_CLASSES)]
        refs = "".join(f'<nd ref="{1 + i * N + j}"/>' for i in range(N))
        lines.append(f'  <way id="{way}" version="1">{refs}<tag k="highway" v="{cls}"/>'
                     f'<tag k="name" v="南北路{j}"/></way>')
        way += 1
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def _ring(margin: float = 0.3) -> list[list[float]]:
    lo, hi = margin * STEP, (N - 1 - margin) * STEP
    return [[LON0 + lo, LAT0 + lo], [LON0 + hi, LAT0 + lo], [LON0 + hi, LAT0 + hi],
            [LON0 + lo, LAT0 + hi], [LON0 + lo, LAT0 + lo]]


def geojson(geometries: list[dict], properties: list[dict] | None = None) -> str:
    props = properties or [{} for _ in geometries]
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": g, "properties": p}
        for g, p in zip(geometries, props, strict=True)]}, ensure_ascii=False)


def generated_boundary() -> str:
    return geojson([{"type": "Polygon", "coordinates": [_ring()]}], [{"name": "generated"}])


def generated_stations() -> str:
    pts = [node_lonlat(1, 1), node_lonlat(4, 3)]
    return geojson([{"type": "Point", "coordinates": [lon, lat]} for lon, lat in pts],
                   [{"id": "G1", "name": "generated one", "type": "一级"},
                    {"id": "G2", "name": "generated two", "type": "小型"}])


def generated_demand() -> str:
    pts = [node_lonlat(2, 2), node_lonlat(3, 1), node_lonlat(2, 4)]
    return geojson([{"type": "Point", "coordinates": [lon, lat]} for lon, lat in pts],
                   [{"id": f"D{k}", "weight": 1.0 + k} for k in range(len(pts))])


def generated_scenario(paths: dict[str, Path], out: Path) -> str:
    return (f'name = "generated"\nout = "{out}"\n\n[data]\nosm = "{paths["osm"]}"\n'
            f'boundary = "{paths["boundary"]}"\nstations = "{paths["stations"]}"\n\n'
            '[assess]\nbreaks_min = [2, 4]\n')


def write_valid_case(folder: Path) -> dict[str, Path]:
    """Write the valid generated inputs into ``folder``; returns their paths by role."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "osm": folder / "generated_grid.osm",
        "boundary": folder / "generated_boundary.geojson",
        "stations": folder / "generated_stations.geojson",
        "demand": folder / "generated_demand.geojson",
    }
    paths["osm"].write_text(generated_osm_xml(), encoding="utf-8")
    paths["boundary"].write_text(generated_boundary(), encoding="utf-8")
    paths["stations"].write_text(generated_stations(), encoding="utf-8")
    paths["demand"].write_text(generated_demand(), encoding="utf-8")
    return paths


def tree_hashes(root: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under ``root`` (empty when it does not exist)."""
    try:
        if not root.exists():
            return {}
    except OSError:  # e.g. a name longer than the file system allows
        return {}
    if root.is_file():
        return {root.name: hashlib.sha256(root.read_bytes()).hexdigest()}
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
