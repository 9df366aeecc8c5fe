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


def test_lscp_lists_its_unreachable_demand(yuzhong_lscp_run, tmp_path):
    """Regression: the LSCP summary.json had only a count of the demand no site can reach."""


    from coverage.outputs.summary import check_placement_summary
    from coverage.outputs.write import write_placement

    run = yuzhong_lscp_run
    cost = run.problem.cost.tocsr()
    threshold = run.problem.threshold
    # Independently: a demand row no column (station or candidate) reaches within the threshold.
    reach = np.full(cost.shape[0], np.inf)
    for i in range(cost.shape[0]):
        row = cost.data[cost.indptr[i]:cost.indptr[i + 1]]
        if len(row):
            reach[i] = row.min()
    expected = np.flatnonzero(reach > threshold)
    assert len(expected) > 0 and cost.shape[0] == len(run.before.demand)
    paths = write_placement(run, tmp_path / "site", tiles="none")
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    check_placement_summary(summary)
    block = summary["unreachable_demand"]
    assert block["count"] == len(expected) == len(block["points"])
    assert [p["demand_id"] for p in block["points"]] == expected.tolist()
    assert block["weight"] == pytest.approx(run.before.demand["weight"].to_numpy()[expected].sum())
    layer = gpd.read_file(paths["unreachable_demand"])
    assert layer["demand_id"].tolist() == expected.tolist()
    assert "unreachable_demand" in {row[0] for row in pyogrio.list_layers(paths["gpkg"])}
    assert "unreachable demand" in paths["report"].read_text(encoding="utf-8")


def test_placement_layers_for_gis_teams(yuzhong_lscp_run, tmp_path):
    """ArcGIS Location-Allocation outputs: facilities with a type, allocation lines, the OD matrix."""

    from coverage.outputs.write import write_placement

    run = yuzhong_lscp_run
    paths = write_placement(run, tmp_path / "site", tiles="none")
    # Regression: layers.gpkg of a placement run had no sites or candidates layer.
    layers = {row[0] for row in pyogrio.list_layers(paths["gpkg"])}
    assert {"sites", "candidates", "facilities", "allocation_lines", "stations"} <= layers

    fac = gpd.read_file(paths["facilities"])
    assert list(fac.columns[:5]) == ["facility_id", "name", "facility_type", "station_type", "road_name"]
    by_type = fac.groupby("facility_type")["facility_id"].apply(set).to_dict()
    assert by_type["required"] == set(run.before.stations["id"])
    assert by_type["chosen"] == set(run.new_sites["id"])
    assert by_type.get("candidate", set()) == set(run.candidates["id"]) - set(run.new_sites["id"])
    chosen = fac[fac["facility_type"] == "chosen"]
    assert set(chosen["name"]) == set(run.new_sites["name"])

    lines = gpd.read_file(paths["allocation_lines"])
    demand = run.after.demand.to_crs(4326)
    stations = run.after.stations.to_crs(4326).set_index("id")
    reached = demand["first_due_station"].notna().sum()
    assert len(lines) == reached
    sample = lines.sample(25, random_state=0)
    for row in sample.itertuples():
        start, end = row.geometry.coords[0], row.geometry.coords[-1]
        assert start == pytest.approx(demand.geometry.iloc[row.demand_id].coords[0], abs=1e-7)
        assert end == pytest.approx(stations.loc[row.facility_id].geometry.coords[0], abs=1e-7)
        assert row.travel_s == pytest.approx(demand["first_due_s"].iloc[row.demand_id])

    table = pd.read_csv(paths["travel_matrix"], encoding="utf-8-sig")
    assert list(table.columns) == ["facility_id", "facility_type", "demand_id", "travel_s"]
    cost = run.problem.cost.tocoo()
    assert len(table) == cost.nnz
    ids = np.asarray(run.problem.candidate_ids, dtype=object)
    got = dict(zip(zip(table["facility_id"], table["demand_id"], strict=True), table["travel_s"], strict=True))
    for r, c, v in list(zip(cost.row, cost.col, cost.data, strict=True))[::997]:
        assert got[(ids[c], r)] == pytest.approx(v, abs=0.05)
    assert set(table["facility_type"]) <= {"required", "chosen", "candidate", "closed"}


def test_new_sites_are_named_from_their_road(yuzhong_lscp_run, yuzhong_index):
    """Regression: new sites were named by OSM node id ("N1873080412") everywhere."""
    from coverage.siting import new_site_names

    assert new_site_names(["嘉滨路", "", None, "near 中华路"], "small") == [
        "嘉滨路 (new small station 1)", "unnamed road (new small station 2)",
        "unnamed road (new small station 3)", "near 中华路 (new small station 4)",
    ]
    run = yuzhong_lscp_run
    sites = run.new_sites
    assert len(sites) >= 2
    for k, (name, road, point) in enumerate(zip(sites["name"], sites["road_name"], sites.geometry,
                                                strict=True), start=1):
        assert name.endswith(f" (new small station {k})")
        if road:
            assert name.startswith(road)
        elif name.startswith("near "):
            # The named road it is near is within 300 m.
            near = name[len("near "):name.index(" (new")]
            segs = yuzhong_index.seg_geometry[yuzhong_index.seg_name == near]
            assert min(s.distance(point) for s in segs) <= 300
    assert set(sites["id"]) <= set(run.candidates["id"])  # the id stays a field
