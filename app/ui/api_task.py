"""One Public API call at a time, off the GUI thread: a busy bar, what it is doing, and Cancel."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.segment.cancel import CancelToken
from app.ui.worker import run_in_background

T = TypeVar("T")
log = logging.getLogger(__name__)

# Said when something other than a Public API error ended a call (a bug): never its text,
# which might quote a secret.
UNEXPECTED = "Something went wrong in the app while asking Segment. Try again."


def failure_sentence(error: BaseException) -> str:
    """What to tell the user about a failed call, in plain words (never a traceback)."""
    from app.segment.public_api.errors import PublicApiError

    if isinstance(error, PublicApiError):
        return error.sentence
    message = getattr(error, "message", None)  # KeystoreUnavailable's sentence
    if isinstance(message, str) and message:
        return message
    log.warning("A Public API task failed (%s)", type(error).__name__)
    return UNEXPECTED


class ApiTask(QWidget):
    """Hidden until `start`; then a busy bar, the sentence and Cancel until the call ends.

    A cancelled call's answer is dropped (the call itself is asked to stop). Signals:
    running_changed(bool) — a call started or ended (pages gate Next on it).
    """

    running_changed = Signal(bool)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._generation = 0
        self._cancel_token: CancelToken | None = None
        self._on_cancelled: Callable[[], None] | None = None
        self._focus_after: QWidget | None = None
        self._bar = QProgressBar()
        self._bar.setRange(0, 0)
        self._bar.setMaximumWidth(120)
        self._label = QLabel()
        self._label.setObjectName(f"{name}_text")
        self._label.setWordWrap(True)
        self._cancel = QPushButton("Cancel")
        self._cancel.setObjectName(f"{name}_cancel")
        self._cancel.setAutoDefault(False)
        self._cancel.setAccessibleName("Cancel this request to Segment")
        self._cancel.clicked.connect(self.on_cancel_clicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._bar)
        row.addWidget(self._label, 1)
        row.addWidget(self._cancel)
        self.hide()

    def is_running(self) -> bool:
        return self._cancel_token is not None

    def text(self) -> str:
        return self._label.text()

    def start(
        self,
        text: str,
        work: Callable[[CancelToken], T],
        on_done: Callable[[T], None],
        on_failed: Callable[[BaseException], None],
        on_cancelled: Callable[[], None] | None = None,
        focus_after: QWidget | None = None,
    ) -> None:
        """Run `work(cancel)` on a worker thread; `on_done` / `on_failed` get its outcome on
        the GUI thread, unless Cancel was pressed first (then `on_cancelled`).

        With `focus_after` (a call the user started from a button that turns off meanwhile),
        Cancel takes the focus while it runs, and `focus_after` gets it when it ends.
        """
        if self._cancel_token is not None:
            self._cancel_token.cancel()
        self._generation += 1
        generation = self._generation
        cancel = CancelToken()
        self._cancel_token, self._on_cancelled = cancel, on_cancelled
        self._focus_after = focus_after
        self._label.setText(text)
        self._bar.setAccessibleName(text)
        self.show()
        if focus_after is not None:
            self._cancel.setFocus()
        self.running_changed.emit(True)

        def done(value: T) -> None:
            if self._finish(generation):
                on_done(value)

        def failed(error: BaseException) -> None:
            if self._finish(generation):
                on_failed(error)

        run_in_background(
            lambda _report: work(cancel), done, failed, name=self.objectName(), owner=self
        )

    def _finish(self, generation: int) -> bool:
        """The call of `generation` ended: whether its outcome still matters."""
        if generation != self._generation or self._cancel_token is None:
            return False
        self._cancel_token = None
        self.running_changed.emit(False)  # first: what the focus goes to may turn on now
        self._hide()
        return True

    def _hide(self) -> None:
        """Hidden; the focus, if Cancel had it, goes where the caller asked (not just on)."""
        target, self._focus_after = self._focus_after, None
        had_focus = self._cancel.hasFocus()
        self.hide()
        if had_focus and target is not None and target.isVisible() and target.isEnabled():
            target.setFocus()

    @Slot()
    def on_cancel_clicked(self) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Stop the running call, if any; its answer is dropped."""
        token, callback = self._cancel_token, self._on_cancelled
        if token is None:
            return
        token.cancel()
        self._generation += 1
        self._cancel_token = None
        self.running_changed.emit(False)
        self._hide()
        if callback is not None:
            callback()
