"""Confirming arrival in the GUI, end to end: real widgets send to the sandbox over loopback, and
the sandbox's Public API counts what its Tracking API received; the verdict shows in words."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

from app.key_storage import SESSION_LOCATION
from app.proof.arrival import Confirmation, Verdict
from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.segment.endpoint import parse_endpoint
from app.segment.public_api.hosts import parse_api_endpoint
from app.segment.sandbox import Sandbox
from app.ui.confirm import Pacing, running_check
from app.ui.page_kit import PageId
from app.ui.send_panel import SendPanel
from app.ui.session import Session
from app.ui.wizard import SetupWizard
from tests.gui_helpers import child, make_session, shown

# A real-looking token and key, planted to be searched for in everything the window shows.
PLANTED_TOKEN = "sgp_PlantedToken0123456789abcdefghijklmnopqrstuvwxyzABCD"
PLANTED_KEY = "PlantedConfirmKey0123456789abcdef"
WEBSITE_KEY = "sandbox-website-key"  # the sandbox's seeded JavaScript source
# Quick enough for a test, slow enough to see the progress and press Cancel.
QUICK = Pacing(wait=20.0, poll_every=0.2)
JARGON = ("401", "403", "429", "2xx", "http", "readtimeout", "connecterror", "traceback")
CONVERSATION = "Send a whole test conversation"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    made = make_session(tmp_path)
    yield made
    made.close()


def with_chatlio_source(session: Session) -> None:
    """What the wizard's Create button does: the sandbox's first Chatlio source gets
    SANDBOX_KEY, the key sandbox mode sends with."""
    from app.proof.create import create_chatlio_source

    with session.api_client() as client:
        create_chatlio_source(client, "Chatlio")


def make_panel(qtbot: QtBot, session: Session, pacing: Pacing = QUICK) -> SendPanel:
    return shown(qtbot, SendPanel(session, pacing=pacing), 1000, 700)


def button(root: QWidget, accessible_name: str) -> QPushButton:
    found = [b for b in root.findChildren(QPushButton) if b.accessibleName() == accessible_name]
    assert len(found) == 1, accessible_name
    return found[0]


def send(qtbot: QtBot, panel: SendPanel, name: str = CONVERSATION) -> None:
    with qtbot.waitSignal(panel.finished, timeout=10_000):
        qtbot.mouseClick(button(panel, name), Qt.MouseButton.LeftButton)


def headline(root: QWidget) -> str:
    return child(root, QLabel, "arrival_headline").text()


def detail(root: QWidget) -> str:
    return child(root, QLabel, "arrival_detail").text()


def verdict(qtbot: QtBot, session: Session, timeout: int = 30_000) -> Confirmation:
    """The last send's confirmation, once confirming ended."""

    def ended() -> bool:
        record = session.last_send
        return record is not None and record.confirmation is not None

    qtbot.waitUntil(ended, timeout=timeout)
    record = session.last_send
    assert record is not None
    assert record.confirmation is not None
    return record.confirmation


def confirm_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "confirm" and t.is_alive()]


def everything_shown(root: QWidget) -> str:
    """Every text a person could see or a screen reader read in `root`'s window."""
    parts: list[str] = [root.windowTitle()]
    for widget in root.findChildren(QWidget):
        parts += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription()]
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            parts.append(widget.text())
        elif isinstance(widget, QPlainTextEdit):
            parts.append(widget.toPlainText())
        elif isinstance(widget, QTabWidget):
            parts += [widget.tabText(i) for i in range(widget.count())]
    return "\n".join(parts)


def plain(text: str) -> None:
    lowered = text.lower()
    assert not [word for word in JARGON if word in lowered], text


# --- the verdicts ---------------------------------------------------------------------------


def test_a_conversation_is_confirmed_by_segments_count(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.CONFIRMED
    assert (confirmation.expected, confirmation.counted) == (6, 6)
    shown_headline = headline(panel)
    assert shown_headline.startswith("\u2714 ")
    assert "counted" in shown_headline
    assert "6" in shown_headline
    assert "source chatlio" in shown_headline.lower()
    said = detail(panel)
    assert "minute" in said, "the per-minute caveat"
    assert "real chats" in said
    assert "sandbox" in said, "in sandbox mode the count is said to be the sandbox's"
    assert not child(panel, QPushButton, "cancel_confirm").isVisible()
    plain(shown_headline + said)
    assert confirm_threads() == []


def test_progress_is_shown_while_segment_counts(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    session.sandbox().public_api.count_delay = 2.0  # like Segment's half a minute, shorter
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    progress = re.compile(
        r"^Asking the sandbox for its count\u2026 0 of 6 counted, \d+ s of up to 20 s$"
    )
    qtbot.waitUntil(lambda: progress.match(headline(panel)) is not None, timeout=10_000)
    cancel = child(panel, QPushButton, "cancel_confirm")
    assert cancel.isVisible()
    assert cancel.isEnabled()
    assert session.busy is False, "confirming leaves the session free: send or leave meanwhile"
    assert child(panel, QPushButton, "send_conversation").isEnabled()
    assert verdict(qtbot, session).verdict is Verdict.CONFIRMED
    assert headline(panel).startswith("\u2714 ")


def test_events_discarded_at_ingest_are_counted_and_named(qtbot: QtBot, session: Session) -> None:
    # A source that is turned off: Segment answers 200 to its events, then drops them all.
    with session.api_client() as client:
        client.create_source("chatlio", enabled=False)
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.DISCARDED
    assert dict(confirmation.discarded) == {"source_disabled": 6}
    shown_headline = headline(panel)
    assert shown_headline == "\u2716 The sandbox discarded 6 at ingest: the source is turned off."
    assert "minute" in detail(panel)
    plain(shown_headline + detail(panel))


def test_not_counted_when_the_wait_ends_first(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    session.sandbox().public_api.count_delay = 600.0
    panel = make_panel(qtbot, session, Pacing(wait=1.0, poll_every=0.2))
    send(qtbot, panel)
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.NOT_COUNTED
    assert confirmation.counted == 0
    shown_headline = headline(panel)
    assert shown_headline.startswith("\u2716 Not counted after")
    assert len(detail(panel)) > 40, "what to check"
    plain(shown_headline + detail(panel))


def test_trying_it_out_without_creating_a_source_is_confirmed(
    qtbot: QtBot, session: Session
) -> None:
    """The welcome page's "Try it without a Segment account" skips the source page: the
    sandbox's stand-in Chatlio source holds its key, so the try-out is counted all the same."""
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    assert verdict(qtbot, session).verdict is Verdict.CONFIRMED
    assert "Chatlio" in headline(panel)


def test_the_key_of_no_source_is_said_and_nothing_is_counted(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    unknown = "NoSourceHasThisKey0123456789abcd"
    session = real_session(tmp_path, sandbox, unknown, SANDBOX_TOKEN)
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.FAILED
    assert headline(panel).startswith("\u2716 Not confirmed: no source")
    assert "did not ask" in detail(panel)
    assert unknown not in everything_shown(panel)
    paths = [r.path for r in sandbox.requests()]
    assert not [p for p in paths if "delivery-overview" in p or "volume" in p], paths
    session.close()


def test_a_token_that_cannot_see_write_keys_is_said(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    session.sandbox().public_api.hide_write_keys()
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    assert verdict(qtbot, session).verdict is Verdict.FAILED
    assert headline(panel) == (
        "\u2716 Not confirmed: the token cannot see the sources' write keys."
    )
    assert "Source Admin" in detail(panel)


def test_a_rate_limit_while_polling_is_waited_out(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    sandbox = session.sandbox()
    sandbox.public_api.count_delay = 1.0
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    qtbot.waitUntil(lambda: "counted" in headline(panel), timeout=10_000)
    sandbox.public_api.fail_next(429, ms_before_next=500)
    assert verdict(qtbot, session).verdict is Verdict.CONFIRMED
    assert sandbox.public_api.pending_faults() == 0


# --- real mode: the token, and the key's source ------------------------------------------------


def real_session(tmp_path: Path, sandbox: Sandbox, key: str, token: str | None) -> Session:
    """Real mode pointed at a sandbox: its Tracking API and its Public API."""
    session = make_session(tmp_path, key=key, sandbox=False)
    session.custom_endpoint = parse_endpoint(sandbox.url)
    session.use_api_endpoint_from_command_line(parse_api_endpoint(sandbox.public_api_url))
    if token is not None:
        session.set_token(token, SESSION_LOCATION)
    return session


def test_a_website_key_is_said_to_be_no_chatlio_source(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = real_session(tmp_path, sandbox, WEBSITE_KEY, SANDBOX_TOKEN)
    panel = make_panel(qtbot, session)
    send(qtbot, panel, "Send Live Chat Message Sent")
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.FAILED
    assert "not a Chatlio source" in headline(panel)
    assert "did not ask" in detail(panel)
    assert session.key_owner is not None, "the key's source is remembered for the other views"
    assert not session.key_owner.is_chatlio
    session.close()


def test_real_mode_confirms_with_the_token(qtbot: QtBot, tmp_path: Path) -> None:
    with Sandbox(chatlio_source=True) as sandbox:
        session = real_session(tmp_path, sandbox, SANDBOX_KEY, SANDBOX_TOKEN)
        panel = make_panel(qtbot, session)
        send(qtbot, panel)
        assert verdict(qtbot, session).verdict is Verdict.CONFIRMED
        assert "sandbox" not in detail(panel), "real mode makes no claim about a sandbox"
        assert session.key_owner is not None
        assert session.key_owner.is_chatlio
        session.close()


def test_a_refused_token_is_said_in_words_and_never_shown(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = real_session(tmp_path, sandbox, PLANTED_KEY, PLANTED_TOKEN)
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.FAILED
    assert headline(panel).startswith("\u2716 Not confirmed: Segment could not be asked")
    plain(headline(panel) + detail(panel))
    shown_text = everything_shown(panel)
    assert PLANTED_TOKEN not in shown_text
    assert PLANTED_KEY not in shown_text
    assert PLANTED_TOKEN not in caplog.text
    assert PLANTED_KEY not in caplog.text
    session.close()


def test_the_sandbox_never_gets_the_real_token(qtbot: QtBot, session: Session) -> None:
    session.set_token(PLANTED_TOKEN, SESSION_LOCATION)
    with_chatlio_source(session)
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    assert verdict(qtbot, session).verdict is Verdict.CONFIRMED
    assert PLANTED_TOKEN not in everything_shown(panel)
    headers = [r.headers for r in session.sandbox().requests()]
    assert not [h for h in headers if PLANTED_TOKEN in repr(h)]


def test_without_a_token_a_200_is_explained_and_a_token_offered(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = make_session(tmp_path, key=PLANTED_KEY, sandbox=False)
    session.custom_endpoint = parse_endpoint(sandbox.url)
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    assert child(panel, QLabel, "arrival_headline").isVisible()
    said = headline(panel) + " " + detail(panel)
    assert (
        headline(panel) == f"Received by {sandbox.url}, not confirmed: there is no Public API token"
    )
    assert "200" in said
    assert "not that Segment did" in said, "a 200 from another address proves less still"
    assert "unknown write key" in said
    assert "Team and Business" in said
    assert "Debugger" in said
    assert running_check(session.last_send) is None
    assert session.last_send is not None
    assert session.last_send.confirmation is None
    assert not [r for r in sandbox.requests() if r.path.startswith("/public-api")]
    session.close()


def test_a_token_entered_after_the_send_confirms_that_send(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    from PySide6.QtWidgets import QApplication

    from app.token_store import SessionTokenStore
    from app.ui.settings import AppSettings
    from app.ui.token_entry import TokenDialog

    sandbox.public_api.workspace.create("chatlio", "W3065KyMWF", name="Chatlio")
    session = Session(AppSettings(str(tmp_path / "settings.ini")), token_store=SessionTokenStore())
    session.use_sandbox = False
    session.set_key(SANDBOX_KEY, SESSION_LOCATION)  # real mode, pointed at the sandbox
    session.custom_endpoint = parse_endpoint(sandbox.url)
    session.use_api_endpoint_from_command_line(parse_api_endpoint(sandbox.public_api_url))
    panel = make_panel(qtbot, session)
    send(qtbot, panel)
    offer = child(panel, QPushButton, "confirm_with_token")
    assert offer.isVisible()
    offer.click()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), TokenDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, TokenDialog)
    dialog.entry.edit.setText(SANDBOX_TOKEN)
    child(dialog, QPushButton, "token_session_only").click()
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.CONFIRMED, confirmation.headline
    assert not offer.isVisible()
    dialog.reject()
    session.close()


# --- Cancel, closing, leaving the wizard ------------------------------------------------------


def test_cancel_stops_polling_promptly(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    sandbox = session.sandbox()
    sandbox.public_api.count_delay = 600.0
    panel = make_panel(qtbot, session, Pacing(wait=120.0, poll_every=0.2))
    send(qtbot, panel)
    qtbot.waitUntil(lambda: "counted" in headline(panel), timeout=10_000)
    cancel = child(panel, QPushButton, "cancel_confirm")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    confirmation = verdict(qtbot, session, timeout=5_000)
    assert confirmation.verdict is Verdict.CANCELLED
    assert headline(panel).startswith("\u25a0 ")
    assert not cancel.isVisible()
    qtbot.waitUntil(lambda: confirm_threads() == [], timeout=5_000)
    asked = len(sandbox.requests())
    qtbot.wait(600)  # three poll intervals: none follows
    assert len(sandbox.requests()) == asked


def test_closing_the_window_mid_poll_stops_it(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    session.sandbox().public_api.count_delay = 600.0
    panel = SendPanel(session, pacing=Pacing(wait=120.0, poll_every=0.2))
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    send(qtbot, panel)
    qtbot.waitUntil(lambda: "counted" in headline(panel), timeout=10_000)
    record = session.last_send
    assert record is not None
    panel.close()
    panel.deleteLater()
    qtbot.waitUntil(lambda: record.confirmation is not None, timeout=5_000)
    assert record.confirmation is not None
    assert record.confirmation.verdict is Verdict.CANCELLED
    qtbot.waitUntil(lambda: confirm_threads() == [], timeout=5_000)


def test_a_new_send_replaces_the_confirmation_of_the_last(qtbot: QtBot, session: Session) -> None:
    with_chatlio_source(session)
    session.sandbox().public_api.count_delay = 600.0
    panel = make_panel(qtbot, session, Pacing(wait=120.0, poll_every=0.2))
    send(qtbot, panel)
    first = session.last_send
    assert first is not None
    qtbot.waitUntil(lambda: "counted" in headline(panel), timeout=10_000)
    session.sandbox().public_api.count_delay = 0.0
    send(qtbot, panel, "Send Live Chat Conversation Started")
    assert verdict(qtbot, session).verdict is Verdict.CONFIRMED
    assert first.confirmation is not None
    assert first.confirmation.verdict is Verdict.CANCELLED
    assert "1" in headline(panel)


def confirming_in_the_wizard(
    qtbot: QtBot, session: Session, count_delay: float
) -> tuple[SetupWizard, SendPanel]:
    """The wizard's "Try it without a Segment account", a conversation sent from its test
    page, and Segment's count being asked for."""
    paced = Pacing(wait=60.0, poll_every=0.2)
    wizard = SetupWizard(session, lambda trial, parent: SendPanel(trial, parent, pacing=paced))
    qtbot.addWidget(wizard, before_close_func=lambda w: w.discard())
    wizard.show()
    qtbot.waitExposed(wizard)
    qtbot.mouseClick(child(wizard, QPushButton, "try_sandbox"), Qt.MouseButton.LeftButton)
    assert wizard.currentId() == PageId.TEST
    with_chatlio_source(wizard.trial)
    wizard.trial.sandbox().public_api.count_delay = count_delay
    panel = wizard.test_panel()
    assert isinstance(panel, SendPanel)
    send(qtbot, panel)
    qtbot.waitUntil(lambda: "counted" in headline(panel), timeout=10_000)
    assert running_check(wizard.trial.last_send) is not None
    return wizard, panel


def test_the_wizard_goes_on_while_confirming_and_the_main_window_shows_the_verdict(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from app.ui.main_window import MainWindow

    session = make_session(tmp_path, sandbox=False)
    wizard, _panel = confirming_in_the_wizard(qtbot, session, count_delay=1.5)
    record = wizard.trial.last_send
    forward = QWizard.WizardButton.NextButton
    while wizard.currentId() != PageId.FINISH:
        assert wizard.button(forward).isEnabled(), "Next is not held while confirming"
        wizard.next()
    finish = wizard.button(QWizard.WizardButton.FinishButton)
    assert finish.isEnabled()
    with qtbot.waitSignal(wizard.accepted):
        qtbot.mouseClick(finish, Qt.MouseButton.LeftButton)
    assert session.last_send is record
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    wizard.deleteLater()  # as the app does once the wizard is done
    confirmation = verdict(qtbot, session)
    assert confirmation.verdict is Verdict.CONFIRMED
    qtbot.waitUntil(lambda: headline(window).startswith("\u2714 "), timeout=5_000)
    session.close()


def test_leaving_the_wizard_mid_poll_stops_it(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.wizard import LeaveSetupDialog

    monkeypatch.setattr(LeaveSetupDialog, "ask", classmethod(lambda cls, *args: True))
    session = make_session(tmp_path, sandbox=False)
    wizard, _panel = confirming_in_the_wizard(qtbot, session, count_delay=600.0)
    record = wizard.trial.last_send
    assert record is not None
    with qtbot.waitSignal(wizard.rejected):
        wizard.reject()
    wizard.deleteLater()  # as the app does once the wizard is done
    qtbot.waitUntil(lambda: record.confirmation is not None, timeout=5_000)
    assert record.confirmation is not None
    # Stopped, or cut by the trial's sandbox stopping first: either way it ends, at once.
    assert record.confirmation.verdict in (Verdict.CANCELLED, Verdict.FAILED)
    qtbot.waitUntil(lambda: confirm_threads() == [], timeout=5_000)
    assert session.last_send is None, "nothing of the trial carries over"
    session.close()


def test_the_verdict_box_has_names_for_screen_readers(qtbot: QtBot, session: Session) -> None:
    panel = make_panel(qtbot, session)
    for name in ("arrival_headline", "arrival_detail"):
        assert child(panel, QLabel, name).accessibleName()
    assert child(panel, QPushButton, "cancel_confirm").accessibleName()
