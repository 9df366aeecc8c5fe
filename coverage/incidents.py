"""Historical incidents as demand, and the workload they put on each station.

Read a CSV or GIS layer of incidents (time, type, location) with
:func:`read_incidents`; :func:`incident_weights` turns types into demand
weights (a fire counts more than a service call), and :func:`station_workload`
gives each station its calls per year, the share of time it is busy and the
share of its calls that arrive while it is likely busy, so that the
second-due station goes instead.

Busy time per call = travel out + the named average time on scene + travel
back (:class:`WorkloadRules`). The busy-arrival share is measured by replaying
the records in time order (a call that arrives while the station's previous
call is still running goes to the second-due station); the Erlang loss formula
for one crew, a/(1+a) with offered load a, is given beside it as a check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.errors import InputError
from coverage.layers import read_points

__all__ = [
    "DEFAULT_TYPE_WEIGHTS",
    "WorkloadRules",
    "generated_incidents",
    "incident_weights",
    "read_incidents",
    "station_workload",
]

#: Demand weight per incident type. ASSUMPTION for planning: a fire (火灾) weighs three
#: service calls, a rescue (抢险救援) two; everything else one. Supply your own table.
DEFAULT_TYPE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"fire": 3.0, "rescue": 2.0, "hazmat": 3.0, "medical": 1.0, "service": 1.0, "false_alarm": 0.5})


@dataclass(frozen=True)
class WorkloadRules:
    """How busy time is estimated and when a station is reported as overloaded.

    Attributes
    ----------
    time_on_scene_min : float
        Named average time on scene per call, minutes. Default 30: an assumption
        (the crew commits, works and makes up); replace with your records' mean.
    return_travel : bool
        Count the drive back (taken equal to the drive out) as busy time.
    busy_threshold : float
        Busy fraction above which a station is reported (default 0.25 of the
        hours of the year: an assumption in the range planners use for a single
        crew's unit-hour utilisation).
    """

    time_on_scene_min: float = 30.0
    return_travel: bool = True
    busy_threshold: float = 0.25

    def __post_init__(self) -> None:
        if not (self.time_on_scene_min >= 0 and np.isfinite(self.time_on_scene_min)):
            raise InputError(f"time_on_scene_min {self.time_on_scene_min!r} must be >= 0",
                             source="workload")
        if not 0 < self.busy_threshold <= 1:
            raise InputError(f"busy_threshold {self.busy_threshold!r} must be in (0, 1]",
                             source="workload", fix="e.g. 0.25 for a quarter of the year")


def read_incidents(path, *, coord_system: str = "wgs84", time_col: str = "time",
                   type_col: str = "type", study_area=None, name: str = "incidents"
                   ) -> gpd.GeoDataFrame:
    """Read incidents: points with a time stamp and a type.

    Parameters
    ----------
    path : str, PathLike or (Geo)DataFrame
        CSV with lon/lat columns, or any point layer (GeoJSON, GeoPackage, ...).
    coord_system : str
        As for :func:`coverage.layers.read_points` (``gcj02`` for Amap data).
    time_col, type_col : str
        Column names (matched case-insensitively).

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with ``id``, ``time`` (pandas Timestamp), ``type`` (str, lower
        case) and ``source`` (the file's ``source`` column, e.g. ``"generated"``, else
        ``"records"``).

    Raises
    ------
    InputError
        What :func:`read_points` raises, plus missing or unparseable times and
        missing types, naming the row.
    """
    pts = read_points(path, coord_system=coord_system, study_area=study_area, name=name)
    cols = {c.lower(): c for c in pts.columns}
    source = str(path) if not isinstance(path, pd.DataFrame) else name
    for wanted in (time_col, type_col):
        if wanted.lower() not in cols:
            raise InputError(f"the {name} layer has no {wanted!r} column; columns are "
                             f"{[c for c in pts.columns if c != 'geometry']}", source=source,
                             fix=f"name the column {wanted!r} or pass time_col=/type_col=")
    times = pd.to_datetime(pts[cols[time_col.lower()]], errors="coerce")
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        raise InputError(f"{bad.size} incident(s) have a missing or unreadable time, e.g. "
                         f"{pts[cols[time_col.lower()]].iloc[bad[0]]!r}", source=source,
                         row=str(pts["id"].iloc[bad[0]]),
                         fix="use ISO times such as 2024-05-01 08:15:00")
    kinds = pts[cols[type_col.lower()]]
    bad = np.flatnonzero(kinds.isna().to_numpy() | (kinds.astype(str).str.strip() == "").to_numpy())
    if bad.size:
        raise InputError(f"{bad.size} incident(s) have no type", source=source,
                         row=str(pts["id"].iloc[bad[0]]), fix="give every incident a type")
    out = pts[["id", "geometry"]].copy()
    # A generated set says so in its ``source`` column; keep it so reports can say so too.
    out["source"] = pts[cols["source"]].astype(str).to_numpy() if "source" in cols else "records"
    out.insert(1, "time", times.to_numpy())
    out.insert(2, "type", kinds.astype(str).str.strip().str.lower().to_numpy())
    return gpd.GeoDataFrame(out, geometry="geometry", crs=pts.crs)


def incident_weights(incidents: pd.DataFrame, weights: Mapping[str, float] | None = None,
                     *, default: float = 1.0) -> np.ndarray:
    """Demand weight of each incident from its type (unknown types get ``default``)."""
    table = dict(DEFAULT_TYPE_WEIGHTS if weights is None else weights)
    bad = {k: v for k, v in table.items() if not (np.isfinite(v) and v >= 0)}
    if bad:
        raise InputError(f"type weights must be >= 0: {bad}", source="incident type weights")
    return np.array([table.get(t, default) for t in incidents["type"]], dtype=float)


def record_years(times: pd.Series) -> float:
    """Span of the records in years (at least one day), for calls per year."""
    t = pd.to_datetime(times)
    days = max((t.max() - t.min()).total_seconds() / 86400.0, 1.0)
    return days / 365.25


def station_workload(incidents: pd.DataFrame, first_idx: np.ndarray, first_s: np.ndarray,
                     station_ids, *, rules: WorkloadRules | None = None,
                     years: float | None = None) -> pd.DataFrame:
    """Calls, busy fraction and busy-arrival share per station.

    Parameters
    ----------
    incidents : DataFrame
        With ``time``, in the order of ``first_idx``.
    first_idx : ndarray of int
        Per incident, the first-due station's position in ``station_ids`` (−1: none).
    first_s : ndarray of float
        Per incident, the first-due travel seconds.
    station_ids : sequence
    rules : WorkloadRules
    years : float, optional
        Span of the records in years (default: first to last record).

    Returns
    -------
    DataFrame
        Per station: ``station``, ``calls``, ``calls_per_year``, ``busy_h_per_year``,
        ``busy_fraction`` (busy hours / 8766), ``busy_arrival_share`` (replayed),
        ``erlang_busy_share`` (one-crew loss formula), ``over_threshold``.
    """
    rules = rules or WorkloadRules()
    years = years or record_years(incidents["time"])
    times = pd.to_datetime(incidents["time"]).to_numpy()
    scene_s = rules.time_on_scene_min * 60.0
    service = scene_s + np.where(np.isfinite(first_s), first_s, 0.0) * (
        2.0 if rules.return_travel else 1.0)
    rows = []
    for k, sid in enumerate(station_ids):
        mine = np.flatnonzero(first_idx == k)
        order = mine[np.argsort(times[mine], kind="stable")]
        busy_until = None
        busy_arrivals = 0
        for i in order:
            t = times[i]
            if busy_until is not None and t < busy_until:
                busy_arrivals += 1  # the second-due station goes; this crew stays on its call
                continue
            busy_until = t + np.timedelta64(int(service[i] * 1e3), "ms")
        busy_h = float(service[mine].sum()) / 3600.0 / years
        frac = busy_h / 8766.0
        load = frac  # offered load of one crew, erlangs
        rows.append({
            "station": str(sid), "calls": int(len(mine)), "calls_per_year": len(mine) / years,
            "busy_h_per_year": busy_h, "busy_fraction": frac,
            "busy_arrival_share": busy_arrivals / len(mine) if len(mine) else 0.0,
            "erlang_busy_share": load / (1.0 + load),
            "over_threshold": frac > rules.busy_threshold,
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _Mix:
    types: tuple[str, ...] = ("fire", "rescue", "medical", "service", "false_alarm")
    shares: tuple[float, ...] = (0.25, 0.2, 0.2, 0.25, 0.1)
    hour_weights: tuple[float, ...] = field(default=tuple(
        [0.4] * 6 + [0.8, 1.2, 1.3, 1.2] + [1.1] * 7 + [1.4, 1.4, 1.2] + [0.9, 0.8, 0.6, 0.5]))


def generated_incidents(points: gpd.GeoDataFrame, n: int, *, seed: int = 0,
                        start: str = "2024-01-01", days: int = 365) -> gpd.GeoDataFrame:
    """A GENERATED incident set (not real records), for tests and demonstrations.

    Locations are drawn from ``points`` in proportion to their ``weight`` column
    (or uniformly), times uniformly over ``days`` days with a daily cycle that
    peaks in the evening, types from a fixed mix. Every row's ``source`` says
    ``"generated"``.
    """
    rng = np.random.default_rng(seed)
    w = points["weight"].to_numpy(float) if "weight" in points else np.ones(len(points))
    pick = rng.choice(len(points), size=n, p=w / w.sum())
    mix = _Mix()
    hw = np.asarray(mix.hour_weights)
    hour = rng.choice(24, size=n, p=hw / hw.sum()) + rng.random(n)
    day = rng.integers(0, days, n)
    times = pd.Timestamp(start) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h")
    kinds = rng.choice(mix.types, size=n, p=np.asarray(mix.shares) / sum(mix.shares))
    geom = points.geometry.to_numpy()[pick]
    return gpd.GeoDataFrame({"id": [f"G{i + 1}" for i in range(n)], "time": times,
                             "type": kinds, "source": "generated"}, geometry=geom, crs=points.crs)
