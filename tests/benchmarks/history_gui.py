"""The History tab with 100,000 kept sends: the longest GUI-thread gap while a user scrolls,
filters and opens sends, against the same script over an empty history.

Each run is a fresh process (`python -m tests.benchmarks.history_gui DATA_HOME`) with the main
window on screen and its History tab shown; a 10 ms PreciseTimer (responsiveness.TickMonitor)
measures the gaps while the script scrolls to the end of the list thirty times (a page is read
on a worker each time), types a search that matches nothing (SQLite reads every send, on a
worker), filters by event and by outcome, and selects sends one after another (each read on a
worker and shown in the response view).
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks.common import Row, emit, run_worker
from tests.benchmarks.responsiveness import TARGET_MS, TickMonitor, run_loop

MODULE = "tests.benchmarks.history_gui"
SENDS = 100_000


def scenario(monitor: TickMonitor, stacks: bool = False) -> dict[str, Any]:
    from PySide6.QtWidgets import QComboBox, QLineEdit, QTableView

    from app.ui.main_window import MainWindow
    from tests.gui_helpers import make_session

    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        session = make_session(Path(tmp))
        session.settings.key_storage = "sandbox"
        window = MainWindow(session)
        window.resize(1000, 700)
        window.show()
        window.show_history()
        pane = window.panel.history
        assert pane is not None
        model = pane.model
        run_loop(lambda: not model.loading, 30.0)
        run_loop(None, 0.3)
        view = pane.findChild(QTableView, "history_list")
        search = pane.findChild(QLineEdit, "history_search")
        event = pane.findChild(QComboBox, "history_event")
        outcome = pane.findChild(QComboBox, "history_outcome")
        assert view is not None
        assert search is not None
        assert event is not None
        assert outcome is not None

        def settled() -> bool:
            return not model.loading

        monitor.start(stacks)
        for _ in range(30):  # scroll to the end: the next page comes from a worker
            view.scrollToBottom()
            run_loop(settled, 5.0)
        monitor.note("scrolled")
        rows_scrolled = model.rowCount()
        search.setText("no-such-text-anywhere")  # every send read, on a worker
        run_loop(lambda: settled() and model.rowCount() == 0, 30.0)
        run_loop(None, 0.3)
        search.clear()
        run_loop(settled, 30.0)
        monitor.note("searched")
        event.setCurrentIndex(event.findText("Message Sent"))
        run_loop(settled, 30.0)
        outcome.setCurrentIndex(outcome.findText("Did not all arrive"))
        run_loop(settled, 30.0)
        outcome.setCurrentIndex(0)
        event.setCurrentIndex(0)
        run_loop(settled, 30.0)
        monitor.note("filtered")
        filtered_at = time.perf_counter()
        for row in range(min(8, model.rowCount())):  # each read on a worker, then shown
            view.setCurrentIndex(model.index(row, 0))
            run_loop(None, 0.15)
        monitor.note("opened")
        run_loop(None, 0.3)
        monitor.stop()
        window.close()
        window.deleteLater()
        run_loop(None, 0.1)
        session.close()
    ticks = monitor.ticks
    browsing = [b - a for a, b in itertools.pairwise(ticks) if b <= filtered_at]
    opening = [b - a for a, b in itertools.pairwise(ticks) if b > filtered_at]
    phases, begin = {}, ticks[0]
    for end, label in monitor.moments:
        gaps = [b - a for a, b in itertools.pairwise(ticks) if begin < b <= end]
        phases[label] = round(max(gaps, default=0.0) * 1000, 2)
        begin = end
    return {
        "phase_max_gap_ms": phases,
        "rows_after_scrolling": rows_scrolled,
        # Scrolling, searching and filtering: the target.
        "browse_max_gap_ms": round(max(browsing, default=0.0) * 1000, 2),
        # Opening sends: the response view drawing each one (its first drawing costs most).
        "open_max_gap_ms": round(max(opening, default=0.0) * 1000, 2),
    }


def main(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    if "--nogc" in argv:
        import gc

        gc.disable()
    monitor = TickMonitor()
    outcome = scenario(monitor, "--stacks" in argv)
    outcome.update(monitor.report(), kept=argv[0] if argv else "")
    emit(outcome)
    app.processEvents()
    return 0


def _fill(data_home: Path, sends: int) -> None:
    from app.history.store import HistoryStore, KeepMode, Retention, default_path
    from tests.benchmarks.history_fill import fill_history

    path = data_home / default_path().parent.name / default_path().name
    path.parent.mkdir(parents=True, exist_ok=True)
    fill_history(path, sends)
    store = HistoryStore(path)
    store.retention = Retention(KeepMode.SENDS, 1_000_000)  # keep them all
    store.close()


def run(repeats: int, say: Callable[[str], None] = print) -> list[Row]:
    """Over `repeats` runs with 100,000 sends against the same with none, the worst gap while
    scrolling, searching and filtering (the target), and while opening sends (reported)."""
    browse = Row(
        "history_gui_browse",
        f"GUI gap: History tab with {SENDS:,} sends, scrolled, searched, filtered",
        "ms",
        "absolute",
        TARGET_MS,
        floor_name="the same with an empty history",
    )
    opening = Row(
        "history_gui_open",
        f"GUI gap: opening 8 of {SENDS:,} kept sends in the response view",
        "ms",
        "report",
        None,
        floor_name="the same with an empty history",
    )
    runs: dict[str, list[dict[str, Any]]] = {"empty": [], "full": []}
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        homes = {"empty": Path(tmp) / "empty", "full": Path(tmp) / "full"}
        homes["empty"].mkdir()
        started = time.monotonic()
        _fill(homes["full"], SENDS)
        say(f"  history gui: {SENDS:,} sends written in {time.monotonic() - started:.1f} s")
        try:
            for index in range(repeats):
                for kind in ("empty", "full"):
                    with tempfile.TemporaryDirectory(prefix="bench-config-") as config:
                        outcome = run_worker(
                            MODULE,
                            kind,
                            timeout=300,
                            XDG_CONFIG_HOME=config,
                            XDG_DATA_HOME=str(homes[kind]),
                        )
                    runs[kind].append(outcome)
                    say(
                        f"  history gui {index + 1}/{repeats} {kind}: browsing "
                        f"{outcome['browse_max_gap_ms']} ms, opening "
                        f"{outcome['open_max_gap_ms']} ms, {outcome['rows_after_scrolling']} rows"
                    )
        except (OSError, RuntimeError) as error:
            browse.error = opening.error = str(error)
    for row, key in ((browse, "browse_max_gap_ms"), (opening, "open_max_gap_ms")):
        full = [r[key] for r in runs["full"]]
        empty = [r[key] for r in runs["empty"]]
        if full:
            row.app = max(full)  # the worst freeze seen is what a user would notice
            row.samples = {"floor": empty, "app": full}
            row.details = {"runs": runs["full"], "floor_runs": runs["empty"]}
        if empty:
            row.floor = max(empty)
    return [browse, opening]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
