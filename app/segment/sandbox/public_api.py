"""A stand-in for Segment's Public API: bearer auth, the envelopes, sources, scripted faults.

Requests come here from the Sandbox by path prefix, with the prefix taken off. The workspace
lives in `workspace`, the counts in `counts`; this module routes, checks the token and the
Accept header, pages listings and plays the faults a test scripts on `sandbox.public_api`.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hmac
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from app.segment import SANDBOX_TOKEN
from app.segment.sandbox.counts import Arrivals, CountError, delivery_overview, events_volume
from app.segment.sandbox.query import Query
from app.segment.sandbox.rules import Answer
from app.segment.sandbox.workspace import (
    WORKSPACE_ID,
    WORKSPACE_NAME,
    WORKSPACE_SLUG,
    Source,
    SourceError,
    Workspace,
)

# pagination.count, as Segment bounds it.
DEFAULT_PAGE_COUNT: Final = 200
MAX_PAGE_COUNT: Final = 1000
# A POST /sources body larger than this is refused (413) without being parsed.
MAX_CREATE_BYTES: Final = 64 * 1024
_VERSION: Final = re.compile(r"application/vnd\.segment\.(v1(?:beta|alpha)?)\+json")
_SOURCE_PATH: Final = re.compile(
    r"/sources/(?P<id>[^/]+)(?:/(?P<rest>connected-destinations|connected-warehouses))?"
)
_BETA_PATHS: Final = {
    "/delivery-overview/successfully-received": "successfully-received",
    "/delivery-overview/failed-on-ingest": "failed-on-ingest",
}
_REASONS: Final[dict[int, tuple[str, str]]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Resource not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Validation failed"),
    429: ("too-many-requests", "Too many requests"),
}


def errors(
    status: int,
    message: str | None = None,
    *,
    field: str | None = None,
    data: dict[str, Any] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Answer:
    """Segment's error envelope: {"errors": [{"type", "message", "field"?, "data"?, "status"}]}."""
    kind, phrase = _REASONS.get(status, ("server-error", "Internal server error"))
    entry: dict[str, Any] = {"type": kind, "message": message or phrase}
    if field is not None:
        entry["field"] = field
    if data is not None:
        entry["data"] = data
    entry["status"] = status
    body = json.dumps({"errors": [entry]}).encode()
    return Answer(status, body, headers=headers)


def data(document: dict[str, Any], status: int = 200) -> Answer:
    """Segment's success envelope: {"data": ...}."""
    return Answer(status, json.dumps({"data": document}).encode())


@dataclass(frozen=True)
class _Failure:
    status: int
    ms_before_next: int
    path: str = ""  # only requests under this path (without the query) consume it


class PublicApi:
    """The Public API's answers and the faults scripted on them; every method is thread-safe.

    Faults: fail_next (401, 429 with the rate-limit headers, 5xx...), hide_write_keys (a
    token without Source Admin), add_sources (filler sources, for several pages),
    cap_page_size (pages shorter than asked for),
    delivery_overview_available (False: its endpoints answer as for a workspace without
    them; events/volume still answers), count_delay (seconds before an event is counted).
    """

    def __init__(
        self, arrivals: Arrivals, *, chatlio_source: bool = False, chatlio_stand_in: bool = False
    ) -> None:
        self.workspace = Workspace(chatlio_source=chatlio_source, chatlio_stand_in=chatlio_stand_in)
        self._arrivals = arrivals
        self._lock = threading.Lock()
        self._failures: deque[_Failure] = deque()
        self._hide_keys = False
        self._delivery_overview = True
        self._count_delay = 0.0
        self._cap: int | None = None

    # Scripted faults

    def fail_next(
        self, status: int, times: int = 1, *, ms_before_next: int = 2000, path: str = ""
    ) -> None:
        """Answer the next `times` Public API requests (under `path`, if given, such as
        "/delivery-overview") with `status` in the error envelope; they wait in order.

        A 429 carries X-RateLimit-Reset (the HTTP date when the limit resets, UNCLEAR in the
        record), Remaining and Consumed, and errors[0].data {msBeforeNext, remainingPoints,
        consumedPoints}.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"not an HTTP error status: {status}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if ms_before_next < 0:
            raise ValueError("ms_before_next must not be negative")
        with self._lock:
            self._failures.extend([_Failure(status, ms_before_next, path)] * times)

    def hide_write_keys(self, hidden: bool = True) -> None:
        """Answer as to a token without Source Admin: writeKeys [] everywhere."""
        with self._lock:
            self._hide_keys = hidden

    def add_sources(self, n: int) -> None:
        """n more non-Chatlio sources, so that a listing runs over several pages."""
        self.workspace.add_filler(n)

    def cap_page_size(self, count: int | None) -> None:
        """Pages of at most `count` items whatever pagination.count asks (None: no cap)."""
        if count is not None and count < 1:
            raise ValueError("a page holds at least one item")
        with self._lock:
            self._cap = count

    def _page_cap(self) -> int | None:
        with self._lock:
            return self._cap

    @property
    def delivery_overview_available(self) -> bool:
        with self._lock:
            return self._delivery_overview

    @delivery_overview_available.setter
    def delivery_overview_available(self, available: bool) -> None:
        with self._lock:
            self._delivery_overview = available

    @property
    def count_delay(self) -> float:
        """Seconds an event waits before it is counted (Segment's is about 30 s)."""
        with self._lock:
            return self._count_delay

    @count_delay.setter
    def count_delay(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError("count_delay must not be negative")
        with self._lock:
            self._count_delay = float(seconds)

    def pending_faults(self) -> int:
        """How many fail_next answers are still waiting for a request."""
        with self._lock:
            return len(self._failures)

    def clear_faults(self) -> None:
        """Drop every fail_next not yet consumed; show write keys again; no page cap."""
        with self._lock:
            self._failures.clear()
            self._hide_keys = False
            self._cap = None

    # Serving

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[Answer, str]:
        """The answer to one request, and a note for its log line (" (scripted)" or "").

        target is the path under the prefix, with its query.
        """
        path = target.partition("?")[0]
        with self._lock:
            failure = None
            if self._failures and path.startswith(self._failures[0].path):
                failure = self._failures.popleft()
            hide_keys = self._hide_keys
        if failure is not None:
            return _failure_answer(failure), " (scripted)"
        return self._answer(method, target, headers, body, hide_keys), ""

    def _answer(
        self, method: str, target: str, headers: dict[str, str], body: bytes, hide_keys: bool
    ) -> Answer:
        path, _, query_text = target.partition("?")
        path = path.rstrip("/") or "/"
        if not token_accepted(headers.get("authorization")):
            return errors(401, "The token is missing, invalid or lacks permission for this call")
        version = _version(headers.get("accept", ""))
        if version is None:
            return errors(415, "Ask for application/vnd.segment.v1+json (or v1beta, v1alpha)")
        route = self._route(method, path, Query(query_text), body, hide_keys, version)
        if route is None:
            return errors(404, f"No such resource: {path}")
        return route

    def _route(
        self,
        method: str,
        path: str,
        query: Query,
        body: bytes,
        hide_keys: bool,
        version: str,
    ) -> Answer | None:
        """The answer for a known path (405 for another method), or None for an unknown one."""
        if path == "/sources" and method == "POST":
            return self._create_answer(body, hide_keys)
        source_match = _SOURCE_PATH.fullmatch(path)
        if method == "PATCH" and source_match is not None and source_match["rest"] is None:
            return self._update_answer(source_match["id"], body, hide_keys)
        routes: dict[str, Callable[[], Answer]] = {
            "/": self._workspace_answer,
            "/sources": lambda: self._sources_answer(query, hide_keys),
            "/events/volume": lambda: self._volume_answer(query),
        }
        for beta_path, kind in _BETA_PATHS.items():
            routes[beta_path] = partial(self._delivery_answer, kind, query, version)
        match = _SOURCE_PATH.fullmatch(path)
        if match is not None:
            routes[path] = lambda: self._source_answer(match["id"], match["rest"], query, hide_keys)
        route = routes.get(path)
        if route is None:
            return None
        if method not in {"GET", "HEAD"}:
            if path == "/sources":
                return _not_allowed("GET, POST")
            single = match is not None and match["rest"] is None
            return _not_allowed("GET, PATCH" if single else "GET")
        return route()

    def _source_answer(
        self, source_id: str, rest: str | None, query: Query, hide_keys: bool
    ) -> Answer:
        source = self.workspace.source(source_id)
        if source is None:
            return errors(404, f"No source with id {source_id} in this workspace")
        if rest is None:
            return data({"source": source.to_json(hide_keys=hide_keys)})
        kind = "destinations" if rest == "connected-destinations" else "warehouses"
        return _connections_answer(source, kind, query, self._page_cap())

    def _workspace_answer(self) -> Answer:
        return data(
            {"workspace": {"id": WORKSPACE_ID, "slug": WORKSPACE_SLUG, "name": WORKSPACE_NAME}}
        )

    def _sources_answer(self, query: Query, hide_keys: bool) -> Answer:
        sources = self.workspace.sources()
        page = _page(query, len(sources), self._page_cap())
        if isinstance(page, Answer):
            return page
        start, stop, pagination = page
        listed = [source.to_json(hide_keys=hide_keys) for source in sources[start:stop]]
        return data({"sources": listed, "pagination": pagination})

    def _create_answer(self, body: bytes, hide_keys: bool) -> Answer:
        document = _create_body(body)
        if isinstance(document, Answer):
            return document
        try:
            source = self.workspace.create(
                document["slug"],
                document["metadataId"],
                enabled=document.get("enabled", True),
                settings=document.get("settings") or {},
                name=document.get("name") or None,
            )
        except SourceError as exc:
            return errors(exc.status, exc.message, field=exc.field)
        return data({"source": source.to_json(hide_keys=hide_keys)})

    def _update_answer(self, source_id: str, body: bytes, hide_keys: bool) -> Answer:
        document = _json_object(body)
        if isinstance(document, Answer):
            return document
        name, enabled = document.get("name"), document.get("enabled")
        if not isinstance(name, str | None):
            return errors(422, "name must be text", field="name")
        if not isinstance(enabled, bool | None):
            return errors(422, "enabled must be a boolean", field="enabled")
        try:
            source = self.workspace.update(source_id, name=name, enabled=enabled)
        except SourceError as exc:
            return errors(exc.status, exc.message, field=exc.field)
        if source is None:
            return errors(404, f"No source with id {source_id} in this workspace")
        return data({"source": source.to_json(hide_keys=hide_keys)})

    def _delivery_answer(self, kind: str, query: Query, version: str) -> Answer:
        if not self.delivery_overview_available:
            return errors(403, "Delivery Overview is not available to this workspace")
        if version == "v1":
            return errors(415, "Delivery Overview exists in beta: ask for v1beta")
        try:
            document = delivery_overview(
                kind, query, self.workspace, self._arrivals, self.count_delay
            )
        except CountError as exc:
            return errors(exc.status, exc.message, field=exc.field)
        return data(document)

    def _volume_answer(self, query: Query) -> Answer:
        try:
            document = events_volume(query, self.workspace, self._arrivals, self.count_delay)
        except CountError as exc:
            return errors(exc.status, exc.message, field=exc.field)
        return data(document)


def _json_object(body: bytes) -> dict[str, Any] | Answer:
    """A request body that must be a JSON object; or the 400, 413 or 422 it gets."""
    if len(body) > MAX_CREATE_BYTES:
        return errors(413)
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return errors(400, "The body is not JSON")
    if not isinstance(document, dict):
        return errors(422, "The body must be a JSON object")
    return document


def _create_body(body: bytes) -> dict[str, Any] | Answer:
    """POST /sources' body, its fields' types checked; or the 400, 413 or 422 it gets."""
    document = _json_object(body)
    if isinstance(document, Answer):
        return document
    checks = (
        ("slug", isinstance(document.get("slug"), str), "slug is required"),
        ("metadataId", isinstance(document.get("metadataId"), str), "metadataId is required"),
        ("enabled", isinstance(document.get("enabled", True), bool), "enabled must be a boolean"),
        ("settings", isinstance(document.get("settings", {}), dict | None), "settings: an object"),
        ("name", isinstance(document.get("name", ""), str), "name must be text"),
    )
    for field, ok, message in checks:
        if not ok:
            return errors(422, message, field=field)
    return document


def token_accepted(header: str | None) -> bool:
    """Whether the Authorization header is `Bearer <SANDBOX_TOKEN>`."""
    if not header:
        return False
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), SANDBOX_TOKEN.encode())


def _version(accept: str) -> str | None:
    """The version asked for: v1, v1beta or v1alpha; "" for none named; None for another."""
    asked = _VERSION.findall(accept)
    if asked:
        return "v1beta" if "v1beta" in asked else asked[0]
    if "vnd.segment" in accept:
        return None
    return ""


def _failure_answer(failure: _Failure) -> Answer:
    if failure.status != 429:
        return errors(failure.status)
    consumed, remaining = 100, 0
    reset = email.utils.formatdate(time.time() + failure.ms_before_next / 1000, usegmt=True)
    headers = (
        ("X-RateLimit-Reset", reset),
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Consumed", str(consumed)),
    )
    limit = {
        "msBeforeNext": failure.ms_before_next,
        "remainingPoints": remaining,
        "consumedPoints": consumed,
    }
    return errors(429, "Too many requests", data=limit, headers=headers)


def _not_allowed(allow: str) -> Answer:
    return errors(405, headers=(("Allow", allow),))


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):
        return None
    label, _, number = text.partition(":")
    if label != "offset" or not (number.isascii() and number.isdigit()) or len(number) > 9:
        return None
    return int(number)


def _page(query: Query, total: int, cap: int | None) -> tuple[int, int, dict[str, Any]] | Answer:
    """Where this page starts and stops, and its pagination output; or a 422.

    cap, when set, makes a page shorter than pagination.count asked for.
    """
    count_text = query.one("pagination.count")
    count = DEFAULT_PAGE_COUNT
    if count_text is not None:
        text = count_text.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 5):
            return errors(422, "pagination.count must be a number", field="pagination.count")
        count = int(text)
        if not 1 <= count <= MAX_PAGE_COUNT:
            return errors(
                422, f"pagination.count must be 1 to {MAX_PAGE_COUNT}", field="pagination.count"
            )
    cursor = query.one("pagination.cursor")
    start = 0
    if cursor:
        offset = _offset(cursor)
        if offset is None:
            return errors(422, "pagination.cursor is not a cursor", field="pagination.cursor")
        start = min(offset, total)
    if cap is not None:
        count = min(count, cap)
    stop = min(total, start + count)
    pagination: dict[str, Any] = {"current": _cursor(start)}
    if stop < total:
        pagination["next"] = _cursor(stop)
    if start > 0:
        pagination["previous"] = _cursor(max(0, start - count))
    pagination["totalEntries"] = total
    return start, stop, pagination


def _connections_answer(source: Source, kind: str, query: Query, cap: int | None) -> Answer:
    items = source.destinations if kind == "destinations" else source.warehouses
    page = _page(query, len(items), cap)
    if isinstance(page, Answer):
        return page
    start, stop, pagination = page
    singular = "destination" if kind == "destinations" else "warehouse"
    listed = [item.to_json(source.id, singular) for item in items[start:stop]]
    return data({kind: listed, "pagination": pagination})
