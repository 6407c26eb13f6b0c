"""Scripted misbehaviour: failures, delays and dropped connections, one per API request."""

from __future__ import annotations

import email.utils
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC
from http import HTTPStatus
from typing import Literal

from app.segment.sandbox.rules import Answer


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour, consumed by a single API request."""

    kind: Literal["fail", "delay", "drop"]
    status: int = 0
    retry_after: str | None = None
    body: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Script:
    """What the next API request gets: a fault (or None) and how long its answer waits."""

    fault: Fault | None
    delay: float


class Faults:
    """A thread-safe queue of scripted faults, plus a standing delay for every answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[Fault] = deque()
        self._delay = 0.0

    def add(self, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queue.extend([fault] * times)

    def set_delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def take(self) -> Script:
        """Consume the next fault; a delay fault replaces the standing delay."""
        with self._lock:
            fault = self._queue.popleft() if self._queue else None
            delay = self._delay
        if fault is not None and fault.kind == "delay":
            return Script(None, fault.seconds)
        return Script(fault, delay)

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


def fault_answer(fault: Fault) -> Answer:
    """The answer a fail or drop fault stands for (status None: drop the connection)."""
    if fault.kind == "drop":
        return Answer(status=None)
    if fault.body is None:
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Scripted failure"
        body = json.dumps({"success": False, "message": phrase})
    else:
        body = fault.body
    try:
        json.loads(body)
        content_type = "application/json"
    except ValueError:
        content_type = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = []
    if fault.retry_after is not None:
        headers.append(("Retry-After", fault.retry_after))
        reset = reset_seconds(fault.retry_after) if fault.status == 429 else None
        if reset is not None:
            headers.append(("X-RateLimit-Reset", reset))
    return Answer(fault.status, body.encode(), content_type, tuple(headers))


def reset_seconds(retry_after: str, now: float | None = None) -> str | None:
    """X-RateLimit-Reset for a 429 with this Retry-After: whole seconds until the retry, or None.

    Segment sends both headers on a 429, each "the number of seconds after which you can
    retry". Any whole number, 0 included, is the same number; an HTTP date is the seconds left
    until it (0 once it has passed). Anything else gets no X-RateLimit-Reset, as it cannot be
    turned into seconds.
    """
    text = retry_after.strip()
    if text.isascii() and text.isdigit():
        return text.lstrip("0") or "0"  # as digits: no int() of a 5,000-digit scripted value
    if not text or text[:1] in "+-" or text[:1].isdigit():
        return None  # a number, but not a whole non-negative one
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:  # the RFC 5322 "-0000" zone: UTC
            when = when.replace(tzinfo=UTC)
        left = when.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None
    return str(max(0, math.ceil(left)))
