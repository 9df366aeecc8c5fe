"""Tests for coverage.buildings on the real Yuzhong OSM building extract."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, box

from coverage.buildings import buildings_demand
from coverage.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
OSM = DATA / "osm" / "yuzhong_buildings_osm_20260426.osm"

needs_osm = pytest.mark.skipif(
    not OSM.exists(), reason=f"real Yuzhong OSM buildings extract not found at {OSM}"
)


def _number(value: object) -> float | None:
    """Plain-Python reading of a numeric OSM tag, for an independent check."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    if text.endswith("m"):
        text = text[:-1].strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return number if number > 0 else None


@pytest.fixture(scope="module")
def raw() -> gpd.GeoDataFrame:
    """Building polygons as osmnx reads them from the real extract."""
    features = ox.features_from_xml(OSM, tags={"building": True})
    return features[features.geom_type.isin(["Polygon", "MultiPolygon"])]


@pytest.fixture(scope="module")
def demand() -> gpd.GeoDataFrame:
    return buildings_demand(OSM)


@needs_osm
def test_counts_match_sources(raw, demand):
    # SOURCES.md: 2,041 building polygons, 714 with building:levels, 32 with height.
    assert len(raw) == len(demand) == 2041
    assert (demand["levels_source"] == "tagged").sum() == 714
    assert (demand["height_source"] == "tagged").sum() == 32
    assert demand["id"].is_unique


@needs_osm
def test_levels_heights_and_floor_area_per_building(raw, demand):
    got = demand.set_index("id")
    for (element, osm_id), row in raw.iterrows():
        out = got.loc[f"{element}/{osm_id}"]
        levels = _number(row.get("building:levels"))
        height = _number(row.get("height"))
        if levels is not None:
            expected_levels, source = levels, "tagged"
        elif height is not None:
            expected_levels, source = max(1.0, round(height / 3.0)), "from_height"
        else:
            expected_levels, source = 1.0, "assumed"
        expected_height = height if height is not None else expected_levels * 3.0
        assert out["levels"] == expected_levels and out["levels_source"] == source
        assert out["height_m"] == pytest.approx(expected_height)
        assert out["highrise"] == (expected_height > 27.0)
        assert out["floor_area_m2"] == pytest.approx(expected_levels * out["footprint_m2"])
        assert out["weight"] == out["floor_area_m2"]


@needs_osm
def test_footprints_match_geodesic_area(raw, demand):
    geod = Geod(ellps="WGS84")
    expected = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in raw.geometry])
    # UTM's scale error around Yuzhong is ~2e-4 in area.
    np.testing.assert_allclose(demand["footprint_m2"].to_numpy(), expected, rtol=1e-3)


@needs_osm
def test_points_lie_in_their_footprints(raw, demand):
    assert demand.crs.to_epsg() == 4326
    assert shapely.contains(raw.geometry.values, demand.geometry.values).all()


def _synthetic_buildings() -> gpd.GeoDataFrame:
    """Four hand-made 10 m x 20 m footprints in Yuzhong with chosen tags."""
    # ~1e-4 degrees is ~10 m at this latitude.
    boxes = [box(106.55 + i * 0.001, 29.55, 106.5501 + i * 0.001, 29.5502) for i in range(4)]
    index = pd.MultiIndex.from_tuples([("way", i) for i in range(1, 5)], names=["element", "id"])
    return gpd.GeoDataFrame(
        {
            "building": ["yes", "residential", "office", "yes"],
            "building:levels": ["12", None, "3;4", None],
            "height": [None, "31.5 m", "25", None],
        },
        geometry=boxes,
        index=index,
        crs="EPSG:4326",
    )


def test_synthetic_buildings_tag_fallbacks():
    got = buildings_demand(_synthetic_buildings(), default_levels=2, floor_height_m=3.5).set_index(
        "id"
    )
    assert list(got["levels_source"]) == ["tagged", "from_height", "from_height", "assumed"]
    np.testing.assert_allclose(got["levels"], [12, round(31.5 / 3.5), round(25 / 3.5), 2])
    np.testing.assert_allclose(got["height_m"], [12 * 3.5, 31.5, 25, 2 * 3.5])
    assert list(got["highrise"]) == [True, True, False, False]
    # 25 m is high-rise under the 24 m non-residential threshold only.
    other = buildings_demand(_synthetic_buildings(), highrise_height_m=24.0)
    assert list(other["highrise"]) == [True, True, True, False]


def test_metric_crs_is_used():
    frame = _synthetic_buildings()
    utm = buildings_demand(frame, metric_crs="EPSG:32648")
    expected = frame.geometry.to_crs("EPSG:32648").area.to_numpy()
    np.testing.assert_allclose(utm["footprint_m2"], expected)


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="floor_height_m"):
        buildings_demand(_synthetic_buildings(), floor_height_m=0)
    with pytest.raises(InputError, match="does not exist"):
        buildings_demand(tmp_path / "missing.osm")
    corrupt = tmp_path / "synthetic_corrupt.osm"
    corrupt.write_text("<osm><node")
    with pytest.raises(InputError, match="cannot read the OSM file"):
        buildings_demand(corrupt)
    no_buildings = tmp_path / "synthetic_no_buildings.osm"
    no_buildings.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="29.5" lon="106.5"/></osm>'
    )
    with pytest.raises(InputError, match="no building"):
        buildings_demand(no_buildings)
    points_only = gpd.GeoDataFrame(
        {"building": ["yes"]}, geometry=[Point(106.5, 29.5)], crs="EPSG:4326"
    )
    with pytest.raises(InputError, match="no building polygons"):
        buildings_demand(points_only)
