"""Delivery Overview and events-volume counts, made from what the Tracking API received."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from app.segment.sandbox.query import Query
from app.segment.sandbox.store import Arrival
from app.segment.sandbox.workspace import Source, Workspace

# The events kept for these keys, oldest first (Store.arrivals).
Arrivals = Callable[[Collection[str]], list[Arrival]]

_STEPS: Final = {
    "MINUTE": timedelta(minutes=1),
    "HOUR": timedelta(hours=1),
    "DAY": timedelta(days=1),
}
# Per granularity: the longest window, and how far back it may start (Segment's documented bounds).
_BOUNDS: Final = {
    "MINUTE": (timedelta(hours=4), timedelta(hours=48)),
    "HOUR": (timedelta(days=14), timedelta(days=30)),
    "DAY": (timedelta(days=30), timedelta(days=30)),
}
_EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(9000, 1, 1, tzinfo=UTC)
_DELIVERY_GROUPS: Final = {
    "successfully-received": ("eventName", "eventType", "appVersion"),
    "failed-on-ingest": ("eventName", "eventType", "appVersion", "discardReason"),
}
_VOLUME_GROUPS: Final = ("eventName", "eventType", "source")


class CountError(Exception):
    """A count that cannot be answered: the status (404, 422), the parameter and why."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field
        self.message = message


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    step: timedelta

    def buckets(self) -> list[datetime]:
        moments, moment = [], _floor(self.start, self.step)
        while moment < self.end:
            moments.append(moment)
            moment += self.step
        return moments


def delivery_overview(
    kind: str, query: Query, workspace: Workspace, arrivals: Arrivals, delay: float
) -> dict[str, Any]:
    """successfully-received or failed-on-ingest for one source: data{total, dataset}."""
    source_id = _required(query, "sourceId")
    source = workspace.source(source_id)
    if source is None:
        raise CountError(404, "sourceId", f"No source with id {source_id} in this workspace")
    now = datetime.now(UTC)
    window = _window(query, now)
    group_by = _group_by(query, _DELIVERY_GROUPS[kind])
    filters: dict[str, set[str | None]] = {
        name: set(query.many(f"filter.{name}"))
        for name in _DELIVERY_GROUPS[kind]
        if query.many(f"filter.{name}")
    }
    failed = kind == "failed-on-ingest"
    counted = _counted(arrivals(source.write_keys), window, now, delay)
    if not source.enabled:  # Segment takes the calls, then discards every event
        counted = [(_disabled(arrival), moment) for arrival, moment in counted]
    chosen = [
        (arrival, moment)
        for arrival, moment in counted
        if (arrival.discard_reason is not None) == failed
        and all(_dimension(arrival, name) in wanted for name, wanted in filters.items())
    ]
    dataset = _rows(chosen, group_by, window, {})
    return {"total": sum(row["total"] for row in dataset), "dataset": dataset}


def events_volume(
    query: Query, workspace: Workspace, arrivals: Arrivals, delay: float
) -> dict[str, Any]:
    """The workspace's events that passed validation: data{result[...]}."""
    now = datetime.now(UTC)
    window = _window(query, now)
    group_by = _group_by(query, _VOLUME_GROUPS)
    sources = workspace.sources()
    wanted_ids = set(query.many("sourceId"))
    if wanted_ids:
        sources = [source for source in sources if source.id in wanted_ids]
    owners = {key: source for source in sources if source.enabled for key in source.write_keys}
    names, types = set(query.many("eventName")), set(query.many("eventType"))
    chosen = [
        (arrival, moment)
        for arrival, moment in _counted(arrivals(owners), window, now, delay)
        if arrival.discard_reason is None
        and (not names or arrival.event_name in names)
        and (not types or arrival.event_type in types)
    ]
    return {"result": _rows(chosen, group_by, window, owners)}


def _required(query: Query, name: str) -> str:
    value = query.one(name)
    if not value:
        raise CountError(422, name, f"{name} is required")
    return value


def _moment(query: Query, name: str) -> datetime:
    text = _required(query, name).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise CountError(422, name, f"{name} must be an ISO 8601 time") from None
    if not _EARLIEST <= moment <= _LATEST:  # so that no bucket of its window overflows
        raise CountError(422, name, f"{name} must be between the years 2000 and 9000")
    return moment


def _window(query: Query, now: datetime) -> _Window:
    granularity = _required(query, "granularity").strip().upper()
    if granularity not in _STEPS:
        raise CountError(422, "granularity", "granularity must be DAY, HOUR or MINUTE")
    start, end = _moment(query, "startTime"), _moment(query, "endTime")
    if end <= start:
        raise CountError(422, "endTime", "endTime must be after startTime")
    longest, oldest = _BOUNDS[granularity]
    if end - start > longest:
        raise CountError(
            422, "endTime", f"a {granularity} window may be at most {_span(longest)} long"
        )
    if start < now - oldest:
        raise CountError(
            422,
            "startTime",
            f"with {granularity} granularity, startTime may be at most {_span(oldest)} ago",
        )
    return _Window(start, end, _STEPS[granularity])


def _span(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days" if hours >= 48 and hours % 24 == 0 else f"{hours} hours"


def _group_by(query: Query, allowed: Iterable[str]) -> tuple[str, ...]:
    asked = query.many("groupBy", commas=True)
    options = tuple(allowed)
    for name in asked:
        if name not in options:
            raise CountError(
                422, "groupBy", f"groupBy may be {', '.join(options)}; not {name[:100]}"
            )
    return tuple(dict.fromkeys(asked))


def _counted(
    arrivals: Iterable[Arrival], window: _Window, now: datetime, delay: float
) -> list[tuple[Arrival, datetime]]:
    """The arrivals in the window that are old enough to have been counted yet."""
    counted_before = now - timedelta(seconds=delay)
    chosen = []
    for arrival in arrivals:
        moment = datetime.fromisoformat(arrival.received_at.replace("Z", "+00:00"))
        if window.start <= moment < window.end and moment <= counted_before:
            chosen.append((arrival, moment))
    return chosen


def _disabled(arrival: Arrival) -> Arrival:
    return replace(arrival, discard_reason=arrival.discard_reason or "source_disabled")


def _dimension(arrival: Arrival, name: str) -> str | None:
    return {
        "eventName": arrival.event_name,
        "eventType": arrival.event_type,
        "discardReason": arrival.discard_reason,
        "appVersion": arrival.app_version,
    }.get(name)


def _source_json(source: Source) -> dict[str, Any]:
    return {
        "id": source.id,
        "slug": source.slug,
        "name": source.name,
        "metadataId": source.catalog.id,
    }


def _rows(
    chosen: list[tuple[Arrival, datetime]],
    group_by: tuple[str, ...],
    window: _Window,
    owners: dict[str, Source],
) -> list[dict[str, Any]]:
    """One row per group (a single row when not grouped), each with a series per bucket."""
    groups: dict[tuple[str | None, ...], dict[datetime, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    if not group_by:
        groups[()]  # not grouped: one row, even when nothing was counted
    for arrival, moment in chosen:
        key = tuple(
            owners[arrival.write_key].id if name == "source" else _dimension(arrival, name)
            for name in group_by
        )
        groups[key][_floor(moment, window.step)] += 1
    by_id = {source.id: source for source in owners.values()}
    buckets = window.buckets()
    rows = []
    for key, counts in groups.items():
        row: dict[str, Any] = {}
        for name, value in zip(group_by, key, strict=True):
            if name == "source":
                row["source"] = _source_json(by_id[value]) if value in by_id else None
            elif value is not None:
                row[name] = value
        row["total"] = sum(counts.values())
        row["series"] = [
            {"time": _iso(moment), "count": counts.get(moment, 0)} for moment in buckets
        ]
        rows.append(row)
    return rows


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
