"""The command line's options: help text, documented flags, refused values, exit codes.

Everything here is parsed in-process through ``coverage.cli.main`` and stops before
any network is loaded, so the file runs in seconds.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from coverage.cli import build_parser, main
from coverage.cli.common import TILES, Steps

REPO = Path(__file__).resolve().parents[1]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    return dict(build_parser()._subparsers._group_actions[0].choices)


def test_every_option_of_every_subcommand_has_help_text():
    """Issue 9: site --standard/--solver/--out had no help text."""
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, parser in _subparsers().items()
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert not missing


def test_help_texts_show_no_doubled_percent_signs():
    """Issue 9: hydrants --help showed "98 %%" (argparse leaves %% in descriptions)."""
    for name, parser in _subparsers().items():
        text = parser.format_help()
        assert "%%" not in text, name
    assert "98 %" in _subparsers()["hydrants"].format_help()


def test_every_flag_the_readme_shows_is_accepted():
    """Issue 9: the README documented --tiles, which the CLI rejected."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    known = {opt for p in _subparsers().values() for a in p._actions for opt in a.option_strings}
    for script in [*REPO.glob("scripts/*.py"), *REPO.glob("benchmarks/*.py")]:  # their own flags
        known |= set(re.findall(r"add_argument\(\s*\"(--[a-z0-9-]+)\"", script.read_text(encoding="utf-8")))
    shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", readme))
    assert "--tiles" in shown
    assert shown <= known, sorted(shown - known)


def test_tiles_choices_are_the_basemaps_the_maps_know():
    from coverage.outputs.maps import BASEMAPS

    assert set(TILES) == set(BASEMAPS)


SITE = ["site", "--osm", "x.osm", "--stations", "s.geojson"]
ASSESS = ["assess", "--osm", "x.osm", "--stations", "s.geojson"]
HYDRANTS = ["hydrants", "--osm", "x.osm"]


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (SITE + ["--new", "-1", "--out", "o"], "--new"),
        (SITE + ["--new", "100000", "--out", "o"], "--new"),
        (SITE + ["--new", "two", "--out", "o"], "--new"),
        (SITE + ["--time-limit", "-5", "--out", "o"], "--time-limit"),
        (SITE + ["--time-limit", "nan", "--out", "o"], "--time-limit"),
        (SITE + ["--mip-gap", "2", "--out", "o"], "--mip-gap"),
        (ASSESS + ["--step-m", "inf", "--out", "o"], "--step-m"),
        (ASSESS + ["--step-m", "0", "--out", "o"], "--step-m"),
        (ASSESS + ["--breaks-min", "-1", "--out", "o"], "--breaks-min"),
        (ASSESS + ["--breaks-min", "nan", "--out", "o"], "--breaks-min"),
        (ASSESS + ["--signal-delay-s", "1e308", "--out", "o"], "--signal-delay-s"),
        (ASSESS + ["--buffer-m", "-10", "--out", "o"], "--buffer-m"),
        (ASSESS + ["--congestion", "0.5", "--out", "o"], "--congestion"),
        (ASSESS + ["--crs", "EPSG:4326", "--out", "o"], "--crs"),
        (ASSESS + ["--crs", "not-a-crs", "--out", "o"], "--crs"),
        (ASSESS + ["--out", ""], "--out"),
        (ASSESS + ["--out", "/proc/station-coverage"], "--out"),
        (ASSESS + ["--out", "x" * 300], "--out"),
        (HYDRANTS + ["--propose", "--budget", "0", "--out", "o"], "--budget"),
        (HYDRANTS + ["--time-limit", "0", "--out", "o"], "--time-limit"),
    ],
)
def test_absurd_option_values_are_refused_naming_the_flag_and_a_fix(argv, flag, capsys, tmp_path,
                                                                      monkeypatch):
    """Issue 9: --new 100000, --step-m inf, --breaks-min -1/nan, --out '' ... were accepted."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and "Fix:" in err and "Traceback" not in err


def test_read_only_out_folder_is_refused_before_any_work(tmp_path, capsys):
    import os

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        assert main(ASSESS + ["--out", str(folder / "run")]) == 2
        err = capsys.readouterr().err
        assert "argument --out" in err and "permission" in err
    finally:
        folder.chmod(0o700)


def test_missing_input_names_the_option(tmp_path, capsys):
    assert main(ASSESS + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--osm" in err and "does not exist" in err and "Fix:" in err
    assert not (tmp_path / "o").exists()


def test_help_and_version_return_zero_rather_than_exit(capsys):
    assert main(["--version"]) == 0
    assert main(["site", "--help"]) == 0
    assert main(["no-such-command"]) == 2


def test_steps_print_one_line_per_step_off_a_terminal():
    """Issue 9: progress piped to a file was a wall of \\r frames."""
    import io

    log = io.StringIO()
    with Steps(["road network", "stations", "outputs"], desc="assess", stream=log) as bar:
        bar.next()
        bar.next()
        bar.next()
    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == [
        "assess [1/3] road network", "assess [2/3] stations", "assess [3/3] outputs"]


def test_unexpected_errors_are_one_line_not_a_traceback(monkeypatch, capsys):
    import coverage.cli.report as report

    def boom(args):
        raise RuntimeError("something inside a library")

    monkeypatch.setattr(report, "run", boom)
    assert main(["report", "somewhere"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bug" in err and "something inside a library" in err


def test_ctrl_c_is_a_plain_message_and_exit_130(monkeypatch, capsys):
    import coverage.cli.report as report

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "run", interrupted)
    assert main(["report", "somewhere"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


def test_solver_banner_does_not_reach_stdout(capfd):
    """Issue 9: "Running HiGHS 1.16.0 ..." was printed into the user's stdout."""
    import subprocess
    import sys

    code = ("from coverage.cli import _silence_solver_banner as s; s(); import highspy; "
            "highspy.Highs(); print('done')")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "done"


def test_no_solution_is_a_non_zero_exit(capsys):
    """Issue 9: --time-limit 0.001 ending in status 'error' exited 0."""
    from coverage.cli.common import EXIT_NO_SOLUTION, exit_code_for

    assert exit_code_for("optimal", what="m") == 0
    assert exit_code_for("feasible", what="m") == 0
    for status in ("error", "infeasible", "unbounded"):
        assert exit_code_for(status, what="the pcenter model", message="no time") == EXIT_NO_SOLUTION
        assert f"status '{status}'" in capsys.readouterr().err


def test_ctrl_c_one_second_in_exits_130_without_a_traceback(tmp_path):
    """Issue 9: Ctrl-C one second into a run printed a traceback."""
    import signal
    import subprocess
    import sys
    import time

    from fuzz_inputs import write_valid_case

    paths = write_valid_case(tmp_path / "in")
    argv = [sys.executable, "-m", "coverage.cli", "assess", "--osm", str(paths["osm"]),
            "--boundary", str(paths["boundary"]), "--stations", str(paths["stations"]),
            "--no-cache", "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err + out
    if proc.returncode == 0:  # finished within the second on a fast machine
        return
    assert proc.returncode == 130 and "interrupted" in err


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The tiny generated grid of the fuzz suite, with a graph cache."""
    from fuzz_inputs import write_valid_case

    root = tmp_path_factory.mktemp("generated")
    paths = write_valid_case(root / "in")
    common = ["--osm", str(paths["osm"]), "--boundary", str(paths["boundary"]),
              "--cache-dir", str(root / "cache"), "--buffer-m", "100"]
    return root, paths, common


def test_stations_osm_offline_is_a_clear_error(generated, monkeypatch, capsys, tmp_path):
    """Issue 9: --stations osm without a network gave a traceback."""
    import requests

    import coverage.osm_features as features

    def offline(area):
        raise requests.exceptions.ConnectionError("Max retries exceeded")

    monkeypatch.setattr(features, "fire_stations_from_osm", offline)
    _, _, common = generated
    assert main(["assess", *common, "--stations", "osm", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--stations osm" in err and "internet" in err and "Traceback" not in err


def test_more_new_sites_than_candidates_names_new(generated, capsys, tmp_path):
    _, paths, common = generated
    assert main(["site", *common, "--stations", str(paths["stations"]), "--model", "mclp",
                 "--new", "900", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "--new 900" in err and "candidate site(s)" in err and "Fix:" in err


def test_a_run_without_an_answer_exits_non_zero(generated, capsys, tmp_path):
    """Issue 9: --time-limit 0.001 ended in status 'error' and exited 0."""
    import json

    _, paths, common = generated
    out = tmp_path / "o"
    code = main(["site", *common, "--stations", str(paths["stations"]), "--model", "pcenter",
                 "--new", "1", "--time-limit", "0.001", "--out", str(out)])
    status = json.loads((out / "summary.json").read_text(encoding="utf-8"))["status"]
    assert code == (0 if status in ("optimal", "feasible") else 3)
    if code:
        assert f"status '{status}'" in capsys.readouterr().err


def test_report_refuses_wrong_types_a_folder_and_its_own_summary(tmp_path, capsys):
    """Issue 9: report onto a directory, or from a summary with wrong types, gave tracebacks."""
    import json

    run = tmp_path / "run"
    run.mkdir()
    summary = run / "summary.json"
    summary.write_text(json.dumps({"standard": "gb51080", "coverage_share": "most",
                                   "stations": []}), encoding="utf-8")
    assert main(["report", str(run)]) == 2
    assert "coverage_share" in capsys.readouterr().err
    summary.write_text(json.dumps({"standard": "gb51080", "stations": "S1"}), encoding="utf-8")
    assert main(["report", str(run)]) == 2
    (run / "folder.html").mkdir()
    before = summary.read_bytes()
    assert main(["report", str(run), "--out", str(run / "folder.html")]) == 2
    assert main(["report", str(run), "--out", str(summary)]) == 2
    assert summary.read_bytes() == before
    assert "would overwrite an input" in capsys.readouterr().err


@pytest.mark.parametrize("value", ['["two", "three"]', "[[2, 3]]", "[]", "[-1]", "[nan]", '"2 3"'])
def test_scenario_breaks_min_with_strings_nesting_or_nothing_is_refused(generated, tmp_path, value):
    """Issue 9: breaks_min with strings, nesting or nothing in the TOML gave tracebacks."""
    from coverage.cli.plan import load_scenario
    from coverage.errors import InputError

    _, paths, _ = generated
    path = tmp_path / "generated_scenario.toml"
    path.write_text(f'[data]\nosm = "{paths["osm"]}"\nstations = "{paths["stations"]}"\n'
                    f"[assess]\nbreaks_min = {value}\n", encoding="utf-8")
    with pytest.raises(InputError, match="breaks_min") as err:
        load_scenario(path)
    assert "generated_scenario.toml" in str(err.value) and "Fix:" in str(err.value)
