"""Taking a write key: the field, its format check, "Save to keyring" and "Use for this session
only". Shared by the wizard's write key page and the main window's key dialog."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.key_storage import SESSION_LOCATION, KeyStorage
from app.keystore import (
    CheckedKey,
    InvalidWriteKey,
    KeystoreUnavailable,
    SaveResult,
    check_write_key,
)
from app.redaction import mask
from app.ui.draft import HeldKey
from app.ui.page_kit import Kind, Notice
from app.ui.secret_edit import SecretLineEdit
from app.ui.session import Session
from app.ui.worker import run_in_background

log = logging.getLogger(__name__)


def make_button(text: str, accessible_name: str, name: str) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(accessible_name)
    button.setObjectName(name)
    return button


class KeyEntry(QWidget):
    """The write key field with Save to keyring (immediate, off the GUI thread) and session-only.

    `source_name()` says which source the key is for (the wizard's draft, or the session's).
    Signals: held(HeldKey) — the user saved the key or chose to use it for this session;
    changed() — completeness, busy state or the text changed.
    """

    held = Signal(object)
    changed = Signal()

    def __init__(
        self,
        session: Session,
        source_name: Callable[[], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._source_name = source_name or (lambda: session.source_name)
        self._held: HeldKey | None = None
        self._failure: str | None = None
        self._saving = False
        self._optional = False

        self.edit = SecretLineEdit("write key")
        self.edit.setObjectName("write_key")
        self.edit.setAccessibleName("Segment write key")
        self.edit.setAccessibleDescription("Normally 32 letters and digits")
        self.edit.name_buttons(show="show_key", paste="paste_key")
        self._check = Notice()
        self._check.setObjectName("key_check")
        self._save = make_button(
            "&Save to keyring", "Save the write key to the keyring", "save_key"
        )
        self._save.setToolTip(
            "Saves the key in your system's keyring right away; it stays there even if you "
            "leave setup."
        )
        self._session_only = make_button(
            "&Use for this session only",
            "Use the write key for this session only, without saving it",
            "session_only",
        )
        self._session_only.setToolTip("Keeps the key in memory until the app closes.")
        progress = QProgressBar()
        progress.setRange(0, 0)
        progress.setAccessibleName("Saving to the keyring")
        progress.setMaximumWidth(160)
        self._busy = QWidget()
        busy_row = QHBoxLayout(self._busy)
        busy_row.setContentsMargins(0, 0, 0, 0)
        busy_row.addWidget(progress)
        busy_row.addWidget(QLabel("Saving to the keyring… (it may ask you to unlock it)"), 1)
        self._busy.hide()
        self._status = Notice()
        self._status.setObjectName("key_status")

        label = QLabel("&Write key:")
        label.setBuddy(self.edit)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.addWidget(label, 0, 0)
        grid.addWidget(self.edit, 0, 1)
        grid.addWidget(self._check, 1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self._save)
        buttons.addWidget(self._session_only)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        layout.addWidget(self._busy)
        layout.addWidget(self._status)

        self.edit.textChanged.connect(self.refresh)
        self.edit.returnPressed.connect(self.on_edit_return_pressed)
        self.edit.paste_failed.connect(lambda text: self._check.show_message(Kind.ERROR, text))
        self._save.clicked.connect(self.on_save_clicked)
        self._session_only.clicked.connect(self.on_session_only_clicked)
        self.refresh()

    # --- state -------------------------------------------------------------------------------

    def set_held(self, held: HeldKey | None) -> None:
        """What is already held (from the session or the draft), without emitting `held`."""
        self._held = held
        self._failure = None
        self.refresh()

    def set_optional(self, optional: bool) -> None:
        """In sandbox mode the key is optional; the hints say so."""
        self._optional = optional
        self.refresh()

    def current(self) -> HeldKey | None:
        """The held key, if it is for the current source and the field asks for no other."""
        held = self._held
        if held is None:
            return None
        if held.storage is KeyStorage.KEYRING and held.source != self._source_name():
            return None
        checked = self._checked()
        if self.edit.text().strip() and (checked is None or checked.key != held.key):
            return None
        return held

    def is_saving(self) -> bool:
        return self._saving

    def has_unused_text(self) -> bool:
        """The field holds a key that is neither saved nor in use: leaving would lose it."""
        return bool(self.edit.text().strip()) and self.current() is None

    def _checked(self) -> CheckedKey | None:
        try:
            return check_write_key(self.edit.text())
        except InvalidWriteKey:
            return None

    @Slot()
    def refresh(self) -> None:
        """Buttons, the format check and the status line, from the state."""
        checked = self._refresh_check()
        can_store = checked is not None and not self._saving
        self._save.setEnabled(can_store)
        self._session_only.setEnabled(can_store)
        self.edit.paste_action.setEnabled(not self._saving)
        self.edit.setReadOnly(self._saving)
        self._busy.setVisible(self._saving)
        self._refresh_status()
        self.changed.emit()

    def _refresh_check(self) -> CheckedKey | None:
        text = self.edit.text()
        if not text.strip():
            if self._optional:
                self._check.show_message(Kind.INFO, "Optional when trying it without Segment.")
            else:
                self._check.show_message(
                    Kind.INFO, "A Segment write key is normally 32 letters and digits."
                )
            return None
        try:
            checked = check_write_key(text)
        except InvalidWriteKey as error:
            self._check.show_message(Kind.ERROR, str(error))
            return None
        if checked.warning:
            self._check.show_message(Kind.WARNING, checked.warning)
        else:
            self._check.show_message(Kind.OK, "The format is right: 32 letters and digits.")
        return checked

    def _refresh_status(self) -> None:
        held, source = self._held, self._source_name()
        if self._saving:
            self._status.clear()
        elif held is not None and self.current() is not None:
            if held.storage is KeyStorage.KEYRING:
                text = (
                    f"Saved in {held.location}: key {mask(held.key)}, for source “{source}”. "
                    "It stays there even if you leave setup."
                )
            else:
                text = (
                    f"Key {mask(held.key)} kept in memory for this session only: it is "
                    "forgotten when the app closes."
                )
            self._status.show_message(Kind.OK, text)
        elif self._failure is not None:
            self._status.show_message(Kind.WARNING, self._failure)
        elif held is not None and held.storage is KeyStorage.KEYRING and held.source != source:
            self._status.show_message(
                Kind.INFO,
                f"The source is now called “{source}”: save the key again so that it is "
                "stored under that name.",
            )
        elif held is not None:
            self._status.show_message(
                Kind.INFO, "You changed the key: save it, or use it for this session only."
            )
        else:
            self._status.clear()

    def _take(self, held: HeldKey) -> None:
        self._held = held
        self._failure = None
        self._session_only.setDefault(False)
        self.refresh()
        self.held.emit(held)

    # --- slots -------------------------------------------------------------------------------

    @Slot()
    def on_edit_return_pressed(self) -> None:
        # After a keyring failure Enter takes the default button, "Use for this session only".
        if self._session_only.isDefault():
            return
        if self._save.isEnabled() and self.current() is None:
            self.on_save_clicked()

    @Slot()
    def on_save_clicked(self) -> None:
        checked = self._checked()
        if checked is None or self._saving:
            return
        session, source, key = self._session, self._source_name(), checked.key
        self._saving = True
        self._failure = None
        self.refresh()
        run_in_background(
            lambda _report: session.keystore.save(source, key),
            lambda result: self._on_saved(source, key, result),
            self._on_save_failed,
            name="keyring-save",
            owner=self,
        )

    def _on_saved(self, source: str, key: str, result: SaveResult) -> None:
        self._saving = False
        self._take(HeldKey(source, key, KeyStorage.KEYRING, result.location))

    def _on_save_failed(self, error: BaseException) -> None:
        self._saving = False
        if isinstance(error, KeystoreUnavailable):
            message = error.message
        else:
            # Only the type: a stray exception's text might quote the key.
            log.warning("Saving the write key failed (%s)", type(error).__name__)
            message = "The key could not be saved in the keyring."
        self._failure = (
            f"{message}\n\nYou can use the key for this session only instead: it stays in "
            "memory and is forgotten when the app closes."
        )
        self.refresh()
        self._session_only.setDefault(True)
        self._session_only.setFocus()

    @Slot()
    def on_session_only_clicked(self) -> None:
        checked = self._checked()
        if checked is None or self._saving:
            return
        self._take(HeldKey(self._source_name(), checked.key, KeyStorage.SESSION, SESSION_LOCATION))
