"""Scenario sweeps over a city: a grid of named parameters, and N-1 station resilience.

Parameters (:data:`SWEEP_PARAMETERS`):

- ``congestion_factor``: multiplier on every road's travel time (>= 1);
- ``turnout_s``: seconds from call to wheels rolling. The response target
  (turnout + travel, 5 min for GB 51080) stays fixed, so a longer turnout leaves
  less driving time: ``travel threshold = response threshold - turnout``;
- ``speeds``: speed table preset (``china_urban``, ``nfpa_iso``);
- ``apparatus_height_m``: roads with a lower ``maxheight`` are closed to the appliance.

Each point is computed with as little new work as is exact (:func:`sweep_plan`):

- **turnout** changes no travel time: a point differs from another only by its
  threshold, and reuses its first-due times;
- **congestion** multiplies every edge time by the same factor (the travel model
  applies it to run time, uphill penalty and signal delay alike), so every path and
  first/second-due time scales by it: points differing only by congestion share one
  routing at factor 1.0, and their times are multiplied. The one exception is the
  :data:`~coverage.network.travel.MIN_TRAVEL_S` floor on very short edges; if any edge
  sits on it, congestion values are routed separately;
- **apparatus height** only closes roads whose ``maxheight`` is below it: heights
  between which no road of the network has a clearance build the same network, so it
  is built once;
- **speed tables** keep the network and only re-weight its edges: the graph, road
  index, demand samples and station snaps are reused, and only Dijkstra runs again.

Only heights that close roads build another network. The work runs as one task per
(network, district): each builds the district's road samples once and routes every
weighting of that network; tasks go to a :class:`~coverage.city.runner.Runner`
(serial or Dask), largest districts first.
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
import shapely
from matplotlib.figure import Figure

from coverage.assess import assess
from coverage.assess.demand import SNAP, DemandSet
from coverage.assess.metrics import response_metrics
from coverage.city.assess import n_minus_1_table, road_length_m
from coverage.city.districts import district_of
from coverage.city.runner import Runner
from coverage.engine import RoadIndex, build_index
from coverage.errors import InputError
from coverage.network import CHINA_URBAN, NFPA_ISO, RoadNetwork, TravelModel
from coverage.network.travel import MIN_TRAVEL_S, apply_travel_model, parse_length_m
from coverage.presets import ResponseStandard

__all__ = ["SPEED_TABLES", "SWEEP_PARAMETERS", "SweepResult", "clearances_m", "reweighted_index",
           "sweep_city", "sweep_district_task", "sweep_figures", "sweep_grid"]

SWEEP_PARAMETERS = ("congestion_factor", "turnout_s", "speeds", "apparatus_height_m")
SPEED_TABLES: Mapping[str, TravelModel] = {"china_urban": CHINA_URBAN, "nfpa_iso": NFPA_ISO}


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
    plan : DataFrame
        How each point was computed: ``point``, ``network`` and ``routing`` (numbers of
        the network built and of the Dijkstra routing it uses), ``routed_congestion``
        and ``time_factor`` (its first-due times are the routing's times times this).
    seconds : dict
        ``networks_s`` (building networks and road indexes), ``reweighting_s`` (edge
        weights of the other speed tables or congestion factors), ``districts_s``
        (wall time of the district tasks) and ``task_s`` (each task's own time).
    networks : int
        Networks built.
    routings : int
        Distinct edge weightings routed.
    """

    table: pd.DataFrame
    n_minus_1: pd.DataFrame
    plan: pd.DataFrame
    seconds: dict
    networks: int
    routings: int


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


@dataclass(frozen=True, eq=False)
class _Routing:
    """One weighting of one network: the points it serves and their time factors."""

    network: int
    speeds: str
    congestion: float  # the congestion factor routed
    weights: dict | None  # csr, seg_fwd_s, seg_bwd_s; None: the network's own index
    points: dict[int, float]  # point -> factor on its times


def _same_weights(a: TravelModel | None, b: TravelModel) -> bool:
    """Whether two models give every (open) edge the same travel time."""
    if a is None:
        return False
    da, db = a.as_dict(), b.as_dict()
    for k in ("name", "apparatus_height_m"):
        da.pop(k)
        db.pop(k)
    return da == db


def clearances_m(network: RoadNetwork) -> np.ndarray:
    """Parsed ``maxheight`` of every edge of ``network`` (m; NaN where untagged)."""
    values = (parse_length_m(d.get("maxheight")) for *_, d in network.graph.edges(data=True))
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def reweighted_index(network: RoadNetwork, index: RoadIndex, model: TravelModel) -> dict:
    """Edge weights of ``network`` under ``model``, for ``dataclasses.replace(index, **w)``.

    The model must close no road of the network (same apparatus-height closures), so
    the graph, its strongly connected component and the road index keep every node
    and segment: only ``csr``, ``seg_fwd_s`` and ``seg_bwd_s`` change, and equal those
    of a network built from scratch with ``model`` (tested).
    """
    graph, dropped = apply_travel_model(network.graph, model)
    new = build_index(graph)
    if dropped or not (np.array_equal(new.node_ids, index.node_ids)
                       and np.array_equal(new.seg_u, index.seg_u)
                       and np.array_equal(new.seg_v, index.seg_v)):
        raise RuntimeError(f"travel model {model.name!r} changes the network "
                           f"({dropped or 'segments differ'}); it needs its own build.")
    return {"csr": new.csr, "seg_fwd_s": new.seg_fwd_s, "seg_bwd_s": new.seg_bwd_s}


def _scales_with_congestion(index: RoadIndex) -> bool:
    """True when no edge time sits on the MIN_TRAVEL_S floor, so that multiplying the
    congestion factor multiplies every edge time, hence every path time, by it."""
    w = np.concatenate([index.seg_fwd_s, index.seg_bwd_s])
    w = w[np.isfinite(w)]
    return bool(np.all(w > MIN_TRAVEL_S))


def sweep_district_task(item: tuple[int, str, Any], *, networks: list, stations: gpd.GeoDataFrame,
                        standard: ResponseStandard, step_m: float) -> dict:
    """One district on one network: road samples built once, every weighting routed.

    ``item = (network number, district code, polygon in network CRS)``; ``networks[k] =
    (RoadNetwork, RoadIndex, [weights of each routing])``. Each routing is a full
    :func:`~coverage.assess.assess` of the district (the same call as the city
    assessment's) on the re-weighted index, with the road samples passed in.

    Returns
    -------
    dict
        ``weight`` (per demand point), ``routings`` (per routing: first-due s,
        second-due s, first station position or -1, each station's first-due area in
        this district, km²), ``stations`` (id, name, type, area cap, geometry), ``seconds``.
    """
    k, _, polygon = item
    network, index, routings = networks[k]
    start = time.perf_counter()
    demand = DemandSet.from_roads(index, polygon, step_m=step_m, access=SNAP)
    net = replace(network, boundary=polygon)
    out, table, weight = [], None, None
    for weights in routings:
        idx = index if weights is None else replace(index, **weights)
        a = assess(net, stations, standard=standard, index=idx, demand=demand, access=SNAP)
        st = a.stations
        if table is None:
            keep = [c for c in ("id", "name", "type", "area_cap_km2", "geometry") if c in st]
            table = st[keep]
            weight = a.demand["weight"].to_numpy(float)
        pos = {s: i for i, s in enumerate(st["id"].astype(str))}
        who = np.array([pos.get(s, -1) if s is not None else -1
                        for s in a.demand["first_due_station"]], dtype=np.int64)
        out.append((a.demand["first_due_s"].to_numpy(float),
                    a.demand["second_due_s"].to_numpy(float), who,
                    np.nan_to_num(st["district_km2"].to_numpy(float))))
    return {"weight": weight, "routings": out, "stations": table,
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
    network: RoadNetwork | None = None,
) -> SweepResult:
    """Sweep a city over a parameter grid, with N-1 resilience at the base point.

    Parameters
    ----------
    build : callable
        ``build(travel_model) -> RoadNetwork`` for the whole city. Called in this
        process, once per distinct network (apparatus heights that close roads).
    stations, districts : GeoDataFrame
        As for :func:`~coverage.city.assess.assess_city`.
    spec : mapping
        Parameter name -> list of values (:data:`SWEEP_PARAMETERS`).
    base_model, base_speeds, standard
        Values of the parameters not swept.
    runner : Runner, optional
        The (network, district) tasks run on it.
    network : RoadNetwork, optional
        A network ``build`` already made (e.g. for the stations): reused for the
        grid's heights it serves instead of building again.

    Returns
    -------
    SweepResult
    """
    runner = runner or Runner(progress=False)
    points = sweep_grid(spec, base_model=base_model, base_standard=standard,
                        base_speeds=base_speeds)
    t0 = time.perf_counter()
    built, net_of_height = _networks(points, build, base_model, network)
    t1 = time.perf_counter()
    routings = _routings(points, built, net_of_height, base_model)
    t2 = time.perf_counter()

    districts_m = districts.to_crs(built[0][0].crs).reset_index(drop=True)
    codes = [str(c) for c in districts_m["code"]]
    names = dict(zip(codes, districts_m["name"], strict=True))
    items, labels, cost = [], [], []
    per_net = [[r for r in routings if r.network == k] for k in range(len(built))]
    for k, (_, index) in enumerate(built):
        lengths = road_length_m(index, districts_m)
        for code, name, geom, length in zip(codes, districts_m["name"], districts_m.geometry,
                                            lengths, strict=True):
            items.append((k, code, geom))
            labels.append(name if len(built) == 1 else f"{name}, network {k + 1}")
            # Road samples cost about three routings (measured on the 15k generated city).
            cost.append(length * (3 + len(per_net[k])))
    payload = [(net, index, [r.weights for r in per_net[k]])
               for k, (net, index) in enumerate(built)]
    base_std = _standard(standard, points[0]["turnout_s"])
    results = runner.map(sweep_district_task, items, labels, desc="sweep districts",
                         shared={"networks": runner.share(payload), "stations": stations,
                                 "standard": base_std, "step_m": float(step_m)}, cost=cost)
    t3 = time.perf_counter()
    res = {(k, code): r for (k, code, _), r in zip(items, results, strict=True)}

    first = results[0]["stations"]
    home = district_of(shapely.get_coordinates(first.geometry.values), districts_m)
    caps = (first["area_cap_km2"].to_numpy(float) if "area_cap_km2" in first
            else np.full(len(first), np.nan))
    rows, plan = [], []
    for p_k, p in enumerate(points):
        r_k, r = next((i, r) for i, r in enumerate(routings) if p_k in r.points)
        local = next(i for i, q in enumerate(per_net[r.network]) if q is r)
        factor = r.points[p_k]
        std = _standard(standard, p["turnout_s"])
        parts = {c: res[(r.network, c)] for c in codes}
        arrays = {c: (parts[c]["weight"], parts[c]["routings"][local][0] * factor,
                      parts[c]["routings"][local][1] * factor, parts[c]["routings"][local][2])
                  for c in codes}
        w, f, s = (np.concatenate([arrays[c][i] for c in codes]) for i in range(3))
        m = response_metrics(w, f, s, std)
        km2 = sum(parts[c]["routings"][local][3] for c in codes)
        row = {"point": p_k + 1, **p, "travel_threshold_s": std.travel_threshold_s,
               "coverage_share": m["coverage_share"], "first_due_p90_s": m["first_due_p90_s"],
               "response_p90_s": m["response_p90_s"],
               "stations_over_cap": int((km2 > caps).sum()),
               "network_nodes": int(built[r.network][0].graph.number_of_nodes())}
        compliant = 0
        for c in codes:
            dm = response_metrics(arrays[c][0], arrays[c][1], arrays[c][2], std)
            row[f"coverage {names[c]}"] = dm["coverage_share"]
            compliant += dm["compliant"]
        row["districts_compliant"] = compliant
        rows.append(row)
        plan.append({"point": p_k + 1, "network": r.network + 1, "routing": r_k + 1,
                     "routed_congestion": r.congestion, "time_factor": factor})
        if p_k == 0:
            st = pd.DataFrame({"id": first["id"].astype(str).to_numpy(),
                               "name": first["name"].to_numpy(), "district": home})
            critical = n_minus_1_table(st, std.travel_threshold_s, arrays, names)
    table = pd.DataFrame(rows).sort_values("point").reset_index(drop=True)
    seconds = {"networks_s": t1 - t0, "reweighting_s": t2 - t1, "districts_s": t3 - t2,
               "task_s": [r["seconds"] for r in results]}
    return SweepResult(table, critical, pd.DataFrame(plan), seconds, len(built), len(routings))


def _networks(points: list[dict], build: Callable[[TravelModel], RoadNetwork],
              base_model: TravelModel, prebuilt: RoadNetwork | None):
    """Build one network per set of roads closed by the grid's heights.

    Heights in increasing order: a height serves the network built for a lower one
    when no road of that network has a clearance below it (such a network keeps only
    roads with clearance at least its own height, so the same roads stay open, and
    the strongly connected component is unchanged).
    """
    speeds0 = points[0]["speeds"]
    built: list[tuple[RoadNetwork, RoadIndex]] = []
    clear: np.ndarray | None = None
    net_of_height: dict[float, int] = {}
    for h in sorted({float(p["apparatus_height_m"]) for p in points}):
        if clear is not None and not np.any(clear < h):
            net_of_height[h] = len(built) - 1
            continue
        if (prebuilt is not None and prebuilt.travel_model is not None
                and float(prebuilt.travel_model.apparatus_height_m) == h):
            net = prebuilt
        else:
            net = build(_model({"speeds": speeds0, "congestion_factor": 1.0,
                                "apparatus_height_m": h}, base_model))
        built.append((net, build_index(net)))
        clear = clearances_m(net)
        net_of_height[h] = len(built) - 1
    return built, net_of_height


def _routing(k: int, net: RoadNetwork, index: RoadIndex, speeds: str, congestion: float,
             base_model: TravelModel, points: dict[int, float]) -> _Routing:
    h = float(net.travel_model.apparatus_height_m) if net.travel_model else 0.0
    model = _model({"speeds": speeds, "congestion_factor": congestion,
                    "apparatus_height_m": h}, base_model)
    weights = None if _same_weights(net.travel_model, model) else reweighted_index(net, index, model)
    return _Routing(k, speeds, congestion, weights, points)


def _routings(points: list[dict], built: list, net_of_height: dict[float, int],
              base_model: TravelModel) -> list[_Routing]:
    """One routing per (network, speed table), shared by every congestion factor when
    edge times scale with it; otherwise one per congestion factor too."""
    routings: list[_Routing] = []
    for k, (net, index) in enumerate(built):
        mine = [i for i, p in enumerate(points)
                if net_of_height[float(p["apparatus_height_m"])] == k]
        for speeds in dict.fromkeys(points[i]["speeds"] for i in mine):
            these = [i for i in mine if points[i]["speeds"] == speeds]
            unit = _routing(k, net, index, speeds, 1.0, base_model, {})
            unit_index = index if unit.weights is None else replace(index, **unit.weights)
            if _scales_with_congestion(unit_index):
                routings.append(replace(unit, points={
                    i: float(points[i]["congestion_factor"]) for i in these}))
                continue
            for c in dict.fromkeys(float(points[i]["congestion_factor"]) for i in these):
                same = {i: 1.0 for i in these if float(points[i]["congestion_factor"]) == c}
                routings.append(replace(unit, points=same) if c == 1.0 else
                                _routing(k, net, index, speeds, c, base_model, same))
    return routings


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
