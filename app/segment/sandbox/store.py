"""What the sandbox received, kept within fixed bounds: the newest events and requests only."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any, Final, Generic, Protocol, TypeVar

from app.redaction import mask

# Rough per-item cost beyond the text itself (objects, strings, the deque slot), so that the
# byte budgets track memory, not only the JSON; it also covers what an event's listing adds to
# its payload and key (endpoint, received_at, seq...), so size() bounds that listing's length.
_ITEM_OVERHEAD: Final = 256


@dataclass(frozen=True)
class ReceivedEvent:
    """One event the sandbox accepted, and what real Segment would later discard it for.

    seq numbers every event from 1, never reused (not even after clear()): a paging cursor.
    """

    endpoint: str
    payload: dict[str, Any]
    write_key: str | None
    received_at: str
    discard_reason: str | None
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (the shape GET /sandbox/events lists)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Arrival:
    """What a count needs of one kept event: its key, when it came, its name and type, its fate."""

    write_key: str
    received_at: str
    event_name: str | None
    event_type: str | None
    discard_reason: str | None
    app_version: str | None = None


@dataclass(frozen=True)
class ReceivedRequest:
    """One HTTP request as it arrived; status is None when the connection was dropped."""

    method: str
    path: str
    headers: dict[str, str]
    body_bytes_len: int
    status: int | None


@dataclass(frozen=True, slots=True)
class _StoredEvent:
    seq: int
    endpoint: str
    payload_json: str
    write_key: str | None
    received_at: str
    discard_reason: str | None

    def size(self) -> int:
        # The key too: an event lists it, and one key of 16 KB in each of 10,000 requests
        # would otherwise be 160 MB kept and listed outside the budget.
        return len(self.payload_json) + len(self.write_key or "") + _ITEM_OVERHEAD

    def event(self, *, full_key: bool = True) -> ReceivedEvent:
        payload = json.loads(self.payload_json)
        key = self.write_key
        return ReceivedEvent(
            self.endpoint,
            payload,
            key if full_key or key is None else mask(key),
            self.received_at,
            self.discard_reason,
            self.seq,
        )

    def json_text(self, *, full_key: bool = True) -> str:
        """The same JSON as to_json() gives, spliced from the stored text: no re-encoding.

        Without full_key, the key is masked as in a log: its first and last two characters.
        """
        key = self.write_key
        meta = json.dumps(
            {
                "write_key": key if full_key or key is None else mask(key),
                "received_at": self.received_at,
                "discard_reason": self.discard_reason,
                "seq": self.seq,
            }
        )
        endpoint = json.dumps(self.endpoint)
        return f'{{"endpoint": {endpoint}, "payload": {self.payload_json}, {meta[1:]}'


@dataclass(frozen=True, slots=True)
class _StoredRequest:
    method: str
    path: str
    # "name\0value" lines: one string instead of a dict of small ones (header values cannot
    # hold NUL or a line break, HTTP forbids both).
    header_text: str
    body_bytes_len: int
    status: int | None

    def size(self) -> int:
        return len(self.header_text) + len(self.path) + _ITEM_OVERHEAD

    def request(self) -> ReceivedRequest:
        headers = dict(line.split("\0", 1) for line in self.header_text.split("\n") if line)
        return ReceivedRequest(self.method, self.path, headers, self.body_bytes_len, self.status)


@dataclass(frozen=True)
class NewEvent:
    """An event about to be stored (the store numbers it)."""

    endpoint: str
    payload_json: str
    write_key: str | None
    received_at: str
    discard_reason: str | None


@dataclass(frozen=True)
class Page:
    """Events after a cursor, the cursor to ask from next, and how many the bounds dropped.

    received counts the events that arrived since the last clear() (dropped ones included);
    clears counts the clear() calls, so that a live view can tell when to start over.

    Their JSON texts are made one at a time by texts(), so a listing can be measured without
    being built. size bounds their length in bytes while the text is ASCII; non-ASCII text can
    take up to three bytes a character.
    """

    _events: list[_StoredEvent]
    next_after: int
    has_more: bool
    dropped: int
    full_keys: bool
    size: int
    received: int = 0
    clears: int = 0

    def texts(self) -> Iterator[str]:
        """Each event's JSON, oldest first; keys masked unless full_keys."""
        for item in self._events:
            yield item.json_text(full_key=self.full_keys)

    def events(self) -> Iterator[ReceivedEvent]:
        """Each event, oldest first; keys masked unless full_keys."""
        for item in self._events:
            yield item.event(full_key=self.full_keys)


@dataclass(frozen=True)
class Counts:
    """How many items are kept, and how many the bounds pushed out since the last clear()."""

    events: int
    requests: int
    dropped_events: int
    dropped_requests: int


class _Sized(Protocol):
    def size(self) -> int: ...


_Item = TypeVar("_Item", bound=_Sized)


class _Bounded(Generic[_Item]):
    """A deque that drops its oldest items past max_items, or past max_bytes of item.size()."""

    def __init__(self, max_items: int, max_bytes: int) -> None:
        self.items: deque[_Item] = deque()
        self.dropped = 0
        self._bytes = 0
        self._max_items = max_items
        self._max_bytes = max_bytes

    def append(self, item: _Item) -> None:
        self.items.append(item)
        self._bytes += item.size()
        while len(self.items) > self._max_items or (
            self._bytes > self._max_bytes and len(self.items) > 1
        ):
            self._bytes -= self.items.popleft().size()
            self.dropped += 1

    def clear(self) -> None:
        self.items.clear()
        self._bytes = self.dropped = 0


class Store:
    """The newest events and requests, within item and byte bounds; thread-safe.

    Oldest items go first; how many went is counted until clear(). Events are kept as their
    JSON text, so what is kept costs what was sent, and listing them never re-encodes a payload.
    """

    def __init__(
        self, max_events: int, max_event_bytes: int, max_requests: int, max_request_bytes: int
    ) -> None:
        if min(max_events, max_requests) < 1:
            raise ValueError("the store must keep at least one event and one request")
        self._changed = threading.Condition()
        self._events: _Bounded[_StoredEvent] = _Bounded(max_events, max_event_bytes)
        self._requests: _Bounded[_StoredRequest] = _Bounded(max_requests, max_request_bytes)
        self._last_seq = 0
        self._received = 0  # events since clear(), dropped ones included
        self._clears = 0

    def add(self, request: ReceivedRequest, events: list[NewEvent]) -> None:
        header_text = "".join(f"{name}\0{value}\n" for name, value in request.headers.items())
        stored = _StoredRequest(
            request.method, request.path, header_text, request.body_bytes_len, request.status
        )
        with self._changed:
            self._requests.append(stored)
            for event in events:
                self._last_seq += 1
                self._events.append(
                    _StoredEvent(
                        self._last_seq,
                        event.endpoint,
                        event.payload_json,
                        event.write_key,
                        event.received_at,
                        event.discard_reason,
                    )
                )
            self._received += len(events)
            self._changed.notify_all()

    def events(self) -> list[ReceivedEvent]:
        with self._changed:
            kept = list(self._events.items)
        return [item.event() for item in kept]

    def requests(self) -> list[ReceivedRequest]:
        with self._changed:
            kept = list(self._requests.items)
        return [item.request() for item in kept]

    def page(
        self, after: int, limit: int | None, *, full_keys: bool = True, newest: bool = False
    ) -> Page:
        """Kept events numbered above `after`, oldest first, at most `limit` of them.

        With newest, the last `limit` of them rather than the first: a live view that fell
        behind skips to what arrived most recently (has_more is then always False).
        """
        with self._changed:
            items = self._events.items
            # seq rises by one along the deque, so the first wanted item is found by arithmetic.
            start = 0 if not items else max(0, min(len(items), after + 1 - items[0].seq))
            if newest and limit is not None:
                start = max(start, len(items) - limit)
            stop = len(items) if limit is None else min(len(items), start + limit)
            chosen = list(islice(items, start, stop))
            has_more = stop < len(items)
            dropped = self._events.dropped
            last = self._last_seq
            received, clears = self._received, self._clears
        next_after = chosen[-1].seq if chosen else min(after, last)
        size = sum(item.size() for item in chosen)
        return Page(chosen, next_after, has_more, dropped, full_keys, size, received, clears)

    def arrivals(self, write_keys: Collection[str]) -> list[Arrival]:
        """The kept events sent with one of these keys, oldest first, read for counting.

        Only the matching events are copied under the lock; their payloads are read after it.
        """
        keys = set(write_keys)
        with self._changed:
            chosen = [item for item in self._events.items if item.write_key in keys]
        return [_arrival(item) for item in chosen]

    def counts(self) -> Counts:
        with self._changed:
            return Counts(
                len(self._events.items),
                len(self._requests.items),
                self._events.dropped,
                self._requests.dropped,
            )

    def clear(self) -> None:
        """Forget everything kept and the drop counts; event numbers go on rising."""
        with self._changed:
            self._events.clear()
            self._requests.clear()
            self._received = 0
            self._clears += 1

    def wait_for_events(self, n: int, timeout: float) -> list[ReceivedEvent]:
        """Block until n events arrived since clear(); raises TimeoutError otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._received >= n, timeout):
                got = self._received
                raise TimeoutError(f"expected {n} event(s) within {timeout} s, got {got}")
        return self.events()


def _arrival(item: _StoredEvent) -> Arrival:
    payload = json.loads(item.payload_json)
    kind = payload.get("type") if item.endpoint.endswith("/batch") else item.endpoint[4:]
    event_type = kind if isinstance(kind, str) else None
    name = payload.get("event") if event_type == "track" else payload.get("name")
    context = payload.get("context")
    app = context.get("app") if isinstance(context, dict) else None
    version = app.get("version") if isinstance(app, dict) else None
    return Arrival(
        item.write_key or "",
        item.received_at,
        name if isinstance(name, str) else None,
        event_type,
        item.discard_reason,
        version if isinstance(version, str) else None,
    )
