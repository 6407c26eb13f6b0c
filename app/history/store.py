"""The send history in SQLite: record a send, list and filter, read one back, delete, keep it sane.

One file under the platform's data directory, shared by the GUI and the CLI (WAL mode, so one
can read while the other writes). Every write is one transaction: a crash mid-send leaves the
file as it was before that send. A file that is damaged, or that a newer version of the app
wrote, is put aside (renamed, never deleted) with a sentence in `notice`, and a new one begins.

Blocking: the GUI calls this from worker threads only. One connection per store, used under a
lock, so worker threads may share a store.
"""

# ruff: noqa: S608 - queries are built from this module's own column lists and clauses only;
# every value goes in as a ? parameter.

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from app.history import schema
from app.history.records import (
    Face,
    Outcome,
    SendDetail,
    SendEntry,
    outcome_of,
    result_from_json,
    result_to_json,
)
from app.redaction import scrub

if TYPE_CHECKING:
    from app.sending import SendOutcome

FILE_NAME = "history.sqlite3"
# Another copy of the app writing at the same moment: wait this long for it.
BUSY_TIMEOUT_S = 5.0
PAGE_SIZE = 200
_E = TypeVar("_E", bound=StrEnum)
_T = TypeVar("_T")


def default_path() -> Path:
    from app.data_dir import data_dir

    return data_dir() / FILE_NAME


class HistoryUnavailable(Exception):
    """The history cannot be read or written just now; `message` says why, in a sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KeepMode(StrEnum):
    SENDS = "sends"  # the last `amount` sends
    DAYS = "days"  # sends of the last `amount` days
    OFF = "off"  # keep nothing


@dataclass(frozen=True)
class Retention:
    """How much history is kept; applied at every send, and at once when changed."""

    mode: KeepMode = KeepMode.SENDS
    amount: int = 1000

    def describe(self) -> str:
        if self.mode is KeepMode.OFF:
            return "History is off: sends are not kept."
        if self.mode is KeepMode.DAYS:
            days = "day" if self.amount == 1 else f"{self.amount} days"
            return f"Sends of the last {days} are kept."
        sends = "send is" if self.amount == 1 else f"{self.amount:,} sends are"
        return f"The last {sends} kept." if self.amount != 1 else "The last send is kept."

    def encode(self) -> str:
        return f"{self.mode.value}:{self.amount}"

    @classmethod
    def decode(cls, text: str) -> Retention:
        """The stored value; anything this version cannot read is the default."""
        mode, _, amount = text.partition(":")
        try:
            keep = cls(KeepMode(mode), int(amount or 0))
        except ValueError:
            return cls()
        return keep if keep.mode is KeepMode.OFF or keep.amount > 0 else cls()


DEFAULT_RETENTION = Retention()


@dataclass(frozen=True)
class HistoryFilter:
    """Which sends the list shows; every part is optional, and all given must match."""

    event: str | None = None  # an event name: sends that included it
    outcomes: frozenset[Outcome] = field(default_factory=frozenset)  # empty: any
    since: datetime | None = None  # aware; sends that started at or after it
    until: datetime | None = None  # aware; sends that started before it
    text: str = ""  # in the summary, source, address, ids, events or confirmation
    conversations: bool = False  # only sends that began with Started and ended with Ended

    def where(self) -> tuple[str, list[Any]]:
        clauses, values = [], []
        if self.conversations:
            clauses.append("events LIKE ?")
            values.append("|Live Chat Conversation Started|%|Live Chat Conversation Ended|")
        if self.event:
            clauses.append("events LIKE ? ESCAPE '\\'")
            values.append(f"%|{_like(self.event)}|%")
        if self.outcomes:
            clauses.append(f"outcome IN ({', '.join('?' * len(self.outcomes))})")
            values += sorted(o.value for o in self.outcomes)
        if self.since is not None:
            clauses.append("started_at >= ?")
            values.append(_stamp(self.since))
        if self.until is not None:
            clauses.append("started_at < ?")
            values.append(_stamp(self.until))
        for word in self.text.lower().split():
            clauses.append("search LIKE ? ESCAPE '\\'")
            values.append(f"%{_like(word)}%")
        return (" AND ".join(clauses) or "1"), values


class HistoryStore:
    """The history file at `path` (the platform's data directory by default).

    Opened on first use. `notice` holds the sentence to show once, when a file was put aside.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.notice: str | None = None
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self._files = 0  # one more each time a file is put aside: readers of the old one stop

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.path)!r})"

    # --- opening -----------------------------------------------------------------------------

    def _call(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """`work(connection)` under the lock. A damaged file is put aside and `work` runs once
        more on a new one; other failures become HistoryUnavailable."""
        with self._lock:
            for last_try in (False, True):
                try:
                    return work(self._open())
                except HistoryUnavailable:
                    raise
                except sqlite3.OperationalError as exc:
                    raise HistoryUnavailable(_unavailable(exc)) from exc
                except sqlite3.DatabaseError as exc:
                    # Exactly this class is SQLite's "not a database" or "malformed"; its other
                    # subclasses are this app's mistakes, and no reason to put a file aside.
                    if last_try or type(exc) is not sqlite3.DatabaseError:
                        raise HistoryUnavailable(_unavailable(exc)) from exc
                    self._set_aside("damaged")
        raise AssertionError("unreachable")

    def _open(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():
                # Owner-only from the first byte: what was sent is nobody else's business.
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            raise HistoryUnavailable(
                f"The send history cannot be kept in {self.path.parent} "
                f"({exc.strerror or 'not allowed'}). Sends still work; they are not recorded."
            ) from exc
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            found = schema.version(connection)  # raises DatabaseError on a file that is none
            if found > schema.SCHEMA_VERSION:
                connection.close()
                self._set_aside("newer", found)
                return self._open()
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")  # WAL: safe against app crashes
            connection.execute("PRAGMA secure_delete = ON")  # deleted sends leave no trace
            connection.execute("PRAGMA foreign_keys = ON")
            schema.migrate(connection)
            # "N days" holds even when nothing is recorded; a file that cannot be written
            # just now (busy, read-only) is still read.
            with suppress(sqlite3.OperationalError), _transaction(connection):
                self._apply(connection, self._retention(connection))
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _set_aside(self, reason: str, version: int | None = None) -> None:
        """Rename the file (and its WAL companions) out of the way; a new one begins."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._files += 1
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        aside = self.path.with_name(f"{self.path.stem}.{reason}-{stamp}{self.path.suffix}")
        try:
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    os.replace(source, f"{aside}{suffix}")
        except OSError as exc:
            raise HistoryUnavailable(
                f"The send history cannot be used (the file is damaged or from a newer version) "
                f"and could not be put aside ({exc.strerror or 'not allowed'}). Move "
                f"{self.path} away by hand; sends still work, they are not recorded."
            ) from exc
        if reason == "newer":
            self.notice = (
                f"The send history was written by a newer version of this app (history "
                f"version {version}), so it was put aside as {aside.name}, where that version "
                "can still read it, and a new, empty history was started."
            )
        else:
            self.notice = (
                f"The send history could not be read (the file is damaged), so it was put "
                f"aside as {aside.name} and a new, empty history was started."
            )

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # --- writing -----------------------------------------------------------------------------

    def record(
        self,
        outcome: SendOutcome,
        *,
        source: str,
        face: Face,
        started_at: datetime,
        secrets: Sequence[str] = (),
    ) -> int | None:
        """Keep one send (unless history is off) and apply the retention; its id, or None.

        `secrets` (the write key, the token) are scrubbed from everything kept, in every form
        they travel in, should an answer have echoed one.
        """
        results = [result_to_json(result) for result in outcome.results]
        events = [result.event for result in outcome.results]
        summary, verdict = outcome.summary, outcome.verdict
        hidden = _hidden(secrets)
        search = scrub(
            " ".join(
                [
                    summary,
                    source,
                    outcome.endpoint.base_url,
                    outcome.visitor.visitor_id,
                    outcome.conversation_id,
                    *events,
                    *(result.message_id for result in outcome.results),
                ]
            ),
            hidden,
        ).lower()
        row = {
            "started_at": _stamp(started_at),
            "face": face.value,
            "source": scrub(source, hidden),
            "endpoint": scrub(outcome.endpoint.base_url, hidden),
            "region": outcome.endpoint.region.value,
            "sandbox": int(outcome.built_in_sandbox),
            "events": "|" + "|".join(events) + "|",
            "total": len(outcome.results),
            "arrived": outcome.arrived,
            "outcome": outcome_of(outcome.arrived, len(outcome.results), outcome.cancelled).value,
            "summary": scrub(summary, hidden),
            "visitor_id": scrub(outcome.visitor.visitor_id, hidden),
            "conversation_id": scrub(outcome.conversation_id, hidden),
            "as_user_id": int(outcome.visitor.as_user_id),
            "search": search,
        }
        details = (
            scrub(verdict, hidden),
            scrub(json.dumps(results, ensure_ascii=False), hidden),
        )
        insert = f"INSERT INTO sends ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"

        def write(db: sqlite3.Connection) -> int | None:
            with _transaction(db):  # the setting is read where another process cannot change it
                keep = self._retention(db)
                if keep.mode is KeepMode.OFF:
                    return None
                send_id = db.execute(insert, list(row.values())).lastrowid
                db.execute(
                    "INSERT INTO send_details (send_id, verdict, results) VALUES (?, ?, ?)",
                    (send_id, *details),
                )
                self._apply(db, keep)
            return send_id

        return self._call(write)

    def attach_confirmation(
        self, send_id: int, confirmation: Mapping[str, Any], secrets: Sequence[str] = ()
    ) -> None:
        """Segment's count for a recorded send (Confirmation.to_json())."""
        hidden = _hidden(secrets)
        text = scrub(json.dumps(dict(confirmation), ensure_ascii=False), hidden)
        headline = scrub(str(confirmation.get("headline", "")), hidden)

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.execute(
                    "UPDATE send_details SET confirmation = ? WHERE send_id = ?", (text, send_id)
                )
                db.execute(
                    "UPDATE sends SET confirmed = ?, search = search || ' ' || ? WHERE id = ?",
                    (headline, headline.lower(), send_id),
                )

        self._call(write)

    def delete(self, send_id: int) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                return db.execute("DELETE FROM sends WHERE id = ?", (send_id,)).rowcount > 0

        return self._call(write)

    def clear(self) -> int:
        """Delete every send; the file keeps no trace of them. How many there were."""

        def write(db: sqlite3.Connection) -> int:
            with _transaction(db):
                db.execute("DELETE FROM send_details")
                count = db.execute("DELETE FROM sends").rowcount
            with suppress(sqlite3.OperationalError):  # busy: secure_delete zeroed them anyway
                db.execute("VACUUM")
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return count

        return self._call(write)

    @property
    def retention(self) -> Retention:
        return self._call(self._retention)

    @retention.setter
    def retention(self, keep: Retention) -> None:
        """Saved, and applied at once: fewer sends, or none, are kept from now on."""

        def write(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.execute(
                    "INSERT INTO settings (key, value) VALUES ('retention', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (keep.encode(),),
                )
                deleted = self._apply(db, keep)
            if deleted:
                with suppress(sqlite3.OperationalError):
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        self._call(write)

    def _retention(self, db: sqlite3.Connection) -> Retention:
        row = db.execute("SELECT value FROM settings WHERE key = 'retention'").fetchone()
        return DEFAULT_RETENTION if row is None else Retention.decode(str(row[0]))

    def _apply(self, db: sqlite3.Connection, keep: Retention) -> int:
        if keep.mode is KeepMode.OFF:
            return db.execute("DELETE FROM sends").rowcount
        if keep.mode is KeepMode.DAYS:
            cutoff = datetime.now(UTC) - timedelta(days=keep.amount)
            return db.execute("DELETE FROM sends WHERE started_at < ?", (_stamp(cutoff),)).rowcount
        # The newest `amount` stay: as many of the oldest as there are over that go.
        over = int(db.execute("SELECT sends FROM tally").fetchone()[0]) - keep.amount
        if over <= 0:
            return 0
        return db.execute(
            "DELETE FROM sends WHERE id IN (SELECT id FROM sends ORDER BY id LIMIT ?)", (over,)
        ).rowcount

    # --- reading -----------------------------------------------------------------------------

    def page(
        self,
        where: HistoryFilter | None = None,
        *,
        before: int | None = None,
        limit: int = PAGE_SIZE,
    ) -> list[SendEntry]:
        """Up to `limit` sends matching `where`, newest first, older than id `before`."""
        clause, values = (where or HistoryFilter()).where()
        if before is not None:
            clause, values = f"({clause}) AND id < ?", [*values, before]
        query = f"SELECT {_ENTRY_COLUMNS} FROM sends WHERE {clause} ORDER BY id DESC LIMIT ?"
        rows = self._call(lambda db: db.execute(query, [*values, limit]).fetchall())
        return [_entry(row) for row in rows]

    def count(self, where: HistoryFilter | None = None) -> int:
        clause, values = (where or HistoryFilter()).where()
        # Every send: the tally has the number at once.
        query = (
            "SELECT sends FROM tally"
            if clause == "1"
            else f"SELECT count(*) FROM sends WHERE {clause}"
        )
        return int(self._call(lambda db: db.execute(query, values).fetchone()[0]))

    def get(self, send_id: int) -> SendDetail | None:
        query = f"SELECT {_ENTRY_COLUMNS}, {_DETAIL_COLUMNS} FROM {_JOINED} WHERE id = ?"
        row = self._call(lambda db: db.execute(query, (send_id,)).fetchone())
        return None if row is None else _detail(row)

    def details(self, where: HistoryFilter | None = None, batch: int = 100) -> Iterator[SendDetail]:
        """Every send matching `where`, oldest first, read `batch` at a time: constant memory,
        and the lock is not held between batches."""
        clause, values = (where or HistoryFilter()).where()
        query = (
            f"SELECT {_ENTRY_COLUMNS}, {_DETAIL_COLUMNS} FROM {_JOINED} "
            f"WHERE ({clause}) AND id > ? ORDER BY id LIMIT ?"
        )
        after, first, files = 0, True, self._files
        while True:
            rows = self._call(partial(_fetch_all, query, [*values, after, batch]))
            if first:
                first, files = False, self._files  # opening may have put a file aside
            elif self._files != files:
                raise HistoryUnavailable(
                    f"{self.notice} What was read before that is all that could be read."
                )
            if not rows:
                return
            for row in rows:
                yield _detail(row)
            after = int(rows[-1][0])


_ENTRY_COLUMNS = (
    "id, started_at, face, source, endpoint, region, sandbox, events, total, arrived, outcome, "
    "summary, confirmed"
)
_DETAIL_COLUMNS = "results, verdict, visitor_id, conversation_id, as_user_id, confirmation"
# A send and its details; a send whose details are missing still shows, with no results.
_JOINED = "sends LEFT JOIN send_details ON send_details.send_id = sends.id"


def _fetch_all(query: str, values: Sequence[Any], db: sqlite3.Connection) -> list[Any]:
    return db.execute(query, values).fetchall()


def _entry(row: Sequence[Any]) -> SendEntry:
    return SendEntry(
        id=int(row[0]),
        started_at=datetime.fromisoformat(row[1]),
        face=_member(Face, row[2], Face.APP),
        source=row[3],
        endpoint=row[4],
        region=row[5],
        sandbox=bool(row[6]),
        events=tuple(name for name in str(row[7]).split("|") if name),
        total=int(row[8]),
        arrived=int(row[9]),
        outcome=_member(Outcome, row[10], Outcome.FAILED),
        summary=row[11],
        confirmation=row[12],
    )


def _detail(row: Sequence[Any]) -> SendDetail:
    results, verdict, visitor_id, conversation_id, as_user_id, confirmation = row[13:19]
    try:
        kept = tuple(result_from_json(data) for data in json.loads(results or "[]"))
    except (ValueError, KeyError, TypeError, AttributeError):
        kept = ()  # written by hand or by a broken build: the entry still shows
    try:
        confirmed = json.loads(confirmation) if confirmation else None
    except ValueError:
        confirmed = None
    return SendDetail(
        entry=_entry(row),
        results=kept,
        verdict=verdict or "",
        visitor_id=visitor_id,
        conversation_id=conversation_id,
        as_user_id=bool(as_user_id),
        confirmation=confirmed if isinstance(confirmed, dict) else None,
    )


def _member(kind: type[_E], value: str, default: _E) -> _E:
    try:
        return kind(value)
    except ValueError:
        return default


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:  # SQLite rolls back by itself on a full disk, say
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _stamp(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC: text order is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _hidden(secrets: Sequence[str]) -> list[str]:
    """The secrets, and their URL-encoded forms (scrub() adds the base64 ones)."""
    from urllib.parse import quote

    return [*secrets, *(quote(secret, safe="") for secret in secrets)]


def _unavailable(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return (
            "The send history is busy: another copy of this app is writing to it. Try again "
            "in a moment."
        )
    if "readonly" in text or "read-only" in text:
        return "The send history's file cannot be written to (it is read-only)."
    if "full" in text:
        return "The disk is full, so the send history cannot be written."
    return "The send history cannot be read or written just now."
