"""What the history keeps of one send, and how a send's results are written to and read from it.

A SendResult goes in as a JSON object with every field (the request as sent, key redacted, the
answer's headers and body, each try) and comes back as the same SendResult, so the response
view shows an old send exactly as it showed the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.segment.result import Attempt, ErrorKind, SendResult, SentRequest

# The most of an answer's body the history keeps (Segment's own are a few dozen characters).
MAX_KEPT_BODY_CHARS = 16 * 1024


class Outcome(StrEnum):
    """How a send ended, as the history's filter names it; scripts may rely on these values."""

    ARRIVED = "arrived"  # every event got a 2xx answer
    PARTLY = "partly"  # some did
    FAILED = "failed"  # none did
    CANCELLED = "cancelled"  # stopped by the user


class Face(StrEnum):
    """Which side of the app made the send."""

    APP = "app"
    CLI = "cli"


@dataclass(frozen=True)
class SendEntry:
    """One send as the history's list shows it: the columns, without the results."""

    id: int
    started_at: datetime  # timezone-aware UTC
    face: Face
    source: str
    endpoint: str  # the Tracking API's base URL
    region: str  # an app.segment.endpoint.Region value
    sandbox: bool  # went to the built-in sandbox
    events: tuple[str, ...]  # the event names, in the order sent
    total: int
    arrived: int
    outcome: Outcome
    summary: str
    confirmation: str = ""  # Segment's count in one sentence, once confirmed

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ARRIVED


@dataclass(frozen=True)
class SendDetail:
    """One send in full: its entry, every result, the verdict and Segment's confirmation."""

    entry: SendEntry
    results: tuple[SendResult, ...]
    verdict: str
    visitor_id: str
    conversation_id: str
    as_user_id: bool
    # Confirmation.to_json() of Segment's count, when one was asked for.
    confirmation: Mapping[str, Any] | None = field(default=None)


def outcome_of(arrived: int, total: int, cancelled: bool) -> Outcome:
    if cancelled:
        return Outcome.CANCELLED
    if total and arrived == total:
        return Outcome.ARRIVED
    return Outcome.PARTLY if arrived else Outcome.FAILED


def result_to_json(result: SendResult) -> dict[str, Any]:
    """Every field of `result`, the answer's body cut to MAX_KEPT_BODY_CHARS."""
    body, truncated = result.body, result.body_truncated
    if len(body) > MAX_KEPT_BODY_CHARS:
        body, truncated = body[:MAX_KEPT_BODY_CHARS], True
    request = result.request
    return {
        "event": result.event,
        "message_id": result.message_id,
        "endpoint": result.endpoint,
        "request": None
        if request is None
        else {
            "method": request.method,
            "url": request.url,
            "headers": dict(request.headers),
            "body": request.body,
        },
        "status": result.status,
        "response_headers": dict(result.response_headers),
        "body": body,
        "body_truncated": truncated,
        "elapsed_ms": result.elapsed_ms,
        "attempts": [
            [a.number, a.status, a.error, a.elapsed_ms, a.waited_before_s] for a in result.attempts
        ],
        "error_kind": result.error_kind.value if result.error_kind else None,
        "message": result.message,
        "batched_with": result.batched_with,
        "payload": result.payload,
    }


def result_from_json(data: Mapping[str, Any]) -> SendResult:
    """The SendResult that result_to_json wrote; KeyError or ValueError when it is not one."""
    request = data["request"]
    kind = data["error_kind"]
    return SendResult(
        event=str(data["event"]),
        message_id=str(data["message_id"]),
        endpoint=str(data["endpoint"]),
        request=None
        if request is None
        else SentRequest(
            str(request["method"]),
            str(request["url"]),
            {str(k): str(v) for k, v in request["headers"].items()},
            str(request["body"]),
        ),
        status=None if data["status"] is None else int(data["status"]),
        response_headers={str(k): str(v) for k, v in data["response_headers"].items()},
        body=str(data["body"]),
        elapsed_ms=float(data["elapsed_ms"]),
        attempts=tuple(
            Attempt(int(number), status, error, float(elapsed), float(waited))
            for number, status, error, elapsed, waited in data["attempts"]
        ),
        error_kind=None if kind is None else ErrorKind(kind),
        message=str(data["message"]),
        batched_with=int(data.get("batched_with", 1)),
        payload=dict(data.get("payload") or {}),
        body_truncated=bool(data.get("body_truncated", False)),
    )
