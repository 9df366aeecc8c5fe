"""On-disk cache of built road networks, keyed by everything that shapes them.

Entries are pickles written atomically (temporary file + ``os.replace``), so a run
killed mid-write never leaves a truncated entry behind. An entry that cannot be
read, or that was written by another format version, is ignored and rebuilt.
Only load caches you wrote yourself: pickle runs code on load.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["CACHE_FORMAT", "cache_key", "default_cache_dir", "file_digest", "read", "write"]

#: Bump when the pipeline changes what it stores, to invalidate old entries.
CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/station-coverage``, else ``~/.cache/station-coverage``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "station-coverage"


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(parts: Mapping[str, Any]) -> str:
    """Stable hex key for a JSON-able mapping of inputs."""
    text = json.dumps({"format": CACHE_FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"network-{key}.pickle"


def read(cache_dir: Path, key: str) -> dict[str, Any] | None:
    """The payload stored under ``key``, or None if absent, unreadable or stale."""
    path = _entry(cache_dir, key)
    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            payload = pickle.load(fh)
    except Exception:  # noqa: BLE001 - any broken entry is simply rebuilt
        return None
    if not isinstance(payload, dict) or payload.get("format") != CACHE_FORMAT:
        return None
    if payload.get("key") != key:
        return None
    return payload


def write(cache_dir: Path, key: str, payload: Mapping[str, Any]) -> Path | None:
    """Store ``payload`` under ``key`` atomically; warn and return None on failure
    (a read-only or full disk must not fail the analysis)."""
    path = _entry(cache_dir, key)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(
                    {"format": CACHE_FORMAT, "key": key, **payload}, fh,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        warnings.warn(f"Could not write the network cache {path}: {exc}", stacklevel=2)
        return None
    return path
