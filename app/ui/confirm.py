"""Confirming arrival off the GUI thread: after a send, Segment's own count of it, with progress
and Cancel; the verdict is kept on the send's record, so every view of that send shows it."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from app.ui import confirm_words as words
from app.ui.worker import run_in_background

if TYPE_CHECKING:
    from app.proof.arrival import ArrivalProgress, Confirmation
    from app.proof.key_owner import KeyOwner
    from app.segment.cancel import CancelToken
    from app.ui.session import SendRecord, Session

log = logging.getLogger(__name__)

# After Cancel, how long to wait for the worker's own answer before the check ends without it.
ABANDON_AFTER_MS = 500

# The checks still running, by their record (a check holds its record, so the id is stable).
_running: dict[int, ArrivalCheck] = {}


class Pacing:
    """How long to wait for Segment's count, and how often to ask.

    None means the core's defaults (app.proof.arrival: three minutes, every five seconds);
    tests pass short ones.
    """

    def __init__(self, wait: float | None = None, poll_every: float | None = None) -> None:
        self.wait = wait
        self.poll_every = poll_every

    def __repr__(self) -> str:
        return f"Pacing(wait={self.wait}, poll_every={self.poll_every})"


class Phase(Enum):
    FINDING = "finding"  # which source the key belongs to
    COUNTING = "counting"  # polling Segment's count
    STOPPING = "stopping"  # Cancel pressed, the worker not back yet
    ENDED = "ended"  # the record has its confirmation


class ArrivalCheck(QObject):
    """One send's confirmation while it runs; lives on the GUI thread.

    Views show it while it runs (`watch`); when none is left (their windows were closed, or
    they moved on to a newer send), it stops. Signals: changed() — progress or the verdict.
    """

    changed = Signal()

    def __init__(
        self,
        session: Session,
        record: SendRecord,
        per_event: dict[str, int],
        started: datetime,
        pacing: Pacing,
    ) -> None:
        super().__init__()
        self.session = session
        self.record = record
        self.sandbox = record.sandbox
        self.expected = sum(per_event.values())
        self.phase = Phase.FINDING
        self.progress: ArrivalProgress | None = None
        self.reported_at = 0.0
        self._per_event = per_event
        self._started = started
        self._pacing = pacing
        self._cancel: CancelToken | None = None
        self._watchers: set[int] = set()

    def __repr__(self) -> str:
        return f"ArrivalCheck(phase={self.phase.value}, expected={self.expected})"

    # --- what views read ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.phase is not Phase.ENDED

    @property
    def stoppable(self) -> bool:
        return self.phase in (Phase.FINDING, Phase.COUNTING)

    def status_text(self) -> str:
        """One line for the view: what is being asked, how far the count has got."""
        if self.phase is Phase.FINDING:
            return words.finding_text(self.sandbox)
        if self.phase is Phase.STOPPING:
            return words.stopping_text(self.sandbox)
        elapsed = time.monotonic() - self.reported_at if self.progress is not None else 0.0
        return words.counting_text(self.progress, elapsed, self.sandbox)

    # --- watching ---------------------------------------------------------------------------

    def watch(self, view: QObject) -> None:
        """`view` shows this check until `release` or until Qt deletes it."""
        key = id(view)
        if key not in self._watchers:
            self._watchers.add(key)
            view.destroyed.connect(lambda _=None, key=key: self._forget(key))

    def release(self, view: QObject) -> None:
        self._forget(id(view))

    def _forget(self, key: int) -> None:
        if key in self._watchers:
            self._watchers.discard(key)
            if not shiboken6.isValid(self):
                return  # the app is quitting: Qt took this check down before the view
            # Next turn: a window closing as another opens (the wizard's Finish) hands over.
            QTimer.singleShot(0, self, self._stop_if_unwatched)

    def _stop_if_unwatched(self) -> None:
        if not self._watchers and self.running:
            self.cancel()

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        from app.segment.cancel import CancelToken

        session, cancel = self.session, CancelToken()
        self._cancel = cancel
        key = session.write_key()
        known = None if session.use_sandbox else session.key_owner
        per_event, started, ended = dict(self._per_event), self._started, datetime.now(UTC)
        wait, poll_every = self._pacing.wait, self._pacing.poll_every
        sandbox = session.use_sandbox

        def work(report: Any) -> tuple[KeyOwner, Confirmation | None]:
            # Imported here, on the worker: the Public API client pulls in httpx.
            from app.proof.arrival import Delivered, confirm_arrival
            from app.proof.key_owner import find_key_owner

            if sandbox and session.running_sandbox() is None:
                raise LookupError("the sandbox was stopped")  # its window closed meanwhile
            if key is None:
                raise LookupError("no write key")
            with session.api_client(cancel) as client:
                owner = known or find_key_owner(client, key)
                report(owner)
                if owner.source is None or not owner.is_chatlio:
                    return owner, None
                delivered = Delivered(owner.source.id, owner.source.name, per_event, started, ended)
                options: dict[str, float] = {}
                if wait is not None:
                    options["wait"] = wait
                if poll_every is not None:
                    options["poll_every"] = poll_every
                confirmation = confirm_arrival(
                    client, delivered, cancel=cancel, on_progress=report, **options
                )
                return owner, confirmation

        run_in_background(
            work,
            lambda outcome: self._on_done(cancel, outcome, key),
            lambda error: self._on_failed(cancel, error),
            lambda value: self._on_report(cancel, value, key),
            name="confirm",
            owner=self,
        )

    def cancel(self) -> None:
        """Stop asking: at once if the worker answers promptly, else ABANDON_AFTER_MS later."""
        cancel = self._cancel
        if cancel is None or cancel.cancelled or not self.stoppable:
            return
        cancel.cancel()
        self.phase = Phase.STOPPING
        self.changed.emit()
        QTimer.singleShot(ABANDON_AFTER_MS, self, lambda: self._abandon(cancel))

    def _abandon(self, cancel: CancelToken) -> None:
        if cancel is self._cancel and self.running:
            self._end(words.stopped(self.expected, self.sandbox, late=True))

    def _on_report(self, cancel: CancelToken, value: object, key: str | None) -> None:
        from app.proof.arrival import ArrivalProgress

        if cancel is not self._cancel or not self.stoppable:
            return
        if isinstance(value, ArrivalProgress):
            self.progress, self.reported_at = value, time.monotonic()
        else:
            self._remember_owner(value, key)
        self.phase = Phase.COUNTING
        self.changed.emit()

    def _remember_owner(self, owner: object, key: str | None) -> None:
        """A real key's source, for the views that show it; never the sandbox's."""
        from app.proof.key_owner import KeyOwner

        session = self.session
        if (
            isinstance(owner, KeyOwner)
            and not session.use_sandbox
            and not self.sandbox
            and session.key_owner is None
            and session.write_key() == key
        ):
            session.key_owner = owner

    def _on_done(
        self, cancel: CancelToken, outcome: tuple[KeyOwner, Confirmation | None], key: str | None
    ) -> None:
        if cancel is not self._cancel or not self.running:
            return
        owner, confirmation = outcome
        self._remember_owner(owner, key)
        if confirmation is None:
            confirmation = words.not_asked(owner, self.expected, self.sandbox)
        self._end(confirmation)

    def _on_failed(self, cancel: CancelToken, error: BaseException) -> None:
        if cancel is not self._cancel or not self.running:
            return
        from app.segment.public_api.errors import PublicApiError

        if cancel.cancelled:
            self._end(words.stopped(self.expected, self.sandbox))
            return
        if not isinstance(error, PublicApiError | LookupError):
            log.error("Confirming arrival stopped: %s", type(error).__name__)
        self._end(words.could_not_ask(error, self.expected, self.sandbox))

    def _end(self, confirmation: Confirmation) -> None:
        self.phase = Phase.ENDED
        self.record.confirmation = confirmation
        self.session.keep_confirmation(self.record)
        if _running.get(id(self.record)) is self:
            del _running[id(self.record)]
        self.changed.emit()
        self.session.changed.emit()  # views that came after the check started follow too


def running_check(record: SendRecord | None) -> ArrivalCheck | None:
    """The check still running for `record`, if any."""
    if record is None:
        return None
    check = _running.get(id(record))
    return check if check is not None and check.record is record else None


def confirm_after_send(
    session: Session, record: SendRecord, started: datetime, pacing: Pacing | None = None
) -> ArrivalCheck | None:
    """Start confirming `record`'s events that got a 200, when a token is held (the sandbox
    always answers). None when there is nothing to confirm or no token; views say why."""
    per_event = Counter(result.event for result in record.results if result.ok)
    if not per_event or not session.has_token or running_check(record) is not None:
        return None
    record.confirmation = None
    check = ArrivalCheck(session, record, dict(per_event), started, pacing or Pacing())
    _running[id(record)] = check
    check.start()
    session.changed.emit()  # the views find the check and watch it
    return check
