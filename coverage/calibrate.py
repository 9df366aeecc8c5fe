"""Calibrate the travel model on response records: class speeds and congestion by least squares.

Each record gives a station, an incident location, a dispatch and an arrival
time. Travel seconds = arrival − dispatch − turnout. The model predicts

    T_r = g_p(r) · Σ_e share_re · L_e / min(v_class(e), maxspeed_e)

along the route the current model takes (``g_p`` is the congestion factor of
the record's time-of-day period, fixed at 1 in the free-flow reference period,
so that speeds and congestion are told apart). The speeds ``v`` of the classes
that carry enough of the routed length and the factors ``g`` are fitted by
bounded least squares (:func:`scipy.optimize.least_squares`); the routes are
then recomputed with the fitted speeds, and the fit repeated until the speeds
settle. Classes with too little routed length keep the base model's speed.

Edge times are taken from the built network and rescaled by the speed ratio,
so traffic-signal delays (0 s in the presets) scale with speed too; with
``signal_delay_s = 0`` the model above is exact.

:func:`write_model_toml` writes the calibrated model as a TOML file that
``assess --travel-model FILE`` reads (:func:`read_travel_model`); its
``[periods]`` tables are a time profile (:func:`coverage.periods.read_profile`)
with each period's factor relative to the model's own congestion factor.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.optimize import least_squares
from scipy.sparse.csgraph import dijkstra

from coverage.assess.demand import snap_layer
from coverage.engine import RoadIndex, Snap, build_index, due_times, point_times, snap_points
from coverage.errors import InputError
from coverage.layers import read_points
from coverage.network.model import RoadNetwork
from coverage.network.travel import (
    HIGHWAY_RANK,
    TravelModel,
    apply_travel_model,
    parse_maxspeed_kph,
)
from coverage.outputs.files import atomic_write
from coverage.periods import CN_URBAN_WEEKDAY, TimeProfile

__all__ = [
    "Calibration",
    "calibrate",
    "read_response_records",
    "read_travel_model",
    "write_model_toml",
]


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`calibrate`.

    Attributes
    ----------
    model : TravelModel
        Fitted speeds; ``congestion_factor`` = the records' mean period factor
        (the traffic a typical call meets).
    period_factors : dict
        Fitted travel-time factor per period, relative to free flow (reference = 1).
    fitted_classes : list of str
        Speed-table keys that were fitted; the others kept the base model's speed.
    records : DataFrame
        Per record: ``station``, ``period``, ``observed_s``, ``fitted_s``, ``abs_error_s``.
    median_abs_error_s, p90_abs_error_s : float
        Fit error over the records (seconds).
    initial_median_abs_error_s, initial_p90_abs_error_s : float
        The base model's error on the same records, for comparison.
    rounds : int
        Route-and-fit rounds run.
    message : str
        Optimiser outcome.
    """

    model: TravelModel
    period_factors: dict
    fitted_classes: list
    records: pd.DataFrame
    median_abs_error_s: float
    p90_abs_error_s: float
    initial_median_abs_error_s: float
    initial_p90_abs_error_s: float
    rounds: int
    message: str
    profile: TimeProfile | None = None
    reference_period: str | None = None
    details: dict = field(default_factory=dict)


def read_response_records(path, stations: gpd.GeoDataFrame, *, coord_system: str = "wgs84",
                          turnout_s: float = 60.0, name: str = "response records"
                          ) -> gpd.GeoDataFrame:
    """Read response records: ``station``, ``dispatch``, ``arrival`` and the incident location.

    Parameters
    ----------
    path : str, PathLike or DataFrame
        CSV with lon/lat columns (the incident), or a point layer.
    stations : GeoDataFrame
        The station layer the ``station`` ids refer to.
    turnout_s : float
        Seconds from dispatch to the engine leaving (GB 51080: 60 s), taken off
        every record; 0 when ``dispatch`` is already the departure time.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 incident points with ``station``, ``dispatch``, ``arrival``, ``travel_s``.
    """
    pts = read_points(path, coord_system=coord_system, name=name)
    cols = {c.lower(): c for c in pts.columns}
    source = str(path) if not isinstance(path, pd.DataFrame) else name
    for wanted in ("station", "dispatch", "arrival"):
        if wanted not in cols:
            raise InputError(f"the {name} have no {wanted!r} column", source=source,
                             fix="columns: station, dispatch, arrival, lon, lat")
    out = pts[["id", "geometry"]].copy()
    out["station"] = pts[cols["station"]].astype(str).to_numpy()
    for key in ("dispatch", "arrival"):
        out[key] = pd.to_datetime(pts[cols[key]], errors="coerce").to_numpy()
        bad = np.flatnonzero(out[key].isna().to_numpy())
        if bad.size:
            raise InputError(f"{bad.size} record(s) have an unreadable {key} time",
                             source=source, row=str(out["id"].iloc[bad[0]]),
                             fix="use ISO times such as 2024-05-01 08:15:00")
    known = set(stations["id"].astype(str))
    bad = np.flatnonzero(~out["station"].isin(known).to_numpy())
    if bad.size:
        raise InputError(f"station {out['station'].iloc[bad[0]]!r} is not in the station layer",
                         source=source, row=str(out["id"].iloc[bad[0]]),
                         fix=f"use the station layer's ids: {sorted(known)[:8]}")
    out["travel_s"] = (out["arrival"] - out["dispatch"]).dt.total_seconds() - float(turnout_s)
    bad = np.flatnonzero(out["travel_s"].to_numpy() <= 0)
    if bad.size:
        raise InputError(f"{bad.size} record(s) arrive before dispatch + turnout ({turnout_s:g} s)",
                         source=source, row=str(out["id"].iloc[bad[0]]),
                         fix="check the times, or lower --turnout-s")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=pts.crs)


# --------------------------------------------------------------------------- routing

def speed_key(highway: str, model: TravelModel) -> str:
    """The speed-table key a class takes its speed from (``fallback`` if none)."""
    if highway in model.speeds_kph:
        return highway
    if highway.endswith("_link") and highway[:-5] in model.speeds_kph:
        return highway[:-5]
    return "fallback"


def _arc_table(network: RoadNetwork, index: RoadIndex, model: TravelModel):
    """Per arc (segment forward, then backward): free-flow seconds, base speed, key, speed cap."""
    G = network.graph
    m = index.n_segments
    caps = np.full(m, np.inf)
    base = np.empty(m)
    for s, (u, v, k) in enumerate(index.seg_edge):
        d = G.edges[u, v, k]
        base[s] = float(d["speed_kph"])
        if model.respect_maxspeed:
            lim = parse_maxspeed_kph(d.get("maxspeed"))
            if lim is not None:
                caps[s] = lim
    keys = np.array([speed_key(str(h), model) for h in index.seg_highway], dtype=object)
    c0 = float(model.congestion_factor)
    free = np.concatenate([index.seg_fwd_s, index.seg_bwd_s]) / c0
    return free, np.concatenate([base, base]), np.concatenate([keys, keys]), \
        np.concatenate([caps, caps])


def _split_arcs(index: RoadIndex, arc_s: np.ndarray, points: Snap):
    """Road graph with the points inserted; returns csr and per-link (segment arc, share)."""
    n, m = index.n_nodes, index.n_segments
    seg = np.concatenate([np.arange(m), points.seg, np.arange(m)])
    k = len(points)
    frac = np.concatenate([np.zeros(m), points.frac, np.ones(m)])
    node = np.concatenate([index.seg_u, n + np.arange(k), index.seg_v])
    rank = np.concatenate([np.zeros(m), np.ones(k), np.full(m, 2.0)])
    order = np.lexsort((rank, frac, seg))
    seg, frac, node = seg[order], frac[order], node[order]
    link = seg[1:] == seg[:-1]
    a, b, s = node[:-1][link], node[1:][link], seg[:-1][link]
    share = (frac[1:] - frac[:-1])[link]
    fwd, bwd = arc_s[:m][s], arc_s[m:][s]
    ok_f, ok_b = np.isfinite(fwd), np.isfinite(bwd)
    rows = np.concatenate([a[ok_f], b[ok_b]])
    cols = np.concatenate([b[ok_f], a[ok_b]])
    w = np.concatenate([share[ok_f] * fwd[ok_f], share[ok_b] * bwd[ok_b]])
    arc = np.concatenate([s[ok_f], s[ok_b] + m])
    sh = np.concatenate([share[ok_f], share[ok_b]])
    # Keep the fastest of parallel links, remembering which arc it is.
    order = np.lexsort((w, cols, rows))
    rows, cols, w, arc, sh = rows[order], cols[order], w[order], arc[order], sh[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, w, arc, sh = rows[first], cols[first], w[first], arc[first], sh[first]
    csr = sp.csr_matrix((w, (rows, cols)), shape=(n + k, n + k))
    lookup = {(int(r), int(c)): (int(x), float(y)) for r, c, x, y in zip(rows, cols, arc, sh,
                                                                         strict=True)}
    return csr, lookup


def _route_matrix(index: RoadIndex, arc_s: np.ndarray, st_snap: Snap, st_of: np.ndarray,
                  inc_snap: Snap) -> sp.csr_matrix:
    """Records × arcs: the share of each arc on the fastest route of each record."""
    n = index.n_nodes
    pts = Snap.concat([st_snap, inc_snap])
    csr, lookup = _split_arcs(index, arc_s, pts)
    used = np.unique(st_of)
    _, pred = dijkstra(csr, directed=True, indices=n + used, return_predecessors=True)
    row_of = {int(s): i for i, s in enumerate(used)}
    rows, cols, vals = [], [], []
    for r in range(len(inc_snap)):
        src = n + int(st_of[r])
        node = n + len(st_snap) + r
        p = pred[row_of[int(st_of[r])]]
        acc: dict[int, float] = {}
        while node != src:
            prev = int(p[node])
            if prev < 0:
                raise InputError(f"record {r}: the incident cannot be reached from its station",
                                 source="response records",
                                 fix="check the incident location and the station id")
            arc, share = lookup[(prev, node)]
            acc[arc] = acc.get(arc, 0.0) + share
            node = prev
        rows += [r] * len(acc)
        cols += list(acc)
        vals += list(acc.values())
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(inc_snap), len(arc_s)))


# --------------------------------------------------------------------------- fitting

def _predict(theta: np.ndarray, A: sp.csr_matrix, arc_key: np.ndarray, fixed_v: np.ndarray,
             dist_part: np.ndarray, caps: np.ndarray, n_v: int, p_index: np.ndarray) -> np.ndarray:
    """Routed seconds per record: fitted speeds theta[:n_v], period factors theta[n_v:]."""
    v = np.where(arc_key >= 0, theta[np.maximum(arc_key, 0)], fixed_v)
    t = dist_part / np.minimum(v, caps)
    g = np.concatenate([[1.0], theta[n_v:]])
    return (A @ t) * g[p_index]


def calibrate(network: RoadNetwork, stations: gpd.GeoDataFrame, records: gpd.GeoDataFrame, *,
              profile: TimeProfile | None = CN_URBAN_WEEKDAY, reference_period: str = "night",
              min_share: float = 0.02, speed_bounds_kph: tuple[float, float] = (5.0, 120.0),
              factor_bounds: tuple[float, float] = (1.0, 4.0), max_rounds: int = 5,
              index: RoadIndex | None = None) -> Calibration:
    """Fit class speeds and per-period congestion factors to response records.

    Parameters
    ----------
    network : RoadNetwork
        Built with the base travel model (its speeds are the starting point).
    stations : GeoDataFrame
        Stations with ``id`` (the records' ``station``).
    records : GeoDataFrame
        From :func:`read_response_records` (``station``, ``dispatch``, ``travel_s``).
    profile : TimeProfile or None
        Periods of the day the records are grouped by (dispatch hour). None:
        one group, speeds only (congestion cannot be told apart from speed).
    reference_period : str
        Period taken as free flow (factor 1); needs records.
    min_share : float
        A speed class is fitted when it carries at least this share of the routed length.
    speed_bounds_kph, factor_bounds : (float, float)
        Bounds of the least-squares fit.
    max_rounds : int
        Route-and-fit rounds (routes follow the fitted speeds).

    Returns
    -------
    Calibration
    """
    model = network.travel_model
    if not isinstance(model, TravelModel):
        raise InputError("the network carries no travel model", source="network")
    if len(records) < 5:
        raise InputError(f"only {len(records)} response records", source="response records",
                         fix="calibrate on at least a few dozen records")
    index = index or build_index(network)
    st = stations.to_crs(network.crs).reset_index(drop=True)
    st_ids = st["id"].astype(str).tolist()
    st_snap = snap_layer(index, st, source="stations")
    recs = records.to_crs(network.crs).reset_index(drop=True)
    inc_snap = snap_layer(index, recs, source="response records")
    st_of = np.array([st_ids.index(s) for s in recs["station"].astype(str)])
    observed = recs["travel_s"].to_numpy(float)

    hours = pd.to_datetime(recs["dispatch"])
    hour = (hours.dt.hour + hours.dt.minute / 60.0).to_numpy()
    if profile is not None:
        period = profile.period_of(hour).astype(str)
        if reference_period not in profile.names():
            raise InputError(f"reference period {reference_period!r} is not in profile "
                             f"{profile.name!r}", source="calibrate", fix=f"use {profile.names()}")
        if not (period == reference_period).any():
            raise InputError(f"no record falls in the reference period {reference_period!r}",
                             source="response records",
                             fix="free-flow records are needed to tell speed from congestion")
    else:
        period = np.full(len(recs), "all_day")
    fit_periods = sorted(str(p) for p in set(period) - {reference_period}) if profile is not None \
        else []
    p_index = np.array([fit_periods.index(p) + 1 if p in fit_periods else 0 for p in period])

    free, base_speed, keys, caps = _arc_table(network, index, model)
    speeds = {k: float(v) for k, v in model.speeds_kph.items()}
    speeds["fallback"] = float(model.fallback_speed_kph)
    lo_v, hi_v = speed_bounds_kph
    lo_g, hi_g = factor_bounds

    def arc_speed(sp_: dict) -> np.ndarray:
        v = np.array([sp_[k] for k in keys])
        return np.minimum(v, caps)

    def arc_times(sp_: dict) -> np.ndarray:
        return free * base_speed / arc_speed(sp_)

    initial_pred = None
    fitted: list[str] = []
    g = np.ones(len(fit_periods) + 1)
    message = ""
    rounds = 0
    for _ in range(max_rounds):
        rounds += 1
        A = _route_matrix(index, arc_times(speeds), st_snap, st_of, inc_snap)
        length = np.abs(A).T @ np.ones(len(recs))
        length_by_key: dict[str, float] = {}
        seg_len = np.concatenate([index.seg_length_m, index.seg_length_m])
        for k, L in zip(keys, length * seg_len, strict=True):
            length_by_key[k] = length_by_key.get(k, 0.0) + float(L)
        total = sum(length_by_key.values()) or 1.0
        fitted = sorted((k for k, L in length_by_key.items() if L / total >= min_share),
                        key=lambda k: HIGHWAY_RANK.index(k) if k in HIGHWAY_RANK else 99)
        key_pos = {k: i for i, k in enumerate(fitted)}
        # Per arc: the column of its fitted key (−1: fixed speed).
        arc_key = np.array([key_pos.get(k, -1) for k in keys])
        fixed_v = np.array([speeds[k] for k in keys])
        dist_part = free * base_speed  # seconds × km/h = arc length in km·3600 units

        n_v = len(fitted)

        def predict(theta: np.ndarray, A=A, arc_key=arc_key, fixed_v=fixed_v, n_v=n_v,
                    dist_part=dist_part):
            return _predict(theta, A, arc_key, fixed_v, dist_part, caps, n_v, p_index)

        theta0 = np.array([min(max(speeds[k], lo_v), hi_v) for k in fitted] +
                          list(np.clip(g[1:], lo_g, hi_g)))
        if initial_pred is None:
            initial_pred = predict(np.array([speeds[k] for k in fitted] +
                                            [model.congestion_factor] * len(fit_periods)))
        lb = [lo_v] * len(fitted) + [lo_g] * len(fit_periods)
        ub = [hi_v] * len(fitted) + [hi_g] * len(fit_periods)
        sol = least_squares(lambda th: predict(th) - observed, theta0, bounds=(lb, ub),
                            x_scale="jac", method="trf")
        message = sol.message
        new = dict(speeds)
        for k, v in zip(fitted, sol.x[:len(fitted)], strict=True):
            new[k] = float(v)
        g = np.concatenate([[1.0], sol.x[len(fitted):]])
        change = max(abs(new[k] / speeds[k] - 1.0) for k in fitted) if fitted else 0.0
        speeds = new
        final_pred = predict(sol.x)
        if change < 1e-3:
            break

    err = np.abs(final_pred - observed)
    err0 = np.abs(initial_pred - observed)
    factors = {reference_period if profile is not None else "all_day": 1.0}
    factors.update({p: float(g[i + 1]) for i, p in enumerate(fit_periods)})
    counts = pd.Series(period).value_counts()
    mean_g = float(sum(factors[p] * counts.get(p, 0) for p in factors) / len(recs))
    fallback = speeds.pop("fallback")
    calibrated = replace(model, name=f"{model.name} calibrated", speeds_kph=speeds,
                         fallback_speed_kph=fallback,
                         congestion_factor=max(1.0, mean_g) if profile is not None
                         else model.congestion_factor)
    table = pd.DataFrame({"id": recs["id"], "station": recs["station"], "period": period,
                          "observed_s": observed, "fitted_s": final_pred, "abs_error_s": err})
    return Calibration(
        model=calibrated, period_factors=factors, fitted_classes=fitted, records=table,
        median_abs_error_s=float(np.median(err)), p90_abs_error_s=float(np.quantile(err, 0.9)),
        initial_median_abs_error_s=float(np.median(err0)),
        initial_p90_abs_error_s=float(np.quantile(err0, 0.9)), rounds=rounds, message=message,
        profile=profile, reference_period=reference_period if profile is not None else None,
        details={"records": int(len(recs)), "records_by_period": counts.to_dict()})


# --------------------------------------------------------------------------- TOML

def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(type(v))


def _key(k: str) -> str:
    return k if k.replace("_", "").isalnum() and k.isascii() else _toml_value(k)


def model_toml(cal: Calibration) -> str:
    """The calibrated model as TOML text (see :func:`write_model_toml`)."""
    m = cal.model
    lines = [
        "# Travel model calibrated by station-coverage on response records.",
        f"# {cal.details['records']} records; fit error median {cal.median_abs_error_s:.1f} s, "
        f"p90 {cal.p90_abs_error_s:.1f} s (base model: {cal.initial_median_abs_error_s:.1f} s / "
        f"{cal.initial_p90_abs_error_s:.1f} s).",
        "# Use: station-coverage assess --travel-model THIS.toml ...; the [periods] tables are a",
        "# time profile, factors relative to congestion_factor below.",
        f"name = {_toml_value(m.name)}",
        f"fallback_speed_kph = {_toml_value(m.fallback_speed_kph)}",
        f"congestion_factor = {_toml_value(m.congestion_factor)}",
        f"respect_maxspeed = {_toml_value(m.respect_maxspeed)}",
        f"apparatus_height_m = {_toml_value(m.apparatus_height_m)}",
        f"signal_delay_s = {_toml_value(m.signal_delay_s)}",
        f"uphill_penalty_per_grade = {_toml_value(m.uphill_penalty_per_grade)}",
        "",
        "[speeds_kph]",
        *[f"{_key(k)} = {_toml_value(v)}" for k, v in sorted(m.speeds_kph.items())],
        "",
        "[fit]",
        f"records = {cal.details['records']}",
        f"median_abs_error_s = {_toml_value(cal.median_abs_error_s)}",
        f"p90_abs_error_s = {_toml_value(cal.p90_abs_error_s)}",
        f"fitted_classes = {_toml_value(list(cal.fitted_classes))}",
        "period_factors_vs_free_flow = { "
        + ", ".join(f"{_key(k)} = {_toml_value(v)}" for k, v in cal.period_factors.items()) + " }",
    ]
    if cal.profile is not None:
        base = m.congestion_factor
        for p in cal.profile.periods:
            g = cal.period_factors.get(p.name)
            if g is None:
                continue
            lines += ["", f"[periods.{_key(p.name)}]", f"hours = {_toml_value([p.start_h, p.end_h])}",
                      f"default = {_toml_value(g / base)}"]
    return "\n".join(lines) + "\n"


def write_model_toml(cal: Calibration, path: str | Path) -> Path:
    """Write the calibrated model atomically; refuses nothing but an unwritable path."""
    return atomic_write(path, model_toml(cal))


_MODEL_KEYS = {"name", "fallback_speed_kph", "congestion_factor", "respect_maxspeed",
               "apparatus_height_m", "signal_delay_s", "uphill_penalty_per_grade", "speeds_kph"}


def read_travel_model(path: str | Path) -> TravelModel:
    """Read a travel model TOML (as written by :func:`write_model_toml`, or by hand).

    Needs ``[speeds_kph]`` and ``fallback_speed_kph``; the other
    :class:`~coverage.network.travel.TravelModel` fields are optional. ``[fit]``
    and ``[periods]`` tables are ignored here.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("travel model file not found", source=path, fix="check the path")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML ({exc})", source=path, fix="check the syntax") from None
    if "speeds_kph" not in raw or "fallback_speed_kph" not in raw:
        raise InputError("a travel model needs [speeds_kph] and fallback_speed_kph", source=path,
                         fix="see the file `station-coverage calibrate` writes")
    unknown = sorted(k for k in raw if k not in _MODEL_KEYS and k not in ("fit", "periods"))
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r}", source=path,
                         fix=f"use {sorted(_MODEL_KEYS)}")
    fields = {k: raw[k] for k in _MODEL_KEYS if k in raw}
    fields.setdefault("name", path.stem)
    try:
        model = TravelModel(**fields)
    except InputError as exc:
        raise InputError(exc.problem, source=path, fix=exc.fix) from None
    except TypeError as exc:
        raise InputError(f"bad travel model ({exc})", source=path) from None
    bad = [k for k, v in model.speeds_kph.items() if not math.isfinite(float(v))]
    if bad:
        raise InputError(f"speed of {bad[0]!r} is not finite", source=path)
    return model


def generated_records(network: RoadNetwork, stations: gpd.GeoDataFrame, n: int, *,
                      true_model: TravelModel, period_factors: dict, profile: TimeProfile,
                      seed: int = 0, noise_s: float = 0.0, turnout_s: float = 60.0,
                      start: str = "2024-01-01") -> gpd.GeoDataFrame:
    """GENERATED response records (not real data) drawn from a known travel model.

    Incidents lie at random positions on random road segments inside the
    boundary; each goes to its nearest station under ``true_model``; dispatch
    times are spread over the day; travel = the true model's routed time times
    the period factor, plus Gaussian noise of ``noise_s`` seconds.
    """
    rng = np.random.default_rng(seed)
    true_net = _with_model(network, true_model)
    index = build_index(true_net)
    area = network.boundary if network.boundary is not None else network.study_area
    inside = np.flatnonzero(shapely.intersects(index.seg_geometry, area))
    seg = rng.choice(inside, size=n)
    xy = shapely.get_coordinates(shapely.line_interpolate_point(
        index.seg_geometry[seg], rng.uniform(0.05, 0.95, n), normalized=True))
    st = stations.to_crs(network.crs).reset_index(drop=True)
    st_snap = snap_layer(index, st, source="stations")
    inc_snap = snap_points(index, xy)
    due = due_times(point_times(index, st_snap, inc_snap))
    hour = rng.uniform(0, 24, n)
    day = rng.integers(0, 365, n)
    dispatch = pd.Timestamp(start) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour, unit="h")
    period = profile.period_of(hour)
    g = np.array([period_factors.get(p, 1.0) for p in period])
    travel = due.first_s * g + (rng.normal(0, noise_s, n) if noise_s else 0.0)
    travel = np.maximum(travel, 1.0)  # noise never makes an engine arrive before it left
    arrival = dispatch + pd.to_timedelta(travel + turnout_s, unit="s")
    pts = gpd.GeoDataFrame({"id": [f"R{i + 1}" for i in range(n)],
                            "station": st["id"].astype(str).to_numpy()[due.first_idx],
                            "dispatch": dispatch, "arrival": arrival, "source": "generated"},
                           geometry=shapely.points(xy), crs=network.crs)
    return pts.to_crs(4326)


def _with_model(network: RoadNetwork, model: TravelModel) -> RoadNetwork:
    """The same graph with edge times from ``model`` (no edges dropped or added)."""
    G, _ = apply_travel_model(network.graph, replace(model, apparatus_height_m=0.0))
    return replace(network, graph=G, travel_model=model)
