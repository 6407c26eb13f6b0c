"""When to send again: Segment's official retry policy and the Retry-After header; no I/O."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from datetime import UTC


@dataclass(frozen=True)
class RetryPolicy:
    """The official libraries' policy, bounded for a person waiting in front of a window.

    Network errors and 408, 410, 429, 460 and 5xx (but 501 and 505) are retried; other 4xx never.
    Backoff doubles from `initial_backoff` with jitter up to `max_backoff`; Retry-After is honoured
    up to `retry_after_cap`; nothing is retried once `total_budget` seconds would be exceeded.
    """

    max_attempts: int = 6
    initial_backoff: float = 0.5
    max_backoff: float = 60.0
    retry_after_cap: float = 300.0
    total_budget: float = 90.0

    def should_retry_status(self, status: int) -> bool:
        if status in (408, 410, 429, 460):
            return True
        return 500 <= status < 600 and status not in (501, 505)

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1-based): half fixed, half random."""
        ceiling = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry_number - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds, from either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)
