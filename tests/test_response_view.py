"""The response view: the session's last send in words for a marketing-ops person."""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.chatlio import Conversation
from app.redaction import basic_auth
from app.segment.endpoint import Endpoint, Region, parse_endpoint
from app.segment.payload import Visitor
from app.segment.result import WHAT_200_PROVES, ErrorKind, SendResult
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.sending import Target, send_test_events
from app.ui import response_view
from app.ui.response_view import ResponseView, next_step, outcome_words, row_text, seconds_text
from app.ui.session import SendRecord, Session
from tests.gui_helpers import child, make_session, shown
from tests.hostile_server import HostileServer, never_answer, reply_at_once, response

KEY = "q1W2e3R4t5Y6u7I8o9P0aSdFgHjKlZH6"
FAST = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)
W = TypeVar("W", bound=QWidget)
# Developer words that must never reach a row or a headline.
JARGON = ("2xx", "dns", "connection", "connecterror", "readtimeout", "1 tries", "1 try", " ms")


def send(target: Target, conversation: Conversation, names: Sequence[str] = ()) -> list[SendResult]:
    events = conversation.events()
    if names:
        events = [conversation.event(name) for name in names]
    outcome = send_test_events(
        target,
        events,
        Visitor(conversation.visitor_id),
        conversation_id=conversation.conversation_id,
        retry=FAST,
    )
    return list(outcome.results)


def to_sandbox(sandbox: Sandbox, conversation: Conversation) -> list[SendResult]:
    return send(Target.sandbox(sandbox), conversation)


def to_address(url: str, conversation: Conversation, names: Sequence[str] = ()) -> list[SendResult]:
    return send(Target.segment(parse_endpoint(url), KEY), conversation, names)


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def begin(session: Session, conversation: Conversation, sandbox: bool, total: int) -> SendRecord:
    record = SendRecord(conversation.visitor_id, conversation.conversation_id, sandbox, total)
    session.begin_send(record)
    return record


def feed(
    session: Session, conversation: Conversation, results: list[SendResult], sandbox: bool
) -> SendRecord:
    record = begin(session, conversation, sandbox, len(results))
    for result in results:
        session.add_result(record, result)
    session.end_send(record, f"{len(results)} answers")
    return record


def make_view(qtbot: QtBot, session: Session) -> ResponseView:
    return shown(qtbot, ResponseView(session), 600, 700)


def text_of(view: ResponseView, name: str) -> str:
    return child(view, QLabel, name).text()


def tab(view: ResponseView, title: str) -> None:
    tabs = child(view, QTabWidget, "details")
    titles = [tabs.tabText(i).replace("&", "") for i in range(tabs.count())]
    tabs.setCurrentIndex(titles.index(title))


def no_jargon(text: str) -> None:
    lowered = text.lower()
    for word in JARGON:
        assert word not in lowered, (word, text)
    assert not re.search(r"\d{4,} ?ms|\b\d{5,}\b ?ms", text)


# --- words ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_every_error_kind_has_words_and_a_next_step(kind: ErrorKind) -> None:
    words = outcome_words(kind, None)
    with_status = outcome_words(kind, 503)

    assert words
    assert "_" not in words
    if kind not in (ErrorKind.CANCELLED, ErrorKind.PROXY):  # plain words; the rest are not
        assert kind.value not in words.split()
    no_jargon(words)
    no_jargon(with_status)
    assert with_status.endswith("(HTTP 503)")
    advice = next_step(kind)
    assert advice.endswith(".")
    assert "other tab" not in advice
    no_jargon(advice)


def test_a_success_arrived_with_its_status() -> None:
    assert outcome_words(None, 200) == "arrived (HTTP 200)"


@pytest.mark.parametrize(
    ("ms", "text"),
    [(3.0, "under 0.1 s"), (412.0, "0.4 s"), (11353.0, "11 s"), (125_000.0, "2 min 5 s")],
)
def test_times_are_seconds_never_milliseconds(ms: float, text: str) -> None:
    assert seconds_text(ms) == text


def test_rows_name_tries_only_when_more_than_one(sandbox: Sandbox) -> None:
    conversation = Conversation()
    [one] = to_address(sandbox.url, conversation, ["Live Chat Message Sent"])
    with HostileServer(reply_at_once(response(503, b"busy"))) as server:
        [retried] = to_address(server.url, conversation, ["Live Chat Message Sent"])

    assert row_text(one) == "\u2714 Message Sent \u2014 arrived (HTTP 200)"
    assert retried.error_kind is ErrorKind.SERVER
    assert row_text(retried).startswith(
        "\u2716 Message Sent \u2014 a problem on the server's side (HTTP 503) \u00b7 after 3 tries"
    )
    no_jargon(row_text(one))
    no_jargon(row_text(retried))


def test_a_refused_address_reads_could_not_connect_and_not_sent() -> None:
    results = to_address(closed_port(), Conversation())

    rows = [row_text(result) for result in results]

    assert rows[0].startswith("\u2716 Conversation Started \u2014 could not connect")
    assert "after 3 tries" in rows[0]
    assert rows[1] == "\u2716 Message Sent \u2014 not sent"
    for row in rows:
        no_jargon(row)


# --- the view ------------------------------------------------------------------------------


@pytest.mark.parametrize("sandbox", [True, False])
def test_before_the_first_send_the_view_says_what_will_happen(
    qtbot: QtBot, tmp_path: Path, sandbox: bool
) -> None:
    view = make_view(qtbot, make_session(tmp_path, key=KEY, sandbox=sandbox))

    intro = child(view, QLabel, "response_intro")

    assert intro.isVisible()
    assert not child(view, QListWidget, "results").isVisible()
    assert "Nothing sent yet" in intro.text()
    assert "button" in intro.text()
    assert "appears here" in intro.text()
    if sandbox:
        assert "built-in sandbox on this computer" in intro.text()
    else:
        assert "does not prove that the write key is right" in intro.text()


def test_a_send_that_got_no_answer_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path)
    view = make_view(qtbot, session)
    record = begin(session, Conversation(), True, 6)

    session.end_send(record, "Cancelled: 0 of 6 test events arrived at the sandbox first.")

    intro = text_of(view, "response_intro")
    assert "Cancelled: 0 of 6" in intro
    assert "Sending" not in intro


def test_results_appear_as_they_arrive_and_every_view_shows_them(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path)
    conversation = Conversation()
    results = to_sandbox(sandbox, conversation)
    view = make_view(qtbot, session)

    record = begin(session, conversation, True, len(results))
    assert "Sending" in text_of(view, "response_intro")
    session.add_result(record, results[0])
    assert "1 of 6 answered" in text_of(view, "send_summary")
    for result in results[1:]:
        session.add_result(record, result)
    session.end_send(record, "6 of 6 test events arrived at the sandbox on this computer.")
    later = make_view(qtbot, session)  # the main window, after the wizard's test page

    for each in (view, later):
        assert each.results() == results
        rows = child(each, QListWidget, "results")
        assert [rows.item(i).text() for i in range(rows.count())] == [row_text(r) for r in results]
        assert text_of(each, "send_summary").startswith("6 of 6 test events arrived")


def test_the_list_wraps_instead_of_scrolling_sideways(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path)
    view = make_view(qtbot, session)
    feed(session, Conversation(), to_address(closed_port(), Conversation()), sandbox=False)
    view.resize(320, 400)
    qtbot.wait(50)

    rows = child(view, QListWidget, "results")

    assert rows.wordWrap()
    assert rows.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert rows.horizontalScrollBar().maximum() == 0
    first = rows.visualItemRect(rows.item(0))
    assert first.right() <= rows.viewport().width()
    assert first.height() > rows.visualItemRect(rows.item(1)).height()  # "after 3 tries" wrapped


def test_a_new_result_keeps_the_row_the_user_chose(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path)
    conversation = Conversation()
    results = to_sandbox(sandbox, conversation)
    view = make_view(qtbot, session)
    rows = child(view, QListWidget, "results")
    record = begin(session, conversation, True, len(results))

    session.add_result(record, results[0])
    assert rows.currentRow() == 0  # nothing was selected: the newest
    session.add_result(record, results[1])
    assert rows.currentRow() == 1  # the newest was selected: still the newest
    first = rows.item(0)
    qtbot.mouseClick(
        rows.viewport(), Qt.MouseButton.LeftButton, pos=rows.visualItemRect(first).center()
    )
    assert rows.currentRow() == 0
    session.add_result(record, results[2])
    session.changed.emit()  # something else changed: nothing is rebuilt

    assert rows.currentRow() == 0
    assert view.current() == results[0]
    assert rows.count() == 3
    assert rows.item(0) is first


def test_a_new_send_starts_a_new_list(qtbot: QtBot, tmp_path: Path, sandbox: Sandbox) -> None:
    session = make_session(tmp_path)
    view = make_view(qtbot, session)
    feed(session, Conversation(), to_sandbox(sandbox, Conversation()), sandbox=True)
    conversation = Conversation()
    again = to_address(sandbox.url, conversation, ["Live Chat Message Sent"])

    feed(session, conversation, again, sandbox=True)

    assert view.results() == again
    assert child(view, QListWidget, "results").count() == 1


def test_a_success_at_segment_says_what_200_proves_and_what_to_search_for(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    conversation = Conversation()
    results = to_sandbox(sandbox, conversation)
    # The results of a real send, as if Segment's US host had given them.
    results = [replace(r, endpoint="https://api.segment.io") for r in results]
    view = make_view(qtbot, session)
    requested: list[bool] = []
    view.debugger_requested.connect(lambda: requested.append(True))

    feed(session, conversation, results, sandbox=False)

    assert text_of(view, "headline") == (
        "\u2714 Live Chat Conversation Ended arrived at Segment (HTTP 200)."
    )
    meaning = text_of(view, "meaning")
    assert WHAT_200_PROVES.split(".")[0] in meaning
    assert "search for" in meaning
    assert child(view, QLineEdit, "visitor_id").text() == conversation.visitor_id
    assert child(view, QLineEdit, "conversation_id").text() == conversation.conversation_id
    debugger = child(view, QPushButton, "open_debugger")
    assert debugger.isVisible()
    qtbot.mouseClick(debugger, Qt.MouseButton.LeftButton)
    assert requested == [True]


def test_copy_buttons_put_the_ids_and_the_answer_on_the_clipboard(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path)
    conversation = Conversation()
    view = make_view(qtbot, session)
    feed(session, conversation, to_sandbox(sandbox, conversation), sandbox=True)
    clipboard = QGuiApplication.clipboard()

    qtbot.mouseClick(child(view, QPushButton, "copy_visitor_id"), Qt.MouseButton.LeftButton)
    assert clipboard.text() == conversation.visitor_id
    qtbot.mouseClick(child(view, QPushButton, "copy_conversation_id"), Qt.MouseButton.LeftButton)
    assert clipboard.text() == conversation.conversation_id
    tab(view, "Answer")
    qtbot.mouseClick(child(view, QPushButton, "copy_answer"), Qt.MouseButton.LeftButton)
    assert clipboard.text().startswith("HTTP 200")
    assert '"success": true' in clipboard.text()
    assert text_of(view, "copy_status") == "Copied the answer."


def test_the_answer_wraps_its_long_lines(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    view = make_view(qtbot, session)
    feed(session, Conversation(), to_address(closed_port(), Conversation()), sandbox=False)
    child(view, QListWidget, "results").setCurrentRow(0)
    tab(view, "Answer")

    answer = child(view, QPlainTextEdit, "answer")

    assert answer.lineWrapMode() == QPlainTextEdit.LineWrapMode.WidgetWidth
    assert answer.horizontalScrollBar().maximum() == 0
    assert "Could not connect" in answer.toPlainText()
    assert "ConnectError" in answer.toPlainText()  # technical detail stays available here


def test_a_failure_says_what_happened_and_what_to_do_next(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    view = make_view(qtbot, session)
    url = closed_port()
    results = to_address(url, Conversation())
    feed(session, Conversation(), results, sandbox=False)
    child(view, QListWidget, "results").setCurrentRow(0)

    meaning = text_of(view, "meaning")
    headline = text_of(view, "headline")

    assert headline == "\u2716 Live Chat Conversation Started: could not connect."
    assert "What happened" in meaning
    assert results[0].message.split(":")[0] in meaning
    assert url in meaning  # the address the advice is about is shown
    assert "What to do next" in meaning
    assert "Tracking API address" in meaning
    assert "other tab" not in meaning
    assert not child(view, QPushButton, "open_debugger").isVisible()
    assert not child(view, QPushButton, "copy_visitor_id").isVisible()
    tab(view, "Timing")
    timing = child(view, QPlainTextEdit, "timing").toPlainText()
    assert "Try 1: could not connect" in timing
    assert "Error" not in timing
    no_jargon(headline)


def test_a_silent_server_reads_no_answer_in_time(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    view = make_view(qtbot, session)
    conversation = Conversation()
    with HostileServer(never_answer()) as server:
        outcome = send_test_events(
            Target.segment(parse_endpoint(server.url), KEY),
            [conversation.event("Live Chat Message Sent")],
            Visitor(conversation.visitor_id),
            conversation_id=conversation.conversation_id,
            deadline=1.5,
            retry=FAST,
        )

    feed(session, conversation, list(outcome.results), sandbox=False)
    tab(view, "Timing")

    rows = child(view, QListWidget, "results")
    assert rows.item(0).text().startswith("\u2716 Message Sent \u2014 no answer in time")
    timing = child(view, QPlainTextEdit, "timing").toPlainText()
    assert "Try 1: no answer in time (1." in timing
    assert "Timeout" not in timing
    assert "Try 1: cut at the 1.5 s limit" in child(view, QPlainTextEdit, "answer").toPlainText()
    no_jargon(rows.item(0).text())
    no_jargon(text_of(view, "headline"))


def test_the_servers_refusal_of_the_key_reads_in_words(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    view = make_view(qtbot, session)
    conversation = Conversation()
    with HostileServer(reply_at_once(response(401, b"Unauthorized"))) as server:
        results = to_address(server.url, conversation, ["Live Chat Message Sent"])

    feed(session, conversation, results, sandbox=False)

    rows = child(view, QListWidget, "results")
    assert rows.item(0).text() == "\u2716 Message Sent \u2014 write key refused (HTTP 401)"
    assert "API Keys" in text_of(view, "meaning")


def test_sandbox_mode_claims_nothing_about_segment_and_offers_no_key(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path)
    conversation = Conversation()
    view = make_view(qtbot, session)
    feed(session, conversation, to_sandbox(sandbox, conversation), sandbox=True)
    tab(view, "Request")

    headline = text_of(view, "headline")
    assert "Segment" not in headline
    assert "built-in sandbox on this computer" in headline
    assert "built-in sandbox on this computer" in text_of(view, "meaning")
    assert not child(view, QPushButton, "open_debugger").isVisible()
    assert not child(view, QPushButton, "copy_curl").isVisible()
    assert not child(view, QCheckBox, "curl_with_key").isVisible()
    visible = [w for w in view.findChildren(QAbstractButton) if w.isVisible()]
    assert not [w for w in visible if "write key" in w.text() or "cURL" in w.text()]


def test_a_custom_address_is_named_in_the_headline(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    conversation = Conversation()
    target = Target.segment(Endpoint(sandbox.url, Region.CUSTOM), KEY)
    view = make_view(qtbot, session)

    feed(session, conversation, send(target, conversation, ["Live Chat Message Sent"]), False)

    assert text_of(view, "headline") == (
        f"\u2714 Live Chat Message Sent arrived at {sandbox.url} (HTTP 200)."
    )


def test_curl_is_redacted_unless_the_key_is_asked_for(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    conversation = Conversation()
    view = make_view(qtbot, session)
    feed(session, conversation, to_address(sandbox.url, conversation), sandbox=False)
    tab(view, "Request")
    clipboard = QGuiApplication.clipboard()
    copy = child(view, QPushButton, "copy_curl")

    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert clipboard.text().startswith("curl ")
    assert "<write key hidden>" in clipboard.text()
    assert KEY not in clipboard.text()

    child(view, QCheckBox, "curl_with_key").setChecked(True)
    monkeypatch.setattr(response_view.RevealKeyDialog, "ask", classmethod(lambda cls, p: False))
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert text_of(view, "copy_status") == "Not copied."
    assert KEY not in clipboard.text()

    monkeypatch.setattr(response_view.RevealKeyDialog, "ask", classmethod(lambda cls, p: True))
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert "<write key hidden>" not in clipboard.text()
    assert clipboard.text().lower().count("authorization:") == 1
    assert basic_auth(KEY) in clipboard.text()
    assert "Copied, with the write key" in text_of(view, "copy_status")
    for label in view.findChildren(QLabel):
        assert KEY not in label.text()
        assert KEY not in label.toolTip()


def test_the_splitter_remembers_its_sizes(qtbot: QtBot, tmp_path: Path, sandbox: Sandbox) -> None:
    session = make_session(tmp_path)
    conversation = Conversation()
    feed(session, conversation, to_sandbox(sandbox, conversation), sandbox=True)
    view = make_view(qtbot, session)
    splitter = child(view, QSplitter, "response_splitter")
    before = splitter.sizes()
    handle = splitter.handle(1)
    start = handle.rect().center()

    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(handle, start + QPoint(0, 60))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=start + QPoint(0, 60))
    moved = splitter.sizes()
    assert moved[0] > before[0]
    again = make_view(qtbot, session)

    assert child(again, QSplitter, "response_splitter").sizes() == moved
    assert session.settings.splitter("response_view") is not None


def test_tabs_have_their_own_mnemonics(qtbot: QtBot, tmp_path: Path) -> None:
    view = make_view(qtbot, make_session(tmp_path))
    tabs = child(view, QTabWidget, "details")

    titles = [tabs.tabText(i) for i in range(tabs.count())]
    keys = [title[title.index("&") + 1].lower() for title in titles]

    assert titles[1] != "&Answer"
    # Taken elsewhere: About, Run setup again, the wizard's Back/Next/Finish/Help.
    assert not set(keys) & set("asbnfh")
    assert len(set(keys)) == len(keys)


def test_every_control_has_an_accessible_name(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    view = make_view(qtbot, session)
    feed(session, Conversation(), to_address(sandbox.url, Conversation()), sandbox=False)

    controls = [
        *view.findChildren(QAbstractButton),
        *view.findChildren(QLineEdit),
        *view.findChildren(QPlainTextEdit),
        *view.findChildren(QListWidget),
    ]

    assert controls
    # Qt's own parts (a table's corner button, "qt_…") are named by Qt, not by us.
    ours = [c for c in controls if not c.objectName().startswith("qt_")]
    assert not [c.objectName() for c in ours if not c.accessibleName()]


def test_small_sizes_are_allowed(qtbot: QtBot, tmp_path: Path, sandbox: Sandbox) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    view = make_view(qtbot, session)
    feed(session, Conversation(), to_address(closed_port(), Conversation()), sandbox=False)

    assert view.minimumSizeHint().width() <= 320
    assert view.minimumSize().width() <= 320
