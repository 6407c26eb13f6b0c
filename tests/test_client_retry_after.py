"""Retry-After as Segment's own libraries read it: odd values back off, huge ones are capped."""

from __future__ import annotations

import re
import time
from email.utils import formatdate

import pytest

from app.chatlio import Conversation
from app.segment.client import SegmentClient
from app.segment.endpoint import parse_endpoint
from app.segment.payload import Visitor
from app.segment.result import ErrorKind
from app.segment.retry import RetryPolicy, parse_retry_after
from tests.hostile_server import HostileServer, Script, response

KEY = "RetryAfterTestKey0123456789abcde"
CEILING = 10.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 12 ", 12.0),
        ("0", None),  # no wait asked: back off as usual
        ("-5", None),
        ("1.5", None),  # delta-seconds are whole numbers; Segment's Python library agrees
        ("inf", None),
        ("Infinity", None),
        ("1e308", None),
        ("nan", None),
        ("9" * 5000, 1e9),  # a huge number stays a (capped later) number, no crash
        ("soon", None),
        ("Wed, 99 Foo 2020 99:99:99 GMT", None),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 1e9),
        ("\u0661\u0662", None),  # Arabic-Indic digits are digits to Python, not to HTTP
    ],
)
def test_parse_retry_after_like_the_official_library(header: str, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_a_past_date_means_no_wait() -> None:
    now = time.time()
    assert parse_retry_after(formatdate(now - 3600, usegmt=True), now=now) is None
    assert parse_retry_after(formatdate(now + 60, usegmt=True), now=now) == pytest.approx(60, abs=1)


@pytest.mark.parametrize(
    "header",
    [
        "inf",
        "1e308",
        "nan",
        "-1",
        "0",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "soon",
    ],
)
def test_unusable_retry_after_backs_off_and_says_nothing_odd(header: str) -> None:
    limited = response(429, b"slow down", [("Retry-After", header)])
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02, total_budget=30)
    with (
        HostileServer(Script([limited])) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=policy) as client,
    ):
        started = time.monotonic()
        result = client.track(Conversation().events()[0], Visitor("v"))
    assert time.monotonic() - started < CEILING
    assert result.error_kind is ErrorKind.RATE_LIMITED
    assert len(result.attempts) == 3  # backed off briefly and tried again, twice
    assert all(a.waited_before_s < 1 for a in result.attempts)
    assert "Wait a minute and send again." in result.message
    assert not re.search(r"inf|nan|e\+|\d{4,}", result.message)


@pytest.mark.parametrize(
    ("header", "said"),
    [("99999999999999999999", "more than a day"), ("86400", "24 hours"), ("150", "3 minutes")],
)
def test_huge_retry_after_is_capped_and_readable(header: str, said: str) -> None:
    limited = response(429, b"slow down", [("Retry-After", header)])
    policy = RetryPolicy(max_attempts=3, retry_after_cap=300, total_budget=5)
    with (
        HostileServer(Script([limited])) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=policy) as client,
    ):
        started = time.monotonic()
        result = client.track(Conversation().events()[0], Visitor("v"))
    assert time.monotonic() - started < CEILING
    assert len(result.attempts) == 1  # even capped at 300 s, the wait does not fit in 5 s
    assert f"Segment asked to wait {said}; send again after that." in result.message
    assert not re.search(r"inf|e\+|\d{4,}", result.message)


def test_retry_after_is_capped_by_the_policy() -> None:
    limited = response(503, b"later", [("Retry-After", "3600")])
    policy = RetryPolicy(max_attempts=2, retry_after_cap=0.2, total_budget=30)
    with (
        HostileServer(Script([limited, response(200)])) as server,
        SegmentClient(KEY, parse_endpoint(server.url), retry=policy) as client,
    ):
        started = time.monotonic()
        result = client.track(Conversation().events()[0], Visitor("v"))
    assert time.monotonic() - started < CEILING
    assert result.ok
    assert result.attempts[1].waited_before_s == pytest.approx(0.2)


@pytest.mark.parametrize(
    "policy",
    [
        {"max_attempts": 0},
        {"total_budget": 0},
        {"total_budget": float("nan")},
        {"initial_backoff": -1},
        {"retry_after_cap": float("inf")},
    ],
)
def test_a_nonsense_policy_is_refused(policy: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"policy|budget"):
        RetryPolicy(**policy)  # type: ignore[arg-type]
