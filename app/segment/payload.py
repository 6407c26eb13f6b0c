"""Build Tracking API payloads exactly as Segment documents them, and check them before sending."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from app import __version__
from app.chatlio import TestEvent, property_type_errors
from app.segment.limits import (
    MAX_BATCH_BYTES,
    MAX_BATCH_EVENTS,
    MAX_EVENT_BYTES,
    MAX_MESSAGE_ID_CHARS,
)

LIBRARY = {"name": "chatlio-segment-setup", "version": __version__}


def iso_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as Segment's libraries write it: 2026-01-02T03:04:05.678Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


@dataclass(frozen=True)
class Visitor:
    """Who the test events are about: Chatlio's visitor id, as anonymousId (default) or userId."""

    visitor_id: str
    as_user_id: bool = False

    def fields(self) -> dict[str, str]:
        return {"userId" if self.as_user_id else "anonymousId": self.visitor_id}


@dataclass(frozen=True)
class TrackMessage:
    """One track call: the payload and its Segment messageId, which retries of it reuse."""

    payload: dict[str, Any]
    message_id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "message_id", str(self.payload.get("messageId", "")))

    @property
    def event(self) -> str:
        name = self.payload.get("event")
        return name if isinstance(name, str) else repr(name)


# `integrations` that keep an event away from every destination. Warehouses still load it:
# they are not destinations in this sense (segment-and-chatlio.md §3); filter test events out
# there by context_library_name = LIBRARY["name"].
NO_DESTINATIONS: Mapping[str, bool] = MappingProxyType({"All": False})


def build_track(
    event: TestEvent,
    visitor: Visitor,
    message_id: str | None = None,
    integrations: Mapping[str, bool] | None = None,
) -> TrackMessage:
    """A track payload for `event` with a fresh uuid4 messageId and this app as context.library;
    `integrations` (such as NO_DESTINATIONS) when given."""
    payload: dict[str, Any] = {
        "type": "track",
        "event": event.name,
        **visitor.fields(),
        "properties": dict(event.properties),
        "context": {"library": dict(LIBRARY)},
        "timestamp": iso_utc(event.timestamp),
        "messageId": message_id or str(uuid.uuid4()),
    }
    if integrations is not None:
        payload["integrations"] = dict(integrations)
    return TrackMessage(payload)


def encoded_size(payload: Any) -> int:
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())


def _present(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def event_problems(payload: dict[str, Any]) -> list[str]:
    """Everything Segment would reject or silently drop about one track payload, in plain words."""
    problems = []
    event = payload.get("event")
    if not isinstance(event, str) or not event.strip():
        problems.append("The event has no name. Pick one of the four Live Chat events.")
    if not (_present(payload.get("userId")) or _present(payload.get("anonymousId"))):
        problems.append(
            "The event has no visitor id (anonymousId or userId); Segment would drop it."
        )
    properties = payload.get("properties", {})
    if not isinstance(properties, dict):
        problems.append("The properties must be a set of name/value pairs (a JSON object).")
    else:
        problems.extend(property_type_errors(properties))
    message_id = payload.get("messageId")
    if message_id is not None and (
        not isinstance(message_id, str) or len(message_id) > MAX_MESSAGE_ID_CHARS
    ):
        problems.append(
            f"Segment's messageId must be text of at most {MAX_MESSAGE_ID_CHARS} characters."
        )
    size = encoded_size(payload)
    if size > MAX_EVENT_BYTES:
        problems.append(
            f"The event is {size / 1024:.1f} KB; Segment accepts at most 32 KB per event. "
            "Shorten the property values."
        )
    return problems


def batch_problems(payloads: list[dict[str, Any]]) -> list[str]:
    """What makes a whole /v1/batch request unacceptable (count and total size)."""
    problems = []
    if not payloads:
        problems.append("There is nothing to send.")
    if len(payloads) > MAX_BATCH_EVENTS:
        problems.append(
            f"A batch may hold at most {MAX_BATCH_EVENTS} events; this one has {len(payloads)}. "
            "Segment would silently drop them all."
        )
    size = encoded_size({"batch": payloads, "sentAt": now_iso()})
    if size > MAX_BATCH_BYTES:
        problems.append(
            f"The batch is {size / 1024:.0f} KB; Segment accepts at most 500 KB per request. "
            "Send fewer events at once."
        )
    return problems
