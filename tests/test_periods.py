"""Time-of-day profiles: validation, per-class scaling of the index, per-period assessment."""

from __future__ import annotations

import numpy as np
import pytest

from coverage.engine import point_times, snap_points
from coverage.errors import InputError
from coverage.periods import (
    CN_URBAN_WEEKDAY,
    Period,
    TimeProfile,
    assess_periods,
    class_factors,
    period_index,
    read_profile,
)
from coverage.presets import response_standard


def test_preset_tiles_the_day_and_names_each_hour():
    names = CN_URBAN_WEEKDAY.period_of(np.array([3.0, 8.0, 12.0, 18.0, 21.0]))
    assert list(names) == ["night", "morning_peak", "day", "evening_peak", "night"]
    assert sum(p.hours() for p in CN_URBAN_WEEKDAY.periods) == pytest.approx(24.0)


def test_overlapping_or_gappy_profiles_are_rejected():
    with pytest.raises(InputError, match="falls in 0 periods"):
        TimeProfile("gap", (Period("a", 0, 10), Period("b", 11, 24)))
    with pytest.raises(InputError, match="falls in 2 periods"):
        TimeProfile("overlap", (Period("a", 0, 12), Period("b", 10, 24)))
    with pytest.raises(InputError, match="positive"):
        Period("bad", 0, 24, {"primary": 0.0})


def test_read_profile_from_toml(tmp_path):
    f = tmp_path / "profile.toml"
    f.write_text('name = "mine"\n[periods.peak]\nhours = [7, 9]\ndefault = 1.2\n'
                 'factors = { primary = 1.8 }\n[periods.rest]\nhours = [9, 7]\n', encoding="utf-8")
    prof = read_profile(f)
    assert prof.names() == ["peak", "rest"]
    assert prof.period("peak").factor("primary_link") == 1.8
    assert prof.period("peak").factor("residential") == 1.2
    f.write_text('[periods.peak]\nhours = [7]\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"profile.toml.*hours must be \[start, end\]"):
        read_profile(f)


def test_period_index_scales_each_class(yuzhong_index):
    peak = CN_URBAN_WEEKDAY.period("morning_peak")
    idx = period_index(yuzhong_index, peak)
    f = class_factors(yuzhong_index, peak)
    ok = np.isfinite(yuzhong_index.seg_fwd_s)
    assert np.allclose(idx.seg_fwd_s[ok], yuzhong_index.seg_fwd_s[ok] * f[ok])
    # A uniform factor scales every shortest time by exactly that factor.
    uniform = period_index(yuzhong_index, Period("x", 0, 24, {}, 1.5))
    rng = np.random.default_rng(0)
    pts = snap_points(yuzhong_index, yuzhong_index.node_xy[rng.choice(yuzhong_index.n_nodes, 30)])
    t0 = point_times(yuzhong_index, pts.take(np.arange(5)), pts)
    t1 = point_times(uniform, pts.take(np.arange(5)), pts)
    assert np.allclose(t1, 1.5 * t0)


def test_assess_periods_flags_the_worst(yuzhong_index):
    rng = np.random.default_rng(1)
    st = snap_points(yuzhong_index, yuzhong_index.node_xy[rng.choice(yuzhong_index.n_nodes, 3)])
    dem = snap_points(yuzhong_index, yuzhong_index.node_xy[rng.choice(yuzhong_index.n_nodes, 300)])
    tab = assess_periods(yuzhong_index, st, dem, np.ones(300), response_standard("gb51080"),
                         CN_URBAN_WEEKDAY)
    assert tab["worst"].sum() == 1
    worst = tab.loc[tab["worst"]].iloc[0]
    assert worst["coverage_share"] == tab["coverage_share"].min()
    night = tab.set_index("period").loc["night"]
    assert night["coverage_share"] >= tab["coverage_share"].max() - 1e-12  # free flow at night
