"""Segment's step 5: the key goes into Chatlio's Segment setting; the user ticks it off."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.segment import links
from app.ui.browser import LinkButton
from app.ui.draft import SetupDraft
from app.ui.page_kit import Kind, Notice, Page, text_label
from app.ui.secret_clipboard import SecretClipboard

CHECKLIST = (
    ("chatlio_opened", "&Opened Chatlio's settings", "Opened Chatlio's settings"),
    (
        "chatlio_pasted",
        "&Pasted the key into the Segment field near the bottom",
        "Pasted the key into the Segment field",
    ),
    ("chatlio_saved", "&Saved the settings in Chatlio", "Saved the settings in Chatlio"),
)


class ChatlioPage(Page):
    """Copy the key (cleared from the clipboard again), open Chatlio, tick the three steps."""

    help_topic = "chatlio"

    def __init__(self, draft: SetupDraft) -> None:
        super().__init__(
            draft,
            "Connect Chatlio",
            "Paste the write key into the Segment setting in Chatlio's dashboard, so that "
            "Chatlio sends its events to your new source.",
        )
        self._clipboard = SecretClipboard(self)
        self._clipboard.cleared.connect(self.on_clipboard_cleared)
        self._copy = QPushButton("&Copy the write key")
        self._copy.setObjectName("copy_key")
        self._copy.setAccessibleName("Copy the write key to the clipboard")
        self._copy_notice = Notice()
        self._copy_notice.setObjectName("copy_notice")
        self._dashboard = LinkButton(
            "Open Chatlio's &dashboard",
            lambda: links.CHATLIO_DASHBOARD,
            "Open Chatlio's dashboard",
            "open_dashboard",
        )
        steps = text_label(
            "Copy the key, open Chatlio's dashboard and go to its settings. Near the bottom is a "
            "field for Segment: paste the key into it, and save the settings."
        )
        group = QGroupBox("Tick each step when it is done")
        box = QVBoxLayout(group)
        self._ticks: list[QCheckBox] = []
        for name, text, accessible in CHECKLIST:
            tick = QCheckBox(text)
            tick.setObjectName(name)
            tick.setAccessibleName(accessible)
            tick.toggled.connect(self.on_tick_toggled)
            box.addWidget(tick)
            self._ticks.append(tick)
        self._sandbox_notice = Notice()
        self._sandbox_notice.setObjectName("sandbox_notice")

        copy_row = QHBoxLayout()
        copy_row.addWidget(self._copy)
        copy_row.addStretch(1)
        self.body.addWidget(self._sandbox_notice)
        self.body.addWidget(steps)
        self.body.addSpacing(8)
        self.body.addLayout(copy_row)
        self.body.addWidget(self._copy_notice)
        self.body.addSpacing(4)
        self.body.addWidget(self._dashboard)
        self.body.addSpacing(8)
        self.body.addWidget(group)
        self.body.addStretch(1)
        self._copy.clicked.connect(self.on_copy_clicked)

    def _key(self) -> str | None:
        held = self._draft.key
        return None if self._draft.sandbox or held is None else held.key

    def initializePage(self) -> None:
        sandbox = self._draft.sandbox
        for tick in self._ticks:
            tick.setChecked(tick.objectName() in self._draft.chatlio_done)
        if sandbox:
            self._sandbox_notice.show_message(
                Kind.INFO,
                "You are trying it without Segment. Chatlio can only send to a real Segment "
                "source, so skip this step for now and come back to it once you have one: Next "
                "is available.",
            )
        else:
            self._sandbox_notice.clear()
        self._copy.setEnabled(self._key() is not None)
        if sandbox:
            self._copy_notice.show_message(
                Kind.INFO, "Copying is off: without Segment there is no write key to copy."
            )
        elif self._key() is None:
            self._copy_notice.show_message(
                Kind.WARNING, "No write key is held yet: go back to the write key step."
            )
        elif not self._clipboard.is_pending():
            self._copy_notice.clear()

    def isComplete(self) -> bool:
        return self._draft.sandbox or all(tick.isChecked() for tick in self._ticks)

    def first_focus(self) -> QWidget | None:
        return self._copy if self._copy.isEnabled() and not self.isComplete() else None

    @property
    def clear_clipboard_after_ms(self) -> int:
        return self._clipboard.clear_after_ms

    @clear_clipboard_after_ms.setter
    def clear_clipboard_after_ms(self, value: int) -> None:
        self._clipboard.clear_after_ms = value

    @Slot()
    def on_copy_clicked(self) -> None:
        key = self._key()
        if key is None:
            return
        self._clipboard.copy(key)
        self._copy_notice.show_message(
            Kind.OK,
            f"Copied. The clipboard is cleared again in {self._clipboard.seconds} seconds if it "
            "still holds the key.",
        )

    def clear_clipboard(self) -> None:
        """Clear the clipboard now if it still holds the key copied from here."""
        if not self._clipboard.clear_now():
            self._copy_notice.clear()

    @Slot()
    def on_tick_toggled(self) -> None:
        self._draft.chatlio_done = frozenset(t.objectName() for t in self._ticks if t.isChecked())
        self.completeChanged.emit()

    @Slot()
    def on_clipboard_cleared(self) -> None:
        self._copy_notice.show_message(
            Kind.INFO, "The clipboard was cleared. Copy the key again if you still need it."
        )
