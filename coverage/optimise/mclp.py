"""Maximal covering location (MCLP): p new sites that cover the most demand weight."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pulp
from scipy import sparse

from coverage.optimise import backend, setsearch
from coverage.optimise.arrays import (
    ArrayModel,
    add_cut_rows,
    cover_matrix,
    covering_highs_options,
    site_columns,
    site_rows,
    take_rows,
)
from coverage.optimise.backend import SolveOptions, model_build
from coverage.optimise.cover import row_terms
from coverage.optimise.heuristic import Incumbent, _Limits, mclp_incumbent
from coverage.optimise.matrix import nearest_open
from coverage.optimise.presolve import PresolveOptions, cover_rows
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.result import PlacementResult
from coverage.optimise.rules import Check, breaks_rules
from coverage.optimise.runner import (
    Built,
    Clock,
    finish,
    initial_cuts,
    placement,
    precheck_failure,
    rules_active,
    run_rounds,
    usable_incumbent,
)
from coverage.optimise.sites import (
    add_cuts,
    add_site_constraints,
    check_p,
    classify,
    effective_p,
    make_vars,
    new_var,
    precheck,
)


def mclp(problem: PlacementProblem, p: int, *, options: SolveOptions | None = None,
         presolve: PresolveOptions | None = None, check: Check | None = None,
         max_cut_rounds: int = 20, build: str | None = None) -> PlacementResult:
    """At most ``p`` new sites maximising the demand weight within the threshold.

    Maximise Σ wᵢ zᵢ subject to zᵢ ≤ Σⱼ aᵢⱼ xⱼ (plus the existing stations that
    cover i), 0 ≤ zᵢ ≤ 1, Σ new xⱼ ≤ p. The z are continuous: at an optimum each
    equals min(1, coverage count), which is integral once x is.

    With district rules on (and no closable stations), a best-first search over
    site sets with submodular bounds (:mod:`coverage.optimise.setsearch`) runs
    first: it proves small-p instances without a MILP (``method`` is then
    ``"set-search+lazy-cuts"``). When its queue limit or half the time limit
    stops it, the lazy-cut MILP loop takes over with its cuts and its bound.

    Parameters
    ----------
    problem : PlacementProblem
        Needs ``threshold``.
    p : int
        Largest number of new sites (forced ones included).
    options, presolve, check, max_cut_rounds, build
        As for :func:`coverage.optimise.lscp`.

    Returns
    -------
    PlacementResult
        ``objective`` is the covered demand weight (existing stations'
        coverage included); ``details["covered_share"]`` its share of the
        total weight.
    """
    options = options or SolveOptions()
    presolve = presolve or PresolveOptions()
    build = model_build(build, options)
    p = check_p(p, "MCLP")
    radius = problem.require_threshold("MCLP")
    clock = Clock(options.time_limit)
    details: dict = {"p": p, "threshold_s": radius, "total_weight": float(problem.weights.sum())}
    p = effective_p(problem, p, details)
    checking = rules_active(problem, check)
    method = "cover+lazy-cuts" if checking else "cover"
    with clock.building():
        rows = cover_rows(problem, radius, classify(problem), need=1, options=presolve,
                          drop_uncoverable=False, dominance=not checking)
    total = details["total_weight"]
    reason = precheck(problem, p)
    if reason:
        return precheck_failure(problem, model="mclp", method=method, options=options,
                                reason=reason, uncoverable=rows.uncoverable, details=details)
    cols = rows.cols
    with clock.building():
        def covered(mask: np.ndarray) -> float:
            return float(problem.weights[nearest_open(problem.cost, mask)[0] <= radius].sum())

        incumbent = usable_incumbent(problem, mclp_incumbent(
            problem, classify(problem), radius, p, deadline=clock.deadline(0.25)), check, clock,
            covered)
    cuts = initial_cuts(problem, clock) if checking else []
    known_bound = None
    searching = checking and setsearch.applies(problem, classify(problem))
    if searching:
        t0 = time.perf_counter()
        found = setsearch.search_sets(problem, classify(problem), radius, p, check,
                                      incumbent=incumbent, cuts=cuts,
                                      deadline=clock.deadline(0.5))
        clock.solve_s += time.perf_counter() - t0
        details["set_search"] = found.as_dict()
        left = clock.remaining()
        if found.proven or (left is not None and left <= 0):
            return _search_result(problem, found, incumbent, options=options, clock=clock,
                                  uncoverable=rows.uncoverable, presolve=rows.report,
                                  details=details, covered=covered)
        # Too many sets for the search (its queue limit, or half the time limit): the MILP
        # loop takes over with the search's cuts, and its bound stays valid.
        known_bound = found.bound
    if incumbent is not None and checking:
        # After the search, which rarely needs it: the MILP's start, and the answer at a
        # time limit.
        with clock.building():
            incumbent = refill_under_rules(problem, incumbent, check, radius, p, covered,
                                           deadline=clock.deadline(0.6 if searching else 0.4))
            incumbent = swap_under_rules(problem, incumbent, check, radius, p, covered,
                                         deadline=clock.deadline(0.7 if searching else 0.5))
    R = sparse.csr_array((np.ones(rows.indices.size), rows.indices, rows.indptr),
                         shape=(rows.n_rows, problem.n_candidates))

    def build_arrays(cuts: list) -> Built:
        model = ArrayModel("mclp", pulp.LpMaximize)
        if not checking:
            model.highs_options = covering_highs_options(strong_start=incumbent is not None)
        n_var = np.diff(rows.indptr)
        scoring = rows.weight > 0
        # A row only one site can cover scores exactly when that site opens: its weight
        # goes onto the site's objective coefficient, no z and no row needed (exact).
        single = scoring & (n_var == 1) & (rows.n_const == 0)
        site_gain = np.bincount(rows.indices[rows.indptr[:-1][single]],
                                weights=rows.weight[single], minlength=problem.n_candidates)
        xcol, x = site_columns(model, cols, cost=site_gain)
        # Rows no variable covers score only through constants, already in their bound.
        keep = np.flatnonzero(scoring & ~single & (n_var > 0))
        const_gain = float(rows.weight[scoring & (n_var == 0) & (rows.n_const > 0)].sum())
        z0 = model.add_cols(rows.weight[keep], 0.0, 1.0, integer=False)
        ip, ix = take_rows(rows.indptr, rows.indices, keep)
        # z_g − Σ x_j ≤ (open constants covering g)
        starts, index, value = cover_matrix(ip, ix, xcol, lead=z0 + np.arange(keep.size),
                                            sign=-1.0)
        model.add_rows(np.full(keep.size, -np.inf), rows.n_const[keep].astype(float),
                       starts, index, value)
        site_rows(model, problem, cols, xcol, p)
        return Built(model, x, cols, constant=rows.settled_weight + const_gain,
                     impossible=add_cut_rows(model, xcol, cols, cuts))

    def build_pulp(cuts: list) -> Built:
        lp = pulp.LpProblem("mclp", pulp.LpMaximize)
        x = make_vars(lp, cols)
        z = [new_var(lp, f"z_{g:07d}", 0, 1) for g in range(rows.n_rows)]
        lp.setObjective(pulp.LpAffineExpression(
            [(z[g], float(rows.weight[g])) for g in range(rows.n_rows) if rows.weight[g] > 0]))
        for g in range(rows.n_rows):
            if rows.weight[g] > 0:
                expr = pulp.LpAffineExpression([(z[g], 1)] + [(v, -1) for v, _ in
                                                               row_terms(rows, x, g)])
                lp.addConstraint(expr <= int(rows.n_const[g]), f"cover_{g:07d}")
        add_site_constraints(lp, x, problem, cols, p)

        def aux_start(mask: np.ndarray) -> dict:
            cov = np.minimum(1.0, R @ mask.astype(np.float64) + rows.n_const)
            return {z[g]: float(cov[g]) for g in range(rows.n_rows)}

        return Built(lp, x, cols, constant=rows.settled_weight,
                     impossible=add_cuts(lp, x, cols, cuts), aux_start=aux_start)

    state = run_rounds(problem, build_arrays if build == "arrays" else build_pulp, options, clock,
                       check, cuts, max_cut_rounds, incumbent, bound=known_bound)
    details["build"] = build
    result = finish(
        problem, model="mclp", method=method, options=options, clock=clock, state=state,
        evaluate=lambda _, fd: float(problem.weights[fd <= radius].sum()),
        uncoverable=rows.uncoverable, presolve=rows.report, details=details, maximise=True,
    )
    if result.objective is None or total == 0:
        return result
    return replace(result, details={**result.details,
                                    "covered_share": result.objective / total})


def _search_result(problem: PlacementProblem, found: setsearch.SearchOutcome,
                   incumbent: Incumbent | None, *, options: SolveOptions, clock: Clock,
                   uncoverable: np.ndarray, presolve: dict, details: dict, covered
                   ) -> PlacementResult:
    """The answer of a set search that proved its result or ran out of time.

    The objective is recomputed from the open sites; if it disagrees with the
    search's value the result is an ``error``, never a silently wrong answer.
    """
    total = details["total_weight"]
    common = dict(model="mclp", solver="best-first set search (no MILP)",
                  method="set-search+lazy-cuts", solve_s=clock.solve_s, build_s=clock.build_s,
                  uncoverable=uncoverable, presolve=presolve)
    n = found.sets_checked
    if found.mask is None:
        if found.proven:
            why = (found.example[0].message if found.example else found.root_reason
                   or "every site set breaks one of the rules' cuts")
            return PlacementResult(
                status="infeasible", details=details,
                message=(f"the district rules cannot all hold: no set of at most {details['p']} "
                         f"new sites obeys them ({n} sets checked, the rest ruled out by the "
                         f"rules' cuts), e.g. {why}"), **common)
        return PlacementResult(
            status="error", bound=found.bound, details=details,
            message=(f"no rule-abiding solution found within the time limit of "
                     f"{options.time_limit:g} s ({n} sets checked); raise the time limit"),
            **common)
    objective = covered(found.mask)
    if found.value is not None and abs(objective - found.value) > 1e-6 * max(1.0, objective):
        return placement(
            problem, found.mask, status="error", objective=objective, bound=found.bound,
            details=details,
            message=(f"internal check failed: the sites' recomputed coverage {objective:g} "
                     f"differs from the set search's {found.value:g}; please report this "
                     "instance"), **common)
    source = "set search" if found.found_by_search else "heuristic"
    details = {**details, "solution_from": source,
               "covered_share": objective / total if total else None}
    if incumbent is not None:
        details["heuristic"] = {"method": incumbent.method, "objective": incumbent.objective,
                                "seconds": round(incumbent.seconds, 3)}
    bound = max(found.bound, objective) if found.bound is not None else None
    gap = None if bound is None else backend.relative_gap(objective, bound)
    if found.proven:
        message = (f"proven optimal by best-first search over site sets ({n} sets checked "
                   f"against the rules, {found.expanded} subtrees bounded)")
        return placement(problem, found.mask, status="optimal", objective=objective,
                         bound=objective, gap=0.0, message=message, details=details, **common)
    message = backend.incumbent_message(
        f"time limit reached during the set search; best solution found is the {source}'s",
        gap)
    return placement(problem, found.mask, status="feasible" if gap else "optimal",
                     objective=objective, bound=bound, gap=gap, message=message,
                     details=details, **common)


def refill_under_rules(problem: PlacementProblem, incumbent: Incumbent, check: Check | None,
                       radius: float, p: int, covered, *, deadline: float | None = None
                       ) -> Incumbent:
    """Reopen sites greedily after the district-rule repair closed some.

    The repair closes every new site at fault, which can leave far fewer than p
    sites (on Yuzhong's land demand: none). Each round adds the addable site
    that covers the most weight not yet covered and keeps every rule, checked on
    the whole new solution; a site that breaks a rule is not tried again. The
    result obeys the rules by construction and covers at least as much as the
    repaired set, so it is a valid incumbent for the exact phase.
    """
    lim = _Limits(problem, classify(problem), p)
    within = problem.cost.copy()
    within.data = (within.data <= radius).astype(np.float64)
    mask = incumbent.mask.copy()
    refused = np.zeros(problem.n_candidates, dtype=bool)
    added = 0
    while deadline is None or time.perf_counter() < deadline:
        add = lim.addable(mask & lim.pool) & ~refused
        if not add.any():
            break
        times = nearest_open(problem.cost, mask)[0]
        gain = within.T @ (problem.weights * (times > radius))
        gain[~add] = -np.inf
        opened = False
        for j in np.argsort(-gain, kind="stable"):
            if not gain[j] > 0 or (deadline is not None and time.perf_counter() >= deadline):
                break
            trial = mask.copy()
            trial[j] = True
            if breaks_rules(problem, trial, check):
                refused[j] = True
                continue
            mask, added, opened = trial, added + 1, True
            break
        if not opened:
            break
    if not added:
        return incumbent
    return replace(incumbent, mask=mask, objective=covered(mask),
                   method=incumbent.method + f" + {added} site(s) refilled under the rules")


def swap_under_rules(problem: PlacementProblem, incumbent: Incumbent, check: Check | None,
                     radius: float, p: int, covered, *, deadline: float | None = None
                     ) -> Incumbent:
    """Improve a rule-abiding set by swaps (one new site out, one in) that keep every rule.

    Each pass scores every swap at once. With ``c_i`` the number of open sites
    within the threshold of demand ``i``, closing ``s`` loses the weight only
    ``s`` covers (``c_i = 1``), and opening ``j`` instead gains what ``j``
    covers of the demand no other site then covers: what nobody covers now,
    plus what only ``s`` did. Swaps that gain are tried best first; the first
    that keeps the site options (p, budget, type limits) and every rule,
    checked on the whole new set, is made. The set stays rule-abiding and only
    improves, so it remains a valid incumbent.
    """
    lim = _Limits(problem, classify(problem), p)
    within = problem.cost.copy()
    within.data = (within.data <= radius).astype(np.float64)
    within.eliminate_zeros()
    by_site = sparse.csr_array(within.T)
    w = np.asarray(problem.weights, dtype=np.float64)
    tol = 1e-9 * max(1.0, float(w.sum()))
    mask = incumbent.mask.copy()
    swaps = 0
    while deadline is None or time.perf_counter() < deadline:
        count = within @ mask.astype(np.float64)
        free_gain = by_site @ (w * (count == 0))
        tries = []
        for s in np.flatnonzero(mask & lim.pool):
            rows = by_site.indices[by_site.indptr[s]:by_site.indptr[s + 1]]
            only = rows[count[rows] == 1]
            lost = np.zeros(w.size)
            lost[only] = w[only]
            delta = free_gain + by_site @ lost - lost.sum()
            delta[~(lim.pool & ~mask)] = -np.inf
            for j in np.flatnonzero(delta > tol):
                tries.append((-delta[j], int(s), int(j)))
        swapped = False
        for _, s, j in sorted(tries):
            if deadline is not None and time.perf_counter() >= deadline:
                break
            trial = mask.copy()
            trial[s], trial[j] = False, True
            if lim.ok(trial & lim.pool) and not breaks_rules(problem, trial, check):
                mask, swaps, swapped = trial, swaps + 1, True
                break
        if not swapped:
            break
    if not swaps:
        return incumbent
    return replace(incumbent, mask=mask, objective=covered(mask),
                   method=incumbent.method + f" + {swaps} swap(s) under the rules")
