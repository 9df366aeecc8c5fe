"""Numbers as a planner writes them: times, distances, areas and shares with their units.

One place for the text of every figure a planner reads (map tooltips, CLI
lines, reports), so "177.499" never reaches them. Like :mod:`coverage.outputs.files`
this module imports nothing of the project, so every layer can use it.

>>> duration(177.499), duration(42.4), distance(149.6), distance(2349), area(1.8512)
('2:57 min', '42 s', '150 m', '2.3 km', '1.85 km²')
"""

from __future__ import annotations

import math

__all__ = ["area", "distance", "duration", "objective", "share"]

DASH = "–"


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def duration(seconds, *, unreachable: str = "unreachable") -> str:
    """``"2:57 min"`` from 177.5 s; whole seconds under a minute (``"42 s"``).

    Infinite times are ``unreachable``; missing values a dash.
    """
    if _missing(seconds):
        return DASH
    s = float(seconds)
    if math.isinf(s):
        return unreachable
    sign, s = ("-", -s) if s < 0 else ("", s)
    whole = int(round(s))
    if whole < 60:
        return f"{sign}{whole} s"
    return f"{sign}{whole // 60}:{whole % 60:02d} min"


def distance(metres) -> str:
    """Whole metres under 1 km (``"150 m"``), else km with one decimal (``"2.3 km"``)."""
    if _missing(metres):
        return DASH
    m = float(metres)
    if math.isinf(m):
        return DASH
    if abs(m) < 999.5:
        return f"{round(m):d} m"
    return f"{m / 1000:.1f} km"


def area(km2) -> str:
    """Square kilometres to two decimals (``"1.85 km²"``); tiny areas in m²."""
    if _missing(km2):
        return DASH
    a = float(km2)
    if math.isinf(a):
        return DASH
    if 0 < abs(a) < 0.01:
        return f"{round(a * 1e6):,d} m²"
    return f"{a:.2f} km²"


def share(x) -> str:
    """A share as a percentage with one decimal (``"87.3 %"``)."""
    if _missing(x):
        return DASH
    return f"{100 * float(x):.1f} %"


#: What each location model's objective counts.
_OBJECTIVE = {
    "pcenter": "worst first-due time",
    "lscp": "sites",
    "mclp": "demand covered",
    "backup": "demand covered twice",
    "pmedian": "weighted first-due time",
}


def objective(model: str, value, *, weight_unit: str | None = None) -> str:
    """The objective of a location model in its own units.

    p-center: a time; LSCP: a count of sites; MCLP/backup: covered demand (road
    length when the demand weight is metres of road); p-median: the weighted
    sum of first-due times.
    """
    if _missing(value):
        return DASH
    v = float(value)
    what = _OBJECTIVE.get(model, "objective")
    if model == "pcenter":
        return f"{what} {duration(v)}"
    if model == "lscp":
        return f"{round(v):d} {what}"
    if model in ("mclp", "backup"):
        amount = distance(v) + " of road" if weight_unit in ("m", "m of road") else f"{v:,.0f}"
        return f"{what}: {amount}"
    if model == "pmedian":
        return f"{what} {v:,.0f} s × weight"
    return f"{what} {v:,.6g}"
