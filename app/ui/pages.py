"""The setup wizard's pages: one per stage of Segment's documented Chatlio setup."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from app.key_storage import KeyStorage
from app.keystore import (
    SESSION_LOCATION,
    CheckedKey,
    InvalidWriteKey,
    KeystoreUnavailable,
    SaveResult,
    check_write_key,
)
from app.redaction import mask
from app.segment import links, warehouse
from app.ui.browser import LinkButton
from app.ui.page_kit import (
    REGION_NAMES,
    Kind,
    Notice,
    Page,
    text_label,
)
from app.ui.secret_clipboard import SecretClipboard
from app.ui.session import Session
from app.ui.worker import run_in_background

log = logging.getLogger(__name__)

SANDBOX_LOCATION = "built-in sandbox (no key)"


def make_button(text: str, accessible_name: str, name: str) -> QPushButton:
    button = QPushButton(text)
    button.setAccessibleName(accessible_name)
    button.setObjectName(name)
    return button


def make_grid() -> QGridLayout:
    grid = QGridLayout()
    grid.setColumnStretch(1, 1)
    return grid


def add_field(
    grid: QGridLayout,
    row: int,
    text: str,
    field: QWidget | QLayout,
    *below: QWidget,
    buddy: QWidget | None = None,
) -> None:
    """A label and its field on `row`, and under the field the widgets `below`, one a row."""
    label = QLabel(text)
    target = buddy if buddy is not None else field if isinstance(field, QWidget) else None
    if target is not None:
        label.setBuddy(target)
    grid.addWidget(label, row, 0)
    if isinstance(field, QWidget):
        grid.addWidget(field, row, 1)
    else:
        grid.addLayout(field, row, 1)
    for offset, widget in enumerate(below, start=1):
        grid.addWidget(widget, row + offset, 1)


def make_row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget)
    row.addStretch(1)
    return row


class EuWorkspacePage(Page):
    """The end of the road for an EU workspace: why, and what to do instead."""

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "Chatlio needs a US workspace",
            "Your workspace processes data in the EU, and Segment offers the Chatlio source "
            "only in US workspaces.",
        )
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Close")
        why = text_label(
            "<b>Why it stops here.</b> Segment lists Chatlio as a source only in workspaces "
            "whose data-processing region is the United States. An EU workspace cannot add a "
            "Chatlio source, and events sent to Segment's EU host never reach one.",
            rich=True,
        )
        what = text_label(
            "<b>What you can do instead</b><ul style='margin-top:0'>"
            "<li>Use a Segment workspace in the US region: create one, or ask your Segment "
            "administrator for access to one, then run this setup again.</li>"
            "<li>Ask Chatlio support or Segment support how to get Chatlio's events into "
            "your EU workspace.</li></ul>",
            rich=True,
        )
        back = text_label("If you chose EU by mistake, go back and choose again.")
        for widget in (why, what, back):
            self.body.addWidget(widget)
        self.body.addStretch(1)


# --- 2. the Chatlio source ------------------------------------------------------------------


class SourcePage(Page):
    """Segment's steps 1-3: open the catalog at Chatlio, add the source, name it."""

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "Create the Chatlio source in Segment",
            "In Segment: add a source, pick Chatlio from the catalog, and give it a name.",
        )
        self._slug_edit = QLineEdit()
        self._slug_edit.setObjectName("workspace_slug")
        self._slug_edit.setAccessibleName("Workspace slug or address (optional)")
        self._slug_edit.setPlaceholderText("acme-inc, or https://app.segment.com/acme-inc/…")
        self._slug_edit.setClearButtonEnabled(True)
        self._slug_notice = Notice()
        slug_help = text_label(
            "Optional. Paste the address of any page of your workspace, and the buttons in this "
            "assistant open pages inside it. Without it they open the workspace you are signed "
            "in to."
        )
        self._catalog = LinkButton(
            "&Open Segment's catalog at Chatlio",
            lambda: links.chatlio_catalog(self._valid_slug()),
            "Open Segment's sources catalog at Chatlio",
            "open_catalog",
        )
        catalog_help = text_label(
            "In the catalog, choose Chatlio and add it as a source, with the name below."
        )
        self._name_edit = QLineEdit()
        self._name_edit.setObjectName("source_name")
        self._name_edit.setAccessibleName("Source name")
        self._name_edit.setAccessibleDescription("The name you give the Chatlio source in Segment")
        self._schema = text_label("", rich=True)
        self._schema.setObjectName("schema_hint")

        grid = make_grid()
        add_field(grid, 0, "&Workspace:", self._slug_edit, self._slug_notice, slug_help)
        grid.setRowMinimumHeight(3, 8)
        grid.addWidget(self._catalog, 4, 0, 1, 2)
        grid.addWidget(catalog_help, 5, 0, 1, 2)
        grid.setRowMinimumHeight(6, 8)
        add_field(grid, 7, "&Source name:", self._name_edit, self._schema)
        self.body.addLayout(grid)
        self.body.addStretch(1)

        # Registered while empty: a mandatory field is complete once it differs from this.
        self.registerField("source_name*", self._name_edit)
        self.registerField("workspace_slug", self._slug_edit)
        self._slug_edit.textChanged.connect(self.on_slug_edit_text_changed)
        self._slug_edit.editingFinished.connect(self.on_slug_edit_editing_finished)
        self._name_edit.textChanged.connect(self.on_name_edit_text_changed)

    def _valid_slug(self) -> str | None:
        try:
            return links.normalize_workspace_slug(self._slug_edit.text())
        except ValueError:
            return None

    def _slug_ok(self) -> bool:
        try:
            links.normalize_workspace_slug(self._slug_edit.text())
        except ValueError:
            return False
        return True

    def initializePage(self) -> None:
        settings = self._session.settings
        self._name_edit.setText(settings.source_name)
        self._slug_edit.setText(settings.workspace_slug)
        self.on_name_edit_text_changed(self._name_edit.text())

    def isComplete(self) -> bool:
        return super().isComplete() and bool(self._name_edit.text().strip()) and self._slug_ok()

    def validatePage(self) -> bool:
        self._persist()
        return True

    def cleanupPage(self) -> None:
        # Going back keeps what was typed (QWizard would reset the fields).
        self._persist()

    def _persist(self) -> None:
        settings = self._session.settings
        name = self._name_edit.text().strip()
        if name:
            settings.source_name = name
        if self._slug_ok():
            settings.workspace_slug = self._valid_slug() or ""

    @Slot(str)
    def on_slug_edit_text_changed(self, text: str) -> None:
        try:
            slug = links.normalize_workspace_slug(text)
        except ValueError as error:
            self._slug_notice.show_message(Kind.ERROR, str(error))
        else:
            if slug is not None and slug != text.strip():
                self._slug_notice.show_message(Kind.OK, f"Workspace: {slug}")
            else:
                self._slug_notice.clear()
        self.completeChanged.emit()

    @Slot()
    def on_slug_edit_editing_finished(self) -> None:
        slug = self._valid_slug()
        if slug is not None and slug != self._slug_edit.text():
            self._slug_edit.setText(slug)

    @Slot(str)
    def on_name_edit_text_changed(self, text: str) -> None:
        schema = warehouse.schema_name(text)
        if schema:
            self._schema.setText(
                f"Warehouse schema: <b><code>{schema}</code></b>, as Segment will suggest it. "
                "Segment lets you change this in the warehouse's SQL settings."
            )
        else:
            self._schema.setText(
                "Type a name with letters or digits to see the warehouse schema it gives."
            )
        self.completeChanged.emit()


# --- 3. the write key -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Held:
    """The key the session holds, for which source, and where it is kept."""

    source: str
    key: str = field(repr=False)
    storage: KeyStorage
    location: str


class WriteKeyPage(Page):
    """Segment's step 4: the write key, saved to the keyring (off the GUI thread) or held."""

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "Keep the source's write key",
            "Copy the write key from the new source in Segment and keep it here; it never "
            "goes into a settings file.",
        )
        self._held: _Held | None = None
        self._failure: str | None = None
        self._saving = False

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
        self._key_edit = QLineEdit()
        self._key_edit.setObjectName("write_key")
        self._key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self._key_edit.setAccessibleName("Segment write key")
        self._key_edit.setAccessibleDescription("Normally 32 letters and digits")
        self._key_edit.setInputMethodHints(
            Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhNoAutoUppercase
        )
        self._show = make_button("S&how", "Show the write key", "show_key")
        self._show.setCheckable(True)
        self._paste = make_button("&Paste", "Paste the write key from the clipboard", "paste_key")
        self._check = Notice()
        self._check.setObjectName("key_check")

        self._save = make_button(
            "&Save to keyring", "Save the write key to the keyring", "save_key"
        )
        self._session_only = make_button(
            "&Use for this session only",
            "Use the write key for this session only, without saving it",
            "session_only",
        )
        self._progress = QProgressBar()
        self._progress.setRange(0, 0)
        self._progress.setAccessibleName("Saving to the keyring")
        self._progress.setMaximumWidth(160)
        self._busy_text = QLabel("Saving to the keyring…")
        self._busy = QWidget()
        busy_row = QHBoxLayout(self._busy)
        busy_row.setContentsMargins(0, 0, 0, 0)
        busy_row.addWidget(self._progress)
        busy_row.addWidget(self._busy_text, 1)
        self._busy.hide()
        self._status = Notice()
        self._status.setObjectName("key_status")

        self._sandbox = QCheckBox("&Try it without a Segment account (built-in sandbox)")
        self._sandbox.setObjectName("sandbox")
        self._sandbox.setAccessibleName("Try it without a Segment account, in the sandbox")
        sandbox_help = text_label(
            "Test events then go to a Segment-like receiver on this computer and nothing "
            "reaches Segment, so the write key is optional."
        )
        sandbox_help.setIndent(24)

        self.body.addWidget(self._keys)
        self.body.addWidget(keys_help)
        self.body.addSpacing(8)
        key_row = QHBoxLayout()
        key_row.addWidget(self._key_edit, 1)
        key_row.addWidget(self._show)
        key_row.addWidget(self._paste)
        grid = make_grid()
        add_field(grid, 0, "&Write key:", key_row, self._check, buddy=self._key_edit)
        self.body.addLayout(grid)
        self.body.addSpacing(6)
        self.body.addLayout(make_row(self._save, self._session_only))
        self.body.addWidget(self._busy)
        self.body.addWidget(self._status)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        self.body.addSpacing(8)
        self.body.addWidget(line)
        self.body.addWidget(self._sandbox)
        self.body.addWidget(sandbox_help)
        self.body.addStretch(1)

        self._key_edit.textChanged.connect(self.on_key_edit_text_changed)
        self._key_edit.returnPressed.connect(self.on_key_edit_return_pressed)
        self._show.toggled.connect(self.on_show_toggled)
        self._paste.clicked.connect(self.on_paste_clicked)
        self._save.clicked.connect(self.on_save_clicked)
        self._session_only.clicked.connect(self.on_session_only_clicked)
        self._sandbox.toggled.connect(self.on_sandbox_toggled)
        self._refresh()

    # -- state

    def _checked(self) -> CheckedKey | None:
        try:
            return check_write_key(self._key_edit.text())
        except InvalidWriteKey:
            return None

    def _held_ok(self) -> bool:
        """A key is held for the current source, and the field does not ask for another."""
        held = self._held
        if held is None:
            return False
        if held.storage is KeyStorage.KEYRING and held.source != self._session.source_name:
            return False
        checked = self._checked()
        return not self._key_edit.text().strip() or (
            checked is not None and checked.key == held.key
        )

    def isComplete(self) -> bool:
        return not self._saving and (self._session.use_sandbox or self._held_ok())

    def initializePage(self) -> None:
        session = self._session
        location = session.key_location
        key = session.write_key()
        held_key = None if self._held is None else self._held.key
        if location is not None and key is not None and key != held_key:
            storage = KeyStorage.SESSION if location == SESSION_LOCATION else KeyStorage.KEYRING
            self._held = _Held(session.source_name, key, storage, location)
        self._sandbox.blockSignals(True)
        self._sandbox.setChecked(session.use_sandbox)
        self._sandbox.blockSignals(False)
        self._refresh()

    def validatePage(self) -> bool:
        self._show.setChecked(False)
        return self.isComplete()

    def cleanupPage(self) -> None:
        # Hide the key again, and keep the rest (QWizard would reset fields).
        self._show.setChecked(False)

    def _refresh(self) -> None:
        """Buttons, the format check and the status line, from the page's state."""
        checked = self._refresh_check()
        can_store = checked is not None and not self._saving
        self._save.setEnabled(can_store)
        self._session_only.setEnabled(can_store)
        self._paste.setEnabled(not self._saving)
        self._key_edit.setReadOnly(self._saving)
        self._busy.setVisible(self._saving)
        self._refresh_status()
        self.completeChanged.emit()

    def _refresh_check(self) -> CheckedKey | None:
        text = self._key_edit.text()
        if not text.strip():
            if self._session.use_sandbox:
                self._check.show_message(Kind.INFO, "Optional in sandbox mode.")
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
        held, source = self._held, self._session.source_name
        if self._saving:
            self._status.clear()
        elif held is not None and self._held_ok():
            if held.storage is KeyStorage.KEYRING:
                text = f"Stored in {held.location}. Key {mask(held.key)}, for source “{source}”."
            else:
                text = f"Key {mask(held.key)} held in memory for {held.location}."
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

    def _hold(self, held: _Held) -> None:
        self._held = held
        self._failure = None
        self._session.set_key(held.key, held.location)
        self._session.settings.key_storage = self._storage_setting()
        self._session_only.setDefault(False)

    def _storage_setting(self) -> str:
        if self._session.use_sandbox:
            return KeyStorage.SANDBOX
        return self._held.storage if self._held is not None else ""

    # -- slots

    @Slot(str)
    def on_key_edit_text_changed(self, _text: str) -> None:
        self._refresh()

    @Slot()
    def on_key_edit_return_pressed(self) -> None:
        # After a keyring failure Enter takes the default button, "Use for this session only".
        blocked = self._session_only.isDefault()
        if self._save.isEnabled() and not self.isComplete() and not blocked:
            self.on_save_clicked()

    @Slot(bool)
    def on_show_toggled(self, shown: bool) -> None:
        self._key_edit.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        )
        self._show.setText("&Hide" if shown else "S&how")
        self._show.setAccessibleName("Hide the write key" if shown else "Show the write key")

    @Slot()
    def on_paste_clicked(self) -> None:
        text = QGuiApplication.clipboard().text().strip()
        if not text:
            self._check.show_message(
                Kind.ERROR, "The clipboard holds no text. Copy the write key in Segment first."
            )
            return
        self._key_edit.setText(text)
        self._key_edit.setFocus()

    @Slot()
    def on_save_clicked(self) -> None:
        checked = self._checked()
        if checked is None or self._saving:
            return
        session, source, key = self._session, self._session.source_name, checked.key
        self._saving = True
        self._failure = None
        self._refresh()
        run_in_background(
            lambda _report: session.keystore.save(source, key),
            lambda result: self._on_saved(source, key, result),
            self._on_save_failed,
            name="keyring-save",
            owner=self,
        )

    def _on_saved(self, source: str, key: str, result: SaveResult) -> None:
        self._saving = False
        self._hold(_Held(source, key, KeyStorage.KEYRING, result.location))
        self._refresh()

    def _on_save_failed(self, error: BaseException) -> None:
        self._saving = False
        if isinstance(error, KeystoreUnavailable):
            message = error.message
        else:
            # Only the type: a stray exception's text might quote the key.
            log.warning("Saving the write key failed (%s)", type(error).__name__)
            message = f"The key could not be saved ({type(error).__name__})."
        self._failure = (
            f"{message}\n\nYou can use the key for this session only instead: it stays in "
            "memory and is forgotten when the app closes."
        )
        self._refresh()
        self._session_only.setDefault(True)
        self._session_only.setFocus()

    @Slot()
    def on_session_only_clicked(self) -> None:
        checked = self._checked()
        if checked is None or self._saving:
            return
        self._hold(
            _Held(self._session.source_name, checked.key, KeyStorage.SESSION, SESSION_LOCATION)
        )
        self._refresh()

    @Slot(bool)
    def on_sandbox_toggled(self, on: bool) -> None:
        self._session.use_sandbox = on
        self._session.settings.key_storage = self._storage_setting()
        self._refresh()


# --- 4. test events -------------------------------------------------------------------------


class TestPage(Page):
    """Hosts the test panel that the application builds (created when first shown)."""

    __test__ = False  # not a pytest test class

    def __init__(self, session: Session, panel_factory: Callable[[QWidget], QWidget]) -> None:
        super().__init__(
            session,
            "Send test events",
            "Send Chatlio's Live Chat events as tests. An answer of 200 proves only that they "
            "arrived, not that the key or source is right: look for them in the source's "
            "Debugger in Segment.",
        )
        self._factory = panel_factory
        self.panel: QWidget | None = None
        # The panel has its own scrolling; it replaces the page's scroll area.
        self._scroll.hide()

    def initializePage(self) -> None:
        if self.panel is None:
            self.panel = self._factory(self)
            layout = self.layout()
            assert layout is not None
            layout.addWidget(self.panel)
        refresh = getattr(self.panel, "refresh", None)
        if callable(refresh):
            refresh()


# --- 5. Chatlio -----------------------------------------------------------------------------


class ChatlioPage(Page):
    """Segment's step 5: the key goes into Chatlio's Segment setting; the user ticks it off."""

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "Connect Chatlio",
            "Paste the write key into the Segment setting in Chatlio's dashboard, so that "
            "Chatlio sends its events to your new source.",
        )
        self._clipboard = SecretClipboard(self)
        self._clipboard.cleared.connect(self.on_clipboard_cleared)

        self._copy = make_button(
            "&Copy the write key", "Copy the write key to the clipboard", "copy_key"
        )
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
        for name, text, accessible in (
            ("chatlio_opened", "&Opened Chatlio's settings", "Opened Chatlio's settings"),
            (
                "chatlio_pasted",
                "&Pasted the key into the Segment field near the bottom",
                "Pasted the key into the Segment field",
            ),
            ("chatlio_saved", "&Saved the settings in Chatlio", "Saved the settings in Chatlio"),
        ):
            tick = QCheckBox(text)
            tick.setObjectName(name)
            tick.setAccessibleName(accessible)
            box.addWidget(tick)
            self.registerField(f"{name}*", tick)
            self._ticks.append(tick)
        self._sandbox_notice = Notice()
        self._sandbox_notice.setObjectName("sandbox_notice")

        self.body.addWidget(self._sandbox_notice)
        self.body.addWidget(steps)
        self.body.addSpacing(8)
        self.body.addLayout(make_row(self._copy))
        self.body.addWidget(self._copy_notice)
        self.body.addSpacing(4)
        self.body.addWidget(self._dashboard)
        self.body.addSpacing(8)
        self.body.addWidget(group)
        self.body.addStretch(1)
        self._copy.clicked.connect(self.on_copy_clicked)

    def initializePage(self) -> None:
        sandbox = self._session.use_sandbox
        if sandbox:
            self._sandbox_notice.show_message(
                Kind.INFO,
                "You are using the built-in sandbox. Chatlio can only send to a real Segment "
                "source, so skip this step for now and come back to it once you have one: Next "
                "is available.",
            )
            self._copy.setToolTip("In sandbox mode there is no Segment write key to copy.")
        else:
            self._sandbox_notice.clear()
            self._copy.setToolTip("")
        self._copy.setEnabled(not sandbox and self._session.write_key() is not None)
        if sandbox:
            self._copy_notice.show_message(
                Kind.INFO, "Copying is off: in sandbox mode there is no Segment write key."
            )
        elif self._session.write_key() is None:
            self._copy_notice.show_message(
                Kind.WARNING, "No write key is held yet: go back to the write key step."
            )
        elif not self._clipboard.is_pending():
            self._copy_notice.clear()

    def isComplete(self) -> bool:
        return self._session.use_sandbox or super().isComplete()

    def cleanupPage(self) -> None:
        # Going back keeps the ticks (QWizard would clear them).
        pass

    @property
    def clear_clipboard_after_ms(self) -> int:
        return self._clipboard.clear_after_ms

    @clear_clipboard_after_ms.setter
    def clear_clipboard_after_ms(self, value: int) -> None:
        self._clipboard.clear_after_ms = value

    @Slot()
    def on_copy_clicked(self) -> None:
        key = None if self._session.use_sandbox else self._session.write_key()
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
    def on_clipboard_cleared(self) -> None:
        self._copy_notice.show_message(
            Kind.INFO, "The clipboard was cleared. Copy the key again if you still need it."
        )


# --- 6. destinations and warehouse ----------------------------------------------------------


class DestinationsPage(Page):
    """Segment's step 6: connect destinations; a preview of what a warehouse will get."""

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "Destinations and warehouse",
            "Back in Segment, connect the Chatlio source to the tools and warehouses that "
            "should receive its events.",
        )
        self._destinations = LinkButton(
            "Open the source's &destinations",
            lambda: self._source_url("destinations"),
            "Open the source's destinations in Segment",
            "open_destinations",
        )
        self._intro = text_label("", rich=True)
        self._tree = QTreeWidget()
        self._tree.setObjectName("warehouse_tree")
        self._tree.setAccessibleName("Warehouse tables and columns")
        self._tree.setHeaderLabels(["Table or column", "Type", "Description"])
        self._tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._tree.setMinimumHeight(180)
        header = self._tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        tracks = text_label(
            "Each of the four events also lands in the shared <code>tracks</code> table. "
            "Warehouses load every 24 to 48 hours, depending on the Segment plan; types are "
            "generic names, and each warehouse spells them its own way.",
            rich=True,
        )
        self.body.addWidget(self._destinations)
        self.body.addSpacing(8)
        self.body.addWidget(self._intro)
        self.body.addWidget(self._tree, 1)
        self.body.addWidget(tracks)

    def initializePage(self) -> None:
        source = self._session.source_name
        schema = warehouse.schema_name(source) or "your_schema"
        self._intro.setText(
            f"What the events create in a warehouse, in the schema <code>{schema}</code> "
            "(Segment's suggestion; its SQL settings can change it):"
        )
        self._tree.clear()
        for table in warehouse.preview(source):
            item = QTreeWidgetItem([warehouse.qualified(table, schema), "table", table.description])
            item.setToolTip(2, table.description)
            for column in table.columns:
                child = QTreeWidgetItem([column.name, column.type, column.description])
                child.setToolTip(2, column.description)
                item.addChild(child)
            self._tree.addTopLevelItem(item)
        first = self._tree.topLevelItem(0)
        if first is not None:
            first.setExpanded(True)
            self._tree.setCurrentItem(first)
        self._tree.resizeColumnToContents(0)
        self._tree.resizeColumnToContents(1)


# --- 7. finish ------------------------------------------------------------------------------


class FinishPage(Page):
    """A summary of what was set up and what to do next."""

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "Chatlio is set up",
            "Here is what you set up. After Finish, the app opens on its test screen.",
        )
        self._form = QFormLayout()
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._values: dict[str, QLabel] = {}
        for key, label in (
            ("source", "Source:"),
            ("region", "Region:"),
            ("workspace", "Workspace:"),
            ("key", "Write key:"),
            ("schema", "Warehouse schema:"),
        ):
            value = text_label("")
            value.setObjectName(f"summary_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._values[key] = value
            self._form.addRow(label, value)
        next_steps = text_label(
            "<b>Next</b><ul style='margin-top:0'>"
            "<li>Watch the source's Debugger in Segment: Chatlio's events show up there as "
            "visitors chat.</li>"
            "<li>Next time, this app opens on the test screen, where you can send test events "
            "again.</li></ul>",
            rich=True,
        )
        self._debugger = LinkButton(
            "&Open the source's Debugger",
            lambda: self._source_url("debugger"),
            "Open the source's Debugger in Segment",
            "open_debugger",
        )
        self.body.addLayout(self._form)
        self.body.addSpacing(8)
        self.body.addWidget(next_steps)
        self.body.addWidget(self._debugger)
        self.body.addStretch(1)

    def initializePage(self) -> None:
        session, settings = self._session, self._session.settings
        if session.use_sandbox:
            self.setTitle("Ready to try it out")
            self.setSubTitle(
                "Nothing was connected to Segment: test events go to the built-in sandbox. Run "
                "the setup again with your source's write key when you are ready."
            )
        else:
            self.setTitle("Chatlio is set up")
            self.setSubTitle(
                "Here is what you set up. After Finish, the app opens on its test screen."
            )
        schema = warehouse.schema_name(session.source_name)
        self._values["source"].setText(session.source_name)
        self._values["region"].setText(REGION_NAMES.get(settings.region, "not chosen"))
        self._values["workspace"].setText(
            settings.workspace_slug or "not given (links open the workspace you are signed in to)"
        )
        self._values["key"].setText(self.key_location())
        self._values["schema"].setText(
            f"{schema} (suggested; the warehouse's SQL settings can change it)"
            if schema
            else "chosen in the warehouse's SQL settings"
        )

    def key_location(self) -> str:
        if self._session.use_sandbox:
            return SANDBOX_LOCATION
        location = self._session.key_location
        if location is None:
            return "not set"
        if location == SESSION_LOCATION:
            return f"Held in memory for {SESSION_LOCATION}"
        return f"Stored in {location}"

    def nextId(self) -> int:
        return -1
