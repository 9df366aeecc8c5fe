"""Report figures draw Chinese names in a CJK font when the machine has one."""

from __future__ import annotations

import io
import warnings

import matplotlib
import pytest
from matplotlib.figure import Figure

import coverage.plotting as plotting


def _draw_chinese() -> None:
    fig = Figure()
    fig.add_subplot().set_title("渝中区 消防站")
    fig.savefig(io.BytesIO(), format="png")


def test_without_cjk_font_one_clear_warning_not_one_per_glyph(monkeypatch):
    monkeypatch.setattr(plotting, "cjk_fonts", lambda: ())
    plotting._warn_missing_glyphs.cache_clear()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(2):
            with plotting.report_fonts():
                _draw_chinese()
                warnings.warn("an unrelated warning", RuntimeWarning, stacklevel=1)
    messages = [str(w.message) for w in seen]
    assert messages.count("an unrelated warning") == 2  # other warnings pass through
    ours = [m for m in messages if m != "an unrelated warning"]
    assert len(ours) == 1 and "no CJK font found" in ours[0] and "fonts-noto-cjk" in ours[0]


def test_latin_only_figures_warn_nothing(monkeypatch):
    monkeypatch.setattr(plotting, "cjk_fonts", lambda: ())
    plotting._warn_missing_glyphs.cache_clear()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with plotting.report_fonts():
            fig = Figure()
            fig.add_subplot().set_title("S1 district")
            fig.savefig(io.BytesIO(), format="png")
    assert [str(w.message) for w in seen] == []


def test_cjk_fonts_follow_the_latin_font_and_stay_scoped(monkeypatch):
    monkeypatch.setattr(plotting, "cjk_fonts", lambda: ("Noto Sans CJK SC", "Microsoft YaHei"))
    before = list(matplotlib.rcParams["font.sans-serif"])
    with plotting.report_fonts():
        sans = list(matplotlib.rcParams["font.sans-serif"])
        assert sans[:3] == ["DejaVu Sans", "Noto Sans CJK SC", "Microsoft YaHei"]
        assert matplotlib.rcParams["font.family"] == ["sans-serif"]
    assert list(matplotlib.rcParams["font.sans-serif"]) == before


def test_installed_cjk_fonts_are_found_by_name():
    installed = {f.name for f in matplotlib.font_manager.fontManager.ttflist}
    found = plotting.cjk_fonts()
    assert set(found) <= installed & set(plotting.CJK_FONT_NAMES)
    assert list(found) == [n for n in plotting.CJK_FONT_NAMES if n in installed]


@pytest.mark.skipif(not plotting.cjk_fonts(), reason="no CJK font installed on this machine")
def test_chinese_names_draw_without_missing_glyphs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with plotting.report_fonts():
            _draw_chinese()
