"""The output layer's ground floor and its one-way imports (computation → layers → files)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

import coverage.outputs as outputs

PKG = Path(outputs.__file__).parent
# Each output module may import only the modules to its left.
ORDER = ["files", "words", "summary", "layers", "maps", "report", "write"]


def _project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coverage"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("coverage")}
    return found


def test_files_imports_nothing_of_the_project():
    assert _project_imports(PKG / "files.py") == set()
    assert _project_imports(PKG / "words.py") == set()


def test_every_output_module_has_its_place():
    assert sorted(p.stem for p in PKG.glob("*.py") if p.stem != "__init__") == sorted(ORDER)


def test_output_modules_import_one_way():
    for i, name in enumerate(ORDER):
        later = {f"coverage.outputs.{m}" for m in ORDER[i + 1:]}
        assert not (_project_imports(PKG / f"{name}.py") & later), name


def test_atomic_write_leaves_target_untouched_on_error(tmp_path):
    from coverage.outputs.files import atomic_path

    target = tmp_path / "a.txt"
    target.write_text("old")
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    except RuntimeError:
        pass
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def _previous_run(folder):
    folder.mkdir()
    (folder / "summary.json").write_text('{"run": "old"}')
    (folder / "map.html").write_text("old map")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_run_folder_swaps_the_whole_run_in(tmp_path):
    from coverage.outputs.files import run_folder

    out = tmp_path / "out"
    _previous_run(out)
    with run_folder(out) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".out.") and tmp != out
        (tmp / "summary.json").write_text('{"run": "new"}')
    assert _snapshot(out) == {"summary.json": b'{"run": "new"}'}  # nothing of the old run is left
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failed_or_interrupted_run_leaves_the_previous_run(tmp_path):

    from coverage.outputs.files import run_folder

    out = tmp_path / "out"
    before = _previous_run(out)
    for exc in (RuntimeError("solver crashed"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), run_folder(out) as tmp:
            (tmp / "summary.json").write_text('{"run": "half"}')
            raise exc
        assert _snapshot(out) == before
        assert [p.name for p in tmp_path.iterdir()] == ["out"]
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError), run_folder(fresh) as tmp:
        (tmp / "summary.json").write_text("{}")
        raise RuntimeError
    assert not fresh.exists()


_SIGTERM_CHILD = r"""
import sys, geopandas as gpd, numpy as np
from pathlib import Path

import pytest
from coverage.outputs.files import run_folder, write_json
from coverage.outputs.layers import write_geopackage
out = Path(sys.argv[1])
rng = np.random.default_rng(0)
pts = gpd.GeoDataFrame({"v": np.arange(20_000)}, geometry=gpd.points_from_xy(
    rng.uniform(106.4, 106.6, 20_000), rng.uniform(29.5, 29.6, 20_000)), crs=4326)
with run_folder(out) as tmp:
    write_json({"run": "new"}, tmp / "summary.json")
    write_geopackage({f"layer_{i}": pts for i in range(400)}, tmp / "layers.gpkg")
"""


def test_sigterm_during_the_geopackage_write_leaves_the_previous_run_and_no_temp_files(tmp_path):
    """Regression: SIGTERM during the GeoPackage write left hidden temporary files."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    before = _previous_run(out)
    child = subprocess.Popen([sys.executable, "-c", _SIGTERM_CHILD, str(out)], cwd=PKG.parents[1],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.*.partial/.layers.gpkg.*")):
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline, "the GeoPackage write never started"
        time.sleep(0.02)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 128 + signal.SIGTERM, err.decode()
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert _snapshot(out) == before


def test_check_outputs_refuses_what_a_run_would_destroy(tmp_path):

    from coverage.errors import InputError
    from coverage.outputs.write import check_outputs, option_paths

    data = tmp_path / "project"
    (data / "inputs").mkdir(parents=True)
    stations = data / "inputs" / "stations.geojson"
    stations.write_text("{}")
    # An input anywhere below the output folder, or the folder itself, is refused.
    for out in (data, tmp_path, data / "inputs"):
        with pytest.raises(InputError, match="input of this run"):
            check_outputs(out, [stations])
    # A folder of other files would be wiped by the swap: refused.
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="holds other files"):
        check_outputs(other, [])
    with pytest.raises(InputError, match="empty"):
        check_outputs("", [])
    with pytest.raises(InputError, match="current folder"):
        check_outputs(".", [])
    with pytest.raises(InputError, match="is a file"):
        check_outputs(stations, [])
    with pytest.raises(InputError, match="cannot write"):
        check_outputs("/proc/station-coverage-out", [])
    with pytest.raises(InputError, match="too long"):
        check_outputs(tmp_path / ("x" * 300), [])
    readonly = tmp_path / "readonly"
    readonly.mkdir(mode=0o555)
    if not os.access(readonly, os.W_OK):  # root may write anywhere
        with pytest.raises(InputError, match="cannot write"):
            check_outputs(readonly / "out", [])
    # New, empty and earlier-run folders are fine; nothing is created yet.
    assert check_outputs(tmp_path / "new", [stations]) == tmp_path / "new"
    assert not (tmp_path / "new").exists()
    # Every option naming a path counts as an input, whatever the option.
    options = {"exclusions": str(stations), "place": "Yuzhong, Chongqing", "out": str(tmp_path / "o"),
               "new": 3, "cache_dir": data}
    assert option_paths(options) == [stations, data]


def test_run_folder_clears_what_killed_runs_left(tmp_path):
    """Regression: a run killed by SIGKILL left ``.out.*.partial`` beside the output for good."""
    from coverage.outputs.files import run_folder

    out = tmp_path / "out"
    dead = 4_194_304 + 7  # above Linux's pid_max: no such process
    unfinished = tmp_path / f".out.{dead}.x1.partial"
    unfinished.mkdir()
    (unfinished / "summary.json").write_text("{}")
    moved_aside = tmp_path / f".out.{dead}.x2.old"  # killed between the swap's two renames
    moved_aside.mkdir()
    (moved_aside / "summary.json").write_text('{"run": "previous"}')
    live = tmp_path / f".out.{os.getpid()}.x3.partial"  # another run writing now
    live.mkdir()
    unrelated = tmp_path / ".out.notes.partial"
    unrelated.mkdir()

    with run_folder(out) as tmp:
        # The previous complete run is back in place before the new one is written.
        assert (out / "summary.json").read_text() == '{"run": "previous"}'
        (tmp / "summary.json").write_text('{"run": "new"}')
    assert (out / "summary.json").read_text() == '{"run": "new"}'
    assert not unfinished.exists() and not moved_aside.exists()
    assert live.exists() and unrelated.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out", live.name, unrelated.name])


def test_longest_accepted_output_name_can_be_written(tmp_path):
    """The length check leaves room for the temporary ``.<name>.<pid>.<random>.partial`` name."""
    from coverage.errors import InputError
    from coverage.outputs.files import run_folder
    from coverage.outputs.write import check_outputs

    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    longest = tmp_path / ("x" * (limit - 26))
    assert check_outputs(longest, []) == longest
    with run_folder(longest) as tmp:
        (tmp / "summary.json").write_text("{}")
    assert (longest / "summary.json").exists()
    with pytest.raises(InputError, match="too long"):
        check_outputs(tmp_path / ("x" * (limit - 25)), [])
