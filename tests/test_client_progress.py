"""What a send in progress reports (event, try, wait, why), and the proxy the caller chose:
real sends over loopback to the sandbox, its scripted faults, and a forwarding proxy."""

from __future__ import annotations

import logging
import threading

import pytest

from app.chatlio import Conversation
from app.segment.cancel import CancelToken
from app.segment.client import SegmentClient
from app.segment.endpoint import US, parse_endpoint
from app.segment.payload import Visitor
from app.segment.progress import SendProgress, receiver, retry_reason
from app.segment.proxy import ProxyChoice, ProxyMode
from app.segment.result import ErrorKind
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.sending import Target, send_test_events
from tests.hostile_server import HostileServer, Script, closed_port, response

KEY = "ProgressTestKey0123456789abcdef0"
QUICK = RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=0.1, total_budget=30)


def two_events() -> list:  # type: ignore[type-arg]
    return Conversation().events()[:2]


def test_each_try_and_each_wait_is_reported(sandbox: Sandbox) -> None:
    sandbox.fail_next(503, times=2)
    reports: list[SendProgress] = []
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=QUICK) as client:
        results = client.send_each(two_events(), Visitor("v"), on_progress=reports.append)

    assert [r.ok for r in results] == [True, True]
    first = [r for r in reports if r.event_index == 1]
    assert [(r.attempt, r.phase) for r in first] == [
        (1, "connecting"),
        (1, "sending"),
        (2, "waiting"),
        (2, "connecting"),
        (2, "sending"),
        (3, "waiting"),
        (3, "connecting"),
        (3, "sending"),
    ]
    waits = [r for r in first if r.phase == "waiting"]
    assert all(r.reason == "The sandbox had a problem" for r in waits)
    assert all(r.retry_in_s is not None and 0 < r.retry_in_s <= 0.1 for r in waits)
    assert first[0].reason == "connecting to the sandbox…"
    assert first[1].reason == "waiting for the sandbox to answer"
    assert {r.event for r in first} == {"Live Chat Conversation Started"}
    assert {(r.events_total, r.max_attempts) for r in reports} == {(2, 4)}
    second = [r for r in reports if r.event_index == 2]
    assert second[0].attempt == 1
    assert all(r.retry_in_s is None for r in reports if r.phase != "waiting")
    lefts = [r.deadline_left_s for r in reports]
    assert lefts == sorted(lefts, reverse=True)
    assert 0 < lefts[-1] <= 30


def test_a_server_asking_to_wait_is_named_with_its_wait(sandbox: Sandbox) -> None:
    sandbox.fail_next(429, retry_after="1")
    sandbox.fail_next(429)
    reports: list[SendProgress] = []
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=QUICK) as client:
        result = client.track(Conversation().events()[0], Visitor("v"), on_progress=reports.append)

    assert result.ok
    waits = [r for r in reports if r.phase == "waiting"]
    assert [(w.attempt, w.reason, w.retry_in_s) for w in waits[:1]] == [
        (2, "The sandbox asked to wait", 1.0)
    ]
    assert waits[1].reason == "The sandbox is busy (asked to slow down)"


def test_the_answer_is_awaited_while_the_server_is_slow(sandbox: Sandbox) -> None:
    sandbox.delay_next(1.0)
    seen_before_answer: list[SendProgress] = []
    answered = threading.Event()

    def report(progress: SendProgress) -> None:
        if not answered.is_set():
            seen_before_answer.append(progress)

    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=QUICK) as client:
        result = client.track(Conversation().events()[0], Visitor("v"), on_progress=report)
        answered.set()
    assert result.ok
    assert seen_before_answer[-1].phase == "sending"
    assert seen_before_answer[-1].reason == "waiting for the sandbox to answer"


def test_an_address_refusing_connections_is_could_not_connect() -> None:
    reports: list[SendProgress] = []
    with closed_port() as port:
        endpoint = parse_endpoint(f"http://127.0.0.1:{port}")
        retry = RetryPolicy(max_attempts=2, initial_backoff=0.01, total_budget=10)
        with SegmentClient(KEY, endpoint, retry=retry) as client:
            result = client.track(Conversation().events()[0], Visitor("v"), None, reports.append)
    assert result.error_kind is ErrorKind.CONNECTION
    assert [r.reason for r in reports if r.phase == "waiting"] == ["could not connect"]


def test_a_failing_progress_callback_does_not_end_the_send(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(progress: SendProgress) -> None:
        raise RuntimeError("a view that went away")

    with caplog.at_level(logging.ERROR), SegmentClient(KEY, parse_endpoint(sandbox.url)) as client:
        result = client.track(Conversation().events()[0], Visitor("v"), on_progress=broken)
    assert result.ok
    assert "A progress report failed" in caplog.text


def test_words_name_who_answers() -> None:
    assert receiver(US) == "Segment"
    assert (
        retry_reason(None, 429, US, asked_to_wait=False) == "Segment is busy (asked to slow down)"
    )
    assert retry_reason(None, 500, US, asked_to_wait=False) == "Segment had a problem"
    assert retry_reason(None, 503, US, asked_to_wait=True) == "Segment asked to wait"
    assert retry_reason(ErrorKind.TIMEOUT, None, US, asked_to_wait=False) == "no answer in time"
    custom = parse_endpoint("https://events.example.com")
    assert (
        retry_reason(None, 502, custom, asked_to_wait=False) == "events.example.com had a problem"
    )


def test_send_test_events_reports_progress(sandbox: Sandbox) -> None:
    conversation = Conversation()
    reports: list[SendProgress] = []
    outcome = send_test_events(
        Target.sandbox(sandbox),
        conversation.events(),
        Visitor(conversation.visitor_id),
        conversation_id=conversation.conversation_id,
        deadline=20,
        on_progress=reports.append,
    )
    assert outcome.ok
    assert sorted({r.event_index for r in reports}) == [1, 2, 3, 4, 5, 6]
    assert {r.events_total for r in reports} == {6}
    assert all(r.deadline_left_s <= 20 for r in reports)


# --- cancelled words -----------------------------------------------------------------------------


def test_cancelled_at_the_sandbox_does_not_say_segment(sandbox: Sandbox) -> None:
    sandbox.delay_next(5)
    cancel = CancelToken()
    with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=QUICK) as client:

        def cancel_once_sent(progress: SendProgress) -> None:
            if progress.phase == "sending":
                cancel.cancel()

        result = client.track(Conversation().events()[0], Visitor("v"), cancel, cancel_once_sent)
    assert result.error_kind is ErrorKind.CANCELLED
    assert "Segment" not in result.message
    assert f"the sandbox on this computer ({parse_endpoint(sandbox.url).host})" in result.message


# --- the proxy the caller chose -------------------------------------------------------------------


def test_no_proxy_ignores_the_computers_proxy(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    with closed_port() as port:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{port}")  # would be refused
        endpoint = parse_endpoint(sandbox.url)
        with SegmentClient(KEY, endpoint, retry=QUICK) as through_env:
            refused = through_env.track(Conversation().events()[0], Visitor("v"))
        with SegmentClient(KEY, endpoint, retry=QUICK, proxy=ProxyChoice(ProxyMode.NONE)) as c:
            direct = c.track(Conversation().events()[0], Visitor("v"))
    assert refused.error_kind is ErrorKind.PROXY  # the environment's proxy is really in force
    assert direct.ok, direct.message
    assert len(sandbox.events()) == 1


def test_a_manual_proxy_carries_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script([response(200)])
    with closed_port() as port, HostileServer(script) as company_proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")  # not the one chosen
        choice = ProxyChoice.manual(f"127.0.0.1:{company_proxy.port}")
        endpoint = parse_endpoint(f"http://127.0.0.1:{port}")  # nothing listens there itself
        with SegmentClient(KEY, endpoint, retry=QUICK, proxy=choice) as client:
            result = client.track(Conversation().events()[0], Visitor("v"))
    assert result.ok, result.message
    assert script.requests[0].startswith(f"POST http://127.0.0.1:{port}/v1/track ".encode())


def test_a_manual_proxy_that_is_down_says_where_it_was_set(sandbox: Sandbox) -> None:
    with closed_port() as port:
        choice = ProxyChoice.manual(f"127.0.0.1:{port}")
        with SegmentClient(KEY, parse_endpoint(sandbox.url), retry=QUICK, proxy=choice) as c:
            result = c.track(Conversation().events()[0], Visitor("v"))
    assert result.error_kind is ErrorKind.PROXY
    assert "the app's network settings" in result.message
    assert "HTTPS_PROXY" not in result.message
    assert sandbox.events() == []


def test_send_test_events_uses_the_chosen_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script([response(200)])
    conversation = Conversation()
    with closed_port() as port, HostileServer(script) as company_proxy:
        outcome = send_test_events(
            Target.segment(parse_endpoint(f"http://127.0.0.1:{port}"), KEY),
            conversation.events()[:1],
            Visitor(conversation.visitor_id),
            conversation_id=conversation.conversation_id,
            proxy=ProxyChoice.manual(company_proxy.url),
        )
    assert outcome.ok, outcome.verdict
    assert len(script.requests) == 1
