"""``station-coverage report``: rebuild report.html from output folders' summary.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage.cli.common import check_report_out, check_summary
from coverage.errors import InputError
from coverage.outputs.files import atomic_write
from coverage.outputs.layers import metrics_table, write_csv
from coverage.outputs.report import (
    comparison_placements,
    comparison_runs,
    read_summary,
    report_html,
    write_report,
)
from coverage.outputs.write import check_report_target


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write report.html from the summary.json of one or more runs",
        description="Rebuild the report of a run from its output folder: coverage before/after, "
        "response-time CDF, district areas against their caps, the solver line and the parameters "
        "with their clauses. With two or more folders, compares the runs side by side "
        "(each placement run by its 'after' stations) and also writes a metrics CSV.",
    )
    p.add_argument("runs", nargs="+", type=Path, metavar="DIR", help="output folder(s) holding summary.json")
    p.add_argument(
        "--out", type=Path, metavar="FILE",
        help="report file (default: DIR/report.html for one folder; required for several)",
    )
    p.add_argument("--title", default=None, help="report heading")
    p.set_defaults(run=run)


def _summary_file(path: Path) -> Path:
    return path / "summary.json" if path.is_dir() else path


def run(args: argparse.Namespace) -> int:
    """Write the report."""
    check_report_out(args.out, list(args.runs))
    summaries = {_label(path, args.runs): check_summary(read_summary(path), source=_summary_file(path))
                 for path in args.runs}
    inputs = [_summary_file(p) for p in args.runs]
    if len(summaries) == 1:
        folder = args.runs[0] if args.runs[0].is_dir() else args.runs[0].parent
        out = args.out or folder / "report.html"
        check_report_target(out, inputs)
        write_report(next(iter(summaries.values())), out, title=args.title or "Fire-station coverage report")
        print(f"wrote {out}")
        return 0
    if args.out is None:
        raise InputError("several runs need --out FILE for the comparison report", fix="add --out compare.html")
    check_report_target(args.out, inputs)
    runs = comparison_runs(summaries)
    atomic_write(args.out, report_html(runs, placements=comparison_placements(summaries),
                                       title=args.title or "Scenario comparison"))
    table = write_csv(metrics_table(runs), args.out.with_suffix(".csv"))
    print(f"wrote {args.out} and {table}")
    return 0


def _label(path: Path, all_paths: list[Path]) -> str:
    """The folder name, or the whole path when two folders share a name."""
    folder = path if path.is_dir() else path.parent
    names = [(p if p.is_dir() else p.parent).name for p in all_paths]
    return folder.name if names.count(folder.name) == 1 else str(folder)
