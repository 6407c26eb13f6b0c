"""Reading HTTP/1.1 requests strictly, one connection's bytes at a time, with caps on everything.

h11's state machine is the authority. Plain requests — a request line, well-formed headers,
a Content-Length body or none — take a quicker path of a few regular expressions that accepts
a strict subset of what h11 accepts (tests/test_sandbox_framing.py holds the two side by
side); anything else (chunked bodies, Expect, bare LF, odd bytes) goes to h11, which decides.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

import h11

# h11's grammar (RFC 9110/9112) with field values narrowed to visible ASCII and obs-text:
# whatever this does not match is handed to h11 instead.
_REQUEST_LINE: Final = re.compile(rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+) ([\x21-\x7e]+) HTTP/1\.([01])")
_HEADER_LINE: Final = re.compile(
    rb"([-!#$%&'*+.^_`|~0-9a-zA-Z]+):[ \t]*"
    rb"((?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?)[ \t]*"
)
# Headers the quick path leaves to h11: other framing, and a client waiting for 100 Continue.
_LEFT_TO_H11: Final = frozenset({b"transfer-encoding", b"expect"})
_MAX_LENGTH_DIGITS: Final = 18
# Where h11 sees the end of a head (it also takes bare LF): then h11 reads it, not the quick path.
_BLANK_LINE: Final = re.compile(rb"\n\r?\n")


@dataclass(frozen=True)
class Problem:
    """Why a request could not be read; the answer to it closes the connection."""

    status: int
    message: str


@dataclass(frozen=True)
class Request:
    """One request as read: method and target are "" when the request line was unreadable."""

    method: str
    target: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    completed_at: float  # time.perf_counter() when it was complete (or found broken)
    problem: Problem | None = None
    local_address: str | None = None  # the address the client connected to, when known


@dataclass(frozen=True)
class PlainHead:
    """A request head the quick path can take: no transfer coding, at most one length."""

    method: bytes
    target: bytes
    http_version: bytes
    headers: tuple[tuple[bytes, bytes], ...]  # names in lower case
    content_length: int


class _Closed:
    """The client hung up between two requests."""


CLOSED: Final = _Closed()


def problem(status: int) -> Problem:
    return Problem(status, HTTPStatus(status).phrase)


def parse_plain_head(block: bytes) -> PlainHead | None:
    """The head (request line and headers, CRLF-separated, no blank line) if it is plain."""
    lines = block.split(b"\r\n")
    request_line = _REQUEST_LINE.fullmatch(lines[0])
    if request_line is None:
        return None
    headers = []
    length: int | None = None
    hosts = 0
    for line in lines[1:]:
        header = _HEADER_LINE.fullmatch(line)
        if header is None:
            return None
        name, value = header.group(1).lower(), header.group(2)
        if name in _LEFT_TO_H11:
            return None
        if name == b"content-length":
            if length is not None or not value.isdigit() or len(value) > _MAX_LENGTH_DIGITS:
                return None
            length = int(value)
        elif name == b"host":
            hosts += 1
        headers.append((name, value))
    http_version = b"1." + request_line.group(3)
    if hosts > 1 or (hosts == 0 and http_version == b"1.1"):
        return None
    return PlainHead(
        request_line.group(1), request_line.group(2), http_version, tuple(headers), length or 0
    )


def keeps_alive(http_version: bytes, headers: tuple[tuple[bytes, bytes], ...]) -> bool:
    """Whether the connection stays open after this request: HTTP/1.1 without "close".

    HTTP/1.0 always closes, even with "Connection: keep-alive", as h11 does.
    """
    if http_version != b"1.1":
        return False
    return not any(
        token.strip().lower() == b"close"
        for name, value in headers
        if name == b"connection"
        for token in value.split(b",")
    )


def _header_dict(headers: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("ascii"), raw_value.decode("latin-1")
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


class RequestReader:
    """Turns what one connection sends into requests, one at a time, within the caps.

    feed() what arrives (b"" at end of input); next() gives a Request (complete, or with the
    Problem that stops it), None while it needs more, or CLOSED. After answering, finish()
    says whether the connection can carry another request, and readies it.
    """

    def __init__(
        self, max_head_bytes: int, max_body_bytes: int, local_address: str | None = None
    ) -> None:
        self._local_address = local_address
        self._max_head = max_head_bytes
        self._max_body = max_body_bytes
        self._raw = bytearray()  # the quick path's unread bytes
        self._eof = False
        self._http: h11.Connection | None = None  # h11's turn, for this request
        self._plain: PlainHead | None = None
        self._body_at = 0
        self._h11_body: list[bytes] = []
        self._h11_body_len = 0
        self._head: tuple[bytes, bytes, bytes, tuple[tuple[bytes, bytes], ...]] | None = None
        self._broken = False
        self.first_byte_at: float | None = None  # time.monotonic() of this request's first byte
        self.method = b""
        self.keep_alive = True
        self.wants_continue = False  # the client waits for "100 Continue" before its body

    @property
    def idle(self) -> bool:
        """No byte of a request has come yet."""
        return self.first_byte_at is None

    def feed(self, data: bytes) -> None:
        if data and self.first_byte_at is None:
            self.first_byte_at = time.monotonic()
        if self._http is not None:
            self._http.receive_data(data)
        elif data:
            self._raw += data
        else:
            self._eof = True

    def next(self) -> Request | _Closed | None:
        if self._http is None:
            request = self._next_plain()
            if request is not None or self._http is None:
                return request
        return self._next_h11()

    def timed_out(self) -> Request:
        """The request under way, refused for taking too long."""
        return self._request(problem(408))

    def finish(self) -> bool:
        """After an answer: True if the next request may follow on this connection."""
        if self._broken or not self.keep_alive:
            return False
        if self._http is not None:
            if self._http.their_state is not h11.DONE:
                return False
            trailing, closed = self._http.trailing_data
            self._raw, self._eof, self._http = bytearray(trailing), closed, None
        self._plain = self._head = None
        self.method, self.wants_continue = b"", False
        self.first_byte_at = time.monotonic() if self._raw else None
        return True

    # The quick path

    def _next_plain(self) -> Request | _Closed | None:
        raw = self._raw
        if self._plain is None:
            end = raw.find(b"\r\n\r\n")
            if end > self._max_head or (end < 0 and len(raw) > self._max_head):
                return self._request(problem(431))
            plain = parse_plain_head(bytes(raw[:end])) if end >= 0 else None
            if plain is None:
                # Not plain, or not complete yet: h11 sees it all, unless more may make it plain.
                if end >= 0 or self._eof or _BLANK_LINE.search(raw):
                    if not raw and self._eof:
                        return CLOSED
                    self._hand_to_h11()
                return None
            self._plain, self._body_at = plain, end + 4
            self._begin(plain.method, plain.target, plain.http_version, plain.headers)
            if plain.content_length > self._max_body:
                return self._request(problem(413))
        end_of_body = self._body_at + self._plain.content_length
        if len(raw) < end_of_body:
            if self._eof:
                self._hand_to_h11()  # a body cut short: h11 names the problem
            return None
        body = bytes(raw[self._body_at : end_of_body])
        del raw[:end_of_body]
        return self._request(None, body)

    def _hand_to_h11(self) -> None:
        self._http = h11.Connection(h11.SERVER, max_incomplete_event_size=self._max_head)
        self._http.receive_data(bytes(self._raw))
        if self._eof:
            self._http.receive_data(b"")
        self._raw = bytearray()
        self._plain = self._head = None

    # h11's path

    def _next_h11(self) -> Request | _Closed | None:
        assert self._http is not None
        while True:
            try:
                event = self._http.next_event()
            except h11.RemoteProtocolError as exc:
                return self._request(problem(431 if exc.error_status_hint == 431 else 400))
            if isinstance(event, type):  # the sentinels NEED_DATA, or PAUSED (never here)
                return None
            if isinstance(event, h11.ConnectionClosed):
                return CLOSED
            if isinstance(event, h11.EndOfMessage):
                body = b"".join(self._h11_body)
                self._h11_body, self._h11_body_len = [], 0
                return self._request(None, body)
            refused = self._take_h11(event)
            if refused is not None:
                return self._request(refused)

    def _take_h11(self, event: h11.Event) -> Problem | None:
        """Keep a head or a piece of body from h11; the Problem that stops the request, if any."""
        assert self._http is not None
        if isinstance(event, h11.Request):
            headers = tuple((bytes(name), bytes(value)) for name, value in event.headers)
            self._begin(event.method, event.target, event.http_version, headers)
            if not event.http_version.startswith(b"1."):
                return problem(505)
            length = next((int(v) for n, v in headers if n == b"content-length"), 0)
            if length > self._max_body:
                return problem(413)
            self.wants_continue = self._http.they_are_waiting_for_100_continue
        elif isinstance(event, h11.Data):
            self._h11_body.append(bytes(event.data))
            self._h11_body_len += len(event.data)
            if self._h11_body_len > self._max_body:
                return problem(413)
        return None

    # Both

    def _begin(
        self,
        method: bytes,
        target: bytes,
        http_version: bytes,
        headers: tuple[tuple[bytes, bytes], ...],
    ) -> None:
        self._head = (method, target, http_version, headers)
        self.method = method
        self.keep_alive = keeps_alive(http_version, headers)

    def _request(self, refused: Problem | None, body: bytes = b"") -> Request:
        if refused is not None:
            self._broken = True
        self._plain = None
        head = self._head
        return Request(
            method=head[0].decode("ascii") if head else "",
            target=head[1].decode("ascii") if head else "",
            headers=_header_dict(head[3]) if head else {},
            body=body,
            completed_at=time.perf_counter(),
            problem=refused,
            local_address=self._local_address,
        )
