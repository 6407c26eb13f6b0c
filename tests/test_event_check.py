"""'Check a real event', driven like a user drives it: real widgets, the real clipboard, the
checks on a worker."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from app.ui import browser, event_check
from app.ui.event_check import MAX_SHOWN_PROBLEMS, EventCheckPane
from app.ui.main_window import MainWindow
from app.ui.page_kit import Kind
from app.ui.session import Session
from tests.gui_helpers import child, make_session, shown
from tests.test_validation import one, spec_shaped, with_properties


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    made = make_session(tmp_path)
    made.settings.key_storage = "sandbox"
    made.settings.setup_complete = True
    yield made
    made.close()


@pytest.fixture
def pane(qtbot: QtBot, session: Session) -> EventCheckPane:
    return shown(qtbot, EventCheckPane(session), 560, 520)


def checked(qtbot: QtBot, pane: EventCheckPane) -> None:
    qtbot.waitUntil(lambda: not pane.checking, timeout=10_000)


def test_a_pasted_clean_conversation_is_said_to_match(qtbot: QtBot, pane: EventCheckPane) -> None:
    QGuiApplication.clipboard().setText("\n".join(json.dumps(e) for e in spec_shaped()))
    qtbot.mouseClick(child(pane, QPushButton, "check_paste"), Qt.MouseButton.LeftButton)
    checked(qtbot, pane)
    assert pane.verdict.kind is Kind.OK
    assert pane.verdict.text() == "Checked 6 events: no problems. They match the Live Chat spec."
    assert not pane.problems.isVisible()
    assert pane.focusWidget() is pane.editor


def test_typed_problems_are_listed_under_their_event(qtbot: QtBot, pane: EventCheckPane) -> None:
    bad = with_properties(one(event="Live chat message sent"), conversation_duration=75.0)
    pane.editor.setFocus()
    qtbot.keyClicks(pane.editor, json.dumps([one(), bad]))
    checked(qtbot, pane)
    assert pane.verdict.kind is Kind.WARNING
    assert pane.verdict.text() == "Checked 2 events: 2 problems in 1 of them."
    assert pane.problems.isVisible()
    shown_text = pane.problems.toPlainText()
    assert "Event 2, “Live chat message sent” (item 2 of the list)" in shown_text
    assert "is the decimal number “75.0”, not a whole number" in shown_text
    assert "Event 1" not in shown_text  # a clean event is not listed


def test_only_the_newest_text_is_answered(qtbot: QtBot, pane: EventCheckPane) -> None:
    pane.editor.setPlainText(json.dumps(one(anonymousId=None)))
    pane.check_now()  # its answer is on the way when the text changes again
    pane.editor.setPlainText(json.dumps(one()))
    checked(qtbot, pane)
    assert pane.verdict.kind is Kind.OK
    qtbot.wait(100)  # the older answer, if it came late, changes nothing
    assert pane.verdict.kind is Kind.OK


def test_text_that_is_not_events_is_one_sentence(qtbot: QtBot, pane: EventCheckPane) -> None:
    pane.editor.setPlainText('{"event": "Live Chat Message Sent",')
    checked(qtbot, pane)
    assert pane.verdict.kind is Kind.ERROR
    assert pane.verdict.text().startswith("Nothing could be checked: 1 problem.")
    assert "This is not valid JSON" in pane.problems.toPlainText()


def test_clear_and_an_empty_clipboard(qtbot: QtBot, pane: EventCheckPane) -> None:
    clear = child(pane, QPushButton, "check_clear")
    assert not clear.isEnabled()
    pane.editor.setPlainText(json.dumps(one(anonymousId=None)))
    checked(qtbot, pane)
    assert clear.isEnabled()
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    checked(qtbot, pane)
    assert pane.editor.toPlainText() == ""
    assert not pane.verdict.isVisible()
    assert not pane.problems.isVisible()
    assert not clear.isEnabled()
    QGuiApplication.clipboard().setText("")
    qtbot.mouseClick(child(pane, QPushButton, "check_paste"), Qt.MouseButton.LeftButton)
    assert "nothing to paste" in pane.verdict.text()


def test_many_problems_are_cut_with_a_way_to_see_all(qtbot: QtBot, pane: EventCheckPane) -> None:
    pane.editor.setPlainText(json.dumps([one(anonymousId=None)] * (MAX_SHOWN_PROBLEMS + 50)))
    checked(qtbot, pane)
    text = pane.problems.toPlainText()
    assert text.count("has neither a userId nor an anonymousId") == MAX_SHOWN_PROBLEMS
    assert "chatlio-segment-setup validate FILE" in text
    assert pane.verdict.text() == f"Checked {MAX_SHOWN_PROBLEMS + 50} events: 250 problems."


def test_the_check_runs_off_the_gui_thread(
    qtbot: QtBot, pane: EventCheckPane, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real = event_check.check

    def spy(generation: int, text: str) -> event_check.Checked:
        threads.append(threading.current_thread())
        return real(generation, text)

    monkeypatch.setattr(event_check, "check", spy)
    pane.editor.setPlainText(json.dumps(one()))
    checked(qtbot, pane)
    assert threads
    assert threading.main_thread() not in threads


def test_the_debugger_button_opens_the_source_debugger(
    qtbot: QtBot, pane: EventCheckPane, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(browser, "open_url", opened.append)
    session.settings.workspace_slug = "acme"
    qtbot.mouseClick(child(pane, QPushButton, "check_open_debugger"), Qt.MouseButton.LeftButton)
    assert opened == ["https://app.segment.com/acme/sources/chatlio/debugger"]

    def refuse(url: str) -> None:
        raise browser.UrlNotOpened(url)

    monkeypatch.setattr(browser, "open_url", refuse)
    qtbot.mouseClick(child(pane, QPushButton, "check_open_debugger"), Qt.MouseButton.LeftButton)
    assert "Open this address in it: https://app.segment.com/acme" in pane.verdict.text()


def test_the_main_window_has_it_one_shortcut_away(qtbot: QtBot, session: Session) -> None:
    window = shown(qtbot, MainWindow(session), 1000, 700)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    pane, tabs = window.panel.event_check, window.panel.tabs
    assert pane is not None
    assert tabs is not None
    assert tabs.currentWidget() is not pane
    focused = QApplication.focusWidget()
    assert focused is not None
    QTest.keyClick(focused, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentWidget() is pane
    qtbot.waitUntil(lambda: QApplication.focusWidget() is pane.editor)
