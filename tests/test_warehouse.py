"""The warehouse preview: Segment's snake-casing, the schema name and the tables."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.chatlio import EVENTS, PROPERTIES
from app.segment.warehouse import (
    STANDARD_COLUMNS,
    Column,
    Table,
    preview,
    qualified,
    schema_name,
    snake_case,
)

STANDARD_NAMES = [
    "id",
    "anonymous_id",
    "user_id",
    "event",
    "event_text",
    "received_at",
    "sent_at",
    "timestamp",
    "original_timestamp",
    "uuid_ts",
    "context_library_name",
    "context_library_version",
]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Live Chat Message Sent", "live_chat_message_sent"),
        ("Live Chat Conversation Started", "live_chat_conversation_started"),
        ("conversationId", "conversation_id"),
        ("Chatlio EU-2", "chatlio_eu_2"),
        ("Chatlio", "chatlio"),
        ("agent_id", "agent_id"),
        # The examples in segmentio/go-snakecase's own tests.
        ("sample text", "sample_text"),
        ("sample-text", "sample_text"),
        ("sample___text", "sample_text"),
        ("sampleText", "sample_text"),
        ("inviteYourCustomersAddInvites", "invite_your_customers_add_invites"),
        ("   $#$sample   2    Text   ", "sample_2_text"),
        ("SAMPLE 2 TEXT", "sample_2_text"),
        ("___$$Base64Encode", "base64_encode"),
        ("FOO:BAR$BAZ", "foo_bar_baz"),
        ("something.com", "something_com"),
        ("$something%", "something"),
        ("•¶§ƒ˚foo˙∆˚¬", "foo"),
        ("", ""),
        ("!!!", ""),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


@given(st.text())
def test_snake_case_is_idempotent(name: str) -> None:
    once = snake_case(name)
    assert snake_case(once) == once


@given(st.text())
def test_snake_case_gives_warehouse_safe_names(name: str) -> None:
    result = snake_case(name)
    assert re.fullmatch(r"[a-z0-9_]*", result)
    assert not result.startswith("_")
    assert not result.endswith("_")
    assert "__" not in result


@given(st.from_regex(r"[a-z0-9]+(_[a-z0-9]+)*", fullmatch=True))
def test_snake_case_keeps_snake_case_names(name: str) -> None:
    assert snake_case(name) == name


@pytest.mark.parametrize(
    ("source", "schema"),
    [
        ("Chatlio", "chatlio"),
        ("Chatlio Prod", "chatlio_prod"),
        ("  Chatlio (EU-2) ", "chatlio_eu_2"),
    ],
)
def test_schema_name(source: str, schema: str) -> None:
    assert schema_name(source) == schema


def test_preview_has_one_table_per_event_then_tracks() -> None:
    tables = preview("Chatlio")
    assert [t.name for t in tables] == [
        "live_chat_conversation_started",
        "live_chat_conversation_ended",
        "live_chat_message_sent",
        "live_chat_message_received",
        "tracks",
    ]
    assert all(t.description for t in tables)


def test_every_table_starts_with_the_standard_columns() -> None:
    for table in preview("Chatlio"):
        assert [c.name for c in table.columns[: len(STANDARD_NAMES)]] == STANDARD_NAMES
        assert all(c.description and c.type for c in table.columns)
        names = [c.name for c in table.columns]
        assert len(names) == len(set(names))


def test_event_tables_add_their_properties_typed() -> None:
    tables = {t.name: t for t in preview("Chatlio")}
    for spec in EVENTS:
        table = tables[snake_case(spec.name)]
        extra = table.columns[len(STANDARD_COLUMNS) :]
        assert [c.name for c in extra] == list(spec.properties)
        for column in extra:
            expected = "bigint" if PROPERTIES[column.name].json_type == "integer" else "varchar"
            assert column.type == expected
    ended = {c.name: c for c in tables["live_chat_conversation_ended"].columns}
    assert ended["conversation_duration"].type == "bigint"
    assert ended["agent_name"].type == "varchar"
    # The spec puts the running duration, the message id and the optional body on every event.
    sent = {c.name for c in tables["live_chat_message_sent"].columns}
    assert {"conversation_duration", "message_id", "message_body"} <= sent


def test_tracks_has_only_the_standard_columns() -> None:
    tracks = preview("Chatlio Prod")[-1]
    assert tracks.columns == STANDARD_COLUMNS
    assert "Chatlio Prod" in tracks.description
    assert "this source" in preview("  ")[-1].description


def test_standard_column_types() -> None:
    types = {c.name: c.type for c in STANDARD_COLUMNS}
    assert types["id"] == "varchar"
    assert types["received_at"] == types["uuid_ts"] == "timestamp"


def test_descriptions_are_short() -> None:
    for table in preview("Chatlio"):
        assert all(len(c.description) <= 80 for c in table.columns)


def test_qualified() -> None:
    table = Table("live_chat_message_sent", "x", (Column("id", "varchar", "x"),))
    assert qualified(table, "chatlio") == "chatlio.live_chat_message_sent"
    assert qualified(preview("Chatlio")[-1], schema_name("Chatlio Prod")) == "chatlio_prod.tracks"
