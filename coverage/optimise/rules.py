"""District rules checked on a solution, and the cuts that enforce them lazily.

A site's *district* is the demand whose nearest open site (by travel time,
ties to the lowest column index) it is. The small-station area rule
(建标152-2017: a 小型站's district ≤ 2 km²) is checked here on the cost matrix;
rules that need geometry, such as "a small district borders a full station's
district", are checked by the caller through a ``check`` callback returning
:class:`Violation` objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from coverage.optimise.matrix import nearest_open, row_of_entries
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.sites import Columns, Cut


@dataclass(frozen=True)
class Violation:
    """One broken district rule in a solution.

    Attributes
    ----------
    rule : str
        Short rule name, e.g. ``"area"`` or ``"adjacency"``.
    site : int
        Candidate column at fault (an open site).
    message : str
        Planner-readable description.
    remedy : tuple of int, optional
        Columns whose opening could repair the violation while ``site`` stays
        open (the cut is then ``open[site] <= Σ open[remedy]``). ``None`` means
        the caller cannot say; the solver then cuts off exactly this set of
        open sites (a no-good cut: valid, but weaker).
    value, limit : float, optional
        Measured value and its limit (e.g. km²).
    """

    rule: str
    site: int
    message: str
    remedy: tuple[int, ...] | None = None
    value: float | None = None
    limit: float | None = None

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return {"rule": self.rule, "site": self.site, "message": self.message,
                "value": self.value, "limit": self.limit}


#: A caller-supplied rule: sorted open column indices → violations.
Check = Callable[[np.ndarray], Sequence[Violation]]


def district_areas(problem: PlacementProblem, open_mask: np.ndarray) -> np.ndarray:
    """District area (km²) of every column under closest assignment (0 if closed)."""
    _, site = nearest_open(problem.cost, open_mask)
    served = site >= 0
    return np.bincount(site[served], weights=problem.area_km2[served],
                       minlength=problem.n_candidates)


def area_violations(problem: PlacementProblem, open_mask: np.ndarray) -> list[Violation]:
    """Open sites whose district exceeds their area cap, each with its remedy set.

    The remedy of a violating site ``s`` is every closed column that is nearer
    than ``s`` (or equally near with a lower index) to some demand in ``s``'s
    district. Unless one of them opens, or ``s`` closes, ``s``'s district can
    only keep or grow its area, so the cut ``open[s] <= Σ open[remedy]`` removes
    no solution that obeys the rule.
    """
    if not problem.has_area_rule:
        return []
    first_due, site = nearest_open(problem.cost, open_mask)
    served = site >= 0
    area = np.bincount(site[served], weights=problem.area_km2[served],
                       minlength=problem.n_candidates)
    cap = problem.area_cap_km2
    bad = np.flatnonzero(open_mask & (area > cap * (1 + 1e-9) + 1e-12))
    if not bad.size:
        return []
    cost = problem.cost
    r = row_of_entries(cost)
    c, v = cost.indices, cost.data
    s = site[r]
    in_bad = np.zeros(problem.n_candidates, dtype=bool)
    in_bad[bad] = True
    closer = (s >= 0) & in_bad[np.maximum(s, 0)] & (
        (v < first_due[r]) | ((v == first_due[r]) & (c < s)))
    out = []
    for j in bad:
        remedy = np.unique(c[closer & (s == j)])
        out.append(Violation(
            rule="area", site=int(j), value=float(area[j]), limit=float(cap[j]),
            remedy=tuple(int(k) for k in remedy),
            message=(f"site {problem.candidate_ids[j]!r} ({problem.site_types[j]}) has a "
                     f"district of {area[j]:.3f} km², above its cap of {cap[j]:g} km²"),
        ))
    return out


def cut_for(violation: Violation, open_mask: np.ndarray, cols: Columns) -> Cut:
    """The inequality that removes the violating solution (see :class:`Violation`)."""
    if violation.remedy is not None:
        coef = tuple((k, 1.0) for k in violation.remedy) + ((violation.site, -1.0),)
        return Cut(coef=coef, rhs=0.0, reason=violation.message)
    on = np.flatnonzero(cols.var & open_mask)
    off = np.flatnonzero(cols.var & ~open_mask)
    coef = tuple((int(j), 1.0) for j in off) + tuple((int(j), -1.0) for j in on)
    return Cut(coef=coef, rhs=1.0 - on.size, reason=violation.message)


def violations(problem: PlacementProblem, open_mask: np.ndarray,
               check: Check | None) -> list[Violation]:
    """All rule violations of a solution: the area rule, then the caller's check."""
    found = area_violations(problem, open_mask)
    if check is not None:
        found.extend(check(np.flatnonzero(open_mask)))
    return found
