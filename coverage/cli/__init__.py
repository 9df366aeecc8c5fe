"""The ``station-coverage`` command line: thin wrappers over the library.

Each subcommand lives in its own module with ``register(subparsers)``; the
module parses arguments, calls the library and writes outputs. Bad input is
printed as one paragraph (no traceback) with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

from coverage import __version__
from coverage.errors import InputError

#: Subcommand modules, in help order.
SUBCOMMANDS = ("assess", "site", "report", "plan", "hydrants", "city", "sweep")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="station-coverage",
        description="Fire-station coverage and response-time optimiser "
        "(GB 51080 / 建标152 / GB 50974 / NFPA 1710).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"coverage.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``station-coverage`` console script."""
    args = build_parser().parse_args(argv)
    plain = warnings.formatwarning
    # A planner needs the message, not the file and line of the library that raised it.
    warnings.formatwarning = lambda msg, cat, *a, **k: f"warning: {msg}\n"
    try:
        return int(args.run(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = plain


if __name__ == "__main__":
    sys.exit(main())
