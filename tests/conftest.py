"""Shared fixtures: real data from ../shared/data, read in place (never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared(relpath: str) -> Path:
    """Path of a file under ../shared/data; skips the test when it is absent."""
    path = SHARED_DATA / relpath
    if not path.exists():
        pytest.skip(f"real data {path} not available (needs ../shared beside the repo)")
    return path


@pytest.fixture(scope="session")
def yuzhong_osm() -> Path:
    return shared("osm/yuzhong_drive_osm_20260424.osm")


@pytest.fixture(scope="session")
def yuzhong_boundary() -> Path:
    return shared("osm/yuzhong_boundary_osm_relation4738525.geojson")


@pytest.fixture(scope="session")
def yuzhong_stations() -> Path:
    return shared("stations/yuzhong_stations_baseline.geojson")
