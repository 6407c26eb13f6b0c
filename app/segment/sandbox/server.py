"""HTTP/1.1 plumbing: one selector thread for every connection, and a few workers.

It knows nothing of Segment. framing.RequestReader reads each request strictly; a complete one
goes to a `respond` callable, on the selector thread when it is cheap (a small body) and on a
worker otherwise. The Reply is sent at once or, when it asks for a delay, later by the selector
thread: no thread waits for a slow client or a delayed answer, and idle connections hold none.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import re
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import formatdate
from enum import Enum, auto
from http import HTTPStatus
from typing import Final

from app.segment.sandbox.framing import CLOSED, Problem, Request, RequestReader

__all__ = ["Problem", "Reply", "Request", "Server", "ServerLimits"]

SERVER_NAME: Final = "SegmentSandbox/1"
# How often the selector thread looks for connections past their deadline.
_SWEEP_SECONDS: Final = 0.25
_RECEIVE_BYTES: Final = 64 * 1024
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BUSY_ANSWER: Final = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 25\r\nConnection: close\r\n\r\nToo many open connections"
)


@dataclass(frozen=True)
class ServerLimits:
    """The bounds that keep hostile or broken clients from exhausting the server."""

    workers: int = 4  # threads running `respond`; connections never hold one while idle
    max_connections: int = 512  # open at once; past it the longest-idle one is closed
    max_head_bytes: int = 16 * 1024  # request line and headers: 431 past it
    max_body_bytes: int = 1024 * 1024  # body as sent, whatever its framing: 413 past it
    request_timeout: float = 15.0  # from a request's first byte to its last: 408 past it
    idle_timeout: float = 30.0  # a keep-alive connection with no request in progress
    write_timeout: float = 10.0  # for a client to take in an answer
    linger: float = 2.0  # reading what a refused client still sends, so it sees the answer
    linger_bytes: int = 1024 * 1024  # ...and at most this much of it
    inline_body_bytes: int = 64 * 1024  # smaller requests are answered on the selector thread
    # Answers built but not yet taken by their clients, every connection together: what
    # reserve() admits (see Server.reserve).
    max_unsent_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class Reply:
    """What to send back; status None closes the connection without answering.

    `settle` is called once, on the thread that sends: with True right before the answer goes
    out (or the connection is dropped as asked), with False if the server stops first.
    `reserved` is what Server.reserve() set aside for building this answer; once it is sent,
    its unsent bytes count instead. `content_length` stands in for len(body) in the header: a
    HEAD answer whose body was never built.
    """

    status: int | None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False
    delay: float = 0.0
    settle: Callable[[bool], None] | None = None
    reserved: int = 0
    content_length: int | None = None


Respond = Callable[[Request], Reply]
_INTERNAL_ERROR: Final = Reply(
    500, b"Internal Server Error", (("Content-Type", "text/plain; charset=utf-8"),), close=True
)


class _Phase(Enum):
    READING = auto()  # the selector thread reads a request
    BUSY = auto()  # a worker runs respond() and sends the answer
    DELAYED = auto()  # the answer waits for its time on the selector thread
    WRITING = auto()  # the selector thread sends what the client did not take at once
    LINGERING = auto()  # answered and closing: what the client still sends is read and dropped


class _Step(Enum):
    SENT = auto()
    WRITE = auto()
    DROP = auto()
    DELAY = auto()


class _Connection:
    """One client connection; owned by the selector thread, or by one worker while BUSY."""

    def __init__(
        self, sock: socket.socket, limits: ServerLimits, now: float, local: str | None
    ) -> None:
        self.sock = sock
        self.reader = RequestReader(limits.max_head_bytes, limits.max_body_bytes, local)
        self.phase = _Phase.READING
        self.last_active = now
        self.deadline = 0.0
        self.watching = 0
        self.pending = memoryview(b"")
        self.delayed: Reply | None = None
        self.lingered = 0
        self.close_after = False


def _http_date(_cache: list[tuple[int, str]] = [(0, "")]) -> str:  # noqa: B006 - a cache
    second = int(time.time())
    cached = _cache[0]
    if cached[0] != second:
        cached = (second, formatdate(second, usegmt=True))
        _cache[0] = cached
    return cached[1]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class Server:
    """Serves `respond` on host:port until stop(); thread-safe start and stop."""

    def __init__(
        self,
        host: str,
        port: int,
        respond: Respond,
        limits: ServerLimits = ServerLimits(),
        on_error: Callable[[BaseException], None] | None = None,
        heavy: Callable[[Request], bool] | None = None,
    ) -> None:
        self._address = (host, port)
        self._respond = respond
        self._limits = limits
        self._on_error = on_error
        self._heavy = heavy
        self._lock = threading.Lock()
        self._stopping = False
        self._closed = False
        self._completions: list[tuple[_Connection, _Step]] = []
        self._jobs: deque[tuple[_Connection, Request]] = deque()
        self._jobs_ready = threading.Condition(self._lock)
        self._connections: set[_Connection] = set()
        self._delays: list[tuple[float, int, _Connection]] = []
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_reader: socket.socket | None = None
        self._wake_writer: socket.socket | None = None
        self._listening = True
        self._bound: tuple[str, int] | None = None
        self._unsent = 0  # bytes of answers built and not yet sent, or reserved; under _lock

    @property
    def address(self) -> tuple[str, int]:
        """The address bound (host, port); raises RuntimeError before bind() or start()."""
        if self._bound is None:
            raise RuntimeError("the server has not been started")
        return self._bound

    @property
    def unsent_bytes(self) -> int:
        """Bytes of answers built (or reserved) and not yet taken by their clients."""
        with self._lock:
            return self._unsent

    def reserve(self, size: int) -> bool:
        """Set aside `size` bytes of the unsent-answer budget for an answer about to be built.

        True when they fit within max_unsent_bytes, or when nothing waits at all (one answer
        of any size can always go); the Reply built must then carry reserved=size. False when
        clients that do not read hold the budget: answer something small instead (503). A
        caller that reserved and then builds no Reply gives the bytes back with release().
        """
        with self._lock:
            if self._unsent and self._unsent + size > self._limits.max_unsent_bytes:
                return False
            self._unsent += size
            return True

    def release(self, size: int) -> None:
        """Give back bytes reserve() set aside for an answer that was never built."""
        self._count_unsent(-size)

    def _count_unsent(self, change: int) -> None:
        if change:
            with self._lock:
                self._unsent += change

    def bind(self) -> tuple[str, int]:
        """Bind and listen, not serving yet: the address bound; OSError if it cannot be bound."""
        if self._listener is not None:
            return self.address
        host, port = self._address
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(128)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        host, port = listener.getsockname()[:2]
        self._bound = (str(host), int(port))
        return self._bound

    def start(self) -> None:
        """Bind (unless bind() did) and serve on daemon threads; OSError if it cannot bind."""
        self.bind()
        listener = self._listener
        assert listener is not None
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(listener, selectors.EVENT_READ)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._threads = [threading.Thread(target=self._loop, name="sandbox-http", daemon=True)]
        self._threads += [
            threading.Thread(target=self._work, name=f"sandbox-worker-{n}", daemon=True)
            for n in range(self._limits.workers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop at once: cut every connection, delayed answers included; idempotent."""
        with self._lock:
            if self._stopping or not self._threads:
                if not self._threads and self._listener is not None:
                    self._listener.close()  # bound, never served
                return
            self._stopping = True
            self._jobs_ready.notify_all()
        self._wake()
        for thread in self._threads:
            thread.join(timeout=2)

    # The selector thread

    def _loop(self) -> None:
        assert self._selector is not None
        next_sweep = time.monotonic() + _SWEEP_SECONDS
        try:
            while not self._stopping:
                now = time.monotonic()
                wake_at = min(next_sweep, self._delays[0][0]) if self._delays else next_sweep
                for key, mask in self._selector.select(max(0.0, wake_at - now)):
                    self._on_ready(key, mask)
                self._take_completions()
                now = time.monotonic()
                while self._delays and self._delays[0][0] <= now:
                    self._send_delayed(heapq.heappop(self._delays)[2])
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + _SWEEP_SECONDS
        except Exception as exc:  # noqa: BLE001 - reported; stopping beats dying silently
            self._report(exc)
        finally:
            self._close_everything()

    def _on_ready(self, key: selectors.SelectorKey, mask: int) -> None:
        if key.fileobj is self._listener:
            self._accept()
        elif key.fileobj is self._wake_reader:
            with contextlib.suppress(OSError):
                while self._wake_reader.recv(4096):
                    pass
        elif mask & selectors.EVENT_WRITE:
            self._on_writable(key.data)
        else:
            self._on_readable(key.data)

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(64):
            try:
                sock, _address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # Out of file descriptors: stop accepting until the next sweep, not spin.
                self._watch_listener(False)
                return
            sock.setblocking(False)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if len(self._connections) >= self._limits.max_connections and not self._evict():
                with contextlib.suppress(OSError):
                    sock.send(_BUSY_ANSWER)
                sock.close()
                continue
            try:
                local: str | None = str(sock.getsockname()[0])
            except OSError:
                local = None
            connection = _Connection(sock, self._limits, time.monotonic(), local)
            self._connections.add(connection)
            self._watch(connection, selectors.EVENT_READ)

    def _evict(self) -> bool:
        """Close the connection idle the longest (no request under way), if there is one."""
        idle = [c for c in self._connections if c.phase is _Phase.READING and c.reader.idle]
        if not idle:
            return False
        self._close(min(idle, key=lambda c: c.last_active))
        return True

    def _on_readable(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(_RECEIVE_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        if connection.phase is _Phase.LINGERING:
            connection.lingered += len(data)
            if not data or connection.lingered > self._limits.linger_bytes:
                self._close(connection)
            return
        connection.reader.feed(data)
        self._advance(connection)

    def _advance(self, connection: _Connection) -> None:
        """Answer what the connection has sent, request after request, until it needs more.

        A cheap request (small body, not `heavy`) is answered right here, which spares two
        thread hand-offs; the others go to a worker. A loop, not recursion: a client may
        pipeline thousands of requests in one read.
        """
        while True:
            request = self._read_request(connection)
            if request is None:
                return
            if not self._is_cheap(request):
                connection.phase = _Phase.BUSY
                self._watch(connection, 0)
                with self._lock:
                    self._jobs.append((connection, request))
                    self._jobs_ready.notify()
                return
            step = self._answer(connection, request)
            if step is not _Step.SENT:
                self._apply(connection, step)
                return
            if not self._reuse(connection):
                return

    def _read_request(self, connection: _Connection) -> Request | None:
        """The next complete (or broken) request; None while more is needed, or once closed."""
        reader = connection.reader
        request = reader.next()
        if request is CLOSED:
            self._close(connection)
            return None
        if request is None:
            if reader.wants_continue:
                reader.wants_continue = False
                with contextlib.suppress(OSError):
                    connection.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._watch(connection, selectors.EVENT_READ)
            return None
        assert isinstance(request, Request)
        return request

    def _is_cheap(self, request: Request) -> bool:
        if request.problem is not None:
            return True
        if len(request.body) > self._limits.inline_body_bytes:
            return False
        return self._heavy is None or not self._heavy(request)

    def _take_completions(self) -> None:
        with self._lock:
            done, self._completions = self._completions, []
        for connection, step in done:
            self._apply(connection, step)

    def _apply(self, connection: _Connection, step: _Step) -> None:
        if step is _Step.SENT:
            if self._reuse(connection):
                self._advance(connection)
        elif step is _Step.WRITE:
            connection.phase = _Phase.WRITING
            connection.deadline = time.monotonic() + self._limits.write_timeout
            self._watch(connection, selectors.EVENT_WRITE)
        elif step is _Step.DELAY:
            assert connection.delayed is not None
            connection.phase = _Phase.DELAYED
            self._watch(connection, 0)
            when = time.monotonic() + connection.delayed.delay
            heapq.heappush(self._delays, (when, next(self._order), connection))
        else:
            self._close(connection)

    def _send_delayed(self, connection: _Connection) -> None:
        reply, connection.delayed = connection.delayed, None
        if reply is None or connection not in self._connections:
            return
        connection.phase = _Phase.BUSY  # this thread sends, as a worker would
        self._apply(connection, self._deliver(connection, reply))

    def _on_writable(self, connection: _Connection) -> None:
        try:
            sent = connection.sock.send(connection.pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        connection.pending = connection.pending[sent:]
        self._count_unsent(-sent)
        if not connection.pending:
            self._apply(connection, _Step.SENT)

    def _reuse(self, connection: _Connection) -> bool:
        """Ready the connection for its next request after an answer; False if it closes."""
        if connection.close_after or not connection.reader.finish():
            self._linger(connection)
            return False
        connection.phase = _Phase.READING
        connection.last_active = time.monotonic()
        return True

    def _linger(self, connection: _Connection) -> None:
        # Closing with unread input makes the kernel reset the connection, and a reset can
        # destroy the answer before the client reads it: shut our side, read theirs a while.
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_WR)
        connection.phase = _Phase.LINGERING
        connection.deadline = time.monotonic() + self._limits.linger
        self._watch(connection, selectors.EVENT_READ)

    def _sweep(self, now: float) -> None:
        limits = self._limits
        self._watch_listener(True)
        for connection in list(self._connections):
            if connection.phase is _Phase.READING:
                first_byte_at = connection.reader.first_byte_at
                if first_byte_at is not None and now - first_byte_at >= limits.request_timeout:
                    timed_out = connection.reader.timed_out()
                    self._apply(connection, self._answer(connection, timed_out))
                elif first_byte_at is None and now - connection.last_active >= limits.idle_timeout:
                    self._close(connection)
            elif connection.phase in {_Phase.WRITING, _Phase.LINGERING} and (
                now >= connection.deadline
            ):
                self._close(connection)

    def _watch(self, connection: _Connection, events: int) -> None:
        assert self._selector is not None
        if events == connection.watching:
            return
        if connection.watching == 0:
            self._selector.register(connection.sock, events, connection)
        elif events == 0:
            self._selector.unregister(connection.sock)
        else:
            self._selector.modify(connection.sock, events, connection)
        connection.watching = events

    def _watch_listener(self, on: bool) -> None:
        assert self._selector is not None
        assert self._listener is not None
        if on != self._listening:
            if on:
                self._selector.register(self._listener, selectors.EVENT_READ)
            else:
                self._selector.unregister(self._listener)
            self._listening = on

    def _close(self, connection: _Connection) -> None:
        if connection.pending:  # never to be sent
            self._count_unsent(-len(connection.pending))
            connection.pending = memoryview(b"")
        if connection.watching:
            self._watch(connection, 0)
        self._connections.discard(connection)
        connection.sock.close()

    def _close_everything(self) -> None:
        with self._lock:
            self._closed = True
            done, self._completions = self._completions, []
            queued, self._jobs = self._jobs, deque()
        busy = {c for c in self._connections if c.phase is _Phase.BUSY}
        busy -= {c for c, _ in done} | {c for c, _ in queued}
        for connection in list(self._connections):
            if connection.delayed is not None and connection.delayed.settle is not None:
                self._settle(connection.delayed.settle, False)
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)
            if connection not in busy:  # a worker still owns the others; it closes them
                connection.sock.close()
        self._connections.clear()
        assert self._selector is not None
        assert self._listener is not None
        self._selector.close()
        self._listener.close()
        for end in (self._wake_reader, self._wake_writer):
            if end is not None:
                end.close()

    # Workers

    def _work(self) -> None:
        while True:
            with self._jobs_ready:
                self._jobs_ready.wait_for(lambda: self._jobs or self._stopping)
                if self._stopping:
                    return
                connection, request = self._jobs.popleft()
            try:
                step = self._answer(connection, request)
            except Exception as exc:  # noqa: BLE001 - reported; one connection lost, not a thread
                self._report(exc)
                step = _Step.DROP
            self._hand_back(connection, step)

    def _answer(self, connection: _Connection, request: Request) -> _Step:
        try:
            reply = self._respond(request)
        except Exception as exc:  # noqa: BLE001 - answered 500 and reported, not fatal
            self._report(exc)
            reply = _INTERNAL_ERROR
        if request.problem is not None:
            reply = replace(reply, close=True, delay=0.0)
        if reply.delay > 0:
            connection.delayed = reply
            return _Step.DELAY
        return self._deliver(connection, reply)

    def _deliver(self, connection: _Connection, reply: Reply) -> _Step:
        """Settle and send the reply; what is left to do with the connection afterwards.

        Whatever it reserved stops counting as unsent, and what the client did not take at
        once counts instead, until it is sent or the connection closes.
        """
        try:
            return self._send_reply(connection, reply)
        finally:
            self._count_unsent(len(connection.pending) - reply.reserved)

    def _send_reply(self, connection: _Connection, reply: Reply) -> _Step:
        if reply.status is None:
            self._settle(reply.settle, True)
            return _Step.DROP
        connection.close_after = reply.close or not connection.reader.keep_alive
        try:
            data = _render(reply, connection.reader.method, connection.close_after)
        except ValueError as exc:  # a scripted status or header that HTTP cannot carry
            self._report(exc)
            self._settle(reply.settle, False)
            return _Step.DROP
        self._settle(reply.settle, True)
        try:
            sent = connection.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return _Step.DROP
        connection.pending = memoryview(data)[sent:]
        return _Step.WRITE if connection.pending else _Step.SENT

    def _hand_back(self, connection: _Connection, step: _Step) -> None:
        with self._lock:
            if self._closed:  # the selector thread is gone: this thread closes up
                connection.sock.close()
                return
            wake = not self._completions
            self._completions.append((connection, step))
        if wake:
            self._wake()

    def _wake(self) -> None:
        if self._wake_writer is not None:
            with contextlib.suppress(OSError):
                self._wake_writer.send(b"\0")

    def _settle(self, settle: Callable[[bool], None] | None, delivered: bool) -> None:
        if settle is None:
            return
        try:
            settle(delivered)
        except Exception as exc:  # noqa: BLE001 - reported; the connection carries on
            self._report(exc)

    def _report(self, exc: BaseException) -> None:
        if self._on_error is not None:
            with contextlib.suppress(Exception):
                self._on_error(exc)


def _render(reply: Reply, method: bytes, close: bool) -> bytes:
    """The answer's bytes; ValueError for a status or header HTTP/1.1 cannot carry."""
    status = reply.status
    if status is None or not 200 <= status <= 599:
        raise ValueError(f"not a final HTTP status: {status}")
    lines = [f"HTTP/1.1 {status} {_phrase(status)}", f"Server: {SERVER_NAME}"]
    lines.append(f"Date: {_http_date()}")
    for name, value in reply.headers:
        if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
            raise ValueError(f"not a valid header: {name!r}")
        lines.append(f"{name}: {value}")
    has_body = status not in {204, 304}
    if has_body:
        length = len(reply.body) if reply.content_length is None else reply.content_length
        lines.append(f"Content-Length: {length}")
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + reply.body if has_body and method != b"HEAD" else head
