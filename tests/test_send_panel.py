"""The send panel, driven as a user would (buttons, keys, shortcuts), sending for real over
loopback to the sandbox; widgets are reached by objectName or accessible name."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.chatlio import EVENTS
from app.segment.endpoint import parse_endpoint
from app.segment.proxy import ProxyChoice, ProxyMode
from app.segment.result import ErrorKind, SendResult
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.ui import browser
from app.ui.send_panel import SendPanel, clock
from app.ui.session import Session
from tests.gui_helpers import child, make_session, shown
from tests.hostile_server import closed_port

KEY = "PlantedPanelKey0123456789abcdef"
W = TypeVar("W", bound=QWidget)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    made = make_session(tmp_path)
    yield made
    made.close()


@pytest.fixture
def panel(qtbot: QtBot, session: Session) -> SendPanel:
    return shown(qtbot, SendPanel(session), 900, 600)


def button(panel: QWidget, accessible_name: str) -> QPushButton:
    found = [b for b in panel.findChildren(QPushButton) if b.accessibleName() == accessible_name]
    assert len(found) == 1, accessible_name
    return found[0]


def status(panel: SendPanel) -> str:
    return child(panel, QLabel, "send_status").text()


def click_and_wait(
    qtbot: QtBot, panel: SendPanel, name: str, timeout: int = 10_000
) -> list[SendResult]:
    with qtbot.waitSignal(panel.finished, timeout=timeout) as blocker:
        qtbot.mouseClick(button(panel, name), Qt.MouseButton.LeftButton)
    assert blocker.args is not None
    return list(blocker.args[0])


def activate(qtbot: QtBot, widget: QWidget) -> None:
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)


# --- sending ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", EVENTS, ids=[e.short_name for e in EVENTS])
def test_each_button_sends_exactly_that_event(
    qtbot: QtBot, panel: SendPanel, session: Session, event: object
) -> None:
    from app.chatlio import EventSpec

    assert isinstance(event, EventSpec)
    with qtbot.waitSignal(panel.finished, timeout=10_000) as blocker:
        qtbot.mouseClick(
            child(panel, QPushButton, f"send_{event.short_name}"), Qt.MouseButton.LeftButton
        )
    assert blocker.args is not None
    assert [r.event for r in blocker.args[0]] == [event.name]
    [received] = session.sandbox().events()
    assert received.payload["event"] == event.name
    assert received.payload["anonymousId"] == session.settings.visitor_id
    assert set(received.payload["properties"]) == set(event.properties)
    assert [r.ok for r in panel.view.results()] == [True]
    assert session.last_send is not None
    assert session.last_send.ended
    assert status(panel) == "1 of 1 test event arrived at the sandbox on this computer."


def test_whole_conversation_in_order(qtbot: QtBot, panel: SendPanel, session: Session) -> None:
    results = click_and_wait(qtbot, panel, "Send a whole test conversation")
    names = [e.payload["event"] for e in session.sandbox().events()]
    assert names == [r.event for r in results]
    assert names[0] == "Live Chat Conversation Started"
    assert names[-1] == "Live Chat Conversation Ended"
    assert len(names) == 6
    assert len(panel.view.results()) == 6
    ids = {e.payload["properties"]["conversation_id"] for e in session.sandbox().events()}
    assert len(ids) == 1
    bar = child(panel, QProgressBar, "send_progress")
    assert (bar.value(), bar.maximum()) == (6, 6)
    assert status(panel) == "6 of 6 test events arrived at the sandbox on this computer."
    assert session.last_send is not None
    assert session.last_send.summary == status(panel)


def test_test_events_can_be_kept_away_from_destinations(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    keep_away = child(panel, QCheckBox, "keep_from_destinations")
    note = child(panel, QLabel, "keep_from_destinations_note")
    assert not keep_away.isChecked()
    assert not note.isVisibleTo(panel)
    click_and_wait(qtbot, panel, "Send Live Chat Message Sent")
    keep_away.click()
    assert session.settings.keep_from_destinations  # kept for the next start
    assert note.isVisibleTo(panel)
    assert "warehouses still load them" in note.text()
    click_and_wait(qtbot, panel, "Send Live Chat Message Sent")
    first, second = (e.payload for e in session.sandbox().events())
    assert "integrations" not in first
    assert second["integrations"] == {"All": False}
    keep_away.click()
    assert not session.settings.keep_from_destinations


def test_edited_properties_and_user_id_are_sent(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    child(panel, QSpinBox, "property_conversation_duration").setValue(42)
    child(panel, QLineEdit, "property_agent_name").setText("Dana Example")
    child(panel, QComboBox, "send_id_kind").setCurrentIndex(1)
    click_and_wait(qtbot, panel, "Send Live Chat Conversation Ended")
    [received] = session.sandbox().events()
    assert received.payload["properties"]["conversation_duration"] == 42
    assert received.payload["properties"]["agent_name"] == "Dana Example"
    assert "userId" in received.payload
    assert "anonymousId" not in received.payload
    assert session.settings.as_user_id


def test_the_visitor_id_is_saved_when_edited(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    field = child(panel, QLineEdit, "send_visitor_id")
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "visitor-from-a-test")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # editingFinished
    assert session.settings.visitor_id == "visitor-from-a-test"


# --- waiting is not silent ----------------------------------------------------------------------


def test_a_retry_shows_the_try_and_counts_down(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    session.settings.send_timeout = 30
    session.retry = RetryPolicy(initial_backoff=0.05, max_backoff=0.1)
    sandbox = session.sandbox()
    sandbox.fail_next(503, retry_after="5")
    sandbox.fail_next(503)
    with qtbot.waitSignal(panel.finished, timeout=20_000) as blocker:
        qtbot.mouseClick(button(panel, "Send Live Chat Message Sent"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "try 2 of 6" in status(panel), timeout=5000)
        first = status(panel)
        what, why, left = first.splitlines()
        asked = re.fullmatch(r"The sandbox asked to wait: trying again in ([2-5]) s", why)
        assert asked is not None, why  # 5 s, unless this machine was slow to show it

        # The countdown moves on by itself, once a second, while nothing else arrives.
        def counted_down() -> bool:
            shown = re.search(r"trying again (?:in (\d) s|now)", status(panel))
            return shown is not None and (shown[1] is None or int(shown[1]) < int(asked[1]))

        # A machine slow enough may skip a second, or reach "now": either way it moved on.
        qtbot.waitUntil(counted_down, timeout=5000)
        assert child(panel, QPushButton, "stop_sending").isEnabled()
    assert what == "Sending Message Sent, try 2 of 6"
    assert re.fullmatch(r"(30|2\d) s left of the 30 s time limit", left), left
    assert blocker.args is not None
    [result] = blocker.args[0]
    assert result.ok
    assert len(result.attempts) == 3
    assert status(panel) == "1 of 1 test event arrived at the sandbox on this computer."


def test_the_status_says_what_is_awaited(qtbot: QtBot, panel: SendPanel, session: Session) -> None:
    session.sandbox().set_delay(1.5)
    with qtbot.waitSignal(panel.finished, timeout=20_000):
        panel.send_conversation()
        qtbot.waitUntil(lambda: "Sending event 1 of 6: Conversation Started" in status(panel))
        qtbot.waitUntil(lambda: "Waiting for the sandbox to answer…" in status(panel))
        qtbot.waitUntil(lambda: "Sending event 2 of 6" in status(panel), timeout=5000)
        assert child(panel, QProgressBar, "send_progress").value() == 1
    for text in ("2xx", "tries", "ms", "Error"):
        assert text not in status(panel)


def test_clock_words() -> None:
    assert [clock(s) for s in (0, 0.2, 12, 59.5, 60, 200)] == [
        "0 s",
        "1 s",
        "12 s",
        "1 min",
        "1 min",
        "3 min 20 s",
    ]


def test_unreachable_host_shows_a_clear_error(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    with closed_port() as port:
        session.use_sandbox = False
        session.set_key(KEY, "memory")
        session.custom_endpoint = parse_endpoint(f"http://127.0.0.1:{port}")
        session.retry = RetryPolicy(max_attempts=2, initial_backoff=0.01)
        [result] = click_and_wait(qtbot, panel, "Send Live Chat Message Received")
    assert result.error_kind is ErrorKind.CONNECTION
    assert status(panel) == f"1 of 1 test event failed to arrive at 127.0.0.1:{port}."
    assert "ConnectError" not in status(panel)


# --- stop, busy -----------------------------------------------------------------------------------


def test_stop_sending_frees_the_panel_and_busy_follows(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    busy = [session.busy]

    def on_changed() -> None:
        if busy[-1] != session.busy:
            busy.append(session.busy)

    session.changed.connect(on_changed)
    session.sandbox().set_delay(10)
    conversation = button(panel, "Send a whole test conversation")
    stop = button(panel, "Stop sending test events")
    assert stop.text() == "Stop sendin&g"
    assert not stop.isEnabled()
    assert not panel.stop_action.isEnabled()
    qtbot.mouseClick(conversation, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(stop.isEnabled)
    assert session.busy
    assert panel.stop_action.isEnabled()
    assert not conversation.isEnabled()
    assert not panel.send_conversation_action.isEnabled()
    with qtbot.waitSignal(panel.finished, timeout=3000) as blocker:
        qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    assert blocker.args is not None
    results = blocker.args[0]
    assert len(results) == 6
    assert all(r.error_kind is ErrorKind.CANCELLED for r in results)
    assert status(panel).startswith("Cancelled: 0 of 6")
    assert conversation.isEnabled()
    assert panel.send_conversation_action.isEnabled()
    assert not stop.isEnabled()
    assert busy == [False, True, False]
    session.sandbox().set_delay(0)


def test_a_busy_session_keeps_the_buttons_off(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    session.busy = True  # a send elsewhere on the same session
    assert not button(panel, "Send a whole test conversation").isEnabled()
    panel.send_conversation()
    assert not panel.is_busy()
    session.busy = False
    assert button(panel, "Send a whole test conversation").isEnabled()


@pytest.fixture
def hanging_address() -> Iterator[str]:
    """An address whose connect() hangs: a listener with a full accept queue drops new SYNs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(server.getsockname())
        fillers.append(filler)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    for sock in [*fillers, server]:
        sock.close()


def test_stop_while_connecting_frees_the_panel_at_once(
    qtbot: QtBot, panel: SendPanel, session: Session, hanging_address: str
) -> None:
    session.use_sandbox = False
    session.set_key(KEY, "memory")
    session.custom_endpoint = parse_endpoint(hanging_address)
    qtbot.mouseClick(button(panel, "Send a whole test conversation"), Qt.MouseButton.LeftButton)
    stop = button(panel, "Stop sending test events")
    qtbot.waitUntil(stop.isEnabled)
    qtbot.waitUntil(lambda: "Connecting to the sandbox…" in status(panel))  # any loopback
    assert panel.is_busy()
    with qtbot.waitSignal(panel.finished, timeout=5000):
        qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    assert not panel.is_busy()
    assert not session.busy
    assert status(panel).startswith(("Cancelled", "Stopped"))
    # The panel works again at once; the abandoned send's late answer changes nothing.
    session.use_sandbox = True
    results = click_and_wait(qtbot, panel, "Send Live Chat Message Sent")
    assert [r.ok for r in results] == [True]
    assert [r.event for r in panel.view.results()] == ["Live Chat Message Sent"]


# --- keys: focus stays, shortcuts ---------------------------------------------------------------


def test_space_twice_sends_twice_and_never_touches_the_visitor_id(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    activate(qtbot, panel)
    visitor = child(panel, QLineEdit, "send_visitor_id")
    before = visitor.text()
    first = child(panel, QPushButton, f"send_{EVENTS[0].short_name}")
    first.setFocus()
    session.sandbox().delay_next(1.0)
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: not first.isEnabled())
        assert QApplication.focusWidget() is not visitor
        qtbot.keyClicks(QApplication.focusWidget(), "x")  # typing meanwhile goes nowhere harmful
    assert QApplication.focusWidget() is first
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert QApplication.focusWidget() is first
    assert len(session.sandbox().events()) == 2
    assert visitor.text() == before
    assert session.settings.visitor_id == before


def test_ctrl_return_sends_a_conversation(qtbot: QtBot, panel: SendPanel, session: Session) -> None:
    activate(qtbot, panel)
    field = child(panel, QLineEdit, "property_agent_name")
    field.setFocus()
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        qtbot.keyClick(field, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(session.sandbox().events()) == 6
    assert QApplication.focusWidget() is field  # focus stays where the user acted
    shortcuts = {s.toString() for s in panel.send_conversation_action.shortcuts()}
    assert shortcuts == {"Ctrl+Return", "Ctrl+Enter"}
    assert panel.send_conversation_action.shortcutContext() is Qt.ShortcutContext.WindowShortcut
    assert panel.stop_action.shortcuts() == []  # Esc would close the wizard
    assert {panel.send_conversation_action, panel.stop_action} <= set(panel.actions())


# --- layout, words -----------------------------------------------------------------------------


def test_event_buttons_come_from_the_catalogue(panel: SendPanel) -> None:
    events = [child(panel, QPushButton, f"send_{e.short_name}") for e in EVENTS]
    assert [b.text() for b in events] == [
        f"&{i} {e.name.removeprefix('Live Chat ')}" for i, e in enumerate(EVENTS, 1)
    ]
    conversation = child(panel, QPushButton, "send_conversation")
    assert conversation.text() == "Send a whole &conversation"
    assert all(conversation.y() > b.y() for b in events)  # its own row, after every event


def mnemonics(window: QWidget) -> list[str]:
    texts = [b.text() for b in window.findChildren(QAbstractButton) if b.isVisibleTo(window)]
    texts += [label.text() for label in window.findChildren(QLabel) if label.buddy() is not None]
    for tabs in window.findChildren(QTabWidget):
        texts += [tabs.tabText(i) for i in range(tabs.count())]
    return [m.lower() for text in texts for m in re.findall(r"&([^&\s])", text.replace("&&", ""))]


def test_mnemonics_are_unique_in_the_main_window(qtbot: QtBot, tmp_path: Path) -> None:
    from app.ui.main_window import MainWindow

    session = make_session(tmp_path, sandbox=False)  # no key: "Enter the write key" shows too
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    found = mnemonics(window)
    assert "w" in found
    duplicates = sorted({m for m in found if found.count(m) > 1})
    assert duplicates == [], found
    session.close()


def test_the_scroll_area_is_no_tab_stop(panel: SendPanel) -> None:
    assert child(panel, QScrollArea, "send_controls").focusPolicy() == Qt.FocusPolicy.NoFocus


def test_the_splitter_is_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path)
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    qtbot.waitExposed(widget)
    splitter = child(widget, QSplitter, "send_splitter")
    handle = splitter.handle(1)
    start = handle.rect().center()
    qtbot.mousePress(handle, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(handle, start + QPoint(60, 0))
    qtbot.mouseRelease(handle, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 0))
    sizes = splitter.sizes()
    assert session.settings.splitter("send_panel") is not None

    again = SendPanel(session)
    qtbot.addWidget(again)
    again.resize(1000, 600)
    again.show()
    qtbot.waitExposed(again)
    assert child(again, QSplitter, "send_splitter").sizes() == sizes
    session.close()


def test_no_key_offers_to_enter_it(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path, sandbox=False)
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    widget.show()
    target = child(widget, QLabel, "send_target").text()
    assert "There is no write key yet" in target
    assert "step" not in target
    enter = child(widget, QPushButton, "enter_key")
    assert enter.isVisible()
    assert enter.text() == "Enter the &write key…"
    assert not button(widget, "Send a whole test conversation").isEnabled()
    assert not widget.send_conversation_action.isEnabled()
    with qtbot.waitSignal(widget.key_requested, timeout=1000):
        qtbot.mouseClick(enter, Qt.MouseButton.LeftButton)
    session.set_key(KEY, "memory")
    assert not enter.isVisible()
    assert button(widget, "Send a whole test conversation").isEnabled()
    assert "Segment (US)" in child(widget, QLabel, "send_target").text()
    session.close()


def test_the_target_line_shows_any_address_but_segments(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    target = child(widget, QLabel, "send_target")
    assert "Segment (US)" in target.text()
    assert KEY not in target.text()
    endpoint = parse_endpoint(sandbox.url)
    session.custom_endpoint = endpoint
    assert endpoint.host in target.text()  # "Check the address" in a message points here
    session.use_sandbox = True
    assert "built-in sandbox" in target.text()
    with qtbot.waitSignal(widget.finished, timeout=10_000):
        widget.send_event("Live Chat Message Sent")
    running = session.running_sandbox()
    assert running is not None
    assert running.url.removeprefix("http://") in target.text()
    session.close()


def test_the_chosen_proxy_and_time_limit_are_used(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    session.custom_endpoint = parse_endpoint(sandbox.url)
    session.proxy = ProxyChoice(ProxyMode.NONE)
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    assert "through no proxy" in child(widget, QLabel, "send_target").text()
    with closed_port() as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")  # would be refused
        with qtbot.waitSignal(widget.finished, timeout=10_000) as blocker:
            widget.send_event("Live Chat Message Sent")
    assert blocker.args is not None
    assert [r.ok for r in blocker.args[0]] == [True]
    session.close()


# --- the rest -------------------------------------------------------------------------------------


def test_debugger_button_opens_the_source_debugger(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    session.settings.workspace_slug = "acme"
    opened: list[str] = []
    monkeypatch.setattr(browser, "open_url", opened.append)
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    widget.view.debugger_requested.emit()
    assert opened == ["https://app.segment.com/acme/sources/chatlio/debugger"]
    session.close()


def test_every_control_has_an_accessible_name(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QAbstractItemView

    from app.ui.main_window import MainWindow

    session = make_session(tmp_path)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    kinds = (QAbstractButton, QLineEdit, QComboBox, QSpinBox, QAbstractItemView, QProgressBar)
    controls = [
        widget
        for widget in window.findChildren(QWidget)
        if isinstance(widget, kinds)
        and (widget.focusPolicy() & Qt.FocusPolicy.TabFocus or isinstance(widget, QProgressBar))
        and widget.window() is window  # not the combo box popup's list
        and not isinstance(widget.parent(), QSpinBox | QComboBox)  # parts of other controls
        and type(widget).__name__ != "QTabBar"  # the tab texts name the tabs
    ]
    assert len(controls) > 15
    unnamed = [type(w).__name__ + ":" + w.objectName() for w in controls if not w.accessibleName()]
    assert unnamed == []
    session.close()


def test_a_late_answer_after_the_panel_is_gone_is_ignored(qtbot: QtBot, tmp_path: Path) -> None:
    import shiboken6

    session = make_session(tmp_path)
    session.sandbox().delay_next(0.5)
    widget = SendPanel(session)
    widget.send_event("Live Chat Message Sent")
    widget.deleteLater()  # the wizard was finished, or the window closed, mid-send
    qtbot.waitUntil(lambda: not shiboken6.isValid(widget))
    qtbot.waitUntil(lambda: len(session.sandbox().events()) == 1, timeout=5000)
    qtbot.wait(200)  # the answer reaches the GUI thread; pytest-qt fails the test if a slot raised
    session.close()


def test_sandbox_mode_never_sends_the_real_key(qtbot: QtBot, tmp_path: Path) -> None:
    from app.segment import SANDBOX_KEY

    session = make_session(tmp_path, key=KEY)  # a real key is held, but sandbox mode is on
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    click_and_wait(qtbot, widget, "Send Live Chat Conversation Started")
    assert [e.write_key for e in session.sandbox().events()] == [SANDBOX_KEY]
    assert session.secrets() == [KEY]  # still scrubbed from crash reports in sandbox mode
    session.close()


def test_narrow_the_buttons_stack_and_nothing_goes_sideways(qtbot: QtBot, panel: SendPanel) -> None:
    scroll = child(panel, QScrollArea, "send_controls")
    events = [child(panel, QPushButton, f"send_{e.short_name}") for e in EVENTS]
    conversation = child(panel, QPushButton, "send_conversation")
    splitter = child(panel, QSplitter, "send_splitter")
    controls = scroll.widget()
    assert controls is not None
    for left in (scroll.minimumWidth(), 700):
        splitter.setSizes([left, panel.width() - left])
        qtbot.waitUntil(lambda: controls.width() <= scroll.viewport().width())
        columns = len({b.x() for b in events})
        assert columns == (1 if left == scroll.minimumWidth() else 2)
        assert all(conversation.y() > b.y() for b in events)


def test_a_send_made_in_another_view_shows_its_count_and_summary(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    from app.ui.session import SendRecord

    record = SendRecord("v", "c", sandbox=True, total=6)
    session.begin_send(record)
    session.end_send(record, "6 of 6 test events arrived at the sandbox on this computer.")
    bar = child(panel, QProgressBar, "send_progress")
    assert (bar.value(), bar.maximum()) == (0, 6)
    assert status(panel) == "6 of 6 test events arrived at the sandbox on this computer."
