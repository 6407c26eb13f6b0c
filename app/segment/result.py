"""What happened to one event: the request as sent (key redacted), the answer, a verdict."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from app.redaction import basic_auth

WHAT_200_PROVES = (
    "A 200 answer proves the request was well formed and reached Segment. It does not prove "
    "that the write key, the source or the region is right: Segment answers 200 even to an "
    "unknown key and drops those events later. To be sure, find the event in the source's "
    "Debugger in Segment."
)


class ErrorKind(StrEnum):
    """Why an event did not get a usable 2xx answer; scripts may rely on these values."""

    INVALID = "invalid"  # the event has a problem; nothing was sent
    CANCELLED = "cancelled"
    NOT_SENT = "not_sent"  # never tried: an earlier event showed the address is unusable, or
    # the time limit of the send ran out before this event's turn
    TIMEOUT = "timeout"  # no complete answer within the time allowed (also a trickling one)
    CONNECTION = "connection"  # refused or unreachable: nothing accepted the connection
    DNS = "dns"  # the server's name was not found
    TLS = "tls"
    PROXY = "proxy"
    DISCONNECTED = "disconnected"  # connected, then closed before or in the middle of the answer
    PROTOCOL = "protocol"  # answered, but not with valid HTTP (garbage, oversized headers), or
    # a 2xx that is not Segment's answer (a sign-in page, a proxy's page, an undecodable body)
    TOO_LARGE = "too_large"  # a 2xx answer with a body over the app's cap; reading stopped
    BAD_REQUEST = "bad_request"
    AUTH = "auth"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER = "server"
    HTTP = "http"


@dataclass(frozen=True)
class SentRequest:
    """The HTTP request exactly as sent, except that the Authorization header is redacted."""

    method: str
    url: str
    headers: dict[str, str]
    body: str

    def as_curl(self, write_key: str | None = None) -> str:
        """A cURL command line; the key appears only when the caller passes it on purpose."""
        headers = dict(self.headers)
        if write_key is not None:
            # The redacted header as sent, in whatever case httpx wrote it, makes way for it.
            headers = {n: v for n, v in headers.items() if n.lower() != "authorization"}
            headers["Authorization"] = basic_auth(write_key)
        parts = ["curl", "-X", self.method, shlex.quote(self.url)]
        for name, value in headers.items():
            if name.lower() in ("content-length", "host", "accept-encoding", "connection"):
                continue
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        parts += ["--data-raw", shlex.quote(self.body)]
        return " ".join(parts)


@dataclass(frozen=True)
class Attempt:
    """One try at sending: its answer (or error) and how long we waited before it."""

    number: int
    status: int | None
    error: str | None
    elapsed_ms: float
    waited_before_s: float


@dataclass(frozen=True)
class SendResult:
    """One event's outcome, rendered alike by the command line and the response viewer."""

    event: str
    message_id: str
    endpoint: str
    request: SentRequest | None
    status: int | None
    response_headers: dict[str, str]
    body: str
    elapsed_ms: float
    attempts: tuple[Attempt, ...]
    error_kind: ErrorKind | None
    message: str
    batched_with: int = 1
    payload: dict[str, Any] = field(default_factory=dict)
    body_truncated: bool = False  # the answer was over the size cap: `body` is its beginning

    @property
    def ok(self) -> bool:
        """A 2xx answer, read in full: a 200 whose body broke the cap is no success."""
        return self.error_kind is None and self.status is not None and 200 <= self.status < 300

    @property
    def retries(self) -> int:
        return max(0, len(self.attempts) - 1)

    def to_json(self) -> dict[str, Any]:
        """A flat, stable JSON object: the command line's --json contract."""
        return {
            "event": self.event,
            "ok": self.ok,
            "status": self.status,
            "attempts": len(self.attempts),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "message_id": self.message_id,
            "endpoint": self.endpoint,
            "body": self.body,
            "error": self.error_kind.value if self.error_kind else None,
            "message": self.message,
            "response_headers": self.response_headers,
            "request": asdict(self.request) if self.request else None,
            "attempt_log": [asdict(a) for a in self.attempts],
            "body_truncated": self.body_truncated,
        }

    def to_json_line(self) -> str:
        """One line of ASCII JSON: a server's DEL, C1 controls or bidi overrides arrive escaped
        (\\u009b), never raw in a terminal, and decode back to exactly what was received."""
        return json.dumps(self.to_json(), ensure_ascii=True, separators=(",", ":"))
