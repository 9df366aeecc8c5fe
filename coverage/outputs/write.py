"""Writing a run's outputs: summaries, tables, layers, maps and reports.

The orchestrator of the output layer. It refuses to write over any input file
of the run; the atomic writers themselves live in :mod:`coverage.outputs.files`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from coverage.errors import InputError
from coverage.outputs.files import write_json

__all__ = ["check_outputs", "run_summary", "write_assessment", "write_placement"]


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


def run_summary(assessment) -> dict:
    """:meth:`Assessment.summary` plus the travel model the network was built with."""
    summary = assessment.summary()
    model = getattr(assessment.network, "travel_model", None)
    if model is not None and hasattr(model, "as_dict"):
        summary["travel_model"] = model.as_dict()
    return summary


def _write_tables(summaries: dict, stations, out: Path) -> dict[str, Path]:
    from coverage.outputs.layers import metrics_table, write_csv

    paths = {"metrics_csv": write_csv(metrics_table(summaries), out / "metrics.csv")}
    paths["stations_csv"] = write_csv(stations, out / "stations.csv")
    cdf = {
        f"{label}_{col}": values
        for label, summary in summaries.items()
        for col, values in summary.get("cdf", {}).items()
    }
    if cdf:
        import pandas as pd

        frame = pd.DataFrame({k: pd.Series(v) for k, v in cdf.items()})
        paths["cdf_csv"] = write_csv(frame, out / "cdf.csv")
    return paths


def write_assessment(
    assessment,
    out_dir: str | Path,
    *,
    hydrants=None,
    tiles: str | None = "osm",
    gpkg_crs: object = "EPSG:4326",
    gcj02: bool = False,
) -> dict[str, Path]:
    """Write an :class:`~coverage.assess.Assessment` to ``out_dir``.

    Files: ``summary.json``; one RFC 7946 GeoJSON per layer (``stations``,
    ``districts``, ``service_areas``, ``response_rings``, ``roads``, ``demand``,
    ``uncovered``, ``boundary``, plus hydrant layers when given, see
    :mod:`coverage.outputs.layers`); ``layers.gpkg`` with all of them;
    ``metrics.csv``, ``stations.csv``, ``cdf.csv``; ``map.html`` and
    ``report.html``; and GCJ-02 copies under ``gcj02/`` when asked.

    Parameters
    ----------
    assessment : Assessment
    out_dir : str or Path
    hydrants : optional
        Hydrant results to add as layers (see :func:`coverage.outputs.layers.hydrant_layers`).
    tiles : {"osm", "amap", "none"}
        Basemap of ``map.html``.
    gpkg_crs : CRS-like
        CRS of ``layers.gpkg`` (EPSG:4326 default; EPSG:4490 CGCS2000; EPSG:4545 ...).
    gcj02 : bool
        Also write GCJ-02 copies of the GeoJSON layers.

    Returns
    -------
    dict
        File role to path.
    """
    from coverage.outputs.layers import assessment_layers, hydrant_layers, write_layers
    from coverage.outputs.maps import LAYER_NAMES, coverage_map, save_map
    from coverage.outputs.report import write_report

    out = Path(out_dir)
    layers = assessment_layers(assessment)
    if hydrants is not None:
        layers.update(hydrant_layers(hydrants))
    summary = run_summary(assessment)
    paths = {"summary": write_json(summary, out / "summary.json")}
    paths.update(write_layers(layers, out, gpkg_crs=gpkg_crs, gcj02=gcj02))
    paths.update(_write_tables({"run": summary}, layers["stations"], out))
    shown = {k: v for k, v in layers.items() if k in LAYER_NAMES}
    paths["map"] = save_map(coverage_map(assessment, layers=shown, tiles=tiles), out / "map.html")
    paths["report"] = write_report(summary, out / "report.html")
    return paths


def write_placement(
    before,
    after,
    out_dir: str | Path,
    *,
    placement=None,
    parameters: dict | None = None,
    hydrants=None,
    tiles: str | None = "osm",
    gpkg_crs: object = "EPSG:4326",
    gcj02: bool = False,
    summary_top: dict | None = None,
) -> dict[str, Path]:
    """Write a placement run: before/after summary, the after layers, both maps, the report.

    Parameters
    ----------
    before, after : Assessment
        The stations before and after the placement (after = existing + chosen
        sites, minus any closed).
    out_dir : str or Path
    placement : PlacementResult or dict, optional
        The solver outcome, written as the ``placement`` block of ``summary.json``.
    parameters : dict, optional
        Run parameters (model, p, solver, ...) listed in the report.
    hydrants, tiles, gpkg_crs, gcj02
        As for :func:`write_assessment`.
    summary_top : dict, optional
        Keys placed at the top level of ``summary.json`` (the ``site`` command's
        ``model``, ``status``, ``gap``, ``new_sites`` ...).

    Returns
    -------
    dict
        File role to path: ``summary``, the after layers (GeoJSON and
        ``layers.gpkg``), ``metrics_csv`` (before and after columns),
        ``stations_csv``, ``cdf_csv``, ``map`` (after, with proposed and closed
        stations), ``before_after_map`` and ``report``.
    """
    from coverage.outputs.layers import (
        assessment_layers,
        hydrant_layers,
        station_changes,
        write_layers,
    )
    from coverage.outputs.maps import LAYER_NAMES, before_after_map, coverage_map, save_map
    from coverage.outputs.report import placement_summary, write_report

    out = Path(out_dir)
    summary = placement_summary(run_summary(before), run_summary(after), placement, parameters=parameters)
    summary = {**(summary_top or {}), **summary}
    layers = assessment_layers(after)
    layers["stations"] = station_changes(assessment_layers(before, roads=False)["stations"], layers["stations"])
    if hydrants is not None:
        layers.update(hydrant_layers(hydrants))
    paths = {"summary": write_json(summary, out / "summary.json")}
    paths.update(write_layers(layers, out, gpkg_crs=gpkg_crs, gcj02=gcj02))
    paths.update(_write_tables({"before": summary["before"], "after": summary["after"]}, layers["stations"], out))
    paths["map"] = save_map(
        coverage_map(after, layers={k: v for k, v in layers.items() if k in LAYER_NAMES}, tiles=tiles),
        out / "map.html",
    )
    paths["before_after_map"] = save_map(before_after_map(before, after, hydrants=hydrants, tiles=tiles),
                                         out / "before_after.html")
    paths["report"] = write_report(summary, out / "report.html")
    return paths
