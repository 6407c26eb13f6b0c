"""`check`: is the Chatlio pipe still working? For cron, systemd timers and CI.

Sends a small, clearly marked heartbeat conversation (app.chatlio.heartbeat) and, with a Public
API token, waits for Segment's own count of it in the key's source. The exit status is a stable
contract (CheckStatus); --json prints one object with the same answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any, TextIO

from app.chatlio import HEARTBEAT_VISITOR, heartbeat
from app.cli_support import PROG, UsageError, resolve_key, say_api_error, tracking_endpoint
from app.redaction import printable
from app.sending import SendSetupError

if TYPE_CHECKING:
    from app.chatlio import Conversation
    from app.proof.arrival import Confirmation
    from app.proof.key_owner import KeyOwner
    from app.segment.payload import Visitor
    from app.segment.sandbox import Sandbox
    from app.sending import SendOutcome, Target


class CheckStatus(IntEnum):
    """`check`'s exit status; scripts and monitors rely on these numbers (README)."""

    CONFIRMED = 0  # sent, and Segment counted it in a Chatlio source
    FAILED = 1  # not sent, refused, discarded, or the key's source is not a Chatlio one
    USAGE = 2  # usage or configuration: no key, a token Segment refuses, a bad option
    NOT_CONFIRMED = 3  # sent and accepted, but not confirmed (no token, or no count in time)


NO_TOKEN = (
    "Not confirmed: there is no Public API token to ask Segment's own count with. A 200 only "
    "proves the request was well formed; give a token in $SEGMENT_API_TOKEN or on a file "
    "descriptor (--token-fd 4 4<token-file), or store one with "
    f"'{PROG} token set'."
)
WAREHOUSE_NOTE = (
    "Destinations do not get these heartbeat events, but warehouses still load them: filter "
    "them out there with context_library_name <> 'chatlio-segment-setup'."
)


@dataclass
class CheckReport:
    """Everything one check found, for a person or as one JSON object."""

    status: CheckStatus = CheckStatus.NOT_CONFIRMED
    message: str = ""
    target: str = ""
    key_origin: str = ""
    conversation_id: str = ""
    to_destinations: bool = True
    results: list[dict[str, Any]] = field(default_factory=list)
    confirmation: Confirmation | None = None
    owner: KeyOwner | None = None

    def to_json(self) -> dict[str, Any]:
        source = self.owner.source if self.owner is not None else None
        return {
            "status": self.status.name.lower(),
            "exit": int(self.status),
            "message": self.message,
            "target": self.target,
            "key_from": self.key_origin,
            "visitor_id": HEARTBEAT_VISITOR,
            "conversation_id": self.conversation_id,
            "to_destinations": self.to_destinations,
            "events": self.results,
            "source": None
            if source is None
            else {"id": source.id, "name": source.name, "chatlio": source.is_chatlio},
            "confirmation": None if self.confirmation is None else self.confirmation.to_json(),
        }


def run_check(
    args: argparse.Namespace, stdin: TextIO | None, out: TextIO, secrets: list[str]
) -> int:
    """Send the heartbeat, confirm it where a token allows; exit with a CheckStatus."""
    report = CheckReport(to_destinations=not args.no_destinations)
    say = _Say(out, quiet=args.json)
    try:
        status = _check(args, stdin, secrets, report, say)
    except (UsageError, SendSetupError) as exc:
        if not args.json:
            raise  # the CLI prints it, exit 2
        report.status, report.message = CheckStatus.USAGE, str(exc)
        status = CheckStatus.USAGE
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False), file=out)
    return int(status)


class _Say:
    def __init__(self, out: TextIO, *, quiet: bool) -> None:
        self._out, self._quiet = out, quiet

    def __call__(self, text: str) -> None:
        if not self._quiet:
            print(printable(text), file=self._out, flush=True)


def _check(
    args: argparse.Namespace,
    stdin: TextIO | None,
    secrets: list[str],
    report: CheckReport,
    say: _Say,
) -> CheckStatus:
    from app.segment.payload import Visitor
    from app.sending import Target, built_in_sandbox

    conversation = heartbeat()
    report.conversation_id = conversation.conversation_id
    with contextlib.ExitStack() as stack:
        sandbox = None
        if args.sandbox:
            sandbox = stack.enter_context(built_in_sandbox(chatlio_source=True))
            target = Target.sandbox(sandbox)
            report.key_origin = "a made-up key (the sandbox needs none)"
            token: tuple[str, str] | None = None
        else:
            endpoint = tracking_endpoint(args.endpoint or "")
            key = resolve_key(args, stdin, secrets)
            target, report.key_origin = Target.segment(endpoint, key.key), key.origin
            token = _token(args, secrets)
        report.target = "the built-in sandbox" if sandbox else target.endpoint.host
        say(
            f"Heartbeat: sending {len(conversation.events())} Live Chat events to "
            f"{report.target} (visitor {HEARTBEAT_VISITOR}, conversation "
            f"{conversation.conversation_id}), key from {report.key_origin}."
        )
        if not report.to_destinations:
            say(WAREHOUSE_NOTE)
        started = datetime.now(UTC)
        outcome = _send(args, target, conversation, Visitor(conversation.visitor_id))
        report.results = [r.to_json() for r in outcome.results]
        if not outcome.ok:
            why = next(r.message for r in outcome.results if not r.ok)
            return _end(report, say, CheckStatus.FAILED, f"Failed: {outcome.summary} {why}")
        say(f"Sent: {outcome.summary}")
        if token is None and sandbox is None:
            return _end(report, say, CheckStatus.NOT_CONFIRMED, NO_TOKEN)
        return _confirm(args, report, say, outcome, target, started, token, sandbox, secrets)


def _token(args: argparse.Namespace, secrets: list[str]) -> tuple[str, str] | None:
    """The token, or None when none is given or stored (then the check ends unconfirmed)."""
    from app.cli_token import NoToken, stored_token

    try:
        return stored_token(secrets, args.token_fd)
    except NoToken:
        return None


def _send(
    args: argparse.Namespace, target: Target, conversation: Conversation, visitor: Visitor
) -> SendOutcome:
    from app.sending import send_test_events

    return send_test_events(
        target,
        conversation.events(),
        visitor,
        conversation_id=conversation.conversation_id,
        batch=True,  # one request, as the official libraries send
        deadline=args.timeout,
        to_destinations=not args.no_destinations,
    )


def _confirm(
    args: argparse.Namespace,
    report: CheckReport,
    say: _Say,
    outcome: SendOutcome,
    target: Target,
    started: datetime,
    token: tuple[str, str] | None,
    sandbox: Sandbox | None,
    secrets: list[str],
) -> CheckStatus:
    from app.cli_token import open_api
    from app.proof.arrival import DEFAULT_WAIT, Delivered, Verdict, confirm_arrival
    from app.proof.key_owner import find_key_owner
    from app.segment.public_api.errors import ApiErrorKind, PublicApiError

    ended = datetime.now(UTC)
    accepted = Counter(result.event for result in outcome.results if result.ok)
    try:
        access = open_api(args, secrets, sandbox, token)
        workspace = access.check.workspace.name
        say(f"Asking the Public API of workspace {workspace} (token from {access.origin}).")
        with access.client() as client:
            owner = report.owner = find_key_owner(client, target.write_key)
            say(owner.describe())
            if owner.source is None or not owner.is_chatlio:
                return _end(report, say, CheckStatus.FAILED, f"Failed: {owner.describe()}")
            delivered = Delivered(
                owner.source.id, owner.source.name, dict(accepted), started, ended
            )
            confirmation = report.confirmation = confirm_arrival(
                client, delivered, wait=args.wait or DEFAULT_WAIT
            )
    except PublicApiError as exc:
        if not args.json:
            say_api_error(exc, args.verbose)
        refused = exc.kind is ApiErrorKind.UNAUTHORIZED
        status = CheckStatus.USAGE if refused else CheckStatus.NOT_CONFIRMED
        return _end(report, say, status, f"Not confirmed: {exc.sentence}", said=True)
    words = " ".join(filter(None, (confirmation.headline, confirmation.detail)))
    if confirmation.verdict is Verdict.CONFIRMED:
        return _end(report, say, CheckStatus.CONFIRMED, words)
    if confirmation.verdict is Verdict.DISCARDED:
        return _end(report, say, CheckStatus.FAILED, words)
    return _end(report, say, CheckStatus.NOT_CONFIRMED, words)


def _end(
    report: CheckReport, say: _Say, status: CheckStatus, message: str, *, said: bool = False
) -> CheckStatus:
    report.status, report.message = status, message
    if not said:
        say(message)
    return status
