"""Writing results: atomic files, RFC 7946 GeoJSON, JSON summaries.

Every writer goes through a temporary file in the target folder and
``os.replace``, so a crash never leaves a half-written output, and refuses to
write over any input file of the run.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from coverage.errors import InputError

__all__ = ["atomic_write", "write_json", "write_geojson", "to_rfc7946", "check_outputs"]


def check_outputs(out_dir: str | Path, inputs: Iterable[str | Path | None]) -> Path:
    """Create ``out_dir`` and make sure no input file lies inside it under an output name.

    Raises
    ------
    InputError
        If ``out_dir`` is an existing file, or an input file is in ``out_dir``
        (an output could overwrite it).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("the output path is a file, not a folder", source=out, fix="give a folder with --out")
    resolved = out.resolve()
    for item in inputs:
        if item is None:
            continue
        path = Path(item).resolve()
        if path.parent == resolved:
            raise InputError(
                "an input file sits in the output folder and could be overwritten",
                source=path,
                fix="write outputs to a separate folder with --out",
            )
    out.mkdir(parents=True, exist_ok=True)
    return out


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        # mkstemp creates 0600; outputs are ordinary user files, so honour the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _jsonable(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _clean_floats(obj):
    """Non-finite floats become null: JSON has no NaN or Infinity."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean_floats(v) for v in obj]
    return obj


def write_json(obj: dict, path: str | Path) -> Path:
    """Write a JSON document atomically (UTF-8, non-ASCII kept, NaN/inf as null)."""
    text = json.dumps(_clean_floats(obj), default=_jsonable, ensure_ascii=False, indent=2)
    return atomic_write(path, text + "\n")


def to_rfc7946(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """WGS84 lon/lat with counter-clockwise exterior rings (RFC 7946 §3.1.6)."""
    if gdf.crs is None:
        raise InputError("layer has no CRS", fix="set the CRS before export")
    out = gdf.to_crs(4326)
    out = out.set_geometry(shapely.orient_polygons(out.geometry.values, exterior_cw=False))
    return out


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write an RFC 7946 GeoJSON file atomically.

    Geometries are reprojected to WGS84, polygons follow the right-hand rule,
    and no ``crs`` member is written. Non-finite numbers become null.
    """
    out = to_rfc7946(gdf)
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype.kind == "f":
            out[col] = out[col].where(np.isfinite(out[col]), None)
    text = out.to_json(drop_id=True, to_wgs84=False, na="null", show_bbox=False)
    return atomic_write(path, text)


def write_assessment(assessment, out_dir: str | Path) -> dict[str, Path]:
    """Write an :class:`~coverage.assess.Assessment` to ``out_dir``.

    Files: ``summary.json``, ``demand.geojson``, ``districts.geojson``,
    ``service_areas.geojson``, ``stations.geojson`` and ``map.html``.

    Returns
    -------
    dict
        File role to path.
    """
    from coverage.maps import assessment_map

    out = Path(out_dir)
    demand_cols = [
        "weight", "highway", "name", "first_due_s", "first_due_station",
        "second_due_s", "second_due_station", "response_s", "covered",
        "id", "floor_area_m2", "levels", "highrise",
    ]
    demand = assessment.demand[[c for c in demand_cols if c in assessment.demand] + ["geometry"]]
    station_cols = [
        "id", "name", "type", "status", "district_km2", "area_cap_km2", "over_cap",
        "protection_radius_m", "farthest_travel_s", "max_first_due_s", "snap_m",
    ]
    stations = assessment.stations[[c for c in station_cols if c in assessment.stations] + ["geometry"]]
    paths = {
        "summary": write_json(assessment.summary(), out / "summary.json"),
        "demand": write_geojson(demand, out / "demand.geojson"),
        "districts": write_geojson(assessment.districts, out / "districts.geojson"),
        "service_areas": write_geojson(assessment.service_areas, out / "service_areas.geojson"),
        "stations": write_geojson(stations, out / "stations.geojson"),
    }
    paths["map"] = atomic_write(out / "map.html", assessment_map(assessment).get_root().render())
    return paths
