"""Confirm arrival: poll Segment's own counts until they cover what a send delivered.

Counts are per source, event name and minute, so real chats in the same minutes are counted
too: a verdict says "counted at least the events we sent", never "these exact events".
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from app.chatlio import EVENTS
from app.redaction import printable
from app.segment.endpoint import Region
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.errors import ApiErrorKind, PublicApiError, duration_words
from app.segment.public_api.hosts import answerer
from app.segment.public_api.models import Counts

if TYPE_CHECKING:
    from app.segment.cancel import CancelToken

log = logging.getLogger(__name__)

# How long to wait for Segment's count by default (its own latency is about 30 s).
DEFAULT_WAIT = 180.0
# At most one Public API request per this many seconds while polling.
POLL_EVERY = 5.0

# The four Live Chat event names: what the count is filtered on.
EVENT_NAMES: tuple[str, ...] = tuple(e.name for e in EVENTS)
# Delivery Overview's MINUTE granularity: a window of at most 4 hours, starting at most 48 h ago.
MAX_WINDOW = timedelta(hours=4)
OLDEST_START = timedelta(hours=48)
# Failures that may pass (Segment's side, the network, the rate limit): each request is tried
# once (the poll paces them, not the client's retries), and this many failures in a row are
# asked again at the next poll's turn; one more ends the wait.
_PASSING = frozenset({ApiErrorKind.SERVER, ApiErrorKind.UNREACHABLE, ApiErrorKind.RATE_LIMITED})
MAX_TROUBLES = 2
DELIVERY_OVERVIEW = "delivery-overview"
EVENTS_VOLUME = "events-volume"

# Delivery Overview's discard codes (segment-docs delivery-overview-discards.html), in words.
DISCARD_REASONS = {
    "no_user_anon_id": "no user or anonymous id",
    "event_not_defined": "the event is not defined in the tracking plan",
    "properties_not_object": "the properties were not an object",
    "source_disabled": "the source is turned off",
    "bad_request": "the request was malformed",
}

PER_MINUTE_CAVEAT = (
    "Segment counts per source, event name and minute, so real chats in the same minutes are "
    "counted too: this shows Segment counted at least as many events as were sent, not these "
    "exact events."
)


def discard_phrase(code: str) -> str:
    """A discard code in plain words; an unknown one as Segment wrote it."""
    return DISCARD_REASONS.get(code) or printable(code, 60)


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

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Confirmation:
        """What to_json wrote (the send history keeps it); ValueError when it is not that."""
        try:
            discarded = data.get("discarded") or {}
            return cls(
                verdict=Verdict(data["verdict"]),
                expected=int(data["expected"]),
                counted=int(data["counted"]),
                discarded={str(k): int(v) for k, v in discarded.items()},
                waited_s=float(data.get("waited_s", 0.0)),
                requests=int(data.get("requests", 0)),
                via=str(data.get("via", "delivery-overview")),
                headline=str(data.get("headline", "")),
                detail=str(data.get("detail", "")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a confirmation: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        """For `--json`: the verdict's value, the numbers and the words."""
        return {
            "verdict": self.verdict.value,
            "confirmed": self.confirmed,
            "expected": self.expected,
            "counted": self.counted,
            "discarded": dict(self.discarded),
            "waited_s": round(self.waited_s, 1),
            "requests": self.requests,
            "via": self.via,
            "headline": self.headline,
            "detail": self.detail,
        }


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
    for a Public API failure (Verdict.FAILED with the sentence).

    Failed-on-ingest and successfully-received are asked in turn (that order), one request
    per `poll_every` seconds; when Delivery Overview is not available (a refusal other than the
    token's or the rate limit's), events-volume alone. `cancel` ends a wait at once; give the
    client the same token so that a request in progress is cut too.
    """
    poller = _Poller(client, delivered, wait, poll_every, cancel, on_progress)
    return poller.run()


class _Poller:
    """One confirmation's state: the last counts, the requests made, the clock."""

    def __init__(
        self,
        client: PublicApiClient,
        delivered: Delivered,
        wait: float,
        poll_every: float,
        cancel: CancelToken | None,
        on_progress: Callable[[ArrivalProgress], None] | None,
    ) -> None:
        self._client = client
        self._delivered = delivered
        self._wait = max(0.0, wait)
        self._poll_every = max(0.0, poll_every)
        self._cancel = cancel
        self._on_progress = on_progress
        self._names = _names(delivered)
        self._expected = delivered.total
        self._received: Counts | None = None
        self._failed: Counts | None = None
        self._via = DELIVERY_OVERVIEW
        self._requests = 0
        self._started = time.monotonic()
        self._turn = 0  # even: failed-on-ingest's turn, odd: successfully-received's
        self._troubles = 0  # passing failures in a row
        self._trouble: PublicApiError | None = None  # the last of them

    def run(self) -> Confirmation:
        if self._expected <= 0:
            return self._ended(Verdict.NOT_COUNTED)
        verdict, error = self._loop()
        return self._ended(verdict, error)

    def _loop(self) -> tuple[Verdict, PublicApiError | None]:
        while True:
            if self._cancelled():
                return Verdict.CANCELLED, None
            next_at = time.monotonic() + self._poll_every
            try:
                self._poll()
                self._troubles, self._trouble = 0, None
            except PublicApiError as exc:
                verdict = self._after_failure(exc)
                if verdict is not None:
                    return verdict, exc
                if exc.wait is not None:  # the rate limit: no sooner than Segment asked
                    next_at = max(next_at, time.monotonic() + exc.wait)
            verdict = self._verdict()
            if verdict is not None:
                return verdict, None
            if next_at - self._started > self._wait:
                if self._trouble is not None:  # the last request failed: say why
                    return Verdict.FAILED, self._trouble
                return Verdict.NOT_COUNTED, None
            self._report(next_at - time.monotonic())
            if self._sleep(next_at - time.monotonic()):
                return Verdict.CANCELLED, None

    def _after_failure(self, error: PublicApiError) -> Verdict | None:
        """How a failed request ends the wait, or None when polling goes on: with events
        volume instead, or after a passing trouble (the client has retried it already)."""
        if error.kind is ApiErrorKind.CANCELLED or self._cancelled():
            return Verdict.CANCELLED
        if self._via == DELIVERY_OVERVIEW and _unavailable(error):
            log.info("Delivery Overview unavailable (%s): events volume", error.technical)
            self._via, self._received, self._failed = EVENTS_VOLUME, None, None
            return None
        if error.kind in _PASSING and self._troubles < MAX_TROUBLES:
            self._troubles += 1
            self._trouble = error
            log.info("A count could not be asked (%s); asking again", error.technical)
            return None
        return Verdict.FAILED

    # --- asking -------------------------------------------------------------------------

    def _poll(self) -> None:
        """One request: the count not asked last time, or events volume.

        Failed-on-ingest comes first, so that discards are known by the time the count
        covers the send: a count of real chats must not hide the test events' discards.
        """
        start, end = self._window()
        source_id, names = self._delivered.source_id, self._names
        self._requests += 1
        if self._via == EVENTS_VOLUME:
            self._received = self._client.events_volume(source_id, start, end, names, once=True)
        elif self._turn % 2 == 0:
            self._failed = self._client.failed_on_ingest(source_id, start, end, names, once=True)
        else:
            self._received = self._client.delivered(source_id, start, end, names, once=True)
        self._turn += 1

    def _window(self) -> tuple[datetime, datetime]:
        """From the send's first minute to the clock's next minute (events volume: to now)."""
        now = datetime.now(UTC)
        start = _minute(self._delivered.started)
        oldest = _minute(now - OLDEST_START) + timedelta(minutes=1)
        start = max(start, oldest)
        if self._via == EVENTS_VOLUME:
            # Its docs say to end the window behind the clock (a time to come may be refused):
            # now, to the second, rather than the whole minute behind that would hold the
            # confirmation back a minute (UNCLEAR whether an unaligned end is taken).
            end = now.replace(microsecond=0)
        else:
            end = _minute(now) + timedelta(minutes=1)
        end = min(max(end, start + timedelta(minutes=1)), start + MAX_WINDOW)
        return start, end

    # --- judging ------------------------------------------------------------------------

    def _counted(self) -> int:
        """How much of what was sent the count covers, event name by event name."""
        if self._received is None:
            return 0
        by_name = _by_name(self._received)
        if by_name is None:  # rows not grouped by name: the total is all there is
            return min(self._received.total, self._expected)
        sent = self._delivered.per_event
        return sum(min(by_name.get(name, 0), count) for name, count in sent.items())

    def _discarded(self) -> dict[str, int]:
        found: dict[str, int] = {}
        if self._failed is None:
            return found
        for row in self._failed.rows:
            if row.event_name is not None and row.event_name not in self._names:
                continue
            if row.total > 0:
                reason = row.discard_reason or "unknown"
                found[reason] = found.get(reason, 0) + row.total
        if not self._failed.rows and self._failed.total > 0:  # a total without its rows
            found["unknown"] = self._failed.total
        return found

    def _verdict(self) -> Verdict | None:
        """Discards seen in the send's minutes outrank a count that covers it: with real chats
        in the same minutes, the count alone cannot show the test events were kept."""
        if self._received is None:
            return None  # a verdict says what was counted, so the count comes first
        counted = self._counted()
        discarded = sum(self._discarded().values())
        if discarded and counted + discarded >= self._expected:
            return Verdict.DISCARDED
        # Events volume has no discards to ask for; Delivery Overview's are asked first.
        discards_known = self._via == EVENTS_VOLUME or self._failed is not None
        if counted >= self._expected and discards_known:
            return Verdict.CONFIRMED
        return None

    # --- telling ------------------------------------------------------------------------

    def _cancelled(self) -> bool:
        return self._cancel is not None and self._cancel.cancelled

    def _sleep(self, seconds: float) -> bool:
        """Wait until the next poll; True if cancelled meanwhile."""
        if seconds <= 0:
            return self._cancelled()
        if self._cancel is not None:
            return self._cancel.wait(seconds)
        threading.Event().wait(seconds)
        return False

    def _report(self, next_in: float) -> None:
        if self._on_progress is None:
            return
        progress = ArrivalProgress(
            counted=self._counted(),
            expected=self._expected,
            waited_s=round(time.monotonic() - self._started, 3),
            wait_s=self._wait,
            requests=self._requests,
            next_poll_in_s=max(0.0, round(next_in, 3)),
        )
        try:
            self._on_progress(progress)
        except Exception:  # a report is advisory: a failing one must not end the wait
            log.exception("An arrival progress report failed")

    def _ended(self, verdict: Verdict, error: PublicApiError | None = None) -> Confirmation:
        counted = self._counted()
        discarded = self._discarded()
        waited = time.monotonic() - self._started
        headline, detail = _words(
            verdict,
            self._delivered,
            counted,
            discarded,
            self._wait,
            self._via,
            error,
            answerer(self._client.endpoint.region is Region.LOCAL),
        )
        return Confirmation(
            verdict=verdict,
            expected=self._expected,
            counted=counted,
            discarded=discarded,
            waited_s=waited,
            requests=self._requests,
            via=self._via,
            headline=headline,
            detail=detail,
        )


def _names(delivered: Delivered) -> list[str]:
    """The event names the count is filtered on: those sent, else the four Live Chat ones."""
    sent = [name for name, count in delivered.per_event.items() if count > 0]
    return sorted(sent) if sent else list(EVENT_NAMES)


def _by_name(counts: Counts) -> dict[str, int] | None:
    if not counts.rows or any(row.event_name is None for row in counts.rows):
        return None
    found: dict[str, int] = {}
    for row in counts.rows:
        assert row.event_name is not None
        found[row.event_name] = found.get(row.event_name, 0) + row.total
    return found


def _unavailable(error: PublicApiError) -> bool:
    """Delivery Overview refused as a feature (any 4xx but the token's 401 and the rate
    limit's 429: a plan without it, a beta not offered): try events volume instead."""
    status = error.status
    return status is not None and 400 <= status < 500 and status not in (401, 429)


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _events(count: int) -> str:
    return "1 test event" if count == 1 else f"{count} test events"


def _reasons(discarded: Mapping[str, int]) -> str:
    if len(discarded) == 1:
        return discard_phrase(next(iter(discarded)))
    return "; ".join(f"{discard_phrase(code)} ({n})" for code, n in discarded.items())


def _words(
    verdict: Verdict,
    delivered: Delivered,
    counted: int,
    discarded: Mapping[str, int],
    wait: float,
    via: str,
    error: PublicApiError | None,
    who: str = "Segment",
) -> tuple[str, str]:
    """The headline and the detail (what to check, and the per-minute caveat); `who` is what
    counted: Segment, or the sandbox standing in for it."""
    who_ = who[:1].upper() + who[1:]  # at the start of a sentence
    source = printable(delivered.source_name, 80) or "the source"
    expected = delivered.total
    report = (
        " (counted by Segment's events-volume report: Delivery Overview is not available to "
        "this workspace or token.)"
        if via == EVENTS_VOLUME
        else ""
    )
    check = (
        "Check that the write key belongs to this source (a website's JavaScript source key is "
        "the usual mistake), that the workspace is in Segment's US region, and look for the "
        "events in the source's Debugger in Segment."
    )
    lost = sum(discarded.values())
    if verdict is Verdict.CONFIRMED:
        headline = f"{who_} counted the {_events(expected)} in source {source}."
        detail = PER_MINUTE_CAVEAT + report
    elif verdict is Verdict.DISCARDED:
        headline = f"{who_} discarded {lost} at ingest: {_reasons(discarded)}."
        if counted >= expected:
            detail = (
                f"Segment counted as many events as the {_events(expected)} in source {source}, "
                f"but discarded {lost} with the same names in the same minutes: they reached "
                "Segment and were not kept. They may be real chats rather than the test events; "
                f"either way, something sends events Segment cannot keep. {PER_MINUTE_CAVEAT}"
            )
        else:
            detail = (
                f"Segment counted {counted} of the {_events(expected)} in source {source} and "
                f"discarded {lost}: they reached Segment but were not kept. {PER_MINUTE_CAVEAT}"
            )
    elif verdict is Verdict.NOT_COUNTED and expected <= 0:
        headline = "Nothing to confirm: no test event was accepted, so Segment has none to count."
        detail = PER_MINUTE_CAVEAT
    elif verdict is Verdict.NOT_COUNTED:
        shown = f"only {counted} of the {_events(expected)}" if counted else "none of them"
        headline = (
            f"Not counted after {duration_words(wait)}: {who}'s count for source {source} "
            f"shows {shown}."
        )
        extra = f" {who_} discarded {lost} at ingest: {_reasons(discarded)}." if discarded else ""
        detail = (
            f"Segment usually counts events within a minute.{extra} {check} "
            f"{PER_MINUTE_CAVEAT}{report}"
        )
    elif verdict is Verdict.CANCELLED:
        headline = f"Stopped waiting for {who}'s count."
        detail = f"{who_} had counted {counted} of the {_events(expected)} so far. " + (
            PER_MINUTE_CAVEAT
        )
    else:
        sentence = error.sentence if error is not None else "the Public API could not be asked."
        headline = f"Could not ask {who} for its count: {sentence}"
        detail = PER_MINUTE_CAVEAT
    return headline, detail
