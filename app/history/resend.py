"""Send again: the events of a kept send, with the same properties, as they would happen now.

Segment's messageId is made anew when each event is built, so Segment takes the events as new
ones rather than dropping them as repeats; the Live Chat properties stay exactly as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.chatlio import TestEvent
from app.history.records import SendDetail


def events_to_send_again(detail: SendDetail, now: datetime | None = None) -> list[TestEvent]:
    """Each kept event's name and properties, in order, spaced as before and ending `now`."""
    kept = [result.payload for result in detail.results if result.payload.get("event")]
    times = [_time(payload.get("timestamp")) for payload in kept]
    known = [t for t in times if t is not None]
    end = now or datetime.now(UTC)
    shift = end - max(known) if known else None
    events = []
    for payload, when in zip(kept, times, strict=True):
        properties = payload.get("properties")
        moved = when + shift if when is not None and shift is not None else end
        events.append(
            TestEvent(
                str(payload["event"]),
                dict(properties) if isinstance(properties, dict) else {},
                moved,
            )
        )
    return events


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
