"""The one "send test events" use case: keys, targets, the events chosen, one deadline, words."""

from __future__ import annotations

import socket
import time

import pytest

from app.chatlio import EVENTS, Conversation
from app.exit_codes import ExitCode
from app.segment import SANDBOX_KEY
from app.segment.cancel import CancelToken
from app.segment.endpoint import Endpoint, Region, parse_endpoint
from app.segment.payload import Visitor
from app.segment.result import WHAT_200_PROVES, ErrorKind, SendResult
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.sending import (
    SendOutcome,
    SendSetupError,
    Target,
    built_in_sandbox,
    check_deadline,
    check_visitor_id,
    choose_events,
    send_test_events,
)

KEY = "q1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZH6"
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)


def send(target: Target, conversation: Conversation, **options: object) -> SendOutcome:
    return send_test_events(
        target,
        conversation.events(),
        Visitor(conversation.visitor_id),
        conversation_id=conversation.conversation_id,
        **options,  # type: ignore[arg-type]
    )


def test_the_built_in_sandbox_never_gets_the_real_key() -> None:
    conversation = Conversation()

    with built_in_sandbox() as sandbox:
        target = Target.sandbox(sandbox)
        outcome = send(target, conversation)
        keys = {event.write_key for event in sandbox.events()}

    assert target.write_key == SANDBOX_KEY
    assert KEY not in repr(target)
    assert keys == {SANDBOX_KEY}
    assert outcome.ok
    assert outcome.exit_code is ExitCode.OK
    assert outcome.summary == "6 of 6 test events arrived at the sandbox on this computer."
    assert "not to Segment" in outcome.verdict


def test_a_source_key_goes_to_the_address_given(sandbox: Sandbox) -> None:
    target = Target.segment(parse_endpoint(sandbox.url), KEY)

    outcome = send(target, Conversation())

    assert {event.write_key for event in sandbox.events()} == {KEY}
    assert KEY not in repr(target)
    assert outcome.summary.startswith("6 of 6 test events arrived at 127.0.0.1:")


def test_what_a_200_from_segment_proves_names_the_ids_to_search_for(sandbox: Sandbox) -> None:
    conversation = Conversation()
    # A non-loopback address stands in for Segment: the words are those after a real send.
    target = Target.segment(Endpoint(sandbox.url, Region.CUSTOM), KEY)

    outcome = send(target, conversation)

    assert WHAT_200_PROVES in outcome.verdict
    assert conversation.visitor_id in outcome.verdict
    assert conversation.conversation_id in outcome.verdict


def test_a_batch_is_one_request_with_a_result_per_event(sandbox: Sandbox) -> None:
    seen: list[SendResult] = []

    outcome = send(
        Target.segment(parse_endpoint(sandbox.url), KEY), Conversation(), batch=True,
        on_result=seen.append,
    )  # fmt: skip

    assert [request.path for request in sandbox.requests()] == ["/v1/batch"]
    assert len(outcome.results) == len(seen) == 6
    assert outcome.ok


def test_failures_are_counted_and_the_first_one_explained(sandbox: Sandbox) -> None:
    sandbox.fail_next(400, times=2)

    outcome = send(Target.segment(parse_endpoint(sandbox.url), KEY), Conversation(), retry=FAST)

    assert not outcome.ok
    assert outcome.exit_code is ExitCode.FAILED
    assert outcome.arrived == 4
    assert outcome.summary.endswith(": 2 failed.")
    assert "malformed" in outcome.verdict


def test_events_not_sent_after_an_unusable_address_are_counted_apart() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = parse_endpoint(f"http://127.0.0.1:{probe.getsockname()[1]}")

    outcome = send(Target.segment(closed, KEY), Conversation(), retry=FAST)

    assert [result.error_kind for result in outcome.results[1:]] == [ErrorKind.NOT_SENT] * 5
    assert outcome.summary.endswith(": 1 failed and 5 were not sent.")
    assert "Could not connect" in outcome.verdict


def test_a_cancelled_send_says_so(sandbox: Sandbox) -> None:
    cancel = CancelToken()
    cancel.cancel()

    outcome = send(Target.segment(parse_endpoint(sandbox.url), KEY), Conversation(), cancel=cancel)

    assert outcome.cancelled
    assert outcome.summary.startswith("Cancelled: 0 of 6")
    assert sandbox.requests() == []


def test_the_whole_send_ends_within_its_deadline(sandbox: Sandbox) -> None:
    sandbox.set_delay(60)  # every answer would take a minute: six events, six minutes
    started = time.monotonic()

    outcome = send(Target.segment(parse_endpoint(sandbox.url), KEY), Conversation(), deadline=2)

    assert time.monotonic() - started < 30
    assert not outcome.ok


def test_events_are_chosen_by_full_or_short_name_in_the_order_given() -> None:
    conversation = Conversation()

    chosen = choose_events(conversation, ["message-received", EVENTS[0].name])

    assert [event.name for event in chosen] == [
        "Live Chat Message Received",
        "Live Chat Conversation Started",
    ]
    assert len(choose_events(conversation, None)) == 6
    with pytest.raises(SendSetupError, match="no Live Chat event called 'nonsense'"):
        choose_events(conversation, ["nonsense"])


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf"), 1e10])
def test_a_deadline_out_of_range_is_refused(seconds: float) -> None:
    with pytest.raises(SendSetupError, match="above 0 and at most 3600"):
        check_deadline(seconds)


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("v" * 201, "200 or fewer"),
        ("line\nbreak", "cannot be sent"),
        ("visitor-\udcff", "cannot be sent"),
    ],
)
def test_a_visitor_id_that_cannot_be_sent_is_refused(typed: str, problem: str) -> None:
    with pytest.raises(SendSetupError, match=problem):
        check_visitor_id(typed)


def test_a_visitor_id_is_kept_as_typed_without_surrounding_space() -> None:
    assert check_visitor_id("  visitor-42 ") == "visitor-42"


@pytest.mark.parametrize("proxy", ["socks5://127.0.0.1:1080", "socks4://127.0.0.1:1080"])
def test_a_proxy_the_app_cannot_use_is_a_sentence(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, proxy: str
) -> None:
    monkeypatch.setenv("ALL_PROXY", proxy)
    target = Target.segment(Endpoint(sandbox.url, Region.CUSTOM), KEY)

    with pytest.raises(SendSetupError, match="not a kind the app can send through"):
        send(target, Conversation())

    assert sandbox.requests() == []
