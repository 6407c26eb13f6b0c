"""The send history's costs, each against the same thing without it, in one run:

- cold start of the app's main window (setup done, sandbox mode) with 100,000 sends kept,
  against an empty history: startup.py's clock (CLOCK_MONOTONIC from just before the spawn to
  the first Paint event), interleaved pairs after a warm-up pair, the median of the pairs'
  ratios; and the peak RSS of the same launches;
- recording one send: a real one-event send to an in-process sandbox with HistoryStore.record
  after it, against the same send alone, into a history already holding 100,000 sends with room
  for more (interleaved, medians); record() alone, timed inside the same runs; record() when
  the history is at its limit (each send deletes the oldest); and the whole `send` process
  with and without --no-history;
- export memory: peak RSS of `history export --har` and `--jsonl` over 100,000 sends against
  the same over 1,000, each export checked to hold every send.

Peak RSS is a child's own ru_maxrss from os.wait4, but Linux counts into it the memory of the
process the child was forked from (the kernel keeps the pre-exec high-water mark): spawned from
this process, which holds SQLite pages and an in-process sandbox, every child would weigh at
least as much as it. So each measured child is spawned by a bare launcher (`python -I -S`,
about 9 MB), which reports the child's usage and the start moment on the same clock.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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
from tests.benchmarks.startup import EXIT_AFTER_PAINT_ENV, SCREENSHOT_ENV, _read_first_paint

BIG, SMALL = 100_000, 1_000
MB = 1_000_000  # as startup.py's memory rows
KEEP_ALL = 1_000_000  # the retention of every history here: the last million sends
# What the app reads (AppSettings: QSettings, ini format, organization chatlio-segment-setup,
# application settings): setup done, sandbox mode, so the main window opens, with no key.
MAIN_WINDOW_SETTINGS = "[setup]\ncomplete=true\nkey_storage=sandbox\n"
# Secrets record() scrubs from everything it keeps, as the app passes the key and the token.
MADE_UP_SECRETS = ("bench0key0not0real0abcdefghijklmn", "sgp_bench_token_not_real_0123456789abcdef")

# Spawns the measured command, waits for it, writes "start exit_code child_maxrss_kib own_hwm_kib"
# to argv[1]. Its own high-water mark is what the child's figure can never be below.
LAUNCHER = """\
import os, sys, time
report, *command = sys.argv[1:]
started = time.monotonic()
pid = os.posix_spawn(command[0], command, os.environ)
_pid, status, usage = os.wait4(pid, 0)
with open("/proc/self/status") as lines:
    own = next(line.split()[1] for line in lines if line.startswith("VmHWM:"))
with open(report, "w") as out:
    out.write(f"{started!r} {os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {own}\\n")
"""


@dataclass
class Child:
    started: float  # CLOCK_MONOTONIC just before the spawn
    peak_rss_bytes: int
    stdout: str
    painted: float | None  # CLOCK_MONOTONIC at the first paint, when one was awaited
    ended: float  # when the parent saw the launcher end (for durations of whole processes)


def _run_child(
    command: list[str], env: dict[str, str], *, timeout: float, first_paint: bool = False
) -> Child:
    """Run `command` through the launcher; a child that hangs is killed with its launcher."""
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        report, errors = Path(tmp) / "report", Path(tmp) / "stderr"
        with errors.open("wb") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *command],
                cwd=app_root(),
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,  # one process group: a kill reaches the child too
            )
            deadline = time.monotonic() + timeout
            painted = None
            if first_paint:
                painted, _seen = _read_first_paint(proc, deadline)
                if painted is None:
                    _kill(proc)
            try:
                out, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill(proc)
                out, _ = proc.communicate()
        ended = time.monotonic()
        tail = errors.read_text(errors="replace").strip().splitlines()[-10:]
        try:
            started, code, rss_kib, own_kib = report.read_text().split()
        except (OSError, ValueError):
            lost = f"{' '.join(command[1:])}: killed, or its launcher failed:\n"
            raise RuntimeError(lost + "\n".join(tail)) from None
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(command[1:])} exited {code}:\n" + "\n".join(tail))
    if int(rss_kib) <= int(own_kib):
        raise RuntimeError(f"{' '.join(command[1:])}: its peak RSS may be its launcher's")
    return Child(float(started), int(rss_kib) * 1024, out.decode(), painted, ended)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


# --- the history files ------------------------------------------------------------------------


def _history_file(data_home: Path) -> Path:
    from app.history.store import default_path

    return data_home / default_path().parent.name / default_path().name


def _history_home(root: Path, sends: int) -> Path:
    """An XDG_DATA_HOME whose history holds `sends` sends, all kept (checked)."""
    from app.history.store import HistoryStore, KeepMode, Retention
    from tests.benchmarks.history_fill import fill_history

    home = root / f"data-{sends}"
    path = _history_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    keep = Retention(KeepMode.SENDS, KEEP_ALL)
    if sends:
        fill_history(path, sends)
        # Written straight into the file: opening it through HistoryStore first would apply
        # the default retention (the last 1,000) before the new one could be set.
        db = sqlite3.connect(path)
        with db:
            db.execute(
                "INSERT INTO settings (key, value) VALUES ('retention', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (keep.encode(),),
            )
        db.close()
    store = HistoryStore(path)
    try:
        store.retention = keep
        kept = store.count()
    finally:
        store.close()
    if kept != sends:
        raise RuntimeError(f"the benchmark's history holds {kept:,} sends instead of {sends:,}")
    return home


# --- cold start -------------------------------------------------------------------------------


def _start(data_home: Path, screenshot: Path | None = None) -> Child:
    with tempfile.TemporaryDirectory(prefix="bench-config-") as config:
        settings = Path(config) / "chatlio-segment-setup" / "settings.ini"
        settings.parent.mkdir(parents=True)
        settings.write_text(MAIN_WINDOW_SETTINGS)
        extra = {
            EXIT_AFTER_PAINT_ENV: "1",
            "XDG_CONFIG_HOME": config,
            "XDG_DATA_HOME": str(data_home),
        }
        if screenshot is not None:
            extra[SCREENSHOT_ENV] = str(screenshot)
        child = _run_child(
            [sys.executable, "-m", "app"], child_env(**extra), timeout=60, first_paint=True
        )
    if child.painted is None:
        raise RuntimeError("the main window did not paint within 60 s")
    return child


def cold_start(empty: Path, full: Path, pairs: int, say: Callable[[str], None]) -> list[Row]:
    start = Row(
        "history_start",
        f"History: cold start of the main window, {BIG:,} sends kept",
        "s",
        "ratio",
        1.05,
        floor_name="the same app (main window, sandbox mode), empty history",
    )
    memory = Row(
        "history_start_rss",
        f"History: peak RSS at first paint, {BIG:,} sends kept",
        "MB",
        "report",
        None,
        floor_name="the same app (main window, sandbox mode), empty history",
    )
    times: dict[str, list[float]] = {"floor": [], "app": []}
    rss: dict[str, list[float]] = {"floor": [], "app": []}
    ratios = []
    shots = {side: RESULTS_DIR / f"history-first-paint-{side}.png" for side in ("empty", "full")}
    try:
        # A warm-up pair: bytecode, page cache, fontconfig; what each side painted is saved.
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        _start(empty, shots["empty"]), _start(full, shots["full"])
        for index, empty_first in interleaved(pairs):
            order = [("floor", empty), ("app", full)]
            pair = {}
            for side, home in order if empty_first else order[::-1]:
                child = _start(home)
                assert child.painted is not None
                pair[side] = child.painted - child.started
                times[side].append(pair[side])
                rss[side].append(child.peak_rss_bytes / MB)
            ratios.append(pair["app"] / pair["floor"])
            say(
                f"  history start {index + 1}/{pairs}: empty {pair['floor']:.3f} s "
                f"{rss['floor'][-1]:.1f} MB, {BIG:,} sends {pair['app']:.3f} s "
                f"{rss['app'][-1]:.1f} MB"
            )
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        start.error = memory.error = str(error)
        return [start, memory]
    start.floor, start.app = median(times["floor"]), median(times["app"])
    start.paired_ratio = median(ratios)
    start.samples = times
    start.details = {
        "ratio_of_medians": start.app / start.floor,
        "paired_ratios": ratios,
        "floor": summary(times["floor"]),
        "app": summary(times["app"]),
        "screenshots": {side: str(path) for side, path in shots.items()},
    }
    memory.floor, memory.app = median(rss["floor"]), median(rss["app"])
    memory.samples = rss
    memory.details = {"floor": summary(rss["floor"]), "app": summary(rss["app"])}
    return [start, memory]


# --- recording --------------------------------------------------------------------------------


def recording(full: Path, rounds: int, say: Callable[[str], None]) -> list[Row]:
    """Send, or send and record, in interleaved pairs; record() is also timed on its own."""
    from app.chatlio import Conversation
    from app.history.records import Face
    from app.history.store import HistoryStore
    from app.segment.payload import Visitor
    from app.sending import Target, built_in_sandbox, send_test_events

    row = Row(
        "history_record",
        f"History: a one-event send recorded into {BIG:,} kept sends",
        "ms",
        "difference",
        2.0,
        floor_name="the same send to the in-process sandbox, not recorded",
    )
    alone = Row(
        "history_record_alone",
        f"History: HistoryStore.record alone, {BIG:,} kept sends",
        "ms",
        "absolute",
        2.0,
    )
    store = HistoryStore(_history_file(full))
    conversation = Conversation()
    samples: dict[str, list[float]] = {"floor": [], "app": []}
    recorded: list[float] = []
    differences: list[float] = []
    try:
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
                sent = time.perf_counter()
                if record:
                    store.record(
                        outcome,
                        source="Chatlio",
                        face=Face.APP,
                        started_at=datetime.now(UTC),
                        secrets=MADE_UP_SECRETS,
                    )
                    recorded.append((time.perf_counter() - sent) * 1000)
                return (time.perf_counter() - started) * 1000

            for _ in range(10):  # warm-up: connections, imports, the file's first pages
                one(True), one(False)
            recorded.clear()
            for _index, floor_first in interleaved(rounds):
                pair = {}
                for record in (False, True) if floor_first else (True, False):
                    pair[record] = one(record)
                samples["floor"].append(pair[False])
                samples["app"].append(pair[True])
                differences.append(pair[True] - pair[False])
    except Exception as error:  # noqa: BLE001 - any failure is the row's, not the whole run's
        row.error = alone.error = f"{type(error).__name__}: {error}"
        return [row, alone]
    finally:
        store.close()
    row.floor, row.app = median(samples["floor"]), median(samples["app"])
    row.samples = samples
    row.details = {
        "paired_difference_median": median(differences),
        "floor": summary(samples["floor"]),
        "app": summary(samples["app"]),
        "record_alone": summary(recorded),
    }
    alone.app = median(recorded)
    alone.samples = {"app": recorded}
    alone.details = {"app": summary(recorded), "secrets_scrubbed": len(MADE_UP_SECRETS)}
    say(
        f"  history record: send {row.floor:.2f} ms, send + record {row.app:.2f} ms "
        f"(paired {median(differences):+.2f} ms), record alone {alone.app:.2f} ms"
    )
    return [row, alone]


def recording_at_limit(full: Path, rounds: int, say: Callable[[str], None]) -> Row:
    """record() when the history is full: each one also deletes the oldest send."""
    from app.chatlio import Conversation
    from app.history.records import Face
    from app.history.store import HistoryStore, KeepMode, Retention
    from app.segment.payload import Visitor
    from app.sending import Target, built_in_sandbox, send_test_events

    row = Row(
        "history_record_full",
        "History: HistoryStore.record into a full history (the oldest send goes)",
        "ms",
        "absolute",
        2.0,
    )
    store = HistoryStore(_history_file(full))
    conversation = Conversation()
    recorded: list[float] = []
    try:
        with built_in_sandbox() as sandbox:
            outcome = send_test_events(
                Target.sandbox(sandbox),
                conversation.events()[:1],
                Visitor(conversation.visitor_id),
                conversation_id=conversation.conversation_id,
            )
        kept = store.count()
        store.retention = Retention(KeepMode.SENDS, kept)
        for index in range(rounds + 10):
            started = time.perf_counter()
            store.record(
                outcome,
                source="Chatlio",
                face=Face.APP,
                started_at=datetime.now(UTC),
                secrets=MADE_UP_SECRETS,
            )
            if index >= 10:
                recorded.append((time.perf_counter() - started) * 1000)
        if store.count() != kept:
            raise RuntimeError(f"the history grew past its limit of {kept:,} sends")
        store.retention = Retention(KeepMode.SENDS, KEEP_ALL)
    except Exception as error:  # noqa: BLE001 - any failure is the row's, not the whole run's
        row.error = f"{type(error).__name__}: {error}"
        return row
    finally:
        store.close()
    row.app = median(recorded)
    row.samples = {"app": recorded}
    row.details = {"app": summary(recorded), "kept": kept}
    say(f"  history record at the limit of {kept:,}: {row.app:.2f} ms")
    return row


def send_process(full: Path, pairs: int, say: Callable[[str], None]) -> Row:
    from app.history.store import HistoryStore

    row = Row(
        "history_send_process",
        f"History: `send --sandbox` of one event as a process, {BIG:,} sends kept",
        "s",
        "report",
        None,
        floor_name="the same with --no-history",
    )
    samples: dict[str, list[float]] = {"floor": [], "app": []}
    path = _history_file(full)

    def kept() -> int:
        store = HistoryStore(path)
        try:
            return store.count()
        finally:
            store.close()

    with tempfile.TemporaryDirectory(prefix="bench-config-") as config:
        args = [sys.executable, "-m", "app", "send", "--sandbox", "--event", "message-sent"]
        env = child_env(XDG_DATA_HOME=str(full), XDG_CONFIG_HOME=config)

        def one(no_history: bool) -> float:
            started = time.perf_counter()
            done = subprocess.run(
                [*args, *(["--no-history"] if no_history else [])],
                env=env,
                cwd=app_root(),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            took = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"send exited {done.returncode}: {done.stderr[-500:]}")
            return took

        try:
            before = kept()
            one(False), one(True)  # warm-up pair
            for _index, floor_first in interleaved(pairs):
                for no_history in (True, False) if floor_first else (False, True):
                    samples["floor" if no_history else "app"].append(one(no_history))
            added = kept() - before
            if added != pairs + 1:  # one per send without --no-history, warm-up included
                raise RuntimeError(f"{pairs + 1} sends kept {added} in the history")
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            row.error = str(error)
            return row
    row.floor, row.app = median(samples["floor"]), median(samples["app"])
    row.samples = samples
    row.details = {"floor": summary(samples["floor"]), "app": summary(samples["app"])}
    say(f"  history send process: --no-history {row.floor:.3f} s, kept {row.app:.3f} s")
    return row


# --- export -----------------------------------------------------------------------------------


def _items(path: Path, kind: str) -> int:
    """Sends in a JSON lines file, or entries (one per HTTP try) in a HAR file (one a line)."""
    with path.open("rb") as lines:
        if kind == "jsonl":
            return sum(1 for line in lines if line.strip())
        return sum(1 for line in lines if line.startswith(b'{"startedDateTime"'))


def _export(data_home: Path, kind: str, out: Path, config: str) -> tuple[Child, int]:
    env = child_env(XDG_DATA_HOME=str(data_home), XDG_CONFIG_HOME=config)
    child = _run_child(
        [sys.executable, "-m", "app", "history", "export", f"--{kind}", str(out)],
        env,
        timeout=600,
    )
    try:
        return child, _items(out, kind)
    finally:
        out.unlink(missing_ok=True)


def export_memory(small: Path, big: Path, repeats: int, say: Callable[[str], None]) -> list[Row]:
    rows = []
    for kind in ("har", "jsonl"):
        row = Row(
            f"history_export_{kind}",
            f"History: peak RSS of `history export --{kind}`, {BIG:,} sends vs {SMALL:,}",
            "MB",
            "difference",
            20.0,
            floor_name=f"the same export of {SMALL:,} sends",
        )
        rss: dict[str, list[float]] = {"floor": [], "app": []}
        seconds: dict[str, list[float]] = {"floor": [], "app": []}
        items: dict[str, int] = {}
        said: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
            try:
                for _index, small_first in interleaved(repeats):
                    order = [("floor", small), ("app", big)]
                    for side, home in order if small_first else order[::-1]:
                        child, count = _export(home, kind, Path(tmp) / f"out.{kind}", tmp)
                        rss[side].append(child.peak_rss_bytes / MB)
                        seconds[side].append(child.ended - child.started)
                        items[side], said[side] = count, child.stdout.strip()
                # Every send written: the same mix of sends, a hundred times over.
                expected = items["floor"] * BIG // SMALL
                if items["app"] != expected or (kind == "jsonl" and items["floor"] != SMALL):
                    raise RuntimeError(
                        f"the {kind} exports hold {items['floor']:,} and {items['app']:,} "
                        f"{'sends' if kind == 'jsonl' else 'entries'}, not all of the history"
                    )
            except (OSError, RuntimeError, subprocess.SubprocessError) as error:
                row.error = str(error)
                rows.append(row)
                continue
        row.floor, row.app = median(rss["floor"]), median(rss["app"])
        row.samples = rss
        row.details = {
            "seconds": seconds,
            "sends" if kind == "jsonl" else "har_entries": items,
            "said": said,
        }
        say(
            f"  history export {kind}: {SMALL:,} sends {row.floor:.1f} MB, {BIG:,} sends "
            f"{row.app:.1f} MB in {median(seconds['app']):.1f} s"
        )
        rows.append(row)
    return rows


def run(quick: bool, say: Callable[[str], None] = print) -> list[Row]:
    """Every row of this module, in table order; one history file of each size per run."""
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        root = Path(tmp)
        started = time.monotonic()
        try:
            empty, small, full = (_history_home(root, n) for n in (0, SMALL, BIG))
        except Exception as error:  # noqa: BLE001 - the other groups still run
            failed = Row(
                "history_files", "History: the benchmark's history files", "", "report", None
            )
            failed.error = f"{type(error).__name__}: {error}"
            return [failed]
        say(f"  history: {BIG:,} sends written in {time.monotonic() - started:.1f} s")
        # Nothing is added to the big history until the exports have read it.
        start = cold_start(empty, full, 3 if quick else 11, say)
        export = export_memory(small, full, 1 if quick else 2, say)
        record = recording(full, 30 if quick else 200, say)
        process = send_process(full, 3 if quick else 11, say)
        at_limit = recording_at_limit(full, 30 if quick else 200, say)
    return [*start, *record, at_limit, process, *export]
