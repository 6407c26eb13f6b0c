"""Scripted misbehaviour: failures, delays and dropped connections, one per API request."""

from __future__ import annotations

import json
import math
import threading
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

from app.segment.retry import parse_retry_after
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
        seconds = parse_retry_after(fault.retry_after)
        if fault.status == 429 and seconds is not None and math.isfinite(seconds):
            headers.append(("X-RateLimit-Reset", str(math.ceil(seconds))))
    return Answer(fault.status, body.encode(), content_type, tuple(headers))
