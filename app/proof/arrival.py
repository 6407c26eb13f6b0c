"""Confirm arrival: poll Segment's own counts until they cover what a send delivered.

Counts are per source, event name and minute, so real chats in the same minutes are counted
too: a verdict says "counted at least the events we sent", never "these exact events".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.segment.public_api.client import PublicApiClient

if TYPE_CHECKING:
    from app.segment.cancel import CancelToken

# How long to wait for Segment's count by default (its own latency is about 30 s).
DEFAULT_WAIT = 180.0
# At most one Public API request per this many seconds while polling.
POLL_EVERY = 5.0


@dataclass(frozen=True)
class Delivered:
    """What a send got 200s for: the source it went to, events per name, and when."""

    source_id: str
    source_name: str
    per_event: Mapping[str, int]
    started: datetime  # timezone-aware UTC
    ended: datetime

    @property
    def total(self) -> int:
        return sum(self.per_event.values())


class Verdict(StrEnum):
    """How confirming ended; `--json` carries the value."""

    CONFIRMED = "confirmed"  # Segment counted at least what was sent
    DISCARDED = "discarded"  # some were failed on ingest (reasons given)
    NOT_COUNTED = "not_counted"  # the wait ended before the count covered the send
    CANCELLED = "cancelled"
    FAILED = "failed"  # the Public API could not be asked (error sentence given)


@dataclass(frozen=True)
class Confirmation:
    """A verdict with its numbers and plain words (`headline`, then `detail` with what to
    check next and the per-minute caveat)."""

    verdict: Verdict
    expected: int
    counted: int
    discarded: Mapping[str, int] = field(default_factory=dict)  # discard reason -> count
    waited_s: float = 0.0
    requests: int = 0
    via: str = "delivery-overview"  # or "events-volume"
    headline: str = ""
    detail: str = ""

    @property
    def confirmed(self) -> bool:
        return self.verdict is Verdict.CONFIRMED

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class ArrivalProgress:
    """One report while polling, from the polling thread."""

    counted: int
    expected: int
    waited_s: float
    wait_s: float
    requests: int
    next_poll_in_s: float


def confirm_arrival(
    client: PublicApiClient,
    delivered: Delivered,
    *,
    wait: float = DEFAULT_WAIT,
    poll_every: float = POLL_EVERY,
    cancel: CancelToken | None = None,
    on_progress: Callable[[ArrivalProgress], None] | None = None,
) -> Confirmation:
    """Poll until confirmed, discarded, cancelled or `wait` seconds have passed; never raises
    for a Public API failure (Verdict.FAILED with the sentence)."""
    raise NotImplementedError
