"""Responsiveness: the longest gap between ticks of a 10 ms GUI-thread timer while the app works.

Each scenario runs in a fresh process (`python -m tests.benchmarks.responsiveness SCENARIO`), so
that lazy imports (httpx, keyring) happen as on a user's first click, and drives the app's own
widgets and session:

- idle: the test panel on screen, nothing to do; the floor (this machine's timer jitter).
- sandbox_slow: SendPanel.send_conversation() to the app's sandbox answering each event after
  2 s (Sandbox.set_delay), until the panel's finished signal.
- blackhole_cancel: the same to an address that accepts connections and never answers (a
  listening socket nobody accepts from); on_stop_clicked() after 3 s, until finished.
- keyring_slow: the write key saved through KeyEntry's Save button (the wizard's write key
  page), then read back through MainWindow.load_key(), with the app's KeyStore on a keyring
  that takes 2 s per call (tests.benchmarks.slow_keyring, chosen through
  PYTHON_KEYRING_BACKEND, so the app imports and detects keyring itself, off the GUI thread,
  as it does for a user).
- confirm_poll: after a conversation to the app's sandbox with a Chatlio source, the panel
  confirms arrival at the app's default pacing (Segment's count polled every 5 s, for up to
  3 min), the sandbox counting each event only COUNT_DELAY_S after it arrived (as Segment does
  about 30 s later); until the verdict is on the record. Beside the gap it reports the Public
  API requests of the poll (the sandbox's on_request, so it counts what really arrived) and
  how long after the count was there the verdict came.

The timer is a Qt PreciseTimer; a gap is the time between two consecutive ticks. With --stacks a
sampler thread records the GUI thread's Python stack whenever a tick is 30 ms late, and the
report names the most frequent stack inside the worst gap.
"""

from __future__ import annotations

import collections
import itertools
import os
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.benchmarks.common import Row, emit, run_worker
from tests.benchmarks.slow_keyring import BACKEND_NAME, DELAY_ENV

MODULE = "tests.benchmarks.responsiveness"
KEY = "BenchWriteKey0123456789abcdefXYZ"  # 32 letters and digits, like a Segment write key
TARGET_MS = 50.0
SCENARIOS = ("idle", "sandbox_slow", "blackhole_cancel", "keyring_slow", "confirm_poll")
TITLES = {
    "sandbox_slow": "GUI gap: conversation to a sandbox answering in 2 s",
    "blackhole_cancel": "GUI gap: conversation to a silent address, cancel after 3 s",
    "keyring_slow": "GUI gap: save + read the key, keyring taking 2 s",
    "confirm_poll": "GUI gap: confirming arrival, polling every 5 s for a count due in 12 s",
}
# The confirm_poll scenario: the sandbox's count lags arrival by this much (Segment's ~30 s).
COUNT_DELAY_S = 12.0
POLL_WINDOW_S = 5.0  # at most one Public API request per this many seconds while polling
# The sandbox logs a request once answered, on a thread of its own: its times jitter by a few
# ms around the requests' 5 s spacing, so the window checked is this much shorter.
LOG_SLACK_S = 0.05
ADDED_LATENCY_S = 10.0  # the verdict at most this long after Segment's count covers the send


# --- in the worker process --------------------------------------------------------------------


class TickMonitor:
    """Records every tick of a 10 ms PreciseTimer on the GUI thread, and labelled moments."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.ticks: list[float] = []
        self.moments: list[tuple[float, str]] = []
        self.samples: list[tuple[float, tuple[str, ...]]] = []
        self._sampling = False

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def start(self, stacks: bool = False) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()
        if stacks:
            self._sampling = True
            main = threading.main_thread().ident
            threading.Thread(target=self._sample, args=(main,), daemon=True).start()

    def stop(self) -> None:
        self.timer.stop()
        self._sampling = False

    def note(self, label: str) -> None:
        self.moments.append((time.perf_counter(), label))

    def _sample(self, main: int | None) -> None:
        while self._sampling:
            time.sleep(0.005)
            now = time.perf_counter()
            if now - self.ticks[-1] > 0.030:
                frame = sys._current_frames().get(main or 0)
                if frame is not None:
                    stack = traceback.format_stack(frame, limit=12)
                    self.samples.append((now, tuple(line.strip() for line in stack)))

    def report(self) -> dict[str, Any]:
        ticks = self.ticks
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        if not gaps:
            return {"max_gap_ms": None, "ticks": len(ticks)}
        worst = max(range(len(gaps)), key=gaps.__getitem__)
        begin, end = ticks[worst], ticks[worst + 1]
        ordered = sorted(gaps)
        moments = [(round((t - ticks[0]) * 1000, 1), label) for t, label in self.moments]
        result: dict[str, Any] = {
            "max_gap_ms": round(gaps[worst] * 1000, 2),
            "p99_gap_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2),
            "median_gap_ms": round(ordered[len(ordered) // 2] * 1000, 2),
            "gaps_over_target": sum(gap * 1000 > TARGET_MS for gap in gaps),
            "ticks": len(ticks),
            "duration_s": round(ticks[-1] - ticks[0], 3),
            "worst_gap_at_ms": round((begin - ticks[0]) * 1000, 1),
            "moments_ms": moments,
        }
        inside = [stack for when, stack in self.samples if begin <= when <= end]
        if inside:
            stack, count = collections.Counter(inside).most_common(1)[0]
            result["worst_gap_stack"] = {"samples": count, "frames": list(stack)}
        return result


def run_loop(until: Callable[[], bool] | None, timeout: float) -> bool:
    """Run the Qt event loop until `until()` is true (checked every 20 ms) or `timeout` passes."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    deadline = time.perf_counter() + timeout
    met = [False]

    def check() -> None:
        if until is not None and until():
            met[0] = True
            loop.quit()
        elif time.perf_counter() >= deadline:
            loop.quit()

    poll = QTimer()
    poll.setInterval(20)
    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    return met[0]


def _settle() -> None:
    run_loop(None, 0.4)


def _dispose(*widgets: Any) -> None:
    """Delete top-level widgets while Qt still runs (left to exit, their teardown can crash)."""
    for widget in widgets:
        widget.close()
        widget.deleteLater()
    run_loop(None, 0.1)


@contextmanager
def blackhole() -> Iterator[int]:
    """A loopback port that accepts TCP connections (the kernel's backlog) and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()


def scenario_idle(tmp: Path, monitor: TickMonitor, stacks: bool) -> dict[str, Any]:
    from app.ui.send_panel import SendPanel
    from tests.gui_helpers import make_session

    session = make_session(tmp)
    panel = SendPanel(session)
    panel.resize(1000, 700)
    panel.show()
    _settle()
    monitor.start(stacks)
    run_loop(None, 3.0)
    monitor.stop()
    _dispose(panel)
    session.close()
    return {"valid": True, "driver": "SendPanel shown, idle"}


def _send_and_wait(
    panel: Any, monitor: TickMonitor, stacks: bool, cancel_after: float | None
) -> tuple[list[Any] | None, float | None]:
    from PySide6.QtCore import QTimer

    finished: list[list[Any]] = []
    panel.finished.connect(lambda results: finished.append(list(results)))
    cancelled_at: list[float] = []

    def cancel() -> None:
        monitor.note("cancel")
        cancelled_at.append(time.perf_counter())
        panel.on_stop_clicked()

    monitor.start(stacks)
    run_loop(None, 0.2)
    monitor.note("send")
    panel.send_conversation()
    if cancel_after is not None:
        QTimer.singleShot(int(cancel_after * 1000), cancel)
    run_loop(lambda: bool(finished), 90.0)
    monitor.note("finished")
    done_at = time.perf_counter()
    run_loop(None, 0.3)  # the repaints that follow the last result
    monitor.stop()
    latency = (done_at - cancelled_at[0]) * 1000 if cancelled_at and finished else None
    return (finished[0] if finished else None), latency


def scenario_sandbox_slow(tmp: Path, monitor: TickMonitor, stacks: bool) -> dict[str, Any]:
    from app.ui.send_panel import SendPanel
    from tests.gui_helpers import make_session

    session = make_session(tmp)
    session.sandbox().set_delay(2.0)
    panel = SendPanel(session)
    panel.resize(1000, 700)
    panel.show()
    _settle()
    results, _ = _send_and_wait(panel, monitor, stacks, None)
    _dispose(panel)
    session.close()
    ok = results is not None and len(results) == 6 and all(r.ok for r in results)
    return {
        "valid": ok,
        "driver": "SendPanel.send_conversation(), sandbox set_delay(2)",
        "results": None if results is None else [r.status for r in results],
    }


def scenario_blackhole_cancel(tmp: Path, monitor: TickMonitor, stacks: bool) -> dict[str, Any]:
    from app.segment.endpoint import parse_endpoint
    from app.segment.result import ErrorKind
    from app.ui.send_panel import SendPanel
    from tests.gui_helpers import make_session

    with blackhole() as port:
        session = make_session(tmp, key=KEY, sandbox=False)
        session.custom_endpoint = parse_endpoint(f"http://127.0.0.1:{port}")
        panel = SendPanel(session)
        panel.resize(1000, 700)
        panel.show()
        _settle()
        results, latency = _send_and_wait(panel, monitor, stacks, 3.0)
        _dispose(panel)
        session.close()
    ok = bool(results) and all(r.error_kind is ErrorKind.CANCELLED for r in results or [])
    return {
        "valid": ok,
        "driver": "SendPanel.send_conversation() to a silent port, on_stop_clicked() at 3 s",
        "cancel_to_finished_ms": None if latency is None else round(latency, 1),
        "results": None if results is None else [str(r.error_kind) for r in results],
    }


def scenario_keyring_slow(tmp: Path, monitor: TickMonitor, stacks: bool) -> dict[str, Any]:
    from PySide6.QtWidgets import QLineEdit, QPushButton

    from app.ui.key_entry import KeyEntry
    from app.ui.main_window import MainWindow
    from app.ui.session import Session
    from app.ui.settings import AppSettings
    from app.ui.worker import run_in_background

    if os.environ.get("PYTHON_KEYRING_BACKEND") != BACKEND_NAME:
        raise RuntimeError(f"run with PYTHON_KEYRING_BACKEND={BACKEND_NAME}")
    session = Session(AppSettings(str(tmp / "settings.ini")))
    session.use_sandbox = False
    session.settings.key_storage = "keyring"
    page = KeyEntry(session)
    page.held.connect(lambda held: session.set_key(held.key, held.location))
    page.resize(800, 600)
    page.show()
    # Built with a key in hand, so that the window reads nothing until load_key() below.
    session.set_key(KEY, "setup")
    window = MainWindow(session)
    window.show()
    session.forget_key()
    _settle()

    edit = page.findChild(QLineEdit, "write_key")
    save = page.findChild(QPushButton, "save_key")
    failures: list[BaseException] = []
    monitor.start(stacks)
    run_loop(None, 0.2)
    monitor.note("save")
    if isinstance(edit, QLineEdit) and isinstance(save, QPushButton):
        driver = "KeyEntry Save to keyring button, then MainWindow.load_key()"
        edit.setText(KEY)
        save.click()
    else:  # the page changed shape: save the way it does, through run_in_background
        driver = "run_in_background(session.keystore.save), then MainWindow.load_key()"

        def saved(result: Any) -> None:
            session.set_key(KEY, result.location)

        run_in_background(
            lambda _report: session.keystore.save(session.source_name, KEY),
            saved,
            failures.append,
        )
    stored = run_loop(lambda: session.write_key() is not None, 30.0)
    saved_in = session.key_location
    monitor.note("saved")
    session.forget_key()
    window.load_key()
    loaded = run_loop(lambda: session.write_key() is not None, 30.0)
    monitor.note("loaded")
    run_loop(None, 0.3)
    monitor.stop()
    ok = stored and loaded and session.write_key() == KEY and not failures
    _dispose(window, page)
    session.close()
    return {
        "valid": ok,
        "driver": driver,
        "saved_in": saved_in,
        "read_from": session.key_location,
    }


def _most_in_window(times: list[float], window: float) -> int:
    """The most of `times` inside any half-open span of `window` seconds."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def scenario_confirm_poll(tmp: Path, monitor: TickMonitor, stacks: bool) -> dict[str, Any]:
    from app.ui.send_panel import SendPanel
    from tests.gui_helpers import make_session

    session = make_session(tmp)
    sandbox = session.sandbox()
    with session.api_client() as client:
        client.create_source("chatlio")  # the sandbox's first Chatlio source holds its key
    sandbox.public_api.count_delay = COUNT_DELAY_S
    lines: list[tuple[float, str]] = []
    sandbox.on_request = lambda line: lines.append((time.perf_counter(), line))
    panel = SendPanel(session)  # the app's own pacing: nothing shortened
    panel.resize(1000, 700)
    panel.show()
    _settle()
    finished: list[list[Any]] = []
    panel.finished.connect(lambda results: finished.append(list(results)))

    monitor.start(stacks)
    run_loop(None, 0.2)
    monitor.note("send")
    panel.send_conversation()
    run_loop(lambda: bool(finished), 30.0)
    monitor.note("sent")
    record = session.last_send
    confirmed = run_loop(lambda: record is not None and record.confirmation is not None, 120.0)
    verdict_at = time.perf_counter()
    monitor.note("verdict")
    run_loop(None, 0.3)  # the repaints that follow the verdict
    monitor.stop()
    confirmation = record.confirmation if record is not None else None
    _dispose(panel)
    session.close()

    def path(line: str) -> str:
        return line.split(" ", 2)[1] if line.count(" ") >= 2 else ""

    tracked = [at for at, line in lines if path(line).startswith("/v1/")]
    polls = [
        at
        for at, line in lines
        if path(line).startswith(("/public-api/delivery-overview/", "/public-api/events/"))
    ]
    public = [at for at, line in lines if path(line).startswith("/public-api")]
    gaps = [b - a for a, b in itertools.pairwise(sorted(polls))]
    counted_from = max(tracked) + COUNT_DELAY_S if tracked else None
    most = _most_in_window(polls, POLL_WINDOW_S - LOG_SLACK_S)
    verdict = None if confirmation is None else str(confirmation.verdict)
    return {
        "valid": confirmed and verdict == "confirmed" and bool(polls),
        "driver": "SendPanel.send_conversation() to the sandbox, confirmed at the default pacing",
        "verdict": verdict,
        "count_delay_s": COUNT_DELAY_S,
        "public_api_requests": len(public),
        "poll_requests": len(polls),
        "poll_requests_most_in_5s": most,
        # With the key's source looked up first (not a poll), just before the first poll.
        "public_api_requests_most_in_5s": _most_in_window(public, POLL_WINDOW_S - LOG_SLACK_S),
        "poll_gap_min_s": round(min(gaps), 3) if gaps else None,
        "verdict_after_count_s": (
            None if counted_from is None else round(verdict_at - counted_from, 3)
        ),
    }


RUNNERS: dict[str, Callable[[Path, TickMonitor, bool], dict[str, Any]]] = {
    "idle": scenario_idle,
    "sandbox_slow": scenario_sandbox_slow,
    "blackhole_cancel": scenario_blackhole_cancel,
    "keyring_slow": scenario_keyring_slow,
    "confirm_poll": scenario_confirm_poll,
}


def main(argv: list[str]) -> int:
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    scenario = argv[0]
    stacks = "--stacks" in argv
    app = QApplication([sys.argv[0]])
    monitor = TickMonitor()
    messages: list[str] = []

    def on_message(kind: QtMsgType, _context: QMessageLogContext, text: str) -> None:
        since = time.perf_counter() - monitor.ticks[0] if monitor.ticks else 0.0
        messages.append(f"{since * 1000:.0f} ms {kind.name}: {text}")
        print(text, file=sys.stderr)

    qInstallMessageHandler(on_message)
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        outcome = RUNNERS[scenario](Path(tmp), monitor, stacks)
    outcome.update(monitor.report(), scenario=scenario, qt_messages=messages)
    qInstallMessageHandler(None)
    emit(outcome)
    app.processEvents()
    return 0


# --- in the orchestrating process -------------------------------------------------------------


def measure(scenario: str, stacks: bool = False) -> dict[str, Any]:
    env: dict[str, str] = {}
    if scenario == "keyring_slow":
        env = {"PYTHON_KEYRING_BACKEND": BACKEND_NAME, DELAY_ENV: "2"}
    with tempfile.TemporaryDirectory(prefix="bench-config-") as config:
        args = [scenario, "--stacks"] if stacks else [scenario]
        return run_worker(MODULE, *args, timeout=180, XDG_CONFIG_HOME=config, **env)


def run(repeats: int, stacks: bool = False, say: Callable[[str], None] = print) -> list[Row]:
    """One row per scenario: the worst gap over `repeats` fresh runs, against the idle floor."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in SCENARIOS}
    errors: dict[str, str] = {}
    for index in range(repeats):
        for name in SCENARIOS:
            if name in errors:
                continue
            try:
                outcome = measure(name, stacks)
            except (OSError, RuntimeError) as error:
                errors[name] = str(error)
                continue
            runs[name].append(outcome)
            say(
                f"  gui {index + 1}/{repeats} {name}: max gap {outcome['max_gap_ms']} ms"
                f"{'' if outcome.get('valid') else ' (scenario did not complete as expected)'}"
            )
    floor_runs = runs["idle"]
    floor = max((r["max_gap_ms"] for r in floor_runs), default=None)
    rows = []
    for name in SCENARIOS[1:]:
        row = Row(
            f"gui_{name}",
            TITLES[name],
            "ms",
            "absolute",
            TARGET_MS,
            floor=floor,
            floor_name="idle panel, same timer",
        )
        outcomes = runs[name]
        if name in errors:
            row.error = errors[name]
        elif "idle" in errors:
            row.error = "idle floor: " + errors["idle"]
        elif not all(r.get("valid") for r in outcomes):
            row.error = "the scenario did not complete as expected (see details)"
        if outcomes:
            gaps = [r["max_gap_ms"] for r in outcomes]
            row.app = max(gaps)  # the worst freeze seen is what a user would notice
            row.samples = {"floor": [r["max_gap_ms"] for r in floor_runs], "app": gaps}
            row.details = {"runs": outcomes, "floor_runs": floor_runs}
        rows.append(row)
    rows += _confirm_rows(runs["confirm_poll"], errors.get("confirm_poll"))
    return rows


def _confirm_rows(outcomes: list[dict[str, Any]], error: str | None) -> list[Row]:
    """From the confirm_poll runs: the poll's request rate, and what it adds to Segment's own
    latency (the worst run of each)."""
    rate = Row(
        "confirm_requests_per_5s",
        "Confirming: most Public API poll requests in any 5 s (less 50 ms log jitter)",
        "requests",
        "absolute",
        1.0,
        floor_name="at most one per 5 s per send",
    )
    added = Row(
        "confirm_added_latency",
        f"Confirming: verdict after the count is there ({COUNT_DELAY_S:.0f} s after arrival)",
        "s",
        "absolute",
        ADDED_LATENCY_S,
        floor_name="Segment's own latency excluded",
    )
    for row, key in ((rate, "poll_requests_most_in_5s"), (added, "verdict_after_count_s")):
        figures = [r[key] for r in outcomes if r.get(key) is not None]
        if error is not None:
            row.error = error
        elif not outcomes or not all(r.get("valid") for r in outcomes):
            row.error = "the scenario did not complete as expected (see gui_confirm_poll)"
        if figures:
            row.app = max(figures)
            row.samples = {"app": figures}
    return [rate, added]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
