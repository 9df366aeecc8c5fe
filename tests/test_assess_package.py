"""The assessment package's imports point down the pipeline only (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import coverage.assess as assess_pkg

PKG = Path(assess_pkg.__file__).parent
#: Layers above the assessment: it must not reach back up to them.
ABOVE = ("coverage.siting", "coverage.outputs", "coverage.cli", "coverage.optimise", "coverage.hydrants")


def _project_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coverage"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("coverage"))
    return found


def test_assess_modules_do_not_import_upward():
    modules = sorted(PKG.glob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        upward = {m for m in _project_imports(path) if m.startswith(ABOVE)}
        assert not upward, f"{path.name} imports {upward}"


def test_entry_point_is_importable_from_the_package():
    from coverage.assess import Assessment, DemandSet, assess

    assert callable(assess) and Assessment.__name__ == "Assessment" and DemandSet.__name__ == "DemandSet"
