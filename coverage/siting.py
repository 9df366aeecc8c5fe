"""Propose new (small) station sites on the road network, and report before and after.

Glue between the geography (network, stations, candidates, demand cells) and
the exact models of :mod:`coverage.optimise`. Columns of the placement matrix
are the existing stations (fixed) followed by the candidate sites; rows are the
demand points of the assessment.

Small-station rules (建标152-2017) are enforced in the model and checked again
on the final answer with the network-Voronoi districts:

- **area**: a 小型站's district covers at most 2 km² of land. Enforced through
  :class:`~coverage.optimise.PlacementProblem`'s area rule (solve, measure the
  closest-assignment districts, cut, re-solve: ``method`` ends in ``+lazy-cuts``). The cuts
  are knapsack covers on the land each other site would take from the violating
  one, seeded before the first solve, so Yuzhong settles in one round.
- **adjacency**: a 小型站's district must border the district of a full station
  (一级/二级/特勤). Checked by a callback on the graph of touching demand cells
  (the same answer as on the dissolved districts); a violation is cut off by a
  cut on its *blockers* (see :func:`_adjacency_check`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from coverage.assess import Assessment, DemandSet, assess
from coverage.assess.demand import snap_layer
from coverage.candidates import network_candidates
from coverage.engine import RoadIndex, Snap, build_index, snap_points, travel_time_matrix
from coverage.errors import InputError
from coverage.network.model import RoadNetwork
from coverage.optimise import (
    MODELS,
    Check,
    PlacementProblem,
    PlacementResult,
    SolveOptions,
    Violation,
)
from coverage.optimise.matrix import nearest_open
from coverage.optimise.sites import classify
from coverage.presets import STATION_TYPES, response_standard

__all__ = [
    "SitingInstance", "SitingRun", "new_site_names", "rule_violations", "site_effects",
    "site_stations", "siting_instance",
]

#: Models that take a count of new sites.
COUNT_MODELS = ("mclp", "pcenter", "pmedian", "backup")
#: Adjacency tolerance: districts closer than this (m) border each other.
_TOUCH_M = 1.0


@dataclass(frozen=True)
class SitingRun:
    """Result of :func:`site_stations`.

    Attributes
    ----------
    result : PlacementResult
        The solver's answer, with status, objective, bound and gap.
    before, after : Assessment
        The assessment with today's stations and with the new sites added.
    candidates : GeoDataFrame
        Every candidate column (network CRS), with ``chosen``.
    new_sites : GeoDataFrame
        The chosen sites (network CRS): ``id``, ``name``, ``type``, ``status``,
        ``road_class``, ``road_name``.
    violations : list of dict
        Small-station rule violations measured on ``after``'s districts.
    problem : PlacementProblem or None
        The demand × column travel-time matrix the model was solved on
        (existing stations first, then candidates).
    """

    result: PlacementResult
    before: Assessment
    after: Assessment
    candidates: gpd.GeoDataFrame
    new_sites: gpd.GeoDataFrame
    violations: list
    problem: PlacementProblem | None = None

    def summary(self) -> dict:
        """The ``summary.json`` content of a ``site`` run."""
        res = self.result
        sites = self.new_sites.to_crs(4326)
        return {
            "model": res.model,
            "solver": res.solver,
            "status": res.status,
            "message": res.message,
            "method": res.method,
            "objective": res.objective,
            "bound": res.bound,
            "gap": res.gap,
            "solve_s": res.solve_s,
            "build_s": res.build_s,
            "new_sites": [
                {"id": r.id, "name": r.name, "lon": r.geometry.x, "lat": r.geometry.y, "type": r.type,
                 "road_name": r.road_name, "road_class": r.road_class}
                for r in sites.itertuples()
            ],
            "candidates": int(len(self.candidates)),
            "presolve": dict(res.presolve),
            "details": dict(res.details),
            "rule_violations": self.violations,
            "standard": self.before.standard.name,
            "before": _block(self.before),
            "after": _block(self.after),
            "site_effects": site_effects(self.before, self.after),
            "objective_set_by": {
                "note": "the demand point with the worst first-due time, before and after; "
                "p-center minimises exactly this time",
                "before": self.before.metrics.get("worst_first_due"),
                "after": self.after.metrics.get("worst_first_due"),
            },
        }


def _block(a: Assessment) -> dict:
    m = a.metrics
    keys = (
        "coverage_share", "second_due_coverage_share", "first_due_p50_s", "first_due_p90_s",
        "first_due_max_s", "response_p90_s", "compliant",
    )
    extra = ("roads", "land", "districts", "worst_first_due")
    return {
        **{k: m[k] for k in keys},
        **{k: m[k] for k in extra if k in m},
        "stations": [
            {
                "id": r.id, "name": r.name, "type": r.type, "status": r.status,
                "district_km2": float(r.district_km2), "area_cap_km2": _finite(r.area_cap_km2),
                "over_cap": bool(r.over_cap),
                "pieces": int(r.pieces), "main_piece_share": _finite(r.main_piece_share),
                "protection_radius_m": _finite(r.protection_radius_m),
                "detached_farthest_m": _finite(r.detached_farthest_m),
                "farthest_travel_s": _finite(r.farthest_travel_s),
                "max_first_due_s": _finite(r.max_first_due_s),
            }
            for r in a.stations.itertuples()
        ],
    }


def site_effects(before: Assessment, after: Assessment) -> list[dict]:
    """What each proposed site changes, in a planner's terms.

    Returns
    -------
    list of dict
        Per proposed station: ``id``, ``road_name``, ``road_class`` (of the road it stands
        on), ``nearest_station_id`` and ``nearest_station_m`` (straight line to the nearest
        existing station), ``district_km2`` (land it takes), ``newly_covered_weight`` and
        ``newly_covered_share`` (demand reached within the standard after, not before).
    """
    st = after.stations
    new = st[st["status"].astype(str) == "proposed"]
    existing = before.stations
    ex_xy = shapely.get_coordinates(existing.geometry.values)
    w = after.demand["weight"].to_numpy(float)
    gained = after.demand["covered"].to_numpy(bool) & ~before.demand["covered"].to_numpy(bool)
    by = after.demand["first_due_station"].astype(object).to_numpy()
    index = after.index
    out = []
    for r in new.itertuples():
        xy = shapely.get_coordinates(r.geometry)[0]
        d = np.hypot(ex_xy[:, 0] - xy[0], ex_xy[:, 1] - xy[1])
        k = int(np.argmin(d)) if len(d) else -1
        seg = int(snap_points(index, xy[None, :]).seg[0])
        name = str(index.seg_name[seg] or "")
        mine = gained & (by == r.id)
        out.append({
            "id": r.id,
            "road_name": name or f"unnamed {index.seg_highway[seg]} road",
            "road_class": str(index.seg_highway[seg]),
            "nearest_station_id": str(existing["id"].iloc[k]) if k >= 0 else None,
            "nearest_station_m": float(d[k]) if k >= 0 else None,
            "district_km2": float(r.district_km2),
            "newly_covered_weight": float(w[mine].sum()),
            "newly_covered_share": float(w[mine].sum() / w.sum()) if w.sum() > 0 else None,
        })
    return out


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


@dataclass(frozen=True)
class SitingInstance:
    """A placement problem built from geography, before it is solved.

    Attributes
    ----------
    problem : PlacementProblem
        Demand × column matrix: existing stations (fixed) first, then candidates.
    check : callable or None
        The adjacency rule for the lazy-cut loop (None when the rules are off).
    before : Assessment
        Today's stations assessed on the same demand.
    existing : GeoDataFrame
        The active existing stations, in column order (network CRS).
    candidates : GeoDataFrame
        The candidate sites, in column order after the stations (network CRS).
    matrix : dict
        How the matrix was cut and stored: ``cutoff_s``, ``pruned_beyond_station``
        (entries slower than the demand's nearest existing station left out),
        ``time_resolution_s``, ``dtype``, ``entries`` and ``mb``.
    """

    problem: PlacementProblem
    check: Check | None
    before: Assessment
    existing: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    matrix: dict | None = None


#: Models whose matrix needs only the entries within the coverage threshold.
THRESHOLD_MODELS = ("mclp", "lscp", "backup")


def matrix_plan(model: str | None, threshold_s: float, worst_s: float, rules: bool,
                cutoff_s: float | None = None) -> tuple[float, bool]:
    """Matrix cutoff and whether to prune beyond the nearest existing station, for a model.

    - MCLP, LSCP and backup score only coverage within the threshold: the
      matrix stops there (unless a district rule needs the nearest site of
      every demand point, wherever it is).
    - p-center, p-median and the district rules need each demand point's
      nearest open site, which is never slower than today's first-due station
      (existing stations stay open): the matrix stops at today's worst
      first-due time, and within it drops every entry slower than the demand
      point's own existing first-due station.
    - Backup coverage counts second covers, so it keeps those entries; so does
      ``model=None`` (one matrix for any model, as before).
    """
    prune = model is not None and model != "backup"
    if cutoff_s is not None:
        return float(cutoff_s), prune
    if model in THRESHOLD_MODELS and not rules:
        return float(threshold_s), prune
    return max(threshold_s, worst_s) + 1.0, prune


def siting_instance(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    *,
    candidates: gpd.GeoDataFrame | None = None,
    standard: str = "gb51080",
    new_type: str = "small",
    small_station_rules: bool = True,
    cutoff_s: float | None = None,
    demand: DemandSet | None = None,
    index: RoadIndex | None = None,
    model: str | None = None,
    time_resolution_s: float | None = None,
    before: Assessment | None = None,
) -> SitingInstance:
    """Build the placement problem :func:`site_stations` solves (see it for the parameters).

    With ``model`` given, the matrix holds only what that model can use (see
    :func:`matrix_plan`), with ``int32`` indices. Times are ``float32`` where
    that is exact for the model — MCLP, LSCP and backup without district rules
    (each time rounded *up* to the next float32, so a time within the
    threshold stays within it and one above never drops inside), or any model
    with ``time_resolution_s`` — and ``float64`` otherwise (p-center, p-median
    and the district rules report or compare the times themselves).
    ``model=None`` keeps every entry within the cutoff in float64 (one matrix
    for any model). ``before`` reuses an assessment of ``stations``
    made with the same standard (e.g. to build one matrix per model).
    """
    std = response_standard(standard)
    index = index or build_index(network)
    if before is None:
        before = assess(network, stations, standard=std, demand=demand, index=index)
    demand = before.demand_set
    existing = before.stations
    cands = (candidates if candidates is not None else network_candidates(network)).to_crs(network.crs)
    cands = cands.reset_index(drop=True)
    if len(cands) == 0:
        raise InputError("no candidate sites", fix="give --candidates FILE or relax the exclusions")
    clash = sorted(set(cands["id"].astype(str)) & set(existing["id"].astype(str)))
    if clash:
        raise InputError(f"candidate id {clash[0]!r} is also a station id", row=clash[0],
                         fix="give candidates ids of their own")

    cand_snap = snap_layer(index, cands, source="candidates", what="candidate site")
    # Every candidate is named after the road it stands on (user layers may not say).
    snapped_names = pd.Series(index.seg_name[cand_snap.seg], index=cands.index, dtype=object)
    given = cands["road_name"] if "road_name" in cands else pd.Series("", index=cands.index, dtype=object)
    cands = cands.assign(road_name=given.where(given.fillna("").astype(str).str.strip() != "", snapped_names))
    cands["near_road"] = _nearest_named_road(index, cands)
    st_snap = snap_points(index, shapely.get_coordinates(existing.geometry.values))
    columns = Snap.concat([st_snap, cand_snap])
    worst = before.metrics["first_due_max_s"] or std.travel_threshold_s
    n_fixed = len(existing)
    rules_on = small_station_rules and new_type == "small"
    cutoff, prune = matrix_plan(model, std.travel_threshold_s, worst, rules_on, cutoff_s)
    if time_resolution_s is not None and not time_resolution_s > 0:
        raise InputError(f"time resolution {time_resolution_s!r} s must be positive",
                         source="time_resolution_s", fix="e.g. 1 (whole seconds), or None")
    # float32 where it is exact for the model: coverage within a threshold (times rounded up
    # to float32 keep every comparison with 240 s), or times rounded to whole steps. p-center
    # and p-median report a time or a sum of times, and district rules compare times between
    # sites: they keep float64, so their objective equals the assessment's to the microsecond.
    narrow = (model in THRESHOLD_MODELS and not rules_on) or time_resolution_s is not None
    # Drive + on foot through the demand's access points (the same rule as the assessment).
    by_site = travel_time_matrix(index, columns, demand.targets, cutoff_s=cutoff,
                                 anchors=n_fixed if prune else 0,
                                 dtype=np.float32 if narrow else np.float64,
                                 resolution_s=time_resolution_s)
    cost = _transpose(by_site)
    del by_site
    matrix = {"cutoff_s": cutoff, "pruned_beyond_station": prune,
              "time_resolution_s": time_resolution_s, "dtype": str(cost.dtype),
              "entries": int(cost.nnz),
              "mb": round((cost.data.nbytes + cost.indices.nbytes + cost.indptr.nbytes) / 1e6, 1)}

    types = list(existing["type"].astype(str)) + [new_type] * len(cands)
    caps = np.full(len(types), np.inf)
    if small_station_rules:
        caps[n_fixed:] = [STATION_TYPES[t].area_cap_km2 if t == "small" else np.inf for t in types[n_fixed:]]
    problem = PlacementProblem.from_cost_matrix(
        cost,
        weights=demand.points["weight"].to_numpy(float),
        threshold=std.travel_threshold_s,
        fixed=list(range(n_fixed)),
        candidate_ids=list(existing["id"].astype(str)) + list(cands["id"].astype(str)),
        site_types=types,
        **(
            {"area_km2": demand.cell_km2, "area_cap_km2": caps}
            if small_station_rules and np.isfinite(caps).any()
            else {}
        ),
    )
    check = _adjacency_check(problem, demand) if rules_on else None
    return SitingInstance(problem, check, before, existing, cands, matrix)


def _transpose(m: sparse.csr_matrix) -> sparse.csr_array:
    """The (demand × site) CSR of a (site × demand) CSR, one copy, int32 indices when they fit.

    Counting sort by demand row (``np.argsort`` on the column indices, stable),
    so columns stay sorted within each row and the result is canonical.
    """
    S, T = m.shape
    col = np.asarray(m.indices)
    order = np.argsort(col, kind="stable")
    site = np.repeat(np.arange(S, dtype=np.int32), np.diff(m.indptr))[order]
    data = m.data[order]
    del order
    idx = np.int32 if m.nnz < 2**31 else np.int64
    indptr = np.zeros(T + 1, dtype=idx)
    np.cumsum(np.bincount(col, minlength=T), out=indptr[1:])
    out = sparse.csr_array((data, site.astype(idx, copy=False), indptr), shape=(T, S), copy=False)
    out.has_sorted_indices = True
    for a in (out.data, out.indices, out.indptr):
        a.flags.writeable = False  # handed to PlacementProblem without a copy
    return out


def site_stations(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    *,
    model: str = "pcenter",
    p: int | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    standard: str = "gb51080",
    new_type: str = "small",
    options: SolveOptions | None = None,
    small_station_rules: bool = True,
    cutoff_s: float | None = None,
    demand: DemandSet | None = None,
    index: RoadIndex | None = None,
    max_cut_rounds: int = 200,
    time_resolution_s: float | None = None,
) -> SitingRun:
    """Choose new station sites with an exact model and compare before and after.

    Parameters
    ----------
    network : RoadNetwork
    stations : GeoDataFrame
        Existing stations (fixed; rows with ``status == "closed"`` are ignored).
    model : {"lscp", "mclp", "pcenter", "pmedian", "backup"}
        ``pcenter`` (default) shrinks the worst first-due time, i.e. the protection radius.
    p : int, optional
        Number of new sites; required by every model but ``lscp``.
    candidates : GeoDataFrame, optional
        Candidate sites (any CRS) with ``id``; default :func:`~coverage.candidates.network_candidates`.
    standard : str
        Response standard for the threshold and the before/after metrics.
    new_type : str
        Station type of every new site (default ``"small"``).
    options : SolveOptions, optional
        Solver, time limit and gap (default HiGHS, no limit, proven optimality).
    small_station_rules : bool
        Enforce the 2 km² area rule and the adjacency rule for small sites.
    cutoff_s : float, optional
        Matrix cutoff; default covers the worst first-due time of today's stations,
        so that every demand keeps the entry of its current first-due station.
    demand : DemandSet, optional
    index : RoadIndex, optional
    max_cut_rounds : int
        Rounds of the lazy-cut loop that enforces the small-station rules; when
        they run out the rules may still be broken and the status says so.
    time_resolution_s : float, optional
        Round every travel time *up* to a multiple of this many seconds (e.g.
        1) before solving. Coverage within a threshold that is a multiple of it
        is unchanged (MCLP, LSCP, backup: same optimum); the p-center optimum
        rises by less than one step, the p-median sum by less than one step
        per unit of weight. ``result.details["time_resolution_s"]`` says which
        was used. Default: exact times.

    Returns
    -------
    SitingRun
    """
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}", fix=f"use one of {sorted(MODELS)}")
    if model in COUNT_MODELS and (p is None or p < 0):
        raise InputError(f"model {model} needs the number of new sites", fix="give --new P (P ≥ 0)")
    index = index or build_index(network)
    inst = siting_instance(
        network, stations, candidates=candidates, standard=standard, new_type=new_type,
        small_station_rules=small_station_rules, cutoff_s=cutoff_s, demand=demand, index=index,
        model=model, time_resolution_s=time_resolution_s,
    )
    before, existing, cands, n_fixed = inst.before, inst.existing, inst.candidates, len(inst.existing)
    if model in COUNT_MODELS and p > len(cands):
        raise InputError(
            f"--new {p} asks for more new sites than the {len(cands)} candidate sites",
            fix=f"give --new at most {len(cands)}, or more candidates with --candidates",
        )
    solve = MODELS[model]
    kwargs = {"options": options or SolveOptions(), "check": inst.check, "max_cut_rounds": max_cut_rounds}
    result = solve(inst.problem, **kwargs) if model == "lscp" else solve(inst.problem, p, **kwargs)
    result = replace(result, details={**result.details, "matrix": inst.matrix,
                                      "time_resolution_s": time_resolution_s})

    chosen = np.asarray(result.chosen, dtype=int) - n_fixed
    chosen = chosen[chosen >= 0]
    new_sites = cands.iloc[chosen].copy()
    new_sites["type"] = new_type
    new_sites["status"] = "proposed"
    new_sites["name"] = new_site_names(
        [r if _text(r) else (f"near {n}" if _text(n) else "") for r, n in
         zip(new_sites["road_name"], new_sites["near_road"], strict=True)],
        new_type,
    )
    for col in ("road_class", "road_name"):
        if col not in new_sites:
            new_sites[col] = ""
    new_sites["area_cap_km2"] = STATION_TYPES[new_type].area_cap_km2
    cands = cands.assign(chosen=np.isin(np.arange(len(cands)), chosen))
    closed = {int(c) for c in result.closed_existing}
    kept = existing.iloc[[i for i in range(n_fixed) if i not in closed]]
    after_stations = pd.concat(
        [kept.drop(columns=[c for c in kept.columns if c not in new_sites.columns and c != "geometry"]),
         new_sites[[c for c in new_sites.columns if c in kept.columns or c == "geometry"]]],
        ignore_index=True,
    )
    after_stations = gpd.GeoDataFrame(after_stations, geometry="geometry", crs=network.crs)
    # The after-state assessed from scratch on the same demand and land: districts, pieces,
    # radii, farthest points and caps all come from the new set of stations.
    after = assess(network, after_stations, standard=before.standard, demand=before.demand_set,
                   land=before.land_set, index=index)
    return SitingRun(
        result=result,
        before=before,
        after=after,
        candidates=cands,
        new_sites=gpd.GeoDataFrame(new_sites, geometry="geometry", crs=network.crs),
        violations=rule_violations(after) if small_station_rules else [],
        problem=inst.problem,
    )


def _text(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _nearest_named_road(index: RoadIndex, points: gpd.GeoDataFrame, max_m: float = 300.0) -> list:
    """For points on an unnamed road: the nearest named road within ``max_m`` (else None)."""
    out = [None] * len(points)
    road = points["road_name"].to_numpy(object)
    missing = [i for i in range(len(points)) if not _text(road[i])]
    named = np.flatnonzero([_text(n) for n in index.seg_name])
    if not missing or not len(named):
        return out
    tree = shapely.STRtree(index.seg_geometry[named])
    hits = tree.query_nearest(points.geometry.values[missing], max_distance=max_m, all_matches=False)
    for k, j in zip(*hits, strict=True):
        out[missing[k]] = str(index.seg_name[named[j]])
    return out


#: How a planner calls a new station of each type.
_NEW_TYPE_WORDS = {"small": "small station", "level1": "一级 station", "level2": "二级 station",
                   "special": "特勤 station"}


def new_site_names(road_names, new_type: str) -> list[str]:
    """Planner names of new sites, from their road: ``"嘉滨路 (new small station 1)"``.

    ``road_names`` may say ``"near 中华路"`` for a site on an unnamed road beside a
    named one; sites with no road name at all are ``"unnamed road (new small station 2)"``.
    """
    words = _NEW_TYPE_WORDS.get(new_type, f"{new_type} station")
    out = []
    for k, road in enumerate(road_names, start=1):
        road = "" if road is None or (isinstance(road, float) and np.isnan(road)) else str(road).strip()
        out.append(f"{road or 'unnamed road'} (new {words} {k})")
    return out


def _adjacency_check(problem: PlacementProblem, demand: DemandSet):
    """Callback for the lazy-cut loop: small districts must border a full station's district.

    A violation carries its *blockers* (see :class:`~coverage.optimise.Violation`):
    the open sites that own a cell the small site ``s`` could own (a cell where
    ``s`` beats every site open in all solutions), and the small sites owning a
    cell next to ``s``'s district. While all of them stay open, ``s`` owns no
    cell outside its present district and no full station owns a cell next to
    it, whatever else opens; so one of them must close. The cut
    ``open[s] <= Σ (1 − open[blockers])`` is much stronger than the no-good
    cut it replaces (opening sites can never repair the rule).

    The rule is read on the graph of cells within ``_TOUCH_M`` of each other,
    built once: two dissolved districts lie within ``_TOUCH_M`` exactly when
    one of their cells does, so a check costs one closest assignment and one
    sparse product (milliseconds on Yuzhong's 30,000 land cells, where
    dissolving the districts took 0.13 s a check).
    """
    full = np.array([STATION_TYPES[t].is_full if t in STATION_TYPES else True for t in problem.site_types])
    cells = demand.cells
    solid = np.flatnonzero(~shapely.is_empty(cells))
    tree = shapely.STRtree(cells[solid])
    a, b = tree.query(cells[solid], predicate="dwithin", distance=_TOUCH_M)
    n = problem.n_demand
    touch = sparse.csr_array((np.ones(a.size, dtype=bool), (solid[a], solid[b])), shape=(n, n))
    cols = classify(problem)
    const_fd, const_site = nearest_open(problem.cost, cols.const_open)
    cache: dict = {}

    def could_own(s: int) -> np.ndarray:
        # The site-major copy of the matrix is built only once a violation needs it.
        by_col = cache.get("by_col")
        if by_col is None:
            by_col = cache["by_col"] = sparse.csr_array(problem.cost.T)
        rows = by_col.indices[by_col.indptr[s]:by_col.indptr[s + 1]]
        t = by_col.data[by_col.indptr[s]:by_col.indptr[s + 1]]
        cf, cs = const_fd[rows], const_site[rows]
        return rows[(t < cf) | ((t == cf) & (s < np.where(cs < 0, problem.n_candidates, cs)))]

    solid_row = np.zeros(n, dtype=bool)
    solid_row[solid] = True

    def check(open_cols: np.ndarray) -> list[Violation]:
        mask = np.zeros(problem.n_candidates, dtype=bool)
        mask[open_cols] = True
        _, site = nearest_open(problem.cost, mask)
        # Two dissolved districts lie within _TOUCH_M of each other exactly when a cell of
        # one does of a cell of the other (the distance between unions is the least distance
        # between their members), so the rule is read off the cell graph, no polygons.
        owned = solid_row & (site >= 0)
        by_full = owned & full[np.maximum(site, 0)]
        next_to_full = owned & (touch @ by_full.astype(np.int32) > 0)
        m = problem.n_candidates
        has_land = np.bincount(site[owned], minlength=m) > 0
        borders = np.bincount(site[next_to_full], minlength=m) > 0
        out = []
        for c in open_cols:
            if full[c] or (has_land[c] and borders[c]):
                continue
            owners = site[could_own(int(c))]
            near = site[touch[np.flatnonzero(site == c)].indices] if (site == c).any() else site[:0]
            near = near[(near >= 0) & ~full[np.maximum(near, 0)]]
            blockers = np.union1d(owners[owners >= 0], near)
            blockers = blockers[(blockers != c) & cols.var[blockers]]
            out.append(
                Violation(
                    rule="adjacency",
                    site=int(c),
                    message=f"small station {problem.candidate_ids[c]}'s district does not border "
                    "the district of a full station (建标152-2017)",
                    blockers=tuple(int(k) for k in blockers),
                )
            )
        return out

    return check


def rule_violations(after: Assessment) -> list[dict]:
    """Small-station rules measured on an assessment's network-Voronoi districts.

    Returns
    -------
    list of dict
        ``{"rule", "station", "message", "value", "limit"}`` for every small
        station whose district exceeds its cap (``area``) or touches no full
        station's district (``adjacency``).
    """
    d = after.districts
    small = d["type"].astype(str) == "small"
    full_types = {k for k, v in STATION_TYPES.items() if v.is_full}
    full_union = shapely.union_all(d.geometry[d["type"].isin(full_types)].values)
    out = []
    for row in d[small].itertuples():
        if row.district_km2 > row.area_cap_km2 + 1e-9:
            out.append({
                "rule": "area", "station": row.station_id,
                "message": f"district {row.district_km2:.2f} km² exceeds the {row.area_cap_km2:g} km² cap",
                "value": float(row.district_km2), "limit": float(row.area_cap_km2),
            })
        if shapely.is_empty(row.geometry) or not shapely.dwithin(row.geometry, full_union, _TOUCH_M):
            out.append({
                "rule": "adjacency", "station": row.station_id,
                "message": "district does not border the district of a full station",
                "value": None, "limit": None,
            })
    return out
