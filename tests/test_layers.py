"""Tests for coverage.layers on the real Yuzhong stations and boundary.

Small hand-made layers used for error cases are written to pytest's tmp_path
and named ``synthetic_*``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point, Polygon, box
from shapely.ops import nearest_points

from coverage import coordsys
from coverage.errors import InputError
from coverage.layers import read_boundary, read_points, read_stations, read_weighted_points
from coverage.presets import STATION_TYPES

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BASELINE = DATA / "stations" / "yuzhong_stations_baseline.geojson"
PLAN = DATA / "stations" / "yuzhong_stations_plan2025.geojson"
BOUNDARY_WGS = DATA / "boundaries" / "yuzhong_500103_wgs84.geojson"
BOUNDARY_GCJ = DATA / "boundaries" / "yuzhong_500103_gcj02.geojson"

pytestmark = pytest.mark.skipif(
    not all(p.exists() for p in (BASELINE, PLAN, BOUNDARY_WGS, BOUNDARY_GCJ)),
    reason=f"real Yuzhong station/boundary files not found under {DATA}",
)

CORE = ["id", "name", "type", "area_cap_km2", "status"]


@pytest.fixture(scope="module")
def plan() -> gpd.GeoDataFrame:
    """The real plan-2025 station layer as written (GeoJSON, EPSG:4326)."""
    return gpd.read_file(PLAN)


@pytest.fixture(scope="module")
def yuzhong() -> Polygon:
    """The real Yuzhong WGS84 district polygon."""
    return shapely.union_all(gpd.read_file(BOUNDARY_WGS).geometry.values)


def _xy(frame: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(frame.geometry.values)


def _as_csv(frame: gpd.GeoDataFrame, path: Path, lon="lon", lat="lat", **kw) -> Path:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table[lon] = frame.geometry.x
    table[lat] = frame.geometry.y
    table.to_csv(path, index=False, **kw)
    return path


# ----------------------------------------------------------------- formats


@pytest.mark.filterwarnings("ignore:Column names longer than 10:UserWarning")
@pytest.mark.filterwarnings("ignore:Normalized/laundered field name:RuntimeWarning")
@pytest.mark.parametrize("fmt", ["gpkg", "shp", "csv"])
def test_each_format_reads_back_identically(tmp_path, plan, fmt):
    reference = read_stations(PLAN)
    path = tmp_path / f"stations.{fmt}"
    if fmt == "csv":
        _as_csv(plan, path)
    else:
        plan.to_file(path)
    got = read_stations(path)
    assert got.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(
        pd.DataFrame(got[CORE]), pd.DataFrame(reference[CORE]), check_dtype=False
    )
    np.testing.assert_allclose(_xy(got), _xy(plan), atol=1e-12)


def test_station_columns_follow_presets(plan):
    got = read_stations(PLAN)
    expected_codes = {"一级": "level1", "二级": "level2", "特勤": "special", "小型": "small"}
    assert list(got["type"]) == [expected_codes[t] for t in plan["type"]]
    assert list(got["area_cap_km2"]) == [STATION_TYPES[c].area_cap_km2 for c in got["type"]]
    # planned_2025/planned_2022 are proposals; built_13th_fyp is an existing station.
    raw_to_status = {
        "existing": "existing",
        "planned_2025": "proposed",
        "planned_2022": "proposed",
        "built_13th_fyp": "existing",
    }
    assert list(got["status"]) == [raw_to_status[s] for s in plan["status"]]
    assert list(got["status_detail"]) == list(plan["status"])
    assert list(got["id"]) == list(plan["id"]) and list(got["name"]) == list(plan["name"])
    assert "position_source" in got.columns  # provenance is kept


def test_real_stations_lie_inside_real_boundary(yuzhong):
    for path in (BASELINE, PLAN):
        got = read_stations(path, study_area=yuzhong)
        assert shapely.covers(yuzhong, got.geometry.values).all()


def test_projected_crs_is_reprojected(tmp_path, plan):
    path = tmp_path / "synthetic_utm48n.gpkg"
    plan.to_crs("EPSG:32648").to_file(path)
    got = read_points(path)
    assert got.crs.to_epsg() == 4326
    np.testing.assert_allclose(_xy(got), _xy(plan), atol=1e-9)


def test_cgcs2000_crs_is_accepted(tmp_path, plan):
    path = tmp_path / "synthetic_cgcs2000.gpkg"
    plan.set_crs("EPSG:4490", allow_override=True).to_file(path)
    got = read_points(path, coord_system="cgcs2000")
    np.testing.assert_allclose(_xy(got), _xy(plan), atol=1e-9)


def test_gcj02_points_are_shifted_to_wgs84(tmp_path):
    # The GCJ-02 and WGS84 district files were converted independently: their
    # vertices, read as GCJ-02 points, must land on the WGS84 vertices.
    gcj = shapely.get_coordinates(gpd.read_file(BOUNDARY_GCJ).geometry.values)
    wgs = shapely.get_coordinates(gpd.read_file(BOUNDARY_WGS).geometry.values)
    table = pd.DataFrame({"Lng": gcj[:, 0], "Lat": gcj[:, 1]})
    path = tmp_path / "synthetic_gcj_vertices.csv"
    table.to_csv(path, index=False)
    got = read_points(path, coord_system="gcj02")
    np.testing.assert_allclose(_xy(got), wgs, atol=1e-7)
    assert list(got["id"]) == [str(i) for i in range(2, len(gcj) + 2)]  # spreadsheet rows


def test_bd09_points_round_trip(tmp_path, plan):
    bd = coordsys.from_wgs84(plan, target="bd09")
    path = tmp_path / "synthetic_bd09.geojson"
    bd.to_file(path)
    got = read_points(path, coord_system="bd09")
    np.testing.assert_allclose(_xy(got), _xy(plan), atol=1e-9)


def test_csv_columns_detected_case_insensitively_or_given(tmp_path, plan):
    auto = read_points(_as_csv(plan, tmp_path / "a.csv", lon="Longitude", lat="LATITUDE"))
    np.testing.assert_allclose(_xy(auto), _xy(plan), atol=1e-12)
    given = read_points(
        _as_csv(plan, tmp_path / "b.csv", lon="E", lat="N"), lon_col="E", lat_col="N"
    )
    np.testing.assert_allclose(_xy(given), _xy(plan), atol=1e-12)
    assert "E" not in given.columns  # raw coordinate columns are not carried along


def test_csv_ids_stay_text(tmp_path, plan):
    frame = plan.copy()
    frame["id"] = [f"{i:03d}" for i in range(len(frame))]
    got = read_points(_as_csv(frame, tmp_path / "synthetic_zero_padded.csv"))
    assert list(got["id"]) == list(frame["id"])


def test_gb18030_csv(tmp_path, plan):
    path = _as_csv(plan, tmp_path / "synthetic_gbk.csv", encoding="gb18030")
    assert list(read_stations(path)["name"]) == list(plan["name"])


def test_geodataframe_input(plan):
    got = read_stations(plan)
    assert list(got["id"]) == list(plan["id"])


# ----------------------------------------------------------------- errors


def test_empty_layer(tmp_path, plan):
    path = tmp_path / "synthetic_empty.geojson"
    plan.iloc[:0].to_file(path)
    with pytest.raises(InputError, match="no features") as err:
        read_points(path)
    assert str(path) in str(err.value)


def test_non_point_geometry_names_the_feature(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["a", "b"]},
        geometry=[Point(106.55, 29.55), LineString([(106.5, 29.5), (106.6, 29.6)])],
        crs="EPSG:4326",
    )
    path = tmp_path / "synthetic_line.gpkg"
    frame.to_file(path)
    with pytest.raises(InputError, match="must contain points") as err:
        read_points(path)
    assert "row 2 (id 'b')" in str(err.value) and "LineString" in str(err.value)


def test_missing_coordinates_name_the_row(tmp_path, plan):
    path = tmp_path / "synthetic_blank.csv"
    _as_csv(plan, path)
    table = pd.read_csv(path, dtype={"lon": object})
    table.loc[2, "lat"] = np.nan
    table.loc[4, "lon"] = "n/a"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match="missing or non-numeric") as err:
        read_points(path)
    assert err.value.row == "4 (id 'S3'), 6 (id 'P1')"  # header is row 1


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_no_crs_metres_says_set_the_crs(tmp_path, plan):
    path = tmp_path / "synthetic_nocrs_metres.gpkg"
    metres = plan.to_crs("EPSG:32648")
    metres.set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(InputError, match="no CRS") as err:
        read_points(path)
    assert "Set CRS" in str(err.value)
    boundary_path = tmp_path / "synthetic_nocrs_boundary.gpkg"
    boundary = gpd.read_file(BOUNDARY_WGS).to_crs("EPSG:32648")
    boundary.set_crs(None, allow_override=True).to_file(boundary_path)
    with pytest.raises(InputError, match="no CRS"):
        read_boundary(boundary_path)


def test_swapped_lonlat_columns(tmp_path, plan):
    path = _as_csv(plan, tmp_path / "synthetic_swapped.csv", lon="lat", lat="lon")
    with pytest.raises(InputError, match="swapped"):
        read_points(path)


def test_swapped_detected_through_study_area(tmp_path):
    # Both readings are valid degrees here; only the study area tells them apart.
    area = box(29.0, 60.0, 30.0, 61.0)
    path = tmp_path / "synthetic_swapped_small.csv"
    pd.DataFrame({"id": ["a", "b"], "lon": [60.2, 60.7], "lat": [29.3, 29.8]}).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match="swapped"):
        read_points(path, study_area=area)


def test_outside_study_area_lists_ids_and_distance(tmp_path, yuzhong, plan):
    far = plan.copy()
    # 0.02° east of the district's easternmost vertex.
    east = shapely.get_coordinates(yuzhong)[:, 0].max()
    far.loc[6, "geometry"] = Point(east + 0.02, 29.56)
    path = tmp_path / "synthetic_outside.geojson"
    far.to_file(path)
    with pytest.raises(InputError, match="outside the study area") as err:
        read_points(path, study_area=yuzhong)
    message = str(err.value)
    assert "'P3'" in message and "row 7" in message
    reported_km = float(message.split("'P3' (")[1].split(" km")[0])
    near = nearest_points(yuzhong.boundary, far.geometry.iloc[6])[0]
    _, _, metres = Geod(ellps="WGS84").inv(near.x, near.y, east + 0.02, 29.56)
    assert reported_km == pytest.approx(metres / 1000, rel=0.01)


def test_wgs84_label_on_gcj_data_gets_a_hint(tmp_path, plan):
    # Study area: 30 m around each true position; GCJ-02 shifts ~450 m.
    area = shapely.union_all(plan.to_crs("EPSG:32648").buffer(30).to_crs("EPSG:4326").values)
    path = tmp_path / "synthetic_gcj_labelled_wgs84.geojson"
    coordsys.from_wgs84(plan, target="gcj02").to_file(path)
    with pytest.raises(InputError, match="read as gcj02"):
        read_points(path, study_area=area)
    assert len(read_points(path, study_area=area, coord_system="gcj02")) == len(plan)


def test_duplicate_and_missing_ids(tmp_path, plan):
    dup = plan.copy()
    dup.loc[3, "id"] = "S1"
    path = tmp_path / "synthetic_dup.geojson"
    dup.to_file(path)
    with pytest.raises(InputError, match="duplicate") as err:
        read_points(path)
    assert "1 (id 'S1')" in str(err.value) and "4 (id 'S1')" in str(err.value)
    blank = plan.copy()
    blank.loc[1, "id"] = None
    blank.to_file(path)
    with pytest.raises(InputError, match="no 'id'"):
        read_points(path)


def test_unknown_station_type_lists_spellings(tmp_path, plan):
    bad = plan.copy()
    bad.loc[0, "type"] = "超级站"
    path = tmp_path / "synthetic_badtype.geojson"
    bad.to_file(path)
    with pytest.raises(InputError, match="unknown station type") as err:
        read_stations(path)
    assert "一级站" in str(err.value) and "level1" in str(err.value)


def test_missing_type_column_needs_default_type(tmp_path, plan):
    path = tmp_path / "synthetic_notype.geojson"
    plan.drop(columns="type").to_file(path)
    with pytest.raises(InputError, match="no 'type' column"):
        read_stations(path)
    got = read_stations(path, default_type="一级站")
    assert set(got["type"]) == {"level1"}
    assert set(got["area_cap_km2"]) == {STATION_TYPES["level1"].area_cap_km2}


def test_status_defaults_and_unknown(tmp_path, plan):
    path = tmp_path / "synthetic_status.geojson"
    plan.drop(columns="status").to_file(path)
    assert set(read_stations(path)["status"]) == {"existing"}
    bad = plan.copy()
    bad.loc[2, "status"] = "maybe"
    bad.to_file(path)
    with pytest.raises(InputError, match="unknown station status") as err:
        read_stations(path)
    assert err.value.row == "3 (id 'S3')"


def test_unreadable_and_missing_files(tmp_path):
    corrupt = tmp_path / "synthetic_corrupt.gpkg"
    corrupt.write_bytes(b"not a geopackage")
    with pytest.raises(InputError, match="cannot read") as err:
        read_points(corrupt)
    assert "GeoPackage" in str(err.value) and str(corrupt) in str(err.value)
    with pytest.raises(InputError, match="does not exist"):
        read_stations(tmp_path / "nope.geojson")


def test_multilayer_file_needs_a_layer(tmp_path, plan):
    path = tmp_path / "synthetic_two_layers.gpkg"
    plan.to_file(path, layer="stations")
    plan.to_file(path, layer="copy")
    with pytest.raises(InputError, match="2 layers"):
        read_points(path)
    assert len(read_points(path, layer="copy")) == len(plan)


# ----------------------------------------------------------- weighted points


def test_weighted_points(tmp_path, plan):
    frame = plan[["id", "geometry"]].copy()
    frame["pop"] = np.arange(len(frame), dtype=float) * 10
    path = tmp_path / "synthetic_weights.geojson"
    frame.to_file(path)
    got = read_weighted_points(path, weight_col="pop")
    np.testing.assert_array_equal(got["weight"], frame["pop"])
    assert got["weight"].dtype == np.float64
    with pytest.raises(InputError, match="no weight column"):
        read_weighted_points(path)


@pytest.mark.parametrize(
    ("value", "problem"),
    [(-1.0, "negative"), (np.inf, "infinite"), (np.nan, "no weight"), ("lots", "not a number")],
)
def test_bad_weights_name_the_rows(tmp_path, plan, value, problem):
    table = pd.DataFrame({"id": list(plan["id"]), "lon": plan.geometry.x, "lat": plan.geometry.y})
    table["weight"] = pd.Series([1.0] * len(table), dtype=object)
    table.loc[5, "weight"] = value
    path = tmp_path / "synthetic_bad_weight.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match=problem) as err:
        read_weighted_points(path)
    assert err.value.row == "7 (id 'P2')"


# ------------------------------------------------------------------ boundary


def test_boundary_gcj_file_matches_wgs84_file(yuzhong):
    got = read_boundary(BOUNDARY_GCJ, coord_system="gcj02")
    assert got.geom_type in ("Polygon", "MultiPolygon")
    assert got.symmetric_difference(yuzhong).area < 1e-9 * yuzhong.area
    assert read_boundary(BOUNDARY_WGS).equals(yuzhong)


def test_boundary_unions_features(tmp_path):
    frame = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    path = tmp_path / "synthetic_two_boxes.geojson"
    frame.to_file(path)
    got = read_boundary(path)
    assert got.geom_type == "Polygon"
    assert got.symmetric_difference(box(0, 0, 2, 1)).area == 0


def test_boundary_errors(tmp_path, plan):
    points = tmp_path / "synthetic_points_as_boundary.geojson"
    plan.to_file(points)
    with pytest.raises(InputError, match="must be polygons"):
        read_boundary(points)
    empty = tmp_path / "synthetic_empty_boundary.geojson"
    gpd.read_file(BOUNDARY_WGS).iloc[:0].to_file(empty)
    with pytest.raises(InputError, match="no features"):
        read_boundary(empty)
    corrupt = tmp_path / "synthetic_corrupt.geojson"
    corrupt.write_text('{"type": "FeatureColl')
    with pytest.raises(InputError, match="cannot read"):
        read_boundary(corrupt)


def test_invalid_boundary_is_repaired_with_a_warning(tmp_path):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    path = tmp_path / "synthetic_bowtie.geojson"
    gpd.GeoDataFrame(geometry=[bowtie], crs="EPSG:4326").to_file(path)
    with pytest.warns(UserWarning, match="repaired"):
        got = read_boundary(path)
    assert got.is_valid
    assert got.area == pytest.approx(0.5)  # two triangles of 0.25 each


def test_unclosed_boundary_ring_is_a_clear_error(tmp_path):
    """Issue 9: an unclosed ring gave a GEOS traceback."""
    path = tmp_path / "generated_unclosed.geojson"
    path.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                    '"geometry":{"type":"Polygon","coordinates":[[[106.5,29.5],[106.6,29.5],'
                    '[106.6,29.6],[106.5,29.6]]]}}]}', encoding="utf-8")
    with pytest.raises(InputError, match="ring must end on its first point") as err:
        read_boundary(path)
    assert "generated_unclosed.geojson" in str(err.value)


def test_all_zero_demand_weights_are_refused(tmp_path):
    """Issue 9: all demand weights zero gave a traceback while writing outputs."""
    path = tmp_path / "generated_zero.csv"
    path.write_text("id,lon,lat,weight\nA,106.56,29.55,0\nB,106.57,29.56,0.0\n", encoding="utf-8")
    with pytest.raises(InputError, match="every point .* has weight 0") as err:
        read_weighted_points(path)
    assert "generated_zero.csv" in str(err.value) and "Fix:" in str(err.value)


def test_exclusion_layer_is_read_with_its_name_in_errors(tmp_path):
    from coverage.layers import read_layer

    path = tmp_path / "generated_table.csv"
    path.write_text("kind\nsensitive\n", encoding="utf-8")
    with pytest.raises(InputError, match="must be a layer with geometry"):
        read_layer(path, name="exclusions")
