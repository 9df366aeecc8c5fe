"""Siting community micro fire stations on the walk network (LSCP / MCLP).

The models are :func:`coverage.optimise.lscp` (fewest new stations so that every
demand point some candidate can reach is reached within the rule) and
:func:`coverage.optimise.mclp` (the best ``p`` new stations by demand weight
reached), on a demand × candidate matrix of walk seconds built by the engine
(:func:`coverage.engine.travel_time_matrix`) plus the straight leg from the
walkway to each building. Existing micro stations are fixed columns.

Candidates are the walk-network nodes inside the district (every junction, the
top and bottom of every flight of steps), optionally thinned to a spacing, or a
user layer. The status is the solver's, stated as it is: a time-limited answer
is ``feasible`` with its bound and gap, never ``optimal``. When the solver
returns nothing usable, a greedy cover is returned instead and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from coverage.candidates import thin
from coverage.engine import RoadIndex, Snap, build_index, travel_time_matrix
from coverage.errors import InputError
from coverage.micro.assess import _model, snap_micro_stations, snap_surface
from coverage.micro.standard import MICRO_3MIN, MicroStandard
from coverage.network.model import RoadNetwork
from coverage.optimise import PlacementProblem, PlacementResult, SolveOptions, lscp, mclp

__all__ = ["MicroSiting", "cover_matrix", "greedy_cover", "site_micro_stations", "walk_candidates"]


@dataclass(frozen=True)
class MicroSiting:
    """Result of :func:`site_micro_stations`.

    Attributes
    ----------
    result : PlacementResult
        The solver's answer (status, objective, bound, gap, times).
    sites : GeoDataFrame
        The proposed new stations (EPSG:4326), in the
        :func:`~coverage.micro.layers.read_micro_stations` layout (``type``
        community, ``status`` proposed), with ``demand_reached``.
    stations : GeoDataFrame
        Existing plus proposed stations, ready for
        :func:`~coverage.micro.assess.assess_micro`.
    n_candidates, n_demand : int
        Size of the instance.
    uncoverable : GeoDataFrame
        Demand points no candidate reaches within the rule (network CRS).
    heuristic : bool
        True when the greedy fallback produced ``sites`` (the solver found nothing).
    """

    result: PlacementResult
    sites: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    n_candidates: int
    n_demand: int
    uncoverable: gpd.GeoDataFrame
    heuristic: bool

    def summary(self) -> dict:
        """Plain-JSON figures for ``summary.json``."""
        r = self.result
        return {
            "model": r.model, "status": r.status, "message": r.message, "solver": r.solver,
            "objective": r.objective, "bound": r.bound, "gap": r.gap,
            "solve_s": r.solve_s, "build_s": r.build_s,
            "new_stations": int(len(self.sites)), "candidates": self.n_candidates,
            "demand_points": self.n_demand, "uncoverable_demand": int(len(self.uncoverable)),
            "heuristic_fallback": self.heuristic,
        }


def walk_candidates(network: RoadNetwork, index: RoadIndex, *, min_spacing_m: float = 0.0
                    ) -> gpd.GeoDataFrame:
    """Walk-network nodes inside the district as candidate sites (network CRS).

    ``min_spacing_m`` > 0 thins them greedily (:func:`coverage.candidates.thin`).
    """
    area = network.boundary if network.boundary is not None else network.study_area
    xy = index.node_xy
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    frame = gpd.GeoDataFrame(
        {"id": [f"walk-node-{n}" for n in index.node_ids[inside]]},
        geometry=shapely.points(xy[inside]), crs=index.crs)
    if min_spacing_m > 0:
        frame = thin(frame, min_spacing_m).reset_index(drop=True)
    return frame


def cover_matrix(index: RoadIndex, sites: Snap, demand: Snap, *, speed_mps: float,
                 travel_s: float) -> sp.csr_array:
    """Demand × site walk seconds within ``travel_s``, straight legs at ``speed_mps`` included.

    Absent entries are beyond ``travel_s``; a stored 0.0 is a real zero.
    """
    m = travel_time_matrix(index, sites, demand, cutoff_s=travel_s).tocoo()
    data = m.data + sites.dist_m[m.row] / speed_mps + demand.dist_m[m.col] / speed_mps
    keep = data <= travel_s
    out = sp.csr_array((data[keep], (m.col[keep], m.row[keep])), shape=(len(demand), len(sites)))
    return out


def greedy_cover(cost: sp.csr_array, fixed: list[int], threshold: float) -> list[int]:
    """Columns added greedily (most uncovered rows first) until every coverable row is covered.

    The fallback when the solver returns no solution: never an empty answer.
    """
    csr = sp.csr_array(cost)
    a = sp.csr_array((csr.data <= threshold, csr.indices, csr.indptr), shape=csr.shape)
    a.eliminate_zeros()
    a = a.astype(np.int64).tocsc()

    def rows(j: int) -> np.ndarray:
        return a.indices[a.indptr[j]:a.indptr[j + 1]]

    covered = np.zeros(cost.shape[0], bool)
    for j in fixed:
        covered[rows(j)] = True
    coverable = np.diff(a.tocsr().indptr) > 0
    chosen: list[int] = []
    while (coverable & ~covered).any():
        gain = a.T @ (~covered & coverable).astype(np.int64)
        gain[fixed + chosen] = -1
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        covered[rows(best)] = True
    return chosen


def site_micro_stations(
    network: RoadNetwork,
    demand: gpd.GeoDataFrame,
    *,
    existing: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    model: str = "lscp",
    p: int | None = None,
    standard: MicroStandard = MICRO_3MIN,
    min_spacing_m: float = 0.0,
    options: SolveOptions | None = None,
    index: RoadIndex | None = None,
) -> MicroSiting:
    """Propose community micro-station sites on the walk network.

    Parameters
    ----------
    network : RoadNetwork
        The walk network.
    demand : GeoDataFrame
        Points (any CRS) with ``id`` and ``weight`` (residential buildings by floor
        area, or the land grid); points outside the district are dropped.
    existing : GeoDataFrame, optional
        Micro stations kept open (fixed columns), as read by
        :func:`~coverage.micro.layers.read_micro_stations` (closed ones ignored).
    candidates : GeoDataFrame, optional
        User candidate sites (points with ``id``); default: walk nodes in the district.
    model : {"lscp", "mclp"}
        Fewest stations to reach every reachable point, or the best ``p``.
    p : int, optional
        New stations for MCLP.
    standard : MicroStandard
        The travel budget is ``standard.travel_s`` (turnout is on top of it).
    min_spacing_m : float
        Thin walk-node candidates to this spacing, m (0 = every node).
    options : SolveOptions, optional
        Solver and time limit (default HiGHS, 300 s).
    index : RoadIndex, optional

    Returns
    -------
    MicroSiting
    """
    walk = _model(network)
    if model not in ("lscp", "mclp"):
        raise InputError(f"unknown model {model!r}", source="model", fix="use lscp or mclp")
    if model == "mclp" and (p is None or p < 1):
        raise InputError("MCLP needs the number of new stations", source="p",
                         fix="pass p >= 1 (--new N)")
    options = options or SolveOptions(time_limit=300.0)
    index = index or build_index(network)
    area = network.boundary if network.boundary is not None else network.study_area
    dem = demand.to_crs(network.crs)
    dem = dem[dem.within(area)].reset_index(drop=True)
    if len(dem) == 0:
        raise InputError("no demand point lies inside the district", source="demand",
                         fix="check the buildings extract and the boundary cover the same place")
    dem_snap = snap_surface(index, shapely.get_coordinates(dem.geometry.values))

    if candidates is None:
        cand = walk_candidates(network, index, min_spacing_m=min_spacing_m)
        # As in the assessment: a site on a bridge or tunnel node stands at the street beside it.
        cand_snap = snap_surface(index, shapely.get_coordinates(cand.geometry.values))
    else:
        cand = candidates.to_crs(network.crs).reset_index(drop=True)
        cand = cand[cand.within(network.study_area)].reset_index(drop=True)
        if len(cand) == 0:
            raise InputError("no candidate site lies in the study area", source="candidates",
                             fix="check the candidate layer's coordinates")
        cand_snap = snap_micro_stations(index, cand, source="candidates")
    if existing is not None and len(existing):
        ex = existing[existing["status"].astype(str) != "closed"].to_crs(network.crs)
        ex = ex.reset_index(drop=True)
    else:
        ex = None
    if ex is not None and len(ex):
        ex_snap = snap_micro_stations(index, ex, source="existing micro stations")
        sites_snap = Snap.concat([ex_snap, cand_snap])
        n_fixed = len(ex)
        ids = [*ex["id"].astype(str), *cand["id"].astype(str)]
    else:
        sites_snap, n_fixed, ids = cand_snap, 0, list(cand["id"].astype(str))

    cost = cover_matrix(index, sites_snap, dem_snap, speed_mps=walk.leg_speed_mps,
                        travel_s=standard.travel_s)
    weights = dem["weight"].to_numpy(float)
    problem = PlacementProblem.from_cost_matrix(
        cost, weights, threshold=standard.travel_s, fixed=list(range(n_fixed)),
        candidate_ids=ids)
    result = lscp(problem, options=options) if model == "lscp" else mclp(problem, p, options=options)
    heuristic = not result.has_solution
    if heuristic:
        chosen = greedy_cover(cost, list(range(n_fixed)), standard.travel_s)
        if model == "mclp":
            chosen = chosen[:p]
    else:
        chosen = list(result.chosen)
    # A walk node stands on the network; a user site keeps its own position.
    cand_xy = shapely.get_coordinates(cand.geometry.values)
    chosen_xy = cand_xy[[c - n_fixed for c in chosen]] if chosen else np.zeros((0, 2))
    # Only entries within the travel budget are stored: a stored entry is a reach.
    reach = np.diff(cost.tocsc()[:, chosen].indptr) if chosen else np.zeros(0)
    # Planner-facing names: the walkway a site stands on, not a node id.
    streets = [str(index.seg_name[sites_snap.seg[c]] or "") for c in chosen]
    sites = gpd.GeoDataFrame(
        {"id": [f"MICRO-NEW-{i + 1}" for i in range(len(chosen))],
         "name": [f"proposed community micro station {i + 1}" + (f", {st}" if st else "")
                  for i, st in enumerate(streets)],
         "type": "community", "staffing": np.nan, "status": "proposed",
         "candidate": [ids[c] for c in chosen], "demand_reached": reach.astype(int)},
        geometry=shapely.points(np.asarray(chosen_xy).reshape(-1, 2)), crs=network.crs,
    ).to_crs(4326)
    keep_cols = ["id", "name", "type", "staffing", "status", "geometry"]
    parts = [sites[keep_cols]]
    if ex is not None and len(ex):
        parts.insert(0, ex.to_crs(4326)[[c for c in keep_cols if c in ex]])
    stations = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=4326)
    coverable = np.diff(cost.tocsr().indptr) > 0
    return MicroSiting(result=result, sites=sites, stations=stations,
                       n_candidates=len(cand), n_demand=len(dem),
                       uncoverable=dem[~coverable].reset_index(drop=True), heuristic=heuristic)
