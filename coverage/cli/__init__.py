"""The ``station-coverage`` command line: thin wrappers over the library.

Each subcommand lives in its own module with ``register(subparsers)``; the
module parses arguments, calls the library and writes outputs. No Python
traceback reaches the user: bad input is printed as one paragraph with exit
code 2, a file the system refuses to read or write as one line naming it (exit
2), Ctrl-C as ``interrupted`` (exit 130), and anything unforeseen as one line
asking for a bug report (exit 1; set ``STATION_COVERAGE_DEBUG=1`` for the
traceback).
"""

from __future__ import annotations

import os
import sys
import warnings

from coverage import __version__
from coverage.errors import InputError

#: Subcommand modules, in help order.
SUBCOMMANDS = ("assess", "site", "report", "plan", "hydrants", "micro", "phase", "calibrate", "city",
               "sweep")

#: Environment variable that lets unexpected errors show their traceback.
DEBUG_ENV = "STATION_COVERAGE_DEBUG"

#: Exit codes.
EXIT_INPUT = 2
EXIT_BUG = 1
EXIT_INTERRUPTED = 130


def build_parser():
    """The top-level parser with every available subcommand."""
    import argparse
    import importlib

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
    """Entry point of the ``station-coverage`` console script; returns the exit code."""
    plain = warnings.formatwarning
    # A planner needs the message, not the file and line of the library that raised it.
    warnings.formatwarning = lambda msg, cat, *a, **k: f"warning: {msg}\n"
    command = "station-coverage"
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help, --version, or a refused option (already printed)
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
        command = f"station-coverage {args.command}"
        _silence_solver_banner()
        return int(args.run(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"{command}: interrupted before the run finished; run it again for complete "
              "outputs", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # disk full, permission denied, name too long, ...
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        reason = exc.strerror or type(exc).__name__
        print(f"error: the system refused a file operation on{where or ' a file'}: {reason}. "
              "Fix: check the path, the free disk space and your permissions", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"error: {command} failed unexpectedly ({type(exc).__name__}: {exc}). This is a "
              f"bug: please report it with the command line. Set {DEBUG_ENV}=1 to see the "
              "traceback.", file=sys.stderr)
        return EXIT_BUG
    finally:
        warnings.formatwarning = plain


def _silence_solver_banner() -> None:
    """Create HiGHS's first instance with stdout closed, so its banner is never printed.

    highspy prints "Running HiGHS ..." to the C-level stdout when the first ``Highs``
    object of a process is created, before any option can turn output off.
    """
    try:
        import highspy
    except ImportError:
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


if __name__ == "__main__":
    sys.exit(main())
