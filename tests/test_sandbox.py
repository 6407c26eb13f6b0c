"""Tests for the local Segment Tracking API sandbox, over real loopback sockets."""

from __future__ import annotations

import base64
import email.utils
import gzip
import io
import json
import math
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.segment.limits import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES
from app.segment.sandbox import ReceivedEvent, Sandbox, mask_key, serve

KEY = "abcdefghijklmnopqrstuvwxyz012345"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Every client talks plain HTTP; sharing one TLS context saves ~40 ms per client built.
TLS = ssl.create_default_context()


def http_client(url: str, timeout: float = 5) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=timeout, trust_env=False, verify=TLS)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with http_client(sandbox.url) as http:
        yield http


def track(**extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": "Chat Started", "userId": "u-1", **extra}


def post(
    client: httpx.Client,
    path: str,
    document: Any,
    *,
    key: str | None = KEY,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    if key is None:
        return client.post(path, json=document, headers=headers)
    return client.post(path, json=document, auth=(key, ""), headers=headers)


def post_bytes(
    client: httpx.Client, path: str, body: bytes, *, key: str = KEY, gzipped: bool = False
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if gzipped:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    return client.post(path, content=body, auth=(key, ""), headers=headers)


def padded(document: dict[str, Any], size: int, *, compact: bool = False) -> bytes:
    """document serialised to exactly size bytes, by padding a "pad" property."""
    separators = (",", ":") if compact else (", ", ": ")
    bare = json.dumps({**document, "pad": ""}, separators=separators).encode()
    body = json.dumps({**document, "pad": "x" * (size - len(bare))}, separators=separators)
    assert len(body.encode()) == size
    return body.encode()


def batch_of_size(size: int) -> bytes:
    """A compact /v1/batch body of exactly size bytes whose items each stay under 32 KB."""
    items = [json.loads(padded(track(messageId=str(n)), 30_000, compact=True)) for n in range(17)]
    shortfall = size - len(json.dumps({"batch": items}, separators=(",", ":")).encode())
    items.append(json.loads(padded(track(), shortfall - 1, compact=True)))  # 1: the comma
    body = json.dumps({"batch": items}, separators=(",", ":")).encode()
    assert len(body) == size
    return body


# Paths, keys and answers


@pytest.mark.parametrize(
    ("path", "endpoint"),
    [
        ("/v1/track", "/v1/track"),
        ("/v1/identify", "/v1/identify"),
        ("/v1/page", "/v1/page"),
        ("/v1/screen", "/v1/screen"),
        ("/v1/group", "/v1/group"),
        ("/v1/alias", "/v1/alias"),
        ("/v1/t", "/v1/track"),
        ("/v1/i", "/v1/identify"),
    ],
)
def test_every_single_event_endpoint_answers_200_and_records(
    sandbox: Sandbox, client: httpx.Client, path: str, endpoint: str
) -> None:
    response = post(client, path, {"userId": "u-1", "event": "Chat Started"})

    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert response.headers["content-type"] == "application/json"
    [event] = sandbox.events()
    assert event.endpoint == endpoint
    assert event.payload == {"userId": "u-1", "event": "Chat Started"}
    assert event.write_key == KEY
    assert event.discard_reason is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event.received_at)


def test_basic_auth_is_the_key_as_user_with_an_empty_password(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    token = base64.b64encode(f"{KEY}:".encode()).decode()

    response = client.post("/v1/track", json=track(), headers={"Authorization": f"Basic {token}"})

    assert response.status_code == 200
    assert sandbox.events()[0].write_key == KEY


def test_write_key_in_the_body_is_accepted_and_kept_out_of_the_payload(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    response = post(client, "/v1/track", {**track(), "writeKey": "body-key"}, key=None)

    assert response.status_code == 200
    [event] = sandbox.events()
    assert event.write_key == "body-key"
    assert "writeKey" not in event.payload


@pytest.mark.parametrize(
    ("key", "document"),
    [
        (None, track()),
        ("", track()),
        (None, {**track(), "writeKey": ""}),
        (None, {**track(), "writeKey": 42}),
    ],
    ids=["no-key", "empty-basic-user", "empty-body-key", "non-string-body-key"],
)
def test_a_missing_or_empty_key_is_400(
    sandbox: Sandbox, client: httpx.Client, key: str | None, document: dict[str, Any]
) -> None:
    response = post(client, "/v1/track", document, key=key)

    assert response.status_code == 400
    assert response.json()["success"] is False
    assert sandbox.events() == []


def test_an_unknown_key_is_200_like_real_segment(sandbox: Sandbox, client: httpx.Client) -> None:
    response = post(client, "/v1/track", track(), key="x")

    assert response.status_code == 200
    assert sandbox.events()[0].write_key == "x"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/unknown"), ("POST", "/v2/track"), ("GET", "/v1/track"), ("PUT", "/v1/batch")],
)
def test_unknown_paths_are_404_and_do_not_consume_faults(
    sandbox: Sandbox, client: httpx.Client, method: str, path: str
) -> None:
    sandbox.fail_next(503)

    response = client.request(method, path, json=track(), auth=(KEY, ""))

    assert response.status_code == 404
    assert sandbox.pending_faults() == 1
    assert sandbox.events() == []


def test_gzip_bodies_are_decompressed(sandbox: Sandbox, client: httpx.Client) -> None:
    single = post_bytes(client, "/v1/track", json.dumps(track()).encode(), gzipped=True)
    batch = json.dumps({"batch": [track(), track(type="identify")]}).encode()
    batched = post_bytes(client, "/v1/batch", batch, gzipped=True)

    assert (single.status_code, batched.status_code) == (200, 200)
    assert [event.payload["type"] for event in sandbox.events()] == ["track", "track", "identify"]


def test_a_corrupt_gzip_body_is_400(sandbox: Sandbox, client: httpx.Client) -> None:
    response = client.post(
        "/v1/track",
        content=b"\x1f\x8b not really gzip",
        auth=(KEY, ""),
        headers={"Content-Encoding": "gzip"},
    )

    assert response.status_code == 400
    assert sandbox.events() == []


def test_chunked_bodies_are_read(sandbox: Sandbox, client: httpx.Client) -> None:
    body = json.dumps(track()).encode()
    chunks = iter([body[:10], body[10:]])

    response = client.post("/v1/track", content=chunks, auth=(KEY, ""))

    assert response.status_code == 200
    assert sandbox.requests()[0].headers["transfer-encoding"] == "chunked"
    assert sandbox.events()[0].payload == track()


# Invalid bodies


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b'{"a": NaN}', b"\xff\xfe{}"], ids=["broken", "empty", "nan", "bom"]
)
def test_invalid_json_is_400(sandbox: Sandbox, client: httpx.Client, body: bytes) -> None:
    response = post_bytes(client, "/v1/track", body)

    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "Invalid JSON"}
    assert sandbox.events() == []


@pytest.mark.parametrize("body", [b'[{"userId": "u-1"}]', b'"track"', b"1", b"null"])
def test_json_that_is_not_an_object_is_400(
    sandbox: Sandbox, client: httpx.Client, body: bytes
) -> None:
    assert post_bytes(client, "/v1/track", body).status_code == 400
    assert sandbox.events() == []


@pytest.mark.parametrize("batch", [None, {"0": track()}, [track(), "track"]])
def test_a_batch_that_is_not_a_list_of_objects_is_400(
    sandbox: Sandbox, client: httpx.Client, batch: Any
) -> None:
    assert post(client, "/v1/batch", {"batch": batch}).status_code == 400
    assert sandbox.events() == []


# Limits


def test_an_event_of_exactly_32_kb_is_accepted(sandbox: Sandbox, client: httpx.Client) -> None:
    response = post_bytes(client, "/v1/track", padded(track(), MAX_EVENT_BYTES))

    assert response.status_code == 200
    assert len(sandbox.events()) == 1


def test_an_event_over_32_kb_is_400(sandbox: Sandbox, client: httpx.Client) -> None:
    response = post_bytes(client, "/v1/track", padded(track(), MAX_EVENT_BYTES + 1))

    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "Exceed payload limit"}
    assert sandbox.events() == []


def test_the_event_limit_applies_after_gzip(sandbox: Sandbox, client: httpx.Client) -> None:
    body = padded(track(), MAX_EVENT_BYTES + 1)

    response = post_bytes(client, "/v1/track", body, gzipped=True)

    assert response.status_code == 400
    assert sandbox.events() == []


@pytest.mark.parametrize(("size", "status"), [(MAX_EVENT_BYTES, 200), (MAX_EVENT_BYTES + 1, 400)])
def test_each_event_in_a_batch_is_limited_to_32_kb(
    sandbox: Sandbox, client: httpx.Client, size: int, status: int
) -> None:
    item = json.loads(padded(track(), size, compact=True))

    response = post(client, "/v1/batch", {"batch": [track(), item]})

    assert response.status_code == status
    assert len(sandbox.events()) == (2 if status == 200 else 0)


@pytest.mark.parametrize(("size", "status"), [(MAX_BATCH_BYTES, 200), (MAX_BATCH_BYTES + 1, 400)])
def test_a_batch_request_is_limited_to_500_kb(
    sandbox: Sandbox, client: httpx.Client, size: int, status: int
) -> None:
    response = post_bytes(client, "/v1/batch", batch_of_size(size))

    assert response.status_code == status
    assert len(sandbox.events()) == (18 if status == 200 else 0)


def test_the_batch_limit_applies_to_the_decompressed_body(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    response = post_bytes(client, "/v1/batch", batch_of_size(MAX_BATCH_BYTES + 1), gzipped=True)

    assert response.status_code == 400
    assert sandbox.events() == []


@pytest.mark.parametrize(
    ("count", "reason"),
    [(MAX_BATCH_EVENTS, None), (MAX_BATCH_EVENTS + 1, "batch_over_2500_events")],
)
def test_over_2500_events_is_200_but_every_event_is_dropped(
    sandbox: Sandbox, client: httpx.Client, count: int, reason: str | None
) -> None:
    response = post(client, "/v1/batch", {"batch": [track()] * count})

    assert response.status_code == 200
    events = sandbox.events()
    assert len(events) == count
    assert {event.discard_reason for event in events} == {reason}


# What Segment would discard later


@pytest.mark.parametrize(
    ("path", "document", "reason"),
    [
        ("/v1/track", {"event": "Chat Started"}, "no_user_anon_id"),
        (
            "/v1/track",
            {"event": "Chat Started", "userId": "", "anonymousId": " "},
            "no_user_anon_id",
        ),
        ("/v1/identify", {"traits": {}}, "no_user_anon_id"),
        ("/v1/track", {"userId": "u-1"}, "event_not_defined"),
        ("/v1/track", {"userId": "u-1", "event": ""}, "event_not_defined"),
        ("/v1/track", {"anonymousId": "a-1", "event": "Chat Started"}, None),
        ("/v1/identify", {"userId": 42}, None),
        ("/v1/page", {"anonymousId": "a-1"}, None),
        ("/v1/batch", {"batch": [{"type": "track", "userId": "u-1"}]}, "event_not_defined"),
        ("/v1/batch", {"batch": [{"type": "page"}]}, "no_user_anon_id"),
        ("/v1/batch", {"batch": [{"userId": "u-1", "event": "Chat Started"}]}, "invalid_type"),
    ],
)
def test_discard_reasons_match_segment_delivery_overview(
    sandbox: Sandbox, client: httpx.Client, path: str, document: dict[str, Any], reason: str | None
) -> None:
    assert post(client, path, document).status_code == 200
    assert [event.discard_reason for event in sandbox.events()] == [reason]


def test_batch_items_inherit_the_batch_context_and_integrations(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    document = {
        "batch": [
            track(),
            track(context={"ip": "10.0.0.1"}, integrations={"All": False}),
        ],
        "context": {"library": {"name": "chatlio-segment-setup"}, "ip": "127.0.0.1"},
        "integrations": {"Amplitude": False},
    }

    post(client, "/v1/batch", document)

    first, second = sandbox.events()
    assert first.endpoint == second.endpoint == "/v1/batch"
    assert first.payload["context"] == document["context"]
    assert first.payload["integrations"] == {"Amplitude": False}
    assert second.payload["context"] == {
        "library": {"name": "chatlio-segment-setup"},
        "ip": "10.0.0.1",
    }
    assert second.payload["integrations"] == {"Amplitude": False, "All": False}


# Faults


def test_fail_next_answers_the_scripted_status_then_recovers(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sandbox.fail_next(503, times=2)

    statuses = [post(client, "/v1/track", track()).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert len(sandbox.events()) == 1
    assert [request.status for request in sandbox.requests()] == [503, 503, 200]


def test_a_scripted_429_carries_retry_after_and_rate_limit_reset(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sandbox.fail_next(429, retry_after="7")

    response = post(client, "/v1/batch", {"batch": [track()]})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.headers["x-ratelimit-reset"] == "7"
    assert sandbox.events() == []


@pytest.mark.parametrize(
    ("retry_after", "reset"),
    [("0", "0"), ("120", "120"), ("Wed, 21 Oct 2015 07:28:00 GMT", "0"), ("soon", None)],
    ids=["zero", "seconds", "past-date", "garbage"],
)
def test_a_scripted_429_says_how_many_seconds_until_the_reset(
    sandbox: Sandbox, client: httpx.Client, retry_after: str, reset: str | None
) -> None:
    """Segment sends X-RateLimit-Reset, in seconds, with every 429 that has a Retry-After."""
    sandbox.fail_next(429, retry_after=retry_after)

    response = post(client, "/v1/track", track())

    assert response.headers["retry-after"] == retry_after
    assert response.headers.get("x-ratelimit-reset") == reset


def test_a_scripted_429_with_a_future_date_resets_in_the_seconds_left(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    when = email.utils.parsedate_to_datetime("Wed, 21 Oct 2099 07:28:00 GMT").timestamp()
    sandbox.fail_next(429, retry_after="Wed, 21 Oct 2099 07:28:00 GMT")

    before = time.time()
    response = post(client, "/v1/track", track())
    after = time.time()

    # The seconds left when the sandbox answered: between these two, however slow the machine.
    assert when - after <= int(response.headers["x-ratelimit-reset"]) <= math.ceil(when - before)


def test_only_a_429_carries_x_ratelimit_reset(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.fail_next(503, retry_after="0")

    response = post(client, "/v1/track", track())

    assert response.headers["retry-after"] == "0"
    assert "x-ratelimit-reset" not in response.headers


def test_a_scripted_failure_can_carry_a_plain_body(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.fail_next(400, body="Bad Request")

    response = post(client, "/v1/track", track())

    assert (response.status_code, response.text) == (400, "Bad Request")
    assert response.headers["content-type"].startswith("text/plain")


def test_faults_are_consumed_in_order(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.fail_next(500)
    sandbox.drop_next()
    sandbox.fail_next(429, retry_after="1")

    first = post(client, "/v1/track", track())
    with pytest.raises(httpx.TransportError):
        post(client, "/v1/track", track())
    third = post(client, "/v1/track", track())
    fourth = post(client, "/v1/track", track())

    assert (first.status_code, third.status_code, fourth.status_code) == (500, 429, 200)
    assert [request.status for request in sandbox.requests()] == [500, None, 429, 200]


def test_drop_next_closes_the_connection_without_an_answer(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sandbox.drop_next()

    with pytest.raises(httpx.RemoteProtocolError):
        post(client, "/v1/track", track())

    assert sandbox.events() == []
    assert post(client, "/v1/track", track()).status_code == 200


def test_delay_next_answers_normally_after_the_delay(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sandbox.delay_next(0.3)

    started = time.monotonic()
    slow = post(client, "/v1/track", track())

    assert slow.status_code == 200
    assert time.monotonic() - started >= 0.3
    assert len(sandbox.events()) == 1


def test_delay_next_holds_back_only_the_next_answer(sandbox: Sandbox, client: httpx.Client) -> None:
    """Bounds far from noise: a working sandbox answers at once, a broken one after 30 s."""
    held, outcome = send_a_request_held_for_30_s(sandbox)

    started = time.monotonic()
    fast = post(client, "/v1/track", track())  # this client gives up after 5 s

    assert fast.status_code == 200
    assert time.monotonic() - started < 5
    assert held.is_alive()
    sandbox.stop()
    held.join(timeout=5)
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.TransportError)


def test_set_delay_slows_every_api_answer(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_delay(0.15)
    started = time.monotonic()
    post(client, "/v1/track", track())
    post(client, "/v1/track", track())

    assert time.monotonic() - started >= 0.3


def test_set_delay_zero_stops_delaying(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.set_delay(30)
    sandbox.set_delay(0)
    started = time.monotonic()

    assert post(client, "/v1/track", track()).status_code == 200  # gives up after 5 s
    assert time.monotonic() - started < 5


def wait_until_consumed(sandbox: Sandbox) -> None:
    deadline = time.monotonic() + 5
    while sandbox.pending_faults() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sandbox.pending_faults() == 0


def send_a_request_held_for_30_s(
    sandbox: Sandbox,
) -> tuple[threading.Thread, list[BaseException | int]]:
    """A request on a thread of its own that the sandbox holds back: its status or error."""
    sandbox.delay_next(30)
    outcome: list[BaseException | int] = []

    def send() -> None:
        with http_client(sandbox.url, timeout=60) as http:
            try:
                outcome.append(post(http, "/v1/track", track()).status_code)
            except httpx.TransportError as exc:
                outcome.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    wait_until_consumed(sandbox)
    return sender, outcome


def test_stop_is_prompt_during_a_delayed_answer() -> None:
    sandbox = Sandbox().start()
    sender, outcome = send_a_request_held_for_30_s(sandbox)

    started = time.monotonic()
    sandbox.stop()
    stop_took = time.monotonic() - started
    sender.join(timeout=5)

    assert stop_took < 5  # the answer was due in 30 s
    assert not sender.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], httpx.TransportError)
    assert sandbox.events() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": 99}, "not an HTTP status"),
        ({"status": 503, "times": 0}, "at least 1"),
    ],
)
def test_fail_next_rejects_nonsense(sandbox: Sandbox, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sandbox.fail_next(**kwargs)


def test_clear_faults_forgets_what_was_scripted(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.fail_next(503, times=3)
    sandbox.clear_faults()

    assert post(client, "/v1/track", track()).status_code == 200


# Control endpoints and recording


def test_sandbox_events_lists_and_clears(sandbox: Sandbox, client: httpx.Client) -> None:
    post(client, "/v1/track", {"event": "Chat Started"})

    listed = client.get("/sandbox/events")

    assert listed.status_code == 200
    [event] = listed.json()["events"]
    assert event["endpoint"] == "/v1/track"
    assert event["payload"] == {"event": "Chat Started"}
    assert event["write_key"] == KEY
    assert event["discard_reason"] == "no_user_anon_id"
    assert event["received_at"].endswith("Z")

    cleared = client.delete("/sandbox/events")

    assert cleared.json() == {"success": True}
    assert client.get("/sandbox/events").json()["events"] == []
    assert sandbox.events() == []


@pytest.mark.parametrize("path", ["/", "/health"])
def test_health_says_it_is_the_sandbox(client: httpx.Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert response.json()["sandbox"] is True


def test_requests_record_headers_for_retries_and_user_agent(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    post(
        client,
        "/v1/batch",
        {"batch": [track()]},
        headers={"User-Agent": "chatlio-segment-setup/0.1", "X-Retry-Count": "2"},
    )

    [request] = sandbox.requests()
    assert (request.method, request.path, request.status) == ("POST", "/v1/batch", 200)
    assert request.headers["user-agent"] == "chatlio-segment-setup/0.1"
    assert request.headers["x-retry-count"] == "2"
    assert request.headers["content-type"] == "application/json"
    assert request.body_bytes_len == int(request.headers["content-length"])


def test_wait_for_events_returns_once_enough_arrived(
    sandbox: Sandbox, client: httpx.Client
) -> None:
    sender = threading.Timer(0.05, lambda: post(client, "/v1/batch", {"batch": [track()] * 3}))
    sender.start()

    events = sandbox.wait_for_events(3, timeout=5)
    sender.join()

    assert len(events) == 3
    assert all(isinstance(event, ReceivedEvent) for event in events)


def test_wait_for_events_times_out(sandbox: Sandbox) -> None:
    with pytest.raises(TimeoutError, match="got 0"):
        sandbox.wait_for_events(1, timeout=0.05)


def test_keep_alive_connections_stay_in_step(sandbox: Sandbox) -> None:
    """Pipelined requests on one socket, including rejected ones, each get their own answer."""
    host, port = sandbox.url.removeprefix("http://").split(":")
    token = base64.b64encode(f"{KEY}:".encode()).decode()

    def request(body: bytes) -> bytes:
        return (
            f"POST /v1/track HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    good = json.dumps(track()).encode()
    too_big = padded(track(), MAX_EVENT_BYTES + 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request(good) + request(b"{broken") + request(too_big) + request(good))
        reader = connection.makefile("rb")
        statuses = []
        for _ in range(4):
            status_line = reader.readline()
            length = 0
            while (line := reader.readline()) not in {b"\r\n", b""}:
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            reader.read(length)
            statuses.append(int(status_line.split()[1]))

    assert statuses == [200, 400, 400, 200]
    assert len(sandbox.events()) == 2


# Lifecycle


def test_url_uses_the_bound_port_and_stop_is_idempotent() -> None:
    sandbox = Sandbox(port=0)
    with pytest.raises(RuntimeError):
        _ = sandbox.url
    sandbox.start()
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.url)
        assert not sandbox.url.endswith(":0")
    finally:
        sandbox.stop()
    sandbox.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(sandbox.url + "/health", timeout=1, trust_env=False, verify=TLS)


def test_ipv6_hosts_are_bracketed() -> None:
    try:
        sandbox = Sandbox(host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with sandbox:
        assert sandbox.url.startswith("http://[::1]:")
        assert httpx.get(sandbox.url + "/health", trust_env=False, verify=TLS).status_code == 200


def test_stop_cuts_idle_keep_alive_connections(sandbox: Sandbox, client: httpx.Client) -> None:
    assert post(client, "/v1/track", track()).status_code == 200

    sandbox.stop()

    with pytest.raises(httpx.TransportError):
        post(client, "/v1/track", track())


# Logging


def test_log_lines_never_contain_the_write_key() -> None:
    secret = "wk_" + uuid.uuid4().hex
    lines: list[str] = []
    with (
        Sandbox(on_request=lines.append) as sandbox,
        http_client(sandbox.url) as http,
    ):
        post(http, "/v1/track", track(), key=secret)
        post(http, "/v1/track", {**track(), "writeKey": secret}, key=None)
        post(http, "/v1/track", {"writeKey": secret}, key=None)
        post_bytes(http, "/v1/track", padded(track(), MAX_EVENT_BYTES + 1), key=secret)
        sandbox.fail_next(503)
        post(http, "/v1/batch", {"batch": [track()], "writeKey": secret}, key=secret)
        http.get("/sandbox/events")

    assert len(lines) == 6
    assert all(secret not in line for line in lines)
    assert lines[0].startswith("POST /v1/track 200 key=wk…")
    assert re.fullmatch(r"POST /v1/track 200 key=wk…[0-9a-f]{2} 1 event\(s\) \d+\.\d ms", lines[0])
    assert "Segment would discard: no_user_anon_id" in lines[2]
    assert lines[3].startswith("POST /v1/track 400 key=wk…")
    assert lines[4].startswith("POST /v1/batch 503 key=wk…")
    assert lines[4].endswith(" (scripted)")
    assert lines[5].startswith("GET /sandbox/events 200 ")


@pytest.mark.parametrize(
    ("key", "masked"), [(None, "(none)"), ("", "(none)"), ("short", "••••"), (KEY, "ab…45")]
)
def test_mask_key(key: str | None, masked: str) -> None:
    assert mask_key(key) == masked


def test_a_failing_log_hook_does_not_break_the_server() -> None:
    def explode(_line: str) -> None:
        raise RuntimeError("log sink broke")

    with (
        Sandbox(on_request=explode) as sandbox,
        http_client(sandbox.url) as http,
    ):
        assert post(http, "/v1/track", track()).status_code == 200


# Standalone


def test_serve_runs_until_sigterm() -> None:
    code = (
        "import sys; from app.segment.sandbox import serve; "
        "sys.exit(serve('127.0.0.1', 0, sys.stdout))"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
            public_api = process.stdout.readline().strip()
            assert public_api == f"Public API: {url}/public-api (token: sandbox-public-api-token)"
            assert process.stdout.readline().startswith(f"CDN settings: {url}/cdn/v1/projects/")

            response = httpx.post(
                url + "/v1/track", json=track(), auth=(KEY, ""), trust_env=False, verify=TLS
            )
            log_line = process.stdout.readline()

            assert response.status_code == 200
            assert log_line.startswith("POST /v1/track 200 key=ab…45 1 event(s)")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
            assert process.stderr is not None
            assert process.stderr.read() == ""
        finally:
            process.kill()
            process.wait()


def test_serve_reports_an_address_in_use(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    out = io.StringIO()

    assert serve("127.0.0.1", port, out) == 1
    assert out.getvalue() == ""
    assert "cannot listen" in capsys.readouterr().err
