"""Time of day: travel-time profiles per period with congestion factors per road class.

A :class:`TimeProfile` splits the day into named periods (morning peak, day,
evening peak, night). Each period multiplies the free-flow travel time of every
road by a factor for its OSM class (``primary`` 1.5 means 50 % slower than the
travel model's own time). :func:`period_index` applies a period to a built
:class:`~coverage.engine.RoadIndex` without parsing OSM again, and
:func:`assess_periods` measures the same stations in every period and flags
the worst one.

The preset :data:`CN_URBAN_WEEKDAY` is a **planning assumption**, not a
measurement: fire engines run with sirens and use bus lanes, so they lose less
time at the peaks than ordinary traffic, but arterials and their junctions
still clog. Fit the factors to your own dispatch records with
:mod:`coverage.calibrate`, or supply a profile in TOML (see :func:`read_profile`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from coverage.assess.metrics import response_metrics
from coverage.engine import RoadIndex, Snap, due_times, point_times
from coverage.engine import _min_csr as min_csr
from coverage.errors import InputError
from coverage.presets import ResponseStandard

__all__ = [
    "CN_URBAN_WEEKDAY",
    "FREE_FLOW",
    "PROFILES",
    "Period",
    "TimeProfile",
    "assess_periods",
    "class_factors",
    "period_index",
    "read_profile",
]


@dataclass(frozen=True)
class Period:
    """One period of the day.

    Attributes
    ----------
    name : str
    start_h, end_h : float
        Hours of the day, ``0 <= start < 24``; ``end_h < start_h`` wraps past
        midnight (night 22 → 6).
    factors : mapping of str to float
        Travel-time multiplier per OSM highway class, relative to the travel
        model's own times (usually >= 1; a calibrated profile relative to a
        congested model may go below 1). A ``*_link`` class not listed uses its
        parent's factor.
    default_factor : float
        Factor for classes not listed.
    """

    name: str
    start_h: float
    end_h: float
    factors: Mapping[str, float] = field(default_factory=dict)
    default_factor: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "factors", MappingProxyType(dict(self.factors)))
        for key, f in [*self.factors.items(), ("default", self.default_factor)]:
            if not (isinstance(f, (int, float)) and math.isfinite(f) and f > 0):
                raise InputError(f"period {self.name!r}: factor {f!r} for {key!r} is not a "
                                 "positive number", source="time profile",
                                 fix="use 1.0 for the travel model's own times, larger for slower")
        for h in (self.start_h, self.end_h):
            if not (isinstance(h, (int, float)) and 0 <= h <= 24):
                raise InputError(f"period {self.name!r}: hour {h!r} is not in 0..24",
                                 source="time profile", fix="give hours of the day, e.g. 7 and 9.5")

    def factor(self, highway: str) -> float:
        """Multiplier for one road class."""
        if highway in self.factors:
            return float(self.factors[highway])
        if highway.endswith("_link") and highway[:-5] in self.factors:
            return float(self.factors[highway[:-5]])
        return float(self.default_factor)

    def hours(self) -> float:
        """Length of the period, hours."""
        return (self.end_h - self.start_h) % 24 or 24.0

    def contains(self, hour: np.ndarray) -> np.ndarray:
        """Boolean mask of the hours (0..24) that fall in this period."""
        hour = np.asarray(hour, dtype=float)
        if self.start_h <= self.end_h:
            return (hour >= self.start_h) & (hour < self.end_h)
        return (hour >= self.start_h) | (hour < self.end_h)


@dataclass(frozen=True)
class TimeProfile:
    """Periods that tile the day, with a note on where the factors come from."""

    name: str
    periods: tuple[Period, ...]
    note: str = ""

    def __post_init__(self) -> None:
        periods = tuple(self.periods)
        object.__setattr__(self, "periods", periods)
        if not periods:
            raise InputError(f"time profile {self.name!r} has no periods", source="time profile")
        names = [p.name for p in periods]
        if len(set(names)) != len(names):
            raise InputError(f"time profile {self.name!r} names a period twice", source="time profile")
        grid = np.arange(0, 24, 0.25) + 0.125
        count = sum(p.contains(grid).astype(int) for p in periods)
        if (count != 1).any():
            h = float(grid[np.flatnonzero(count != 1)[0]])
            raise InputError(f"time profile {self.name!r}: hour {h:.2f} falls in "
                             f"{int(count[np.flatnonzero(count != 1)[0]])} periods",
                             source="time profile", fix="make the periods tile the 24 hours once")

    def names(self) -> list[str]:
        return [p.name for p in self.periods]

    def period_of(self, hour: np.ndarray) -> np.ndarray:
        """Period name for each hour of day (float hours, 0..24)."""
        hour = np.asarray(hour, dtype=float) % 24
        out = np.empty(hour.shape, dtype=object)
        for p in self.periods:
            out[p.contains(hour)] = p.name
        return out

    def period(self, name: str) -> Period:
        for p in self.periods:
            if p.name == name:
                return p
        raise InputError(f"time profile {self.name!r} has no period {name!r}",
                         source="time profile", fix=f"use one of {self.names()}")


_ARTERIAL = ("motorway", "trunk", "primary", "secondary")
_BRANCH = ("tertiary", "unclassified")


def _classes(arterial: float, branch: float, local: float) -> dict[str, float]:
    out = {c: arterial for c in _ARTERIAL}
    out.update({c: branch for c in _BRANCH})
    out.update({c: local for c in ("residential", "living_street", "service", "road")})
    return out


#: Weekday profile for a dense Chinese city centre. ASSUMPTIONS (not measured): an
#: emergency run loses about half as much time to congestion as ordinary traffic; on
#: arterials (快速路/主干路/次干路) the peak factor is taken as 1.6 (morning) and 1.7
#: (evening), branch roads (支路) 1.35-1.4, local lanes 1.15-1.2; daytime 1.25/1.15/1.1;
#: night free flow. Replace with calibrated factors (``station-coverage calibrate``).
CN_URBAN_WEEKDAY = TimeProfile(
    name="cn_urban_weekday",
    periods=(
        Period("morning_peak", 7.0, 9.5, _classes(1.6, 1.35, 1.15), 1.15),
        Period("day", 9.5, 17.0, _classes(1.25, 1.15, 1.1), 1.1),
        Period("evening_peak", 17.0, 19.5, _classes(1.7, 1.4, 1.2), 1.2),
        Period("night", 19.5, 7.0, {}, 1.0),
    ),
    note="planning assumption: engines lose about half of ordinary traffic's peak delay; "
         "not measured, calibrate locally",
)

#: One period, free flow all day (the travel model alone).
FREE_FLOW = TimeProfile(name="free_flow", periods=(Period("all_day", 0.0, 24.0, {}, 1.0),),
                        note="the travel model's own times, all day")

PROFILES: dict[str, TimeProfile] = {p.name: p for p in (CN_URBAN_WEEKDAY, FREE_FLOW)}


def read_profile(source: str | Path | Mapping) -> TimeProfile:
    """A time profile from a preset name, a TOML file or a parsed TOML table.

    TOML form::

        name = "my_city"
        note = "fitted on 2024 AVL records"
        [periods.morning_peak]
        hours = [7, 9.5]
        default = 1.15
        factors = { primary = 1.6, secondary = 1.5, residential = 1.15 }
        [periods.night]
        hours = [19.5, 7]

    Periods must tile the 24 hours. A calibrated model written by
    :func:`coverage.calibrate.write_model_toml` is accepted too (its
    ``[periods]`` table).
    """
    if isinstance(source, str) and source in PROFILES:
        return PROFILES[source]
    where = "time profile"
    if not isinstance(source, Mapping):
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise InputError("time profile not found", source=path,
                             fix=f"give a TOML file or one of the presets {sorted(PROFILES)}")
        try:
            source = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"not valid TOML ({exc})", source=path, fix="check the syntax") from None
    raw = dict(source)
    tables = raw.get("periods")
    if not isinstance(tables, Mapping) or not tables:
        raise InputError("no [periods.NAME] tables", source=where,
                         fix="give one table per period with hours = [start, end]")
    periods = []
    for name, t in tables.items():
        if not isinstance(t, Mapping):
            raise InputError(f"periods.{name} is not a table", source=where)
        unknown = sorted(set(t) - {"hours", "default", "factors", "congestion_factor"})
        if unknown:
            raise InputError(f"unknown key {unknown[0]!r} in [periods.{name}]", source=where,
                             fix="use hours, default, factors")
        hours = t.get("hours")
        if not (isinstance(hours, list) and len(hours) == 2):
            raise InputError(f"periods.{name}.hours must be [start, end]", source=where,
                             fix="e.g. hours = [7, 9.5]")
        factors = t.get("factors", {})
        if not isinstance(factors, Mapping):
            raise InputError(f"periods.{name}.factors must be a table of class = factor",
                             source=where)
        default = t.get("default", t.get("congestion_factor", 1.0))
        try:
            periods.append(Period(str(name), float(hours[0]), float(hours[1]),
                                  {str(k): float(v) for k, v in factors.items()}, float(default)))
        except (TypeError, ValueError):
            raise InputError(f"periods.{name}: hours and factors must be numbers", source=where,
                             fix="e.g. hours = [7, 9.5], factors = { primary = 1.6 }") from None
        except InputError as exc:
            raise InputError(exc.problem, source=where, fix=exc.fix) from None
    try:
        return TimeProfile(str(raw.get("name", Path(where).stem)), tuple(periods),
                           str(raw.get("note", "")))
    except InputError as exc:
        raise InputError(exc.problem, source=where, fix=exc.fix) from None


def class_factors(index: RoadIndex, period: Period) -> np.ndarray:
    """Per road segment, the period's travel-time factor for its class."""
    classes, inverse = np.unique(index.seg_highway.astype(str), return_inverse=True)
    return np.array([period.factor(c) for c in classes])[inverse]


def period_index(index: RoadIndex, period: Period) -> RoadIndex:
    """The same road index with every segment's times multiplied by the period's factor.

    The CSR is rebuilt from the scaled segments (parallel edges keep their minimum).
    """
    f = class_factors(index, period)
    fwd, bwd = index.seg_fwd_s * f, index.seg_bwd_s * f
    arc_u = np.concatenate([index.seg_u, index.seg_v])
    arc_v = np.concatenate([index.seg_v, index.seg_u])
    arc_w = np.concatenate([fwd, bwd])
    ok = np.isfinite(arc_w) & (arc_u != arc_v)
    csr = min_csr(arc_u[ok], arc_v[ok], arc_w[ok], index.n_nodes)
    return replace(index, csr=csr, seg_fwd_s=fwd, seg_bwd_s=bwd)


def assess_periods(index: RoadIndex, stations: Snap, demand: Snap, weights: np.ndarray,
                   standard: ResponseStandard, profile: TimeProfile,
                   *, cutoff_s: float | None = None) -> pd.DataFrame:
    """Coverage of the same stations in every period of the day.

    Parameters
    ----------
    index : RoadIndex
        The free-flow index of the travel model.
    stations, demand : Snap
        Station and demand positions on the network.
    weights : ndarray
        Demand weight per demand point.
    standard : ResponseStandard
    profile : TimeProfile
    cutoff_s : float, optional
        Dijkstra cutoff (seconds); times above are unreachable.

    Returns
    -------
    DataFrame
        One row per period: ``period``, ``hours`` (e.g. ``"07:00–09:30"``),
        ``coverage_share``, ``second_due_coverage_share``, ``first_due_p50_s``,
        ``first_due_p90_s``, ``first_due_max_s``, ``compliant`` and ``worst``
        (True for the period with the lowest coverage, ties to the higher p90).
    """
    rows = []
    for p in profile.periods:
        times = point_times(period_index(index, p), stations, demand, cutoff_s=cutoff_s)
        due = due_times(times)
        m = response_metrics(weights, due.first_s, due.second_s, standard)
        rows.append({"period": p.name, "hours": _hours(p), "hours_per_day": p.hours(),
                     **{k: m[k] for k in ("coverage_share", "second_due_coverage_share",
                                          "first_due_p50_s", "first_due_p90_s",
                                          "first_due_max_s", "compliant")}})
    table = pd.DataFrame(rows)
    order = table.assign(p90=table["first_due_p90_s"].fillna(np.inf)).sort_values(
        ["coverage_share", "p90"], ascending=[True, False])
    table["worst"] = False
    table.loc[order.index[0], "worst"] = True
    return table


def _hours(p: Period) -> str:
    def hm(h: float) -> str:
        return f"{int(h) % 24:02d}:{int(round((h % 1) * 60)):02d}"
    return f"{hm(p.start_h)}–{hm(p.end_h)}"

