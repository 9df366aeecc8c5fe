"""Compare two or more scenario outputs side by side.

Each argument is an output folder: a ``plan`` folder (its ``site`` run, else its
``assess`` run, is used), or any folder holding a ``summary.json``. A placement run
counts by its stations *after* placement. Writes one comparison page (metrics,
response-time curves, district areas against caps) and a CSV of the metrics, and
prints the table.

Usage::

    python scripts/compare_scenarios.py out/yuzhong/plan out/yuzhong-peak/plan --out compare.html
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from coverage.errors import InputError
from coverage.outputs.files import atomic_write
from coverage.outputs.layers import metrics_table, write_csv
from coverage.outputs.report import (
    comparison_placements,
    comparison_runs,
    read_summary,
    report_html,
)
from coverage.outputs.write import check_report_target


def run_folder(folder: Path) -> Path:
    """The folder whose summary.json represents a scenario output."""
    for sub in ("site", "assess"):
        if (folder / sub / "summary.json").is_file():
            return folder / sub
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, metavar="DIR", help="scenario output folders")
    parser.add_argument("--out", type=Path, default=Path("compare.html"), help="comparison page (default compare.html)")
    parser.add_argument("--labels", nargs="+", help="one label per folder (default: folder names)")
    args = parser.parse_args(argv)
    try:
        if len(args.folders) < 2:
            raise InputError("give at least two scenario folders", fix="list two or more output folders")
        labels = args.labels or [f.resolve().name for f in args.folders]
        if len(labels) != len(args.folders) or len(set(labels)) != len(labels):
            raise InputError("labels must be unique, one per folder", fix="pass --labels A B ...")
        folders = [run_folder(f) for f in args.folders]
        summaries = {label: read_summary(f) for label, f in zip(labels, folders, strict=True)}
        check_report_target(args.out, [f / "summary.json" for f in folders])
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runs = comparison_runs(summaries)
    atomic_write(args.out, report_html(runs, placements=comparison_placements(summaries),
                                       title="Scenario comparison"))
    table = metrics_table(runs)
    csv = write_csv(table, args.out.with_suffix(".csv"))
    with pd.option_context("display.width", 160, "display.max_columns", None):
        print(table.drop(columns="metric").to_string(index=False))
    print(f"wrote {args.out} and {csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
