"""Incidents: reading, type weights, per-station workload replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coverage.errors import InputError
from coverage.incidents import (
    WorkloadRules,
    incident_weights,
    read_incidents,
    station_workload,
)


def _csv(tmp_path, rows):
    f = tmp_path / "generated_incidents.csv"
    pd.DataFrame(rows).to_csv(f, index=False)
    return f


def test_read_incidents_and_weights(tmp_path):
    f = _csv(tmp_path, {"id": ["a", "b"], "lon": [106.57, 106.58], "lat": [29.56, 29.55],
                        "time": ["2024-05-01 08:00", "2024-05-02 21:30"], "Type": ["Fire", "other"]})
    inc = read_incidents(f)
    assert list(inc["type"]) == ["fire", "other"]
    assert incident_weights(inc).tolist() == [3.0, 1.0]
    assert incident_weights(inc, {"other": 0.5}).tolist() == [1.0, 0.5]


def test_bad_time_names_the_row(tmp_path):
    f = _csv(tmp_path, {"id": ["a", "b"], "lon": [106.57, 106.58], "lat": [29.56, 29.55],
                        "time": ["2024-05-01 08:00", "yesterday"], "type": ["fire", "fire"]})
    with pytest.raises(InputError, match="row b.*unreadable time"):
        read_incidents(f)


def test_workload_replay_counts_calls_arriving_while_busy():
    t0 = pd.Timestamp("2024-01-01")
    # Station 0: calls at 0, 10 and 100 min; 30 min on scene + 2 × 5 min travel = 40 min busy.
    times = [t0, t0 + pd.Timedelta(minutes=10), t0 + pd.Timedelta(minutes=100)]
    inc = pd.DataFrame({"time": times})
    w = station_workload(inc, np.array([0, 0, 0]), np.array([300.0, 300.0, 300.0]), ["S0", "S1"],
                         rules=WorkloadRules(time_on_scene_min=30, busy_threshold=0.5), years=1.0)
    s0 = w.set_index("station").loc["S0"]
    assert s0["calls"] == 3
    assert s0["busy_arrival_share"] == pytest.approx(1 / 3)
    assert s0["busy_h_per_year"] == pytest.approx(3 * 40 / 60)
    assert not s0["over_threshold"]
    assert w.set_index("station").loc["S1", "calls"] == 0
