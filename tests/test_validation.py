"""The validator of real Live Chat events: every input shape, every rule, in plain sentences."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from app.chatlio import Conversation
from app.segment.payload import Visitor, build_track
from app.validation import Report, check_bytes, check_text


def spec_shaped() -> list[dict[str, Any]]:
    """Our own test conversation, as it goes to Segment: the Live Chat spec's shape."""
    conversation = Conversation()
    visitor = Visitor(conversation.visitor_id)
    return [build_track(event, visitor).payload for event in conversation.events()]


def lean_shaped() -> list[dict[str, Any]]:
    """The leaner shape Segment's Chatlio page implies: the duration only on Ended, the message
    id and body only on messages; the visitor as userId, as the spec's examples send it."""
    events = []
    for sent in spec_shaped():
        payload = {**sent, "properties": dict(sent["properties"])}
        payload["userId"] = payload.pop("anonymousId")
        properties = payload["properties"]
        if payload["event"] != "Live Chat Conversation Ended":
            del properties["conversation_duration"]
        if "Message" not in payload["event"]:
            del properties["message_id"]
        events.append(payload)
    return events


def one(**changes: Any) -> dict[str, Any]:
    """A clean Live Chat Message Sent event with `changes` (None deletes a field)."""
    event = dict(spec_shaped()[1])
    assert event["event"] == "Live Chat Message Sent"
    for name, value in changes.items():
        if value is None:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def with_properties(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    properties = dict(event["properties"])
    for name, value in changes.items():
        if value is None:
            properties.pop(name, None)
        else:
            properties[name] = value
    return {**event, "properties": properties}


def codes(report: Report) -> list[str]:
    return [p.code for p in report.problems] + [p.code for e in report.events for p in e.problems]


def texts(report: Report) -> list[str]:
    return [p.text for p in report.problems] + [p.text for e in report.events for p in e.problems]


def check(value: Any) -> Report:
    return check_text(json.dumps(value))


# --- what is clean --------------------------------------------------------------------------------


def as_one_event(events: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(event, indent=2) for event in events]  # the Raw view, pretty-printed


@pytest.mark.parametrize("shape", [spec_shaped, lean_shaped])
@pytest.mark.parametrize(
    "form",
    [
        json.dumps,
        lambda events: "\n".join(json.dumps(e) for e in events) + "\n",
        lambda events: json.dumps({"batch": events, "sentAt": "2026-01-02T03:04:05.000Z"}),
    ],
    ids=["list", "json-lines", "batch"],
)
def test_both_shapes_are_clean_in_every_form(shape: Any, form: Any) -> None:
    events = shape()
    report = check_text(form(events))
    assert codes(report) == []
    assert report.clean
    assert [e.name for e in report.events] == [e["event"] for e in events]
    assert report.summary() == "Checked 6 events: no problems. They match the Live Chat spec."


def test_one_pretty_printed_event_and_a_byte_order_mark_are_clean() -> None:
    for text in as_one_event(spec_shaped()):
        report = check_bytes(b"\xef\xbb\xbf" + text.encode())
        assert report.clean, texts(report)
        assert report.summary().endswith("It matches the Live Chat spec.")


def test_where_each_event_is_is_said() -> None:
    events = spec_shaped()[:2]
    lines = check_text("\n\n".join(json.dumps(e) for e in events))
    assert [e.where for e in lines.events] == ["line 1", "line 3"]
    batch = check({"batch": events})
    assert [e.label for e in batch.events][1] == (
        "Event 2, “Live Chat Message Sent” (item 2 of the batch)"
    )


# --- names ----------------------------------------------------------------------------------------


def test_a_name_in_other_capitals_lands_in_the_same_table_but_is_another_event() -> None:
    report = check(one(event="Live chat message sent"))
    assert codes(report) == ["event_name_spelling"]
    [text] = texts(report)
    assert "still lands in live_chat_message_sent" in text
    assert "different event" in text
    assert "exactly “Live Chat Message Sent”" in text


def test_a_name_run_together_lands_in_a_table_of_its_own() -> None:
    report = check(one(event="Livechat Message Sent"))
    [text] = texts(report)
    assert "a table of its own, livechat_message_sent, instead of live_chat_message_sent" in text


def test_a_spelling_still_gets_the_checks_of_the_event_it_means() -> None:
    report = check(with_properties(one(event="live chat message sent"), message_id=None))
    assert codes(report) == ["event_name_spelling", "no_message_id"]


@pytest.mark.parametrize(
    ("name", "code"),
    [(None, "no_event_name"), ("  ", "no_event_name"), (7, "no_event_name"),
     ("Order Completed", "not_live_chat"), ("Live Chat Message", "not_live_chat")],
)  # fmt: skip
def test_missing_or_foreign_names(name: Any, code: str) -> None:
    event = one(event=name) if name is not None else one(event=None)
    assert codes(check(event)) == [code]


def test_other_calls_are_not_live_chat_events() -> None:
    report = check({"type": "identify", "userId": "u-1", "traits": {}})
    assert codes(report) == ["not_track"]
    assert "“identify”, not “track”" in texts(report)[0]


def test_a_batch_item_needs_its_type() -> None:
    assert codes(check({"batch": [one(type=None)]})) == ["no_type"]
    assert codes(check(one(type=None))) == []  # alone it may go to /v1/track


# --- ids ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"anonymousId": None}, ["no_visitor_id"]),
        ({"anonymousId": ""}, ["no_visitor_id"]),
        ({"anonymousId": None, "userId": "u-1"}, []),
        ({"anonymousId": 12345}, []),
        ({"anonymousId": {"id": 1}}, ["visitor_id_type"]),
        ({"anonymousId": True}, ["visitor_id_type"]),
        ({"messageId": "m" * 100}, []),
        ({"messageId": "m" * 101}, ["message_id_too_long"]),
        ({"messageId": 42}, ["message_id_type"]),
        ({"messageId": None}, []),
    ],
)
def test_visitor_and_segment_ids(changes: dict[str, Any], expected: list[str]) -> None:
    assert codes(check(one(**changes))) == expected


@pytest.mark.parametrize(
    ("event", "removed", "expected"),
    [
        ("Live Chat Message Sent", "conversation_id", ["no_conversation_id"]),
        ("Live Chat Conversation Started", "conversation_id", ["no_conversation_id"]),
        ("Live Chat Message Sent", "message_id", ["no_message_id"]),
        ("Live Chat Message Received", "message_id", ["no_message_id"]),
        ("Live Chat Conversation Started", "message_id", []),  # the lean shape has none
        ("Live Chat Conversation Ended", "conversation_duration", ["no_conversation_duration"]),
        ("Live Chat Message Sent", "conversation_duration", []),  # the lean shape has none
        ("Live Chat Message Received", "agent_id", ["no_agent_id"]),
        ("Live Chat Conversation Started", "agent_id", []),  # no agent may have answered yet
        ("Live Chat Message Sent", "message_body", []),  # optional
    ],
)
def test_ids_the_spec_has_where_it_has_them(event: str, removed: str, expected: list[str]) -> None:
    [payload] = [e for e in spec_shaped() if e["event"] == event][:1]
    assert codes(check(with_properties(payload, **{removed: None}))) == expected


def test_properties_must_be_an_object() -> None:
    report = check(one(properties=["conversation_id", "c-1"]))
    assert codes(report) == ["properties_not_object"]
    # No properties at all: what the event needs is missing.
    assert codes(check(one(properties=None))) == ["no_conversation_id", "no_message_id"]


# --- types ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code", "words"),
    [
        ("75", "conversation_duration_type", "the text “75”"),
        (75.0, "conversation_duration_type", "the decimal number “75.0”"),
        (75.5, "conversation_duration_type", "decimal"),
        (True, "conversation_duration_type", "“true”"),
        ([75], "conversation_duration_type", "“[75]”"),
        (-3, "conversation_duration_negative", "cannot be negative"),
    ],
)
def test_the_duration_must_be_a_json_integer(value: Any, code: str, words: str) -> None:
    report = check(with_properties(one(), conversation_duration=value))
    assert codes(report) == [code]
    assert words in texts(report)[0]


def test_a_json_integer_duration_is_clean_and_75_point_0_in_the_text_is_not() -> None:
    text = json.dumps(with_properties(one(), conversation_duration=75))
    assert check_text(text).clean
    assert codes(
        check_text(text.replace('"conversation_duration": 75', '"conversation_duration": 75.0'))
    ) == ["conversation_duration_type"]


@pytest.mark.parametrize("name", ["agent_id", "agent_name", "conversation_id", "message_body"])
def test_text_properties_must_be_text(name: str) -> None:
    assert codes(check(with_properties(one(), **{name: 1234}))) == [f"{name}_type"]


@pytest.mark.parametrize(
    ("field", "value", "clean"),
    [
        ("timestamp", "2026-01-02T03:04:05.678Z", True),
        ("timestamp", "2026-01-02T03:04:05+01:00", True),
        ("originalTimestamp", "2026-01-02 03:04:05", True),
        ("sentAt", "yesterday", False),
        ("receivedAt", "2026-01-02", False),
        ("timestamp", 1767323045, False),
    ],
)
def test_timestamps(field: str, value: Any, clean: bool) -> None:
    assert codes(check(one(**{field: value}))) == ([] if clean else [f"{field}_format"])


def test_context_and_integrations_must_be_objects() -> None:
    assert codes(check(one(context="web", integrations=["All"]))) == [
        "context_not_object",
        "integrations_not_object",
    ]
    assert codes(check({"batch": [one()], "context": 3})) == ["context_not_object"]


# --- sizes ----------------------------------------------------------------------------------------


def test_an_event_over_32_kb() -> None:
    report = check(with_properties(one(), message_body="x" * 33_000))
    assert codes(report) == ["too_big"]
    assert "32 KB" in texts(report)[0]
    assert check(with_properties(one(), message_body="x" * 30_000)).clean


def test_a_batch_over_its_limits() -> None:
    assert codes(check({"batch": [one()] * 2501}))[:2] == ["batch_too_many", "batch_too_big"]
    big = with_properties(one(), message_body="x" * 30_000)
    assert codes(check({"batch": [big] * 20})) == ["batch_too_big"]
    assert check({"batch": [one()] * 20}).clean


# --- what is not an event -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("[]", "empty"),
        ('{"batch": []}', "empty"),
        ('{"batch": {}}', "batch_not_a_list"),
        ("42", "not_an_event"),
        ('{"event": "Live Chat Message Sent",\n "anonymousId": }', "not_json"),
        ('{"conversation_duration": NaN}', "not_json"),
        ("[" * 100_000, "not_json"),
    ],
)
def test_what_is_not_events_is_one_clear_problem(text: str, code: str) -> None:
    report = check_text(text)
    assert codes(report) == [code]
    assert not report.clean


def test_a_json_mistake_says_where_it_is() -> None:
    [problem] = check_text('{"event": "Live Chat Message Sent",\n "anonymousId": }').problems
    assert "line 2, character 17" in problem.text
    good = json.dumps(one())
    [problem] = check_text(f"{good}\n{good}\n{{oops\n").problems
    assert "line 3" in problem.text


def test_a_list_item_that_is_not_an_object() -> None:
    report = check([one(), "hello"])
    assert [codes(Report((), (e,))) for e in report.events] == [[], ["not_an_event"]]
    assert report.summary() == "Checked 2 events: 1 problem in 1 of them."


def test_bytes_that_are_not_utf8() -> None:
    assert codes(check_bytes(b"\xff\xfe{\x00")) == ["not_text"]


# --- the sentences --------------------------------------------------------------------------------


def every_problem() -> Report:
    """One input that has as many different problems as one batch can hold."""
    ended = next(e for e in spec_shaped() if e["event"] == "Live Chat Conversation Ended")
    received = next(e for e in spec_shaped() if e["event"] == "Live Chat Message Received")
    batch = [
        one(event="Live chat message sent", anonymousId=None, messageId="m" * 101),
        with_properties(one(timestamp="soon", context=1), conversation_duration="75"),
        with_properties(ended, conversation_duration=None, conversation_id=None),
        with_properties(received, agent_id=None, message_id=None, agent_name=5),
        one(event="Something Else", type="page"),
        one(type=None, properties=[1]),
        "not an event",
    ]
    return check({"batch": batch})


def test_each_problem_is_one_plain_sentence_with_its_effect_and_fix() -> None:
    report = every_problem()
    assert len(set(codes(report))) >= 14
    for text in texts(report):
        assert text.endswith("."), text
        assert not re.search(r"[.!?] [A-Z]", text), f"more than one sentence: {text}"
        assert ":" in text or ";" in text, f"no effect and fix: {text}"  # what; effect: fix
        for jargon in ("2xx", "KeyError", "Traceback", "None", "dict", "str"):
            assert jargon not in text.split(), text


def test_a_pasted_write_key_is_never_repeated() -> None:
    key = "PlantedValidateKey0123456789abcd"
    assert len(key) == 32
    report = check({"batch": [one(writeKey=key), key], "writeKey": key})
    assert key not in json.dumps(report.to_json())
    assert key not in check_text(json.dumps(key)).problems[0].text


def test_the_json_report() -> None:
    report = check([one(), one(anonymousId=None)])
    data = report.to_json()
    assert data["clean"] is False
    assert [len(e["problems"]) for e in data["events"]] == [0, 1]
    assert data["events"][1]["problems"][0]["code"] == "no_visitor_id"
    assert data["summary"] == report.summary()
