"""The History tab, driven like a user drives it: real widgets, a real history file (this test's
own data directory) and real sends to the sandbox over loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QPushButton, QTableView
from pytestqt.qtbot import QtBot

from app.chatlio import Conversation
from app.history.records import Face
from app.history.store import HistoryStore, KeepMode, Retention
from app.segment.payload import Visitor
from app.segment.sandbox import Sandbox
from app.sending import Target, send_test_events
from app.ui import history_pane
from app.ui.history_pane import ClearHistoryDialog, ExportDialog, HistoryPane, KeepLessDialog
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui_helpers import child, make_session, shown


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    made = make_session(tmp_path)
    made.settings.key_storage = "sandbox"
    made.settings.setup_complete = True
    yield made
    made.close()


def keep_sends(store: HistoryStore, sandbox: Sandbox, *kinds: str) -> None:
    """Real sends recorded as the app records them: 'conversation', 'started' (9 days ago),
    'failed' (to an address where nothing answers)."""
    for kind in kinds:
        conversation = Conversation(visitor_id=f"visitor-{kind}")
        events = conversation.events() if kind == "conversation" else conversation.events()[:1]
        target = Target.sandbox(sandbox)
        if kind == "failed":
            target = Target.segment(_dead_endpoint(), "k" * 32)
        outcome = send_test_events(
            target, events, Visitor(conversation.visitor_id), conversation_id="c", deadline=5
        )
        started = datetime.now(UTC) - (timedelta(days=9) if kind == "started" else timedelta())
        store.record(outcome, source="Chatlio", face=Face.APP, started_at=started)


def _dead_endpoint():  # type: ignore[no-untyped-def]
    from app.segment.endpoint import parse_endpoint

    with Sandbox() as gone:
        url = gone.url
    return parse_endpoint(url)


def open_pane(qtbot: QtBot, session: Session) -> tuple[MainWindow, HistoryPane]:
    window = shown(qtbot, MainWindow(session), 1000, 700)
    window.show_history()
    pane = window.panel.history
    assert pane is not None
    qtbot.waitUntil(lambda: not pane.model.loading, timeout=10_000)
    return window, pane


def visible_rows(pane: HistoryPane) -> list[str]:
    model = pane.model
    return [model.index(row, 1).data() for row in range(model.rowCount())]


def wait_rows(qtbot: QtBot, pane: HistoryPane, count: int) -> None:
    qtbot.waitUntil(lambda: pane.model.rowCount() == count and not pane.model.loading)


def select(qtbot: QtBot, pane: HistoryPane, row: int) -> None:
    view = child(pane, QTableView, "history_list")
    view.setCurrentIndex(pane.model.index(row, 0))
    qtbot.waitUntil(lambda: child(pane, QPushButton, "history_send_again").isEnabled())


def test_a_send_from_the_test_events_tab_appears_at_the_top(
    qtbot: QtBot, session: Session, sandbox: Sandbox
) -> None:
    keep_sends(session.history_store(), sandbox, "started")
    window, pane = open_pane(qtbot, session)
    assert visible_rows(pane) == ["\u2714 Conversation Started"]
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        window.panel.send_conversation()
    wait_rows(qtbot, pane, 2)
    assert visible_rows(pane)[0] == "\u2714 Whole conversation (6 events)"
    qtbot.waitUntil(lambda: child(pane, QLabel, "history_count").text() == "2 sends kept")


def test_filters_narrow_the_list_and_say_so(
    qtbot: QtBot, session: Session, sandbox: Sandbox
) -> None:
    keep_sends(session.history_store(), sandbox, "conversation", "started", "failed")
    _window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 3)
    event = child(pane, QComboBox, "history_event")
    event.setCurrentIndex(event.findText("Message Sent"))
    wait_rows(qtbot, pane, 1)
    assert visible_rows(pane) == ["\u2714 Whole conversation (6 events)"]
    event.setCurrentIndex(event.findText("Whole conversations"))
    wait_rows(qtbot, pane, 1)
    event.setCurrentIndex(0)
    outcome = child(pane, QComboBox, "history_outcome")
    outcome.setCurrentIndex(outcome.findText("Did not all arrive"))
    wait_rows(qtbot, pane, 1)
    assert visible_rows(pane) == ["\u2716 Conversation Started \u2014 did not arrive"]
    qtbot.waitUntil(
        lambda: child(pane, QLabel, "history_count").text() == "1 of 3 sends kept match"
    )
    outcome.setCurrentIndex(0)
    date = child(pane, QComboBox, "history_date")
    date.setCurrentIndex(date.findText("Last 7 days"))
    wait_rows(qtbot, pane, 2)
    date.setCurrentIndex(0)
    search = child(pane, QLineEdit, "history_search")
    qtbot.keyClicks(search, "VISITOR-CONVERSATION")
    wait_rows(qtbot, pane, 1)
    search.clear()
    qtbot.keyClicks(search, "nothing like this")
    wait_rows(qtbot, pane, 0)
    empty = child(pane, QLabel, "history_empty")
    assert empty.isVisible()
    assert empty.text() == "No kept send matches these filters."
    show_all = child(pane, QPushButton, "history_clear_filters")
    qtbot.mouseClick(show_all, Qt.MouseButton.LeftButton)
    wait_rows(qtbot, pane, 3)
    assert search.text() == ""


def test_selecting_a_send_shows_it_in_the_response_view(
    qtbot: QtBot, session: Session, sandbox: Sandbox
) -> None:
    keep_sends(session.history_store(), sandbox, "conversation", "started")
    window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 2)
    select(qtbot, pane, 1)  # newest first: the conversation was kept first
    qtbot.waitUntil(lambda: session.last_send is not None and len(session.last_send.results) == 6)
    record = session.last_send
    assert record is not None
    assert record.visitor_id == "visitor-conversation"
    assert "(from the history)" in record.summary
    assert len(window.panel.view.results()) == 6


def test_send_again_sends_the_same_properties_with_new_message_ids(
    qtbot: QtBot, session: Session
) -> None:
    sandbox = session.sandbox()  # the one the app sends to in sandbox mode
    keep_sends(session.history_store(), sandbox, "conversation")
    _window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 1)
    select(qtbot, pane, 0)
    before = len(sandbox.events())
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        qtbot.mouseClick(child(pane, QPushButton, "history_send_again"), Qt.MouseButton.LeftButton)
    wait_rows(qtbot, pane, 2)
    first, again = sandbox.events()[before - 6 : before], sandbox.events()[before:]
    assert [e.payload["properties"] for e in again] == [e.payload["properties"] for e in first]
    assert [e.payload["anonymousId"] for e in again] == ["visitor-conversation"] * 6
    assert not {e.payload["messageId"] for e in again} & {e.payload["messageId"] for e in first}


def test_delete_takes_out_one_send_and_clear_all_asks_first(
    qtbot: QtBot, session: Session, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_sends(session.history_store(), sandbox, "conversation", "started", "started")
    _window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 3)
    select(qtbot, pane, 0)
    view = child(pane, QTableView, "history_list")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    wait_rows(qtbot, pane, 2)
    assert session.history_store().count() == 2
    assert view.currentIndex().row() == 0, "the next send takes the deleted one's place"
    asked: list[int] = []

    def answer(value: bool) -> Callable[..., bool]:
        def ask(_parent: object, count: int) -> bool:
            asked.append(count)
            return value

        return ask

    clear = child(pane, QPushButton, "history_clear")
    qtbot.waitUntil(clear.isEnabled)
    qtbot.waitUntil(lambda: child(pane, QLabel, "history_count").text() == "2 sends kept")
    monkeypatch.setattr(ClearHistoryDialog, "ask", answer(False))
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    assert asked == [2]
    assert session.history_store().count() == 2
    monkeypatch.setattr(ClearHistoryDialog, "ask", answer(True))
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    wait_rows(qtbot, pane, 0)
    assert session.history_store().count() == 0
    assert "No sends are kept yet" in child(pane, QLabel, "history_empty").text()


def test_the_history_survives_a_restart(qtbot: QtBot, tmp_path: Path, sandbox: Sandbox) -> None:
    first = make_session(tmp_path)
    keep_sends(first.history_store(), sandbox, "conversation", "started")
    first.history_store().close()
    first.close()
    again = make_session(tmp_path)
    _window, pane = open_pane(qtbot, again)
    wait_rows(qtbot, pane, 2)
    again.close()


def test_keeping_less_asks_first_and_then_deletes(
    qtbot: QtBot, session: Session, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_sends(session.history_store(), sandbox, "started", "conversation")
    _window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 2)
    keep = child(pane, QComboBox, "history_keep")
    qtbot.waitUntil(lambda: keep.currentText() == "the last 1,000 sends")
    monkeypatch.setattr(KeepLessDialog, "ask", lambda _parent, _keep: False)
    keep.activated.emit(keep.findText("sends of the last 7 days"))
    assert keep.currentText() == "the last 1,000 sends", "a refusal changes nothing"
    assert session.history_store().retention == Retention()
    monkeypatch.setattr(KeepLessDialog, "ask", lambda _parent, _keep: True)
    keep.activated.emit(keep.findText("sends of the last 7 days"))
    wait_rows(qtbot, pane, 1)  # the send of 9 days ago is gone
    assert session.history_store().retention == Retention(KeepMode.DAYS, 7)
    keep.activated.emit(keep.findText("no history (sends are not kept)"))
    wait_rows(qtbot, pane, 0)
    qtbot.waitUntil(lambda: "History is off" in child(pane, QLabel, "history_empty").text())


def test_a_setting_made_on_the_command_line_shows_as_it_is(qtbot: QtBot, session: Session) -> None:
    session.history_store().retention = Retention(KeepMode.SENDS, 250)
    _window, pane = open_pane(qtbot, session)
    keep = child(pane, QComboBox, "history_keep")
    qtbot.waitUntil(lambda: keep.currentText() == "the last 250 sends")


def test_export_writes_the_chosen_file(
    qtbot: QtBot,
    session: Session,
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keep_sends(session.history_store(), sandbox, "conversation")
    _window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 1)
    target = tmp_path / "kept.har"
    monkeypatch.setattr(ExportDialog, "ask", lambda _parent: (target, "har"))
    export = child(pane, QPushButton, "history_export")
    qtbot.waitUntil(export.isEnabled)
    qtbot.mouseClick(export, Qt.MouseButton.LeftButton)
    message = child(pane, QLabel, "history_message")
    qtbot.waitUntil(lambda: message.text().startswith("Exported 1 send (6 requests)"))
    har = json.loads(target.read_text())
    assert har["log"]["version"] == "1.2"
    assert len(har["log"]["entries"]) == 6


def test_a_damaged_history_file_is_said_and_a_new_one_used(qtbot: QtBot, session: Session) -> None:
    path = session.history_store().path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database at all " * 200)
    _window, pane = open_pane(qtbot, session)
    message = child(pane, QLabel, "history_message")
    qtbot.waitUntil(lambda: "damaged" in message.text())
    assert message.isVisible()
    assert "put aside as history.damaged-" in message.text()


def test_the_store_is_never_used_on_the_gui_thread(
    qtbot: QtBot, session: Session, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep_sends(session.history_store(), sandbox, "conversation", "started")
    on_gui: list[str] = []
    for name in ("page", "count", "get", "delete", "clear", "details", "record"):
        original = getattr(HistoryStore, name)

        def watched(*args: object, _original=original, _name=name, **kwargs: object):  # type: ignore[no-untyped-def]
            if threading.current_thread() is threading.main_thread():
                on_gui.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(HistoryStore, name, watched)
    _window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 2)
    select(qtbot, pane, 1)
    child(pane, QComboBox, "history_outcome").setCurrentIndex(1)
    wait_rows(qtbot, pane, 2)
    view = child(pane, QTableView, "history_list")
    view.setFocus()
    select(qtbot, pane, 0)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    wait_rows(qtbot, pane, 1)
    assert on_gui == []


def test_pages_arrive_as_the_list_scrolls(
    qtbot: QtBot, session: Session, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.ui.history_model.PAGE_SIZE", 5)
    store = session.history_store()
    conversation = Conversation()
    outcome = send_test_events(
        Target.sandbox(sandbox), conversation.events()[:1], Visitor("v"), conversation_id="c"
    )
    for _ in range(80):
        store.record(outcome, source="Chatlio", face=Face.CLI, started_at=datetime.now(UTC))
    _window, pane = open_pane(qtbot, session)
    qtbot.wait(200)  # the view asks for pages until it is full, and no more
    assert pane.model.rowCount() < 80, "not everything at once"
    view = child(pane, QTableView, "history_list")
    for _ in range(40):
        view.scrollToBottom()
        qtbot.wait(20)
        if pane.model.rowCount() == 80:
            break
    qtbot.waitUntil(lambda: pane.model.rowCount() == 80)
    qtbot.waitUntil(lambda: not pane.model.more_to_read)  # an empty page said it was all
    assert history_pane.keep_words(Retention(KeepMode.OFF, 0)).startswith("no history")


def test_the_selection_survives_a_reload_without_taking_the_response_view_back(
    qtbot: QtBot, session: Session, sandbox: Sandbox
) -> None:
    keep_sends(session.history_store(), sandbox, "conversation", "started")
    window, pane = open_pane(qtbot, session)
    wait_rows(qtbot, pane, 2)
    select(qtbot, pane, 1)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        window.panel.send_event("Live Chat Message Sent")  # a newer send, kept on top
    fresh = session.last_send
    qtbot.waitUntil(lambda: fresh is not None and fresh.ended)
    wait_rows(qtbot, pane, 3)
    view = child(pane, QTableView, "history_list")
    assert view.selectionModel().selectedRows()[0].row() == 2  # the same send, one row down
    assert session.last_send is fresh, "the new send stays in the response view"
