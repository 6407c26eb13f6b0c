"""The Tracking API client against the real sandbox receiver over loopback sockets."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate

import httpx
import pytest

from app.chatlio import Conversation
from app.redaction import REDACTED_AUTH
from app.segment.cancel import CancelToken
from app.segment.client import (
    USER_AGENT,
    SegmentClient,
    _classify,
    explain,
    make_ssl_context,
)
from app.segment.endpoint import EU, US, Endpoint, Region, parse_endpoint
from app.segment.payload import Visitor
from app.segment.result import WHAT_200_PROVES, ErrorKind
from app.segment.retry import RetryPolicy, parse_retry_after
from app.segment.sandbox import Sandbox
from tests.hostile_server import (
    BLACKHOLE_REASON,
    BLACKHOLE_WORKS,
    HostileServer,
    never_answer,
    never_opening,
    reply_at_once,
)

KEY = "PlantedClientKey0123456789abcdef"
FAST = RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=0.2, total_budget=10)


def secret_forms(key: str) -> list[str]:
    return [key, base64.b64encode(f"{key}:".encode()).decode()]


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SegmentClient]:
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=FAST, timeout=2) as made:
        yield made


def test_track_is_sent_as_segment_documents(client: SegmentClient, sandbox: Sandbox) -> None:
    conversation = Conversation()
    result = client.track(conversation.events()[0], Visitor(conversation.visitor_id))
    assert result.ok
    assert result.status == 200
    assert json.loads(result.body) == {"success": True}
    assert len(result.attempts) == 1
    assert result.error_kind is None
    assert "received it" in result.message
    assert "verified" not in result.message.lower()
    [received] = sandbox.events()
    assert received.endpoint == "/v1/track"
    assert received.write_key == KEY
    assert received.discard_reason is None
    assert received.payload["messageId"] == result.message_id
    assert received.payload["anonymousId"] == conversation.visitor_id
    assert received.payload["sentAt"].endswith("Z")
    [request] = sandbox.requests()
    assert request.headers["authorization"] == "Basic " + secret_forms(KEY)[1]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == USER_AGENT
    assert result.request is not None
    assert result.request.headers["authorization"] == REDACTED_AUTH
    assert result.request.url == f"{sandbox.url}/v1/track"


def test_batch_sends_one_request_with_every_event(client: SegmentClient, sandbox: Sandbox) -> None:
    conversation = Conversation()
    events = conversation.events()
    results = client.batch(events, Visitor(conversation.visitor_id, as_user_id=True))
    assert [r.event for r in results] == [e.name for e in events]
    assert all(r.ok and r.batched_with == len(events) for r in results)
    assert len(sandbox.requests()) == 1
    received = sandbox.events()
    assert [e.endpoint for e in received] == ["/v1/batch"] * len(events)
    assert [e.payload["messageId"] for e in received] == [r.message_id for r in results]
    assert all(e.payload["userId"] == conversation.visitor_id for e in received)
    assert all(e.payload["type"] == "track" for e in received)


def test_retry_reuses_message_id_and_counts(client: SegmentClient, sandbox: Sandbox) -> None:
    sandbox.fail_next(503, times=2)
    result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.ok
    assert [a.status for a in result.attempts] == [503, 503, 200]
    assert result.retries == 2
    requests = sandbox.requests()
    assert [r.headers.get("x-retry-count") for r in requests] == [None, "1", "2"]
    [received] = sandbox.events()
    assert received.payload["messageId"] == result.message_id


def test_429_honours_retry_after(client: SegmentClient, sandbox: Sandbox) -> None:
    sandbox.fail_next(429, retry_after="1")
    result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.ok
    assert [a.status for a in result.attempts] == [429, 200]
    assert result.attempts[1].waited_before_s == pytest.approx(1.0)
    assert result.elapsed_ms >= 950


@pytest.mark.parametrize(
    ("status", "kind"), [(400, ErrorKind.BAD_REQUEST), (501, ErrorKind.SERVER)]
)
def test_never_retried_statuses(
    client: SegmentClient, sandbox: Sandbox, status: int, kind: ErrorKind
) -> None:
    sandbox.fail_next(status, times=3)
    result = client.track(Conversation().events()[0], Visitor("v"))
    assert not result.ok
    assert len(result.attempts) == 1
    assert result.error_kind is kind
    assert f"HTTP {status}" in result.message


def test_gives_up_after_max_attempts_with_a_sentence(
    client: SegmentClient, sandbox: Sandbox
) -> None:
    sandbox.fail_next(500, times=10)
    result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.error_kind is ErrorKind.SERVER
    assert len(result.attempts) == FAST.max_attempts
    assert "on each of 4 tries" in result.message
    assert sandbox.events() == []


def test_total_budget_bounds_retry_after(sandbox: Sandbox) -> None:
    # Segment asks for 120 s, the budget is 2 s: the client gives up instead of waiting.
    policy = RetryPolicy(max_attempts=5, total_budget=2)
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=policy) as client:
        sandbox.fail_next(429, retry_after="120")
        started = time.monotonic()
        result = client.track(Conversation().events()[0], Visitor("v"))
    assert time.monotonic() - started < 10
    assert result.error_kind is ErrorKind.RATE_LIMITED
    assert "asked to wait 2 minutes" in result.message
    assert "time limit for this send (2 seconds) left no time" in result.message


def test_dropped_connection_is_retried(client: SegmentClient, sandbox: Sandbox) -> None:
    sandbox.drop_next()
    result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.ok
    assert result.attempts[0].status is None
    assert result.attempts[0].error
    assert len(sandbox.events()) == 1


def test_refused_connection_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = RetryPolicy(max_attempts=2, initial_backoff=0.01)
    with SegmentClient(KEY, parse_endpoint(f"http://127.0.0.1:{port}"), retry=policy) as client:
        result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.error_kind is ErrorKind.CONNECTION
    assert result.status is None
    assert "Could not connect" in result.message
    assert len(result.attempts) == 2


def test_timeout_is_a_clear_error(sandbox: Sandbox) -> None:
    sandbox.delay_next(3)
    policy = RetryPolicy(max_attempts=1)
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=policy, timeout=0.5) as client:
        result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.error_kind is ErrorKind.TIMEOUT
    assert "did not answer" in result.message


def test_tls_failure_is_not_retried_and_explained() -> None:
    # A plain-http server answers the TLS hello with an HTTP error: the handshake fails.
    with HostileServer(reply_at_once()) as server:
        endpoint = Endpoint(server.url.replace("http://", "https://"), Region.CUSTOM)
        with SegmentClient(KEY, endpoint, retry=FAST, timeout=2) as client:
            result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.error_kind is ErrorKind.TLS
    assert len(result.attempts) == 1
    assert "trust store" in result.message


def test_cancel_during_a_slow_answer_returns_at_once() -> None:
    cancel = CancelToken()
    policy = RetryPolicy(max_attempts=4, total_budget=120)
    with (
        HostileServer(never_answer()) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=policy, timeout=60) as client,
    ):
        threading.Timer(0.2, cancel.cancel).start()
        started = time.monotonic()
        result = client.track(Conversation().events()[0], Visitor("v"), cancel)
    assert time.monotonic() - started < 10  # the server would hold the answer for 60 s
    assert result.error_kind is ErrorKind.CANCELLED
    assert "Cancelled" in result.message


@pytest.mark.skipif(not BLACKHOLE_WORKS, reason=BLACKHOLE_REASON)
def test_cancel_while_connecting_sends_nothing_when_it_opens_later() -> None:
    received: list[bytes] = []
    cancel = CancelToken()
    with never_opening() as server:  # the client's SYN is dropped, then retried

        def drain_then_listen() -> None:
            server.settimeout(0.2)
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                conn.settimeout(0.5)
                with contextlib.suppress(OSError):
                    received.append(conn.recv(65536))
                conn.close()

        endpoint = parse_endpoint(f"http://127.0.0.1:{server.getsockname()[1]}")
        with SegmentClient(KEY, endpoint, retry=RetryPolicy(max_attempts=1), timeout=5) as client:
            threading.Timer(0.3, cancel.cancel).start()
            drainer = threading.Timer(0.6, drain_then_listen)  # room in the queue: it opens
            drainer.start()
            result = client.track(Conversation().events()[0], Visitor("v"), cancel)
        drainer.join()
    assert result.error_kind is ErrorKind.CANCELLED
    assert not any(b"POST" in data for data in received)


def test_cancel_during_backoff_stops_retrying(sandbox: Sandbox) -> None:
    sandbox.fail_next(429, retry_after="120")
    cancel = CancelToken()
    policy = RetryPolicy(total_budget=300)
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=policy) as client:
        threading.Timer(0.3, cancel.cancel).start()
        started = time.monotonic()
        results = client.send_each(Conversation().events(), Visitor("v"), cancel)
    assert time.monotonic() - started < 10  # the wait asked for is 120 s
    assert all(r.error_kind is ErrorKind.CANCELLED for r in results)
    assert len(sandbox.requests()) == 1


def test_invalid_events_are_not_sent(client: SegmentClient, sandbox: Sandbox) -> None:
    event = Conversation().events()[-1]
    bad = type(event)(
        event.name, {**event.properties, "conversation_duration": "75"}, event.timestamp
    )
    result = client.track(bad, Visitor("v"))
    assert result.error_kind is ErrorKind.INVALID
    assert "whole number" in result.message
    good_and_bad = client.batch([Conversation().events()[0], bad], Visitor(""))
    assert all(r.error_kind is ErrorKind.INVALID for r in good_and_bad)
    assert sandbox.requests() == []


def test_a_200_is_reported_as_received_never_as_verified(sandbox: Sandbox) -> None:
    # A non-loopback endpoint: the message names the host that answered, not Segment.
    endpoint = Endpoint(sandbox.url, Region.CUSTOM)
    with SegmentClient("not-a-real-key", endpoint) as client:
        result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.ok
    assert result.message == f"{endpoint.host} received it (HTTP 200)."
    assert "does not prove that the write key" in WHAT_200_PROVES


@pytest.mark.parametrize(
    ("endpoint", "said"),
    [
        (US, "Segment received it (HTTP 200)."),
        (EU, "Segment received it (HTTP 200)."),
        (Endpoint("https://events.example.com", Region.CUSTOM), "events.example.com received it"),
        (Endpoint("http://127.0.0.1:8787", Region.LOCAL), "The sandbox on this computer received"),
    ],
)
def test_a_200_names_who_received_it(endpoint: Endpoint, said: str) -> None:
    assert explain(None, 200, endpoint, 1, 15).startswith(said)


def test_the_sandbox_says_it_received_it(client: SegmentClient) -> None:
    result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.message == "The sandbox on this computer received it (HTTP 200)."


def test_the_key_appears_in_no_result_log_or_repr(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.fail_next(503)
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=FAST) as client:
        results = client.send_each(Conversation().events(), Visitor("v"))
        results += client.batch(Conversation().events(), Visitor("v"))
        texts = [repr(client), caplog.text]
    for result in results:
        texts += [repr(result), result.to_json_line()]
        assert result.request is not None
        texts.append(result.request.as_curl())
    for text in texts:
        for form in secret_forms(KEY):
            assert form not in text


def test_curl_reveals_the_key_only_on_request(client: SegmentClient) -> None:
    result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.request is not None
    redacted = result.request.as_curl()
    assert "<write key hidden>" in redacted
    assert result.request.url in redacted
    revealed = result.request.as_curl(write_key=KEY)
    assert secret_forms(KEY)[1] in revealed
    assert revealed.lower().count("authorization:") == 1, "the redacted header makes way"


def test_retry_after_parsing() -> None:
    assert parse_retry_after("7") == 7
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = time.time()
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    # A date in the past asks for no wait: the client backs off as usual.
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) is None


def test_retry_policy_matches_the_official_libraries() -> None:
    policy = RetryPolicy()
    retried = [s for s in range(400, 600) if policy.should_retry_status(s)]
    assert {408, 410, 429, 460, 500, 502, 503, 504, 599} <= set(retried)
    assert not {400, 401, 403, 404, 413, 501, 505} & set(retried)
    delays = [policy.backoff(n) for n in range(1, 12)]
    assert 0.25 <= delays[0] <= 0.5
    assert max(delays) <= policy.max_backoff


def test_dns_failures_are_classified() -> None:
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    assert _classify(error) is ErrorKind.DNS
    assert _classify(httpx.ConnectTimeout("timed out")) is ErrorKind.TIMEOUT
    assert _classify(httpx.ProxyError("407")) is ErrorKind.PROXY


def test_tls_context_verifies_with_a_ca_store() -> None:
    context = make_ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_no_proxy_of_this_machine_reaches_a_test(sandbox: Sandbox) -> None:
    # conftest clears them for every test: a proxied CI machine sends loopback traffic direct.
    names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    assert not [n for n in os.environ if n.upper() in names and os.environ[n]]
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=FAST) as client:
        assert client.track(Conversation().events()[0], Visitor("v")).ok
