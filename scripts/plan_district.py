"""Plan one district from a scenario file and say, in plain words, what came out.

Runs ``station-coverage plan`` (assess today's stations, site new ones when the
scenario has a ``[site]`` table, check hydrants when it names them), then prints coverage before and after, the stations
whose district is over its area cap, the solver line and where the maps and reports are.

Usage::

    python scripts/plan_district.py data/geo/yuzhong.toml [--out DIR] [--open]
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from pathlib import Path

from coverage.cli.plan import load_scenario, run_plan
from coverage.errors import InputError
from coverage.outputs import words
from coverage.outputs.report import read_summary, split_summary

_WHAT = {"land": "land with vehicle access", "roads": "road length", "buildings": "floor area",
         "points": "demand weight"}


def _describe(folder: Path) -> list[str]:
    runs, placement = split_summary(read_summary(folder))
    lines = []
    for label, run in runs.items():
        over = [f"{s.get('name') or s['id']} ({words.area(s['district_km2'])} > "
                f"{words.area(s['area_cap_km2'])})"
                for s in run.get("stations", []) if s.get("over_cap")]
        lines.append(
            f"  {label}: {words.share(run['coverage_share'])} of "
            f"{_WHAT.get((run.get('demand') or {}).get('kind'), 'road length')} reached within "
            f"{words.duration(run.get('travel_threshold_s', 240))}; slowest first-due "
            f"{words.duration(run['first_due_max_s'])}"
            + (f"; over the area cap: {', '.join(over)}" if over else "; every district within its cap")
        )
    if placement:
        gap = placement.get("gap")
        names = [s.get("name") or s.get("id") for s in placement.get("new_sites") or []]
        lines.append(f"  solver: {placement.get('model')} {placement.get('status')}, "
                     f"{placement.get('objective_text') or ''}, gap "
                     f"{'n/a' if gap is None else f'{100 * gap:.2f} %'}; new sites: "
                     f"{'; '.join(names) or 'none'}")
    lines.append(f"  map: {folder / 'map.html'}   report: {folder / 'report.html'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", type=Path, help="scenario TOML file (see data/geo/yuzhong.toml)")
    parser.add_argument("--out", type=Path, help="output folder (default: the scenario's 'out')")
    parser.add_argument("--open", action="store_true", help="open the last map in the web browser")
    args = parser.parse_args(argv)
    try:
        result = run_plan(load_scenario(args.scenario), args.out)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folder = None
    for step, paths in result["paths"].items():
        print(f"{step}:")
        if step == "hydrants":
            print(f"  map: {paths['map']}   summary: {paths['summary']}")
            continue
        folder = Path(paths["summary"]).parent
        print("\n".join(_describe(folder)))
    if args.open and folder is not None:
        webbrowser.open((folder / "map.html").resolve().as_uri())
    return 0


if __name__ == "__main__":
    sys.exit(main())
