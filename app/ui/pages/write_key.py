"""Segment's step 4: the source's write key, saved to the keyring or held for this session."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QFrame, QWidget

from app.ui.browser import LinkButton
from app.ui.draft import HeldKey, SetupDraft
from app.ui.key_entry import KeyEntry
from app.ui.page_kit import Page, text_label
from app.ui.session import Session


class WriteKeyPage(Page):
    """The key goes into the draft when saved or held; "Save to keyring" acts at once."""

    help_topic = "write_key"

    def __init__(self, session: Session, draft: SetupDraft) -> None:
        super().__init__(
            draft,
            "Keep the source's write key",
            "Copy the write key from the new source in Segment and keep it here; it never "
            "goes into a settings file.",
        )
        self._keys = LinkButton(
            "Open the source's &API keys page",
            lambda: self._source_url("settings/keys"),
            "Open the source's API keys page in Segment",
            "open_keys",
        )
        keys_help = text_label(
            "In Segment the key is under the source's Settings → API Keys (older workspaces "
            "show it on the source's Overview page)."
        )
        self._entry = KeyEntry(session, lambda: draft.source_name.strip() or "Chatlio")
        self._sandbox = QCheckBox("&Try it without a Segment account (built-in sandbox)")
        self._sandbox.setObjectName("sandbox")
        self._sandbox.setAccessibleName("Try it without a Segment account, in the sandbox")
        sandbox_help = text_label(
            "Test events then go to a Segment-like receiver on this computer and nothing "
            "reaches Segment, so the write key is optional."
        )
        sandbox_help.setIndent(24)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        self.body.addWidget(self._keys)
        self.body.addWidget(keys_help)
        self.body.addSpacing(8)
        self.body.addWidget(self._entry)
        self.body.addSpacing(8)
        self.body.addWidget(line)
        self.body.addWidget(self._sandbox)
        self.body.addWidget(sandbox_help)
        self.body.addStretch(1)

        self._entry.held.connect(self.on_entry_held)
        self._entry.changed.connect(self.on_entry_changed)
        self._sandbox.toggled.connect(self.on_sandbox_toggled)

    def initializePage(self) -> None:
        self._entry.set_held(self._draft.key)
        self._sandbox.blockSignals(True)
        self._sandbox.setChecked(self._draft.sandbox)
        self._sandbox.blockSignals(False)
        self._entry.set_optional(self._draft.sandbox)

    def isComplete(self) -> bool:
        if self._entry.is_saving():
            return False
        return self._draft.sandbox or self._entry.current() is not None

    def validatePage(self) -> bool:
        self._entry.edit.hide_secret()
        return self.isComplete()

    def cleanupPage(self) -> None:
        self._entry.edit.hide_secret()  # Back hides the key again

    def first_focus(self) -> QWidget | None:
        return self._entry.edit if not self.isComplete() else None

    @Slot(object)
    def on_entry_held(self, held: HeldKey) -> None:
        self._draft.key = held
        self.on_entry_changed()

    @Slot()
    def on_entry_changed(self) -> None:
        self._draft.typed_key = self._entry.has_unused_text()
        self.completeChanged.emit()

    @Slot(bool)
    def on_sandbox_toggled(self, on: bool) -> None:
        self._draft.sandbox = on
        self._entry.set_optional(on)
        self.completeChanged.emit()
