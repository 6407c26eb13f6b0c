"""The live list of what the built-in sandbox received, driven against a real sandbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import QAbstractItemModel, Qt, QTimer
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QPushButton, QTableView
from pytestqt.qtbot import QtBot

from app.chatlio import Conversation
from app.redaction import basic_auth, mask
from app.segment import SANDBOX_KEY
from app.segment.payload import Visitor
from app.segment.sandbox import Sandbox, SandboxLimits
from app.sending import Target, send_test_events
from app.ui import sandbox_feed
from app.ui.page_kit import Notice
from app.ui.sandbox_feed import EMPTY_TEXT, SandboxFeed
from app.ui.session import SendRecord, Session
from tests.gui_helpers import make_session, shown


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    made = make_session(tmp_path)
    yield made
    made.close()


@pytest.fixture
def feed(qtbot: QtBot, session: Session) -> SandboxFeed:
    return shown(qtbot, SandboxFeed(session), 700, 500)


def start_sandbox(session: Session) -> Sandbox:
    """As the app's first send does: begin, start the sandbox on a worker (session.sandbox()
    blocks: it binds a port), and say so through the session once it runs."""
    record = SendRecord("visitor", "conversation", sandbox=True, total=0)
    session.begin_send(record)
    started: list[Sandbox] = []
    worker = threading.Thread(target=lambda: started.append(session.sandbox()))
    worker.start()
    worker.join(10)
    session.end_send(record, "The sandbox is running.")
    return started[0]


def send_conversation(
    session: Session, sandbox: Sandbox, conversation: Conversation | None = None
) -> Conversation:
    """A whole test conversation, its results reported to the session as the app does."""
    conversation = conversation or Conversation()
    events = conversation.events()
    record = SendRecord(
        conversation.visitor_id, conversation.conversation_id, sandbox=True, total=len(events)
    )
    session.begin_send(record)
    outcome = send_test_events(
        Target.sandbox(sandbox),
        events,
        Visitor(conversation.visitor_id),
        conversation_id=conversation.conversation_id,
        on_result=lambda result: session.add_result(record, result),
    )
    session.end_send(record, outcome.summary)
    assert outcome.ok, outcome.summary
    return conversation


def events_view(feed: SandboxFeed) -> QTableView:
    view = feed.findChild(QTableView, "feed_events")
    assert view is not None
    return view


def rows(feed: SandboxFeed) -> list[list[str]]:
    model = events_view(feed).model()
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def label(feed: SandboxFeed, name: str) -> QLabel:
    found = feed.findChild(QLabel, name)
    assert found is not None
    return found


def properties(feed: SandboxFeed) -> dict[str, str]:
    view = feed.findChild(QTableView, "feed_properties")
    assert view is not None
    model: QAbstractItemModel = view.model()
    return {model.index(r, 0).data(): model.index(r, 1).data() for r in range(model.rowCount())}


def poll_timer(feed: SandboxFeed) -> QTimer:
    timer = feed.findChild(QTimer, "feed_poll")
    assert timer is not None
    return timer


def test_before_any_send_it_says_what_will_appear(feed: SandboxFeed, session: Session) -> None:
    assert session.running_sandbox() is None
    assert label(feed, "feed_empty").isVisible()
    assert label(feed, "feed_empty").text() == EMPTY_TEXT
    assert label(feed, "feed_count").text() == "No events received yet."
    assert not events_view(feed).isVisible()
    clear = feed.findChild(QPushButton, "clear_feed")
    assert clear is not None
    assert not clear.isEnabled()
    assert feed.accessibleName() == "Events the sandbox received"
    assert session.running_sandbox() is None  # the feed never starts it


def test_events_appear_newest_first_after_a_send(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    conversation = send_conversation(session, start_sandbox(session))
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)
    names = [row[1] for row in rows(feed)]
    assert names[0] == "Live Chat Conversation Ended"
    assert names[-1] == "Live Chat Conversation Started"
    assert {row[2] for row in rows(feed)} == {conversation.visitor_id}
    assert all(len(row[0]) == len("12:34:56") for row in rows(feed))
    assert label(feed, "feed_count").text() == "6 events received"
    assert not label(feed, "feed_empty").isVisible()


def test_it_keeps_up_while_sends_go_on(qtbot: QtBot, feed: SandboxFeed, session: Session) -> None:
    sandbox = start_sandbox(session)
    send_conversation(session, sandbox)
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)
    second = send_conversation(session, sandbox, Conversation(visitor_id="second-visitor"))
    qtbot.waitUntil(lambda: len(rows(feed)) == 12)
    assert [row[2] for row in rows(feed)[:6]] == [second.visitor_id] * 6
    assert label(feed, "feed_count").text() == "12 events received"


def test_choosing_an_event_shows_its_properties_and_json_with_the_key_masked(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    conversation = send_conversation(session, start_sandbox(session))
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)
    assert label(feed, "feed_no_selection").isVisible()
    events_view(feed).selectRow(0)  # the newest: Conversation Ended
    shown = properties(feed)
    assert shown["conversation_id"] == conversation.conversation_id
    assert shown["conversation_duration"] == "75"
    assert not label(feed, "feed_no_selection").isVisible()
    raw = feed.findChild(QPlainTextEdit, "feed_json")
    assert raw is not None
    text = raw.toPlainText()
    assert '"event": "Live Chat Conversation Ended"' in text
    assert conversation.visitor_id in text
    assert mask(SANDBOX_KEY) in text
    assert SANDBOX_KEY not in text


def test_nested_properties_read_as_dotted_names(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    sandbox = start_sandbox(session)
    body = {
        "type": "track",
        "event": "Custom",
        "userId": "u-1",
        "properties": {"agent": {"name": "Ana", "tags": ["a", "b"]}, "ok": True},
    }
    post(sandbox, "/v1/track", body)
    qtbot.waitUntil(lambda: len(rows(feed)) == 1)
    assert rows(feed)[0][1:] == ["Custom", "u-1"]
    events_view(feed).selectRow(0)
    assert properties(feed) == {"agent.name": "Ana", "agent.tags": '["a", "b"]', "ok": "true"}


def test_an_event_segment_would_drop_says_why(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    post(start_sandbox(session), "/v1/track", {"type": "track", "event": "Orphan"})
    qtbot.waitUntil(lambda: len(rows(feed)) == 1)
    assert rows(feed)[0][2] == "(no visitor)"
    events_view(feed).selectRow(0)
    notice = feed.findChild(Notice, "feed_discarded")
    assert notice is not None
    assert notice.isVisible()
    assert "neither a user id nor an anonymous id" in notice.text()
    events_view(feed).clearSelection()
    assert not notice.isVisible()


def post(sandbox: Sandbox, path: str, body: Mapping[str, object]) -> None:
    headers = {"Authorization": basic_auth(SANDBOX_KEY)}
    answer = httpx.post(sandbox.url + path, json=body, headers=headers, timeout=5)
    assert answer.status_code == 200


def test_clear_empties_the_list_and_the_sandbox(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    sandbox = start_sandbox(session)
    send_conversation(session, sandbox)
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)
    events_view(feed).selectRow(0)
    clear = feed.findChild(QPushButton, "clear_feed")
    assert clear is not None
    assert clear.isEnabled()
    qtbot.mouseClick(clear, Qt.MouseButton.LeftButton)
    assert rows(feed) == []
    assert sandbox.events() == []
    assert label(feed, "feed_empty").isVisible()
    assert label(feed, "feed_count").text() == "No events received yet."
    send_conversation(session, sandbox)  # numbering goes on: the new events still show
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)
    assert label(feed, "feed_count").text() == "6 events received"


def test_a_clear_made_elsewhere_empties_the_list(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    sandbox = start_sandbox(session)
    send_conversation(session, sandbox)
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)
    events_view(feed).selectRow(0)
    httpx.delete(sandbox.url + "/sandbox/events", timeout=5).raise_for_status()
    qtbot.waitUntil(lambda: rows(feed) == [])
    assert label(feed, "feed_empty").isVisible()
    raw = feed.findChild(QPlainTextEdit, "feed_json")
    assert raw is not None
    assert raw.toPlainText() == ""


def test_nothing_polls_outside_sandbox_mode(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    sandbox = start_sandbox(session)
    session.use_sandbox = False
    send_conversation(session, sandbox)
    assert not poll_timer(feed).isActive()
    qtbot.wait(3 * sandbox_feed.POLL_MS)
    assert rows(feed) == []
    assert not poll_timer(feed).isActive()
    assert "Segment" in label(feed, "feed_empty").text()
    session.use_sandbox = True  # back in sandbox mode, it catches up
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)
    assert poll_timer(feed).isActive()


def test_nothing_polls_while_hidden(qtbot: QtBot, feed: SandboxFeed, session: Session) -> None:
    sandbox = start_sandbox(session)
    assert poll_timer(feed).isActive()
    feed.hide()
    assert not poll_timer(feed).isActive()
    send_conversation(session, sandbox)
    assert not poll_timer(feed).isActive()
    assert rows(feed) == []
    feed.show()
    qtbot.waitUntil(lambda: len(rows(feed)) == 6)


def test_a_large_volume_shows_only_the_newest_rows(
    qtbot: QtBot, feed: SandboxFeed, session: Session
) -> None:
    sandbox = start_sandbox(session)
    batch = [
        {"type": "track", "event": f"Event {n}", "anonymousId": "many"}
        for n in range(1, sandbox_feed.MAX_ROWS + 101)
    ]
    post(sandbox, "/v1/batch", {"batch": batch})
    qtbot.waitUntil(lambda: len(rows(feed)) == sandbox_feed.MAX_ROWS)
    total = sandbox_feed.MAX_ROWS + 100
    assert rows(feed)[0][1] == f"Event {total}"
    assert rows(feed)[-1][1] == "Event 101"
    assert label(feed, "feed_count").text() == (
        f"{total:,} events received. Showing the newest {sandbox_feed.MAX_ROWS:,}."
    )
    post(sandbox, "/v1/track", {"type": "track", "event": "One more", "anonymousId": "many"})
    qtbot.waitUntil(lambda: rows(feed)[0][1] == "One more")
    assert len(rows(feed)) == sandbox_feed.MAX_ROWS


# --- the store's side: Sandbox.feed -----------------------------------------------------------


def test_feed_gives_the_newest_events_after_a_cursor_with_keys_masked() -> None:
    with Sandbox() as sandbox:
        for n in range(1, 6):
            post(sandbox, "/v1/track", {"type": "track", "event": f"E{n}", "userId": "u"})
        page = sandbox.feed(1, 2)
        assert [e.payload["event"] for e in page.events()] == ["E4", "E5"]
        assert [e.write_key for e in page.events()] == [mask(SANDBOX_KEY)] * 2
        assert (page.next_after, page.received, page.has_more) == (5, 5, False)
        assert list(sandbox.feed(5, 2).events()) == []
        clears = page.clears
        sandbox.clear()
        assert sandbox.feed(5, 2).clears == clears + 1
        assert sandbox.feed(5, 2).received == 0


def test_feed_counts_events_the_bounds_dropped() -> None:
    with Sandbox(limits=SandboxLimits(max_events=3)) as sandbox:
        for n in range(1, 6):
            post(sandbox, "/v1/track", {"type": "track", "event": f"E{n}", "userId": "u"})
        page = sandbox.feed(0, 10)
        assert [e.payload["event"] for e in page.events()] == ["E3", "E4", "E5"]
        assert (page.received, page.dropped) == (5, 2)
