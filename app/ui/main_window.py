"""The everyday screen after setup: test events for the saved source, the wizard one click away."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
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
from app.ui.send_panel import SendPanel
from app.ui.session import Session
from app.ui.worker import run_in_background


class MainWindow(QMainWindow):
    """Loads the saved source's key from the keyring (off the GUI thread) and shows the panel.

    Signals: setup_requested() — the user wants to run the setup wizard again.
    """

    setup_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(640, 480)

        self._header = QLabel()
        self._header.setWordWrap(True)
        self._header.setAccessibleName("Source and key")
        setup = QPushButton("Run &setup again…")
        setup.setAccessibleName("Run the setup wizard again")
        setup.clicked.connect(self.setup_requested)
        about = QPushButton("&About")
        about.setAccessibleName("About this app")
        about.clicked.connect(self.on_about_clicked)
        header_row = QHBoxLayout()
        header_row.addWidget(self._header, 1)
        header_row.addWidget(setup)
        header_row.addWidget(about)

        self.panel = SendPanel(session)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header_row)
        layout.addWidget(self.panel, 1)
        self.setCentralWidget(central)
        geometry = session.settings.geometry("main")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1000, 700)
        self.load_key()

    def load_key(self) -> None:
        """Fetch the saved source's key from the keyring; a locked keyring may take a while."""
        session = self._session
        if session.use_sandbox:
            self._header.setText(
                f"Source <b>{session.source_name}</b> · trying it out with the built-in sandbox."
            )
            self.panel.refresh()
            return
        if session.write_key() is not None:
            self._show_key_state()
            return
        if session.settings.key_storage == KeyStorage.SESSION:
            self._header.setText(
                "The write key was kept for the last session only, so it is gone now. Run the "
                "setup again to enter it, or save it to the keyring this time."
            )
            return
        self._header.setText(
            f"Source <b>{session.source_name}</b> · reading the write key from the keyring…"
        )

        def work(_report: object) -> tuple[str | None, str]:
            store = session.keystore
            return store.load(session.source_name), store.location()

        run_in_background(
            work, self._on_key_loaded, self._on_key_failed, name="load-key", owner=self
        )

    def _on_key_loaded(self, loaded: tuple[str | None, str]) -> None:
        key, location = loaded
        if key is None:
            self._header.setText(
                f"No write key is stored for source <b>{self._session.source_name}</b> in "
                f"{location}. Run the setup again to enter it."
            )
        else:
            self._session.set_key(key, location)
            self._show_key_state()
        self.panel.refresh()

    def _on_key_failed(self, error: BaseException) -> None:
        message = getattr(error, "message", None) or (
            f"The keyring could not be read ({type(error).__name__})."
        )
        self._header.setText(f"{message} Run the setup again to enter the key for this session.")
        self.panel.refresh()

    def _show_key_state(self) -> None:
        session = self._session
        self._header.setText(
            f"Source <b>{session.source_name}</b> · write key kept in {session.key_location}."
        )
        self.panel.refresh()

    @Slot()
    def on_about_clicked(self) -> None:
        AboutDialog.ask(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._session.settings.set_geometry("main", self.saveGeometry())
        super().closeEvent(event)


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
