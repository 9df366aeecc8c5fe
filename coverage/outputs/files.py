"""Atomic file writers: the ground floor of the output layer.

Every writer goes through a temporary file in the target folder and
``os.replace``, so a crash never leaves a half-written output. A whole run is
written with :func:`run_folder`: into a temporary sibling folder that replaces
the output folder in one rename at the end, so the folder always holds one
complete run (the previous one, or the new one), never a mix. This module
imports nothing of the project, so every other output module can use it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

__all__ = [
    "atomic_path",
    "atomic_write",
    "is_run_folder",
    "run_folder",
    "to_rfc7946",
    "write_geojson",
    "write_json",
]

#: A folder holding one of these files is the output of an earlier run, which a new run may replace.
RUN_MARKERS = ("summary.json", "plan.json")


@contextmanager
def atomic_path(path: str | Path, *, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file does not exist when the block starts (some writers, such
    as GDAL's, must create their file themselves). On any error it is removed
    and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        # mkstemp-style files are 0600; outputs are ordinary user files, so honour the umask.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def is_run_folder(path: str | Path) -> bool:
    """True for a missing or empty folder, or one holding an earlier run's outputs."""
    path = Path(path)
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    return not any(path.iterdir()) or any((path / m).is_file() for m in RUN_MARKERS)


class _Terminated(SystemExit):
    """SIGTERM, raised as an exception so that temporary files are cleaned up."""


def _raise_terminated(signum, frame):
    raise _Terminated(128 + signum)


@contextmanager
def _terminate_as_exception():
    """While the block runs, SIGTERM raises (exit code 143) instead of killing the process outright.

    Only in the main thread and only when nobody else handles SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, _raise_terminated):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _signals_deferred():
    """Hold SIGINT and SIGTERM back for a few system calls; they arrive when the block ends."""
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextmanager
def run_folder(path: str | Path):
    """Write a whole run into a temporary sibling folder, then swap it in for ``path``.

    Yields the temporary folder (``.<name>.<pid>.<random>.partial`` beside ``path``).
    When the block ends without error, the folder replaces ``path`` by renames:
    ``path`` then holds the new run and nothing of the old one. On an error, a
    Ctrl-C or a SIGTERM the temporary folder is removed and ``path`` keeps the
    previous complete run (or stays absent).

    The caller must make sure ``path`` holds nothing but an earlier run
    (:func:`is_run_folder`): its old content is deleted.

    The temporary names carry the writing process's id. A run killed outright
    (SIGKILL, power loss) cannot clean up after itself, so each new run first
    clears what dead runs left beside ``path`` (:func:`_clear_dead_runs`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _clear_dead_runs(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".partial",
                                dir=path.parent))
    try:
        with _terminate_as_exception():
            yield tmp
            os.chmod(tmp, 0o777 & ~_umask())
            with _signals_deferred():
                _swap(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0  # PermissionError: alive, someone else's
    return True


def _clear_dead_runs(path: Path) -> None:
    """Remove the temporary folders of runs into ``path`` whose process is gone.

    ``.<name>.<pid>.*.partial`` is an unfinished run: deleted. ``.<name>.<pid>.*.old``
    is the previous run, moved aside by a swap that was killed between its two
    renames: it is put back when ``path`` is missing, so the folder again holds
    one complete run, and deleted otherwise. Folders of live processes (another
    run writing now) are left alone.
    """
    for leftover in sorted(path.parent.glob(f".{path.name}.*.*")):
        pid, _, rest = leftover.name[len(path.name) + 2:].partition(".")
        if not pid.isdigit() or not rest or _process_alive(int(pid)):
            continue
        if leftover.suffix == ".old" and not path.exists():
            os.rename(leftover, path)
        elif leftover.suffix in (".partial", ".old"):
            shutil.rmtree(leftover, ignore_errors=True)


def _swap(new: Path, path: Path) -> None:
    if not path.exists():
        os.rename(new, path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".old",
                                dir=path.parent))
    os.rmdir(old)
    os.rename(path, old)
    try:
        os.rename(new, path)
    except BaseException:
        os.rename(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
    return Path(path)


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
        raise ValueError("layer has no CRS: set the CRS before export")
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
