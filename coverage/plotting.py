"""Fonts for the report figures: Chinese names drawn in a CJK font where one is installed.

Matplotlib's default font (DejaVu Sans) has no Chinese glyphs, so station, road and
district names such as 渝中区 come out as empty boxes, with one warning per glyph.
:func:`cjk_fonts` finds the CJK fonts this machine has (Noto/Source Han, Microsoft
YaHei, SimHei, PingFang, WenQuanYi ...) and :func:`report_fonts` puts them after
DejaVu Sans in the sans-serif list, so Latin text keeps its look and each Chinese
glyph falls back to the first CJK font that has it (Matplotlib >= 3.6 falls back
per glyph). Without any CJK font the figures are still written; when a label has
Chinese text, one warning says which fonts to install instead of one warning per
missing glyph.

The settings are scoped (:func:`matplotlib.rc_context`): importing this module
changes nothing in a user's own Matplotlib session.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import matplotlib
from matplotlib import font_manager

__all__ = ["CJK_FONT_NAMES", "cjk_fonts", "report_fonts"]

# Common CJK sans-serif families, by platform: Linux packages (fonts-noto-cjk,
# fonts-wqy-*), Windows (Microsoft YaHei, SimHei), macOS (PingFang, Heiti).
CJK_FONT_NAMES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Hiragino Sans GB",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Sarasa Gothic SC", "Droid Sans Fallback",
)
_INSTALL_HINT = ("install a CJK font (e.g. Debian/Ubuntu: apt install fonts-noto-cjk) so "
                 "Chinese names in the figures are drawn")


@cache
def cjk_fonts() -> tuple[str, ...]:
    """Names from :data:`CJK_FONT_NAMES` installed on this machine, in that order."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return tuple(name for name in CJK_FONT_NAMES if name in installed)


@cache
def _warn_missing_glyphs(fonts: tuple[str, ...]) -> None:
    if fonts:
        message = f"some characters of the figure labels are in none of the fonts {', '.join(fonts)}"
    else:
        message = f"no CJK font found: {_INSTALL_HINT}"
    warnings.warn(message, UserWarning, stacklevel=4)


_GLYPH = re.compile(r"Glyph \d+ .*missing from font")


@contextmanager
def report_fonts() -> Iterator[None]:
    """Build and save figures inside this block to draw Chinese text in a CJK font.

    Matplotlib's one-warning-per-missing-glyph is replaced by one warning per
    process, and only when a label really had a character no font could draw.
    Other warnings pass through unchanged.
    """
    fonts = cjk_fonts()
    sans = ["DejaVu Sans", *fonts, *matplotlib.rcParams["font.sans-serif"]]
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": sans}), \
            warnings.catch_warnings(record=True) as caught:
        yield
    missing = False
    for w in caught:
        if issubclass(w.category, UserWarning) and _GLYPH.search(str(w.message)):
            missing = True
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if missing:
        _warn_missing_glyphs(fonts)
