"""Cold start and peak memory: `python -m app` against a bare PySide6 window started the same way.

Each run spawns a fresh interpreter with a fresh XDG_CONFIG_HOME (so the app opens its setup
wizard, as on a first run) and the same environment for both sides. The time is taken from
CLOCK_MONOTONIC, which on Linux is one clock for every process: the parent reads it just before
Popen, the child prints it when its first window gets its first Paint event (the app through
CHATLIO_SEGMENT_SETUP_EXIT_AFTER_PAINT, the floor through the same event filter), then quits.
Peak memory is the child's own ru_maxrss (VmHWM), collected with os.wait4 on that one child:
it covers start-up, the first paint and the immediate quit after it.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.common import (
    RESULTS_DIR,
    Row,
    app_root,
    child_env,
    interleaved,
    median,
    summary,
)

EXIT_AFTER_PAINT_ENV = "CHATLIO_SEGMENT_SETUP_EXIT_AFTER_PAINT"
SCREENSHOT_ENV = "CHATLIO_SEGMENT_SETUP_SCREENSHOT"

# The floor: a QWidget with a label, the wizard's size, reporting its first paint like the app.
BARE_WINDOW = """\
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

class Probe(QObject):
    seen = False

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not self.seen:
            self.seen = True
            print(f"first-paint {time.monotonic():.6f}", flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False

app = QApplication(sys.argv[:1])
window = QWidget()
QVBoxLayout(window).addWidget(QLabel("Chatlio Segment Setup"))
window.resize(800, 600)
probe = Probe()
window.installEventFilter(probe)
window.show()
sys.exit(app.exec())
"""

MB = 1_000_000


@dataclass
class Launch:
    seconds: float  # process start to first paint, child's clock reading minus parent's
    seconds_seen: float  # the same, taken when the parent read the line (cross-check)
    peak_rss_bytes: int


def command(side: str) -> list[str]:
    if side == "floor":
        return [sys.executable, "-c", BARE_WINDOW]
    return [sys.executable, "-m", "app"]


def launch(side: str, timeout: float = 60.0, screenshot: Path | None = None) -> Launch:
    with (
        tempfile.TemporaryDirectory(prefix="bench-config-") as config,
        tempfile.TemporaryFile() as stderr,
    ):
        extra = {EXIT_AFTER_PAINT_ENV: "1", "XDG_CONFIG_HOME": config}
        if screenshot is not None:
            extra[SCREENSHOT_ENV] = str(screenshot)
        env = child_env(**extra)
        started = time.monotonic()
        proc = subprocess.Popen(
            command(side), cwd=app_root(), env=env, stdout=subprocess.PIPE, stderr=stderr
        )
        painted, seen = _read_first_paint(proc, started + timeout)
        if painted is None:
            # Not proc.kill(): it polls, reaping the child before wait4 can read its usage.
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        assert proc.stdout is not None
        proc.stdout.read()
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if painted is None or proc.returncode != 0:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace").strip().splitlines()[-10:]
            raise RuntimeError(
                f"{side}: no first paint (exit {proc.returncode}):\n" + "\n".join(tail)
            )
    # Linux reports ru_maxrss in KiB.
    return Launch(painted - started, seen - started, usage.ru_maxrss * 1024)


def _read_first_paint(proc: subprocess.Popen[bytes], deadline: float) -> tuple[float | None, float]:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buffer += chunk
            for line in buffer.split(b"\n")[:-1]:
                if line.startswith(b"first-paint "):
                    return float(line.split()[1]), time.monotonic()
    return None, time.monotonic()


def run(repeats: int, say: Callable[[str], None] = print) -> list[Row]:
    """Cold start and memory rows, from the same `repeats` interleaved pairs of launches.

    The cold-start ratio is the median of the pairs' ratios (see Row.paired_ratio); the
    memory difference is between the medians (peak memory does not drift with CPU speed).
    """
    times: dict[str, list[float]] = {"floor": [], "app": []}
    seen: dict[str, list[float]] = {"floor": [], "app": []}
    peaks: dict[str, list[float]] = {"floor": [], "app": []}
    start_row = Row(
        "cold_start",
        "Cold start to first paint",
        "s",
        "ratio",
        1.25,
        floor_name="bare QWidget + QLabel",
    )
    memory_row = Row(
        "memory",
        "Peak RSS at first page",
        "MB",
        "difference",
        25.0,
        floor_name="bare QWidget + QLabel",
    )
    try:
        # One discarded pair warms the page cache, .pyc files and fontconfig's cache; the app's
        # warm-up run also saves a screenshot of what it painted first, as evidence.
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        launch("floor")
        launch("app", screenshot=RESULTS_DIR / "first-paint.png")
        for index, floor_first in interleaved(repeats):
            for side in ("floor", "app") if floor_first else ("app", "floor"):
                result = launch(side)
                times[side].append(result.seconds)
                seen[side].append(result.seconds_seen)
                peaks[side].append(result.peak_rss_bytes / MB)
            say(
                f"  start {index + 1}/{repeats}: floor {times['floor'][-1]:.3f} s "
                f"{peaks['floor'][-1]:.1f} MB, app {times['app'][-1]:.3f} s "
                f"{peaks['app'][-1]:.1f} MB"
            )
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        start_row.error = memory_row.error = str(error)
        return [start_row, memory_row]
    start_row.floor, start_row.app = median(times["floor"]), median(times["app"])
    pairs = [app / floor for app, floor in zip(times["app"], times["floor"], strict=True)]
    start_row.paired_ratio = median(pairs)
    start_row.samples = times
    start_row.details = {
        "ratio_of_medians": start_row.app / start_row.floor,
        "best_of_n_ratio": min(times["app"]) / min(times["floor"]),
        "paired_ratios": pairs,
        "floor": summary(times["floor"]),
        "app": summary(times["app"]),
        "parent_read_median": {side: median(values) for side, values in seen.items()},
        "commands": {"floor": "python -c <bare window>", "app": "python -m app"},
        "screenshot": str(RESULTS_DIR / "first-paint.png"),
    }
    memory_row.floor, memory_row.app = median(peaks["floor"]), median(peaks["app"])
    memory_row.samples = peaks
    memory_row.details = {"floor": summary(peaks["floor"]), "app": summary(peaks["app"])}
    return [start_row, memory_row]
