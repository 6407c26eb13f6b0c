"""The Public API client on httpx: bearer auth, versions, pagination, retries, size caps."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from app.redaction import printable
from app.segment.bounded import Body, read_body
from app.segment.deadline import Deadline, Guarded
from app.segment.public_api import CHATLIO_METADATA_ID, answers, params
from app.segment.public_api.errors import (
    CREATE_CALL,
    DELIVERED_CALL,
    DESTINATIONS_CALL,
    FAILED_CALL,
    RENAME_CALL,
    SOURCE_CALL,
    SOURCES_CALL,
    VOLUME_CALL,
    WAREHOUSES_CALL,
    WORKSPACE_CALL,
    ApiErrorKind,
    Call,
    PublicApiError,
    bad_answer,
    cancelled,
    out_of_time,
    refused,
    unreachable,
)
from app.segment.public_api.hosts import ApiEndpoint
from app.segment.public_api.models import Connection, CountRow, Counts, Source, Workspace
from app.segment.retry import RetryPolicy, parse_retry_after
from app.segment.sockets import Cut, Sockets

if TYPE_CHECKING:
    import httpx

    from app.segment.cancel import CancelToken
    from app.segment.proxy import ProxyChoice

log = logging.getLogger(__name__)

T = TypeVar("T")

# One call (every page of a listing, every retry) ends within this many seconds by default.
DEFAULT_CALL_SECONDS = 30.0
# One attempt (connect to the body's last byte) lasts at most this long, within the call's.
ATTEMPT_SECONDS = 15.0
# No attempt starts with less than this left of the call: a TLS handshake alone takes a while.
MIN_ATTEMPT_SECONDS = 0.5
# The most of one answer that is read. A page of 200 sources with their settings is far bigger
# than the Tracking API's few bytes (whose cap is 64 KB); 4 MB is still nothing to memory.
MAX_API_ANSWER_BYTES = 4 * 1024 * 1024
# A listing longer than this many pages (of params.PAGE_COUNT) is not followed to its end.
MAX_PAGES = 100
# Retries for the Public API: fewer and shorter than the Tracking API's, as a person waits.
DEFAULT_RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.5, max_backoff=8.0)

# The versions asked for, by Accept header: the stable one, and beta where that is all there is.
STABLE = "application/vnd.segment.v1+json"
BETA = "application/vnd.segment.v1beta+json"


def accept_for(path: str) -> str:
    """The API version an endpoint is asked in: Delivery Overview exists only in beta."""
    return BETA if path.startswith("delivery-overview/") else STABLE


class PublicApiClient:
    """Calls on one workspace's Public API with one token (hidden from repr). Blocking.

    Every method raises PublicApiError (app.segment.public_api.errors) on failure, never
    another exception. `on_request(method, path)` is called before each HTTP request is sent
    (tests count requests with it; the path has no query string and no secret).
    `call_seconds` is each public call's deadline; `retry` gives the tries and backoff within
    it (its own total_budget is not used). `cancel` stops a call mid-request or mid-wait.
    """

    def __init__(
        self,
        endpoint: ApiEndpoint,
        token: str,
        *,
        call_seconds: float = DEFAULT_CALL_SECONDS,
        retry: RetryPolicy | None = None,
        proxy: ProxyChoice | None = None,
        cancel: CancelToken | None = None,
        transport: httpx.BaseTransport | None = None,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        import httpx

        from app.segment.bounded import ACCEPT_ENCODING
        from app.segment.client import (
            USER_AGENT,
            ProxyUnusable,
            cuttable_transport,
            proxy_url,
        )
        from app.segment.proxy import ProxyMode

        if not call_seconds > 0:
            raise ValueError("call_seconds must be a positive number of seconds")
        self._endpoint = endpoint
        self._token = token
        self._call_seconds = call_seconds
        self._retry = retry or DEFAULT_RETRY
        self._cancel = cancel
        self._on_request = on_request
        self._sockets = Sockets()
        self._proxy = proxy_url(proxy, endpoint.base_url)
        self._manual_proxy = proxy is not None and proxy.mode is ProxyMode.MANUAL
        self._unusable: str | None = None  # why no request can be sent at all
        if transport is None:
            try:
                transport = cuttable_transport(self._sockets, endpoint.base_url, self._proxy)
            except ProxyUnusable as exc:
                self._unusable = str(exc)
                transport = httpx.MockTransport(_never)
        self._http = httpx.Client(
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        )

    def __repr__(self) -> str:
        return f"PublicApiClient(endpoint={self._endpoint.base_url!r}, token=<hidden>)"

    @property
    def endpoint(self) -> ApiEndpoint:
        return self._endpoint

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PublicApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the calls ------------------------------------------------------------------------

    def workspace(self) -> Workspace:
        """`GET /`: the token's workspace (the cheapest check that a token works here)."""
        data = self._request("GET", "", WORKSPACE_CALL)
        return self._parsed(WORKSPACE_CALL, answers.workspace, data)

    def sources(self) -> list[Source]:
        """Every source of the workspace, all pages followed."""
        return self._listing("sources", "sources", SOURCES_CALL, answers.source)

    def source(self, source_id: str) -> Source:
        data = self._request("GET", f"sources/{_segment(source_id)}", SOURCE_CALL)
        return self._parsed(SOURCE_CALL, answers.one_source, data)

    def create_source(
        self, slug: str, *, metadata_id: str = CHATLIO_METADATA_ID, enabled: bool = True
    ) -> Source:
        """`POST /sources`; the answer's source (its write keys empty without Source Admin)."""
        body = {"slug": slug, "enabled": enabled, "metadataId": metadata_id}
        data = self._request("POST", "sources", CREATE_CALL, body=body)
        return self._parsed(CREATE_CALL, answers.one_source, data)

    def rename_source(self, source_id: str, name: str) -> Source:
        """`PATCH /sources/{id}` with a display name (creating takes only a slug)."""
        path = f"sources/{_segment(source_id)}"
        data = self._request("PATCH", path, RENAME_CALL, body={"name": name})
        return self._parsed(RENAME_CALL, answers.one_source, data)

    def connected_destinations(self, source_id: str) -> list[Connection]:
        path = f"sources/{_segment(source_id)}/connected-destinations"
        return self._listing(path, "destinations", DESTINATIONS_CALL, answers.connection)

    def connected_warehouses(self, source_id: str) -> list[Connection]:
        path = f"sources/{_segment(source_id)}/connected-warehouses"
        return self._listing(path, "warehouses", WAREHOUSES_CALL, answers.connection)

    def delivered(
        self,
        source_id: str,
        start: datetime,
        end: datetime,
        event_names: Sequence[str],
        *,
        once: bool = False,
    ) -> Counts:
        """Delivery Overview (beta) successfully-received, by event name, per minute.

        `once`: a single try, no retry or wait (a poller paces its own requests).
        """
        query = params.delivery_overview(
            source_id, start, end, group_by=["eventName"], event_names=event_names
        )
        return self._counts(
            "delivery-overview/successfully-received",
            DELIVERED_CALL,
            query,
            answers.delivery_counts,
            once=once,
        )

    def failed_on_ingest(
        self,
        source_id: str,
        start: datetime,
        end: datetime,
        event_names: Sequence[str],
        *,
        once: bool = False,
    ) -> Counts:
        """Delivery Overview (beta) failed-on-ingest, by discard reason and event name."""
        query = params.delivery_overview(
            source_id,
            start,
            end,
            group_by=["discardReason", "eventName"],
            event_names=event_names,
        )
        return self._counts(
            "delivery-overview/failed-on-ingest",
            FAILED_CALL,
            query,
            answers.delivery_counts,
            once=once,
        )

    def events_volume(
        self,
        source_id: str,
        start: datetime,
        end: datetime,
        event_names: Sequence[str],
        *,
        once: bool = False,
    ) -> Counts:
        """`GET /events/volume` by event name, per minute: where Delivery Overview is not."""
        query = params.events_volume(source_id, start, end, event_names=event_names)
        return self._counts("events/volume", VOLUME_CALL, query, answers.volume_counts, once=once)

    # --- pages ----------------------------------------------------------------------------

    def _listing(self, path: str, key: str, call: Call, parse: Callable[[Any], T]) -> list[T]:
        found: list[T] = []
        for data in self._pages(path, call, []):
            items = self._parsed(call, lambda d: answers.items(d, key), data)
            found.extend(self._parsed(call, parse, item) for item in items)
        return found

    def _counts(
        self,
        path: str,
        call: Call,
        query: params.Query,
        parse: Callable[[Mapping[str, Any]], Counts],
        *,
        once: bool = False,
    ) -> Counts:
        total = 0
        rows: list[CountRow] = []
        for data in self._pages(path, call, query, once=once):
            counts = self._parsed(call, parse, data)
            total += counts.total
            rows.extend(counts.rows)
        return Counts(total, tuple(rows))

    def _pages(
        self, path: str, call: Call, query: params.Query, *, once: bool = False
    ) -> Iterator[Mapping[str, Any]]:
        """Every page's `data`, following `pagination.next`, all within one deadline."""
        deadline = Deadline(self._call_seconds)
        seen: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = [*query, *params.page(cursor)]
            data = self._request("GET", path, call, page, deadline=deadline, once=once)
            yield data
            cursor = self._parsed(call, answers.next_cursor, data)
            if cursor is None:
                return
            if cursor in seen:
                raise bad_answer(
                    call,
                    self._endpoint,
                    "kept pointing back to a page it had already given",
                    technical=f"GET /{path}: pagination.next repeats a cursor",
                )
            seen.add(cursor)
        raise bad_answer(
            call,
            self._endpoint,
            f"went on for more than {MAX_PAGES} pages of {params.PAGE_COUNT}",
            technical=f"GET /{path}: over {MAX_PAGES} pages",
        )

    def _parsed(self, call: Call, parse: Callable[[Any], T], data: Any) -> T:
        try:
            return parse(data)
        except answers.WrongShape as exc:
            raise bad_answer(
                call,
                self._endpoint,
                "was not shaped as the Public API documents",
                technical=printable(str(exc), 200),
            ) from None

    # --- one request, with retries ----------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        call: Call,
        query: params.Query | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        deadline: Deadline | None = None,
        once: bool = False,
    ) -> Mapping[str, Any]:
        """The answer's `data`, after the tries and waits the deadline allows (`once`: one
        try, for a caller that paces its own requests; a 429's wait is on the error)."""
        if self._unusable is not None:
            raise PublicApiError(ApiErrorKind.UNREACHABLE, self._unusable, call=call.what)
        deadline = deadline or Deadline(self._call_seconds)
        tries = 0
        while True:
            tries += 1
            if self._cancel is not None and self._cancel.cancelled:
                raise cancelled(call)
            limit = min(ATTEMPT_SECONDS, deadline.left())
            if limit < MIN_ATTEMPT_SECONDS:
                raise out_of_time(call, self._endpoint, deadline.budget)
            exchange = self._exchange(method, path, query or [], body, limit)
            reply = exchange.reply
            if reply is not None and 200 <= reply.status < 300:
                return self._data(call, exchange)
            failure, delay = self._judged(call, exchange, tries)
            log.info("%s /%s try %d -> %s", method, path, tries, self._safe(exchange.summary))
            if delay is None or once or tries >= self._retry.max_attempts:
                raise failure
            if delay + MIN_ATTEMPT_SECONDS > deadline.left():
                if failure.kind is ApiErrorKind.RATE_LIMITED:
                    raise refused(
                        call, 429, "", wait=delay, tries=tries, technical=failure.technical
                    )
                raise failure
            if self._wait(delay):
                raise cancelled(call)

    def _wait(self, seconds: float) -> bool:
        """Sleep before a retry; True if cancelled meanwhile."""
        if self._cancel is not None:
            return self._cancel.wait(seconds)
        time.sleep(seconds)
        return False

    def _exchange(
        self,
        method: str,
        path: str,
        query: params.Query,
        body: Mapping[str, Any] | None,
        limit: float,
    ) -> _Exchange:
        import httpx

        headers = {"Authorization": f"Bearer {self._token}", "Accept": accept_for(path)}
        timeouts = {"connect": min(limit, 10.0), "read": limit, "write": limit, "pool": limit}
        request = self._http.build_request(
            method,
            self._endpoint.url(path),
            params=tuple(query) if query else None,
            json=body,
            headers=headers,
            extensions={"timeout": timeouts},
        )
        if self._on_request is not None:
            self._on_request(method, "/" + path)
        exchange = _Exchange(method, path)
        with Guarded(self._sockets, limit, self._cancel) as guard:
            try:
                response = self._http.send(request, stream=True)
            except (httpx.HTTPError, OSError) as exc:
                exchange.error = exc
            else:
                try:
                    answer = read_body(response, MAX_API_ANSWER_BYTES)
                    exchange.reply = _Reply(response.status_code, response.headers, answer)
                except (httpx.HTTPError, OSError) as exc:
                    exchange.error, exchange.answered = exc, True
                finally:
                    with contextlib.suppress(httpx.HTTPError, OSError):
                        response.close()
        exchange.cut = guard.why
        return exchange

    def _judged(
        self, call: Call, exchange: _Exchange, tries: int
    ) -> tuple[PublicApiError, float | None]:
        """What a failed try means, and how long to wait before the next (None: do not)."""
        if exchange.reply is None:
            return self._judged_failure(call, exchange, tries)
        return self._judged_status(call, exchange, exchange.reply, tries)

    def _judged_failure(
        self, call: Call, exchange: _Exchange, tries: int
    ) -> tuple[PublicApiError, float | None]:
        """A try that got no complete answer: cancelled, cut, or the network failed."""
        from app.segment.client import classify_failure
        from app.segment.result import ErrorKind

        assert exchange.error is not None
        technical = self._safe(f"{exchange.method} /{exchange.path}: {_name(exchange.error)}")
        if exchange.cut is Cut.CANCELLED or (self._cancel is not None and self._cancel.cancelled):
            return cancelled(call), None
        detail: str | None = None
        if exchange.cut is Cut.DEADLINE:
            kind: ErrorKind | None = ErrorKind.TIMEOUT
        else:
            kind, detail = classify_failure(exchange.error, exchange.answered)
        if kind in (ErrorKind.CONNECTION, ErrorKind.DNS) and self._proxy is not None:
            kind = ErrorKind.PROXY  # the proxy in between was all that was reached
        why = kind.value if kind is not None else "connection"
        failure = unreachable(call, self._endpoint, why, technical=technical)
        retry = kind in (ErrorKind.TIMEOUT, ErrorKind.CONNECTION, ErrorKind.DISCONNECTED)
        if exchange.method != "GET":
            # A POST that may have reached Segment may have created the source: sent again
            # only when it never left (nothing accepted the connection).
            retry = kind is ErrorKind.CONNECTION or detail == "connect"
        return failure, self._retry.backoff(tries) if retry else None

    def _judged_status(
        self, call: Call, exchange: _Exchange, reply: _Reply, tries: int
    ) -> tuple[PublicApiError, float | None]:
        """An error status: Segment's envelope in a sentence, and whether to try again."""
        status = reply.status
        envelope = _envelope(reply.body)
        first = envelope[0] if envelope else {}
        message = self._safe(printable(str(first.get("message") or ""), 300))
        technical = self._safe(
            f"{exchange.method} /{exchange.path}: HTTP {status}"
            + (f" {printable(str(first.get('type') or ''), 60)}: {message}" if first else "")
        )
        if status == 404 and envelope is None:
            # No error envelope: not the Public API's "not found" but no Public API there.
            why = "said there is no such page"
            return bad_answer(call, self._endpoint, why, status=status, technical=technical), None
        wait = _rate_limit_wait(reply, first) if status == 429 else None
        failure = refused(call, status, message, tries=tries, wait=wait, technical=technical)
        # A server error on a POST may come after the source was made: not sent twice.
        again = self._retry.should_retry_status(status) and (
            exchange.method == "GET" or status == 429
        )
        if not again:
            return failure, None
        if wait is not None:
            return failure, min(wait, self._retry.retry_after_cap)
        return failure, self._retry.backoff(tries)

    def _data(self, call: Call, exchange: _Exchange) -> Mapping[str, Any]:
        reply = exchange.reply
        assert reply is not None
        answer = reply.body
        technical = f"{exchange.method} /{exchange.path}: HTTP {reply.status}"
        why: str | None = None
        if answer.truncated or answer.declared is not None:
            why = f"was larger than the {MAX_API_ANSWER_BYTES // (1024 * 1024)} MB the app reads"
        elif answer.unreadable is not None:
            why = "was in a form the app cannot read"
        else:
            try:
                document = json.loads(answer.text)
            except (ValueError, RecursionError):
                why = "was not JSON"
            else:
                data = document.get("data") if isinstance(document, dict) else None
                if isinstance(data, dict):
                    return data
                why = "had no data in it"
        raise bad_answer(call, self._endpoint, why, status=reply.status, technical=technical)

    def _safe(self, text: str) -> str:
        """Text from the server or an exception, with the token taken out should it echo it."""
        # A token too short to be real would blank out letters of every word instead.
        return text.replace(self._token, "<token hidden>") if len(self._token) >= 4 else text


@dataclass
class _Reply:
    status: int
    headers: httpx.Headers
    body: Body


@dataclass
class _Exchange:
    """One try: the answer if one came, else the error; and whether it was cut, and why."""

    method: str
    path: str
    reply: _Reply | None = None
    error: Exception | None = None
    answered: bool = False  # the headers had arrived when the error came
    cut: Cut | None = None

    @property
    def summary(self) -> str:
        if self.reply is not None:
            return f"HTTP {self.reply.status}"
        return _name(self.error) if self.error is not None else "nothing"


def _envelope(body: Body) -> list[Mapping[str, Any]] | None:
    """The error envelope's `errors`, or None if the body is not one."""
    try:
        document = json.loads(body.text)
    except (ValueError, RecursionError):
        return None
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list):
        return None
    return [item for item in errors if isinstance(item, Mapping)]


def _rate_limit_wait(reply: _Reply, first: Mapping[str, Any]) -> float | None:
    """Seconds until Segment takes calls again: errors[0].data.msBeforeNext, else Retry-After,
    else X-RateLimit-Reset (documented as an RFC 5322 time; a number is read as seconds)."""
    data = first.get("data")
    if isinstance(data, Mapping):
        ms = data.get("msBeforeNext")
        if isinstance(ms, int | float) and not isinstance(ms, bool) and 0 < ms < 10**9:
            return ms / 1000
    seconds = parse_retry_after(reply.headers.get("Retry-After"))
    if seconds is not None:
        return seconds
    reset = reply.headers.get("X-RateLimit-Reset", "").strip()
    if reset.isdigit() and reset.isascii() and 9 < len(reset) < 16:  # a Unix time, s or ms
        epoch = int(reset) / (1000 if len(reset) > 12 else 1)
        left = epoch - time.time()
        return left if left > 0 else None
    return parse_retry_after(reset)


def _segment(value: str) -> str:
    """An id as one path segment: nothing in it can climb out of the path or add a query."""
    from urllib.parse import quote

    return quote(value, safe="")


def _name(error: BaseException) -> str:
    text = str(error)
    name = type(error).__name__
    return printable(f"{name}: {text}" if text else name, 200)


def _never(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never sent
    raise AssertionError("a client with an unusable proxy sends nothing")
