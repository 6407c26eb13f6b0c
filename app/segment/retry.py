"""When to send again: Segment's official retry policy and the Retry-After header; no I/O."""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC


@dataclass(frozen=True)
class RetryPolicy:
    """The official libraries' policy, bounded for a person waiting in front of a window.

    Network errors and 408, 410, 429, 460 and 5xx (but 501 and 505) are retried; other 4xx never.
    Backoff doubles from `initial_backoff` with jitter up to `max_backoff`; Retry-After is honoured
    up to `retry_after_cap`.

    `total_budget` is the deadline of a whole public call of the client (one event, one batch,
    or a whole `send_each` conversation with all its tries and waits): no attempt starts and no
    wait runs past it, and the attempt running when it passes is cut off.
    """

    max_attempts: int = 6
    initial_backoff: float = 0.5
    max_backoff: float = 60.0
    retry_after_cap: float = 300.0
    total_budget: float = 90.0

    def __post_init__(self) -> None:
        numbers = (self.initial_backoff, self.max_backoff, self.retry_after_cap)
        if self.max_attempts < 1 or not all(math.isfinite(n) and n >= 0 for n in numbers):
            raise ValueError(f"not a usable retry policy: {self!r}")
        if not (math.isfinite(self.total_budget) and self.total_budget > 0):
            raise ValueError(f"the total budget must be a positive number of seconds: {self!r}")

    def should_retry_status(self, status: int) -> bool:
        if status in (408, 410, 429, 460):
            return True
        return 500 <= status < 600 and status not in (501, 505)

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1-based): half fixed, half random."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry_number - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


# Far beyond any cap; keeps a 400-digit header from becoming a 400-digit number.
_HUGE_SECONDS = 10**9


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in whole seconds (> 0), or None when the header asks for no wait at all.

    As Segment's Python library does: delta-seconds must be a whole number; a date must lie in
    the future. Anything else (a past date, "0", "-5", "inf", "1e308", "nan", garbage) means
    "no usable wait", so the caller backs off as usual. Capping is the caller's job.
    """
    if not value:
        return None
    text = value.strip()
    if text.isdigit() and text.isascii():
        seconds = int(text) if len(text) <= 9 else _HUGE_SECONDS
        return float(seconds) if seconds > 0 else None
    if text[:1] in "+-" or text[:1].isdigit() or text.lower() in ("inf", "nan", "infinity"):
        return None  # a number, but not a whole positive one: ignored like the libraries do
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # the RFC 5322 "-0000" zone: UTC, whatever this computer's zone
        when = when.replace(tzinfo=UTC)
    try:
        delay = int(when.timestamp() - (now if now is not None else time.time()))
    except (OverflowError, ValueError, OSError):
        return None
    return float(min(delay, _HUGE_SECONDS)) if delay > 0 else None
