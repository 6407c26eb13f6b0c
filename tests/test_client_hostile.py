"""What the client says, and how much it reads, when the server is not Segment (real sockets)."""

from __future__ import annotations

import json
import time
import tracemalloc

import httpx
import pytest

from app.chatlio import Conversation
from app.redaction import printable
from app.segment.bounded import MAX_ANSWER_BYTES, read_body
from app.segment.client import SegmentClient
from app.segment.endpoint import Endpoint, Region, parse_endpoint
from app.segment.payload import Visitor
from app.segment.result import ErrorKind, SendResult
from app.segment.retry import RetryPolicy
from tests.hostile_server import (
    Behaviour,
    HostileServer,
    Script,
    close_before_answer,
    close_mid_body,
    closed_port,
    declared_huge,
    garbage,
    gzip_ok,
    gzip_response,
    huge_header,
    never_answer,
    response,
)

KEY = "HostileTestKey0123456789abcdef01"
QUICK = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02, total_budget=30)
CEILING = 10.0
# Words a marketing-ops reader should never meet in a message.
JARGON = ("readtimeout", "2xx", "dns", "connection reset", "errno", "protocolerror", "h11")


def track(url: str, policy: RetryPolicy = QUICK, timeout: float = 5) -> SendResult:
    with SegmentClient(KEY, parse_endpoint(url), retry=policy, timeout=timeout) as client:
        return client.track(Conversation().events()[0], Visitor("v"))


def assert_plain(result: SendResult) -> None:
    assert printable(result.message) == result.message
    assert not any(word in result.message.lower() for word in JARGON), result.message
    for attempt in result.attempts:
        assert attempt.error is None or printable(attempt.error) == attempt.error


def served(behaviour: Behaviour, policy: RetryPolicy = QUICK) -> tuple[SendResult, int]:
    with HostileServer(behaviour) as server:
        result = track(server.url, policy)
        return result, server.accepted


def test_garbage_is_not_called_nothing_answered() -> None:
    result, _ = served(garbage())
    assert result.error_kind is ErrorKind.PROTOCOL
    assert "answered, but not as a web server does" in result.message
    assert "nothing answered" not in result.message
    assert result.attempts[0].error is not None
    assert result.attempts[0].error.startswith("RemoteProtocolError")
    assert "\x1b" not in result.attempts[0].error  # the server's escape codes stay escaped
    assert_plain(result)


def test_a_close_before_answering_is_said_so() -> None:
    result, accepted = served(close_before_answer())
    assert result.error_kind is ErrorKind.DISCONNECTED
    assert "accepted the connection but closed it without answering" in result.message
    assert len(result.attempts) == accepted == 2  # a network error: retried, as the libraries do
    assert_plain(result)


def test_a_close_in_the_middle_of_the_answer_is_said_so() -> None:
    result, _ = served(close_mid_body())
    assert result.error_kind is ErrorKind.DISCONNECTED
    assert result.status == 200
    assert not result.ok
    assert "closed the connection before finishing" in result.message
    assert "may or may not have been recorded" in result.message
    assert_plain(result)


def test_a_megabyte_of_headers_is_refused_as_not_segment() -> None:
    result, _ = served(huge_header(1024 * 1024))
    assert result.error_kind is ErrorKind.PROTOCOL
    assert "more header data than the app accepts (100 KB)" in result.message
    assert_plain(result)


def test_a_declared_5_gb_body_is_not_read() -> None:
    started = time.monotonic()
    result, _ = served(declared_huge(5 * 1024**3))
    assert time.monotonic() - started < CEILING
    assert result.error_kind is ErrorKind.TOO_LARGE
    assert result.status == 200
    assert not result.ok
    assert result.body == ""
    assert result.body_truncated
    assert "5.0 GB of data announced; the app did not read it" in result.message
    assert "received it" not in result.message
    assert len(result.attempts) == 1  # an answer arrived: sending again would not change it
    assert result.to_json()["body_truncated"] is True
    assert_plain(result)


@pytest.mark.parametrize(("decoded_mb", "chunked"), [(32, False), (32, True), (512, True)])
def test_a_gzip_bomb_is_cut_at_the_cap_after_decompression(decoded_mb: int, chunked: bool) -> None:
    # 32 MB of zeros is ~32 KB on the wire: under the cap raw, a thousand times over it decoded.
    # Chunked, no length is declared, so only counting the decoded bytes can stop it.
    bomb = gzip_response(decoded_mb * 1024 * 1024, chunked=chunked)
    with HostileServer(Script([bomb])) as server:
        tracemalloc.start()
        try:
            result = track(server.url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # httpx's decoder alone would have built the whole 32 MB
    assert result.error_kind is ErrorKind.TOO_LARGE
    assert result.status == 200
    assert not result.ok
    assert result.body_truncated
    assert 0 < len(result.body) <= MAX_ANSWER_BYTES
    assert "more than 64 KB of data; the app stopped reading" in result.message
    assert "received it" not in result.message
    assert_plain(result)


def test_a_big_error_page_keeps_its_status_and_says_it_was_cut() -> None:
    page = response(503, b"<html>" + b"x" * (200 * 1024) + b"</html>", chunked=True)
    result, _ = served(Script([page]))
    assert result.error_kind is ErrorKind.SERVER
    assert result.status == 503
    assert result.body_truncated
    assert len(result.body) == MAX_ANSWER_BYTES
    assert result.body.startswith("<html>xxx")
    assert "(The answer was over 64 KB; the app stopped reading it.)" in result.message


def test_a_big_declared_error_page_is_not_read() -> None:
    result, _ = served(Script([response(503, b"x" * (200 * 1024))]))
    assert result.error_kind is ErrorKind.SERVER
    assert result.body == ""
    assert result.body_truncated
    assert "(It announced 200 KB of data; the app did not read it.)" in result.message


def test_a_normal_gzip_answer_is_read() -> None:
    result, _ = served(Script([gzip_ok()]))
    assert result.ok
    assert result.body == '{"success":true}'
    assert not result.body_truncated


def test_an_answer_in_an_encoding_not_asked_for_is_no_success() -> None:
    odd = response(200, b"\x1b\x00binary", [("Content-Encoding", "br")])
    result, _ = served(Script([odd]))
    assert result.error_kind is ErrorKind.PROTOCOL
    assert not result.ok
    assert "in a form the app cannot read" in result.message


def test_a_refused_connection_says_refused() -> None:
    with closed_port() as port:
        result = track(f"http://127.0.0.1:{port}")
    assert result.error_kind is ErrorKind.CONNECTION
    assert "the connection was refused" in result.message
    assert_plain(result)


def test_a_conversation_to_a_closed_port_stops_after_the_first_event() -> None:
    events = Conversation().events()
    seen: list[SendResult] = []
    with (
        closed_port() as port,
        SegmentClient(KEY, parse_endpoint(f"http://127.0.0.1:{port}"), retry=QUICK) as client,
    ):
        started = time.monotonic()
        results = client.send_each(events, Visitor("v"), on_result=seen.append)
    assert time.monotonic() - started < CEILING
    assert seen == results
    first, rest = results[0], results[1:]
    assert first.error_kind is ErrorKind.CONNECTION
    assert len(first.attempts) == QUICK.max_attempts  # the failing event itself is retried
    assert all(r.error_kind is ErrorKind.NOT_SENT and r.attempts == () for r in rest)
    assert len({r.message for r in rest}) == 1
    assert f"'{first.event}' could not be delivered" in rest[0].message
    assert "did not try the remaining events" in rest[0].message
    assert all(r.to_json()["error"] == "not_sent" for r in rest)


def test_a_conversation_to_a_silent_server_stops_after_the_first_event() -> None:
    events = Conversation().events()
    with (
        HostileServer(never_answer()) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=QUICK, timeout=1) as client,
    ):
        started = time.monotonic()
        results = client.send_each(events, Visitor("v"))
        took = time.monotonic() - started
        accepted = server.accepted
    assert took < CEILING
    assert accepted == QUICK.max_attempts
    assert results[0].error_kind is ErrorKind.TIMEOUT
    assert all(r.error_kind is ErrorKind.NOT_SENT for r in results[1:])
    assert "it did not answer in time" in results[1].message


def test_a_name_that_does_not_exist_stops_the_conversation() -> None:
    endpoint = Endpoint("https://no-such-host.invalid", Region.CUSTOM)
    with SegmentClient(KEY, endpoint, retry=QUICK) as client:
        results = client.send_each(Conversation().events(), Visitor("v"))
    assert results[0].error_kind is ErrorKind.DNS
    assert "Could not find the server no-such-host.invalid" in results[0].message
    assert all(r.error_kind is ErrorKind.NOT_SENT for r in results[1:])
    assert "its server name was not found" in results[1].message
    assert_plain(results[0])


def test_statuses_do_not_stop_the_conversation() -> None:
    # A 400 is about one event; the next one may be fine.
    script = Script([response(400, b"Bad Request"), response(200)])
    with (
        HostileServer(script) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=QUICK) as client,
    ):
        results = client.send_each(Conversation().events()[:2], Visitor("v"))
    assert [r.error_kind for r in results] == [ErrorKind.BAD_REQUEST, None]


def test_a_content_length_too_long_for_int_is_not_read() -> None:
    # h11 refuses such a header on the wire; read_body must not crash on one either.
    answer = httpx.Response(200, headers={"Content-Length": "9" * 5000}, content=b"")
    body = read_body(answer)
    assert body.declared is not None
    assert body.declared > MAX_ANSWER_BYTES
    assert body.text == ""


def test_json_output_escapes_what_a_terminal_would_obey() -> None:
    # DEL, a C1 control sequence introducer and a right-to-left override, in body and header.
    hostile = "\x7f\x9b31m\u202egnp.exe"
    answer = response(400, hostile.encode(), [("X-Odd", "\x9b2J\x7f")])
    result, _ = served(Script([answer]))
    line = result.to_json_line()
    assert line.isascii()
    assert "\n" not in line
    decoded = json.loads(line)
    assert decoded["body"] == hostile  # escaped on the way out, exact on the way back
    assert decoded["response_headers"]["x-odd"] == "\x9b2J\x7f"


@pytest.mark.parametrize(
    "charset", ["hex", "base64", "rot13", "zlib", "undefined", "idna", "punycode", "no-such-set"]
)
def test_a_charset_that_is_no_text_encoding_reads_as_utf8(charset: str) -> None:
    # Python has codecs from bytes to bytes, and text codecs that refuse errors="replace".
    body = '{"success":true,"note":"caf\u00e9"}'.encode()
    content_type = ("Content-Type", f"application/json; charset={charset}")
    result, _ = served(Script([response(200, body, [content_type])]))
    assert result.ok, result.message
    assert result.body == body.decode()


@pytest.mark.parametrize(
    "body",
    [
        b"<html><title>Sign in to the guest Wi-Fi</title></html>",
        b"",
        b'{"success": false}',
        b'{"success": "true"}',
        b'[{"success": true}]',
        b'"success"',
        b"[" * 60_000,  # deeper than json.loads can recurse
    ],
)
def test_a_200_that_is_not_segments_answer_is_no_success(body: bytes) -> None:
    # A captive portal or a company proxy answering for Segment must not read as "received".
    result, accepted = served(Script([response(200, body, [("Content-Type", "text/html")])]))
    assert result.error_kind is ErrorKind.PROTOCOL
    assert result.status == 200
    assert not result.ok
    assert result.to_json()["ok"] is False
    assert "received it" not in result.message
    assert result.message.startswith(
        f"{result.endpoint.removeprefix('http://')} answered HTTP 200, but not with Segment's "
        "answer: a sign-in page, proxy or firewall may be in the way. Check the address and "
        "your network."
    )
    assert accepted == 1  # an answer came: sending again would not change it
    assert_plain(result)


def test_a_conversation_stops_at_an_answer_that_is_not_segments() -> None:
    page = response(200, b"<html>Please log in</html>", [("Content-Type", "text/html")])
    with (
        HostileServer(Script([page])) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=QUICK) as client,
    ):
        results = client.send_each(Conversation().events(), Visitor("v"))
        accepted = server.accepted
    assert accepted == 1
    assert results[0].error_kind is ErrorKind.PROTOCOL
    assert all(r.error_kind is ErrorKind.NOT_SENT for r in results[1:])
    assert "its answer was not Segment's" in results[1].message
