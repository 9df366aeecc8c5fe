"""Hydrants year by year: new sites under a yearly budget and repairs toward the targets.

The plan targets are 100 % of road length within the GB 50974 protection radius
of a hydrant in service, and 98 % of hydrants in service (完好率). New sites are
phased with the same exact multi-period model as stations
(:func:`coverage.phasing.model.phase_plan`) on the elementary-piece × candidate
matrix of :mod:`coverage.hydrants.propose`, so each year's covered length is
exact. Repairs of out-of-service hydrants are counted against a yearly repair
budget; a repaired or new hydrant is in service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.engine import Snap
from coverage.hydrants.coverage import euclidean_reach, network_reach, road_coverage, union
from coverage.hydrants.propose import candidate_sites, cover_matrix, elementary_pieces
from coverage.hydrants.roads import Roads
from coverage.optimise import PlacementProblem, SolveOptions
from coverage.phasing.model import PhaseResult, PhaseSpec, phase_plan
from coverage.presets import GB50974, HydrantRules

__all__ = ["HydrantPhasing", "phase_hydrants"]


@dataclass(frozen=True)
class HydrantPhasing:
    """Result of :func:`phase_hydrants`.

    Attributes
    ----------
    table : DataFrame
        Per year: ``year``, ``new_hydrants``, ``covered_m``, ``covered_share``,
        ``repaired``, ``in_service_rate``, ``coverage_target_met``, ``in_service_target_met``.
    sites : GeoDataFrame
        New hydrant sites with the ``year`` they are built (network CRS).
    result : PhaseResult or None
        The multi-period model's status, bound and gap (None: nothing to site).
    road_m : float
    reachable_m : float
        Road length some hydrant (existing or candidate) can cover: 100 % of it is the
        best any plan can do.
    """

    table: pd.DataFrame
    sites: gpd.GeoDataFrame
    result: PhaseResult | None
    road_m: float
    reachable_m: float
    count_unknown: bool = False


def phase_hydrants(
    roads: Roads,
    existing_xy: np.ndarray,
    existing_snap: Snap,
    years: Sequence[int],
    new_per_year: Sequence[int] | int,
    *,
    status: pd.Series | None = None,
    repairs_per_year: Sequence[int] | int = 0,
    measure: str = "euclidean",
    rules: HydrantRules = GB50974,
    in_service_target: float = 0.98,
    count_unknown: bool = False,
    options: SolveOptions | None = None,
) -> HydrantPhasing:
    """Phase new hydrants and repairs over the plan years.

    Parameters
    ----------
    roads : Roads
    existing_xy, existing_snap
        Hydrants that count today (see :func:`coverage.hydrants.counted_points`).
    years : sequence of int
    new_per_year : int or sequence of int
        New hydrants that can be built each year.
    status : Series of str, optional
        ``in_service`` / ``out_of_service`` / ``unknown`` of every hydrant, for the
        in-service rate.
    repairs_per_year : int or sequence of int
        Out-of-service hydrants that can be repaired each year.
    measure : {"euclidean", "network"}
    rules : HydrantRules
    in_service_target : float
        Default 0.98 (the plan's 完好率 target).
    count_unknown : bool
        Count hydrants of unknown status as in service (the rate's upper bound);
        default False (its lower bound).
    options : SolveOptions
    """
    n_years = len(years)
    per_year = [int(new_per_year)] * n_years if np.isscalar(new_per_year) else list(new_per_year)
    repairs = [int(repairs_per_year)] * n_years if np.isscalar(repairs_per_year) \
        else list(repairs_per_year)
    radius = rules.protection_radius_m
    before = road_coverage(roads, existing_xy, existing_snap, measure=measure, radius_m=radius)
    sites, snap = candidate_sites(roads, step_m=rules.candidate_step_m)
    reach = (euclidean_reach(roads, snap.xy, radius) if measure == "euclidean"
             else network_reach(roads, snap, radius))
    existing = (euclidean_reach(roads, existing_xy, radius) if measure == "euclidean"
                else network_reach(roads, existing_snap, radius))
    pieces = elementary_pieces(roads, reach, union(existing))
    matrix = cover_matrix(pieces, reach, len(sites))
    weight = pieces.length_m
    coverable = np.diff(matrix.indptr) > 0
    reachable_m = before.covered_m + float(weight[coverable].sum())
    open_year = np.full(len(sites), -1)
    result = None
    gains = [0.0] * n_years
    if coverable.any() and len(sites):
        m = matrix[coverable].astype(float)
        problem = PlacementProblem.from_cost_matrix(
            m, weights=weight[coverable], threshold=1.0,
            candidate_ids=[f"h{j}" for j in range(len(sites))])
        result = phase_plan(problem, PhaseSpec(years=years, budget=per_year), options=options)
        if result.has_solution:
            open_year = result.open_year
            gains = list(result.by_year)
    st = pd.Series([], dtype=str) if status is None else pd.Series(status).astype(str)
    good = int((st == "in_service").sum()) + (int((st == "unknown").sum()) if count_unknown else 0)
    bad = int((st == "out_of_service").sum())
    n = int(len(st))
    rows = []
    for t, year in enumerate(years):
        new = int(((open_year >= 0) & (open_year <= t)).sum())
        fixed = min(bad, int(sum(repairs[: t + 1])))
        covered = before.covered_m + gains[t]
        rate = (good + fixed + new) / (n + new) if (n + new) else None
        rows.append({
            "year": int(year), "new_hydrants": int((open_year == t).sum()), "total_new": new,
            "covered_m": covered,
            "covered_share": covered / before.road_m if before.road_m else None,
            "repaired": fixed, "in_service_rate": rate,
            "coverage_target_met": bool(before.road_m and covered >= before.road_m - 1e-3),
            "in_service_target_met": bool(rate is not None and rate >= in_service_target),
        })
    chosen = np.flatnonzero(open_year >= 0)
    out = sites.iloc[chosen].copy()
    out["year"] = [int(years[open_year[c]]) for c in chosen]
    return HydrantPhasing(table=pd.DataFrame(rows), sites=gpd.GeoDataFrame(out, crs=sites.crs),
                          result=result, road_m=before.road_m, reachable_m=reachable_m,
                          count_unknown=count_unknown)
