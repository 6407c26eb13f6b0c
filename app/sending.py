"""Send test events: the one use case behind the CLI's `send`, the GUI's buttons and the self-test.

It decides which key goes where (the built-in sandbox never gets the real key), picks the events
of the test conversation, sends them within one deadline, and says in plain words what happened
and what that proves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from app.chatlio import EVENTS, Conversation, TestEvent, find_event
from app.exit_codes import ExitCode
from app.segment import SANDBOX_KEY
from app.segment.endpoint import Endpoint, Region
from app.segment.payload import Visitor
from app.segment.result import WHAT_200_PROVES, ErrorKind, SendResult
from app.segment.retry import RetryPolicy

if TYPE_CHECKING:
    from app.segment.cancel import CancelToken
    from app.segment.progress import OnProgress
    from app.segment.proxy import ProxyChoice
    from app.segment.sandbox import Sandbox

# A whole send — every event, every try, every wait between tries — ends within this.
DEFAULT_DEADLINE = 60.0
# No deadline is longer: a send that has not ended in an hour is not going to.
MAX_DEADLINE = 3600.0
# One try, from connecting to the last byte of the answer (capped by the time left).
ATTEMPT_TIMEOUT = 15.0
# A visitor id is sent as Segment's anonymousId or userId; Chatlio's are short.
MAX_VISITOR_ID_CHARS = 200


class SendSetupError(ValueError):
    """The send cannot happen as asked; the message says what to do instead, in a sentence."""


@dataclass(frozen=True)
class Target:
    """Where the events go, and the key they carry (hidden from repr)."""

    endpoint: Endpoint
    write_key: str = field(repr=False)
    built_in_sandbox: bool = False

    @classmethod
    def segment(cls, endpoint: Endpoint, write_key: str) -> Target:
        """Segment (or an address the user gave) with the source's write key."""
        return cls(endpoint, write_key)

    @classmethod
    def sandbox(cls, sandbox: Sandbox) -> Target:
        """The built-in sandbox: a made-up key, so the real one never reaches it."""
        from app.segment.endpoint import parse_endpoint

        return cls(parse_endpoint(sandbox.url), SANDBOX_KEY, built_in_sandbox=True)


@contextmanager
def built_in_sandbox(*, chatlio_source: bool = False) -> Iterator[Sandbox]:
    """A sandbox on a free loopback port for the length of one send.

    `chatlio_source`: its workspace already has the Chatlio source that SANDBOX_KEY belongs
    to, so that its Public API can confirm what was sent.
    """
    from app.segment.sandbox import Sandbox

    with Sandbox(chatlio_source=chatlio_source) as sandbox:
        yield sandbox


def check_deadline(seconds: float) -> float:
    """A whole-send deadline in seconds, or SendSetupError with the range."""
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_DEADLINE:
        raise SendSetupError(
            f"The time limit must be a number of seconds above 0 and at most "
            f"{MAX_DEADLINE:.0f} (an hour), like {DEFAULT_DEADLINE:.0f}."
        )
    return seconds


def check_visitor_id(text: str) -> str:
    """The test visitor id as typed, stripped; SendSetupError says what is wrong with it."""
    visitor_id = text.strip()
    if not visitor_id:
        raise SendSetupError(
            "The visitor id is empty. Give one (any text, like test-visitor-1), or leave the "
            "option out and a new one is made up."
        )
    if len(visitor_id) > MAX_VISITOR_ID_CHARS:
        raise SendSetupError(
            f"The visitor id is {len(visitor_id)} characters long; keep it to "
            f"{MAX_VISITOR_ID_CHARS} or fewer."
        )
    if not visitor_id.isprintable() or _has_surrogates(visitor_id):
        raise SendSetupError(
            "The visitor id contains characters that cannot be sent (control characters or "
            "bytes that are not text). Use letters, digits and dashes."
        )
    return visitor_id


def _has_surrogates(text: str) -> bool:
    # Undecodable bytes on a command line arrive as lone surrogates, which no JSON can carry.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def choose_events(
    conversation: Conversation, names: Sequence[str] | None = None
) -> list[TestEvent]:
    """The whole conversation in order, or one of each named event in the order given.

    Names may be full ("Live Chat Message Sent") or short ("message-sent").
    """
    if not names:
        return conversation.events()
    chosen = []
    for name in names:
        spec = find_event(name)
        if spec is None:
            known = ", ".join(e.short_name for e in EVENTS)
            raise SendSetupError(
                f"There is no Live Chat event called '{name}'. Known events: {known}."
            )
        chosen.append(conversation.event(spec.name))
    return chosen


@dataclass(frozen=True)
class SendOutcome:
    """Every event's result, and what they add up to, in words for the person who sent them."""

    results: tuple[SendResult, ...]
    endpoint: Endpoint
    visitor: Visitor
    conversation_id: str
    built_in_sandbox: bool = False

    @property
    def arrived(self) -> int:
        return sum(result.ok for result in self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.arrived == len(self.results)

    @property
    def cancelled(self) -> bool:
        return any(result.error_kind is ErrorKind.CANCELLED for result in self.results)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.FAILED

    @property
    def _where(self) -> str:
        if self.built_in_sandbox:
            return "the sandbox on this computer"
        if self.endpoint.region in (Region.US, Region.EU):
            return "Segment"
        return self.endpoint.host

    @property
    def not_sent(self) -> int:
        """Events never tried, because an earlier one showed the address cannot be used."""
        return sum(result.error_kind is ErrorKind.NOT_SENT for result in self.results)

    @property
    def summary(self) -> str:
        """One line: '6 of 6 test events arrived at Segment.'"""
        total, arrived, not_sent = len(self.results), self.arrived, self.not_sent
        failed = total - arrived - not_sent
        events = "test event" if total == 1 else "test events"
        if self.cancelled:
            return f"Cancelled: {arrived} of {total} {events} arrived at {self._where} first."
        if self.ok:
            return f"{arrived} of {total} {events} arrived at {self._where}."
        if not arrived and not not_sent:
            return f"{total} of {total} {events} failed to arrive at {self._where}."
        were = "was" if not_sent == 1 else "were"
        rest = f"{failed} failed" + (f" and {not_sent} {were} not sent" if not_sent else "")
        return f"{arrived} of {total} {events} arrived at {self._where}: {rest}."

    @property
    def verdict(self) -> str:
        """What the answers prove, and the next step."""
        if not self.results:
            return "Nothing was sent."
        if not self.ok:
            first = next(result for result in self.results if not result.ok)
            return first.message
        if self.endpoint.region is Region.LOCAL:
            return (
                f"These went to {self._where}, not to Segment: they show what would be sent, "
                "and that the events are well formed."
            )
        return (
            f"{WHAT_200_PROVES} In Segment, open the Chatlio source's Debugger and search for "
            f"{self.visitor.visitor_id} or {self.conversation_id}."
        )


def send_test_events(
    target: Target,
    events: Sequence[TestEvent],
    visitor: Visitor,
    *,
    conversation_id: str,
    batch: bool = False,
    deadline: float = DEFAULT_DEADLINE,
    retry: RetryPolicy | None = None,
    cancel: CancelToken | None = None,
    on_result: Callable[[SendResult], None] | None = None,
    on_progress: OnProgress | None = None,
    proxy: ProxyChoice | None = None,
    to_destinations: bool = True,
) -> SendOutcome:
    """Send `events` to `target`, all of it within `deadline` seconds; blocking (use a worker).

    One /v1/track request per event in order (results reported as they come), or one
    /v1/batch. `retry` defaults to the official libraries' policy. `on_progress` hears, on
    this thread, what the send is doing (SendProgress: event, try, wait). `proxy` None means
    this computer's proxy settings. `to_destinations` False sends `integrations: {"All": false}`:
    no destination gets the events, but warehouses still load them. Raises SendSetupError when
    nothing can be sent as things are set up (a proxy of a kind the app cannot use).
    """
    from app.segment.client import ProxyUnusable, SegmentClient
    from app.segment.payload import NO_DESTINATIONS

    policy = replace(retry or RetryPolicy(), total_budget=check_deadline(deadline))
    timeout = min(ATTEMPT_TIMEOUT, deadline)
    try:
        client = SegmentClient(
            target.write_key,
            target.endpoint,
            retry=policy,
            timeout=timeout,
            proxy=proxy,
            integrations=None if to_destinations else NO_DESTINATIONS,
        )
    except ProxyUnusable as exc:
        raise SendSetupError(str(exc)) from None
    with client:
        if batch:
            results = client.batch(events, visitor, cancel, on_progress)
            for result in results:
                if on_result is not None:
                    on_result(result)
        else:
            results = client.send_each(
                events, visitor, cancel, on_result=on_result, on_progress=on_progress
            )
    return SendOutcome(
        tuple(results), target.endpoint, visitor, conversation_id, target.built_in_sandbox
    )
