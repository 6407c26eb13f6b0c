"""`send --confirm`: after a send, wait for Segment's own count of the events it accepted."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from app.cli_support import UsageError, say_api_error
from app.cli_token import open_api, stored_token
from app.exit_codes import ExitCode
from app.redaction import printable
from app.segment.endpoint import Region

if TYPE_CHECKING:
    from app.proof.arrival import ArrivalProgress, Confirmation
    from app.proof.key_owner import KeyOwner
    from app.segment.sandbox import Sandbox
    from app.sending import SendOutcome, Target


def prepare(args: argparse.Namespace, secrets: list[str]) -> tuple[str, str] | None:
    """Before anything is sent: the token --confirm will use (None with --sandbox).

    A missing token is a usage error now, not after the events went out.
    """
    if args.sandbox:
        if args.api_endpoint is not None:
            raise UsageError(
                "--api-endpoint cannot be used with --sandbox: the sandbox answers the Public "
                "API itself."
            )
        return None
    return stored_token(secrets)


class Confirm:
    """Confirms one send and reports it: for a person on stdout (progress on a terminal's
    stderr), or as one last JSON line `{"confirmation": …, "source": …}`. Once run() has
    ended, `confirmation` holds the count as reported (None if it was interrupted)."""

    def __init__(self, args: argparse.Namespace, out: TextIO, secrets: list[str]) -> None:
        self._args, self._out, self._secrets = args, out, secrets
        self._json = bool(args.json)
        self._progress = not self._json and sys.stderr.isatty()
        self._owner: KeyOwner | None = None
        self.confirmation: Confirmation | None = None

    def run(
        self,
        outcome: SendOutcome,
        target: Target,
        started: datetime,
        token: tuple[str, str] | None,
        sandbox: Sandbox | None,
    ) -> ExitCode:
        """Find the key's source, then wait for Segment's count; the exit status says how."""
        from app.proof.arrival import DEFAULT_WAIT, Delivered, confirm_arrival
        from app.proof.key_owner import find_key_owner
        from app.segment.cancel import CancelToken
        from app.segment.public_api.errors import PublicApiError

        ended = datetime.now(UTC)
        accepted = Counter(result.event for result in outcome.results if result.ok)
        expected = sum(accepted.values())
        if not expected:
            sentence = "Nothing to confirm: no event was accepted, so none can be counted."
            self._say(sentence)
            return self._end(_failed(0, sentence), said=True)
        self._say()
        cancel = CancelToken()
        try:
            access = open_api(self._args, self._secrets, sandbox, token)
            workspace = printable(access.check.workspace.name)
            api = "the sandbox's" if access.check.region is Region.LOCAL else "Segment's"
            self._say(f"Asking {api} Public API for workspace {workspace}.")
            with access.client(cancel) as client:
                owner = self._owner = find_key_owner(client, target.write_key)
                self._say(printable(owner.describe()))
                if owner.source is None:
                    return self._end(_failed(expected, owner.describe()), said=True)
                delivered = Delivered(
                    owner.source.id, owner.source.name, dict(accepted), started, ended
                )
                confirmation = confirm_arrival(
                    client,
                    delivered,
                    wait=self._args.wait or DEFAULT_WAIT,
                    cancel=cancel,
                    on_progress=self._on_progress if self._progress else None,
                )
        except PublicApiError as exc:
            self._clear_progress()
            say_api_error(exc, self._args.verbose)
            return self._end(_failed(expected, exc.sentence), said=True)
        except KeyboardInterrupt:
            cancel.cancel()  # a request still in flight on another thread gives up too
            self._clear_progress()
            raise
        self._clear_progress()
        return self._end(confirmation)

    def _end(self, confirmation: Confirmation, *, said: bool = False) -> ExitCode:
        """The verdict, unless `said` already (a failure reported as it happened)."""
        self.confirmation = confirmation
        owner = self._owner
        if self._json:
            line: dict[str, Any] = {"confirmation": confirmation.to_json(), "source": None}
            if owner is not None and owner.source is not None:
                source = owner.source
                line["source"] = {
                    "id": source.id,
                    "slug": source.slug,
                    "name": source.name,
                    "catalog": source.catalog.name,
                    "chatlio": source.is_chatlio,
                }
            print(json.dumps(line, ensure_ascii=True, separators=(",", ":")), file=self._out)
        elif not said:
            self._say(printable(confirmation.headline))
            if confirmation.detail:
                self._say(printable(confirmation.detail))
        chatlio = owner is not None and owner.is_chatlio
        if confirmation.confirmed and not chatlio:
            self._say("The events were counted, but not in a Chatlio source: see above.")
        return ExitCode.OK if confirmation.confirmed and chatlio else ExitCode.FAILED

    def _say(self, text: str = "") -> None:
        if not self._json:
            print(text, file=self._out, flush=True)

    def _on_progress(self, progress: ArrivalProgress) -> None:
        line = (
            f"Waiting for Segment's count: {progress.counted} of {progress.expected} counted "
            f"after {progress.waited_s:.0f} s (waiting up to {progress.wait_s:.0f} s)"
        )
        print(f"\r{line}\x1b[K", end="", file=sys.stderr, flush=True)

    def _clear_progress(self) -> None:
        if self._progress:
            print("\r\x1b[K", end="", file=sys.stderr, flush=True)


def _failed(expected: int, sentence: str) -> Confirmation:
    """What --json says when the Public API could not even be asked to count."""
    from app.proof.arrival import Confirmation, Verdict

    return Confirmation(Verdict.FAILED, expected, 0, headline=sentence)
