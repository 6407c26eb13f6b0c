"""The app keeps its sends: real widgets send to the sandbox over loopback, and the history file
(real SQLite, this test's own data directory) holds them, their confirmation, and no secret."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.history.records import Face, Outcome
from app.history.store import HistoryStore, KeepMode, Retention, default_path
from app.proof.arrival import Verdict
from app.segment.sandbox import Sandbox
from app.ui.session import SendRecord, Session
from tests.gui_helpers import make_session
from tests.test_confirm_gui import CONVERSATION, QUICK, make_panel, real_session, send
from tests.test_history_store import PLANTED_KEY, PLANTED_TOKEN, secret_forms


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    made = make_session(tmp_path)
    yield made
    made.close()


def test_a_send_from_the_panel_is_kept_with_segments_confirmation(
    qtbot: QtBot, session: Session
) -> None:
    panel = make_panel(qtbot, session, QUICK)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        send(qtbot, panel)
    store = session.history_store()
    assert store.path == default_path()  # the file the command line uses too
    [entry] = store.page()
    assert entry.face is Face.APP
    assert entry.outcome is Outcome.ARRIVED
    assert entry.total == 6
    assert entry.sandbox
    record = session.last_send
    assert record is not None
    assert record.history_id == entry.id
    # Confirming ends later; its verdict joins the kept send.
    qtbot.waitUntil(lambda: _confirmation(store, entry.id) is not None, timeout=20_000)
    assert _confirmation(store, entry.id) == Verdict.CONFIRMED.value
    assert store.page()[0].confirmation  # the headline, for the list


def _confirmation(store: HistoryStore, send_id: int) -> str | None:
    detail = store.get(send_id)
    return None if detail is None or detail.confirmation is None else detail.confirmation["verdict"]


def test_the_history_is_written_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    original = HistoryStore.record

    def recording(self: HistoryStore, *args: object, **kwargs: object) -> int | None:
        threads.append(threading.current_thread().name)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(HistoryStore, "record", recording)
    session = make_session(tmp_path)
    panel = make_panel(qtbot, session, QUICK)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        send(qtbot, panel, "Send Live Chat Message Sent")
    assert threads == ["send"]
    assert threading.main_thread().name not in threads
    session.close()


def test_no_key_or_token_reaches_the_history_from_the_app(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    session = real_session(tmp_path, sandbox, PLANTED_KEY, PLANTED_TOKEN)
    panel = make_panel(qtbot, session, QUICK)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        send(qtbot, panel)
    store = session.history_store()
    [entry] = store.page()
    # The sandbox refuses the planted token: confirming fails, and that is kept too.
    qtbot.waitUntil(lambda: _confirmation(store, entry.id) is not None, timeout=20_000)
    assert sandbox.requests(), "the planted key went out"
    store.close()
    written = b"".join(
        Path(f"{store.path}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{store.path}{suffix}").exists()
    )
    assert entry.summary.encode() in written
    for secret in (PLANTED_KEY, PLANTED_TOKEN):
        for form in secret_forms(secret):
            assert form not in written, form
    session.close()


def test_a_history_that_cannot_be_written_never_fails_the_send(
    qtbot: QtBot, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the history's directory should be")
    session = Session(
        make_session(tmp_path).settings, history=HistoryStore(blocker / "history.sqlite3")
    )
    session.use_sandbox = True
    panel = make_panel(qtbot, session, QUICK)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        send(qtbot, panel, "Send Live Chat Message Sent")
    record = session.last_send
    assert record is not None
    assert record.results[0].ok
    assert record.history_id is None
    assert "cannot be kept" in session.history_problem
    assert "not kept in the history" in session.history_problem
    session.close()


def test_with_history_off_a_send_is_not_kept(qtbot: QtBot, session: Session) -> None:
    session.history_store().retention = Retention(KeepMode.OFF, 0)
    panel = make_panel(qtbot, session, QUICK)
    send(qtbot, panel, "Send Live Chat Message Sent")
    qtbot.waitUntil(lambda: session.last_send is not None and session.last_send.ended)
    assert session.history_store().count() == 0
    assert session.last_send is not None
    assert session.last_send.history_id is None


def test_the_wizards_trial_keeps_its_sends_in_the_same_history(session: Session) -> None:
    trial = session.trial()
    assert trial.history_store() is session.history_store()
    heard: list[bool] = []
    session.history_changed.connect(lambda: heard.append(True))
    trial.history_kept(7, "")
    assert heard == [True]


def test_a_kept_send_shows_like_a_new_one(qtbot: QtBot, session: Session) -> None:
    panel = make_panel(qtbot, session, QUICK)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        send(qtbot, panel, CONVERSATION)
    store = session.history_store()
    qtbot.waitUntil(lambda: _confirmation(store, store.page()[0].id) is not None, timeout=20_000)
    detail = store.get(store.page()[0].id)
    assert detail is not None
    first = session.last_send
    assert first is not None
    shown = SendRecord.from_history(detail)
    session.show_kept(shown)
    assert session.last_send is shown
    assert shown is not first
    assert shown.results == first.results
    assert shown.summary.endswith(f"(from the history): {first.summary}")
    assert shown.ended
    assert shown.confirmation is not None
    assert shown.confirmation.verdict is Verdict.CONFIRMED
    assert shown.confirmation.headline == first.confirmation.headline  # type: ignore[union-attr]


def test_send_again_sends_the_same_properties_with_new_message_ids(
    qtbot: QtBot, session: Session
) -> None:
    panel = make_panel(qtbot, session, QUICK)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        send(qtbot, panel, CONVERSATION)
    store = session.history_store()
    detail = store.get(store.page()[0].id)
    assert detail is not None
    with (
        qtbot.waitSignal(session.history_changed, timeout=10_000),
        qtbot.waitSignal(panel.finished, timeout=10_000),
    ):
        assert panel.send_again(detail)
    again = store.get(store.page()[0].id)
    assert again is not None
    assert again.entry.id != detail.entry.id
    assert [r.payload["properties"] for r in again.results] == [
        r.payload["properties"] for r in detail.results
    ]
    assert again.visitor_id == detail.visitor_id
    assert not {r.message_id for r in again.results} & {r.message_id for r in detail.results}


def test_send_again_waits_for_a_running_send(qtbot: QtBot, session: Session) -> None:
    panel = make_panel(qtbot, session, QUICK)
    with qtbot.waitSignal(session.history_changed, timeout=10_000):
        send(qtbot, panel, "Send Live Chat Message Sent")
    detail = session.history_store().get(session.history_store().page()[0].id)
    assert detail is not None
    session.busy = True  # another view's send is running
    assert not panel.send_again(detail)
    session.busy = False
