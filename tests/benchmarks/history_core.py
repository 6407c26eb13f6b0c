"""The send history's costs, each against the same thing without it, in one run:

- cold start of the app's main window with 100,000 sends kept, against an empty history
  (startup.py's clock: spawn to first paint, same environment; interleaved pairs);
- recording one send: a real one-event send to an in-process sandbox with HistoryStore.record
  after it, against the same send alone, into a history already holding 100,000 sends
  (interleaved, medians), and the whole `send` process with and without --no-history;
- export memory: peak RSS of `history export --har` and `--jsonl` over 100,000 sends against
  the same over 1,000 (the child's own ru_maxrss, from os.wait4).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.benchmarks.common import Row, app_root, child_env, interleaved, median, summary
from tests.benchmarks.startup import EXIT_AFTER_PAINT_ENV, _read_first_paint

BIG, SMALL = 100_000, 1_000
MB = 1024 * 1024
MAIN_WINDOW_SETTINGS = "[setup]\ncomplete=true\nkey_storage=sandbox\n"


def _history_home(root: Path, sends: int) -> Path:
    """An XDG_DATA_HOME whose history holds `sends` sends, all kept."""
    from app.history.store import HistoryStore, KeepMode, Retention, default_path
    from tests.benchmarks.history_fill import fill_history

    home = root / f"data-{sends}"
    path = home / default_path().parent.name / default_path().name
    path.parent.mkdir(parents=True, exist_ok=True)
    if sends:
        fill_history(path, sends)
    store = HistoryStore(path)
    store.retention = Retention(KeepMode.SENDS, 1_000_000)
    store.close()
    return home


def _spawn(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        args, cwd=app_root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    return proc, started


def _reap(proc: subprocess.Popen[bytes]) -> tuple[int, int]:
    """(exit status, peak RSS in bytes) of a child not yet reaped."""
    _pid, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024


# --- cold start -------------------------------------------------------------------------------


def _start(data_home: Path) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="bench-config-") as config:
        settings = Path(config) / "chatlio-segment-setup" / "settings.ini"
        settings.parent.mkdir(parents=True)
        settings.write_text(MAIN_WINDOW_SETTINGS)
        env = child_env(
            **{EXIT_AFTER_PAINT_ENV: "1", "XDG_CONFIG_HOME": config},
            XDG_DATA_HOME=str(data_home),
        )
        proc, started = _spawn([sys.executable, "-m", "app"], env)
        painted, _seen = _read_first_paint(proc, started + 60)
        if painted is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
        assert proc.stdout is not None
        proc.stdout.read()
        code, rss = _reap(proc)
        if painted is None or code != 0:
            raise RuntimeError(f"the main window did not paint (exit {code})")
    return painted - started, rss


def cold_start(empty: Path, full: Path, pairs: int, say: Callable[[str], None]) -> list[Row]:
    start = Row(
        "history_start",
        f"Cold start of the main window, {BIG:,} sends kept",
        "s",
        "ratio",
        1.05,
        floor_name="the same app, empty history",
    )
    memory = Row(
        "history_start_rss",
        f"Peak RSS at first paint, {BIG:,} sends kept",
        "MB",
        "report",
        None,
        floor_name="the same app, empty history",
    )
    times: dict[str, list[float]] = {"floor": [], "app": []}
    rss: dict[str, list[float]] = {"floor": [], "app": []}
    ratios = []
    try:
        _start(empty), _start(full)  # warm-up pair: bytecode and page cache, both sides
        for index, empty_first in interleaved(pairs):
            order = [("floor", empty), ("app", full)]
            pair = {}
            for side, home in order if empty_first else order[::-1]:
                seconds, peak = _start(home)
                times[side].append(seconds)
                rss[side].append(peak / MB)
                pair[side] = seconds
            ratios.append(pair["app"] / pair["floor"])
            say(f"  history start {index + 1}/{pairs}: {pair['floor']:.3f} s / {pair['app']:.3f} s")
    except RuntimeError as error:
        start.error = memory.error = str(error)
    if ratios:
        start.floor, start.app = median(times["floor"]), median(times["app"])
        start.paired_ratio = median(ratios)
        start.samples = times
        memory.floor, memory.app = median(rss["floor"]), median(rss["app"])
        memory.samples = rss
    return [start, memory]


# --- recording --------------------------------------------------------------------------------


def recording(full: Path, rounds: int, say: Callable[[str], None]) -> Row:
    from app.chatlio import Conversation
    from app.history.records import Face
    from app.history.store import HistoryStore, default_path
    from app.segment.payload import Visitor
    from app.sending import Target, built_in_sandbox, send_test_events

    row = Row(
        "history_record",
        f"Recording one send into {BIG:,} kept sends",
        "ms",
        "difference",
        2.0,
        floor_name="the same send, not recorded",
    )
    store = HistoryStore(full / default_path().parent.name / default_path().name)
    conversation = Conversation()
    samples: dict[str, list[float]] = {"floor": [], "app": []}
    with built_in_sandbox() as sandbox:
        target = Target.sandbox(sandbox)

        def one(record: bool) -> float:
            started = time.perf_counter()
            outcome = send_test_events(
                target,
                conversation.events()[:1],
                Visitor(conversation.visitor_id),
                conversation_id=conversation.conversation_id,
            )
            if record:
                store.record(outcome, source="Chatlio", face=Face.APP, started_at=datetime.now(UTC))
            return (time.perf_counter() - started) * 1000

        for _ in range(10):  # warm-up: connections, imports, the file's first pages
            one(True), one(False)
        for _index, floor_first in interleaved(rounds):
            for record in (False, True) if floor_first else (True, False):
                samples["app" if record else "floor"].append(one(record))
    store.close()
    row.floor, row.app = median(samples["floor"]), median(samples["app"])
    row.samples = samples
    row.details = {"floor": summary(samples["floor"]), "app": summary(samples["app"])}
    say(f"  history record: {row.floor:.2f} ms / {row.app:.2f} ms")
    return row


def send_process(full: Path, pairs: int, say: Callable[[str], None]) -> Row:
    row = Row(
        "history_send_process",
        f"`send --sandbox` of one event as a process, {BIG:,} sends kept",
        "s",
        "report",
        None,
        floor_name="the same with --no-history",
    )
    args = [sys.executable, "-m", "app", "send", "--sandbox", "--event", "message-sent"]
    env = child_env(XDG_DATA_HOME=str(full))
    samples: dict[str, list[float]] = {"floor": [], "app": []}

    def one(extra: list[str]) -> float:
        started = time.monotonic()
        subprocess.run([*args, *extra], env=env, cwd=app_root(), capture_output=True, check=True)
        return time.monotonic() - started

    one([]), one(["--no-history"])
    for _index, floor_first in interleaved(pairs):
        for side in ("floor", "app") if floor_first else ("app", "floor"):
            samples[side].append(one(["--no-history"] if side == "floor" else []))
    row.floor, row.app = median(samples["floor"]), median(samples["app"])
    row.samples = samples
    say(f"  history send process: {row.floor:.3f} s / {row.app:.3f} s")
    return row


# --- export -----------------------------------------------------------------------------------


def _export(data_home: Path, kind: str, out: Path) -> tuple[float, int]:
    env = child_env(XDG_DATA_HOME=str(data_home))
    proc, started = _spawn(
        [sys.executable, "-m", "app", "history", "export", f"--{kind}", str(out)], env
    )
    assert proc.stdout is not None
    proc.stdout.read()
    code, rss = _reap(proc)
    if code != 0:
        raise RuntimeError(f"history export --{kind} exited {code}")
    return time.monotonic() - started, rss


def export_memory(small: Path, big: Path, repeats: int, say: Callable[[str], None]) -> list[Row]:
    rows = []
    for kind in ("har", "jsonl"):
        row = Row(
            f"history_export_{kind}",
            f"Peak RSS of `history export --{kind}`, {BIG:,} sends vs {SMALL:,}",
            "MB",
            "difference",
            20.0,
            floor_name=f"the same export of {SMALL:,} sends",
        )
        rss: dict[str, list[float]] = {"floor": [], "app": []}
        seconds: dict[str, list[float]] = {"floor": [], "app": []}
        with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
            try:
                for _ in range(repeats):
                    for side, home in (("floor", small), ("app", big)):
                        took, peak = _export(home, kind, Path(tmp) / f"out.{kind}")
                        rss[side].append(peak / MB)
                        seconds[side].append(took)
            except RuntimeError as error:
                row.error = str(error)
        if rss["app"]:
            row.floor, row.app = median(rss["floor"]), median(rss["app"])
            row.samples = rss
            row.details = {"seconds": seconds}
            say(
                f"  history export {kind}: {row.floor:.1f} MB / {row.app:.1f} MB, "
                f"{median(seconds['app']):.1f} s for {BIG:,}"
            )
        rows.append(row)
    return rows


def run(quick: bool, say: Callable[[str], None] = print) -> list[Row]:
    root = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        started = time.monotonic()
        empty, small, full = (_history_home(root, n) for n in (0, SMALL, BIG))
        say(f"  history: {BIG:,} sends written in {time.monotonic() - started:.1f} s")
        rows = cold_start(empty, full, 3 if quick else 11, say)
        rows.append(recording(full, 30 if quick else 200, say))
        rows.append(send_process(full, 3 if quick else 11, say))
        rows += export_memory(small, full, 1 if quick else 3, say)
        return rows
    finally:
        shutil.rmtree(root, ignore_errors=True)
