"""The history database's tables, and the migrations that bring any earlier file up to date.

The file's `PRAGMA user_version` is the number of migrations applied to it. A migration is only
ever appended, never edited: a file written by an earlier version is brought up to date step by
step, and keeps every send it holds.
"""

from __future__ import annotations

import sqlite3

# Each entry takes a file from version N to N + 1 (the list's index N).
MIGRATIONS: list[str] = [
    # 1: the first version.
    """
    -- One row per send: what the list shows and filters on, small, so a page or a filter
    -- over many thousands of sends reads little.
    CREATE TABLE sends (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: list pages stay stable
        started_at TEXT NOT NULL,  -- ISO 8601 UTC, fixed width, so text order is time order
        face TEXT NOT NULL,
        source TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        region TEXT NOT NULL,
        sandbox INTEGER NOT NULL,
        events TEXT NOT NULL,  -- '|name|name|': one event filter is one LIKE
        total INTEGER NOT NULL,
        arrived INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        summary TEXT NOT NULL,
        visitor_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        as_user_id INTEGER NOT NULL,
        confirmed TEXT NOT NULL DEFAULT '',  -- the confirmation's headline
        search TEXT NOT NULL  -- what the text filter looks in
    );
    CREATE INDEX sends_started_at ON sends (started_at);
    -- The rest of a send, read when one is opened or exported.
    CREATE TABLE send_details (
        send_id INTEGER PRIMARY KEY REFERENCES sends (id) ON DELETE CASCADE,
        verdict TEXT NOT NULL,
        results TEXT NOT NULL,  -- JSON: app.history.records.result_to_json of each result
        confirmation TEXT  -- JSON: Confirmation.to_json(), once Segment was asked
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- How many sends there are, kept by the triggers: keeping "the last N" costs the same
    -- with a thousand sends as with a million (counting them would read them all).
    CREATE TABLE tally (sends INTEGER NOT NULL);
    INSERT INTO tally (sends) VALUES (0);
    CREATE TRIGGER sends_added AFTER INSERT ON sends
    BEGIN
        UPDATE tally SET sends = sends + 1;
    END;
    CREATE TRIGGER sends_removed AFTER DELETE ON sends
    BEGIN
        UPDATE tally SET sends = sends - 1;
    END;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(connection: sqlite3.Connection, migrations: list[str] | None = None) -> None:
    """Apply what `connection`'s file lacks, each step in its own transaction."""
    steps = MIGRATIONS if migrations is None else migrations
    for number in range(version(connection), len(steps)):
        connection.execute("BEGIN IMMEDIATE")
        if version(connection) > number:  # another process applied it while this one waited
            connection.execute("COMMIT")
            continue
        try:
            # executescript would commit first; each statement runs inside this transaction.
            for statement in _statements(steps[number]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _statements(script: str) -> list[str]:
    """A migration's statements, one by one: each ends at the first ';' that completes it."""
    statements, current = [], ""
    for char in script:
        current += char
        if char == ";" and sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
