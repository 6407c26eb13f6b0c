"""A local stand-in for Segment's HTTP Tracking API, for tests and for trying a setup offline."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import selectors
import signal
import socket
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from socketserver import TCPServer
from types import FrameType, TracebackType
from typing import Any, Final, Literal, Self, TextIO, cast

from app.redaction import mask

MAX_EVENT_BYTES: Final = 32 * 1024
MAX_BATCH_BYTES: Final = 500 * 1024
MAX_BATCH_EVENTS: Final = 2500
BATCH_ENDPOINT: Final = "/v1/batch"

# Bodies larger than this are not read at all: answered 400, connection closed.
_MAX_READ_BYTES: Final = 16 * 1024 * 1024
_SINGLE_ENDPOINTS: Final[dict[str, str]] = {
    "/v1/track": "track",
    "/v1/identify": "identify",
    "/v1/page": "page",
    "/v1/screen": "screen",
    "/v1/group": "group",
    "/v1/alias": "alias",
}
_SHORT_ALIASES: Final[dict[str, str]] = {
    "/v1/t": "/v1/track",
    "/v1/i": "/v1/identify",
    "/v1/p": "/v1/page",
    "/v1/s": "/v1/screen",
    "/v1/g": "/v1/group",
    "/v1/a": "/v1/alias",
}
_EVENT_TYPES: Final = frozenset(_SINGLE_ENDPOINTS.values())
_EVENTS_PATH: Final = "/sandbox/events"


@dataclass(frozen=True)
class ReceivedEvent:
    """One event the sandbox accepted, and what real Segment would later discard it for."""

    endpoint: str
    payload: dict[str, Any]
    write_key: str | None
    received_at: str
    discard_reason: str | None

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (the shape GET /sandbox/events lists)."""
        return asdict(self)


@dataclass(frozen=True)
class ReceivedRequest:
    """One HTTP request as it arrived; status is None when the connection was dropped."""

    method: str
    path: str
    headers: dict[str, str]
    body_bytes_len: int
    status: int | None


@dataclass(frozen=True)
class _Fault:
    """One scripted misbehaviour, consumed by a single API request."""

    kind: Literal["fail", "delay", "drop"]
    status: int = 0
    retry_after: str | None = None
    body: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class _Answer:
    """What to send back; status None means close the connection without answering."""

    status: int | None
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False


class _FramingError(Exception):
    """The request body could not be read in step with the HTTP framing."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _PayloadTooLarge(Exception):
    """A (decompressed) body or event is over Segment's size limit."""


_DROP: Final = _Answer(status=None)


def _json_answer(status: int, document: dict[str, Any], **extra: Any) -> _Answer:
    return _Answer(status=status, body=json.dumps(document).encode(), **extra)


def _error(message: str, status: int = 400, *, close: bool = False) -> _Answer:
    return _json_answer(status, {"success": False, "message": message}, close=close)


_OK: Final = _json_answer(200, {"success": True})


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def mask_key(key: str | None) -> str:
    """A write key as it may appear in a log: first and last two characters only."""
    return mask(key) if key else "(none)"


def _basic_auth_user(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, _password = decoded.partition(":")
    return user or None


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress every gzip member in data, refusing to produce more than limit bytes."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:
            raise ValueError("invalid gzip body") from exc
        if len(out) > limit:
            raise _PayloadTooLarge
        if not inflater.eof:
            raise ValueError("truncated gzip body")
        data = inflater.unused_data
    return bytes(out)


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; Segment's JSON parser does not.
    raise ValueError(f"invalid JSON constant {name}")


def _compact_len(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def _has_id(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


def _discard_reason(kind: Any, payload: dict[str, Any]) -> str | None:
    # Segment answers 200 and drops these later (shown in its Delivery Overview).
    if kind not in _EVENT_TYPES:
        return "invalid_type"
    if not (_has_id(payload.get("userId")) or _has_id(payload.get("anonymousId"))):
        return "no_user_anon_id"
    if kind == "track":
        name = payload.get("event")
        if not (isinstance(name, str) and name.strip()):
            return "event_not_defined"
    return None


def _seconds_until(retry_after: str) -> str | None:
    if retry_after.strip().isdigit():
        return retry_after.strip()
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return str(max(0, math.ceil(when.timestamp() - time.time())))


def _fault_answer(fault: _Fault) -> _Answer:
    if fault.body is None:
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Scripted failure"
        body = json.dumps({"success": False, "message": phrase})
    else:
        body = fault.body
    try:
        json.loads(body)
        content_type = "application/json"
    except ValueError:
        content_type = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = []
    if fault.retry_after is not None:
        headers.append(("Retry-After", fault.retry_after))
        reset = _seconds_until(fault.retry_after)
        if fault.status == 429 and reset is not None:
            headers.append(("X-RateLimit-Reset", reset))
    return _Answer(
        status=fault.status,
        body=body.encode(),
        content_type=content_type,
        headers=tuple(headers),
    )


def _printable(text: str, limit: int = 200) -> str:
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def _endpoint_for(path: str) -> str | None:
    path = _SHORT_ALIASES.get(path, path)
    if path in _SINGLE_ENDPOINTS or path == BATCH_ENDPOINT:
        return path
    return None


def _decode_document(headers: dict[str, str], body: bytes, limit: int) -> dict[str, Any] | _Answer:
    """The request's JSON object, or the 400 Segment answers when there is none."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding not in {"", "identity", "gzip", "x-gzip"}:
        return _error("Unsupported Content-Encoding")
    try:
        data = _gunzip(body, limit) if encoding in {"gzip", "x-gzip"} else body
        if len(data) > limit:
            raise _PayloadTooLarge
        document = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except _PayloadTooLarge:
        return _error("Exceed payload limit")
    except (ValueError, RecursionError):
        return _error("Invalid JSON")
    return document if isinstance(document, dict) else _error("Invalid JSON")


def _batch_events(
    document: dict[str, Any], key: str, received_at: str
) -> list[ReceivedEvent] | _Answer:
    items = document.get("batch")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return _error("Invalid batch")
    if any(_compact_len(item) > MAX_EVENT_BYTES for item in items):
        return _error("Exceed payload limit")
    shared = {
        name: document[name]
        for name in ("context", "integrations")
        if isinstance(document.get(name), dict)
    }
    over_count = len(items) > MAX_BATCH_EVENTS
    events = []
    for item in items:
        payload = dict(item)
        for name, defaults in shared.items():
            own = payload.get(name)
            payload[name] = {**defaults, **own} if isinstance(own, dict) else defaults
        reason = (
            "batch_over_2500_events" if over_count else _discard_reason(item.get("type"), payload)
        )
        events.append(ReceivedEvent(BATCH_ENDPOINT, payload, key, received_at, reason))
    return events


def _parse_api(
    endpoint: str, headers: dict[str, str], body: bytes
) -> tuple[_Answer, str | None, list[ReceivedEvent]]:
    """Judge one API request as Segment's edge would: the answer, the key, the events."""
    key = _basic_auth_user(headers.get("authorization"))
    limit = MAX_BATCH_BYTES if endpoint == BATCH_ENDPOINT else MAX_EVENT_BYTES
    document = _decode_document(headers, body, limit)
    if isinstance(document, _Answer):
        return document, key, []
    if not key:
        body_key = document.get("writeKey")
        key = body_key if isinstance(body_key, str) and body_key else None
    if key is None:
        return _error("Missing write key"), None, []

    received_at = _now_iso()
    if endpoint == BATCH_ENDPOINT:
        events = _batch_events(document, key, received_at)
        if isinstance(events, _Answer):
            return events, key, []
        return _OK, key, events
    payload = {name: value for name, value in document.items() if name != "writeKey"}
    reason = _discard_reason(_SINGLE_ENDPOINTS[endpoint], payload)
    return _OK, key, [ReceivedEvent(endpoint, payload, key, received_at, reason)]


class _Server(ThreadingHTTPServer):
    """The HTTP server, carrying a reference to the Sandbox whose state it serves."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 64
    # handle_request() is only called once select() says a client is waiting.
    timeout = 0

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall on some networks.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up, and stop() cutting connections, are normal here.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Server6(_Server):
    """The same server on an IPv6 socket."""

    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    """Reads each request in step with HTTP/1.1 framing and lets the Sandbox judge it."""

    protocol_version = "HTTP/1.1"
    server_version = "SegmentSandbox/1"
    sys_version = ""
    # Idle keep-alive connections die after this, so abandoned clients do not pin threads.
    timeout = 30
    # Headers and body go out in separate writes; Nagle would hold the body back ~40 ms.
    disable_nagle_algorithm = True

    @property
    def sandbox(self) -> Sandbox:
        return cast(_Server, self.server).sandbox

    def setup(self) -> None:
        super().setup()
        self.sandbox._track_connection(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.sandbox._untrack_connection(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
            framing_error = None
        except _FramingError as exc:
            body, framing_error = b"", exc.message
        headers = _header_dict(self.headers)
        answer = self.sandbox._handle(
            self.command, self.path, headers, body, framing_error, started
        )
        if answer.status is None:
            self.close_connection = True
            return
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if answer.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer.body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return _read_chunked(self.rfile)
        declared = self.headers.get("Content-Length")
        if declared is None:
            return b""
        try:
            length = int(declared)
        except ValueError:
            raise _FramingError("Bad Request") from None
        if length < 0:
            raise _FramingError("Bad Request")
        if length > _MAX_READ_BYTES:
            raise _FramingError("Exceed payload limit")
        body = self.rfile.read(length)
        if len(body) != length:
            raise _FramingError("Bad Request")
        return body


def _read_chunked(rfile: BufferedIOBase) -> bytes:
    out = bytearray()
    while True:
        line = rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise _FramingError("Bad Request")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _FramingError("Bad Request") from None
        if size == 0:
            while rfile.readline(65536) not in {b"\r\n", b"\n", b""}:
                pass
            return bytes(out)
        if len(out) + size > _MAX_READ_BYTES:
            raise _FramingError("Exceed payload limit")
        chunk = rfile.read(size)
        if len(chunk) != size:
            raise _FramingError("Bad Request")
        out += chunk
        rfile.readline(3)


def _header_dict(message: Message) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in message.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class Sandbox:
    """A local HTTP server that answers like Segment's Tracking API and records what it got.

    Thread-safe. Scripted faults (fail_next, delay_next, drop_next) are consumed in order,
    one per POST to a /v1/ endpoint.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        on_request: Callable[[str], None] | None = None,
    ) -> None:
        self.on_request = on_request
        self._host = host
        self._port = port
        self._lock = threading.Condition()
        self._events: list[ReceivedEvent] = []
        self._requests: list[ReceivedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._delay = 0.0
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._wake_reader: socket.socket | None = None
        self._wake_writer: socket.socket | None = None

    # Lifecycle

    def start(self) -> Self:
        """Bind and serve on a daemon thread; raises OSError if the address is taken."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("the sandbox has already been started")
            server_class = _Server6 if ":" in self._host else _Server
            self._server = server_class((self._host, self._port), self)
            self._wake_reader, self._wake_writer = socket.socketpair()
            self._thread = threading.Thread(
                target=self._serve,
                args=(self._server, self._wake_reader),
                name="segment-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def _serve(self, server: _Server, wake: socket.socket) -> None:
        # Not serve_forever(): it only notices shutdown() between polls, which would cost
        # every test a poll interval; a wake-up socket makes stop() immediate.
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _events in selector.select():
                    if key.fileobj is server.socket and not self._stopping.is_set():
                        server.handle_request()

    def stop(self) -> None:
        """Stop serving and cut open connections, including delayed answers; idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            if server is None or self._stopping.is_set():
                return
            self._stopping.set()
        if self._wake_writer is not None:
            with contextlib.suppress(OSError):
                self._wake_writer.send(b"\0")
        if thread is not None:
            thread.join(timeout=2)
        server.server_close()
        with self._lock:
            for connection in self._connections:
                _shutdown_socket(connection)
        for end in (self._wake_reader, self._wake_writer):
            if end is not None:
                end.close()

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
        port = self._server.server_address[1]
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(  # noqa: S104
            self._host, self._host
        )
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    # What was received

    def events(self) -> list[ReceivedEvent]:
        """Every event recorded so far, oldest first."""
        with self._lock:
            return list(self._events)

    def requests(self) -> list[ReceivedRequest]:
        """Every HTTP request received so far (control endpoints included), oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded events and requests (scripted faults stay queued)."""
        with self._lock:
            self._events.clear()
            self._requests.clear()

    def wait_for_events(self, n: int, timeout: float = 5.0) -> list[ReceivedEvent]:
        """Block until at least n events are recorded; raises TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._events) >= n, timeout):
                raise TimeoutError(
                    f"expected {n} event(s) within {timeout} s, got {len(self._events)}"
                )
            return list(self._events)

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
        self._script(_Fault("fail", status=status, retry_after=retry_after, body=body), times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Answer the next `times` API requests normally, but only after `seconds`."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self._script(_Fault("delay", seconds=seconds), times)

    def drop_next(self, times: int = 1) -> None:
        """Close the connection without answering the next `times` API requests."""
        self._script(_Fault("drop"), times)

    def set_delay(self, seconds: float) -> None:
        """Delay every API answer by `seconds` (0 to stop); a delay_next fault replaces it."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        with self._lock:
            self._delay = seconds

    def pending_faults(self) -> int:
        """How many scripted faults are still waiting for a request."""
        with self._lock:
            return len(self._faults)

    def clear_faults(self) -> None:
        """Drop every scripted fault not yet consumed."""
        with self._lock:
            self._faults.clear()

    def _script(self, fault: _Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.extend([fault] * times)

    # Serving (called on the server's threads)

    def _track_connection(self, connection: socket.socket) -> None:
        with self._lock:
            if self._stopping.is_set():
                _shutdown_socket(connection)
            self._connections.add(connection)

    def _untrack_connection(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _handle(
        self,
        method: str,
        raw_path: str,
        headers: dict[str, str],
        body: bytes,
        framing_error: str | None,
        started: float,
    ) -> _Answer:
        path = raw_path.split("?", 1)[0]
        endpoint = _endpoint_for(path) if method == "POST" else None
        key: str | None = None
        events: list[ReceivedEvent] = []
        note = ""
        if framing_error is not None:
            answer = _error(framing_error, close=True)
        elif endpoint is None:
            answer = self._control(method, path)
        else:
            answer, key, events = _parse_api(endpoint, headers, body)
            with self._lock:
                fault = self._faults.popleft() if self._faults else None
                delay = fault.seconds if fault and fault.kind == "delay" else self._delay
            if delay > 0 and self._stopping.wait(delay):
                answer, note = _DROP, " (sandbox stopping)"
            elif fault is not None and fault.kind != "delay":
                answer = _DROP if fault.kind == "drop" else _fault_answer(fault)
                note = " (scripted)"
            if answer.status != 200:
                events = []

        request = ReceivedRequest(method, path, headers, len(body), answer.status)
        with self._lock:
            self._requests.append(request)
            self._events.extend(events)
            self._lock.notify_all()
        self._log(request, key, endpoint is not None, events, started, note)
        return answer

    def _control(self, method: str, path: str) -> _Answer:
        if path == _EVENTS_PATH and method == "GET":
            return _json_answer(200, {"events": [event.to_json() for event in self.events()]})
        if path == _EVENTS_PATH and method == "DELETE":
            self.clear()
            return _OK
        if path in {"/", "/health"} and method == "GET":
            return _json_answer(
                200,
                {
                    "sandbox": True,
                    "name": "Chatlio Segment Setup sandbox: a local stand-in for Segment",
                    "events": len(self.events()),
                },
            )
        return _error("Not Found", 404)

    def _log(
        self,
        request: ReceivedRequest,
        key: str | None,
        is_api: bool,
        events: list[ReceivedEvent],
        started: float,
        note: str,
    ) -> None:
        hook = self.on_request
        if hook is None:
            return
        status = "dropped" if request.status is None else str(request.status)
        parts = [request.method, _printable(request.path), status]
        if is_api:
            parts += [f"key={mask_key(key)}", f"{len(events)} event(s)"]
        parts.append(f"{(time.perf_counter() - started) * 1000:.1f} ms")
        line = " ".join(parts) + note
        reasons = sorted({event.discard_reason for event in events if event.discard_reason})
        if reasons:
            line += f" [Segment would discard: {', '.join(reasons)}]"
        try:
            hook(line)
        except Exception:  # noqa: BLE001 - a failing log sink must not take the server down
            return


def _shutdown_socket(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


def serve(host: str, port: int, out: TextIO) -> int:
    """Run a sandbox until SIGINT or SIGTERM: its URL first on `out`, then a line per request.

    Returns 0 after a clean stop, 1 if the address cannot be bound.
    """
    write_lock = threading.Lock()

    def emit(line: str) -> None:
        with write_lock:
            try:
                out.write(line + "\n")
            except UnicodeEncodeError:
                out.write(line.replace("…", "...") + "\n")
            out.flush()

    sandbox = Sandbox(host, port, on_request=emit)
    try:
        sandbox.start()
    except OSError as exc:
        print(
            f"The sandbox cannot listen on {host}:{port} ({exc.strerror or exc}). Pick another "
            "--port, or --port 0 for a free one.",
            file=sys.stderr,
        )
        return 1

    # A plain flag, not an Event: Event.set() inside a signal handler can deadlock
    # against the same thread's Event.wait().
    stop_requested: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop_requested.append(signum)

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        emit(sandbox.url)
        while not stop_requested:
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
