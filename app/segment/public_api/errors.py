"""Segment's Public API error envelope, turned into a kind and a sentence a person can act on."""

from __future__ import annotations

from enum import StrEnum


class ApiErrorKind(StrEnum):
    """Why a Public API call failed; scripts may rely on these values (`--json`)."""

    UNAUTHORIZED = "unauthorized"  # 401: missing, wrong or insufficient token
    NOT_FOUND = "not_found"  # 404
    CONFLICT = "conflict"  # 409: e.g. a source with that slug exists
    INVALID = "invalid"  # 422 (and 400, 413): Segment refused what was asked
    RATE_LIMITED = "rate_limited"  # 429, after honouring the rate-limit headers
    SERVER = "server"  # 5xx, after retries
    UNREACHABLE = "unreachable"  # name lookup, connection, TLS, proxy, timeout
    BAD_ANSWER = "bad_answer"  # answered, but not with the Public API's JSON
    CANCELLED = "cancelled"


class PublicApiError(Exception):
    """A Public API call that did not succeed. str() is the sentence for the user.

    `call` names what was being done in plain words ("list the workspace's sources"), so a 401
    can say which call needed the permission. `technical` is for --verbose only.
    """

    def __init__(
        self,
        kind: ApiErrorKind,
        sentence: str,
        *,
        call: str,
        status: int | None = None,
        technical: str = "",
    ) -> None:
        super().__init__(sentence)
        self.kind = kind
        self.sentence = sentence
        self.call = call
        self.status = status
        self.technical = technical
