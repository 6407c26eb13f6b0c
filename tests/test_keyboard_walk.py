"""A person's hands on the keyboard only: from the first start to six events arrived in the
sandbox, sent twice in a row without touching the visitor id, then on to the main window."""

from __future__ import annotations

from pathlib import Path

from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QListWidget, QWidget
from pytestqt.qtbot import QtBot

from app.keystore import KeyStore
from app.ui.app import AppController
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.wizard import PageId, SetupWizard

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def keys(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """One key press where the focus is, as the keyboard would deliver it (after the events
    already queued: no person presses a key within one turn of the event loop)."""
    QApplication.processEvents()
    target = QApplication.focusWidget()
    assert target is not None, "focus was lost"
    assert target.isVisible(), f"focus is on a hidden widget: {target.objectName()}"
    QTest.keyClick(target, key, modifier)


def test_first_start_to_six_events_by_keyboard_twice(qtbot: QtBot, tmp_path: Path) -> None:
    settings = AppSettings(str(tmp_path / "settings.ini"))
    session = Session(settings, keystore=KeyStore(backend=fail.Keyring()))
    controller = AppController(session)
    controller.start()
    wizard = controller.wizard
    assert isinstance(wizard, SetupWizard)
    qtbot.addWidget(wizard, before_close_func=lambda w: w.discard())
    qtbot.waitExposed(wizard)
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)

    # Welcome: "Try it without a Segment account" (Alt+T) goes straight to the test page.
    keys(Qt.Key.Key_T, ALT)
    qtbot.waitUntil(lambda: wizard.currentId() == PageId.TEST)
    panel = wizard.test_panel()
    assert panel is not None
    visitor = panel.findChild(QLineEdit, "send_visitor_id")
    assert isinstance(visitor, QLineEdit)
    visitor_id = visitor.text()
    trial = wizard.trial

    for round_ in (1, 2):
        qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
        keys(Qt.Key.Key_Return, CTRL)  # sends the whole conversation
        qtbot.waitUntil(
            lambda: trial.running_sandbox() is not None and not trial.busy, timeout=20_000
        )
        running = trial.running_sandbox()
        assert running is not None
        events = running.events()
        assert len(events) == 6 * round_
        assert {event.payload.get("anonymousId") for event in events} == {visitor_id}
        assert visitor.text() == visitor_id, "a send never touches the visitor id"
        assert trial.last_send is not None
        assert all(result.ok for result in trial.last_send.results)

    # On through the rest by Alt+N, and Finish by Alt+F.
    for page in (PageId.CHATLIO, PageId.DESTINATIONS, PageId.FINISH):
        keys(Qt.Key.Key_N, ALT)

        def shown(page: PageId = page) -> bool:
            return wizard.currentId() == page

        qtbot.waitUntil(shown)
    keys(Qt.Key.Key_F, ALT)
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.isVisible())
    window = controller.window
    assert window is not None
    qtbot.addWidget(window)
    assert settings.setup_complete
    assert session.use_sandbox

    # The main window shows the last send made in the wizard.
    results = window.findChild(QListWidget, "results")
    assert isinstance(results, QListWidget)
    assert results.count() == 6
    focus: QWidget | None = QApplication.focusWidget()
    assert focus is None or focus.isVisible()
    session.close()
