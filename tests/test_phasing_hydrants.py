"""Hydrants year by year on a generated grid: exact covered length and the in-service rate."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_hydrants_coverage import synthetic_grid_network

from coverage.engine import snap_points
from coverage.hydrants.coverage import road_coverage
from coverage.hydrants.propose import candidate_sites
from coverage.hydrants.roads import road_set
from coverage.optimise import SolveOptions
from coverage.phasing.hydrants import phase_hydrants
from coverage.presets import GB50974

RULES = replace(GB50974, candidate_step_m=100.0)


def test_hydrant_phasing_matches_enumeration_and_tracks_in_service():
    roads = road_set(synthetic_grid_network(3, 2, 200.0, kink=False))
    xy = np.array([[500_000.0, 3_300_000.0]])
    snap = snap_points(roads.index, xy)
    status = pd.Series(["in_service"] * 60 + ["out_of_service"] * 3 + ["unknown"])
    hp = phase_hydrants(roads, xy, snap, [2026, 2027], [1, 1], status=status, repairs_per_year=2,
                        rules=RULES, options=SolveOptions(threads=1))
    assert hp.result.status == "optimal"
    # Enumerate every pair of candidates opened in order: the best final-year length
    # bounds the plan's, and the plan's summed length is the best over all ordered pairs.
    sites, csnap = candidate_sites(roads, step_m=RULES.candidate_step_m)
    radius = RULES.protection_radius_m

    def covered(cols):
        pts = np.vstack([xy, csnap.xy[list(cols)]]) if cols else xy
        return road_coverage(roads, pts, snap_points(roads.index, pts), measure="euclidean",
                             radius_m=radius).covered_m

    single = {a: covered([a]) for a in range(len(sites))}
    pair = {(a, b): covered([a, b]) for a, b in itertools.combinations(range(len(sites)), 2)}
    best = max(single[a] + pair[min(a, b), max(a, b)]
               for a, b in itertools.permutations(range(len(sites)), 2))
    assert hp.table["covered_m"].sum() == pytest.approx(best, rel=1e-6)
    assert list(hp.table["new_hydrants"]) == [1, 1]
    assert list(hp.table["repaired"]) == [2, 3]
    assert hp.table["in_service_rate"].iloc[-1] == pytest.approx((60 + 3 + 2) / 66)
    assert hp.table["in_service_target_met"].iloc[-1]
    assert not hp.table["in_service_target_met"].iloc[0]  # (60 + 2 + 1) / 65 < 0.98
    assert len(hp.sites) == 2 and set(hp.sites["year"]) == {2026, 2027}
