"""A local stand-in for Segment's HTTP Tracking API, for tests and for trying a setup offline.

The parts: `server` runs the connections and `framing` reads HTTP/1.1 requests, both knowing
nothing of Segment; `hosts` decides which Host headers are answered; `rules` judges a request
as Segment would; `faults` scripts misbehaviour; `store` keeps what arrived, within bounds;
`log` writes a line per request; `serve` is the command. Under /public-api, `public_api`
answers as Segment's Public API (its `workspace`, `counts` from what arrived, `query` read
leniently); under /cdn, `cdn` answers the settings path. Sandbox, here, puts them together.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qs

from app.redaction import printable
from app.segment.payload import now_iso
from app.segment.sandbox.cdn import masked_path, settings_answer
from app.segment.sandbox.faults import Fault, Faults, fault_answer
from app.segment.sandbox.hosts import host_allowed, is_loopback, is_unspecified
from app.segment.sandbox.log import Hook, RequestLog, mask_key, request_line
from app.segment.sandbox.public_api import PublicApi
from app.segment.sandbox.rules import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    OK,
    Answer,
    basic_auth_user,
    endpoint_for,
    error,
    json_answer,
    judge,
)
from app.segment.sandbox.serve import serve
from app.segment.sandbox.server import Reply, Request, Server, ServerLimits
from app.segment.sandbox.store import NewEvent, Page, ReceivedEvent, ReceivedRequest, Store

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_PAGE_EVENTS",
    "Page",
    "PublicApi",
    "ReceivedEvent",
    "ReceivedRequest",
    "Sandbox",
    "SandboxLimits",
    "ServerLimits",
    "mask_key",
    "serve",
]

EVENTS_PATH: Final = "/sandbox/events"
# The Public API's paths (/, /sources...) and the CDN's (/v1/projects/<key>/settings) under these.
PUBLIC_API_PREFIX: Final = "/public-api"
CDN_PREFIX: Final = "/cdn"
# The most events one GET /sandbox/events?limit=N returns.
MAX_PAGE_EVENTS: Final = 10_000
# A listing's bytes beyond its events' own (store.Page.size): the braces, "dropped", "next"...
_LISTING_FRAME_BYTES: Final = 256
_NAME: Final = "Chatlio Segment Setup sandbox: a local stand-in for Segment"
_ALLOW: Final[dict[str, str]] = {
    EVENTS_PATH: "GET, HEAD, DELETE, OPTIONS",
    "/": "GET, HEAD, OPTIONS",
    "/health": "GET, HEAD, OPTIONS",
}
_API_ALLOW: Final = "POST, OPTIONS"
# Public API paths whose answers count kept events (and so are built on a worker).
_COUNT_PATHS: Final = ("/successfully-received", "/failed-on-ingest", "/events/volume")
_ANY_ALLOW: Final = "DELETE, GET, HEAD, OPTIONS, POST"  # for OPTIONS *
# What a request that could not be read is answered, by the plumbing's status for it.
_PROBLEMS: Final[dict[int, tuple[Answer, str]]] = {
    400: (error("Bad Request"), " (malformed HTTP)"),
    408: (error("Request Timeout", 408), " (not complete in time)"),
    413: (error("Exceed payload limit"), " (body too large to read)"),
    431: (error("Request Header Fields Too Large", 431), " (headers too large)"),
    505: (error("HTTP Version Not Supported", 505), " (not HTTP/1.x)"),
}


# A listing asked for while clients that do not read hold the unsent budget.
_BUSY: Final = replace(
    error(
        "Service Unavailable: earlier listings still wait for clients that do not read them; "
        "try again shortly, or page with ?limit=N",
        503,
    ),
    headers=(("Retry-After", "1"),),
)

# Segment's own largest body decides how much of one the server reads at all.
_SERVER_LIMITS: Final = ServerLimits(max_body_bytes=MAX_BODY_BYTES)


@dataclass(frozen=True)
class SandboxLimits:
    """What the sandbox keeps and allows; the oldest events and requests go first."""

    max_events: int = 10_000
    max_event_bytes: int = 32 * 1024 * 1024  # JSON text of the events kept
    max_requests: int = 10_000
    max_request_bytes: int = 8 * 1024 * 1024  # headers of the requests kept
    server: ServerLimits = _SERVER_LIMITS


class Sandbox:
    """A local HTTP server that answers like Segment's Tracking API and records what it got.

    Thread-safe. Scripted faults (fail_next, delay_next, drop_next) are consumed in order,
    one per POST to a /v1/ endpoint. `on_request` gets one line per request, on a thread of
    the sandbox's own, with keys masked and everything the client chose escaped.

    Under public_api_url it answers as Segment's Public API for one workspace (SANDBOX_TOKEN
    accepted), its faults scripted on `public_api`; with chatlio_source the workspace starts
    with a Chatlio source holding SANDBOX_KEY; with chatlio_stand_in it starts with one that
    gives way (slug and key) to the first Chatlio source created, so trying the app counts the
    test events whether or not a source was made first. Under cdn_url, the CDN's settings path.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        on_request: Hook | None = None,
        limits: SandboxLimits | None = None,
        chatlio_source: bool = False,
        chatlio_stand_in: bool = False,
    ) -> None:
        self.on_request = on_request
        self._host = host
        self._port = port
        self._limits = limits or SandboxLimits()
        self._store = Store(
            self._limits.max_events,
            self._limits.max_event_bytes,
            self._limits.max_requests,
            self._limits.max_request_bytes,
        )
        self._faults = Faults()
        self.public_api = PublicApi(
            self._store.arrivals, chatlio_source=chatlio_source, chatlio_stand_in=chatlio_stand_in
        )
        self._log = RequestLog()
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._stopped = False
        self._errors = 0
        self._bound: tuple[str, int] = ("", 0)
        self._full_keys = False  # GET /sandbox/events shows whole keys: on loopback only
        self._misdirected = error("Misdirected Request", 421)
        self._usual_hosts: frozenset[str] = frozenset()  # Host values answered at a glance

    # Lifecycle

    def start(self) -> Self:
        """Bind and serve on daemon threads; raises OSError if the address is taken."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("the sandbox has already been started")
            server = Server(
                self._host,
                self._port,
                self._respond,
                self._limits.server,
                on_error=self._on_error,
                heavy=_is_listing,
            )
            # All set before the first request is served, from the address actually bound.
            self._bound = server.bind()
            self._full_keys = is_loopback(self._bound[0])
            self._misdirected = _misdirected(self._host, self._bound)
            port = self._bound[1]
            self._usual_hosts = frozenset({_authority(self._host, port), f"localhost:{port}"})
            self._server = server
            server.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open connections, including delayed answers; idempotent."""
        with self._lock:
            server = self._server
            if server is None or self._stopped:
                return
            self._stopped = True
        server.stop()
        self._log.close()

    def __enter__(self) -> Self:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL clients should use, with the port actually bound."""
        if self._server is None:
            raise RuntimeError("the sandbox has not been started")
        return f"http://{_authority(self._host, self._server.address[1])}"

    @property
    def public_api_url(self) -> str:
        """The base URL of the sandbox's stand-in for Segment's Public API."""
        return f"{self.url}{PUBLIC_API_PREFIX}"

    @property
    def cdn_url(self) -> str:
        """The base URL of the sandbox's stand-in for cdn.segment.com's settings path."""
        return f"{self.url}{CDN_PREFIX}"

    # What was received

    def events(self) -> list[ReceivedEvent]:
        """Every event kept (the newest max_events), oldest first."""
        return self._store.events()

    def feed(self, after: int, limit: int) -> Page:
        """The newest `limit` kept events numbered above `after`, keys masked: for a live view.

        Quick and non-blocking (an in-process lock), so a GUI may poll it.
        """
        return self._store.page(after, limit, full_keys=False, newest=True)

    def requests(self) -> list[ReceivedRequest]:
        """Every HTTP request kept (control endpoints included), oldest first."""
        return self._store.requests()

    def clear(self) -> None:
        """Forget recorded events and requests (scripted faults stay queued)."""
        self._store.clear()

    def wait_for_events(self, n: int, timeout: float = 5.0) -> list[ReceivedEvent]:
        """Block until n events arrived since the last clear(); raises TimeoutError otherwise."""
        return self._store.wait_for_events(n, timeout)

    # Scripted faults

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: str | None = None,
        body: str | None = None,
    ) -> None:
        """Answer the next `times` API requests with `status` (and Retry-After if given)."""
        if not 100 <= status <= 599:
            raise ValueError(f"not an HTTP status: {status}")
        self._faults.add(Fault("fail", status=status, retry_after=retry_after, body=body), times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Answer the next `times` API requests normally, but only after `seconds`."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self._faults.add(Fault("delay", seconds=seconds), times)

    def drop_next(self, times: int = 1) -> None:
        """Close the connection without answering the next `times` API requests."""
        self._faults.add(Fault("drop"), times)

    def set_delay(self, seconds: float) -> None:
        """Delay every API answer by `seconds` (0 to stop); a delay_next fault replaces it."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self._faults.set_delay(seconds)

    def pending_faults(self) -> int:
        """How many scripted faults are still waiting for a request."""
        return self._faults.pending()

    def clear_faults(self) -> None:
        """Drop every scripted fault not yet consumed."""
        self._faults.clear()

    # Serving (called on the server's threads)

    def _respond(self, request: Request) -> Reply:
        path = request.target.partition("?")[0]
        endpoint = endpoint_for(path) if request.method == "POST" else None
        if request.problem is not None:
            answer, note = _PROBLEMS.get(request.problem.status, _PROBLEMS[400])
            key = basic_auth_user(request.headers.get("authorization"))
            self._record(request, path, answer.status, endpoint is not None, key, (), note)
            return _reply(answer)
        if not self._addressed_here(request):
            host = printable(request.headers.get("host", ""), 100)
            self._record(request, path, 421, False, None, (), f" (Host {host} not allowed)")
            return _reply(self._misdirected, close=True)
        if endpoint is None:
            section = _section(path)
            if section:
                return self._serve_section(request, path, section)
            reply = self._control(request.method, request.target, path)
            try:
                self._record(request, path, reply.status, False, None, (), "")
            except BaseException:
                self._release(reply.reserved)
                raise
            return reply

        verdict = judge(endpoint, request.headers, request.body)
        received_at = now_iso()
        script = self._faults.take()
        answer, note = verdict.answer, ""
        if script.fault is not None:
            answer, note = fault_answer(script.fault), " (scripted)"

        def settle(delivered: bool) -> None:
            status = answer.status if delivered else None
            events = [
                NewEvent(e.endpoint, e.payload_json, verdict.key, received_at, e.discard_reason)
                for e in verdict.events
                if status == 200
            ]
            final_note = note if delivered else " (sandbox stopping)"
            self._record(request, path, status, True, verdict.key, events, final_note)

        return _reply(answer, delay=script.delay, settle=settle)

    def _serve_section(self, request: Request, path: str, section: str) -> Reply:
        """A Public API or CDN request: answered by its module, recorded with secrets masked."""
        inner = request.target[len(section) :] or "/"
        note = ""
        if section == PUBLIC_API_PREFIX:
            answer, note = self.public_api.handle(
                request.method, inner, request.headers, request.body
            )
            shown = path
        else:
            inner_path = inner.partition("?")[0]
            answer = settings_answer(request.method, inner_path, self.public_api.workspace)
            shown = section + masked_path(inner_path)
        self._record(request, shown, answer.status, False, None, (), note)
        if request.method == "HEAD":  # the length of the answer a GET would get, no body
            return _reply(replace(answer, body=b""), content_length=len(answer.body))
        return _reply(answer)

    def _addressed_here(self, request: Request) -> bool:
        """Whether the Host header names this sandbox in a way no web page can rebind."""
        host = request.headers.get("host")
        if host in self._usual_hosts:
            return True
        return host_allowed(
            host,
            port=self._bound[1],
            names=(self._host, self._bound[0]),
            reached=request.local_address,
        )

    def _record(
        self,
        request: Request,
        path: str,
        status: int | None,
        api: bool,
        key: str | None,
        events: Sequence[NewEvent],
        note: str,
    ) -> None:
        if request.method:  # a request whose request line was unreadable has nothing to keep
            received = ReceivedRequest(
                request.method,
                path,
                _kept_headers(request.headers, whole_basic=not _section(path)),
                len(request.body),
                status,
            )
            self._store.add(received, list(events))
        hook = self.on_request
        if hook is None:
            return
        elapsed_ms = (time.perf_counter() - request.completed_at) * 1000
        line = request_line(
            request.method or "-",
            path or "-",
            status,
            elapsed_ms,
            api=api,
            key=key,
            events=len(events),
            reasons=[e.discard_reason for e in events if e.discard_reason],
            note=note,
        )
        self._log.put(hook, line)

    def _control(self, method: str, target: str, path: str) -> Reply:
        if method == "OPTIONS":
            allow = _API_ALLOW if endpoint_for(path) else _ALLOW.get(path)
            if allow is None and path != "*":
                return _reply(error("Not Found", 404))
            allow = allow or _ANY_ALLOW
            return _reply(Answer(204, content_type="", headers=(("Allow", allow),)))
        if method in {"GET", "HEAD"}:
            if path == EVENTS_PATH:
                return self._events_page(method, target)
            if path in {"/", "/health"}:
                return _reply(self._health())
        if method == "DELETE" and path == EVENTS_PATH:
            self.clear()
            return _reply(OK)
        return _reply(error("Not Found", 404))

    def _events_page(self, method: str, target: str) -> Reply:
        """A page of the listing, built only for GET, and only within the unsent budget.

        Clients that ask for listings and never read them would otherwise hold up to 32 MB
        each until the write timeout: past the budget, a listing is a 503 to retry.
        """
        query = parse_qs(target.partition("?")[2], keep_blank_values=True)
        after = _whole_number(query, "after", 0, 2**63)
        limit = _whole_number(query, "limit", 1, MAX_PAGE_EVENTS)
        if isinstance(after, str) or isinstance(limit, str):
            return _reply(error(after if isinstance(after, str) else str(limit)))
        page = self._store.page(after or 0, limit, full_keys=self._full_keys)
        if method == "HEAD":  # measured piece by piece, never built
            length = sum(len(piece) for piece in _listing(page))
            return _reply(Answer(200), content_length=length)
        reserved = page.size + _LISTING_FRAME_BYTES
        server = self._server
        if server is None or not server.reserve(reserved):
            return _reply(_BUSY)
        try:
            body = b"".join(_listing(page))
        except BaseException:
            server.release(reserved)
            raise
        return _reply(Answer(200, body), reserved=reserved)

    def _release(self, reserved: int) -> None:
        if reserved and self._server is not None:
            self._server.release(reserved)

    def _health(self) -> Answer:
        counts = self._store.counts()
        limits = self._limits
        return json_answer(
            200,
            {
                "sandbox": True,
                "name": _NAME,
                "events": counts.events,
                "requests": counts.requests,
                "dropped": {
                    "events": counts.dropped_events,
                    "requests": counts.dropped_requests,
                    "log_lines": self._log.dropped,
                },
                "errors": self._errors,
                "unsent_answer_bytes": self._server.unsent_bytes if self._server else 0,
                "limits": {
                    "max_events": limits.max_events,
                    "max_requests": limits.max_requests,
                    "max_body_bytes": limits.server.max_body_bytes,
                    "max_json_depth": MAX_JSON_DEPTH,
                    "request_timeout_seconds": limits.server.request_timeout,
                    "idle_timeout_seconds": limits.server.idle_timeout,
                    "max_unsent_answer_bytes": limits.server.max_unsent_bytes,
                },
            },
        )

    def _on_error(self, exc: BaseException) -> None:
        with self._lock:
            self._errors += 1
        hook = self.on_request
        if hook is not None:
            name = type(exc).__name__
            self._log.put(hook, f"(sandbox error, answered 500: {name}; please report it)")


def _listing(page: Page) -> Iterator[bytes]:
    """The listing's JSON in pieces: one per event, and the frame around them."""
    yield b'{"events": ['
    for n, text in enumerate(page.texts()):
        if n:
            yield b", "
        # Payloads keep non-ASCII text as it came; a lone surrogate (from a "\ud800" escape)
        # can only sit inside a JSON string, where backslashreplace writes it back as that
        # same escape.
        yield text.encode("utf-8", "backslashreplace")
    tail = json.dumps({"dropped": page.dropped, "next": page.next_after, "has_more": page.has_more})
    yield b"], " + tail[1:].encode()


def _is_listing(request: Request) -> bool:
    """Listings and counts read every kept event: built on a worker, not inline."""
    path = request.target.partition("?")[0]
    if path.startswith(PUBLIC_API_PREFIX + "/"):
        return path.endswith(_COUNT_PATHS)
    return path == EVENTS_PATH and request.method in {"GET", "HEAD"}


def _section(path: str) -> str:
    """PUBLIC_API_PREFIX or CDN_PREFIX when the path is under one, else ""."""
    for prefix in (PUBLIC_API_PREFIX, CDN_PREFIX):
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return ""


def _kept_headers(headers: dict[str, str], *, whole_basic: bool) -> dict[str, str]:
    """The headers as kept: a Public API token (any Authorization but Basic) masked.

    With whole_basic a Basic header stays whole, as tests of the Tracking API read the key
    back from it; under the Public API and CDN prefixes every Authorization is masked.
    """
    value = headers.get("authorization")
    if value is None or (whole_basic and value.strip()[:6].lower() == "basic "):
        return headers
    scheme, _, credentials = value.strip().partition(" ")
    shown = f"{printable(scheme, 20)} {mask_key(credentials.strip())}" if credentials else "••••"
    return {**headers, "authorization": shown}


def _authority(host: str, port: int) -> str:
    """host:port as a client should write it for a sandbox told to listen on host."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _misdirected(host: str, bound: tuple[str, int]) -> Answer:
    """The 421 for a request whose Host header names another server, or a rebound name."""
    port = bound[1]
    names = list(dict.fromkeys([_authority(host, port), f"localhost:{port}"]))
    if is_unspecified(bound[0]):
        names.append(f"this computer's IP address with port {port}")
    where = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return error(f"Misdirected Request: address the sandbox as {where} (Host header)", 421)


def _reply(answer: Answer, **extra: Any) -> Reply:
    headers = answer.headers
    if answer.content_type:
        headers = (("Content-Type", answer.content_type), *headers)
    return Reply(answer.status, answer.body, headers, **extra)


def _whole_number(query: dict[str, list[str]], name: str, low: int, high: int) -> int | str | None:
    """The query parameter as an int in [low, high], None if absent, or why it is wrong."""
    values = query.get(name)
    if not values:
        return None
    text = values[-1].strip()
    if len(text) <= 19 and text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    return f"{name} must be a whole number from {low} to {high}"
