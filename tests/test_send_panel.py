"""The test-event buttons and the response view, driven as a user would, against the sandbox."""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from app.chatlio import EVENTS
from app.segment.endpoint import parse_endpoint
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.ui import browser, response_view
from app.ui.send_panel import SendPanel
from app.ui.session import Session
from tests.gui_helpers import make_session

KEY = "PlantedPanelKey0123456789abcdef"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    made = make_session(tmp_path)
    yield made
    made.close()


@pytest.fixture
def panel(qtbot: QtBot, session: Session) -> SendPanel:
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    return widget


def button(panel: SendPanel, accessible_name: str) -> QPushButton:
    found = [b for b in panel.findChildren(QPushButton) if b.accessibleName() == accessible_name]
    assert len(found) == 1, accessible_name
    return found[0]


def click_and_wait(qtbot: QtBot, panel: SendPanel, name: str, timeout: int = 10_000) -> list:  # type: ignore[type-arg]
    with qtbot.waitSignal(panel.finished, timeout=timeout) as blocker:
        qtbot.mouseClick(button(panel, name), Qt.MouseButton.LeftButton)
    assert blocker.args is not None
    return list(blocker.args[0])


@pytest.mark.parametrize("event", [e.name for e in EVENTS])
def test_each_button_sends_exactly_that_event(
    qtbot: QtBot, panel: SendPanel, session: Session, event: str
) -> None:
    results = click_and_wait(qtbot, panel, f"Send {event}")
    assert [r.event for r in results] == [event]
    [received] = session.sandbox().events()
    assert received.payload["event"] == event
    assert received.payload["anonymousId"] == session.settings.visitor_id
    spec = next(e for e in EVENTS if e.name == event)
    assert set(received.payload["properties"]) == set(spec.properties)
    assert panel.view.results()[0].ok
    assert "HTTP 200" in panel.view._list.item(0).text()
    assert "sandbox" in panel.view._verdict.toPlainText()
    assert "received it" in panel.view._headline.text()


def test_whole_conversation_in_order(qtbot: QtBot, panel: SendPanel, session: Session) -> None:
    results = click_and_wait(qtbot, panel, "Send a whole test conversation")
    names = [e.payload["event"] for e in session.sandbox().events()]
    assert names == [r.event for r in results]
    assert names[0] == "Live Chat Conversation Started"
    assert names[-1] == "Live Chat Conversation Ended"
    assert len(names) == 6
    assert panel.view._list.count() == 6
    ids = {e.payload["properties"]["conversation_id"] for e in session.sandbox().events()}
    assert len(ids) == 1


def test_edited_properties_and_user_id_are_sent(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    duration = panel.findChild(QSpinBox)
    assert duration is not None
    duration.setValue(42)
    panel._fields["agent_name"].setProperty("text", "Dana Example")
    panel._id_kind.setCurrentIndex(1)
    click_and_wait(qtbot, panel, "Send Live Chat Conversation Ended")
    [received] = session.sandbox().events()
    assert received.payload["properties"]["conversation_duration"] == 42
    assert received.payload["properties"]["agent_name"] == "Dana Example"
    assert "userId" in received.payload
    assert "anonymousId" not in received.payload
    assert session.settings.as_user_id


def test_429_then_success_shows_the_retry(qtbot: QtBot, panel: SendPanel, session: Session) -> None:
    session.sandbox().fail_next(429, retry_after="1")
    [result] = click_and_wait(qtbot, panel, "Send Live Chat Message Sent")
    assert result.ok
    assert "2 tries" in panel.view._list.item(0).text()
    timing = panel.view._timing.toPlainText()
    assert "Try 1: HTTP 429" in timing
    assert "Try 2 after waiting 1.0 s: HTTP 200" in timing


def test_unreachable_host_shows_a_clear_error(
    qtbot: QtBot, panel: SendPanel, session: Session
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session.use_sandbox = False
    session.set_key(KEY, "memory")
    session.custom_endpoint = parse_endpoint(f"http://127.0.0.1:{port}")
    session.retry = RetryPolicy(max_attempts=2, initial_backoff=0.01)
    panel.refresh()
    [result] = click_and_wait(qtbot, panel, "Send Live Chat Message Received")
    assert not result.ok
    assert "Could not connect" in panel.view._headline.text()
    assert "failed" in panel._status.text()
    assert "Traceback" not in panel.view._response.toPlainText()


def test_cancel_during_a_slow_send(qtbot: QtBot, panel: SendPanel, session: Session) -> None:
    session.sandbox().set_delay(10)
    qtbot.mouseClick(button(panel, "Send a whole test conversation"), Qt.MouseButton.LeftButton)
    cancel = button(panel, "Cancel sending")
    qtbot.waitUntil(cancel.isEnabled)
    assert not button(panel, "Send a whole test conversation").isEnabled()
    assert panel._progress.isVisible()
    with qtbot.waitSignal(panel.finished, timeout=3000) as blocker:
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert blocker.args is not None
    results = blocker.args[0]
    assert len(results) == 6
    assert all(r.error_kind == "cancelled" for r in results)
    assert "Cancelled" in panel._status.text()
    assert button(panel, "Send a whole test conversation").isEnabled()
    assert not panel._progress.isVisible()
    session.sandbox().set_delay(0)


def test_copy_as_curl_hides_the_key_unless_asked(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path, key=KEY, sandbox=False)
    session.custom_endpoint = parse_endpoint(sandbox.url)  # stands in for Segment
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    click_and_wait(qtbot, widget, "Send Live Chat Message Sent")
    copy = button(widget, "Copy the request as a cURL command")
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("curl -X POST")
    assert "<write key hidden>" in copied
    assert KEY not in copied
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    assert token not in copied

    widget.view._with_key.setChecked(True)
    monkeypatch.setattr(response_view.RevealKeyDialog, "ask", classmethod(lambda cls, p: False))
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert token not in QGuiApplication.clipboard().text()
    monkeypatch.setattr(response_view.RevealKeyDialog, "ask", classmethod(lambda cls, p: True))
    widget.view._secret_clipboard.clear_after_ms = 200
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert token in QGuiApplication.clipboard().text()
    assert "cleared again" in widget.view._copied.text()
    qtbot.waitUntil(lambda: token not in QGuiApplication.clipboard().text(), timeout=2000)
    session.close()


def test_no_key_disables_sending(qtbot: QtBot, tmp_path: Path) -> None:
    session = make_session(tmp_path, sandbox=False)
    widget = SendPanel(session)
    qtbot.addWidget(widget)
    assert not button(widget, "Send a whole test conversation").isEnabled()
    assert "No write key yet" in widget._target.text()


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


def test_every_control_has_an_accessible_name(qtbot: QtBot, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QComboBox, QLineEdit

    from app.ui.main_window import MainWindow

    session = make_session(tmp_path)
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    kinds = (QAbstractButton, QLineEdit, QComboBox, QSpinBox, QAbstractItemView)
    controls = [
        widget
        for widget in window.findChildren(QWidget)
        if isinstance(widget, kinds)
        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        and widget.window() is window  # not the combo box popup's list
        and not isinstance(widget.parent(), QSpinBox | QComboBox)  # parts of other controls
        and type(widget).__name__ != "QTabBar"  # the tab texts name the tabs
    ]
    assert len(controls) > 15
    unnamed = [type(w).__name__ + ":" + w.objectName() for w in controls if not w.accessibleName()]
    assert unnamed == []
    session.close()


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


def test_cancel_while_connecting_frees_the_panel_at_once(
    qtbot: QtBot, panel: SendPanel, session: Session, hanging_address: str
) -> None:
    session.use_sandbox = False
    session.set_key(KEY, "memory")
    session.custom_endpoint = parse_endpoint(hanging_address)
    panel.refresh()
    qtbot.mouseClick(button(panel, "Send a whole test conversation"), Qt.MouseButton.LeftButton)
    cancel = button(panel, "Cancel sending")
    qtbot.waitUntil(cancel.isEnabled)
    qtbot.wait(300)  # well inside the connect
    assert panel.is_busy()
    with qtbot.waitSignal(panel.finished, timeout=2000):
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert not panel.is_busy()
    assert "Cancelled" in panel._status.text()
    # The panel works again at once; the abandoned send's late answer changes nothing.
    session.use_sandbox = True
    panel.refresh()
    results = click_and_wait(qtbot, panel, "Send Live Chat Message Sent")
    assert [r.ok for r in results] == [True]
    assert [r.event for r in panel.view.results()] == ["Live Chat Message Sent"]


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
