"""Run blocking work (network, keyring) off the GUI thread and hand the outcome back on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot

T = TypeVar("T")
log = logging.getLogger(__name__)

# Relays waiting for their thread; kept here so Python does not collect them mid-flight.
_pending: set[_Relay] = set()


class _Relay(QObject):
    """Lives on the GUI thread; worker threads emit, Qt queues the call onto the GUI thread.

    Signals: finished(ok, value), progress(value).
    """

    finished = Signal(bool, object)
    progress = Signal(object)

    def __init__(
        self,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None,
        on_progress: Callable[[Any], None] | None,
        owner: QObject | None,
    ) -> None:
        super().__init__()
        self._on_success, self._on_failure, self._on_progress = on_success, on_failure, on_progress
        self._owner = owner
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self.progress.connect(self._report, Qt.ConnectionType.QueuedConnection)

    def _owner_gone(self) -> bool:
        """The widget that asked for the work was closed and deleted meanwhile."""
        return self._owner is not None and not shiboken6.isValid(self._owner)

    @Slot(bool, object)
    def _deliver(self, ok: bool, value: object) -> None:
        _pending.discard(self)
        if self._owner_gone():
            return
        if ok:
            self._on_success(value)
        elif self._on_failure is not None:
            self._on_failure(value)  # type: ignore[arg-type]
        else:
            log.error("Background task failed", exc_info=value)  # type: ignore[arg-type]

    @Slot(object)
    def _report(self, value: object) -> None:
        if self._on_progress is not None and not self._owner_gone():
            self._on_progress(value)


def run_in_background(
    work: Callable[[Callable[[Any], None]], T],
    on_success: Callable[[T], None],
    on_failure: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[Any], None] | None = None,
    name: str = "background",
    owner: QObject | None = None,
) -> None:
    """Call `work(report)` on a daemon thread; callbacks run later on the GUI thread.

    `report(value)` may be called from the worker to deliver `on_progress(value)` on the GUI
    thread. Daemon threads, because a hung keyring call must never keep the app from quitting.
    With an `owner`, nothing is delivered once Qt has deleted it (its window was closed).
    """
    relay = _Relay(on_success, on_failure, on_progress, owner)
    _pending.add(relay)

    def run() -> None:
        try:
            value = work(relay.progress.emit)
        except BaseException as exc:  # noqa: BLE001 - delivered to on_failure on the GUI thread
            relay.finished.emit(False, exc)
        else:
            relay.finished.emit(True, value)

    threading.Thread(target=run, name=name, daemon=True).start()
