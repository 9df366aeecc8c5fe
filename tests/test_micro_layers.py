"""Micro-station, key-unit and demand layers (coverage.micro.layers)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage.errors import InputError
from coverage.micro import (
    grid_demand,
    outside_area,
    read_key_units,
    read_micro_stations,
)


def generated_layer(**columns) -> gpd.GeoDataFrame:
    """A generated three-station layer in Yuzhong (WGS84)."""
    base = {"id": ["M1", "M2", "M3"], "name": ["解放碑社区微站", "", "重点单位A"],
            "type": ["社区", "community", "重点单位"], "staffing": [6, None, 8],
            "status": ["existing", "规划", ""]}
    base.update(columns)
    return gpd.GeoDataFrame(base, geometry=shapely.points(
        [(106.5770, 29.5580), (106.5700, 29.5560), (106.5500, 29.5550)]), crs=4326)


def test_types_staffing_and_status_are_normalised():
    st = read_micro_stations(generated_layer())
    assert list(st["type"]) == ["community", "community", "unit"]
    assert list(st["status"]) == ["existing", "proposed", "existing"]
    assert st["staffing"].iloc[0] == 6 and np.isnan(st["staffing"].iloc[1])
    assert list(st["name"]) == ["解放碑社区微站", "M2", "重点单位A"]


def test_unknown_type_names_the_station():
    with pytest.raises(InputError, match=r"M2.*community") as err:
        read_micro_stations(generated_layer(type=["社区", "fire brigade", "unit"]))
    assert "fire brigade" in str(err.value)


def test_missing_type_column_needs_a_default():
    layer = generated_layer().drop(columns="type")
    with pytest.raises(InputError, match="no 'type' column"):
        read_micro_stations(layer)
    assert set(read_micro_stations(layer, default_type="社区")["type"]) == {"community"}


@pytest.mark.parametrize("bad", ["six", -1, 2.5])
def test_bad_staffing_names_the_station(bad):
    with pytest.raises(InputError, match="staffing") as err:
        read_micro_stations(generated_layer(staffing=[6, bad, 8]))
    assert err.value.row == "M2"


def test_unknown_status_and_duplicate_ids_are_errors():
    with pytest.raises(InputError, match="status"):
        read_micro_stations(generated_layer(status=["existing", "maybe", ""]))
    with pytest.raises(InputError, match="duplicate"):
        read_micro_stations(generated_layer(id=["M1", "M1", "M3"]))


def test_station_outside_the_study_area_is_an_error():
    area = shapely.box(106.56, 29.55, 106.59, 29.57)
    with pytest.raises(InputError, match="M3"):
        read_micro_stations(generated_layer(), study_area=area)


def test_csv_layer(tmp_path):
    path = tmp_path / "generated_micro.csv"
    path.write_text("id,name,type,staffing,lon,lat\nA,a,unit,6,106.577,29.558\n", encoding="utf-8")
    st = read_micro_stations(path)
    assert st.loc[0, "type"] == "unit" and st.crs.to_epsg() == 4326


def test_key_units_outside_the_area_are_listed(tmp_path):
    path = tmp_path / "generated_key_units.geojson"
    layer = gpd.GeoDataFrame({"id": ["K1", "K2"], "name": ["school", "far hotel"],
                              "category": ["school", "hotel"]},
                             geometry=shapely.points([(106.577, 29.558), (106.40, 29.50)]),
                             crs=4326)
    layer.to_file(path)
    keys = read_key_units(path)
    assert set(keys["rule"]) == {"user layer"}
    area = shapely.box(106.56, 29.55, 106.59, 29.57)
    with pytest.warns(UserWarning, match="K2 far hotel"):
        inside, outside = outside_area(keys, area, "EPSG:4326")
    assert list(inside["id"]) == ["K1"] and list(outside["id"]) == ["K2"]


def test_osm_key_units_carry_their_rule():
    from micro_data import key_units

    keys = key_units()
    assert keys["id"].is_unique
    assert {"school", "hospital", "heritage", "market_mall", "hotel", "worship",
            "highrise"} <= set(keys["category"])
    assert keys["rule"].str.len().gt(0).all()
    highrise = keys[keys["category"] == "highrise"]
    assert highrise["rule"].str.startswith("highrise (height").all()
    assert keys[keys["category"] == "school"]["rule"].str.contains("school").all()


def test_grid_demand_covers_the_area():
    area = shapely.Polygon([(0, 0), (1000, 0), (1000, 500), (0, 500)]).buffer(0)
    grid = grid_demand(area, "EPSG:32648", cell_m=100)
    assert len(grid) == 50 and grid["weight"].sum() == pytest.approx(area.area)
    with pytest.raises(InputError):
        grid_demand(area, "EPSG:32648", cell_m=0)
