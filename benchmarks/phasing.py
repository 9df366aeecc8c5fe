"""Phasing benchmark: the exact multi-period plan against the myopic and greedy plans, one run.

Instance: the real Yuzhong siting instance built by the library from the shared data
(``--data``, default ``../shared/data``): the demand × column travel-time matrix of
:func:`coverage.siting.siting_instance` (4 existing stations fixed, the default
candidate sites, GB 51080 threshold 240 s, small-station rules off as in ``phase``).
Scenarios: 5 years with 1 station a year (no discount and 8 %), an uneven budget
(1, 2, 0, 2, 0) and, with ``--periods``, the worst period of ``cn_urban_weekday``.

Printed per scenario: objective (discounted covered weight summed over years) of each
plan, the ratio of the myopic and greedy plans to the exact one (≤ 1), status and
seconds. The peer is the myopic plan a planner would get by running ``site`` once a year.

Usage: ``python benchmarks/phasing.py [--data DIR] [--time-limit 600] [--periods] [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coverage.engine import build_index  # noqa: E402
from coverage.layers import read_boundary, read_stations  # noqa: E402
from coverage.network import load_network  # noqa: E402
from coverage.optimise import PlacementProblem, SolveOptions  # noqa: E402
from coverage.periods import CN_URBAN_WEEKDAY  # noqa: E402
from coverage.phasing import DISCOUNTS, PhaseSpec, greedy_plan, myopic_plan, phase_plan  # noqa: E402
from coverage.phasing.plan import _column_snaps, _period_problems  # noqa: E402
from coverage.siting import siting_instance  # noqa: E402

YEARS = [2026, 2027, 2028, 2029, 2030]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--periods", action="store_true", help="also the worst-period scenario")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line")
    args = ap.parse_args()
    osm = args.data / "osm" / "yuzhong_drive_osm_20260424.osm"
    if not osm.exists():
        print(f"shared data not found under {args.data}; nothing to run")
        return 0
    net = load_network(osm=osm, boundary=read_boundary(
        args.data / "osm" / "yuzhong_boundary_osm_relation4738525.geojson"))
    index = build_index(net)
    st = read_stations(args.data / "stations" / "yuzhong_stations_baseline.geojson")
    inst = siting_instance(net, st, small_station_rules=False, index=index)
    p = inst.problem
    base = PlacementProblem.from_cost_matrix(p.cost, weights=p.weights, threshold=p.threshold,
                                             fixed=list(p.fixed), candidate_ids=p.candidate_ids)
    scenarios = [
        ("5x1", [base], PhaseSpec(YEARS, [1] * 5)),
        ("5x1-8pct", [base], PhaseSpec(YEARS, [1] * 5, discount=DISCOUNTS["cn_social_8pct"])),
        ("uneven", [base], PhaseSpec(YEARS, [1, 2, 0, 2, 0])),
    ]
    if args.periods:
        cols = _column_snaps(index, inst.existing, inst.candidates)
        worst = inst.before.metrics["first_due_max_s"]
        probs = _period_problems(base, index, cols, inst.before.demand_set.snap, CN_URBAN_WEEKDAY,
                                 max(240.0, worst) + 1.0)
        scenarios.append(("5x1-worst-period", probs, PhaseSpec(YEARS, [1] * 5)))
    opts = SolveOptions(time_limit=args.time_limit)
    rows = []
    print(f"Yuzhong: {p.n_demand} demand rows × {p.n_candidates} columns ({len(p.fixed)} fixed)")
    print(f"{'scenario':<18}{'exact':>14}{'status':>10}{'s':>7}{'myopic/exact':>14}{'s':>7}"
          f"{'greedy/exact':>14}{'s':>7}")
    for name, probs, spec in scenarios:
        t0 = time.perf_counter()
        exact = phase_plan(probs, spec, options=opts, incumbents=False)
        t1 = time.perf_counter()
        myo = myopic_plan(probs, spec, options=opts)
        t2 = time.perf_counter()
        gr = greedy_plan(probs, spec)
        t3 = time.perf_counter()
        row = {"scenario": name, "exact": exact.objective, "exact_status": exact.status,
               "exact_gap": exact.gap, "exact_s": t1 - t0, "myopic": myo.objective,
               "myopic_status": myo.status, "myopic_s": t2 - t1, "greedy": gr.objective,
               "greedy_s": t3 - t2,
               "myopic_ratio": myo.objective / exact.objective if exact.objective else None,
               "greedy_ratio": gr.objective / exact.objective if exact.objective else None}
        rows.append(row)
        print(f"{name:<18}{exact.objective:>14,.1f}{exact.status:>10}{row['exact_s']:>7.1f}"
              f"{row['myopic_ratio']:>14.5f}{row['myopic_s']:>7.1f}{row['greedy_ratio']:>14.5f}"
              f"{row['greedy_s']:>7.1f}")
    if args.json:
        print(json.dumps({"benchmark": "phasing", "instance": "yuzhong", "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
