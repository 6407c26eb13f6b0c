"""Building and validating Tracking API payloads, including property-based checks."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app import __version__
from app.chatlio import EVENTS, Conversation, TestEvent
from app.segment.limits import MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from app.segment.payload import (
    Visitor,
    batch_problems,
    build_track,
    encoded_size,
    event_problems,
    iso_utc,
)

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_track_payload_shape() -> None:
    event = Conversation().events()[0]
    message = build_track(event, Visitor("visitor-1"))
    payload = message.payload
    assert payload["event"] == event.name
    assert payload["anonymousId"] == "visitor-1"
    assert "userId" not in payload
    assert payload["properties"] == event.properties
    assert payload["context"]["library"] == {
        "name": "chatlio-segment-setup",
        "version": __version__,
    }
    assert ISO_MS.match(payload["timestamp"])
    assert uuid.UUID(payload["messageId"]).version == 4
    assert message.message_id == payload["messageId"]
    assert event_problems(payload) == []


def test_user_id_on_request_and_fresh_message_ids() -> None:
    event = Conversation().events()[0]
    first = build_track(event, Visitor("u-1", as_user_id=True))
    second = build_track(event, Visitor("u-1", as_user_id=True))
    assert first.payload["userId"] == "u-1"
    assert "anonymousId" not in first.payload
    assert first.message_id != second.message_id


def test_iso_utc_converts_any_zone() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(moment) == "2026-03-04T03:06:07.891Z"
    assert iso_utc(datetime(2026, 3, 4, 5, 6, 7)) == "2026-03-04T05:06:07.000Z"


def _valid() -> dict[str, Any]:
    return build_track(Conversation().events()[-1], Visitor("v")).payload


def test_each_rule_has_a_plain_message() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"event": ""}, "no name"),
        ({"event": 7}, "no name"),
        ({"anonymousId": ""}, "no visitor id"),
        ({"properties": ["a"]}, "name/value pairs"),
        ({"properties": {"conversation_duration": "75"}}, "whole number"),
        ({"properties": {"conversation_duration": 7.5}}, "whole number"),
        ({"messageId": "x" * 101}, "at most 100"),
        ({"properties": {"agent_name": "x" * MAX_EVENT_BYTES}}, "32 KB"),
    ]
    for change, expected in cases:
        payload = {**_valid(), **change}
        problems = event_problems(payload)
        assert any(expected in p for p in problems), (change, problems)


def test_batch_limits() -> None:
    one = _valid()
    assert batch_problems([one]) == []
    assert any("nothing" in p for p in batch_problems([]))
    assert any("2500" in p for p in batch_problems([one] * (MAX_BATCH_EVENTS + 1)))
    big = {**one, "properties": {"agent_name": "x" * 30_000}}
    assert any("500 KB" in p for p in batch_problems([big] * 20))


text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=200)
values = st.one_of(text, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())


@given(
    name=st.sampled_from([e.name for e in EVENTS]),
    visitor=text.filter(str.strip),
    props=st.dictionaries(st.sampled_from(["agent_id", "agent_name", "note"]), text, max_size=3),
    duration=st.integers(min_value=0, max_value=10**9),
    as_user=st.booleans(),
)
def test_any_well_typed_event_is_valid(
    name: str, visitor: str, props: dict[str, str], duration: int, as_user: bool
) -> None:
    properties = {**props, "conversation_duration": duration}
    event = TestEvent(name, properties, datetime.now(UTC))
    payload = build_track(event, Visitor(visitor, as_user)).payload
    assert event_problems(payload) == []
    assert json.loads(json.dumps(payload)) == payload
    assert encoded_size(payload) == len(
        json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    )


@given(value=values)
def test_duration_accepted_exactly_when_it_is_an_integer(value: object) -> None:
    payload = {**_valid(), "properties": {"conversation_duration": value}}
    ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
    assert (event_problems(payload) == []) is ok


@given(size=st.integers(min_value=MAX_EVENT_BYTES - 400, max_value=MAX_EVENT_BYTES + 400))
def test_size_rule_matches_the_encoded_size(size: int) -> None:
    payload = _valid()
    filler = size - encoded_size({**payload, "properties": {**payload["properties"], "pad": ""}})
    payload["properties"] = {**payload["properties"], "pad": "x" * max(0, filler)}
    over = encoded_size(payload) > MAX_EVENT_BYTES
    assert any("32 KB" in p for p in event_problems(payload)) is over


def test_integrations_keep_an_event_from_destinations() -> None:
    from app.segment.payload import NO_DESTINATIONS

    event = Conversation().events()[0]
    plain = build_track(event, Visitor("v-1")).payload
    kept_away = build_track(event, Visitor("v-1"), integrations=NO_DESTINATIONS).payload
    assert "integrations" not in plain
    assert kept_away["integrations"] == {"All": False}
    assert event_problems(kept_away) == []
