"""New hydrant sites: the fewest that cover all road length, or the best ``budget`` of them.

Candidates stand every ``rules.candidate_step_m`` along every road segment in the
area (the middles of equal pieces, as :func:`coverage.assess.demand.road_demand`
places them). Existing hydrants that count are fixed: the road they cover is
settled before the model is built.

The model is exact for road *length*, not for sample points. Each candidate
reaches a union of stretches of road (:mod:`coverage.hydrants.coverage`). The
ends of all these stretches, of the stretches already covered and of the area
boundary cut every segment into *elementary pieces*; a candidate either covers
a piece entirely or not at all. So "every piece is covered" is exactly "100 % of
the road length is covered", and the covered weight of a budget solution is
exactly its covered length (to floating point, ~1e-6 m).

The MILPs are :func:`coverage.optimise.lscp` (set covering, fewest sites) and
:func:`coverage.optimise.mclp` (maximal covering with ``p = budget``) on a
piece × candidate 0/1 matrix, with their presolve (identical rows merged,
dominated candidates dropped). Before that, for set covering, a piece whose
candidate set contains another piece's is implied by it and is dropped
(:func:`implied_rows`): along a road only the pieces where one reach ends
and the next begins constrain the solution.

On a whole district the MILP can need many minutes to find a good incumbent
(on Yuzhong, HiGHS's root LP and cuts take minutes and its first incumbents are
poor). When it stops at its time limit without a proof, two heuristics run as
well: greedy, and (for full coverage) rounding of the LP relaxation solved by
:func:`scipy.optimize.linprog`, whose value also bounds the optimum. The best
sites are returned with the best bound and the resulting gap. A time-limited
answer is ``feasible``, never ``optimal``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from scipy.optimize import linprog

from coverage.assess.demand import road_demand
from coverage.engine import Snap
from coverage.errors import InputError
from coverage.hydrants.coverage import (
    MEASURES,
    Intervals,
    euclidean_reach,
    intervals_cover,
    network_reach,
    union,
)
from coverage.hydrants.roads import Roads
from coverage.optimise import PlacementProblem, PlacementResult, SolveOptions, lscp, mclp
from coverage.optimise.backend import relative_gap
from coverage.presets import GB50974, HydrantRules

__all__ = [
    "Pieces",
    "Proposal",
    "candidate_sites",
    "cover_matrix",
    "elementary_pieces",
    "greedy_cover",
    "implied_rows",
    "lp_rounding_cover",
    "propose_hydrants",
]

_TOL_M = 1e-6


@dataclass(frozen=True)
class Pieces:
    """Elementary pieces of road still to be covered, sorted by (segment, start).

    Attributes
    ----------
    seg, start_m, end_m : ndarray
        The piece: segment and metres along it.
    """

    seg: np.ndarray
    start_m: np.ndarray
    end_m: np.ndarray

    def __len__(self) -> int:
        return len(self.seg)

    @property
    def length_m(self) -> np.ndarray:
        """Length of each piece, m."""
        return self.end_m - self.start_m


def candidate_sites(roads: Roads, *, step_m: float) -> tuple[gpd.GeoDataFrame, Snap]:
    """Candidate hydrant sites every ``step_m`` along the roads inside the area.

    Returns
    -------
    sites : GeoDataFrame
        Points in the network CRS with ``highway`` and ``name``.
    snap : Snap
        Their positions on the segments (snap distance 0).
    """
    sites, snap = road_demand(roads.index, step_m=step_m, area=roads.area)
    return sites.drop(columns="weight"), snap


def _area_cuts(roads: Roads, segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions where segments ``segs`` cross the area's boundary."""
    crossing = segs[(roads.inside_m[segs] > _TOL_M)
                    & (roads.inside_m[segs] < roads.length_m[segs] - _TOL_M)]
    if len(crossing) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    lines = roads.index.seg_geometry[crossing]
    meet = shapely.intersection(lines, roads.area.boundary)
    coords, owner = shapely.get_coordinates(meet, return_index=True)
    pos = shapely.line_locate_point(lines[owner], shapely.points(coords))
    return crossing[owner], pos


def elementary_pieces(roads: Roads, reach: Intervals, covered: Intervals) -> Pieces:
    """Cut the uncovered road inside the area into pieces no reach ends inside of.

    Parameters
    ----------
    roads : Roads
    reach : Intervals
        Candidate reaches (``source`` = candidate).
    covered : Intervals
        Road already covered by existing hydrants (a union).

    Returns
    -------
    Pieces
        The pieces inside the area and not yet covered.
    """
    segs = np.flatnonzero(roads.inside_m > _TOL_M)
    a_seg, a_pos = _area_cuts(roads, segs)
    cut_seg = np.concatenate([segs, segs, reach.seg, reach.seg, covered.seg, covered.seg, a_seg])
    cut_pos = np.concatenate([np.zeros(len(segs)), roads.length_m[segs], reach.start_m,
                              reach.end_m, covered.start_m, covered.end_m, a_pos])
    wanted = np.zeros(roads.n_segments, dtype=bool)
    wanted[segs] = True
    ok = wanted[cut_seg]
    cut_seg, cut_pos = cut_seg[ok], cut_pos[ok]
    order = np.lexsort((cut_pos, cut_seg))
    cut_seg, cut_pos = cut_seg[order], cut_pos[order]
    same = cut_seg[1:] == cut_seg[:-1]
    seg, lo, hi = cut_seg[:-1][same], cut_pos[:-1][same], cut_pos[1:][same]
    real = hi - lo > _TOL_M
    seg, lo, hi = seg[real], lo[real], hi[real]
    mid = (lo + hi) / 2
    mid_pts = shapely.line_interpolate_point(roads.index.seg_geometry[seg], mid)
    keep = shapely.covers(roads.area, mid_pts) & ~intervals_cover(covered, seg, mid)
    return Pieces(seg[keep], lo[keep], hi[keep])


def cover_matrix(pieces: Pieces, reach: Intervals, n_candidates: int) -> sp.csr_array:
    """Piece × candidate 0/1 matrix: 1 where the candidate's reach contains the piece."""
    if len(pieces) == 0 or len(reach) == 0:
        return sp.csr_array((len(pieces), n_candidates))
    scale = float(max(pieces.end_m.max(), reach.end_m.max())) + 1.0
    start_key = pieces.seg * scale + pieces.start_m
    end_key = pieces.seg * scale + pieces.end_m
    first = np.searchsorted(start_key, reach.seg * scale + reach.start_m - _TOL_M, side="left")
    last = np.searchsorted(end_key, reach.seg * scale + reach.end_m + _TOL_M, side="right")
    count = np.maximum(last - first, 0)
    rows = np.repeat(first, count) + (np.arange(count.sum())
                                      - np.repeat(np.cumsum(count) - count, count))
    cols = np.repeat(reach.source, count)
    matrix = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(len(pieces), n_candidates))
    # A candidate can reach one piece through two stretches (from both ends of a
    # segment): the conversion summed those, and one entry is what is meant.
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def implied_rows(matrix: sp.csr_array, pieces: Pieces, *, chunk: int = 4096) -> np.ndarray:
    """Rows of a set-covering matrix implied by another row.

    Row ``r`` is implied by row ``c`` when ``c``'s candidate set is a subset of
    ``r``'s: covering ``c`` covers ``r``. Rows are ordered by (set size, index)
    and a row is dropped only for a strictly earlier one, so every dropped row
    keeps an undropped row implying it. Rows no candidate covers are kept (the
    model reports them). A cheap pass over neighbouring pieces of a segment
    comes first; the pairwise pass then uses ``B @ B.T`` in chunks of rows.

    Returns
    -------
    ndarray of bool
        True for the rows that can be dropped.
    """
    n = matrix.shape[0]
    size = np.diff(matrix.indptr)
    drop = np.zeros(n, dtype=bool)
    if n < 2:
        return drop
    both = np.asarray(matrix[:-1].multiply(matrix[1:]).sum(axis=1)).ravel()
    same_seg = pieces.seg[1:] == pieces.seg[:-1]
    drop[1:] |= same_seg & (both == size[:-1]) & (size[:-1] > 0)
    drop[:-1] |= same_seg & (both == size[1:]) & (size[1:] > 0) & (size[1:] < size[:-1])
    rest = np.flatnonzero(~drop)
    B = sp.csr_array(matrix[rest], dtype=np.int32)
    BT = B.T.tocsr()
    rsize = size[rest]
    for start in range(0, len(rest), chunk):
        block = (B[start:start + chunk] @ BT).tocoo()
        r, c, v = block.row + start, block.col, block.data
        earlier = (rsize[c] < rsize[r]) | ((rsize[c] == rsize[r]) & (c < r))
        hit = (v == rsize[c]) & (rsize[c] > 0) & (r != c) & earlier
        drop[rest[np.unique(r[hit])]] = True
    return drop


def _drop_redundant(csc: sp.csc_array, chosen: list[int], order_key: np.ndarray) -> list[int]:
    """Remove sites whose every covered row is covered by another chosen site,
    trying them in increasing ``order_key``."""
    count = np.asarray(csc[:, chosen].sum(axis=1)).ravel() if chosen else np.zeros(csc.shape[0])
    kept = set(chosen)
    for j in sorted(chosen, key=lambda k: order_key[k]):
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        if (count[rows] > 1).all():
            count[rows] -= 1
            kept.discard(j)
    return sorted(kept)


def greedy_cover(matrix: sp.csr_array, weight: np.ndarray, budget: int | None) -> np.ndarray:
    """Greedy sites: the candidate covering the most uncovered weight, repeatedly.

    With ``budget`` None, until every coverable row is covered, then sites made
    redundant by later ones are removed; else ``budget`` sites at most. A
    fallback incumbent only: the MILP bound says how far from optimal it is.
    """
    csc = matrix.tocsc()
    csr = matrix.tocsr()
    open_w = np.where(np.diff(csr.indptr) > 0, weight, 0.0)
    gain = csc.T @ open_w
    chosen: list[int] = []
    limit = matrix.shape[1] if budget is None else budget
    while len(chosen) < limit and open_w.any():
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        chosen.append(j)
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        rows = rows[open_w[rows] > 0]
        gain -= csr[rows].T @ open_w[rows]
        open_w[rows] = 0.0
    if budget is None:
        chosen = _drop_redundant(csc, chosen, np.diff(csc.indptr))
    return np.sort(np.asarray(chosen, dtype=np.int64))


def lp_rounding_cover(matrix: sp.csr_array, *, time_limit: float | None = None
                      ) -> tuple[np.ndarray, float] | None:
    """Sites for full coverage guided by the LP relaxation of set covering.

    Solves the LP (:func:`scipy.optimize.linprog`, HiGHS interior point: on the
    dense straight-line matrices of a whole district it is several times faster
    than simplex), takes candidates in decreasing LP value while they cover a
    row not yet covered, then removes redundant ones (lowest LP value first).
    On Yuzhong's hose-lay model this lands within 5 % of the LP bound, where
    plain greedy is 15-20 % above it.

    Returns
    -------
    (sites, lp_value) or None
        The sites and the LP optimum (a lower bound on the number of sites);
        None when the LP did not solve within ``time_limit``.
    """
    csr = matrix.tocsr()
    coverable = np.diff(csr.indptr) > 0
    A = csr[coverable]
    if A.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), 0.0
    options = {} if time_limit is None else {"time_limit": float(time_limit)}
    lp = linprog(np.ones(A.shape[1]), A_ub=-A, b_ub=-np.ones(A.shape[0]), bounds=(0, 1),
                 method="highs-ipm", options=options)
    if lp.status != 0:
        return None
    csc = A.tocsc()
    covered = np.zeros(A.shape[0], dtype=bool)
    chosen: list[int] = []
    for j in np.argsort(-lp.x, kind="stable"):
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        if not covered[rows].all():
            chosen.append(int(j))
            covered[rows] = True
            if covered.all():
                break
    return np.asarray(_drop_redundant(csc, chosen, lp.x), dtype=np.int64), float(lp.fun)


@dataclass(frozen=True)
class Proposal:
    """New hydrant sites and how they were found, stated honestly.

    Attributes
    ----------
    measure : {"euclidean", "network"}
    budget : int or None
        None: fewest sites for full coverage; else at most this many new sites.
    sites : GeoDataFrame
        The proposed hydrants (network CRS): ``id`` (``new-1``, ...), ``highway``,
        ``name``, ``seg``, ``pos_m``.
    status : str
        ``optimal`` only when the MILP proved it; else ``feasible``: the best of
        the MILP's time-limited incumbent and the heuristic sites.
    objective : float
        Sites proposed (full coverage) or road length covered by them (budget), m.
    bound : float or None
        Best proven bound on the objective (lower for sites, upper for length):
        the MILP's, or the rounded-up LP optimum when that is stronger.
    gap : float or None
        |objective − bound| / |objective|.
    source : {"milp", "greedy", "lp-rounding", "none"}
        Which method produced ``sites`` (``none`` when nothing was left to cover).
    message : str
    milp : PlacementResult or None
        The MILP run (times, presolve, solver).
    n_candidates, n_pieces, n_rows : int
        Candidate sites; elementary pieces to cover; rows handed to the model.
    target_m : float
        Road length inside the area not covered by existing hydrants, m.
    uncoverable_m : float
        Part of it no candidate reaches, m.
    """

    measure: str
    budget: int | None
    sites: gpd.GeoDataFrame
    status: str
    objective: float
    bound: float | None
    gap: float | None
    source: str
    message: str
    milp: PlacementResult | None
    n_candidates: int
    n_pieces: int
    n_rows: int
    target_m: float
    uncoverable_m: float

    def as_dict(self) -> dict:
        """Plain-JSON figures for ``summary.json``."""
        milp = self.milp
        return {
            "measure": self.measure,
            "mode": "full coverage, fewest sites" if self.budget is None
            else f"at most {self.budget} sites, most covered length",
            "budget": self.budget,
            "proposed_count": int(len(self.sites)),
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "source": self.source,
            "message": self.message,
            "solver": None if milp is None else milp.solver,
            "milp_status": None if milp is None else milp.status,
            "milp_objective": None if milp is None else milp.objective,
            "solve_s": None if milp is None else milp.solve_s,
            "build_s": None if milp is None else milp.build_s,
            "presolve": None if milp is None else dict(milp.presolve),
            "candidates": self.n_candidates,
            "pieces": self.n_pieces,
            "rows_to_model": self.n_rows,
            "target_m": self.target_m,
            "uncoverable_m": self.uncoverable_m,
        }


def _pick(milp: PlacementResult, heuristic: tuple[np.ndarray, float, str],
          minimise: bool) -> tuple[np.ndarray, float, str, str, str]:
    """The better of the MILP incumbent and the heuristic sites, with status and message."""
    sites, value, name = heuristic
    has = milp.has_solution and milp.objective is not None
    better = has and (milp.objective <= value if minimise else milp.objective >= value)
    if better:
        return (np.asarray(milp.chosen, np.int64), float(milp.objective), milp.status,
                "milp", milp.message)
    why = (f"the MILP stopped with status {milp.status!r} ({milp.message})" if not has else
           f"the MILP incumbent ({milp.objective:g}) is worse than the {name} one "
           f"({value:g}) at the time limit ({milp.message})")
    status = "feasible" if milp.status in ("optimal", "feasible") or not has else milp.status
    return sites, value, status, name, f"{name} sites used: {why}"


def _heuristic(matrix: sp.csr_array, reduced: sp.csr_array, weight: np.ndarray,
               budget: int | None, time_limit: float | None
               ) -> tuple[tuple[np.ndarray, float, str], float | None]:
    """The best heuristic sites (greedy; for full coverage LP rounding too) and,
    for full coverage, the LP lower bound rounded up (None if not solved)."""
    if budget is not None:
        sites = greedy_cover(matrix, weight, budget)
        hit = np.asarray(matrix[:, sites].sum(axis=1)).ravel() > 0
        return (sites, float(weight[hit].sum()), "greedy"), None
    found = [(greedy_cover(reduced, np.ones(reduced.shape[0]), None), "greedy")]
    rounded = lp_rounding_cover(reduced, time_limit=time_limit)
    lp_bound = None
    if rounded is not None:
        found.append((rounded[0], "lp-rounding"))
        # The site count is a whole number, so the LP optimum rounds up.
        lp_bound = float(np.ceil(rounded[1] - 1e-6))
    sites, name = min(found, key=lambda f: len(f[0]))
    return (sites, float(len(sites)), name), lp_bound


def propose_hydrants(
    roads: Roads,
    existing_xy: np.ndarray,
    existing_snap: Snap,
    *,
    measure: str = "euclidean",
    budget: int | None = None,
    rules: HydrantRules = GB50974,
    options: SolveOptions | None = None,
) -> Proposal:
    """Propose new hydrant sites on the roads of the area.

    Parameters
    ----------
    roads : Roads
    existing_xy : ndarray, shape (k, 2)
        Existing hydrants that count (network CRS).
    existing_snap : Snap
        The same hydrants on the network.
    measure : {"euclidean", "network"}
        Straight-line or hose-lay coverage.
    budget : int, optional
        At most this many new sites, maximising covered length. Without it:
        the fewest sites that cover every metre some candidate can reach.
    rules : HydrantRules
        ``protection_radius_m`` and ``candidate_step_m``.
    options : SolveOptions, optional
        Solver (``highs``/``cbc``), time limit, gap.

    Returns
    -------
    Proposal
        The MILP's sites, or the greedy ones when the MILP stopped at its time
        limit with a worse incumbent (or none); status and gap say which.
    """
    if measure not in MEASURES:
        raise InputError(f"unknown coverage measure {measure!r}", source="measure",
                         fix=f"use one of {MEASURES}")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, np.integer))
                               or budget < 0):
        raise InputError(f"budget {budget!r} is not a whole number of hydrants >= 0",
                         source="budget", fix="pass e.g. --budget 20")
    options = options or SolveOptions()
    radius = rules.protection_radius_m
    sites, snap = candidate_sites(roads, step_m=rules.candidate_step_m)
    if measure == "euclidean":
        reach = euclidean_reach(roads, snap.xy, radius)
        existing = euclidean_reach(roads, existing_xy, radius)
    else:
        reach = network_reach(roads, snap, radius)
        existing = network_reach(roads, existing_snap, radius)
    pieces = elementary_pieces(roads, reach, union(existing))
    matrix = cover_matrix(pieces, reach, len(sites))
    weight = pieces.length_m
    no_cover = np.diff(matrix.indptr) == 0
    keep = ~implied_rows(matrix, pieces) if budget is None else np.ones(len(pieces), bool)
    common = dict(measure=measure, budget=None if budget is None else int(budget),
                  n_candidates=len(sites), n_pieces=len(pieces), n_rows=int(keep.sum()),
                  target_m=float(weight.sum()), uncoverable_m=float(weight[no_cover].sum()))
    if len(pieces) == 0 or len(sites) == 0 or budget == 0 or no_cover.all():
        return Proposal(sites=_sites(sites, snap, roads, np.zeros(0, np.int64)),
                        status="optimal", objective=0.0, bound=0.0, gap=0.0, source="none",
                        message="nothing a new site could cover", milp=None, **common)
    problem = PlacementProblem.from_cost_matrix(
        matrix[keep], weights=weight[keep], threshold=1.0,
        candidate_ids=[f"c{j}" for j in range(len(sites))],
    )
    milp = lscp(problem, options=options) if budget is None else mclp(problem, int(budget),
                                                                       options=options)
    bound = milp.bound
    if milp.status == "optimal":
        chosen, objective = np.asarray(milp.chosen, np.int64), float(milp.objective)
        status, source, message = "optimal", "milp", milp.message
    else:
        heuristic, lp_bound = _heuristic(matrix, matrix[keep], weight, budget,
                                         options.time_limit)
        chosen, objective, status, source, message = _pick(milp, heuristic, budget is None)
        if lp_bound is not None and (bound is None or lp_bound > bound):
            bound = lp_bound
    gap = None if bound is None else relative_gap(objective, bound)
    if status == "optimal" and gap != 0.0:
        status = "feasible"
    return Proposal(sites=_sites(sites, snap, roads, chosen), status=status,
                    objective=objective, bound=bound, gap=gap, source=source,
                    message=message, milp=milp, **common)


def _sites(sites: gpd.GeoDataFrame, snap: Snap, roads: Roads, chosen: np.ndarray
           ) -> gpd.GeoDataFrame:
    new = sites.iloc[chosen].reset_index(drop=True)
    new.insert(0, "id", [f"new-{i + 1}" for i in range(len(new))])
    new["seg"] = snap.seg[chosen]
    new["pos_m"] = snap.frac[chosen] * roads.length_m[snap.seg[chosen]]
    return new
