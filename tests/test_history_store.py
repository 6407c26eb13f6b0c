"""The send history's store: real SQLite files, real sends to the sandbox and to loopback
servers."""

from __future__ import annotations

import base64
import itertools
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from app.chatlio import Conversation
from app.data_dir import data_dir
from app.history import schema
from app.history.records import Face, Outcome
from app.history.resend import events_to_send_again
from app.history.store import (
    HistoryFilter,
    HistoryStore,
    HistoryUnavailable,
    KeepMode,
    Retention,
    default_path,
)
from app.proof.arrival import Confirmation, Verdict
from app.segment.endpoint import parse_endpoint
from app.segment.payload import Visitor
from app.segment.sandbox import Sandbox
from app.sending import SendOutcome, Target, send_test_events
from tests.hostile_server import HostileServer, read_request, response

PLANTED_KEY = "PlantedKey0123456789abcdefABCDEF"  # 32 letters and digits, as Segment's are
PLANTED_TOKEN = "sgp_PlantedToken0123456789abcdefghijklmnop"


def _send(sandbox: Sandbox, events: int | None = None, visitor: str | None = None) -> SendOutcome:
    conversation = Conversation() if visitor is None else Conversation(visitor_id=visitor)
    chosen = conversation.events() if events is None else conversation.events()[:events]
    return send_test_events(
        Target.sandbox(sandbox),
        chosen,
        Visitor(conversation.visitor_id),
        conversation_id=conversation.conversation_id,
    )


def _keep(
    store: HistoryStore,
    outcome: SendOutcome,
    started: datetime | None = None,
    face: Face = Face.APP,
) -> int:
    kept = store.record(
        outcome, source="Chatlio", face=face, started_at=started or datetime.now(UTC)
    )
    assert kept is not None
    return kept


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    history = HistoryStore(tmp_path / "history.sqlite3")
    yield history
    history.close()


# --- where it lives ---------------------------------------------------------------------------


def test_the_default_file_is_under_the_xdg_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_path() == tmp_path / "chatlio-segment-setup" / "history.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # the spec says: ignore it
    assert data_dir() == Path.home() / ".local" / "share" / "chatlio-segment-setup"


def test_macos_and_windows_use_their_own_data_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert data_dir() == Path.home() / "Library" / "Application Support" / "chatlio-segment-setup"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path))
    assert data_dir() == tmp_path / "chatlio-segment-setup"


def test_the_file_and_its_directory_are_the_owners_only(tmp_path: Path, sandbox: Sandbox) -> None:
    store = HistoryStore(tmp_path / "data" / "chatlio-segment-setup" / "history.sqlite3")
    _keep(store, _send(sandbox, 1))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700


# --- recording and reading back ---------------------------------------------------------------


def test_a_send_comes_back_exactly_as_it_was(store: HistoryStore, sandbox: Sandbox) -> None:
    outcome = _send(sandbox)
    started = datetime.now(UTC)
    send_id = store.record(outcome, source="Chatlio", face=Face.CLI, started_at=started)
    assert send_id is not None
    detail = store.get(send_id)
    assert detail is not None
    assert detail.results == outcome.results  # every field: request, answer, each try
    assert detail.entry.started_at == started
    assert detail.entry.face is Face.CLI
    assert detail.entry.outcome is Outcome.ARRIVED
    assert detail.entry.events == tuple(result.event for result in outcome.results)
    assert detail.entry.summary == outcome.summary
    assert detail.verdict == outcome.verdict
    assert detail.visitor_id == outcome.visitor.visitor_id
    assert detail.conversation_id == outcome.conversation_id
    assert detail.entry.sandbox
    assert detail.entry.region == "local"


def test_pages_are_newest_first_and_continue_where_the_last_ended(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    outcome = _send(sandbox, 1)
    ids = [_keep(store, outcome) for _ in range(7)]
    first = store.page(limit=3)
    assert [e.id for e in first] == ids[::-1][:3]
    second = store.page(before=first[-1].id, limit=3)
    assert [e.id for e in second] == ids[::-1][3:6]
    assert store.count() == 7


def test_filters_by_event_outcome_date_and_text(store: HistoryStore) -> None:
    with Sandbox() as sandbox:
        conversation = _keep(store, _send(sandbox, visitor="visitor-conversation"))
        started_only = _keep(
            store, _send(sandbox, 1, visitor="visitor_50%"), datetime.now(UTC) - timedelta(days=9)
        )
        url = sandbox.url
    # The sandbox has stopped: nothing answers there now.
    failed = _keep(
        store,
        send_test_events(
            Target.segment(parse_endpoint(url), "k" * 32),
            Conversation().events()[:1],
            Visitor("visitor-failed"),
            conversation_id="c",
            deadline=5,
        ),
    )

    def ids(where: HistoryFilter) -> list[int]:
        return [entry.id for entry in store.page(where)]

    assert ids(HistoryFilter(event="Live Chat Message Sent")) == [conversation]
    assert ids(HistoryFilter(event="Live Chat Conversation Started")) == [
        failed,
        started_only,
        conversation,
    ]
    assert ids(HistoryFilter(outcomes=frozenset({Outcome.FAILED}))) == [failed]
    assert ids(HistoryFilter(outcomes=frozenset({Outcome.ARRIVED}))) == [
        started_only,
        conversation,
    ]
    recent = HistoryFilter(since=datetime.now(UTC) - timedelta(days=1))
    assert ids(recent) == [failed, conversation]
    assert ids(HistoryFilter(until=datetime.now(UTC) - timedelta(days=1))) == [started_only]
    assert ids(HistoryFilter(text="VISITOR-CONVERSATION")) == [conversation]
    # LIKE's own wildcards are searched for as the characters they are.
    assert ids(HistoryFilter(text="_50%")) == [started_only]
    assert ids(HistoryFilter(text="%")) == [started_only]
    assert ids(HistoryFilter(text="visitor arrived")) == [started_only, conversation]
    assert store.count(HistoryFilter(text="nothing-like-this")) == 0


def test_delete_and_clear(store: HistoryStore, sandbox: Sandbox) -> None:
    outcome = _send(sandbox, 1)
    first, second = _keep(store, outcome), _keep(store, outcome)
    assert store.delete(first)
    assert not store.delete(first)
    assert store.get(first) is None
    assert [e.id for e in store.page()] == [second]
    assert store.clear() == 1
    assert store.count() == 0
    # Nothing of the sends is left in the file's bytes, nor in its write-ahead log.
    for suffix in ("", "-wal"):
        kept = Path(f"{store.path}{suffix}")
        if kept.exists():
            assert outcome.visitor.visitor_id.encode() not in kept.read_bytes()


def test_a_confirmation_joins_its_send_and_reads_back(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    send_id = _keep(store, _send(sandbox, 1))
    confirmation = Confirmation(
        Verdict.CONFIRMED, 1, 1, {"x": 2}, 12.5, 3, headline="Segment counted 1 of 1."
    )
    store.attach_confirmation(send_id, confirmation.to_json())
    detail = store.get(send_id)
    assert detail is not None
    assert detail.confirmation is not None
    assert Confirmation.from_json(detail.confirmation) == replace_waited(confirmation)
    assert detail.entry.confirmation == "Segment counted 1 of 1."
    assert [e.id for e in store.page(HistoryFilter(text="counted 1 of 1"))] == [send_id]


def replace_waited(confirmation: Confirmation) -> Confirmation:
    from dataclasses import replace

    return replace(confirmation, waited_s=round(confirmation.waited_s, 1))


def test_details_streams_oldest_first_in_batches(store: HistoryStore, sandbox: Sandbox) -> None:
    outcome = _send(sandbox, 1)
    ids = [_keep(store, outcome) for _ in range(5)]
    stream = store.details(batch=2)
    assert next(stream).entry.id == ids[0]
    _keep(store, outcome)  # the lock is not held between batches: writing goes on meanwhile
    assert [d.entry.id for d in stream] == [*ids[1:], ids[-1] + 1]


# --- retention --------------------------------------------------------------------------------


def test_the_default_keeps_the_last_thousand_sends(store: HistoryStore) -> None:
    assert store.retention == Retention(KeepMode.SENDS, 1000)


def test_keeping_the_last_n_sends(store: HistoryStore, sandbox: Sandbox) -> None:
    outcome = _send(sandbox, 1)
    ids = [_keep(store, outcome) for _ in range(5)]
    store.retention = Retention(KeepMode.SENDS, 3)  # applied at once
    assert [e.id for e in store.page()] == ids[::-1][:3]
    newest = _keep(store, outcome)
    assert [e.id for e in store.page()] == [newest, ids[4], ids[3]]
    assert store.get(ids[2]) is None  # its details went with it


def test_the_count_of_every_send_stays_true_through_every_change(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    outcome = _send(sandbox, 1)

    def counted() -> int:
        return len(list(store.details()))

    ids = [_keep(store, outcome) for _ in range(6)]
    store.delete(ids[2])
    assert store.count() == counted() == 5
    store.retention = Retention(KeepMode.SENDS, 4)
    _keep(store, outcome)
    assert store.count() == counted() == 4
    store.clear()
    assert store.count() == counted() == 0


def test_keeping_n_days(store: HistoryStore, sandbox: Sandbox) -> None:
    outcome = _send(sandbox, 1)
    old = _keep(store, outcome, datetime.now(UTC) - timedelta(days=8))
    recent = _keep(store, outcome, datetime.now(UTC) - timedelta(days=6))
    store.retention = Retention(KeepMode.DAYS, 7)
    assert [e.id for e in store.page()] == [recent]
    assert store.get(old) is None


def test_history_off_keeps_nothing_and_forgets_what_was_kept(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    outcome = _send(sandbox, 1)
    _keep(store, outcome)
    store.retention = Retention(KeepMode.OFF, 0)
    assert store.count() == 0
    assert store.record(outcome, source="s", face=Face.APP, started_at=datetime.now(UTC)) is None
    assert store.count() == 0
    store.close()
    assert HistoryStore(store.path).retention.mode is KeepMode.OFF  # it is kept in the file


def test_a_retention_this_version_cannot_read_is_the_default() -> None:
    assert Retention.decode("weeks:3") == Retention()
    assert Retention.decode("sends:-4") == Retention()
    assert Retention.decode("sends:x") == Retention()
    assert Retention.decode("days:30") == Retention(KeepMode.DAYS, 30)


# --- secrets ----------------------------------------------------------------------------------


def _echo_everything(conn: socket.socket, stop: threading.Event) -> None:
    """A server that echoes the Authorization header, and the key in it, back in its answer."""
    head = read_request(conn, stop)
    if head is None:
        return
    auth = next(
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"authorization:")
    )
    key = base64.b64decode(auth.split()[1]).decode().rstrip(":")
    body = f'{{"success":true,"auth":"{auth}","key":"{key}","url":"{quote(key)}"}}'.encode()
    conn.sendall(response(200, body, [("X-Echo-Auth", auth), ("X-Echo-Key", key)]))


def secret_forms(secret: str) -> list[bytes]:
    """The secret as it could be written: raw, base64 (alone and as a Basic-auth user), and
    URL-encoded."""
    return [
        secret.encode(),
        base64.b64encode(secret.encode()),
        base64.b64encode(f"{secret}:".encode()),
        quote(secret, safe="").encode(),
    ]


def test_no_key_or_token_reaches_the_file_even_when_a_server_echoes_them(
    store: HistoryStore,
) -> None:
    with HostileServer(_echo_everything) as server:
        outcome = send_test_events(
            Target.segment(parse_endpoint(server.url), PLANTED_KEY),
            Conversation().events()[:2],
            Visitor("visitor-echo"),
            conversation_id="conversation-echo",
        )
    echoed = outcome.results[0]
    assert PLANTED_KEY in echoed.body
    assert PLANTED_KEY in echoed.response_headers.values()
    send_id = store.record(
        outcome,
        source=f"Chatlio {PLANTED_TOKEN}",
        face=Face.CLI,
        started_at=datetime.now(UTC),
        secrets=[PLANTED_KEY, PLANTED_TOKEN],
    )
    assert send_id is not None
    store.attach_confirmation(
        send_id,
        Confirmation(Verdict.FAILED, 2, 0, headline=f"token {PLANTED_TOKEN}").to_json(),
        [PLANTED_KEY, PLANTED_TOKEN],
    )
    store.close()
    written = b"".join(
        Path(f"{store.path}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{store.path}{suffix}").exists()
    )
    assert b"visitor-echo" in written  # the send is there
    for secret in (PLANTED_KEY, PLANTED_TOKEN):
        for form in secret_forms(secret):
            assert form not in written, form


# --- a file that cannot be used as it is --------------------------------------------------------


def test_a_damaged_file_is_put_aside_with_a_sentence_and_a_new_one_begins(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    store = HistoryStore(path)
    assert store.count() == 0
    assert store.notice is not None
    assert "damaged" in store.notice
    assert "put aside" in store.notice
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("history.damaged-")]
    assert len(aside) == 1
    assert aside[0].name in store.notice
    assert aside[0].read_bytes().startswith(b"this is not a database")
    assert _keep(store, _send(sandbox, 1)) == 1


def test_a_file_damaged_inside_is_put_aside_when_read(tmp_path: Path, sandbox: Sandbox) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    outcome = _send(sandbox)
    for _ in range(30):
        _keep(store, outcome)
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data), page):  # every page but the header and schema
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    reopened = HistoryStore(path)
    try:
        listed = reopened.page()
    except HistoryUnavailable as exc:  # pragma: no cover - what SQLite notices differs
        pytest.fail(f"a damaged file raised instead of being put aside: {exc}")
    assert listed == []
    assert reopened.notice is not None
    assert "damaged" in reopened.notice


def test_a_file_from_a_newer_version_is_kept_for_it_and_a_new_one_begins(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE sends_v9 (anything TEXT)")
        db.execute("INSERT INTO sends_v9 VALUES ('from the future')")
        db.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 8}")
    store = HistoryStore(path)
    assert store.count() == 0
    assert store.notice is not None
    assert "newer version" in store.notice
    aside = next(p for p in tmp_path.iterdir() if p.name.startswith("history.newer-"))
    with sqlite3.connect(aside) as db:
        assert db.execute("SELECT anything FROM sends_v9").fetchall() == [("from the future",)]
    _keep(store, _send(sandbox, 1))
    assert store.count() == 1


def test_a_busy_file_says_so_and_loses_nothing(
    store: HistoryStore, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = _send(sandbox, 1)
    _keep(store, outcome)
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another copy of the app, writing
    store.close()
    monkeypatch.setattr("app.history.store.BUSY_TIMEOUT_S", 0.2)
    try:
        with pytest.raises(HistoryUnavailable, match="busy"):
            store.record(outcome, source="s", face=Face.APP, started_at=datetime.now(UTC))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.count() == 1  # readable as before, and writable again
    _keep(store, outcome)
    assert store.count() == 2


def test_an_unwritable_directory_is_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the directory should be")
    store = HistoryStore(blocker / "history.sqlite3")
    with pytest.raises(HistoryUnavailable, match="cannot be kept in"):
        store.count()


# --- migrations -------------------------------------------------------------------------------


def test_a_file_of_an_earlier_version_is_brought_up_to_date_and_keeps_its_sends(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    old = HistoryStore(path)
    send_id = _keep(old, _send(sandbox))
    old.close()
    # A next version adds a column; this version's file is its "earlier version".
    later = [*schema.MIGRATIONS, "ALTER TABLE sends ADD COLUMN note TEXT NOT NULL DEFAULT '';"]
    monkeypatch.setattr(schema, "MIGRATIONS", later)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(later))
    store = HistoryStore(path)
    detail = store.get(send_id)
    assert detail is not None
    assert len(detail.results) == 6
    assert store.notice is None
    with sqlite3.connect(path) as db:
        assert schema.version(db) == len(later)
        assert db.execute("SELECT note FROM sends").fetchall() == [("",)]


def test_a_migration_that_fails_changes_nothing(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.sqlite3"
    old = HistoryStore(path)
    send_id = _keep(old, _send(sandbox, 1))
    old.close()
    broken = [
        *schema.MIGRATIONS,
        "ALTER TABLE sends ADD COLUMN half_done TEXT; ALTER TABLE no_such_table ADD COLUMN x;",
    ]
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    with pytest.raises(HistoryUnavailable):
        HistoryStore(path).count()
    with sqlite3.connect(path) as db:
        assert schema.version(db) == 1
        columns = [row[1] for row in db.execute("PRAGMA table_info(sends)")]
        assert "half_done" not in columns  # rolled back with the step that failed
    monkeypatch.setattr(schema, "MIGRATIONS", broken[:1])
    assert HistoryStore(path).get(send_id) is not None


# --- crashes and two faces at once --------------------------------------------------------------

_RECORD_FOREVER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from app.chatlio import Conversation
from app.history.records import Face
from app.history.store import HistoryStore
from app.segment.payload import Visitor
from app.sending import Target, built_in_sandbox, send_test_events

store = HistoryStore(Path(sys.argv[1]))
conversation = Conversation()
with built_in_sandbox() as sandbox:
    outcome = send_test_events(
        Target.sandbox(sandbox), conversation.events(), Visitor("v"),
        conversation_id=conversation.conversation_id,
    )
while True:
    store.record(outcome, source="Chatlio", face=Face.CLI, started_at=datetime.now(UTC))
    print("kept", flush=True)
"""


def test_a_process_killed_while_recording_leaves_a_readable_consistent_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", _RECORD_FOREVER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert child.stdout is not None
        for _ in range(20):  # well into recording, then killed in the middle of whatever it does
            assert child.stdout.readline() == "kept\n"
        time.sleep(0.05)
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        sends = db.execute("SELECT count(*) FROM sends").fetchone()[0]
        details = db.execute("SELECT count(*) FROM send_details").fetchone()[0]
    assert sends >= 20
    assert sends == details  # a send is kept whole, or not at all
    store = HistoryStore(path)
    assert all(len(d.results) == 6 for d in store.details())
    assert store.notice is None


def test_the_app_and_the_command_line_share_one_file(tmp_path: Path, sandbox: Sandbox) -> None:
    path = tmp_path / "history.sqlite3"
    app_side, cli_side = HistoryStore(path), HistoryStore(path)
    outcome = _send(sandbox, 1)
    first = _keep(app_side, outcome, face=Face.APP)
    reading = app_side.details(batch=1)
    next(reading)  # the app is reading while the command line writes
    second = _keep(cli_side, outcome, face=Face.CLI)
    assert [(e.id, e.face) for e in app_side.page()] == [(second, Face.CLI), (first, Face.APP)]


# --- send again ---------------------------------------------------------------------------------


def test_send_again_has_the_same_properties_in_the_same_order_and_spacing(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    outcome = _send(sandbox)
    detail = store.get(_keep(store, outcome))
    assert detail is not None
    now = datetime.now(UTC)
    again = events_to_send_again(detail, now)
    assert [e.name for e in again] == [r.event for r in outcome.results]
    assert [e.properties for e in again] == [r.payload["properties"] for r in outcome.results]
    assert again[-1].timestamp == now
    original = [datetime.fromisoformat(r.payload["timestamp"]) for r in outcome.results]
    assert [b.timestamp - a.timestamp for a, b in itertools.pairwise(again)] == [
        b - a for a, b in itertools.pairwise(original)
    ]
    resent = send_test_events(
        Target.sandbox(sandbox), again, Visitor(detail.visitor_id), conversation_id="c"
    )
    assert resent.ok
    old_ids = {r.message_id for r in outcome.results}
    assert not old_ids & {r.message_id for r in resent.results}  # Segment takes them as new


def test_reading_every_send_stops_with_a_sentence_when_the_file_is_put_aside_meanwhile(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    outcome = _send(sandbox, 1)
    for _ in range(4):
        _keep(store, outcome)
    reading = store.details(batch=2)
    assert [next(reading).entry.id, next(reading).entry.id] == [1, 2]
    store._set_aside("damaged")  # what a damaged page found by the next batch does
    with pytest.raises(HistoryUnavailable, match="all that could be read"):
        next(reading)


def test_keeping_n_days_holds_when_the_history_is_only_read(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    _keep(store, _send(sandbox, 1), datetime.now(UTC) - timedelta(days=3))
    store.retention = Retention(KeepMode.DAYS, 7)
    store.close()
    with sqlite3.connect(store.path) as db:  # as if 5 days went by with nothing recorded
        db.execute(
            "UPDATE sends SET started_at = ?",
            ((datetime.now(UTC) - timedelta(days=8)).isoformat(timespec="microseconds"),),
        )
    assert HistoryStore(store.path).count() == 0


def test_two_faces_opening_a_new_file_at_once_both_keep_their_send(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    path = tmp_path / "history.sqlite3"
    outcome = _send(sandbox, 1)
    stores = [HistoryStore(path) for _ in range(4)]
    kept: list[int | None] = []
    errors: list[BaseException] = []

    def record(store: HistoryStore) -> None:
        try:
            kept.append(
                store.record(outcome, source="s", face=Face.CLI, started_at=datetime.now(UTC))
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=record, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(kept) == 4
    assert HistoryStore(path).count() == 4


def test_a_full_disk_is_said_as_such_and_loses_nothing(
    store: HistoryStore, sandbox: Sandbox
) -> None:
    outcome = _send(sandbox)
    _keep(store, outcome)
    page_count = store._call(lambda db: db.execute("PRAGMA page_count").fetchone()[0])
    store._call(lambda db: db.execute(f"PRAGMA max_page_count = {page_count}"))
    problems = []
    for _ in range(50):
        try:
            _keep(store, outcome)
        except HistoryUnavailable as exc:
            problems.append(exc.message)
            break
    assert problems == ["The disk is full, so the send history cannot be written."]
    store.close()
    assert HistoryStore(store.path).count() >= 1


def test_a_key_given_as_the_visitor_id_is_not_kept(store: HistoryStore, sandbox: Sandbox) -> None:
    conversation = Conversation(visitor_id=PLANTED_KEY)
    outcome = send_test_events(
        Target.sandbox(sandbox),
        conversation.events()[:1],
        Visitor(PLANTED_KEY),
        conversation_id=PLANTED_KEY,
    )
    store.record(
        outcome, source="s", face=Face.APP, started_at=datetime.now(UTC), secrets=[PLANTED_KEY]
    )
    store.close()
    written = b"".join(
        Path(f"{store.path}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{store.path}{suffix}").exists()
    )
    for form in secret_forms(PLANTED_KEY):
        assert form not in written, form
        assert form.lower() not in written, form  # the search column is lower case
