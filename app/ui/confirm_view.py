"""The verdict box of the response view: Segment's count of the last send, while it is asked
for (with Cancel) and once it is known; without a token, what a 200 does not prove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.ui import confirm_words as words
from app.ui.confirm import ArrivalCheck, running_check

if TYPE_CHECKING:
    from app.proof.arrival import Confirmation
    from app.ui.session import SendRecord, Session

# How often the time waited moves on between Segment's answers.
TICK_MS = 1000
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's own "no limit" for a widget's size
OK_MARK, FAIL_MARK, STOP_MARK = "\u2714", "\u2716", "\u25a0"


def verdict_text(confirmation: Confirmation, sandbox: bool) -> tuple[str, str]:
    """The headline with its mark, and the detail: what to check, the per-minute caveat."""
    from app.proof.arrival import PER_MINUTE_CAVEAT, Verdict

    verdict = confirmation.verdict
    mark = {Verdict.CONFIRMED: OK_MARK, Verdict.CANCELLED: STOP_MARK}.get(verdict, FAIL_MARK)
    headline = confirmation.headline or _fallback_headline(confirmation)
    parts = [confirmation.detail.strip()] if confirmation.detail.strip() else []
    counted = verdict in (Verdict.CONFIRMED, Verdict.DISCARDED, Verdict.NOT_COUNTED)
    if counted and PER_MINUTE_CAVEAT not in confirmation.detail:
        parts.append(PER_MINUTE_CAVEAT)
    if sandbox and counted:
        parts.append(words.SANDBOX_NOTE)
    return f"{mark} {headline.rstrip('.')}.", "\n\n".join(parts)


def _fallback_headline(confirmation: Confirmation) -> str:
    return f"Segment counted {confirmation.counted} of {confirmation.expected} test events"


def _address(record: SendRecord) -> str | None:
    """Where the send's 200s came from; None when that was Segment itself."""
    from app.segment.endpoint import EU_HOST, US_HOST

    endpoint = next((r.endpoint for r in record.results if r.ok), "").rstrip("/")
    return None if endpoint in (US_HOST, EU_HOST) else endpoint


class ArrivalBox(QScrollArea):
    """Renders the session's last send's confirmation; hidden when there is nothing to say.

    As tall as its words, up to `set_height_cap` (then they scroll), so that the results
    below keep room in a small window. Re-renders on `session.changed` and on the running
    check's changed().
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("arrival")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not an empty Tab stop
        self._cap = QWIDGETSIZE_MAX
        self._session = session
        self._check: ArrivalCheck | None = None
        self._shown: tuple[str, str, bool | None, bool] | None = None

        self._headline = QLabel()
        self._headline.setObjectName("arrival_headline")
        self._headline.setAccessibleName("Segment's count")
        self._headline.setWordWrap(True)
        self._headline.setMinimumWidth(1)
        self._headline.setTextFormat(Qt.TextFormat.PlainText)
        self._headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self._headline.font()
        font.setBold(True)
        self._headline.setFont(font)
        self._detail = QLabel()
        self._detail.setObjectName("arrival_detail")
        self._detail.setAccessibleName("What Segment's count means")
        self._detail.setWordWrap(True)
        self._detail.setMinimumWidth(1)
        self._detail.setTextFormat(Qt.TextFormat.PlainText)
        self._detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._cancel = QPushButton("Cancel")
        self._cancel.setObjectName("cancel_confirm")
        self._cancel.setAccessibleName("Stop asking Segment for its count")
        self._cancel.clicked.connect(self.on_cancel_clicked)
        self._with_token = QPushButton("Confirm with a token…")
        self._with_token.setObjectName("confirm_with_token")
        self._with_token.setAccessibleName("Enter a Public API token and confirm this send")
        self._with_token.setAutoDefault(False)  # Enter keeps its meaning in the wizard
        self._with_token.clicked.connect(self.on_with_token_clicked)

        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.addWidget(self._headline)
        text.addWidget(self._detail)
        content = QWidget()
        layout = QHBoxLayout(content)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(text, 1)
        layout.addWidget(self._cancel, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._with_token, 0, Qt.AlignmentFlag.AlignTop)
        self.setWidget(content)

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.on_tick_timeout)
        session.changed.connect(self.on_session_changed)
        self.on_session_changed()

    # --- what others read -------------------------------------------------------------------

    def set_height_cap(self, pixels: int) -> None:
        """At most this tall; the words scroll beyond it."""
        self._cap = max(1, pixels)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit()

    def _fit(self) -> None:
        """The height the words need at this width (wrapped labels), within the cap."""
        content = self.widget()
        layout = content.layout() if content is not None else None
        if layout is None:
            return
        width = self.width() - 2 * self.frameWidth()
        needed = layout.heightForWidth(width) if layout.hasHeightForWidth() else -1
        if needed < 0:
            needed = layout.sizeHint().height()
        minimum = self._headline.fontMetrics().lineSpacing() * 2
        self.setFixedHeight(max(minimum, min(needed + 2 * self.frameWidth(), self._cap)))

    # --- slots ------------------------------------------------------------------------------

    @Slot()
    def on_session_changed(self) -> None:
        record = self._session.last_send
        self._follow(running_check(record))
        self._render(record)

    @Slot()
    def on_check_changed(self) -> None:
        if self._check is not None and not self._check.running:
            self._follow(None)
        self._render(self._session.last_send)

    @Slot()
    def on_tick_timeout(self) -> None:
        self._render(self._session.last_send)

    @Slot()
    def on_cancel_clicked(self) -> None:
        if self._check is not None:
            self._check.cancel()

    @Slot()
    def on_with_token_clicked(self) -> None:
        from app.ui.token_entry import TokenDialog  # imports the Public API's words

        dialog = TokenDialog.open_for(self._session, self.window())
        dialog.entry.taken.connect(self.on_token_taken)

    @Slot(object)
    def on_token_taken(self, _check: object) -> None:
        """The send just made is confirmed with the token, as if it had been there before."""
        from app.ui.confirm import confirm_after_send

        record = self._session.last_send
        if record is not None and record.ended and record.started_at is not None:
            confirm_after_send(self._session, record, record.started_at)

    # --- rendering --------------------------------------------------------------------------

    def _follow(self, check: ArrivalCheck | None) -> None:
        if check is self._check:
            return
        old, self._check = self._check, check
        if old is not None:
            old.changed.disconnect(self.on_check_changed)
            old.release(self)
        if check is not None:
            check.changed.connect(self.on_check_changed)
            check.watch(self)
            self._tick.start()
        else:
            self._tick.stop()

    def _render(self, record: SendRecord | None) -> None:
        check = self._check
        if check is not None:
            self._put(check.status_text(), self._running_detail(check), check.stoppable)
        elif record is not None and record.confirmation is not None:
            self._put(*verdict_text(record.confirmation, record.sandbox), cancel=None)
        elif record is not None and self._asks_for_token(record):
            self._put(*words.unproven(_address(record)), cancel=None, token=True)
        else:
            self._shown = None
            self.hide()

    def _running_detail(self, check: ArrivalCheck) -> str:
        when = (
            "The sandbox counts events as they arrive, and the app asks every few seconds."
            if check.sandbox
            else "Segment counts events about half a minute after they arrive."
        )
        return f"{when} You can go on meanwhile: the verdict appears here."

    def _asks_for_token(self, record: SendRecord) -> bool:
        return (
            record.ended
            and not record.sandbox
            and not self._session.has_token
            and any(result.ok for result in record.results)
        )

    def _put(self, headline: str, detail: str, cancel: bool | None, *, token: bool = False) -> None:
        """`cancel`: None hides Cancel, False shows it off (stopping), True on; `token` offers
        to confirm with a token."""
        shown = (headline, detail, cancel, token)
        if shown != self._shown:  # changed() comes often; setText lays the labels out again
            self._shown = shown
            self._headline.setText(headline)
            self._detail.setText(detail)
            self._detail.setVisible(bool(detail))
            self._cancel.setVisible(cancel is not None)
            self._cancel.setEnabled(bool(cancel))
            self._with_token.setVisible(token)
            self.show()
            self._fit()
        self.show()
