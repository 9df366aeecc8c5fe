"""Response-time metrics over weighted demand: coverage shares, percentiles, CDF.

Used by the assessment and by the before/after blocks of placement runs, so
both report exactly the same figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage.presets import ResponseStandard

__all__ = ["weighted_quantile", "response_metrics", "cdf_table"]


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Smallest value ``x`` such that the weight of ``values <= x`` is at least ``q`` of the total.

    This is the inverse of the weighted empirical CDF (no interpolation), so
    "p90 ≤ 240 s" means exactly "at least 90 % of demand weight is reached
    within 240 s". ``inf`` values (unreachable demand) sort last.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if len(values) == 0 or weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    # A small relative tolerance keeps q=1.0 from falling off the end through rounding.
    pos = np.searchsorted(cum, q * cum[-1] * (1 - 1e-12), side="left")
    return float(values[order][min(pos, len(values) - 1)])


def _share(mask: np.ndarray, weights: np.ndarray) -> float:
    total = float(np.sum(weights))
    return float(np.sum(weights[mask]) / total) if total > 0 else float("nan")


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def response_metrics(
    weights: np.ndarray,
    first_s: np.ndarray,
    second_s: np.ndarray,
    standard: ResponseStandard,
) -> dict:
    """Headline coverage metrics for one configuration of stations.

    Parameters
    ----------
    weights : ndarray, shape (T,)
        Demand weight (m of road, m² of floor area, ...).
    first_s, second_s : ndarray, shape (T,)
        First- and second-due travel seconds (``inf`` where unreachable).
    standard : ResponseStandard
        Supplies the travel threshold, turnout and judging percentile.

    Returns
    -------
    dict
        ``coverage_share`` and ``second_due_coverage_share`` (weight share with
        travel ≤ threshold), weighted ``first_due_p50_s`` / ``p90`` / ``max``
        (travel seconds), the same as response seconds (turnout included),
        ``unreachable_share``, and ``compliant``: for a percentile standard, whether
        the judged percentile of travel time is within the threshold.
    """
    thr = standard.travel_threshold_s
    first_s = np.asarray(first_s, dtype=float)
    second_s = np.asarray(second_s, dtype=float)
    finite = np.isfinite(first_s)
    p50 = weighted_quantile(first_s, weights, 0.5)
    p90 = weighted_quantile(first_s, weights, 0.9)
    judged = weighted_quantile(first_s, weights, standard.percentile)
    worst = float(np.max(first_s[finite])) if finite.any() else float("nan")
    return {
        "coverage_share": _share(first_s <= thr, weights),
        "second_due_coverage_share": _share(second_s <= thr, weights),
        "first_due_p50_s": _finite_or_none(p50),
        "first_due_p90_s": _finite_or_none(p90),
        "first_due_max_s": _finite_or_none(worst),
        "response_p50_s": _finite_or_none(p50 + standard.turnout_s),
        "response_p90_s": _finite_or_none(p90 + standard.turnout_s),
        "response_max_s": _finite_or_none(worst + standard.turnout_s),
        "unreachable_share": _share(~finite, weights),
        "judged_percentile": standard.percentile,
        "first_due_judged_s": _finite_or_none(judged),
        "compliant": bool(np.isfinite(judged) and judged <= thr),
    }


def cdf_table(
    weights: np.ndarray, first_s: np.ndarray, *, step_s: float = 30.0, turnout_s: float = 0.0
) -> pd.DataFrame:
    """Cumulative share of demand weight reached by each travel time.

    Returns
    -------
    DataFrame
        Columns ``travel_s``, ``response_s`` (travel + turnout) and ``share``,
        one row every ``step_s`` from 0 to the first step past the largest finite time.
    """
    first_s = np.asarray(first_s, dtype=float)
    finite = first_s[np.isfinite(first_s)]
    top = float(finite.max()) if len(finite) else 0.0
    grid = np.arange(0.0, top + step_s, step_s)
    order = np.argsort(first_s, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(np.asarray(weights, dtype=float)[order])])
    reached = cum[np.searchsorted(first_s[order], grid, side="right")]
    total = cum[-1] if cum[-1] > 0 else 1.0
    return pd.DataFrame({"travel_s": grid, "response_s": grid + turnout_s, "share": reached / total})
