"""The warehouse SQL: the PostgreSQL variant runs against a real PostgreSQL server loaded with rows
shaped as Segment loads them, and returns the expected numbers; the other three parse in their
own dialect (none of them runs here) and spell names as their warehouse does."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlglot

from app.chatlio import Agent, Conversation
from app.segment.payload import Visitor, build_track
from app.segment.warehouse import STANDARD_COLUMNS, preview, snake_case
from app.warehouse_sql import (
    BIGQUERY,
    DIALECTS,
    POSTGRES,
    SNOWFLAKE,
    SchemaNameError,
    check_schema,
    everything_text,
    queries,
    tables_text,
)
from tests.cli_helpers import run_cli
from tests.postgres_server import PostgresServer, server_bin

SCHEMA = "chatlio"
DAY_1, DAY_2 = datetime(2026, 3, 2, 9, tzinfo=UTC), datetime(2026, 3, 3, 15, tzinfo=UTC)
ANN, BOB = Agent("U1", "Ann", "ann"), Agent("U2", "Bob", "bob")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    bin_dir = server_bin()
    if bin_dir is None:
        message = "PostgreSQL is not installed (bash scripts/dev setup installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a skip there would hide the test
        pytest.skip(message)
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


# --- rows as Segment loads them ----------------------------------------------------------------


def lean(payload: dict[str, Any]) -> dict[str, Any]:
    """The leaner shape of a real Chatlio event: the duration only on Ended, the message id and
    body only on the messages."""
    properties = dict(payload["properties"])
    if payload["event"] != "Live Chat Conversation Ended":
        del properties["conversation_duration"]
    if "Message" not in payload["event"]:
        properties.pop("message_id", None)
    return {**payload, "properties": properties}


def conversations() -> list[dict[str, Any]]:
    """Three conversations over two days, two agents, two visitors (one chatted twice); one in
    the lean shape; visitor messages 2 + 2 + 3, agent messages 2 + 1 + 3; 60, 75 and 200 s."""
    exchange_a = ((0, True), (10, False), (30, True), (50, False))
    a = Conversation("v-1", "conv-a", ANN, DAY_1, exchange_a, ended_after=60)
    exchange_b = ((0, True), (20, False), (40, True))
    b = Conversation("v-2", "conv-b", BOB, DAY_1.replace(hour=10), exchange_b, ended_after=75)
    c = replace(
        a,
        conversation_id="conv-c",
        started_at=DAY_2,
        exchange=((0, True), (5, False), (9, True), (30, False), (60, True), (90, False)),
        ended_after=200,
    )
    payloads = []
    for conversation, shape in ((a, None), (b, lean), (c, None)):
        visitor = Visitor(conversation.visitor_id, as_user_id=conversation is c)
        for event in conversation.events():
            payload = build_track(event, visitor).payload
            payloads.append(shape(payload) if shape else payload)
    return payloads


def row(payload: dict[str, Any]) -> dict[str, Any]:
    """One event as Segment's warehouse loader writes it: ids, names, times, flattened context
    and one column per property."""
    return {
        "id": payload["messageId"],
        "anonymous_id": payload.get("anonymousId"),
        "user_id": payload.get("userId"),
        "event": snake_case(payload["event"]),
        "event_text": payload["event"],
        "received_at": payload["timestamp"],
        "sent_at": payload["timestamp"],
        "timestamp": payload["timestamp"],
        "original_timestamp": payload["timestamp"],
        "uuid_ts": "2026-03-04T00:00:00Z",
        "context_library_name": payload["context"]["library"]["name"],
        "context_library_version": payload["context"]["library"]["version"],
        **payload["properties"],
    }


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert(table: str, rows: list[dict[str, Any]]) -> str:
    statements = []
    for values in rows:
        names = ", ".join(POSTGRES.name_of(name) for name in values)
        given = ", ".join(literal(v) for v in values.values())
        statements.append(
            f"INSERT INTO {POSTGRES.table(SCHEMA, table)} ({names}) VALUES ({given});"
        )
    return "\n".join(statements)


def load(server: PostgresServer, payloads: list[dict[str, Any]]) -> None:
    """The schema and tables as app.warehouse_sql spells them for PostgreSQL, then the rows:
    each event in its own table and in tracks, as Segment loads them."""
    ddl = [f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;", f"CREATE SCHEMA {SCHEMA};"]
    for table in preview("Chatlio"):
        columns = ", ".join(
            f"{POSTGRES.name_of(c.name)} {POSTGRES.types[c.type]}" for c in table.columns
        )
        ddl.append(f"CREATE TABLE {POSTGRES.table(SCHEMA, table.name)} ({columns});")
    standard = {c.name for c in STANDARD_COLUMNS}
    rows = [row(p) for p in payloads]
    inserts = [insert(r["event"], [r]) for r in rows]
    inserts.append(insert("tracks", [{k: v for k, v in r.items() if k in standard} for r in rows]))
    server.run("\n".join(ddl + inserts))


@pytest.fixture(scope="module")
def loaded(postgres: PostgresServer) -> PostgresServer:
    payloads = conversations()
    # Segment's loader can write a row twice; the queries count distinct ids.
    ended_c = next(
        p
        for p in payloads
        if p["properties"]["conversation_id"] == "conv-c" and "Ended" in p["event"]
    )
    message = next(p for p in payloads if p["event"] == "Live Chat Message Sent")
    # A visitor's other activity in the same source: not a chat.
    other = {
        **message,
        "event": "Order Completed",
        "anonymousId": "v-3",
        "messageId": "o-1",
        "properties": {},
    }
    load(postgres, [*payloads, ended_c, message])
    standard = {c.name for c in STANDARD_COLUMNS}
    postgres.run(insert("tracks", [{k: v for k, v in row(other).items() if k in standard}]))
    return postgres


def answer(server: PostgresServer, title: str) -> list[list[str]]:
    query = next(q for q in queries(POSTGRES, SCHEMA) if q.title == title)
    return server.run(query.sql + ";")


# --- PostgreSQL, for real ----------------------------------------------------------------------


def test_conversations_per_agent_per_day(loaded: PostgresServer) -> None:
    assert answer(loaded, "Conversations per agent per day") == [
        ["2026-03-02", "U1", "Ann", "1"],
        ["2026-03-02", "U2", "Bob", "1"],
        ["2026-03-03", "U1", "Ann", "1"],
    ]


def test_median_conversation_length(loaded: PostgresServer) -> None:
    assert answer(loaded, "Median conversation length") == [["3", "75"]]


def test_messages_per_conversation(loaded: PostgresServer) -> None:
    assert answer(loaded, "Messages per conversation") == [
        ["conv-c", "3", "3", "6"],
        ["conv-a", "2", "2", "4"],
        ["conv-b", "2", "1", "3"],
    ]


def test_visitors_who_chatted(loaded: PostgresServer) -> None:
    rows = answer(loaded, "Visitors who chatted")
    # v-1 chatted twice, once as anonymousId and once as userId: 6 + 8 chat events; v-3 only
    # bought something; the row loaded twice counts once.
    assert [(visitor, count) for visitor, _first, count in rows] == [("v-1", "14"), ("v-2", "5")]
    assert rows[0][1].startswith("2026-03-02 09:00:00")
    assert rows[1][1].startswith("2026-03-02 10:00:00")


def test_the_whole_printout_runs_as_one_script(loaded: PostgresServer) -> None:
    """What `sql` prints, pasted whole into psql: the comments are comments, every query runs."""
    loaded.run(everything_text(POSTGRES, SCHEMA))


def test_the_printed_tables_are_the_loaded_ones(loaded: PostgresServer) -> None:
    columns = loaded.run(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{SCHEMA}' ORDER BY table_name, ordinal_position;"
    )
    text = tables_text(POSTGRES, SCHEMA)
    for table, column, kind in columns:
        assert f"{SCHEMA}.{table}" in text
        assert f"--   {POSTGRES.name_of(column)} {kind}" in text


# --- the other warehouses ----------------------------------------------------------------------


@pytest.mark.parametrize("key", list(DIALECTS))
def test_every_query_parses_in_its_dialect(key: str) -> None:
    dialect = DIALECTS[key]
    for query in queries(dialect, SCHEMA):
        parsed = sqlglot.parse_one(query.sql, read=key, error_level=sqlglot.ErrorLevel.RAISE)
        assert parsed is not None
    assert all(len(line) <= 100 for line in everything_text(dialect, SCHEMA).splitlines())


def test_names_as_each_warehouse_spells_them() -> None:
    snowflake = everything_text(SNOWFLAKE, SCHEMA)
    assert "CHATLIO.LIVE_CHAT_CONVERSATION_ENDED" in snowflake
    assert "CONVERSATION_DURATION NUMBER" in snowflake
    assert "'live_chat_message_sent'" in snowflake  # values stay as Segment writes them
    bigquery = everything_text(BIGQUERY, SCHEMA)
    assert "`chatlio.live_chat_conversation_ended`" in bigquery
    assert "conversation_duration INT64" in bigquery
    assert "PERCENTILE_CONT(seconds, 0.5) OVER ()" in bigquery
    assert '"timestamp" timestamp with time zone' in everything_text(POSTGRES, SCHEMA)


@pytest.mark.parametrize("bad", ["", "1chatlio", "chat-lio", "x; DROP TABLE y", "a" * 128])
def test_a_schema_that_is_not_a_plain_name_is_refused(bad: str) -> None:
    with pytest.raises(SchemaNameError):
        check_schema(bad)
    with pytest.raises(SchemaNameError):
        queries(POSTGRES, bad)
    assert check_schema("chatlio_eu_2") == "chatlio_eu_2"


# --- the command line --------------------------------------------------------------------------


def test_the_parser_names_the_same_warehouses() -> None:
    from app.cli_parser import DEFAULT_SCHEMA, WAREHOUSES

    assert {key: d.name for key, d in DIALECTS.items()} == WAREHOUSES
    assert snake_case("Chatlio") == DEFAULT_SCHEMA


def test_sql_prints_postgres_by_default_and_any_warehouse_when_asked() -> None:
    default = run_cli("sql")
    assert default.returncode == 0, default.stderr
    assert default.stdout == everything_text(POSTGRES, SCHEMA)
    snowflake = run_cli("sql", "--warehouse", "Snowflake", "--schema", "chatlio_eu")
    assert snowflake.returncode == 0
    assert snowflake.stdout == everything_text(SNOWFLAKE, "chatlio_eu")
    assert run_cli("sql", "--warehouse", "bq").stdout == everything_text(BIGQUERY, SCHEMA)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--warehouse", "oracle"], "must be one of postgres, redshift, snowflake, bigquery"),
        (["--schema", "chat-lio"], "A schema name is letters, digits and _"),
    ],
)
def test_sql_refuses_unknown_names_with_a_sentence(args: list[str], words: str) -> None:
    result = run_cli("sql", *args)
    assert result.returncode == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr
