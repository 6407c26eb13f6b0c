"""Check real Live Chat events (what Segment's Source Debugger shows) against the Live Chat spec
and the rules of Segment and its warehouses.

Accepts what a person pastes or a script pipes in: one event, a JSON list of events, JSON lines,
or a `/v1/batch` body. Each problem is one sentence: what is wrong, what it causes downstream,
and the fix. Both shapes a real Chatlio event may have are accepted: the Live Chat spec's (every
property on every event, the duration a running count) and the leaner one Segment's Chatlio page
implies (the duration only on Ended, the message id only on messages). Only what breaks Segment,
a warehouse table or the usual queries is flagged.

No value of a field that might hold a secret (a `writeKey` in a pasted body) is ever repeated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.chatlio import (
    CONVERSATION_ENDED,
    EVENTS,
    EVENTS_BY_NAME,
    MESSAGE_EVENTS,
    MESSAGE_RECEIVED,
    PROPERTIES,
)
from app.redaction import printable, scrub
from app.segment.limits import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    MAX_MESSAGE_ID_CHARS,
)
from app.segment.payload import encoded_size
from app.segment.warehouse import snake_case

# The most text read at once: far more than any debugger copy, far less than a machine's memory.
MAX_INPUT_BYTES = 50 * 1024 * 1024
TIME_FIELDS = ("timestamp", "originalTimestamp", "sentAt", "receivedAt")
_QUOTE_CHARS = 60
_MESSAGE_NAMES = {spec.name for spec in MESSAGE_EVENTS}


@dataclass(frozen=True)
class Problem:
    """One thing wrong: a stable code for scripts, and the sentence a person reads."""

    code: str
    text: str


@dataclass(frozen=True)
class CheckedEvent:
    """One event of the input and what is wrong with it (nothing, when it is clean)."""

    number: int  # 1, 2, … in the order of the input
    where: str  # "line 3", "item 2 of the batch", or "" for a lone event
    name: str  # the event's name as sent, "" when it has none
    problems: tuple[Problem, ...]

    @property
    def label(self) -> str:
        """'Event 2, Live Chat Message Sent (line 2)', for a person."""
        name = f", {_quote(self.name)}" if self.name else ""
        where = f" ({self.where})" if self.where else ""
        return f"Event {self.number}{name}{where}"


@dataclass(frozen=True)
class Report:
    """Everything found: problems of the input as a whole, then each event's."""

    problems: tuple[Problem, ...]
    events: tuple[CheckedEvent, ...]

    @property
    def clean(self) -> bool:
        return bool(self.events) and not self.problem_count

    @property
    def problem_count(self) -> int:
        return len(self.problems) + sum(len(event.problems) for event in self.events)

    def summary(self) -> str:
        """One sentence: how many events, how many problems."""
        count = len(self.events)
        events = f"{count} event" + ("" if count == 1 else "s")
        if self.clean:
            match = "It matches" if count == 1 else "They match"
            return f"Checked {events}: no problems. {match} the Live Chat spec."
        if not self.events:
            return "Nothing could be checked: " + problems_phrase(self.problem_count) + "."
        faulty = sum(1 for event in self.events if event.problems)
        where = f" in {faulty} of them" if faulty and faulty != count else ""
        return f"Checked {events}: {problems_phrase(self.problem_count)}{where}."

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "events": [
                {
                    "number": event.number,
                    "where": event.where,
                    "event": event.name,
                    "problems": [_problem_json(p) for p in event.problems],
                }
                for event in self.events
            ],
            "problems": [_problem_json(p) for p in self.problems],
            "summary": self.summary(),
        }


def _problem_json(problem: Problem) -> dict[str, str]:
    return {"code": problem.code, "text": problem.text}


def problems_phrase(count: int) -> str:
    """'1 problem', '3 problems'."""
    return f"{count} problem" + ("" if count == 1 else "s")


def _quote(value: object) -> str:
    """A value as a person sees it in a sentence: short, printable, JSON-spelled."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"“{printable(scrub(text, []), _QUOTE_CHARS)}”"  # scrub: a pasted key stays hidden


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    where: str
    value: Any
    in_batch: bool


def check_bytes(data: bytes) -> Report:
    """Check raw input (a file, standard input): UTF-8, with or without a byte-order mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Report(
            (
                Problem(
                    "not_text",
                    "This is not text in UTF-8, so it cannot be an event: copy the event again "
                    "from the Source Debugger's Raw view, or save the file as UTF-8.",
                ),
            ),
            (),
        )
    return check_text(text)


def check_text(text: str) -> Report:
    """Check every event in `text`: one event, a list, JSON lines or a /v1/batch body."""
    if not text.strip():
        return Report(
            (
                Problem(
                    "empty",
                    "There is nothing to check: paste an event as the Source Debugger's Raw "
                    "view shows it.",
                ),
            ),
            (),
        )
    try:
        items, problems = _read(text)
    except _Unreadable as exc:
        return Report((exc.problem,), ())
    events = tuple(
        CheckedEvent(
            number,
            item.where,
            _name_of(item.value),
            tuple(_event_problems(item.value, item.in_batch)),
        )
        for number, item in enumerate(items, start=1)
    )
    return Report(tuple(problems), events)


class _Unreadable(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.text)
        self.problem = problem


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(text: str) -> Any:
    """Strict JSON: NaN and Infinity (which Python would take) are refused, as Segment does."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _read(text: str) -> tuple[list[_Item], list[Problem]]:
    try:
        document = _loads(text)
    except ValueError as whole:
        lines = _json_lines(text)
        if lines is None:
            raise _Unreadable(_not_json(whole)) from None
        return lines, []
    if isinstance(document, dict) and "batch" in document:
        return _batch(document)
    if isinstance(document, dict):
        return [_Item("", document, False)], []
    if isinstance(document, list):
        if not document:
            raise _Unreadable(Problem("empty", "The list is empty: there is no event to check."))
        return [_Item(f"item {n} of the list", v, False) for n, v in enumerate(document, 1)], []
    raise _Unreadable(
        Problem(
            "not_an_event",
            f"This is {_quote(document)}, not an event: an event is a JSON object in braces, "
            "as the Source Debugger's Raw view shows it.",
        )
    )


def _json_lines(text: str) -> list[_Item] | None:
    """JSON lines, one event per line; None when the text is not that either."""
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(numbered) < 2:
        return None
    items: list[_Item] = []
    for number, line in numbered:
        try:
            value = _loads(line)
        except ValueError as error:
            if not items:  # not JSON lines at all: a broken document spread over lines
                return None
            raise _Unreadable(_not_json(error, line=number)) from None
        items.append(_Item(f"line {number}", value, False))
    return items


def _not_json(error: ValueError, line: int | None = None) -> Problem:
    if isinstance(error, json.JSONDecodeError):
        where = f" (the first mistake is at line {line or error.lineno}, character {error.colno})"
    else:
        where = f" (at line {line})" if line else ""
    return Problem(
        "not_json",
        f"This is not valid JSON{where}, so Segment would refuse "
        "all of it: check for a missing comma, quote or brace there, or copy the event again "
        "from the Source Debugger's Raw view.",
    )


def _batch(document: dict[str, Any]) -> tuple[list[_Item], list[Problem]]:
    batch = document["batch"]
    if not isinstance(batch, list):
        raise _Unreadable(
            Problem(
                "batch_not_a_list",
                "The batch is not a list of events, so Segment would refuse the request: "
                'write it as "batch": [ {…}, {…} ].',
            )
        )
    if not batch:
        raise _Unreadable(Problem("empty", "The batch is empty: there is no event to check."))
    problems = []
    if len(batch) > MAX_BATCH_EVENTS:
        problems.append(
            Problem(
                "batch_too_many",
                f"The batch holds {len(batch):,} events; Segment takes at most "
                f"{MAX_BATCH_EVENTS:,} in one request and silently drops the whole batch "
                "otherwise: send them in smaller batches.",
            )
        )
    size = encoded_size(document)
    if size > MAX_BATCH_BYTES:
        problems.append(
            Problem(
                "batch_too_big",
                f"The batch is {size / 1024:,.0f} KB; Segment refuses a request over "
                f"{MAX_BATCH_BYTES // 1024} KB, so none of its events arrive: send them in "
                "smaller batches.",
            )
        )
    problems.extend(_object_problems(document, ("context", "integrations"), "The batch's"))
    items = [_Item(f"item {n} of the batch", v, True) for n, v in enumerate(batch, 1)]
    return items, problems


def _name_of(value: Any) -> str:
    name = value.get("event") if isinstance(value, dict) else None
    return name if isinstance(name, str) else ""


# --- one event ---------------------------------------------------------------------------------


def _event_problems(event: Any, in_batch: bool) -> Iterator[Problem]:
    if not isinstance(event, dict):
        yield Problem(
            "not_an_event",
            f"This is {_quote(event)}, not an event: an event is a JSON object in braces.",
        )
        return
    kind = event.get("type")
    if kind is None and in_batch:
        yield Problem(
            "no_type",
            'It has no "type": in a batch every event needs "type": "track", or Segment '
            'drops it: add "type": "track".',
        )
    elif kind is not None and kind != "track":
        yield Problem(
            "not_track",
            f"Its type is {_quote(kind)}, not “track”: Live Chat events are track calls, so "
            "this one creates no Live Chat row (if it is not from Chatlio, leave it out of the "
            "check).",
        )
        return
    spec_name = yield from _name_problems(event.get("event"))
    yield from _visitor_problems(event)
    yield from _properties_problems(event.get("properties"), spec_name)
    yield from _message_id_problems(event.get("messageId"))
    yield from _time_problems(event)
    yield from _object_problems(event, ("context", "integrations"), "Its")
    size = encoded_size(event)
    if size > MAX_EVENT_BYTES:
        yield Problem(
            "too_big",
            f"It is {size / 1024:,.1f} KB; Segment refuses an event over "
            f"{MAX_EVENT_BYTES // 1024} KB, so it never arrives: shorten its longest values "
            "(a message body, say).",
        )


_SEPARATORS = re.compile(r"[\s_\-]+")


def _folded(name: str) -> str:
    return _SEPARATORS.sub("", name).lower()


_FOLDED_NAMES = {_folded(spec.name): spec.name for spec in EVENTS}
_ALL_NAMES = ", ".join(f"“{spec.name}”" for spec in EVENTS)


def _name_problems(name: Any) -> Generator[Problem, None, str | None]:
    """Problems with the event's name; returns the Live Chat event it is meant to be, if any."""
    if not isinstance(name, str) or not name.strip():
        yield Problem(
            "no_event_name",
            "It has no event name, so Segment discards it after answering (Delivery Overview "
            'shows "event_not_defined"): the name must be one of the four Live Chat events.',
        )
        return None
    if name in EVENTS_BY_NAME:
        return name
    meant = _FOLDED_NAMES.get(_folded(name))
    if meant is None:
        yield Problem(
            "not_live_chat",
            f"{_quote(name)} is not one of the four Live Chat events ({_ALL_NAMES}), so it "
            "lands in a table of its own and no Live Chat query counts it: if it comes from "
            "Chatlio, its name must be one of those, spelled exactly so.",
        )
        return None
    table, expected = snake_case(name), snake_case(meant)
    if table != expected:
        effect = f"it lands in a table of its own, {table}, instead of {expected}"
    else:
        effect = (
            f"it still lands in {expected}, but destinations (analytics tools, reports, "
            "funnels) count it as a different event"
        )
    yield Problem(
        "event_name_spelling",
        f"The name {_quote(name)} is spelled differently from the Live Chat spec's "
        f"“{meant}”: {effect}; the name must be exactly “{meant}” (capitals and spaces too).",
    )
    return meant


def _visitor_problems(event: dict[str, Any]) -> Iterator[Problem]:
    ids = [event.get(field) for field in ("userId", "anonymousId")]
    present = [v for v in ids if v is not None and v != ""]
    if not present:
        yield Problem(
            "no_visitor_id",
            "It has neither a userId nor an anonymousId, so Segment discards it after "
            'answering (Delivery Overview shows "no_user_anon_id"): every event needs the '
            "visitor's id in one of them.",
        )
        return
    for field, value in zip(("userId", "anonymousId"), ids, strict=True):
        if value is not None and value != "" and (isinstance(value, bool) or _not_id(value)):
            yield Problem(
                "visitor_id_type",
                f"Its {field} is {_quote(value)}, which is not an id: the visitor cannot be "
                f"tied to the rest of their visit; {field} must be text (or a number).",
            )


def _not_id(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return not isinstance(value, int | float)


def _properties_problems(properties: Any, spec_name: str | None) -> Iterator[Problem]:
    if properties is None:
        properties = {}
    elif not isinstance(properties, dict):
        yield Problem(
            "properties_not_object",
            f"Its properties are {_quote(properties)}, not a set of name/value pairs, so "
            "Segment keeps none of them and the Live Chat columns stay empty: properties must "
            "be a JSON object in braces.",
        )
        return
    yield from _property_type_problems(properties)
    if spec_name is None:
        return
    yield from _missing_problems(properties, spec_name)


def _property_type_problems(properties: dict[str, Any]) -> Iterator[Problem]:
    for name, spec in PROPERTIES.items():
        value = properties.get(name)
        if value is None:
            continue
        if spec.json_type == "integer":
            yield from _duration_problems(name, value)
        elif not isinstance(value, str):
            yield Problem(
                f"{name}_type",
                f"{name} is {_quote(value)}, not text: a warehouse fixes a column's type from "
                f"the first value it receives, so a mix of numbers and text in {name} makes "
                "later rows fail to load; it must always be sent as text (in quotes).",
            )


def _duration_problems(name: str, value: Any) -> Iterator[Problem]:
    whole = isinstance(value, int) and not isinstance(value, bool)
    if whole and value >= 0:
        return
    if whole:
        yield Problem(
            f"{name}_negative",
            f"{name} is {value}: a length of time cannot be negative, so duration reports "
            "come out wrong; it must be the whole seconds since the conversation started.",
        )
        return
    if isinstance(value, str):
        shape = f"the text {_quote(value)}"
        fix = "send the number without quotes"
    elif isinstance(value, float):
        shape = f"the decimal number {_quote(value)}"
        fix = "send whole seconds, with no decimal point"
    else:
        shape = _quote(value)
        fix = "send whole seconds as a plain number"
    yield Problem(
        f"{name}_type",
        f"{name} is {shape}, not a whole number: a warehouse fixes the column's type from the "
        "first value it receives, so the column ends up as text or decimals (or later rows "
        f"fail to load) and duration queries break; {fix}, like 75.",
    )


def _missing_problems(properties: dict[str, Any], spec_name: str) -> Iterator[Problem]:
    if not _present(properties.get("conversation_id")):
        yield Problem(
            "no_conversation_id",
            "It has no conversation_id, so it cannot be tied to its conversation and "
            "per-conversation counts and durations miss it: every Live Chat event needs one.",
        )
    if spec_name in _MESSAGE_NAMES and not _present(properties.get("message_id")):
        yield Problem(
            "no_message_id",
            "It has no message_id, so this message cannot be told apart from the "
            "conversation's others and message counts come out wrong: every message event "
            "needs Chatlio's message id.",
        )
    if spec_name == CONVERSATION_ENDED.name and properties.get("conversation_duration") is None:
        yield Problem(
            "no_conversation_duration",
            "It has no conversation_duration, so this conversation's length is missing from "
            "duration reports: the Ended event needs the whole seconds the conversation took.",
        )
    if spec_name == MESSAGE_RECEIVED.name and not _present(properties.get("agent_id")):
        yield Problem(
            "no_agent_id",
            "It has no agent_id, so this answer counts for no agent in per-agent reports: a "
            "message the visitor received comes from an agent, and needs the agent's id.",
        )


def _present(value: Any) -> bool:
    """Given at all (a value of the wrong type is its own problem, not a missing one)."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def _message_id_problems(message_id: Any) -> Iterator[Problem]:
    if message_id is None:
        return  # Segment gives the event one of its own
    if not isinstance(message_id, str) or not message_id.strip():
        yield Problem(
            "message_id_type",
            f"Its messageId is {_quote(message_id)}, not text, so Segment cannot use it to "
            "recognise a resend: it must be text, a new one for each event.",
        )
    elif len(message_id) > MAX_MESSAGE_ID_CHARS:
        yield Problem(
            "message_id_too_long",
            f"Its messageId is {len(message_id)} characters long; Segment takes at most "
            f"{MAX_MESSAGE_ID_CHARS}, so it may refuse or cut it and resends are no longer "
            f"recognised: keep messageId to {MAX_MESSAGE_ID_CHARS} characters (a uuid is 36).",
        )


def _time_problems(event: dict[str, Any]) -> Iterator[Problem]:
    for field in TIME_FIELDS:
        value = event.get(field)
        if value is None or (isinstance(value, str) and _is_time(value)):
            continue
        yield Problem(
            f"{field}_format",
            f"Its {field} is {_quote(value)}, which is not a date and time Segment can read, "
            "so the event's time in the warehouse may be wrong or missing: write it in "
            "ISO-8601 with a time zone, like 2026-01-02T03:04:05.678Z.",
        )


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in text or " " in text.strip()


def _object_problems(
    holder: dict[str, Any], fields: tuple[str, ...], whose: str
) -> Iterator[Problem]:
    for field in fields:
        value = holder.get(field)
        if value is not None and not isinstance(value, dict):
            yield Problem(
                f"{field}_not_object",
                f"{whose} {field} is {_quote(value)}, not a set of name/value pairs, so Segment "
                f"ignores it: {field} must be a JSON object in braces.",
            )
