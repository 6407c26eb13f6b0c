"""The returning user's screen: the saved source's key read from the real keyring, off the GUI."""

from __future__ import annotations

from pathlib import Path

import keyring.backends.fail
import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton
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


def header(window: MainWindow) -> str:
    label = window.findChild(QLabel, "header")
    assert isinstance(label, QLabel)
    return label.text()


def target(window: MainWindow) -> str:
    label = window.findChild(QLabel, "send_target")
    assert isinstance(label, QLabel)
    return label.text()


def conversation(window: MainWindow) -> QPushButton:
    button = window.findChild(QPushButton, "send_conversation")
    assert isinstance(button, QPushButton)
    return button


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
    assert "reading the write key" in header(window)
    qtbot.waitUntil(lambda: session.write_key() == KEY, timeout=5000)
    assert "GNOME Keyring" in header(window)
    assert "Chatlio Prod" in header(window)
    assert KEY not in header(window)
    assert conversation(window).isEnabled()

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
    qtbot.waitUntil(lambda: "No write key is stored" in header(window), timeout=5000)
    assert "run the setup again" in header(window)
    assert not conversation(window).isEnabled()


def test_unavailable_keyring_is_explained(qtbot: QtBot, tmp_path: Path) -> None:
    store = KeyStore(backend=keyring.backends.fail.Keyring())
    window = MainWindow(returning_session(tmp_path, store))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "keyring" in header(window).lower(), timeout=5000)
    qtbot.waitUntil(lambda: "run the setup again" in header(window), timeout=5000)
    assert "Traceback" not in header(window)


def test_session_only_key_is_gone_next_time(qtbot: QtBot, tmp_path: Path) -> None:
    store = KeyStore(backend=keyring.backends.fail.Keyring())
    window = MainWindow(returning_session(tmp_path, store, storage="session"))
    qtbot.addWidget(window)
    assert "last session only" in header(window)


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
    qtbot.addWidget(wizard, before_close_func=lambda w: w.discard())
    wizard.draft.sandbox = True  # what "try it without a Segment account" does
    wizard.discard()
    assert controller.wizard is None
    assert not session.use_sandbox, "a cancelled setup changes nothing"
    assert "GNOME Keyring" in header(window)
    assert "sandbox" not in target(window)
    session.close()


def test_after_a_session_only_restart_the_window_takes_the_key_itself(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QApplication, QLineEdit

    from app.ui.main_window import KeyDialog

    store = KeyStore(backend=keyring.backends.fail.Keyring())
    session = returning_session(tmp_path, store, storage="session")
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    assert "Change the write key" in header(window)
    assert not conversation(window).isEnabled()
    enter = window.findChild(QPushButton, "enter_key")
    assert isinstance(enter, QPushButton)
    assert enter.isVisible()

    enter.click()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), KeyDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, KeyDialog)
    field = dialog.findChild(QLineEdit, "write_key")
    assert isinstance(field, QLineEdit)
    field.setText(KEY + "f")
    only = dialog.findChild(QPushButton, "session_only")
    assert isinstance(only, QPushButton)
    only.click()
    assert not dialog.isVisible()
    assert session.write_key() == KEY + "f"
    assert conversation(window).isEnabled()
    assert "this session only" in header(window)
    assert KEY not in header(window)
    assert not enter.isVisible()
    session.close()


def test_the_menu_bar_has_the_standard_shortcuts(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtGui import QAction, QKeySequence

    store = KeyStore(backend=keyring.backends.fail.Keyring())
    session = returning_session(tmp_path, store, storage="sandbox")
    session.use_sandbox = True
    window = MainWindow(session)
    qtbot.addWidget(window)
    actions = {a.text().replace("&", ""): a for a in window.findChildren(QAction)}
    shortcuts = {name: [s.toString() for s in a.shortcuts()] for name, a in actions.items()}
    for name, keys in shortcuts.items():
        assert len(set(keys)) == len(keys), f"{name}: the same keys twice are ambiguous"
    assert "Ctrl+Q" in shortcuts["Quit"]
    assert "F1" in shortcuts["Help"]
    assert "Ctrl+Return" in shortcuts["Send a whole conversation"]
    assert QKeySequence("Ctrl+,").toString() in shortcuts["Settings…"]
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "Set&up", "Se&nd", "&Help"]
    session.close()


def test_the_default_size_fits_the_screen(qtbot: QtBot, tmp_path: Path) -> None:
    store = KeyStore(backend=keyring.backends.fail.Keyring())
    session = returning_session(tmp_path, store, storage="sandbox")
    session.use_sandbox = True
    window = MainWindow(session)
    qtbot.addWidget(window)
    free = window.screen().availableGeometry()
    assert window.width() <= free.width()
    assert window.height() <= free.height()
    session.close()


def test_f1_opens_help_and_settings_opens_the_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QDialog

    store = KeyStore(backend=keyring.backends.fail.Keyring())
    session = returning_session(tmp_path, store, storage="sandbox")
    session.use_sandbox = True
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(
        lambda: any(w.objectName() == "help_window" for w in QApplication.topLevelWidgets())
    )
    help_window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "help_window")
    help_window.close()
    settings = next(a for a in window.findChildren(QAction) if a.text() == "Se&ttings…")
    settings.trigger()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QDialog)
    assert dialog.objectName() == "settings_dialog"
    dialog.reject()
    session.close()


def test_a_settings_file_from_the_previous_version_keeps_working(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession
) -> None:
    """Written by hand as version 0.1 wrote it: no network keys, no splitter sizes."""
    path = tmp_path / "settings.ini"
    path.write_text(
        "[setup]\ncomplete=true\nregion=us\nworkspace_slug=acme-inc\nsource_name=Chatlio Prod\n"
        "key_storage=keyring\n\n[test]\nvisitor_id=test-visitor-0123abcd\nas_user_id=false\n"
    )
    store = KeyStore(backend=secret_service.backend())
    store.save("Chatlio Prod", KEY)
    session = Session(AppSettings(str(path)), keystore=store)
    controller = AppController(session)
    controller.start()
    window = controller.window
    assert isinstance(window, MainWindow)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: session.write_key() == KEY, timeout=5000)
    assert "Chatlio Prod" in header(window)
    assert session.custom_endpoint is None
    assert session.deadline == 60
    assert session.proxy.describe() == "this computer's proxy settings"
    visitor = window.findChild(QLineEdit, "send_visitor_id")
    assert isinstance(visitor, QLineEdit)
    assert visitor.text() == "test-visitor-0123abcd"
    session.close()


def sandbox_window(qtbot: QtBot, tmp_path: Path) -> tuple[MainWindow, Session]:
    session = returning_session(
        tmp_path, KeyStore(backend=keyring.backends.fail.Keyring()), storage="sandbox"
    )
    window = MainWindow(session)
    qtbot.addWidget(window)
    return window, session


def test_a_window_saved_off_screen_comes_back_whole(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtCore import QRect

    first, session = sandbox_window(qtbot, tmp_path)
    free = first.screen().availableGeometry()
    # Saved on a larger monitor that is gone now: far right, below, and bigger than this one.
    first.setGeometry(QRect(free.right() + 2000, free.bottom() + 1500, 3000, 2000))
    first.close()
    again, _ = sandbox_window(qtbot, tmp_path)
    assert free.contains(again.frameGeometry()), (again.frameGeometry(), free)
    assert again.width() >= 640
    assert again.height() >= 480
    session.close()


def test_the_window_says_where_events_go_when_it_is_not_segment(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from app.keystore import SESSION_LOCATION
    from app.segment.endpoint import parse_endpoint

    session = returning_session(tmp_path, KeyStore(backend=keyring.backends.fail.Keyring()))
    session.set_key(KEY, SESSION_LOCATION)
    window = MainWindow(session)
    qtbot.addWidget(window)
    assert "Segment (US)" in target(window)
    session.use_endpoint_from_command_line(parse_endpoint("http://127.0.0.1:8471"))
    assert "127.0.0.1:8471" in target(window)
    assert KEY not in target(window) + header(window)
    session.close()


def test_every_mnemonic_in_the_window_is_its_own(qtbot: QtBot, tmp_path: Path) -> None:
    """Alt+letter reaches one thing: two owners of a letter make Qt cycle or do nothing."""
    import re

    from PySide6.QtWidgets import QAbstractButton, QTabBar

    window, session = sandbox_window(qtbot, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    texts = [a.text() for a in window.menuBar().actions()]
    texts += [b.text() for b in window.findChildren(QAbstractButton) if b.isVisibleTo(window)]
    texts += [
        label.text()
        for label in window.findChildren(QLabel)
        if label.buddy() is not None and label.isVisibleTo(window)
    ]
    for bar in window.findChildren(QTabBar):
        if bar.isVisibleTo(window):
            texts += [bar.tabText(i) for i in range(bar.count())]
    letters = [m.lower() for t in texts for m in re.findall(r"&([^&])", t.replace("&&", ""))]
    assert len(letters) >= 10, texts
    doubles = {letter for letter in letters if letters.count(letter) > 1}
    assert not doubles, [t for t in texts if any(f"&{d}" in t.lower() for d in doubles)]
    session.close()


def test_a_locked_keyring_is_said_and_the_key_can_still_be_entered(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession
) -> None:
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import KeyDialog

    store = KeyStore(backend=secret_service.backend(), timeout=30)
    store.save("Chatlio Prod", KEY)
    secret_service.lock()
    session = returning_session(tmp_path, store)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "locked" in header(window), timeout=20000)
    assert "Change the write key" in header(window)
    assert not conversation(window).isEnabled()
    change = window.findChild(QPushButton, "change_key")
    assert isinstance(change, QPushButton)
    assert change.isVisible()
    assert change.isEnabled()

    change.click()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), KeyDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, KeyDialog)
    field = dialog.findChild(QLineEdit, "write_key")
    assert isinstance(field, QLineEdit)
    field.setText(KEY)
    only = dialog.findChild(QPushButton, "session_only")
    assert isinstance(only, QPushButton)
    only.click()
    assert conversation(window).isEnabled()
    assert "locked" not in header(window)
    assert KEY not in header(window)
    session.close()
