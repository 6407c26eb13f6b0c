"""Loading the scripts in packaging/, which is a folder of scripts and not a package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


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
