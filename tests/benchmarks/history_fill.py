"""A history file with many sends in it, fast: real sends recorded once, then their rows copied.

The rows are what HistoryStore.record writes (a real send to the sandbox, recorded through the
store), with ids, times, events and outcomes varied, so filters and pages see a realistic mix.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.chatlio import Conversation
from app.history.records import Face
from app.history.store import HistoryStore, KeepMode, Retention
from app.segment.payload import Visitor
from app.sending import Target, built_in_sandbox, send_test_events


def fill_history(path: Path, sends: int, seed: int = 13) -> Path:
    """Write `sends` sends into the history file at `path` (created; any old one replaced)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = HistoryStore(path)
    # Room for every send first: opening the file applies the setting, and the default (the
    # last 1,000) would delete the rest the next time it is opened.
    store.retention = Retention(KeepMode.SENDS, max(1_000_000, sends))
    conversation = Conversation()
    with built_in_sandbox() as sandbox:
        target = Target.sandbox(sandbox)
        for events in (conversation.events(), conversation.events()[:1]):
            outcome = send_test_events(
                target,
                events,
                Visitor(conversation.visitor_id),
                conversation_id=conversation.conversation_id,
            )
            store.record(outcome, source="Chatlio", face=Face.APP, started_at=datetime.now(UTC))
    store.close()
    db = sqlite3.connect(path)
    templates = db.execute("SELECT * FROM sends ORDER BY id").fetchall()
    details = db.execute("SELECT verdict, results FROM send_details ORDER BY send_id").fetchall()
    columns = [d[0] for d in db.execute("SELECT * FROM sends LIMIT 0").description]
    db.execute("DELETE FROM send_details")
    db.execute("DELETE FROM sends")
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=90)
    step = timedelta(days=90) / max(1, sends)
    outcomes = ["arrived"] * 8 + ["failed", "partly"]
    names = [c for c in columns if c != "id"]
    insert = f"INSERT INTO sends ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    with db:
        for number in range(sends):
            template = 0 if number % 10 == 0 else 1  # one conversation in ten, else one event
            row = dict(zip(columns, templates[template], strict=True))
            row["started_at"] = (start + step * number).isoformat(timespec="microseconds")
            row["outcome"] = rng.choice(outcomes)
            row["visitor_id"] = f"test-visitor-{number:08x}"
            row["search"] = f"{row['search']} test-visitor-{number:08x}"
            send_id = db.execute(insert, [row[name] for name in names]).lastrowid
            db.execute(
                "INSERT INTO send_details (send_id, verdict, results) VALUES (?, ?, ?)",
                (send_id, *details[template]),
            )
    db.close()
    return path
