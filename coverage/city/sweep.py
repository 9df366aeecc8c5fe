"""Scenario sweeps over a city: a grid of named parameters, and N-1 station resilience.

Parameters (:data:`SWEEP_PARAMETERS`):

- ``congestion_factor``: multiplier on every road's travel time (>= 1);
- ``turnout_s``: seconds from call to wheels rolling. The response target
  (turnout + travel, 5 min for GB 51080) stays fixed, so a longer turnout leaves
  less driving time: ``travel threshold = response threshold - turnout``;
- ``speeds``: speed table preset (``china_urban``, ``nfpa_iso``);
- ``apparatus_height_m``: roads with a lower ``maxheight`` are closed to the appliance.

Points that share a travel model (congestion, speeds, height) share one network and
one routing: each such *network group* is one task (build the network, assess every
district with cross-boundary service), and the turnout values of the group are
evaluated from its first-due times, exactly. Groups run on a
:class:`~coverage.city.runner.Runner`, so scenarios spread over Dask workers.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coverage.assess.metrics import response_metrics
from coverage.city.assess import assess_city, n_minus_1
from coverage.city.runner import Runner
from coverage.errors import InputError
from coverage.network import CHINA_URBAN, NFPA_ISO, RoadNetwork, TravelModel
from coverage.presets import ResponseStandard

__all__ = ["SPEED_TABLES", "SWEEP_PARAMETERS", "SweepResult", "sweep_city", "sweep_figures",
           "sweep_grid"]

SWEEP_PARAMETERS = ("congestion_factor", "turnout_s", "speeds", "apparatus_height_m")
SPEED_TABLES: Mapping[str, TravelModel] = {"china_urban": CHINA_URBAN, "nfpa_iso": NFPA_ISO}
_MODEL_KEYS = ("congestion_factor", "speeds", "apparatus_height_m")


@dataclass(frozen=True)
class SweepResult:
    """Result of :func:`sweep_city`.

    Attributes
    ----------
    table : DataFrame
        One row per grid point: the parameters, ``travel_threshold_s``,
        ``coverage_share``, ``first_due_p90_s``, ``response_p90_s``,
        ``stations_over_cap``, ``districts_compliant``, ``network_nodes`` and one
        ``coverage <district name>`` column per district.
    n_minus_1 : DataFrame
        Stations ranked by coverage lost when closed, at the base point (the first
        value of every parameter).
    group_seconds : list of float
        Time of each network group's task.
    """

    table: pd.DataFrame
    n_minus_1: pd.DataFrame
    group_seconds: list[float]


def sweep_grid(spec: Mapping[str, Sequence[Any]], *, base_model: TravelModel,
               base_standard: ResponseStandard, base_speeds: str = "china_urban") -> list[dict]:
    """Every combination of the swept values; unswept parameters keep the base value.

    Raises
    ------
    InputError
        Unknown parameter, empty list, unknown speed table or a value out of range.
    """
    unknown = sorted(set(spec) - set(SWEEP_PARAMETERS))
    if unknown:
        raise InputError(f"unknown sweep parameter {unknown[0]!r}.", source="[sweep]",
                         fix=f"use {', '.join(SWEEP_PARAMETERS)}.")
    values = {
        "congestion_factor": [base_model.congestion_factor],
        "turnout_s": [base_standard.turnout_s],
        "speeds": [base_speeds],
        "apparatus_height_m": [base_model.apparatus_height_m],
    }
    for key, vals in spec.items():
        vals = list(vals) if isinstance(vals, (list, tuple)) else [vals]
        if not vals:
            raise InputError(f"sweep parameter {key} has no values.", source="[sweep]",
                             fix=f"give a list, e.g. {key} = [1.0, 1.5].")
        values[key] = vals
    for s in values["speeds"]:
        if s not in SPEED_TABLES:
            raise InputError(f"unknown speed table {s!r}.", source="[sweep] speeds",
                             fix=f"use {', '.join(SPEED_TABLES)}.")
    for t in values["turnout_s"]:
        if not (0 <= float(t) < base_standard.response_threshold_s):
            raise InputError(f"turnout_s = {t} leaves no driving time within the "
                             f"{base_standard.response_threshold_s:g} s response target.",
                             source="[sweep] turnout_s", fix="use seconds between 0 and the target.")
    points = [dict(zip(SWEEP_PARAMETERS, combo, strict=True))
              for combo in itertools.product(*(values[k] for k in SWEEP_PARAMETERS))]
    for p in points:  # validates congestion and height through TravelModel's own checks
        _model(p, base_model)
    return points


def _model(point: Mapping[str, Any], base_model: TravelModel) -> TravelModel:
    table = SPEED_TABLES[point["speeds"]]
    return replace(base_model, name=table.name, speeds_kph=table.speeds_kph,
                   fallback_speed_kph=table.fallback_speed_kph,
                   congestion_factor=float(point["congestion_factor"]),
                   apparatus_height_m=float(point["apparatus_height_m"]))


def _standard(std: ResponseStandard, turnout_s: float) -> ResponseStandard:
    return replace(std, turnout_s=float(turnout_s),
                   travel_threshold_s=std.response_threshold_s - float(turnout_s))


def network_group_task(model: TravelModel, *, build: Callable[[TravelModel], RoadNetwork],
                       stations: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                       standard: ResponseStandard, step_m: float, with_n_minus_1: bool) -> dict:
    """Build the network for ``model``, assess every district, return first-due arrays.

    Returns a dict: ``districts`` (code -> weights, first, second arrays), ``caps``
    (stations over cap), ``nodes``, ``n_minus_1`` (DataFrame or None), ``seconds``.
    """
    start = time.perf_counter()
    network = build(model)
    city = assess_city(network, stations, districts, standard=standard, step_m=step_m)
    arrays = {
        code: tuple(a.demand[c].to_numpy(float) for c in ("weight", "first_due_s", "second_due_s"))
        for code, a in city.by_district.items()
    }
    return {"districts": arrays, "over_cap": int(city.stations["over_cap"].sum()),
            "nodes": int(network.graph.number_of_nodes()),
            "n_minus_1": n_minus_1(city) if with_n_minus_1 else None,
            "seconds": time.perf_counter() - start}


def sweep_city(
    build: Callable[[TravelModel], RoadNetwork],
    stations: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    spec: Mapping[str, Sequence[Any]],
    *,
    base_model: TravelModel = CHINA_URBAN,
    base_speeds: str = "china_urban",
    standard: ResponseStandard,
    step_m: float = 50.0,
    runner: Runner | None = None,
) -> SweepResult:
    """Sweep a city over a parameter grid, with N-1 resilience at the base point.

    Parameters
    ----------
    build : callable
        ``build(travel_model) -> RoadNetwork`` for the whole city (a module-level
        function or ``functools.partial`` of one, so that Dask workers can run it).
    stations, districts : GeoDataFrame
        As for :func:`~coverage.city.assess.assess_city`.
    spec : mapping
        Parameter name -> list of values (:data:`SWEEP_PARAMETERS`).
    base_model, base_speeds, standard
        Values of the parameters not swept.
    runner : Runner, optional
        Network groups are its tasks.

    Returns
    -------
    SweepResult
    """
    runner = runner or Runner(progress=False)
    points = sweep_grid(spec, base_model=base_model, base_standard=standard,
                        base_speeds=base_speeds)
    groups: dict[tuple, list[int]] = {}
    for k, p in enumerate(points):
        groups.setdefault(tuple(p[key] for key in _MODEL_KEYS), []).append(k)
    keys = list(groups)
    models = [_model(points[groups[g][0]], base_model) for g in keys]
    labels = [", ".join(f"{k}={v}" for k, v in zip(_MODEL_KEYS, g, strict=True)) for g in keys]
    base_std = _standard(standard, points[0]["turnout_s"])
    shared = {"build": build, "stations": stations, "districts": districts,
              "standard": base_std, "step_m": float(step_m)}
    results = runner.map(_group_entry, list(enumerate(models)), labels, desc="sweep",
                         shared={**shared, "build": runner.share(build)})
    names = dict(zip(districts["code"].astype(str), districts["name"], strict=True))
    rows = []
    for g, res in zip(keys, results, strict=True):
        for k in groups[g]:
            p = points[k]
            std = _standard(standard, p["turnout_s"])
            w, f, s = (np.concatenate([res["districts"][c][i] for c in res["districts"]])
                       for i in range(3))
            m = response_metrics(w, f, s, std)
            row = {"point": k + 1, **p, "travel_threshold_s": std.travel_threshold_s,
                   "coverage_share": m["coverage_share"], "first_due_p90_s": m["first_due_p90_s"],
                   "response_p90_s": m["response_p90_s"], "stations_over_cap": res["over_cap"],
                   "network_nodes": res["nodes"]}
            compliant = 0
            for code, (dw, df, ds) in res["districts"].items():
                dm = response_metrics(dw, df, ds, std)
                row[f"coverage {names.get(code, code)}"] = dm["coverage_share"]
                compliant += dm["compliant"]
            row["districts_compliant"] = compliant
            rows.append(row)
    table = pd.DataFrame(rows).sort_values("point").reset_index(drop=True)
    base = results[0]["n_minus_1"]
    return SweepResult(table, base, [r["seconds"] for r in results])


def _group_entry(item: tuple[int, TravelModel], **shared) -> dict:
    i, model = item
    return network_group_task(model, **shared, with_n_minus_1=i == 0)


def sweep_figures(result: SweepResult, spec: Mapping[str, Sequence[Any]]) -> dict[str, Figure]:
    """One figure per swept parameter: city coverage (every point, and the mean) vs value."""
    figs = {}
    t = result.table
    for key in SWEEP_PARAMETERS:
        if key not in spec or len(set(map(str, t[key]))) < 2:
            continue
        fig = Figure(figsize=(5, 3.4))
        ax = fig.subplots()
        xs = t[key].astype(str) if key == "speeds" else t[key].astype(float)
        ax.scatter(xs, t["coverage_share"] * 100, s=12, color="#999", label="grid points")
        mean = (t.assign(_x=xs).groupby("_x", sort=True)["coverage_share"].mean() * 100)
        ax.plot(mean.index, mean.to_numpy(), "o-", color="#08519c", label="mean")
        ax.set_xlabel(key.replace("_", " "))
        ax.set_ylabel("demand covered, %")
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        figs[key] = fig
    return figs
