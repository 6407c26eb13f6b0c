"""The sandbox's request framing: its quick path for plain requests never disagrees with h11."""

from __future__ import annotations

import time
from typing import Any

import h11
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.segment.sandbox import framing
from app.segment.sandbox.framing import CLOSED, Request, RequestReader, parse_plain_head

MAX_HEAD = 1024
MAX_BODY = 64


def mostly(good: list[bytes], odd: list[bytes]) -> st.SearchStrategy[bytes]:
    """Well-formed nine times in ten: plain requests must come up often, odd ones too."""
    copies = max(1, round(9 * len(odd) / len(good)))
    return st.sampled_from(good * copies + odd)


METHODS = mostly([b"GET", b"POST", b"HEAD", b"OPTIONS", b"DELETE"], [b"PO ST", b"", b"G\x00T"])
TARGETS = mostly(
    [b"/v1/track", b"/", b"*", b"/a?b=c", b"http://x/y", b"/%0a"], [b"/\x1b", b"/ x", b""]
)
VERSIONS = mostly([b"HTTP/1.1", b"HTTP/1.0"], [b"HTTP/2.0", b"http/1.1", b"HTTP/1.1 ", b"HTTP/1"])
ODD_NAMES = [b"Transfer-Encoding", b"Expect", b"Bad Name", b"", b" Host", b"X-\xe9", b"Host"]
ODD_VALUES = [
    b"5, 5",
    b"5, 6",
    b"-1",
    b"+5",
    b"99999999999999999999999",
    b"chunked",
    b"gzip",
    b"100-continue",
    b"a\x01b",
    b"a\x00b",
    b"a\rb",
]
GOOD_VALUES = [b"x", b"close", b"keep-alive", b"  padded  ", b"\xe9t\xe9", b"", b"a\tb", b"a, b"]
HEADER_KINDS = {
    "length": st.tuples(st.just(b"Content-Length"), st.sampled_from([b"0", b"5", b"05", b"80"])),
    "plain": st.tuples(
        st.sampled_from([b"Connection", b"X-A", b"User-Agent"]), st.sampled_from(GOOD_VALUES)
    ),
    "odd": st.tuples(st.sampled_from(ODD_NAMES), st.sampled_from(ODD_VALUES + GOOD_VALUES)),
}
HEADERS = st.sampled_from(["length", "plain", "plain", "plain", "odd"]).flatmap(
    HEADER_KINDS.__getitem__
)
ENDINGS = mostly([b"\r\n"], [b"\n", b"\r"])


@st.composite
def one_request(draw: st.DrawFn) -> bytes:
    line = b" ".join([draw(METHODS), draw(TARGETS), draw(VERSIONS)])
    headers = draw(st.lists(HEADERS, max_size=4))
    if draw(st.sampled_from([True] * 9 + [False])):  # HTTP/1.1 requires Host
        headers.insert(0, (b"Host", b"sandbox"))
    space = st.sampled_from([b"", b" ", b" ", b"\t"])
    lines = [line] + [name + b":" + draw(space) + value for name, value in headers]
    body = draw(st.binary(max_size=90)) if draw(st.booleans()) else b""
    return b"".join(part + draw(ENDINGS) for part in lines) + draw(ENDINGS) + body


def outcome(request: Request | Any) -> tuple[Any, ...]:
    if request is CLOSED:
        return ("closed",)
    assert isinstance(request, Request)
    status = request.problem.status if request.problem else None
    return (request.method, request.target, request.headers, request.body, status)


def drain(reader: RequestReader, seen: list[tuple[Any, ...]]) -> bool:
    """Everything the reader can give now; False once the connection is over."""
    while True:
        request = reader.next()
        if request is None:
            return True
        seen.append(outcome(request))
        if request is CLOSED or not reader.finish():
            return False


def read_all(stream: bytes, cuts: list[int]) -> list[tuple[Any, ...]]:
    reader = RequestReader(MAX_HEAD, MAX_BODY)
    seen: list[tuple[Any, ...]] = []
    start = 0
    for cut in [*sorted(set(cuts) - {0}), len(stream)]:  # feed(b"") means the end of input
        reader.feed(stream[start:cut])
        start = cut
        if not drain(reader, seen):
            return seen
    reader.feed(b"")
    drain(reader, seen)
    return seen


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    requests=st.lists(one_request(), min_size=1, max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=4),
)
@example(requests=[b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET"], cuts=[])
@example(requests=[b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"], cuts=[])
def test_the_quick_path_reads_what_h11_reads(requests: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(requests)
    cuts = [cut for cut in cuts if cut < len(stream)]

    quick = read_all(stream, cuts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(framing, "parse_plain_head", lambda _block: None)
        strict = read_all(stream, [])

    assert quick == strict


@settings(max_examples=500, deadline=None)
@given(block=st.builds(lambda r: r.split(b"\r\n\r\n", 1)[0], one_request()))
def test_every_plain_head_is_one_h11_accepts_alike(block: bytes) -> None:
    plain = parse_plain_head(block)
    if plain is None:
        return
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(block + b"\r\n\r\n")
    event = connection.next_event()

    assert isinstance(event, h11.Request)
    assert (event.method, event.target, event.http_version) == (
        plain.method,
        plain.target,
        plain.http_version,
    )
    assert [(bytes(n), bytes(v)) for n, v in event.headers] == list(plain.headers)
    expected_body = h11.NEED_DATA if plain.content_length else h11.EndOfMessage()
    assert connection.next_event() == expected_body


@pytest.mark.parametrize(
    "block",
    [
        b"GET / HTTP/1.1\r\nHost: x",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 17",
        b"GET / HTTP/1.0",
    ],
)
def test_ordinary_heads_take_the_quick_path(block: bytes) -> None:
    assert parse_plain_head(block) is not None


@pytest.mark.parametrize(
    "block",
    [
        b"GET / HTTP/1.1",  # no Host
        b"GET / HTTP/1.1\r\nHost: x\r\nHost: y",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked",
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 1",
        b"GET / HTTP/1.1\r\nHost: x\r\n folded",
        b"GET / HTTP/1.1\nHost: x",
        b"GET / HTTP/2.0\r\nHost: x",
    ],
)
def test_anything_unusual_is_left_to_h11(block: bytes) -> None:
    assert parse_plain_head(block) is None


def test_pipelined_requests_come_out_one_by_one() -> None:
    reader = RequestReader(MAX_HEAD, MAX_BODY)
    reader.feed(
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nyo\r\n0\r\n\r\n"
        b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    seen: list[tuple[Any, ...]] = []
    assert drain(reader, seen)

    assert [(method, target, body) for method, target, _h, body, _s in seen] == [
        ("POST", "/a", b"hi"),
        ("POST", "/b", b"yo"),
        ("GET", "/c", b""),
    ]


def test_a_head_over_the_cap_is_431_complete_or_not() -> None:
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_HEAD
    for stream in (big, big + b"\r\n\r\n"):
        reader = RequestReader(MAX_HEAD, MAX_BODY)
        reader.feed(stream)
        request = reader.next()
        assert isinstance(request, Request)
        assert request.problem is not None
        assert request.problem.status == 431


def test_a_reader_times_a_request_from_its_first_byte_and_a_request_says_when_it_was_read() -> None:
    """Two clocks, each named for what it measures: the 408 deadline and the log's elapsed time."""
    reader = RequestReader(MAX_HEAD, MAX_BODY)
    assert reader.idle
    before = time.monotonic()
    reader.feed(b"GET / HTTP/1.1\r\n")
    first_byte_at = reader.first_byte_at
    assert first_byte_at is not None
    assert before <= first_byte_at <= time.monotonic()
    reader.feed(b"Host: x\r\n\r\n")
    assert reader.first_byte_at == first_byte_at  # later bytes do not move it

    reading = time.perf_counter()
    request = reader.next()

    assert isinstance(request, Request)
    assert reading <= request.completed_at <= time.perf_counter()
    assert reader.finish()
    assert reader.first_byte_at is None  # idle again: no byte of the next request yet
