"""Writing a run's outputs: summaries, tables, layers, maps and reports.

The orchestrator of the output layer. Each run is written whole into a
temporary folder and swapped in (:func:`coverage.outputs.files.run_folder`);
:func:`check_outputs` refuses an output folder holding any input of the run.
The summary schema lives in :mod:`coverage.outputs.summary`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from coverage.errors import InputError
from coverage.outputs.files import is_run_folder, run_folder, write_json
from coverage.outputs.summary import placement_summary, run_summary

__all__ = ["check_outputs", "check_report_target", "option_paths", "write_assessment", "write_placement"]


def check_outputs(out_dir: str | Path, inputs: Iterable[str | Path | None]) -> Path:
    """Check that a run may write ``out_dir``; nothing is created yet.

    A run replaces the whole folder (:func:`coverage.outputs.files.run_folder`),
    so the folder must be new, empty or an earlier run's output, and must hold
    no input of this run at any depth.

    Parameters
    ----------
    out_dir : str or Path
    inputs : iterable of path
        Every input file or folder of the run, whatever option named it
        (see :func:`option_paths`).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        If ``out_dir`` is empty, a file, a folder of other files, holds (or is)
        an input, or cannot be written.
    """
    if str(out_dir).strip() == "":
        raise InputError("the output folder name is empty", source="--out", fix="give a folder with --out DIR")
    out = Path(out_dir)
    _check_name_lengths(out)
    if out.exists() and not out.is_dir():
        raise InputError("the output path is a file, not a folder", source=out, fix="give a folder with --out")
    resolved = out.resolve()
    try:
        here = Path.cwd().resolve()
    except OSError:  # the current folder was deleted
        here = None
    if here is not None and (resolved == here or resolved in here.parents):
        raise InputError(
            "the output folder is the current folder or holds it; a run replaces the folder whole",
            source=out, fix="give a new sub-folder with --out, e.g. --out out/run1",
        )
    for item in inputs:
        if item is None:
            continue
        path = Path(item).resolve()
        if path == resolved or resolved in path.parents:
            raise InputError(
                "an input of this run lies in the output folder and would be overwritten (a run replaces the "
                "folder whole)",
                source=path,
                fix="write outputs to a separate folder with --out",
            )
    if not is_run_folder(out):
        raise InputError(
            "the output folder holds other files (no summary.json or plan.json of an earlier run); "
            "a run replaces the whole folder",
            source=out,
            fix="give a new or empty folder with --out",
        )
    _check_writable(resolved)
    return out


def check_report_target(out: Path, inputs: list[Path]) -> None:
    """Refuse to write the report (or its CSV) over an input summary, or onto a folder."""
    if str(out).strip() == "":
        raise InputError("the report file name is empty", source="--out", fix="give --out FILE.html")
    if out.is_dir():
        raise InputError("--out is a folder, the report is one file", source=out,
                         fix="give a file name, e.g. --out compare.html")
    if out.suffix.lower() == ".csv":
        raise InputError("the report is an HTML page; its metrics table is written beside it as .csv",
                         source=out, fix="give --out FILE.html")
    targets = {out.resolve(), out.with_suffix(".csv").resolve()}
    for path in inputs:
        if path.resolve() in targets:
            raise InputError("the report would overwrite an input of this command", source=path,
                             fix="give --out a new file name, e.g. --out compare.html")


def _check_name_lengths(folder: Path) -> None:
    """Every part of the path fits the file system, with room for the temporary twin's longer name."""
    name_max = 255
    for part in (folder.absolute(), *folder.absolute().parents):
        try:
            if part.exists():
                name_max = os.pathconf(part, "PC_NAME_MAX")
                break
        except (OSError, ValueError):
            continue
    for part in folder.parts:
        # The run is written to ".<name>.<pid>.<8 random>.partial" beside the folder (pid <= 7 digits).
        if len(os.fsencode(part)) + 26 > name_max:
            raise InputError(
                f"a folder name in the output path is too long ({len(part)} characters)", source=str(folder)[:120],
                fix=f"give folder names of at most {name_max - 18} bytes with --out",
            )


def _check_writable(folder: Path) -> None:
    """The folder can be created and written, with room for its temporary twin's longer name."""
    ancestor = next((p for p in folder.parents if p.exists()), None)
    try:
        if ancestor is None or not ancestor.is_dir():
            raise OSError("no existing parent folder")
        probe = tempfile.mkdtemp(prefix=".write-check.", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        raise InputError(
            f"cannot write the output folder ({exc.strerror or exc})",
            source=folder, fix="give a folder you can write to with --out",
        ) from None


def option_paths(options: Mapping[str, object], *, skip: Iterable[str] = ("out",)) -> list[Path]:
    """Every option value that names an existing file or folder: the run's inputs.

    Used for the no-overwrite check, so an input named by any option (``--exclusions``,
    ``--candidates``, a cache folder ...) is protected, not only a fixed list.
    """
    skip = set(skip)
    found = []
    for key, value in options.items():
        if key in skip or not isinstance(value, str | Path) or str(value).strip() == "":
            continue
        try:
            path = Path(value)
            if path.exists():
                found.append(path)
        except (OSError, ValueError):
            continue
    return found


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
    """Write an :class:`~coverage.assess.Assessment` to ``out_dir``, as one run.

    Files: ``summary.json`` (:mod:`coverage.outputs.summary`); one RFC 7946
    GeoJSON per layer (``stations``, ``districts``, ``service_areas``,
    ``response_rings``, ``roads``, ``demand``, ``uncovered``,
    ``allocation_lines``, ``boundary``, plus hydrant layers when given, see
    :mod:`coverage.outputs.layers`); ``layers.gpkg`` with all of them;
    ``metrics.csv``, ``stations.csv``, ``cdf.csv``; ``map.html`` and
    ``report.html``; and GCJ-02 copies under ``gcj02/`` when asked.

    The run is written into a temporary sibling folder that replaces
    ``out_dir`` whole at the end (:func:`coverage.outputs.files.run_folder`):
    an error or interrupt leaves the previous outputs, never a mix.

    Parameters
    ----------
    assessment : Assessment
    out_dir : str or Path
        New, empty, or an earlier run's folder (see :func:`check_outputs`).
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
        File role to its final path.
    """
    from coverage.outputs.layers import assessment_layers, hydrant_layers, write_layers
    from coverage.outputs.maps import LAYER_NAMES, coverage_map, save_map
    from coverage.outputs.report import write_report

    layers = assessment_layers(assessment)
    if hydrants is not None:
        layers.update(hydrant_layers(hydrants))
    summary = run_summary(assessment)
    with run_folder(out_dir) as out:
        paths = {"summary": write_json(summary, out / "summary.json")}
        paths.update(write_layers(layers, out, gpkg_crs=gpkg_crs, gcj02=gcj02))
        paths.update(_write_tables({"run": summary}, layers["stations"], out))
        shown = {k: v for k, v in layers.items() if k in LAYER_NAMES}
        paths["map"] = save_map(coverage_map(assessment, layers=shown, tiles=tiles), out / "map.html")
        paths["report"] = write_report(summary, out / "report.html")
    return _moved(paths, out, Path(out_dir))


def _moved(paths: dict[str, Path], tmp: Path, final: Path) -> dict[str, Path]:
    """The paths written under the temporary folder, as they are now under the final one."""
    return {k: final / Path(p).relative_to(tmp) for k, p in paths.items()}


def write_placement(
    run,
    out_dir: str | Path,
    *,
    parameters: Mapping | None = None,
    rejected_candidates=None,
    hydrants=None,
    tiles: str | None = "osm",
    gpkg_crs: object = "EPSG:4326",
    gcj02: bool = False,
) -> dict[str, Path]:
    """Write a placement run (``site`` and ``plan`` alike), as one run.

    Parameters
    ----------
    run : SitingRun
        From :func:`coverage.siting.site_stations`.
    out_dir : str or Path
        New, empty, or an earlier run's folder (see :func:`check_outputs`).
    parameters : mapping, optional
        Run parameters (model, p, solver, ... or the scenario's values),
        written to ``summary.json`` and listed in the report.
    rejected_candidates : GeoDataFrame, optional
        Default candidates a named site rule removed, with ``excluded_by``
        (:data:`coverage.candidates.SITE_RULES`); listed in ``candidates``.
    hydrants, tiles, gpkg_crs, gcj02
        As for :func:`write_assessment`.

    Returns
    -------
    dict
        File role to final path: ``summary`` (schema in
        :mod:`coverage.outputs.summary`); the after layers plus ``sites``,
        ``candidates``, ``facilities``, ``unreachable_demand`` (GeoJSON and
        ``layers.gpkg``); ``metrics_csv`` (before and after columns),
        ``stations_csv``, ``cdf_csv``, ``travel_matrix`` (long-format CSV);
        ``map`` (after, with proposed and closed stations),
        ``before_after_map`` and ``report``.
    """
    from coverage.outputs.layers import (
        assessment_layers,
        hydrant_layers,
        placement_layers,
        station_changes,
        travel_matrix_table,
        write_csv,
        write_layers,
    )
    from coverage.outputs.maps import LAYER_NAMES, before_after_map, coverage_map, save_map
    from coverage.outputs.report import write_report

    before, after = run.before, run.after
    summary = placement_summary(run, parameters=parameters)
    layers = assessment_layers(after)
    layers["stations"] = station_changes(assessment_layers(before, roads=False)["stations"], layers["stations"])
    layers.update(placement_layers(run, rejected=rejected_candidates))
    if hydrants is not None:
        layers.update(hydrant_layers(hydrants))
    with run_folder(out_dir) as out:
        paths = {"summary": write_json(summary, out / "summary.json")}
        paths.update(write_layers(layers, out, gpkg_crs=gpkg_crs, gcj02=gcj02))
        paths.update(_write_tables({"before": summary["before"], "after": summary["after"]},
                                   layers["stations"], out))
        if run.problem is not None:
            paths["travel_matrix"] = write_csv(travel_matrix_table(run), out / "travel_matrix.csv")
        paths["map"] = save_map(
            coverage_map(after, layers={k: v for k, v in layers.items() if k in LAYER_NAMES}, tiles=tiles),
            out / "map.html",
        )
        paths["before_after_map"] = save_map(before_after_map(before, after, hydrants=hydrants, tiles=tiles),
                                             out / "before_after.html")
        paths["report"] = write_report(summary, out / "report.html")
    return _moved(paths, out, Path(out_dir))
