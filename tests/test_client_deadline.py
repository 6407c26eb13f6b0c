"""Time bounds of the client against servers that trickle, stall or say nothing (real sockets).

Each bound is proved against a server that would take a minute or more, with a generous
ceiling (10 s), so that a loaded machine cannot make a correct client fail.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from app.chatlio import Conversation
from app.segment.client import SegmentClient
from app.segment.deadline import WATCHDOG, Watch
from app.segment.endpoint import parse_endpoint
from app.segment.payload import Visitor
from app.segment.result import ErrorKind, SendResult
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.segment.sockets import Cut, Sockets
from tests.hostile_server import (
    BLACKHOLE_REASON,
    BLACKHOLE_WORKS,
    HostileServer,
    Script,
    drip_body,
    drip_headers,
    hold,
    never_answer,
    never_opening,
    read_request,
    response,
)

KEY = "DeadlineTestKey0123456789abcdef0"
ONE_TRY = RetryPolicy(max_attempts=1, total_budget=120)
CEILING = 10.0  # seconds; every server below would take 60 s or more


def timed_track(
    server: HostileServer, policy: RetryPolicy, timeout: float
) -> tuple[SendResult, float]:
    with SegmentClient(KEY, parse_endpoint(server.url), retry=policy, timeout=timeout) as client:
        started = time.monotonic()
        result = client.track(Conversation().events()[0], Visitor("v"))
    return result, time.monotonic() - started


def test_dripped_headers_are_cut_at_the_attempt_timeout() -> None:
    # One header byte every 0.5 s: httpx's per-read timeout of 1 s never trips on it.
    with HostileServer(drip_headers(0.5)) as server:
        result, took = timed_track(server, ONE_TRY, timeout=1)
    assert took < CEILING
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.status is None
    assert "did not answer within 1 second" in result.message
    assert result.attempts[0].error is not None
    assert "limit" in result.attempts[0].error


def test_a_dripped_body_is_cut_at_the_attempt_timeout() -> None:
    with HostileServer(drip_body(0.5)) as server:
        result, took = timed_track(server, ONE_TRY, timeout=1)
    assert took < CEILING
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.status == 200  # what did arrive is kept, but it is no success
    assert not result.ok
    assert "started to answer but did not finish within 1 second" in result.message


def test_the_budget_caps_the_attempt_timeout() -> None:
    # A 60-second attempt timeout, but the whole call may take 1.5 s.
    policy = RetryPolicy(max_attempts=3, total_budget=1.5)
    with HostileServer(never_answer()) as server:
        result, took = timed_track(server, policy, timeout=60)
    assert took < CEILING
    assert result.error_kind is ErrorKind.TIMEOUT
    # The send's limit as the user set it, not the 1.49 s that were left when the try began.
    assert "did not answer within the time limit for this send (1.5 seconds)." in result.message


def test_one_budget_for_a_whole_conversation_of_trickling_answers() -> None:
    # Each of the six events would take ~14 hours; the whole send_each gets 2 s.
    policy = RetryPolicy(max_attempts=6, initial_backoff=0.01, max_backoff=0.02, total_budget=2)
    events = Conversation().events()
    with (
        HostileServer(drip_body(0.5)) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=policy, timeout=60) as client,
    ):
        started = time.monotonic()
        results = client.send_each(events, Visitor("v"))
        took = time.monotonic() - started
    assert took < CEILING
    assert len(results) == len(events)
    assert results[0].error_kind is ErrorKind.TIMEOUT
    assert all(r.error_kind is ErrorKind.NOT_SENT for r in results[1:])


def test_a_batch_has_one_budget_too() -> None:
    policy = RetryPolicy(max_attempts=6, initial_backoff=0.01, max_backoff=0.02, total_budget=2)
    with (
        HostileServer(drip_headers(0.5)) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=policy, timeout=60) as client,
    ):
        started = time.monotonic()
        results = client.batch(Conversation().events(), Visitor("v"))
        took = time.monotonic() - started
    assert took < CEILING
    assert all(r.error_kind is ErrorKind.TIMEOUT for r in results)


def test_no_event_starts_when_the_budget_is_spent(sandbox: Sandbox) -> None:
    # The callback after the first event uses up the budget (it only ever shrinks): the
    # second event is not tried, and says why.
    budget = 3.0
    policy = RetryPolicy(total_budget=budget)
    events = Conversation().events()
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=policy) as client:
        started = time.monotonic()

        def on_result(result: SendResult) -> None:
            if result.ok:
                time.sleep(max(0.0, started + budget - 0.2 - time.monotonic()))

        results = client.send_each(events, Visitor("v"), on_result=on_result)
    assert results[0].ok
    assert all(r.error_kind is ErrorKind.NOT_SENT for r in results[1:])
    assert "time limit for this send (3 seconds) left no time" in results[1].message
    assert len({r.message for r in results[1:]}) == 1  # one reason, said once
    assert len(sandbox.requests()) == 1


def test_no_backoff_wait_runs_past_the_budget() -> None:
    # The first backoff alone (15-30 s) would not fit in a 3 s budget: give up now.
    policy = RetryPolicy(max_attempts=5, initial_backoff=30, max_backoff=60, total_budget=3)
    with HostileServer(Script([response(503, b"busy")])) as server:
        result, took = timed_track(server, policy, timeout=5)
    assert took < CEILING
    assert result.error_kind is ErrorKind.SERVER
    assert len(result.attempts) == 1
    assert "time limit for this send (3 seconds) left no time" in result.message


def test_a_try_after_a_cut_one_is_not_cut_itself() -> None:
    # First connection trickles (cut at 1 s), the retry gets a proper answer in time.
    connections = []

    def first_drips_then_answers(conn: socket.socket, stop: threading.Event) -> None:
        connections.append(conn)
        if len(connections) == 1:
            drip_headers(0.5)(conn, stop)
        elif read_request(conn, stop) is not None:
            conn.sendall(response(200))

    policy = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02, total_budget=30)
    with HostileServer(first_drips_then_answers) as server:
        result, took = timed_track(server, policy, timeout=1)
    assert took < CEILING
    assert result.ok
    assert [a.status for a in result.attempts] == [None, 200]


def test_one_watchdog_thread_serves_every_client(sandbox: Sandbox) -> None:
    policy = RetryPolicy(max_attempts=1)
    for _ in range(3):
        with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=policy) as client:
            results = client.send_each(Conversation().events(), Visitor("v"))
        assert all(r.ok for r in results)
    watchdogs = [t for t in threading.enumerate() if t.name == "segment-watchdog"]
    assert len(watchdogs) == 1
    assert WATCHDOG.watching() == 0  # every attempt released its watch


@pytest.mark.skipif(not BLACKHOLE_WORKS, reason=BLACKHOLE_REASON)
def test_a_connection_that_never_opens_is_a_connect_timeout() -> None:
    with never_opening() as server:
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        with SegmentClient(KEY, parse_endpoint(url), retry=ONE_TRY, timeout=1) as client:
            started = time.monotonic()
            result = client.track(Conversation().events()[0], Visitor("v"))
        assert time.monotonic() - started < CEILING
    assert result.error_kind is ErrorKind.TIMEOUT
    assert "Could not connect to 127.0.0.1" in result.message
    assert "within 1 second" in result.message


def test_a_cut_that_raises_leaves_the_watchdog_running(caplog: pytest.LogCaptureFixture) -> None:
    fired = threading.Event()

    def broken(watch: Watch) -> None:
        raise RuntimeError("a cut that fails")

    WATCHDOG.arm(Watch(0.01, broken))
    WATCHDOG.arm(Watch(0.2, lambda watch: fired.set()))
    assert fired.wait(CEILING)  # the one thread is still there for every later attempt
    assert "Could not cut an attempt" in caplog.text
    assert "a cut that fails" in caplog.text
    assert [t.name for t in threading.enumerate()].count("segment-watchdog") == 1


def test_a_cut_is_over_before_the_next_attempt_begins() -> None:
    # The next attempt may reuse a keep-alive socket: it must not begin while a cut for the
    # previous one is still shutting sockets down, or the cut hits the wrong attempt.
    first, second = object(), object()
    began = threading.Event()
    followers: list[threading.Thread] = []
    begun_during_cut: list[bool] = []

    def next_attempt() -> None:
        sockets.end(first)
        sockets.begin(second)
        began.set()

    def shutter(sock: socket.socket) -> None:
        follower = threading.Thread(target=next_attempt)
        followers.append(follower)
        follower.start()
        follower.join(0.2)  # it has to wait for the cut to be over, however long this takes
        begun_during_cut.append(began.is_set())

    sockets = Sockets(shutter)
    one, other = socket.socketpair()
    with one, other:
        sockets.begin(first)
        assert sockets.add(one) is None
        assert sockets.cut(first, Cut.DEADLINE)
        for follower in followers:
            follower.join(CEILING)
        assert begun_during_cut == [False]
        assert began.is_set()
        assert not sockets.cut(first, Cut.DEADLINE)  # armed for an attempt that is over
        assert sockets.why() is None
        assert len(followers) == 1  # the late cut shut nothing
        assert sockets.end(second) is None


def test_a_try_that_the_send_cut_short_names_the_sends_limit() -> None:
    # The first event takes 1 s of a 3-second send; the second has 2 s less a little, and the
    # message names the limit the user chose, not that remainder.
    answered: list[bool] = []

    def slow_then_silent(conn: socket.socket, stop: threading.Event) -> None:
        if read_request(conn, stop) is None:
            return
        if not answered:
            answered.append(True)
            stop.wait(1)
            conn.sendall(response(200))
            return
        hold(stop)

    policy = RetryPolicy(max_attempts=1, total_budget=3)
    with (
        HostileServer(slow_then_silent) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=policy, timeout=60) as client,
    ):
        results = client.send_each(Conversation().events()[:2], Visitor("v"))
    assert results[0].ok
    assert results[1].error_kind is ErrorKind.TIMEOUT
    assert "did not answer within the time limit for this send (3 seconds)." in results[1].message
    assert not re.search(r"\d\.\d+ seconds", results[1].message)


@pytest.mark.parametrize("seconds", [0.001, 0.004])
def test_a_tiny_limit_is_never_called_0_seconds(seconds: float) -> None:
    policy = RetryPolicy(max_attempts=1, total_budget=seconds)
    with HostileServer(never_answer()) as server:
        result, took = timed_track(server, policy, timeout=seconds)
    assert took < CEILING
    assert result.error_kind is ErrorKind.TIMEOUT
    assert "0 seconds" not in result.message
    assert "less than a second" in result.message
