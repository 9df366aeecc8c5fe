"""Phased build-out: which station opens in which year, under each year's budget.

The exact multi-period model and its myopic and greedy comparisons live in
:mod:`coverage.phasing.model` (pure, on :class:`~coverage.optimise.PlacementProblem`);
:mod:`coverage.phasing.plan` builds them from geography and assesses every year;
:mod:`coverage.phasing.report` writes the year table, map, plot and report section.
"""

from coverage.phasing.model import (
    DISCOUNTS,
    NEVER,
    Discount,
    PhaseResult,
    PhaseSpec,
    greedy_plan,
    myopic_plan,
    phase_plan,
    plan_values,
    plan_violations,
)

__all__ = [
    "DISCOUNTS",
    "NEVER",
    "Discount",
    "PhaseResult",
    "PhaseSpec",
    "greedy_plan",
    "myopic_plan",
    "phase_plan",
    "plan_values",
    "plan_violations",
]
