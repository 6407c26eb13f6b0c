"""The everyday screen after setup: test events for the saved source, the wizard one click away."""

from __future__ import annotations

import enum
import html

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME, __version__
from app.key_storage import KeyStorage
from app.ui.draft import HeldKey
from app.ui.screen_fit import fit_to_screen, keep_on_screen
from app.ui.send_panel import SendPanel
from app.ui.session import Session
from app.ui.worker import run_in_background

MINIMUM_SIZE = QSize(640, 480)
DEFAULT_SIZE = QSize(1000, 700)


class KeyState(enum.Enum):
    """Where the window stands with the write key (the header's sentence follows it)."""

    SANDBOX = enum.auto()
    LOADING = enum.auto()
    HELD = enum.auto()
    SESSION_GONE = enum.auto()  # kept for the last session only
    NOT_STORED = enum.auto()
    KEYRING_FAILED = enum.auto()


class MainWindow(QMainWindow):
    """Loads the saved source's key from the keyring (off the GUI thread) and shows the panel.

    Everything shown follows the session (`changed`). The key can be entered or changed here
    without the wizard. Signals: setup_requested() — the user wants the setup wizard again.
    """

    setup_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._state = KeyState.LOADING
        self._keyring_message = ""
        self._keyring_location = "the keyring"
        self._token_problem = ""  # the stored token could not be read: why, in a sentence
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(MINIMUM_SIZE)

        self._header = QLabel()
        self._header.setObjectName("header")
        self._header.setWordWrap(True)
        self._header.setMinimumWidth(1)
        self._header.setAccessibleName("Source and key")
        self._change_key = QPushButton("Ch&ange the write key…")
        self._change_key.setObjectName("change_key")
        self._change_key.setAccessibleName("Enter or change the write key")
        self._change_key.clicked.connect(self.ask_for_key)
        setup = QPushButton("Run &setup again…")
        setup.setObjectName("run_setup")
        setup.setAccessibleName("Run the setup wizard again")
        setup.clicked.connect(self.setup_requested)
        header_row = QHBoxLayout()
        header_row.addWidget(self._header, 1)
        header_row.addWidget(self._change_key)
        header_row.addWidget(setup)

        self.panel = SendPanel(session, history=True)
        self.panel.key_requested.connect(self.ask_for_key)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header_row)
        layout.addWidget(self.panel, 1)
        self.setCentralWidget(central)
        self._build_menus()

        geometry = session.settings.geometry("main")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(fit_to_screen(self, DEFAULT_SIZE))
        keep_on_screen(self)
        session.changed.connect(self.on_session_changed)
        self.load_key()
        self.load_token()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        settings = file.addAction("Se&ttings…")
        settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        settings.setShortcuts(shortcuts(QKeySequence.StandardKey.Preferences, "Ctrl+,"))
        settings.triggered.connect(self.on_settings_triggered)
        file.addSeparator()
        quit_ = file.addAction("&Quit")
        quit_.setMenuRole(QAction.MenuRole.QuitRole)
        quit_.setShortcuts(shortcuts(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        quit_.triggered.connect(self.close)
        setup_menu = bar.addMenu("Set&up")
        setup = setup_menu.addAction("Run &setup again…")
        setup.triggered.connect(self.setup_requested)
        key = setup_menu.addAction("&Write key…")
        key.triggered.connect(self.ask_for_key)
        token = setup_menu.addAction("Public API &token…")
        token.triggered.connect(self.ask_for_token)
        setup_menu.addSeparator()
        sql = setup_menu.addAction("Warehouse &SQL…")
        sql.setObjectName("action_warehouse_sql")
        sql.triggered.connect(self.show_warehouse_sql)
        send = bar.addMenu("Se&nd")
        send.addAction(self.panel.send_conversation_action)
        send.addAction(self.panel.stop_action)
        send.addSeparator()
        history = send.addAction("&History")
        history.setObjectName("action_history")
        history.setShortcut(QKeySequence("Ctrl+H"))
        history.triggered.connect(self.show_history)
        check = send.addAction("Check a real &event")
        check.setObjectName("action_check_event")
        check.setShortcut(QKeySequence("Ctrl+E"))
        check.triggered.connect(self.show_event_check)
        help_menu = bar.addMenu("&Help")
        help_action = help_menu.addAction("&Help")
        help_action.setShortcuts(shortcuts(QKeySequence.StandardKey.HelpContents, "F1"))
        help_action.triggered.connect(self.on_help_triggered)
        about = help_menu.addAction(f"&About {APP_NAME}")
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self.on_about_clicked)
        for action, name in (
            (setup, "action_run"),
            (key, "action_write"),
            (token, "action_token"),
            (settings, "action_settings"),
            (quit_, "action_quit"),
            (help_action, "action_help"),
            (about, "action_about"),
        ):
            action.setObjectName(name)

    @Slot()
    def show_history(self) -> None:
        """The History tab, with the list focused."""
        tabs, pane = self.panel.tabs, self.panel.history
        if tabs is not None and pane is not None:
            tabs.setCurrentWidget(pane)
            pane.focus_list()

    @Slot()
    def show_warehouse_sql(self) -> None:
        """The warehouse's tables and starter queries, with copy buttons (not modal)."""
        from app.ui.warehouse_sql_box import WarehouseSqlDialog

        dialog = WarehouseSqlDialog(self._session.source_name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    @Slot()
    def show_event_check(self) -> None:
        """The 'Check a real event' tab, with the paste box focused."""
        tabs, pane = self.panel.tabs, self.panel.event_check
        if tabs is not None and pane is not None:
            tabs.setCurrentWidget(pane)
            pane.focus_editor()

    # --- the key -----------------------------------------------------------------------------

    def load_key(self) -> None:
        """Fetch the saved source's key from the keyring; a locked keyring may take a while."""
        session = self._session
        if session.use_sandbox:
            self._set_state(KeyState.SANDBOX)
            return
        if session.write_key() is not None:
            self._set_state(KeyState.HELD)
            return
        if session.settings.key_storage == KeyStorage.SESSION:
            self._set_state(KeyState.SESSION_GONE)
            return
        self._set_state(KeyState.LOADING)

        def work(_report: object) -> tuple[str | None, str]:
            store = session.keystore
            return store.load(session.source_name), store.location()

        run_in_background(
            work, self._on_key_loaded, self._on_key_failed, name="load-key", owner=self
        )

    def _on_key_loaded(self, loaded: tuple[str | None, str]) -> None:
        key, location = loaded
        self._keyring_location = location
        if self._session.write_key() is not None or self._session.use_sandbox:
            self.on_session_changed()  # a key was entered meanwhile: it wins
        elif key is None:
            self._set_state(KeyState.NOT_STORED)
        else:
            self._session.set_key(key, location)

    def _on_key_failed(self, error: BaseException) -> None:
        self._keyring_message = getattr(error, "message", None) or (
            "The keyring could not be read."
        )
        if self._session.write_key() is None and not self._session.use_sandbox:
            self._set_state(KeyState.KEYRING_FAILED)

    @Slot()
    def ask_for_key(self) -> None:
        KeyDialog(self._session, self).open()

    # --- the Public API token ----------------------------------------------------------------

    def load_token(self) -> None:
        """Fetch the Public API token from the keyring (off the GUI): when the app stored one,
        or when the write key is in the keyring anyway (`token set` on the command line stores
        one that the settings cannot know of, and that keyring is being read already)."""
        session = self._session
        if session.token_location is not None or not (
            session.settings.token_stored or session.settings.key_storage == KeyStorage.KEYRING
        ):
            return

        def work(_report: object) -> tuple[str | None, str]:
            store = session.token_store
            return store.load(), store.location()

        run_in_background(
            work, self._on_token_loaded, self._on_token_failed, name="load-token", owner=self
        )

    def _on_token_loaded(self, loaded: tuple[str | None, str]) -> None:
        token, location = loaded
        session = self._session
        if session.token_location is not None:
            return  # one was entered meanwhile: it wins
        if token is None:
            if session.settings.token_stored:
                session.settings.token_stored = False
                self._token_problem = f"The Public API token is no longer in {location}."
                self._render()
        else:
            self._token_problem = ""
            session.settings.token_stored = True
            session.set_token(token, location)

    def _on_token_failed(self, error: BaseException) -> None:
        if not self._session.settings.token_stored:
            return  # only looked in passing, beside the key: no token was known to be there
        message = getattr(error, "message", None) or "The keyring could not be read."
        self._token_problem = f"The Public API token could not be read: {message}"
        self._render()

    @Slot()
    def ask_for_token(self) -> None:
        from app.ui.token_entry import TokenDialog  # imports the Public API's words

        self._token_problem = ""
        TokenDialog.open_for(self._session, self)

    # --- what it shows -----------------------------------------------------------------------

    @Slot()
    def on_session_changed(self) -> None:
        session = self._session
        if session.use_sandbox:
            self._set_state(KeyState.SANDBOX)
        elif session.write_key() is not None:
            self._set_state(KeyState.HELD)
        elif self._state in (KeyState.SANDBOX, KeyState.HELD):
            self.load_key()  # left the sandbox, or the key was forgotten
        else:
            self._render()

    def _set_state(self, state: KeyState) -> None:
        self._state = state
        self._render()

    def _render(self) -> None:
        source = html.escape(self._session.source_name)  # the header is rich text
        change = "enter it with Change the write key"
        texts = {
            KeyState.SANDBOX: f"Source <b>{source}</b> · trying it out with the built-in "
            "sandbox: nothing reaches Segment.",
            KeyState.LOADING: f"Source <b>{source}</b> · reading the write key from the keyring…",
            KeyState.HELD: f"Source <b>{source}</b> · write key kept in "
            f"{self._session.key_location}.",
            KeyState.SESSION_GONE: "The write key was kept for the last session only, so it is "
            f"gone now: {change}, and save it to the keyring this time if you like.",
            KeyState.NOT_STORED: f"No write key is stored for source <b>{source}</b> in "
            f"{self._keyring_location}: {change}, or run the setup again.",
            KeyState.KEYRING_FAILED: f"{self._keyring_message} You can still {change} and use it "
            "for this session, or run the setup again.",
        }
        self._header.setText(f"{texts[self._state]}<br>{self._token_sentence()}")
        self._change_key.setVisible(self._state is not KeyState.SANDBOX)
        self._change_key.setEnabled(self._state is not KeyState.LOADING)

    def _token_sentence(self) -> str:
        session = self._session
        if session.use_sandbox:
            return "Public API: the sandbox answers, no token needed."
        if self._token_problem:
            return html.escape(self._token_problem)
        location = session.token_location
        if location is None:
            return "No Public API token: Setup → Public API token… adds one (optional)."
        check = session.token_check
        where = f" for workspace <b>{html.escape(check.workspace.name)}</b>" if check else ""
        return f"Public API token{where} kept in {html.escape(location)}."

    # --- slots -------------------------------------------------------------------------------

    @Slot()
    def on_settings_triggered(self) -> None:
        from app.ui.settings_dialog import SettingsDialog

        SettingsDialog(self._session, self).open()

    @Slot()
    def on_help_triggered(self) -> None:
        from app.ui.help import show_help

        show_help(self, "main")

    @Slot()
    def on_about_clicked(self) -> None:
        AboutDialog.ask(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._session.settings.set_geometry("main", self.saveGeometry())
        super().closeEvent(event)


def shortcuts(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's keys for `standard`, and `fallback` where it has none or differs; never
    one twice (an action holding the same keys twice takes neither: they are ambiguous)."""
    keys = QKeySequence.keyBindings(standard)
    if all(key.toString() != fallback for key in keys):
        keys.append(QKeySequence(fallback))
    return keys


class KeyDialog(QDialog):
    """Enter or change the write key from the main window; saved or held for this session."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        from app.ui.key_entry import KeyEntry  # imports the keystore module

        super().__init__(parent)
        self._session = session
        self.setObjectName("key_dialog")
        self.setWindowTitle("Write key")
        self.setMinimumWidth(420)
        intro = QLabel(
            f"The write key of source <b>{session.source_name}</b>, from its Settings → API "
            "Keys page in Segment."
        )
        intro.setWordWrap(True)
        self.entry = KeyEntry(session, parent=self)
        self.entry.set_held(HeldKey.of_session(session))
        self.entry.held.connect(self.on_entry_held)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        # Enter in the key field saves it; it must not close the dialog as well.
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)
        close.setObjectName("close_key_dialog")
        close.setAccessibleName("Close without changing the key")
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.entry)
        layout.addWidget(buttons)
        self.entry.edit.setFocus()

    @Slot(object)
    def on_entry_held(self, held: HeldKey) -> None:
        session = self._session
        session.settings.key_storage = held.storage
        session.use_sandbox = False
        session.set_key(held.key, held.location)
        self.accept()


class AboutDialog:
    """Version, licence and links."""

    @classmethod
    def ask(cls, parent: QWidget) -> None:
        QMessageBox.about(
            parent,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<br>Connects Chatlio live chat to Segment and "
            "proves that it works.<br>MIT licence.<br>"
            '<a href="https://segment.com/docs/connections/sources/catalog/cloud-apps/chatlio/">'
            "Segment's Chatlio source documentation</a>",
        )
