"""Exact station-placement models on a demand × candidate travel-time matrix.

Quick start::

    from coverage.optimise import PlacementProblem, mclp, SolveOptions
    prob = PlacementProblem.from_cost_matrix(seconds, weights, threshold=240, fixed=[0, 1])
    res = mclp(prob, p=3, options=SolveOptions(time_limit=60))
    res.status, res.chosen, res.objective, res.bound, res.gap

Models: :func:`lscp`, :func:`mclp`, :func:`pcenter`, :func:`pmedian`,
:func:`backup`. All take one :class:`PlacementProblem`, return one
:class:`PlacementResult`, honour the site options (fixed, forced, forbidden,
budget, type limits, closing existing stations) and the district-area rule,
and never report a time-limited incumbent as optimal.
"""

from coverage.optimise.backend import SolveOptions
from coverage.optimise.backup import backup
from coverage.optimise.lscp import lscp
from coverage.optimise.mclp import mclp
from coverage.optimise.pcenter import pcenter
from coverage.optimise.pmedian import pmedian
from coverage.optimise.presolve import PresolveOptions
from coverage.optimise.problem import PlacementProblem
from coverage.optimise.result import PlacementResult
from coverage.optimise.rules import Check, Violation, area_violations, district_areas

MODELS = {"lscp": lscp, "mclp": mclp, "pcenter": pcenter, "pmedian": pmedian, "backup": backup}

__all__ = [
    "MODELS",
    "Check",
    "PlacementProblem",
    "PlacementResult",
    "PresolveOptions",
    "SolveOptions",
    "Violation",
    "area_violations",
    "backup",
    "district_areas",
    "lscp",
    "mclp",
    "pcenter",
    "pmedian",
]
