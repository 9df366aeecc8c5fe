"""The assessment package's imports point down the pipeline only (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import coverage.assess as assess_pkg

PKG = Path(assess_pkg.__file__).parent
#: Layers above the assessment: it must not reach back up to them.
ABOVE = ("coverage.siting", "coverage.outputs", "coverage.cli", "coverage.optimise", "coverage.hydrants")


def _project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coverage"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("coverage"))
    return found


def test_assess_modules_do_not_import_upward():
    modules = sorted(PKG.glob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        upward = {m for m in _project_imports(path) if m.startswith(ABOVE)}
        assert not upward, f"{path.name} imports {upward}"


def test_entry_point_is_importable_from_the_package():
    from coverage.assess import Assessment, DemandSet, assess

    assert callable(assess) and Assessment.__name__ == "Assessment" and DemandSet.__name__ == "DemandSet"


def test_demand_cells_equal_clipping_every_voronoi_cell(yuzhong_boundary):
    """Only boundary-crossing cells are clipped; every cell equals the full overlay's."""
    import geopandas as gpd
    import numpy as np
    import pytest
    import shapely

    from coverage.assess.districts import demand_cells

    area = gpd.read_file(yuzhong_boundary).to_crs(4545).geometry.union_all()
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = area.bounds
    xy = np.column_stack([rng.uniform(minx, maxx, 6000), rng.uniform(miny, maxy, 6000)])
    xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
    xy = np.vstack([xy, xy[:5]])  # repeated positions get an empty cell
    cells = demand_cells(xy, area)
    unique_xy, first = np.unique(np.round(xy, 6), axis=0, return_index=True)
    regions = shapely.voronoi_polygons(shapely.multipoints(unique_xy), extend_to=area, ordered=True)
    full = np.empty(len(xy), dtype=object)
    full[:] = shapely.Polygon()
    full[first] = shapely.intersection(shapely.make_valid(np.asarray(shapely.get_parts(regions))),
                                       area)
    assert shapely.equals(cells, full).all()
    np.testing.assert_allclose(shapely.area(cells), shapely.area(full), rtol=0, atol=1e-6)
    assert shapely.area(cells).sum() == pytest.approx(area.area, rel=1e-9)
    assert int(shapely.is_empty(cells).sum()) == 5
