"""Tests for coverage.coordsys against an independently converted real boundary."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point

from coverage import coordsys as cs

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GCJ_FILE = DATA / "boundaries" / "yuzhong_500103_gcj02.geojson"
WGS_FILE = DATA / "boundaries" / "yuzhong_500103_wgs84.geojson"

needs_data = pytest.mark.skipif(
    not (GCJ_FILE.exists() and WGS_FILE.exists()),
    reason=f"real Yuzhong boundaries not found under {DATA / 'boundaries'}",
)

# A grid over mainland China, including the Yuzhong area.
_LON, _LAT = np.meshgrid(np.linspace(75.0, 134.0, 40), np.linspace(18.0, 53.0, 30))
LON, LAT = _LON.ravel(), _LAT.ravel()


def _coords(frame: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(frame.geometry.values)


@needs_data
def test_gcj_boundary_converts_to_the_independent_wgs84_file():
    gcj = gpd.read_file(GCJ_FILE)
    wgs = gpd.read_file(WGS_FILE)
    converted = cs.to_wgs84(gcj, source="gcj02")
    assert converted.crs.to_epsg() == 4326
    assert len(converted) == len(wgs)
    np.testing.assert_allclose(_coords(converted), _coords(wgs), rtol=0, atol=1e-7)


@needs_data
def test_forward_shift_matches_the_two_files():
    gcj = _coords(gpd.read_file(GCJ_FILE))
    wgs = _coords(gpd.read_file(WGS_FILE))
    lon, lat = cs.wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    # The shift itself, derived from the files: a few hundred metres east and south.
    expected_shift = gcj - wgs
    np.testing.assert_allclose(np.column_stack([lon, lat]) - wgs, expected_shift, atol=1e-7)
    assert np.all(expected_shift[:, 0] > 0) and np.all(expected_shift[:, 1] < 0)
    np.testing.assert_allclose(
        cs.from_wgs84(gpd.read_file(WGS_FILE), target="gcj02").geometry.iloc[0].area,
        gpd.read_file(GCJ_FILE).geometry.iloc[0].area,
        rtol=1e-6,
    )


def test_gcj_round_trip_to_1e9_degrees():
    gcj_lon, gcj_lat = cs.wgs84_to_gcj02(LON, LAT)
    back_lon, back_lat = cs.gcj02_to_wgs84(gcj_lon, gcj_lat)
    np.testing.assert_allclose(back_lon, LON, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back_lat, LAT, rtol=0, atol=1e-9)
    # The inverse is exact in the other direction too.
    fwd_lon, fwd_lat = cs.wgs84_to_gcj02(*cs.gcj02_to_wgs84(LON, LAT))
    np.testing.assert_allclose(fwd_lon, LON, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fwd_lat, LAT, rtol=0, atol=1e-9)


def test_bd09_round_trips_and_offset_size():
    bd_lon, bd_lat = cs.gcj02_to_bd09(LON, LAT)
    back = cs.bd09_to_gcj02(bd_lon, bd_lat)
    np.testing.assert_allclose(np.column_stack(back), np.column_stack([LON, LAT]), atol=1e-9)
    # Baidu's formula adds a constant (0.0065, 0.006) plus a perturbation < 1e-4 degree scale.
    assert np.all(np.abs(bd_lon - LON - 0.0065) < 5e-3)
    assert np.all(np.abs(bd_lat - LAT - 0.006) < 5e-3)
    wgs_back = cs.bd09_to_wgs84(*cs.wgs84_to_bd09(LON, LAT))
    np.testing.assert_allclose(np.column_stack(wgs_back), np.column_stack([LON, LAT]), atol=1e-9)
    # BD-09 = GCJ-02 shift followed by the Baidu shift.
    np.testing.assert_array_equal(
        np.column_stack(cs.wgs84_to_bd09(LON, LAT)),
        np.column_stack(cs.gcj02_to_bd09(*cs.wgs84_to_gcj02(LON, LAT))),
    )


def test_no_gcj_offset_outside_china():
    lon = np.array([2.35, -74.0, 24.94, 151.2])
    lat = np.array([48.85, 40.7, 60.17, -33.9])
    assert not cs.in_china(lon, lat).any()
    for func in (cs.wgs84_to_gcj02, cs.gcj02_to_wgs84):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_scalars_broadcasting_and_nan():
    lon, lat = cs.gcj02_to_wgs84(106.55, 29.55)
    assert np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_b, lat_b = cs.wgs84_to_gcj02([106.5, 106.6], 29.55)
    assert lon_b.shape == lat_b.shape == (2,)
    nan_lon, nan_lat = cs.gcj02_to_wgs84([np.nan, 106.55], [29.5, 29.55])
    assert np.isnan(nan_lon[0]) and np.isfinite(nan_lon[1]) and np.isfinite(nan_lat[1])


def test_geometry_helpers_on_shapely_and_series():
    line = LineString([(106.50, 29.54), (106.56, 29.56)])
    moved = cs.to_wgs84(line, source="bd09")
    expected = np.column_stack(cs.bd09_to_wgs84([106.50, 106.56], [29.54, 29.56]))
    np.testing.assert_allclose(shapely.get_coordinates(moved), expected, atol=0)
    assert cs.to_wgs84(line, source="wgs84") is line
    series = gpd.GeoSeries([Point(106.55, 29.55)], crs="EPSG:4326")
    there_and_back = cs.to_wgs84(cs.from_wgs84(series, target="gcj02"), source="gcj02")
    assert there_and_back.crs.to_epsg() == 4326
    assert there_and_back.iloc[0].distance(series.iloc[0]) < 1e-9


def test_cgcs2000_is_relabelled_not_moved():
    frame = gpd.GeoDataFrame(geometry=[Point(106.55, 29.55)], crs="EPSG:4490")
    out = cs.to_wgs84(frame, source="cgcs2000")
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].distance(Point(106.55, 29.55)) < 1e-9


def test_bad_names_and_projected_frames_are_refused():
    with pytest.raises(ValueError, match="unknown coordinate system"):
        cs.to_wgs84(Point(0, 0), source="mars")
    projected = gpd.GeoDataFrame(geometry=[Point(500000, 3270000)], crs="EPSG:32648")
    with pytest.raises(ValueError, match="projected"):
        cs.to_wgs84(projected, source="gcj02")


# ------------------------------------------------- every EPSG code the project names

REPO = Path(__file__).resolve().parents[1]


def _epsg_mentions():
    """(where, code, the words that follow it) for every EPSG:NNNN in docs, config, help, code."""
    import re

    from coverage.cli import build_parser

    texts = {}
    for pattern in ("README.md", "data/geo/*", "coverage/**/*.py", "scripts/*.py", "notebooks/*.ipynb"):
        for path in REPO.glob(pattern):
            if path.is_file():
                texts[str(path.relative_to(REPO))] = path.read_text(encoding="utf-8")
    parser = build_parser()
    for name, sub in parser._subparsers._group_actions[0].choices.items():
        texts[f"station-coverage {name} --help"] = sub.format_help()
    for where, text in texts.items():
        for m in re.finditer(r"EPSG:(\d{4,5})", text):
            after = text[m.end(): m.end() + 110].split("EPSG:")[0]
            words = " ".join(after.replace("#", " ").replace("*", " ").split())
            yield where, int(m.group(1)), words


def test_every_named_epsg_code_matches_proj():
    """Issue 9: EPSG:4545 was called "CM 105E" (PROJ: CM 108E) in README, TOML, --crs help, docstrings."""
    import re

    import pyproj

    mentions = list(_epsg_mentions())
    assert len(mentions) > 20 and {4326, 4490, 4545} <= {code for _, code, _ in mentions}
    wrong = []
    for where, code, words in mentions:
        crs = pyproj.CRS.from_epsg(code)  # raises for a code PROJ does not know
        name, datum = crs.name, crs.datum.name if crs.datum else ""
        for cm in re.findall(r"CM (\d+)\s*°?E", words):
            if f"CM {cm}E" not in name:
                wrong.append((where, code, f"CM {cm}E", name))
        if re.search(r"3(-degree|°)", words) and "3-degree" not in name:
            wrong.append((where, code, "3-degree", name))
        if words.startswith(("CGCS2000", "(CGCS2000")) and "China" not in datum:
            wrong.append((where, code, "CGCS2000", datum))
        if words.startswith(("WGS84", "(WGS84", "(WGS 84")) and "World Geodetic System 1984" not in datum:
            wrong.append((where, code, "WGS84", datum))
    assert not wrong, wrong
