"""Package size: the one-folder build and the .deb against a naive build, as packaging/build.py
left them. Nothing is built here.

`python packaging/build.py` writes build/sizes-release.json and `--naive` writes
build/sizes-naive.json ({"folder", "folder_bytes", "artifacts": {name: bytes}}); those are read
first. Without them, the one-folder directories (PyInstaller's `_internal` inside) and .deb files
under dist/ and build/ are measured, "naive" in the path marking the naive build. Paths can
also be given. Missing artifacts are reported as "not built".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.benchmarks.common import ROOT, Row

MB = 1_000_000
NOT_BUILT = "not built"
BUILD = ROOT / "build"


def tree_size(path: Path) -> int:
    """Bytes in regular files under `path`, symlinks not followed (as they would be packed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _report(kind: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((BUILD / f"sizes-{kind}.json").read_text())
    except (OSError, ValueError):
        return None
    return data


def _is_naive(path: Path) -> bool:
    return "naive" in str(path.relative_to(ROOT)).lower()


def _glob(pattern: str, naive: bool) -> Path | None:
    for base in (ROOT / "dist", BUILD):
        for depth in ("", "*/", "*/*/"):
            for path in sorted(base.glob(depth + pattern)) if base.is_dir() else []:
                if _is_naive(path) == naive:
                    return path
    return None


def _measure(kind: str, given_folder: Path | None, given_deb: Path | None) -> dict[str, Any]:
    """{"folder": (path, bytes) | None, "deb": (path, bytes) | None, "source": ...}."""
    naive = kind == "naive"
    report = _report(kind)
    found: dict[str, Any] = {"folder": None, "deb": None, "source": "measured on disk"}
    if report is not None and given_folder is None and given_deb is None:
        found["source"] = f"build/sizes-{kind}.json"
        found["folder"] = (report["folder"], int(report["folder_bytes"]))
        debs = {k: v for k, v in report.get("artifacts", {}).items() if k.endswith(".deb")}
        if debs:
            name, size = next(iter(debs.items()))
            found["deb"] = (name, int(size))
        found["other_artifacts"] = report.get("artifacts", {})
        return found
    internal = _glob("*/_internal", naive)
    folder = given_folder or (internal.parent if internal is not None else None)
    deb = given_deb or _glob("*.deb", naive)
    if folder is not None and folder.exists():
        found["folder"] = (str(folder), tree_size(folder))
    if deb is not None and deb.exists():
        found["deb"] = (str(deb), deb.stat().st_size)
    return found


def _fill(row: Row, part: str, release: dict[str, Any], naive: dict[str, Any]) -> Row:
    built, baseline = release[part], naive[part]
    if built is None:
        row.error = NOT_BUILT
        return row
    row.app = built[1] / MB
    row.details = {"built": built[0], "source": release["source"]}
    if "other_artifacts" in release:
        row.details["artifacts_bytes"] = release["other_artifacts"]
    if baseline is None:
        row.details["naive"] = NOT_BUILT
    else:
        row.floor = baseline[1] / MB
        row.details.update(naive=baseline[0], naive_source=naive["source"])
    return row


def run(
    onefolder: Path | None = None,
    deb: Path | None = None,
    naive_onefolder: Path | None = None,
    naive_deb: Path | None = None,
) -> list[Row]:
    release = _measure("release", onefolder, deb)
    naive = _measure("naive", naive_onefolder, naive_deb)
    folder_row = Row(
        "package_onefolder",
        "Package: one-folder build",
        "MB",
        "ratio",
        None,
        floor_name="naive build (packaging/build.py --naive)",
    )
    deb_row = Row(
        "package_deb",
        "Package: .deb",
        "MB",
        "ratio",
        None,
        floor_name="naive build's .deb",
    )
    return [_fill(folder_row, "folder", release, naive), _fill(deb_row, "deb", release, naive)]
