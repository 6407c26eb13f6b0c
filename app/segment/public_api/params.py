"""Query strings for the Public API: times, pagination, and the one place arrays are encoded.

How an array parameter is written is not settled by the public record: the Go SDK sends
`sourceId.0=a&sourceId.1=b`, the docs' example `groupBy.0=eventType`, the Python SDK repeats
the key (UNCLEAR). `array` below is the only function that decides, so a real workspace that
disagrees costs one line here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

Query = list[tuple[str, str]]

# How many items a listing asks for per page (the Public API allows 1 to 1000; 200 is its default).
PAGE_COUNT = 200


def array(name: str, values: Sequence[str]) -> Query:
    """`name.0=a&name.1=b`, as the Go SDK and the docs' example write an array."""
    return [(f"{name}.{index}", value) for index, value in enumerate(values)]


def page(cursor: str | None, count: int = PAGE_COUNT) -> Query:
    """One page of a listing: its size, and the cursor of the page before's `next`."""
    query = [("pagination.count", str(count))]
    if cursor is not None:
        query.append(("pagination.cursor", cursor))
    return query


def iso_time(moment: datetime) -> str:
    """'2026-12-02T00:05:00Z': ISO 8601 in UTC, to the second, as the SDKs' examples write it."""
    if moment.tzinfo is None:
        raise ValueError("a Public API time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window(start: datetime, end: datetime, granularity: str = "MINUTE") -> Query:
    """A count's time window: startTime inclusive, endTime not, in buckets of `granularity`."""
    return [
        ("startTime", iso_time(start)),
        ("endTime", iso_time(end)),
        ("granularity", granularity),
    ]


def delivery_overview(
    source_id: str,
    start: datetime,
    end: datetime,
    *,
    group_by: Sequence[str],
    event_names: Sequence[str],
) -> Query:
    """successfully-received / failed-on-ingest: the source, window, grouping and event filter.

    `filter` is an object (DeliveryOverview...FilterBy{eventName[]...}); written as
    `filter.eventName.0=...`, the same dotted form as the arrays (UNCLEAR as they are).
    """
    return [
        ("sourceId", source_id),
        *window(start, end),
        *array("groupBy", group_by),
        *array("filter.eventName", event_names),
    ]


def events_volume(
    source_id: str, start: datetime, end: datetime, *, event_names: Sequence[str]
) -> Query:
    """/events/volume: the window, grouped by event name, for one source and these events."""
    return [
        *window(start, end),
        *array("groupBy", ["eventName"]),
        *array("sourceId", [source_id]),
        *array("eventName", event_names),
    ]
