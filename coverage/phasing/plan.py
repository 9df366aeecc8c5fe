"""Phased build-out on real geography: build the matrices, solve, assess every year.

Glue between :func:`coverage.siting.siting_instance` (today's stations fixed,
candidate sites as columns) and the pure model of :mod:`coverage.phasing.model`.
Every year of the phased and the myopic plan is assessed on the network with
:func:`coverage.assess.assess`, so the year table's coverage, p90 and district
caps are the same figures ``assess`` prints.

The small-station rules (district ≤ 2 km², adjacency) are *not* constraints of
the multi-period model; the year table reports whether each year's districts
meet their caps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.assess import Assessment, DemandSet, assess
from coverage.assess.demand import snap_layer
from coverage.engine import (
    RoadIndex,
    Snap,
    build_index,
    due_times,
    point_times,
    snap_points,
    travel_time_matrix,
)
from coverage.errors import InputError
from coverage.incidents import WorkloadRules, station_workload
from coverage.network.model import RoadNetwork
from coverage.optimise import PlacementProblem, SolveOptions
from coverage.periods import TimeProfile, assess_periods, period_index
from coverage.phasing.model import (
    PhaseResult,
    PhaseSpec,
    myopic_plan,
    phase_plan,
)
from coverage.presets import STATION_TYPES
from coverage.siting import siting_instance

__all__ = ["PhaseRun", "run_phasing", "year_stations"]


@dataclass(frozen=True)
class PhaseRun:
    """Everything a ``phase`` run produced.

    Attributes
    ----------
    spec : PhaseSpec
    phased, myopic : PhaseResult
    problem : PlacementProblem
        The free-flow matrix (existing stations fixed, then the candidates).
    candidates : GeoDataFrame
        Candidate sites (network CRS), in column order after the stations.
    existing : GeoDataFrame
    years : DataFrame
        The year table: ``plan``, ``year``, ``opened`` (site ids), ``new_sites``
        (open by that year), ``coverage_share``, ``first_due_p90_s``,
        ``first_due_max_s``, ``caps_met``, ``over_cap`` (station names) — all under the
        travel model's own times — and ``model_coverage_share``, the coverage the model
        maximised (the worst period's, or within the threshold in every period, when robust).
    sites : GeoDataFrame
        Every site opened by either plan: ``id``, ``label`` (id and road name), ``plan``,
        ``year``, ``type``.
    before : Assessment
        Today's stations.
    after : Assessment
        The phased plan's last year.
    periods : DataFrame or None
        Period assessment of today's stations and of the last year's plan
        (``stations`` column: ``today`` / ``plan``).
    workload : DataFrame or None
        Per-station incident workload under the last year's plan.
    robust : str
    """

    spec: PhaseSpec
    phased: PhaseResult
    myopic: PhaseResult
    problem: PlacementProblem
    candidates: gpd.GeoDataFrame
    existing: gpd.GeoDataFrame
    years: pd.DataFrame
    sites: gpd.GeoDataFrame
    before: Assessment
    after: Assessment
    periods: pd.DataFrame | None = None
    workload: pd.DataFrame | None = None
    robust: str = "none"

    def difference(self) -> dict:
        """Phased minus myopic: the objective and each year's coverage share."""
        ph = self.years[self.years["plan"] == "phased"].set_index("year")
        my = self.years[self.years["plan"] == "myopic"].set_index("year")
        if my.empty or ph.empty:
            return {"objective": None, "coverage_share_by_year": None,
                    "summed_coverage_share": None}
        return {
            "objective": (None if self.phased.objective is None or self.myopic.objective is None
                          else self.phased.objective - self.myopic.objective),
            "coverage_share_by_year": {int(y): float(ph.loc[y, "coverage_share"]
                                                     - my.loc[y, "coverage_share"])
                                       for y in ph.index},
            "summed_coverage_share": float(ph["coverage_share"].sum() - my["coverage_share"].sum()),
        }

    def summary(self) -> dict:
        """JSON-ready summary (``summary.json`` of a ``phase`` run)."""
        def res(r: PhaseResult) -> dict:
            return {"method": r.method, "objective_name": r.objective_name, "status": r.status,
                    "message": r.message, "objective": r.objective, "bound": r.bound, "gap": r.gap,
                    "by_year": list(r.by_year), "solver": r.solver, "solve_s": r.solve_s,
                    "details": dict(r.details)}
        return {
            "years": list(self.spec.years), "budget": list(self.spec.budget),
            "budget_unit": "cost" if self.spec.costs is not None else "stations",
            "carry_over": self.spec.carry_over,
            "discount": {"name": self.spec.discount.name, "rate": self.spec.discount.rate,
                         "source": self.spec.discount.source},
            "robust": self.robust,
            "phased": res(self.phased), "myopic": res(self.myopic),
            "difference": self.difference(),
            "year_table": self.years.to_dict(orient="records"),
            "periods": None if self.periods is None else self.periods.to_dict(orient="records"),
            "workload": None if self.workload is None else self.workload.to_dict(orient="records"),
            "before": {k: self.before.metrics[k] for k in ("coverage_share", "first_due_p90_s",
                                                          "first_due_max_s")},
        }


def _column_snaps(index: RoadIndex, existing: gpd.GeoDataFrame, cands: gpd.GeoDataFrame) -> Snap:
    st = snap_points(index, shapely.get_coordinates(existing.geometry.values))
    return Snap.concat([st, snap_layer(index, cands, source="candidates")])


def _period_problems(base: PlacementProblem, index: RoadIndex, columns: Snap, demand: Snap,
                     profile: TimeProfile, cutoff_s: float) -> list[PlacementProblem]:
    out = []
    for p in profile.periods:
        worst_factor = max([p.default_factor, *p.factors.values()])
        cost = travel_time_matrix(period_index(index, p), columns, demand,
                                  cutoff_s=cutoff_s * worst_factor).T.tocsr()
        out.append(PlacementProblem.from_cost_matrix(
            cost, weights=base.weights, threshold=base.threshold, fixed=list(base.fixed),
            candidate_ids=base.candidate_ids, site_types=base.site_types))
    return out


def _label(site_id, cands: gpd.GeoDataFrame, row: int) -> str:
    """A site as a planner reads it: its id and the road it stands on."""
    road = str(cands["road_name"].iloc[row]) if "road_name" in cands else ""
    return f"{site_id} ({road})" if road and road != "nan" else str(site_id)


def year_stations(existing: gpd.GeoDataFrame, cands: gpd.GeoDataFrame, open_year: np.ndarray,
                  t: int, types: Sequence[str]) -> gpd.GeoDataFrame:
    """Today's stations plus the candidate sites open in year index ``t``."""
    n_fixed = len(existing)
    cols = [c for c in np.flatnonzero((open_year >= 0) & (open_year <= t)) if c >= n_fixed]
    new = cands.iloc[[c - n_fixed for c in cols]].copy()
    new["type"] = [types[c] for c in cols]
    new["status"] = "proposed"
    new["name"] = [f"New {STATION_TYPES[ty].name_zh if ty in STATION_TYPES else ty} {i}"
                   for ty, i in zip(new["type"], new["id"], strict=True)]
    keep = ["id", "name", "type", "status", "geometry"]
    old = existing[[c for c in keep if c in existing.columns]]
    both = pd.concat([old, new[keep]], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=existing.crs)


def run_phasing(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    spec_factory,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    standard: str = "gb51080",
    new_type: str = "small",
    type_costs: Mapping[str, float] | None = None,
    objective: str = "coverage",
    robust: str = "none",
    profile: TimeProfile | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    incident_weights: np.ndarray | None = None,
    workload: WorkloadRules | None = None,
    demand_from_incidents: bool = False,
    options: SolveOptions | None = None,
    index: RoadIndex | None = None,
) -> PhaseRun:
    """Build the instance, solve the phased and myopic plans, and assess every year.

    Parameters
    ----------
    network : RoadNetwork
    stations : GeoDataFrame
        Today's stations (fixed in every year).
    spec_factory : callable
        ``spec_factory(column_ids, column_costs)`` → :class:`PhaseSpec`; lets the caller
        name forced/forbidden sites by id once the columns are known.
    candidates : GeoDataFrame, optional
        Candidate sites with ``id`` (and optionally ``type``); default network candidates.
    new_type : str
        Type of candidates without a ``type`` column.
    type_costs : mapping, optional
        Cost per station type; with it budgets are costs, else counts.
    objective : {"coverage", "minmax"}
    robust : {"none", "worst", "every"}
        ``none`` plans on the travel model's times; ``worst`` maximises the worst
        period's coverage; ``every`` counts demand covered in every period (needs ``profile``).
    profile : TimeProfile, optional
        Periods to assess (and to plan on when ``robust`` is not ``none``).
    incidents : GeoDataFrame, optional
        Records from :func:`coverage.incidents.read_incidents`, for the workload table
        (and the demand when ``demand_from_incidents``).
    incident_weights : ndarray, optional
        Demand weight per incident (default 1).
    options : SolveOptions
    """
    if robust != "none" and profile is None:
        raise InputError(f"robust = {robust!r} needs a time profile", source="robust",
                         fix="name a [periods] profile or set robust = 'none'")
    options = options or SolveOptions()
    index = index or build_index(network)
    demand = None
    if incidents is not None and demand_from_incidents:
        layer = incidents.to_crs(network.crs).copy()
        layer["weight"] = np.ones(len(layer)) if incident_weights is None else incident_weights
        area = network.boundary if network.boundary is not None else network.study_area
        demand = DemandSet.from_points(index, layer, area, source="incidents")
    cand_layer = candidates
    inst = siting_instance(network, stations, candidates=cand_layer, standard=standard,
                           new_type=new_type, small_station_rules=False, demand=demand, index=index)
    existing, cands, base = inst.existing, inst.candidates, inst.problem
    n_fixed = len(existing)
    types = list(existing["type"].astype(str)) + (
        list(cands["type"].astype(str)) if "type" in cands else [new_type] * len(cands))
    unknown = sorted({t for t in types[n_fixed:] if t not in STATION_TYPES})
    if unknown:
        raise InputError(f"candidate type {unknown[0]!r} is not a station type", source="candidates",
                         fix=f"use one of {sorted(STATION_TYPES)}")
    costs = None
    if type_costs is not None:
        missing = sorted({t for t in types[n_fixed:] if t not in type_costs})
        if missing:
            raise InputError(f"no cost for station type {missing[0]!r}", source="costs",
                             fix="give a cost for every candidate type")
        costs = np.array([0.0] * n_fixed + [float(type_costs[t]) for t in types[n_fixed:]])
    base = PlacementProblem.from_cost_matrix(
        base.cost, weights=base.weights, threshold=base.threshold, fixed=list(base.fixed),
        candidate_ids=base.candidate_ids, site_types=types)
    spec = spec_factory(list(base.candidate_ids), costs)
    before = inst.before
    demand_set = before.demand_set

    problems: list[PlacementProblem] = [base]
    columns = None
    if profile is not None:
        columns = _column_snaps(index, existing, cands)
        worst = before.metrics["first_due_max_s"] or before.standard.travel_threshold_s
        cutoff = max(before.standard.travel_threshold_s, worst) + 1.0
        if robust != "none":
            problems = _period_problems(base, index, columns, demand_set.snap, profile, cutoff)
    mode = "worst" if robust == "none" else robust
    phased = phase_plan(problems, spec, objective=objective, robust=mode, options=options)
    if not phased.has_solution:
        raise InputError(f"no phased plan: {phased.message}", source="phase",
                         fix="check the budgets and the forced/forbidden sites")
    myopic = myopic_plan(problems, spec, objective=objective, robust=mode, options=options)

    rows, site_rows = [], []
    total = float(base.weights.sum())
    after = before
    for name, res in (("phased", phased), ("myopic", myopic)):
        if not res.has_solution:
            continue
        for t, year in enumerate(spec.years):
            st = year_stations(existing, cands, res.open_year, t, types)
            a = assess(network, st, standard=before.standard, demand=demand_set, index=index)
            over = a.stations.loc[a.stations["over_cap"].astype(bool), "name"].astype(str).tolist()
            opened = [_label(base.candidate_ids[c], cands, c - n_fixed)
                      for c in res.opened_in(t, base.fixed)]
            rows.append({
                "plan": name, "year": int(year), "opened": ", ".join(map(str, opened)),
                "new_sites": int(((res.open_year >= 0) & (res.open_year <= t)).sum() - n_fixed),
                "coverage_share": a.metrics["coverage_share"],
                "first_due_p90_s": a.metrics["first_due_p90_s"],
                "first_due_max_s": a.metrics["first_due_max_s"],
                "caps_met": not over, "over_cap": ", ".join(over),
                # What the model maximised (the worst period's, or in every period, when robust).
                "model_coverage_share": (res.by_year[t] / total if objective == "coverage"
                                         and total > 0 else None),
            })
            for c in res.opened_in(t, base.fixed):
                site_rows.append({"id": base.candidate_ids[c],
                                  "label": _label(base.candidate_ids[c], cands, c - n_fixed),
                                  "plan": name, "year": int(year),
                                  "type": types[c], "geometry": cands.geometry.iloc[c - n_fixed]})
            if name == "phased" and t == spec.n_years - 1:
                after = a
    sites = gpd.GeoDataFrame(site_rows or None, columns=["id", "label", "plan", "year", "type", "geometry"],
                             geometry="geometry", crs=network.crs)

    periods = None
    if profile is not None:
        weights = demand_set.points["weight"].to_numpy(float)
        tables = []
        for label, res_stations in (("today", existing),
                                    ("plan " + str(spec.years[-1]),
                                     year_stations(existing, cands, phased.open_year,
                                                   spec.n_years - 1, types))):
            snap = snap_points(index, shapely.get_coordinates(res_stations.geometry.values))
            tab = assess_periods(index, snap, demand_set.snap, weights, before.standard, profile)
            tables.append(tab.assign(stations=label))
        periods = pd.concat(tables, ignore_index=True)

    work = None
    if incidents is not None:
        final = year_stations(existing, cands, phased.open_year, spec.n_years - 1, types)
        inc = incidents.to_crs(network.crs)
        inc_snap = snap_layer(index, inc, source="incidents")
        st_snap = snap_points(index, shapely.get_coordinates(final.geometry.values))
        due = due_times(point_times(index, st_snap, inc_snap))
        work = station_workload(inc, due.first_idx, due.first_s, final["id"].astype(str).tolist(),
                                rules=workload)
        work.insert(1, "name", final["name"].astype(str).to_numpy())
        work.attrs["generated"] = bool("source" in incidents
                                       and (incidents["source"] == "generated").any())
    return PhaseRun(spec=spec, phased=phased, myopic=myopic, problem=base, candidates=cands,
                    existing=existing, years=pd.DataFrame(rows), sites=sites, before=before,
                    after=after, periods=periods, workload=work, robust=robust)

