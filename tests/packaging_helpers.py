"""Loading the scripts in packaging/, which is a folder of scripts and not a package."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "chatlio-segment-setup.spec"


def load(path: str) -> ModuleType:
    """packaging/<path>.py as a module, e.g. load("build") or load("macos/dmg").

    Not imported by name: packaging/ on sys.path as a package would shadow PyPI's `packaging`.
    Its folder goes first on sys.path, as when the script runs, so its own imports of sibling
    scripts work.
    """
    if str(PACKAGING) not in sys.path:
        sys.path.insert(0, str(PACKAGING))
    name = "_packaging_" + path.replace("/", "_")
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{path}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class _Target:
    """A stand-in for PyInstaller's Analysis, PYZ, EXE, COLLECT and BUNDLE: records its call."""

    calls: ClassVar[list[tuple[str, dict[str, Any]]]] = []
    binaries_found: ClassVar[list[tuple[str, str, str]]] = []

    def __init__(self, *_args: object, **kwargs: Any) -> None:
        self.calls.append((type(self).__name__, kwargs))
        analysis = type(self).__name__ == "Analysis"
        self.binaries: list[tuple[str, str, str]] = list(self.binaries_found) if analysis else []
        self.datas: list[object] = []
        self.pure: list[object] = []
        self.scripts: list[object] = []


def run_spec_as_on(
    platform: str,
    workpath: Path,
    monkeypatch: pytest.MonkeyPatch,
    binaries: Sequence[tuple[str, str, str]] = (),
) -> list[tuple[str, dict[str, Any]]]:
    """The spec run as PyInstaller runs it on `platform` ("linux", "win32" or "darwin"), its
    Analysis finding `binaries`; returns each PyInstaller call (EXE, BUNDLE, ...) with its
    keyword arguments."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec prepends its folders
    source = SPEC.read_text()
    constants = {
        'LINUX = sys.platform.startswith("linux")': f"LINUX = {platform == 'linux'}",
        'WINDOWS = sys.platform == "win32"': f"WINDOWS = {platform == 'win32'}",
        'MACOS = sys.platform == "darwin"': f"MACOS = {platform == 'darwin'}",
    }
    for line, replacement in constants.items():
        assert line in source
        source = source.replace(line, replacement)
    _Target.calls = []
    _Target.binaries_found = list(binaries)
    names = ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")
    namespace: dict[str, Any] = {
        "SPECPATH": str(PACKAGING),
        "workpath": str(workpath),
        **{name: type(name, (_Target,), {}) for name in names},
    }
    exec(compile(source, str(SPEC), "exec"), namespace)
    return list(_Target.calls)
