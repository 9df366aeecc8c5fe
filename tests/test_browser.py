"""map.html in a real browser: headless Debian Chromium driven by Playwright, with no network.

Tile requests are answered with a blank tile made here; any other network
request fails the test, so the page is proven to work offline. Outside CI the
tests skip when Chromium is missing; with ``CI=true`` they fail instead.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from PIL import Image
from test_outputs_maps import synthetic_hydrants

from coverage.assess import assess
from coverage.layers import read_stations
from coverage.outputs.maps import (
    _CDN_ASSETS,
    _STATIC,
    LAYER_NAMES,
    before_after_map,
    coverage_map,
    save_map,
)

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TILE_HOSTS = re.compile(r"^https://(tile\.openstreetmap\.org|webrd0\d\.is\.autonavi\.com)/")


def _chromium() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if Path(path).exists() or shutil.which(path):
        return path
    reason = f"headless Chromium not found at {path} (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 860},
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def result(yuzhong_network, yuzhong_index, yuzhong_stations):
    return assess(yuzhong_network, read_stations(yuzhong_stations), index=yuzhong_index)


def _blank_tile() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 236, 230)).save(buf, format="PNG")
    return buf.getvalue()


_MIME = {".js": "application/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


def _vendored(url: str) -> Path | None:
    """The vendored copy of a CDN file, or of a file its stylesheet refers to (images)."""
    for cdn, local in _CDN_ASSETS.items():
        folder = cdn.rsplit("/", 1)[0] + "/"
        if url == cdn or url.startswith(folder):
            path = _STATIC / (local if url == cdn else Path(local).parent / url[len(folder):])
            return path if path.is_file() else None
    return None


class Page:
    """A page with every console error, page error and unexpected request recorded."""

    def __init__(self, context, *, serve_cdn: bool = False) -> None:
        self.page = context.new_page()
        self.errors: list[str] = []
        self.unexpected: list[str] = []
        self.tiles = 0
        tile = _blank_tile()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

        def route(r):
            url = r.request.url
            if TILE_HOSTS.match(url):
                self.tiles += 1
                return r.fulfill(status=200, content_type="image/png", body=tile)
            path = _vendored(url) if serve_cdn else None
            if path is not None:
                return r.fulfill(status=200, content_type=_MIME.get(path.suffix, "application/octet-stream"),
                                 body=path.read_bytes())
            self.unexpected.append(url)
            return r.abort()

        self.page.route(re.compile(r"^https?://"), route)

    def open(self, path: Path) -> None:
        # "load" means every inline script ran; waiting for network idle instead is
        # flaky, since Leaflet keeps requesting (stubbed) tiles as the map settles.
        self.page.goto(path.as_uri(), wait_until="load", timeout=60_000)
        self.page.wait_for_selector(".leaflet-control-layers", timeout=60_000)

    def check_clean(self) -> None:
        assert self.errors == []
        assert self.unexpected == []

    def overlay_labels(self) -> list[str]:
        return [t.strip() for t in self.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]

    def count(self, js_class: str) -> int:
        """Leaflet layers of a class on the first map, e.g. ``L.CircleMarker``."""
        return self.page.evaluate(
            """(cls) => { const C = cls.split('.').reduce((o, k) => o[k], window);
                const m = Object.values(window).find(v => v instanceof L.Map);
                let n = 0; m.eachLayer(l => { if (l instanceof C) n += 1; }); return n; }""",
            js_class,
        )


def test_map_html_works_offline_with_every_layer(browser, result, tmp_path):
    hydrants = synthetic_hydrants(result)
    path = save_map(coverage_map(result, hydrants=hydrants), tmp_path / "map.html")
    page = Page(browser)
    page.open(path)
    page.page.screenshot(path=str(tmp_path / "map.png"))

    page.check_clean()
    assert page.tiles > 0
    assert page.overlay_labels() == [
        LAYER_NAMES[k] for k in ("boundary", "response_rings", "districts", "no_access", "worst_first_due",
                                 "roads", "uncovered", "hydrant_gaps", "hydrants", "proposed_hydrants",
                                 "stations")
    ]
    assert page.page.locator(".leaflet-control-layers-base label").all_inner_texts()[0].strip() == "OpenStreetMap"
    for selector in (".leaflet-control-scale", ".leaflet-control-zoom-fullscreen", ".sc-legend"):
        assert page.page.locator(selector).count() == 1, selector
    legend = page.page.locator(".sc-legend").inner_text()
    assert "Roads: first-due travel time" in legend and "Service-area rings" in legend

    # Drawn features: every road piece is a polyline; uncovered points appear when switched on.
    from coverage.outputs.layers import assessment_layers

    layers = assessment_layers(result)
    polylines = page.count("L.Polyline")
    assert polylines >= len(layers["roads"])
    # Hovering a station shows its tooltip with name and district area.
    station = layers["stations"].iloc[0]
    xy = page.page.evaluate(
        """([lat, lon]) => { const m = Object.values(window).find(v => v instanceof L.Map);
            const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top]; }""",
        [station.geometry.y, station.geometry.x],
    )
    page.page.mouse.move(*xy)
    tooltip = page.page.locator(".leaflet-tooltip").first
    tooltip.wait_for(timeout=3000)
    text = tooltip.inner_text()
    assert station["name"] in text and station["id"] in text
    # Planner units, not raw floats: "District 1.85 km²", "Slowest first-due 2:57 min".
    assert re.search(r"District\s+\d+\.\d\d km²", text), text
    assert re.search(r"Slowest first-due\s+\d+:\d\d min", text), text
    # On the land model uncovered demand is one (multi)polygon per first-due station.
    kind = "L.Polygon" if layers["uncovered"].geom_type.str.contains("Polygon").all() else "L.CircleMarker"
    before = page.count(kind)
    page.page.get_by_label(LAYER_NAMES["uncovered"]).check()
    assert page.count(kind) - before == len(layers["uncovered"])

    page.check_clean()
    assert (tmp_path / "map.png").stat().st_size > 10_000


def test_before_after_maps_stay_in_sync(browser, result, yuzhong_network, yuzhong_index, tmp_path):
    st = result.stations[["id", "name", "type", "status", "geometry"]]
    after = assess(yuzhong_network, gpd.GeoDataFrame(st[st["id"] != "S4"], crs=st.crs),
                   index=yuzhong_index, demand=result.demand_set)
    path = save_map(before_after_map(result, after, tiles="none"), tmp_path / "before_after.html")
    page = Page(browser)
    page.open(path)
    page.page.screenshot(path=str(tmp_path / "before_after.png"))
    page.check_clean()
    assert page.tiles == 0
    assert page.page.locator(".leaflet-control-layers").count() == 2
    zooms = page.page.evaluate(
        """() => { const maps = Object.values(window).filter(v => v instanceof L.Map);
            maps[0].setView(maps[0].getCenter(), 16, {animate: false});
            return maps.map(m => m.getZoom()); }"""
    )
    assert zooms == [16, 16]
    page.check_clean()


def test_cdn_page_works_when_its_links_are_served(browser, result, tmp_path):
    path = save_map(coverage_map(result, tiles="amap"), tmp_path / "map_cdn.html", assets="cdn")
    page = Page(browser, serve_cdn=True)
    page.open(path)
    page.check_clean()
    assert page.tiles > 0
    assert page.page.locator(".leaflet-control-layers-base label").all_inner_texts()[0].strip() == "高德地图 Amap"


def test_hydrant_map_works_offline(browser, helsinki_hydrants, tmp_path):
    """Regression: the hydrants map.html loaded Leaflet from a CDN and was blank offline."""
    from coverage.hydrants.maps import hydrant_map

    report, proposal, _ = helsinki_hydrants
    path = save_map(hydrant_map(report, proposal), tmp_path / "hydrants_map.html")
    page = Page(browser)
    page.open(path)
    page.check_clean()
    assert page.tiles > 0
    labels = " ".join(page.overlay_labels())
    assert "Hydrants by status" in labels and "Proposed hydrants" in labels
    assert page.count("L.CircleMarker") >= len(report.hydrants) // 2


def test_notebook_display_works_offline(browser, result, tmp_path):
    """Regression: folium's notebook display links Leaflet from CDNs, so notebook maps were blank offline.

    The HTML Jupyter would show (an iframe with the page in ``srcdoc``) is opened as
    a page of its own, with every non-tile request refused.
    """
    path = tmp_path / "notebook_cell.html"
    path.write_text("<!DOCTYPE html><html><body>" + coverage_map(result)._repr_html_() + "</body></html>",
                    encoding="utf-8")
    page = Page(browser)
    page.page.goto(path.as_uri(), wait_until="load", timeout=60_000)
    frame = page.page.frame_locator("iframe")
    frame.locator(".leaflet-control-layers").wait_for(timeout=60_000)
    assert frame.locator(".sc-legend").count() == 1
    page.check_clean()
