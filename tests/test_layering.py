"""The core never imports Qt: only app/ui does, and only the entry points reach into app/ui."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
UI = APP / "ui"
# The two faces' composition roots: they start the GUI, or run its self-check, on demand.
MAY_IMPORT_UI = {APP / "__main__.py", APP / "selftest.py"}


def _imported_modules(path: Path) -> set[str]:
    """Every module an `import` names anywhere in the file, inside functions too."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _core_files() -> list[Path]:
    return sorted(path for path in APP.rglob("*.py") if UI not in path.parents)


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def test_no_core_module_imports_qt_even_lazily() -> None:
    offenders = {
        path.relative_to(APP.parent).as_posix(): sorted(
            name for name in _imported_modules(path) if _is_within(name, "PySide6")
        )
        for path in _core_files()
    }

    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_the_entry_points_reach_into_the_ui() -> None:
    offenders = [
        path.relative_to(APP.parent).as_posix()
        for path in _core_files()
        if path not in MAY_IMPORT_UI
        and any(_is_within(name, "app.ui") for name in _imported_modules(path))
    ]

    assert offenders == []


def test_importing_every_core_module_loads_no_qt() -> None:
    modules = [
        ".".join(path.relative_to(APP.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in _core_files()
        if path.name != "__main__.py"
    ]
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'PySide6')))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert "app.segment.client" in modules
    assert json.loads(result.stdout) == []
