"""What every benchmark shares: result rows, statistics, machine facts, running worker processes."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = ROOT / "build" / "benchmarks"
# Where the measured `app` package is imported from: this checkout, or (BENCH_APP_ROOT, set by
# --app-root) a patched copy, to try a fix with the same harness before changing the app.
APP_ROOT_ENV = "BENCH_APP_ROOT"


def app_root() -> Path:
    return Path(os.environ.get(APP_ROOT_ENV) or ROOT).resolve()


TIMES = "\u00d7"  # the multiplication sign, for ratios


@dataclass
class Row:
    """One line of the results table: the app against its floor, and the target it must meet.

    `compare` is "ratio" (app / floor must be at most `limit`), "difference" (app - floor must
    be at most `limit`), "absolute" (app must be at most `limit`) or "report" (no target).
    """

    id: str
    name: str
    unit: str
    compare: str
    limit: float | None
    floor: float | None = None
    app: float | None = None
    floor_name: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # The median of per-pair ratios, when app and floor were measured in adjacent pairs: it
    # follows a machine whose speed drifts during the run better than a ratio of medians.
    paired_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.paired_ratio is not None:
            return self.paired_ratio
        if self.app is None or not self.floor:
            return None
        return self.app / self.floor

    @property
    def difference(self) -> float | None:
        if self.app is None or self.floor is None:
            return None
        return self.app - self.floor

    @property
    def passed(self) -> bool | None:
        """True or False against the target; None when there is no target or no figure."""
        if self.error is not None or self.limit is None or self.app is None:
            return None
        measured = {
            "ratio": self.ratio,
            "difference": self.difference,
            "absolute": self.app,
        }.get(self.compare)
        return None if measured is None else measured <= self.limit

    def target_text(self) -> str:
        if self.limit is None:
            return "report only"
        return {
            "ratio": f"≤ {self.limit:g}{TIMES}",
            "difference": f"≤ +{self.limit:g} {self.unit}",
            "absolute": f"≤ {self.limit:g} {self.unit}",
        }.get(self.compare, "")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ratio=self.ratio, difference=self.difference, passed=self.passed)
        data["target"] = self.target_text()
        return data


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def interleaved(pairs: int) -> list[tuple[int, bool]]:
    """(round, floor_first) for ABBA ordering: drift and warm caches hit both sides alike."""
    return [(i, i % 2 == 0) for i in range(pairs)]


# --- the machine ------------------------------------------------------------------------------


def _first_line_with(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line
    except OSError:
        return None
    return None


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _git(*args: str) -> str | None:
    """Read-only git queries (commit, dirty state) so a figure can be traced to its source."""
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def machine_info() -> dict[str, Any]:
    mem_kib = _first_line_with("/proc/meminfo", "MemTotal")
    status = _git("status", "--porcelain")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": _first_line_with("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory": mem_kib,
        "os": _os_name(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pyside6": _version("PySide6-Essentials") or _version("PySide6"),
        "httpx": _version("httpx"),
        "keyring": _version("keyring"),
        # Other work on the machine skews every figure: this is the load when the run began.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
        "display": os.environ.get("DISPLAY", ""),
        "xvfb": os.environ.get("BENCH_XVFB", "") == "1",
        "app_root": str(app_root()),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }


# --- worker processes -------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment; with another app root, `tests` still comes from here."""
    env = dict(os.environ)
    if app_root() != ROOT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_worker(module: str, *args: str, timeout: float = 300, **env: str) -> dict[str, Any]:
    """Run `python -m module args` from the repository root; its last stdout line is JSON."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=app_root(),
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        raise RuntimeError(
            f"{module} {' '.join(args)} exited {done.returncode} after "
            f"{time.monotonic() - started:.1f} s:\n" + "\n".join(tail)
        )
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def emit(result: dict[str, Any]) -> None:
    """What a worker process hands back: one JSON line on stdout."""
    print(json.dumps(result), flush=True)
