"""Segment's Public API error envelope, turned into a kind and a sentence a person can act on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from app.redaction import printable
from app.segment.endpoint import Region
from app.segment.public_api.hosts import ApiEndpoint


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
        wait: float | None = None,
    ) -> None:
        super().__init__(sentence)
        self.wait = wait  # RATE_LIMITED: the seconds Segment asked to wait, if it said
        self.kind = kind
        self.sentence = sentence
        self.call = call
        self.status = status
        self.technical = technical

    def __repr__(self) -> str:
        return f"PublicApiError({self.kind.value}, {self.sentence!r}, status={self.status})"


@dataclass(frozen=True)
class Call:
    """One kind of call in plain words ("list the workspace's sources"), and who can give a
    token the permission it needs, for the sentence a refusal becomes."""

    what: str
    needs: str = "a Workspace Owner can give it Source Admin"


WORKSPACE_CALL = Call("open the workspace", needs="")
SOURCES_CALL = Call("list the workspace's sources")
SOURCE_CALL = Call("read the source")
CREATE_CALL = Call("create the source")
RENAME_CALL = Call("name the source")
DESTINATIONS_CALL = Call("list the source's destinations")
WAREHOUSES_CALL = Call("list the source's warehouses")
_COUNTS_NEEDS = "a Workspace Owner can give it read access to the source, or Source Admin"
DELIVERED_CALL = Call("count the events Segment received", _COUNTS_NEEDS)
FAILED_CALL = Call("count the events Segment discarded", _COUNTS_NEEDS)
VOLUME_CALL = Call("count the source's events", _COUNTS_NEEDS)


def where(endpoint: ApiEndpoint) -> str:
    """Who was asked, for a sentence: Segment's host, the sandbox, or the address given."""
    host = printable(endpoint.host)
    if endpoint.region is Region.LOCAL:
        return f"the sandbox on this computer ({host})"
    if endpoint.region in (Region.US, Region.EU):
        return f"Segment's Public API ({host})"
    return host


def refused(
    call: Call,
    status: int,
    message: str,
    *,
    tries: int = 1,
    wait: float | None = None,
    technical: str = "",
) -> PublicApiError:
    """What an error status from the Public API means; `message` is Segment's own (escaped)."""
    said = f" Segment said: {message}" if message else ""
    if status in (401, 403):
        kind = ApiErrorKind.UNAUTHORIZED
        if call.needs:
            text = (
                f"Segment did not accept the token to {call.what}: the token is wrong, or lacks "
                f"the permission for this ({call.needs})."
            )
        else:
            text = (
                f"Segment did not accept the token to {call.what}: the token is wrong or was "
                "revoked, or it belongs to a workspace in another region."
            )
    elif status == 404:
        kind = ApiErrorKind.NOT_FOUND
        text = f"Segment found nothing to {call.what}: it may have been deleted.{said}"
    elif status == 409:
        kind = ApiErrorKind.CONFLICT
        text = (
            f"Segment could not {call.what}: one with that name already exists in the workspace. "
            f"Choose another name, or use the one that exists.{said}"
        )
    elif status == 429:
        kind = ApiErrorKind.RATE_LIMITED
        later = f"in {duration_words(wait)}" if wait else "in a minute"
        text = (
            f"Segment is limiting how often this token may call it, and would not {call.what} "
            f"yet. Try again {later}."
        )
    elif status >= 500:
        kind = ApiErrorKind.SERVER
        after = f" (tried {tries} times)" if tries > 1 else ""
        text = (
            f"Segment had a problem on its side and could not {call.what}{after}. Try again in a "
            "few minutes; status.segment.com shows known incidents."
        )
    else:
        kind = ApiErrorKind.INVALID
        text = f"Segment refused to {call.what}.{said or ' It gave no reason.'}"
    return PublicApiError(kind, text, call=call.what, status=status, technical=technical, wait=wait)


# Why a connection failed, by the Tracking client's classification of httpx's errors.
_WHY_UNREACHABLE = {
    "dns": "its server name was not found",
    "connection": "nothing there accepted the connection",
    "timeout": "it did not answer in time",
    "tls": "the secure (https) connection could not be set up or verified",
    "proxy": "the proxy server could not be reached or would not connect",
    "protocol": "it did not answer like a web server",
    "disconnected": "it closed the connection without a complete answer",
}


def unreachable(
    call: Call, endpoint: ApiEndpoint, why: str, *, technical: str = ""
) -> PublicApiError:
    """The Public API could not be reached; `why` is a kind name from _WHY_UNREACHABLE."""
    reason = _WHY_UNREACHABLE.get(why, "the connection failed")
    advice = (
        "If your company inspects web traffic, its certificate must be in this computer's trust "
        "store; ask IT."
        if why == "tls"
        else "Check that the sandbox is still running."
        if endpoint.region is Region.LOCAL
        else "Check your internet connection and proxy settings, then try again."
    )
    text = f"Could not reach {where(endpoint)} to {call.what}: {reason}. {advice}"
    return PublicApiError(ApiErrorKind.UNREACHABLE, text, call=call.what, technical=technical)


def out_of_time(
    call: Call, endpoint: ApiEndpoint, seconds: float, *, technical: str = ""
) -> PublicApiError:
    text = (
        f"{where(endpoint)[0].upper()}{where(endpoint)[1:]} did not finish answering within "
        f"{duration_words(seconds)}, so the app stopped trying to {call.what}. Try again; if it "
        "keeps happening, your network may be slow or blocking it."
    )
    return PublicApiError(ApiErrorKind.UNREACHABLE, text, call=call.what, technical=technical)


def bad_answer(
    call: Call,
    endpoint: ApiEndpoint,
    why: str,
    *,
    status: int | None = None,
    technical: str = "",
) -> PublicApiError:
    """An answer that is not the Public API's; `why` completes 'its answer ...'."""
    text = (
        f"The app asked {where(endpoint)} to {call.what}, but its answer {why}: this is not how "
        "Segment's Public API answers. Check the address; a sign-in page, proxy or firewall may "
        "be in the way."
    )
    return PublicApiError(
        ApiErrorKind.BAD_ANSWER, text, call=call.what, status=status, technical=technical
    )


def cancelled(call: Call) -> PublicApiError:
    return PublicApiError(
        ApiErrorKind.CANCELLED, f"Cancelled: the app stopped trying to {call.what}.", call=call.what
    )


def duration_words(seconds: float) -> str:
    """'45 seconds', '1 minute', '3 minutes': rounded up, as a wait is safer a little long."""
    if seconds <= 90:
        whole = max(1, math.ceil(seconds))
        return "1 second" if whole == 1 else f"{whole} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes" if minutes < 120 else f"{math.ceil(minutes / 60)} hours"
