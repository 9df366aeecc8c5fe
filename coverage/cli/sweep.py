"""``station-coverage sweep SCENARIO.toml``: a city over a grid of named parameters.

The scenario's ``[sweep]`` table lists values of ``congestion_factor``, ``turnout_s``,
``speeds`` and ``apparatus_height_m``; every combination is a point. Writes
``sweep.csv`` (coverage, p90, stations over their area cap and per-district
coverage per point), ``sweep_<parameter>.png`` (coverage vs parameter),
``n_minus_1.csv`` (stations ranked by coverage lost when closed, at the base point)
and ``sweep.json`` (with the plan: which network and routing each point reuses). The
(network, district) tasks run on Dask; see :mod:`coverage.city.sweep` for what is reused.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from coverage.cli.city import CityRun, add_dask_args
from coverage.cli.common import output_folder
from coverage.errors import InputError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand."""
    p = sub.add_parser(
        "sweep", help="city coverage over a grid of congestion, turnout, speeds, height; N-1",
        description="Vary congestion factor, turnout time, speed table and apparatus height over "
        "a grid ([sweep] table of the city scenario), report coverage, p90 and district caps per "
        "point, and rank stations by coverage lost when each is closed (N-1).",
    )
    p.add_argument("scenario", type=Path, help="city scenario TOML file with a [sweep] table")
    p.add_argument("--out", type=output_folder, default=None, help="output folder (default: the file's out)")
    add_dask_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the sweep and write its outputs."""
    from coverage.city.sweep import SPEED_TABLES, sweep_city, sweep_figures
    from coverage.outputs.files import atomic_write, write_json
    from coverage.outputs.layers import write_csv
    from coverage.presets import response_standard

    job = CityRun(args, "sweep")
    sc = job.scenario
    if not sc.sweep:
        raise InputError("the scenario has no [sweep] table.", source=args.scenario,
                         fix="add e.g. [sweep] congestion_factor = [1.0, 1.5] turnout_s = [60, 90].")
    spec = {k: v for k, v in sc.sweep.items() if k != "n_minus_1"}
    districts, runner = job.open()
    with runner:
        network = job.network(districts)
        stations = job.stations(network, districts)
        job.step("sweeping")
        result = sweep_city(sc.builder(districts, progress=False), stations, districts, spec,
                            base_model=sc.travel_model(), base_speeds=sc.network["speeds"],
                            standard=response_standard(sc.assess["standard"]),
                            step_m=float(sc.assess["step_m"]), runner=runner, network=network)
        del network
        events = list(runner.events)
    out = job.out
    write_csv(result.table, out / "sweep.csv")
    if sc.sweep.get("n_minus_1", True):
        write_csv(result.n_minus_1, out / "n_minus_1.csv")
    pngs = []
    for key, fig in sweep_figures(result, spec).items():
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        pngs.append(atomic_write(out / f"sweep_{key}.png", buf.getvalue()).name)
    write_json({"generated_network": sc.generated, "parameters": spec,
                "speed_tables": {k: SPEED_TABLES[k].as_dict() for k in SPEED_TABLES},
                "points": result.table.to_dict(orient="records"),
                "n_minus_1": result.n_minus_1.head(50).to_dict(orient="records"),
                "plan": result.plan.to_dict(orient="records"),
                "networks_built": result.networks, "routings": result.routings,
                "seconds": result.seconds, "events": events}, out / "sweep.json")
    if sc.generated:
        print("GENERATED road network (tiled from the real Yuzhong extract): not real roads.")
    t = result.table
    best, worst = t.loc[t["coverage_share"].idxmax()], t.loc[t["coverage_share"].idxmin()]
    print(f"{len(t)} points from {result.networks} network(s) and {result.routings} routing(s); "
          "turnout and congestion reuse first-due times (exact).")
    print(f"{len(t)} points: coverage {worst['coverage_share']:.1%} (point {worst['point']}) to "
          f"{best['coverage_share']:.1%} (point {best['point']})")
    top = result.n_minus_1.head(3)
    print("most critical stations: " + "; ".join(
        f"{r.name} ({r.coverage_lost_pp:.2f} pp)" for r in top.itertuples()))
    for line in events:
        print(f"note: {line}")
    print(f"outputs in {out}/: sweep.csv, sweep.json, n_minus_1.csv, " + ", ".join(pngs))
    return 0
