"""GIS exports of a real Yuzhong assessment, read back with pyogrio and checked against RFC 7946."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point

from coverage.errors import InputError
from coverage.outputs.layers import (
    assessment_layers,
    band_labels,
    hydrant_layers,
    metrics_table,
    station_changes,
    write_csv,
    write_geopackage,
    write_layers,
)


@pytest.fixture(scope="module")
def result(yuzhong_assessment):
    return yuzhong_assessment


@pytest.fixture(scope="module")
def layers(result):
    return assessment_layers(result)


@pytest.fixture(scope="module")
def written(layers, tmp_path_factory):
    out = tmp_path_factory.mktemp("gis")
    return out, write_layers(layers, out, gpkg_crs="EPSG:4545", gcj02=True)


def _signed_area(ring) -> float:
    """Shoelace area; positive for counter-clockwise rings (independent of shapely)."""
    xy = np.asarray(ring, dtype=float)
    return 0.5 * float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


def _positions(geometry: dict):
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return [coords]
    if kind in ("LineString", "MultiPoint"):
        return coords
    if kind in ("Polygon", "MultiLineString"):
        return [p for part in coords for p in part]
    if kind == "MultiPolygon":
        return [p for poly in coords for ring in poly for p in ring]
    raise AssertionError(f"unexpected geometry type {kind}")


def _polygons(geometry: dict):
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    return []


def check_rfc7946(path) -> int:
    """RFC 7946 rules: no crs member, lon/lat order and range, closed rings, CCW exteriors, CW holes."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc, f"{path.name}: RFC 7946 §4 forbids a crs member"
    for feature in doc["features"]:
        assert feature["type"] == "Feature" and "crs" not in feature
        for pos in _positions(feature["geometry"]):
            assert len(pos) == 2
            lon, lat = pos
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            # Yuzhong, Chongqing: longitude about 106.5 E, latitude about 29.55 N (order lon, lat).
            assert 106.3 < lon < 106.8 and 29.4 < lat < 29.7, f"{path.name}: {pos} is not lon/lat in Yuzhong"
        for polygon in _polygons(feature["geometry"]):
            for k, ring in enumerate(polygon):
                assert ring[0] == ring[-1], "ring not closed"
                area = _signed_area(ring)
                assert area > 0 if k == 0 else area < 0, f"{path.name}: ring {k} wound the wrong way"
    return len(doc["features"])


def test_roads_layer_agrees_with_demand_coverage(result, layers):
    roads = layers["roads"].to_crs(result.network.crs)
    demand = result.road_samples()  # the roads layer shows road samples, whatever the demand
    # Independent figure: covered road length share = weight share of covered samples.
    w = demand["weight"].to_numpy()
    covered_share = w[demand["first_due_s"].to_numpy() <= result.standard.travel_threshold_s].sum() / w.sum()
    threshold_band = list(np.asarray(sorted(set(result.service_areas["to_min"]))) * 60).index(
        result.standard.travel_threshold_s
    )
    road_share = roads.length[roads["band_index"] <= threshold_band].sum() / roads.length.sum()
    assert road_share == pytest.approx(covered_share, abs=0.005)
    assert roads.length.sum() == pytest.approx(w.sum(), rel=0.01)
    # Each demand point lies on a road piece whose band holds its own first-due time.
    edges = np.asarray(sorted(set(result.service_areas["to_min"]))) * 60
    sample = demand.iloc[:: max(1, len(demand) // 300)]
    nearest = roads.sindex.nearest(sample.geometry, return_all=True, return_distance=True)
    (rows, cols), dist = nearest
    assert (dist < 0.5).all()
    bands = roads["band_index"].to_numpy()
    for i, t in enumerate(sample["first_due_s"]):
        band = int(np.searchsorted(edges, t, side="left")) if np.isfinite(t) else len(edges) + 1
        # Where roads cross (bridges), several pieces touch the point; one must carry its band.
        assert band in set(bands[cols[rows == i]]), f"demand point {i} at {t:.0f} s"
    labels = band_labels(sorted(set(result.service_areas["to_min"])))
    assert set(roads["band"]) <= set(labels)
    assert (roads["first_due_s"] > 0).all()


def test_every_export_reads_back(layers, written):
    out, paths = written
    for name, layer in layers.items():
        path = out / f"{name}.geojson"
        assert paths[name] == path
        frame = pyogrio.read_dataframe(path)
        assert frame.crs.to_epsg() == 4326
        assert len(frame) == len(layer)
        assert shapely.is_valid(frame.geometry.values).all(), name
        assert check_rfc7946(path) == len(layer)
        # Stable property names: what the layer has is what the file has.
        assert set(frame.columns) - {"geometry"} == set(layer.columns) - {"geometry"}


def test_geopackage_has_every_layer_in_the_chosen_crs(layers, written):
    out, paths = written
    info = {row[0]: row[1] for row in pyogrio.list_layers(paths["gpkg"])}
    assert set(info) == set(layers)
    for name, layer in layers.items():
        frame = pyogrio.read_dataframe(paths["gpkg"], layer=name)
        assert frame.crs.to_epsg() == 4545
        assert len(frame) == len(layer)
        assert shapely.is_valid(frame.geometry.values).all(), name
        back = frame.to_crs(4326)
        # Compare representative points, not vertex lists (multi-part promotion may reorder nothing).
        a = shapely.get_coordinates(layer.geometry.values)
        b = shapely.get_coordinates(back.geometry.values)
        assert np.allclose(a, b, atol=1e-7), name


def test_geopackage_cgcs2000_and_bad_crs(layers, tmp_path):
    small = {k: layers[k] for k in ("stations", "boundary")}
    path = write_geopackage(small, tmp_path / "cgcs.gpkg", crs="EPSG:4490")
    for name in small:
        assert pyogrio.read_dataframe(path, layer=name).crs.to_epsg() == 4490
    with pytest.raises(InputError, match="EPSG:4490"):
        write_geopackage(small, tmp_path / "bad.gpkg", crs="EPSG:999999")
    assert not (tmp_path / "bad.gpkg").exists()


def test_empty_layer_is_kept(layers, tmp_path):
    empty = layers["uncovered"].iloc[:0]
    paths = write_layers({"uncovered": empty, "stations": layers["stations"]}, tmp_path)
    assert len(pyogrio.read_dataframe(paths["uncovered"])) == 0
    assert len(pyogrio.read_dataframe(paths["gpkg"], layer="uncovered")) == 0


def test_gcj02_copies_are_shifted_as_amap_expects(layers, written):
    out, paths = written
    wgs = pyogrio.read_dataframe(out / "stations.geojson")
    gcj = pyogrio.read_dataframe(out / "gcj02" / "stations.gcj02.geojson")
    dx = gcj.geometry.x.to_numpy() - wgs.geometry.x.to_numpy()
    dy = gcj.geometry.y.to_numpy() - wgs.geometry.y.to_numpy()
    # In Yuzhong GCJ-02 lies about +0.0037° east and -0.0029° north of WGS84 (../shared/data/SOURCES.md).
    assert np.allclose(dx, 0.0037, atol=0.0004) and np.allclose(dy, -0.0029, atol=0.0004)
    assert set(p.name for p in (out / "gcj02").iterdir()) == {f"{k}.gcj02.geojson" for k in layers}


def test_metrics_and_csv(result, layers, tmp_path):
    summary = result.summary()
    table = metrics_table({"before": summary, "after": summary})
    row = table.set_index("metric").loc["coverage_share"]
    w = result.demand["weight"].to_numpy()
    share = w[result.demand["covered"].to_numpy()].sum() / w.sum()
    assert row["before"] == pytest.approx(share) and row["after"] == pytest.approx(share)
    path = write_csv(layers["stations"], tmp_path / "stations.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back["name"]) == list(layers["stations"]["name"])
    assert "geometry" not in back


def test_station_changes_marks_new_and_closed():
    crs = "EPSG:4326"
    before = gpd.GeoDataFrame({"id": ["S1", "S2"], "status": ["existing"] * 2, "district_km2": [3.0, 4.0]},
                              geometry=[Point(106.5, 29.55), Point(106.55, 29.56)], crs=crs)
    after = gpd.GeoDataFrame({"id": ["S1", "N1"], "status": ["existing", "existing"], "district_km2": [5.0, 2.0]},
                             geometry=[Point(106.5, 29.55), Point(106.52, 29.55)], crs=crs)
    out = station_changes(before, after).set_index("id")
    assert out.loc["S1", "status"] == "existing"
    assert out.loc["N1", "status"] == "proposed"
    assert out.loc["S2", "status"] == "closed" and np.isnan(out.loc["S2", "district_km2"])


def test_hydrant_layers_accepts_mapping_or_object():
    pts = gpd.GeoDataFrame({"id": ["H1"]}, geometry=[Point(500000, 3270000)], crs="EPSG:32648")

    class Result:
        hydrants = pts
        gaps = None
        proposals = pts

    out = hydrant_layers(Result())
    assert set(out) == {"hydrants", "proposed_hydrants"}
    assert out["hydrants"].crs.to_epsg() == 4326
    assert set(hydrant_layers({"hydrants": pts, "gaps": pts})) == {"hydrants", "hydrant_gaps"}
    with pytest.raises(InputError, match="hydrants"):
        hydrant_layers({"hydrants": pd.DataFrame({"x": [1]})})
