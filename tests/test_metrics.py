"""Weighted response metrics against NumPy's own quantiles on expanded samples."""

from __future__ import annotations

import numpy as np
import pytest

from coverage.assess.metrics import cdf_table, response_metrics, weighted_quantile
from coverage.presets import STANDARDS


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9, 1.0])
def test_weighted_quantile_equals_inverted_cdf_on_repeated_values(seed, q):
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 600, 50)
    weights = rng.integers(1, 6, 50)
    expected = np.quantile(np.repeat(values, weights), q, method="inverted_cdf")
    assert weighted_quantile(values, weights.astype(float), q) == pytest.approx(expected)


def test_response_metrics_shares_and_turnout():
    std = STANDARDS["gb51080"]
    weights = np.array([1.0, 1.0, 2.0, 4.0])
    first = np.array([100.0, 240.0, 241.0, np.inf])
    second = np.array([200.0, 300.0, 400.0, np.inf])
    m = response_metrics(weights, first, second, std)
    assert m["coverage_share"] == pytest.approx(2 / 8)
    assert m["second_due_coverage_share"] == pytest.approx(1 / 8)
    assert m["unreachable_share"] == pytest.approx(4 / 8)
    assert m["first_due_max_s"] == 241.0
    assert m["response_p50_s"] == pytest.approx(m["first_due_p50_s"] + 60.0)
    assert m["compliant"] is False


def test_nfpa_is_judged_at_the_90th_percentile():
    std = STANDARDS["nfpa1710"]
    first = np.concatenate([np.full(91, 200.0), np.full(9, 500.0)])
    m = response_metrics(np.ones(100), first, first, std)
    assert m["compliant"] is True and m["first_due_judged_s"] == 200.0
    first[85:] = 500.0
    assert response_metrics(np.ones(100), first, first, std)["compliant"] is False


def test_cdf_is_monotone_and_ends_at_one():
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 500, 200)
    w = rng.uniform(0.5, 2, 200)
    cdf = cdf_table(w, t, step_s=30, turnout_s=60)
    assert np.all(np.diff(cdf["share"]) >= 0)
    assert cdf["share"].iloc[-1] == pytest.approx(1.0)
    row = cdf[cdf["travel_s"] == 240].iloc[0]
    assert row["share"] == pytest.approx(w[t <= 240].sum() / w.sum())
    assert row["response_s"] == 300
