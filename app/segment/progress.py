"""What a send is doing right now, for a person watching it: which event, which try, what for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.segment.endpoint import Endpoint, Region
from app.segment.result import ErrorKind

# connecting: opening the line to the address; sending: the request is out, the answer awaited;
# waiting: between two tries of the same event.
Phase = Literal["connecting", "sending", "waiting"]


@dataclass(frozen=True)
class SendProgress:
    """One report from a send in progress; reported from the thread that sends.

    `attempt` is the try running now, or during "waiting" the try that comes next. `retry_in_s`
    is set only while waiting: the seconds until that try, counted from this report.
    `reason` is a plain phrase for the user, without a capital or a full stop:
    "waiting for Segment to answer", "Segment is busy (asked to slow down)".
    """

    event_index: int  # 1-based
    events_total: int
    event: str
    attempt: int  # 1-based
    max_attempts: int
    phase: Phase
    retry_in_s: float | None
    deadline_left_s: float
    reason: str


OnProgress = Callable[[SendProgress], None]


def receiver(endpoint: Endpoint) -> str:
    """Who answers at `endpoint`, as a sentence names it: 'Segment', 'the sandbox', a host."""
    if endpoint.region is Region.LOCAL:
        return "the sandbox"
    if endpoint.region is Region.CUSTOM:
        return endpoint.host
    return "Segment"


def _capital(text: str) -> str:
    """'the sandbox' -> 'The sandbox'; a host name stays as it is written."""
    return "T" + text[1:] if text.startswith("the ") else text


def connecting(endpoint: Endpoint) -> str:
    return f"connecting to {receiver(endpoint)}…"


def awaiting(endpoint: Endpoint) -> str:
    return f"waiting for {receiver(endpoint)} to answer"


def retry_reason(
    kind: ErrorKind | None, status: int | None, endpoint: Endpoint, asked_to_wait: bool
) -> str:
    """Why the client waits before trying again, in a phrase the user reads at a glance."""
    who = _capital(receiver(endpoint))
    if asked_to_wait:
        why = f"{who} asked to wait"
    elif status == 429:
        why = f"{who} is busy (asked to slow down)"
    elif status is not None and status >= 500:
        why = f"{who} had a problem"
    elif status == 408 or kind is ErrorKind.TIMEOUT:
        why = "no answer in time"
    elif kind in (ErrorKind.CONNECTION, ErrorKind.DNS):
        why = "could not connect"
    elif kind is ErrorKind.DISCONNECTED:
        why = f"{who} hung up without a full answer"
    else:
        why = f"{who} asked to try again"
    return why
