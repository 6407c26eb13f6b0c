"""The Live Chat catalogue and the realistic test conversation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.chatlio import (
    EVENTS,
    PROPERTIES,
    Agent,
    Conversation,
    find_event,
    property_type_errors,
)


def test_catalogue_follows_the_live_chat_spec() -> None:
    assert [e.name for e in EVENTS] == [
        "Live Chat Conversation Started",
        "Live Chat Conversation Ended",
        "Live Chat Message Sent",
        "Live Chat Message Received",
    ]
    assert set(PROPERTIES) == {
        "agent_id",
        "agent_name",
        "agent_username",
        "conversation_duration",
        "conversation_id",
        "message_id",
        "message_body",
    }
    assert [p for p in PROPERTIES if PROPERTIES[p].optional] == ["message_body"]
    assert PROPERTIES["conversation_duration"].json_type == "integer"
    assert all(PROPERTIES[p].description for p in PROPERTIES)
    for event in EVENTS:  # the spec lists the same properties for all four events
        assert event.properties == tuple(PROPERTIES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Live Chat Message Sent", "Live Chat Message Sent"),
        ("live chat message sent", "Live Chat Message Sent"),
        ("message-received", "Live Chat Message Received"),
        ("conversation-ended", "Live Chat Conversation Ended"),
        ("nope", None),
    ],
)
def test_find_event_by_full_or_short_name(text: str, expected: str | None) -> None:
    found = find_event(text)
    assert (found.name if found else None) == expected


def test_conversation_is_realistic() -> None:
    conversation = Conversation()
    events = conversation.events()
    assert events[0].name == "Live Chat Conversation Started"
    assert events[-1].name == "Live Chat Conversation Ended"
    assert {e.name for e in events} == {e.name for e in EVENTS}
    times = [e.timestamp for e in events]
    assert times == sorted(times)
    assert len({e.properties["conversation_id"] for e in events}) == 1
    message_ids = [e.properties["message_id"] for e in events]  # on every event, as in the spec
    assert len(message_ids) == len(set(message_ids)) == len(events)
    # A running count of whole seconds since the start, on every event.
    for event in events:
        duration = event.properties["conversation_duration"]
        assert type(duration) is int
        assert duration == int((event.timestamp - events[0].timestamp).total_seconds())
    assert events[0].properties["conversation_duration"] == 0
    for event in events:
        spec = find_event(event.name)
        assert spec is not None
        required = {p for p in spec.properties if not PROPERTIES[p].optional}
        assert required <= set(event.properties) <= set(spec.properties)
        is_message = "Message" in event.name
        assert bool(event.properties.get("message_body")) is is_message
        assert property_type_errors(event.properties) == []


def test_every_value_is_editable() -> None:
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    conversation = replace(
        Conversation(),
        visitor_id="v-1",
        conversation_id="c-1",
        agent=Agent("A1", "Ann", "ann"),
        started_at=start,
        exchange=((0, True),),
        ended_after=9,
    )
    events = conversation.events()
    assert [e.name for e in events] == [
        "Live Chat Conversation Started",
        "Live Chat Message Sent",
        "Live Chat Conversation Ended",
    ]
    assert events[0].properties["agent_name"] == "Ann"
    assert events[-1].properties == {
        "agent_id": "A1",
        "agent_name": "Ann",
        "agent_username": "ann",
        "conversation_id": "c-1",
        "conversation_duration": 9,
        "message_id": "c-1-msg-2",
    }
    assert replace(conversation, bodies=("Hello?",)).events()[1].properties["message_body"] == (
        "Hello?"
    )
    assert conversation.with_visitor("v-2").visitor_id == "v-2"


def test_a_conversation_ends_now_not_in_the_future() -> None:
    before = datetime.now(UTC)
    events = replace(Conversation(), ended_after=3600).events()
    after = datetime.now(UTC)
    assert before <= events[-1].timestamp <= after
    assert events[0].timestamp <= before - timedelta(seconds=3599)


def test_two_conversations_do_not_share_ids() -> None:
    first, second = Conversation(), Conversation()
    assert first.visitor_id != second.visitor_id
    assert first.conversation_id != second.conversation_id


@pytest.mark.parametrize("bad", ["75", 75.0, True, None])
def test_duration_must_be_a_whole_number(bad: object) -> None:
    problems = property_type_errors({"conversation_duration": bad})
    assert bool(problems) is (bad is not None)
