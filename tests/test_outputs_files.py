"""The output layer's ground floor and its one-way imports (computation → layers → files)."""

from __future__ import annotations

import ast
from pathlib import Path

import coverage.outputs as outputs

PKG = Path(outputs.__file__).parent
# Each output module may import only the modules to its left.
ORDER = ["files", "layers", "maps", "report", "write"]


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
