"""The returning user's screen: the saved source's key read from the real keyring, off the GUI."""

from __future__ import annotations

from pathlib import Path

import keyring.backends.fail
import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.keystore import KeyStore
from app.ui.app import AppController
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.wizard import SetupWizard
from tests.secret_service import SecretServiceSession

KEY = "PlantedReturnKey0123456789abcde"


def returning_session(tmp_path: Path, store: KeyStore, storage: str = "keyring") -> Session:
    settings = AppSettings(str(tmp_path / "settings.ini"))
    settings.setup_complete = True
    settings.key_storage = storage
    settings.source_name = "Chatlio Prod"
    return Session(settings, keystore=store)


def shown_wizard(controller: AppController) -> SetupWizard:
    assert isinstance(controller.wizard, SetupWizard)
    return controller.wizard


def test_returning_user_lands_on_the_test_screen_with_the_stored_key(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession
) -> None:
    store = KeyStore(backend=secret_service.backend())
    store.save("Chatlio Prod", KEY)
    session = returning_session(tmp_path, store)
    controller = AppController(session)
    controller.start()
    assert controller.wizard is None
    window = controller.window
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    assert "reading the write key" in window._header.text()
    qtbot.waitUntil(lambda: session.write_key() == KEY, timeout=5000)
    assert "GNOME Keyring" in window._header.text()
    assert "Chatlio Prod" in window._header.text()
    assert KEY not in window._header.text()
    assert window.panel._conversation_button.isEnabled()

    window.setup_requested.emit()
    wizard = shown_wizard(controller)
    qtbot.addWidget(wizard)
    assert wizard.isVisible()
    session.close()


def test_missing_key_says_how_to_fix_it(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession
) -> None:
    session = returning_session(tmp_path, KeyStore(backend=secret_service.backend()))
    window = MainWindow(session)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "No write key is stored" in window._header.text(), timeout=5000)
    assert "Run the setup again" in window._header.text()
    assert not window.panel._conversation_button.isEnabled()


def test_unavailable_keyring_is_explained(qtbot: QtBot, tmp_path: Path) -> None:
    store = KeyStore(backend=keyring.backends.fail.Keyring())
    window = MainWindow(returning_session(tmp_path, store))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "keyring" in window._header.text().lower(), timeout=5000)
    qtbot.waitUntil(lambda: "Run the setup again" in window._header.text(), timeout=5000)
    assert "Traceback" not in window._header.text()


def test_session_only_key_is_gone_next_time(qtbot: QtBot, tmp_path: Path) -> None:
    store = KeyStore(backend=keyring.backends.fail.Keyring())
    window = MainWindow(returning_session(tmp_path, store, storage="session"))
    qtbot.addWidget(window)
    assert "last session only" in window._header.text()


def test_geometry_persists(qtbot: QtBot, tmp_path: Path) -> None:
    store = KeyStore(backend=keyring.backends.fail.Keyring())
    session = returning_session(tmp_path, store, storage="sandbox")
    session.use_sandbox = True
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    window.resize(700, 500)
    window.close()
    again = MainWindow(session)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 500)
    buttons = {b.accessibleName() for b in again.findChildren(QPushButton)}
    assert "Run the setup wizard again" in buttons
    session.close()


@pytest.fixture(autouse=True)
def _no_real_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.ui import main_window

    monkeypatch.setattr(main_window.AboutDialog, "ask", classmethod(lambda cls, parent: None))


def test_cancelling_setup_again_leaves_the_window_telling_the_truth(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession
) -> None:
    store = KeyStore(backend=secret_service.backend())
    store.save("Chatlio Prod", KEY)
    session = returning_session(tmp_path, store)
    controller = AppController(session)
    controller.start()
    window = controller.window
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: session.write_key() == KEY, timeout=5000)
    window.setup_requested.emit()
    wizard = shown_wizard(controller)
    session.use_sandbox = True  # what ticking "try it without a Segment account" does
    wizard.reject()
    assert controller.wizard is None
    assert "sandbox" in window._header.text()
    assert "sandbox" in window.panel._target.text()
    session.close()
