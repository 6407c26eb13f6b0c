"""The Public API token's entry and dialog: checked off the GUI thread against real loopback
servers, kept in a real keyring (or this session only), and never shown or written anywhere."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.key_storage import SESSION_LOCATION
from app.keystore import KeyStore
from app.segment.endpoint import Region
from app.segment.public_api.hosts import ApiEndpoint
from app.segment.sandbox import Sandbox
from app.token_store import KeyringTokenStore, SessionTokenStore, TokenStore
from app.ui import browser
from app.ui.page_kit import Kind
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.token_entry import TokenDialog
from tests.gui_helpers import child, shown
from tests.public_api_server import ApiServer, Reply, Seen, errors_reply, json_reply
from tests.secret_service import SecretServiceSession
from tests.test_screenshots import visible_text

WORKSPACE = {"workspace": {"id": "ws-1", "slug": "acme", "name": "Acme"}}


@pytest.fixture
def planted() -> str:
    """A token made for this test: it must never reach a label, a file or a log line."""
    return "sgp_" + secrets.token_urlsafe(32)


@pytest.fixture
def acme() -> Iterator[ApiServer]:
    """A Public API on loopback that accepts any token, for workspace Acme."""
    with ApiServer(lambda seen: json_reply(WORKSPACE)) as server:
        yield server


@pytest.fixture
def refusing() -> Iterator[ApiServer]:
    """A Public API on loopback that refuses every token, as a host of another region does."""
    with ApiServer(lambda seen: errors_reply(401, "Unauthorized")) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "open_url", lambda url: None)


def as_region(server: ApiServer, region: Region) -> ApiEndpoint:
    """`server` standing in for Segment's host of `region`."""
    return ApiEndpoint(server.url, region)


def make_session(
    tmp_path: Path,
    store: TokenStore,
    hosts: tuple[ApiEndpoint, ...] = (),
    *,
    sandbox: bool = False,
) -> Session:
    session = Session(
        AppSettings(str(tmp_path / "settings.ini")),
        keystore=KeyStore(backend=fail.Keyring()),
        token_store=store,
        api_hosts=hosts or None,
    )
    session.use_sandbox = sandbox
    return session


_parents: list[QWidget] = []  # the windows the dialogs open over, kept while a test runs


@pytest.fixture(autouse=True)
def _drop_parents() -> Iterator[None]:
    yield
    _parents.clear()


def open_dialog(qtbot: QtBot, session: Session) -> TokenDialog:
    parent = shown(qtbot, QWidget(), 640, 480)
    _parents.append(parent)
    dialog = TokenDialog.open_for(session, parent)
    qtbot.waitExposed(dialog)
    return dialog


def press(qtbot: QtBot, dialog: QWidget, name: str) -> None:
    button = child(dialog, QPushButton, name)
    assert button.isVisible(), name
    assert button.isEnabled(), name
    button.click()


def held_at(session: Session) -> str | None:
    """Where the token is kept now (a call: type checkers do not pin it between changes)."""
    return session.token_location


def status(dialog: TokenDialog) -> str:
    return dialog.entry.status_text()


def status_kind(dialog: TokenDialog) -> Kind | None:
    return dialog.entry.status_kind()


def settle(qtbot: QtBot, dialog: TokenDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.entry.is_busy(), timeout=20_000)


def test_the_dialog_explains_who_where_which_plans_and_what_it_does(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = open_dialog(qtbot, make_session(tmp_path, SessionTokenStore()))
    text = visible_text(dialog)
    for words in (
        "Optional",
        "workspace owner",
        "Access Management → Tokens",
        "Team and Business",
        "Free",
        "Debugger",
        "never changes or deletes anything else",
        "keyring",
    ):
        assert words in text, words
    opened: list[str] = []
    monkeypatch.setattr(browser, "open_url", opened.append)
    press(qtbot, dialog, "open_tokens")
    assert opened == ["https://app.segment.com/goto-my-workspace/settings/access-management/tokens"]


def test_a_checked_token_names_the_workspace_and_goes_into_the_real_keyring(
    qtbot: QtBot,
    tmp_path: Path,
    secret_service: SecretServiceSession,
    acme: ApiServer,
    planted: str,
) -> None:
    store = KeyringTokenStore(backend=secret_service.backend())
    session = make_session(tmp_path, store, (as_region(acme, Region.US),))
    dialog = open_dialog(qtbot, session)
    dialog.entry.edit.setText(planted)
    press(qtbot, dialog, "check_token")
    qtbot.waitUntil(lambda: session.token_location is not None, timeout=20_000)

    assert status_kind(dialog) is Kind.OK
    assert "“Acme” (acme)" in status(dialog)
    assert "US region" in status(dialog)
    assert "GNOME Keyring" in status(dialog)
    assert session.api_token() == planted
    check = session.token_check
    assert check is not None
    assert check.workspace.slug == "acme"
    assert acme.seen[0].headers["authorization"] == f"Bearer {planted}"
    assert store.load() == planted
    assert session.settings.token_stored
    # The field let go of it, and nothing on screen or on disk shows it.
    assert dialog.entry.edit.text() == ""
    session.settings.sync()
    assert planted not in visible_text(dialog)
    assert planted not in Path(session.settings.path).read_text()
    close = child(dialog, QPushButton, "close_token_dialog")
    assert close.isDefault(), "Enter now closes the dialog"


def test_a_refused_token_is_said_plainly_with_the_way_forward(
    qtbot: QtBot, tmp_path: Path, refusing: ApiServer, planted: str
) -> None:
    hosts = (as_region(refusing, Region.US), as_region(refusing, Region.EU))
    session = make_session(tmp_path, SessionTokenStore(), hosts)
    dialog = open_dialog(qtbot, session)
    dialog.entry.edit.setText(planted)
    press(qtbot, dialog, "token_session_only")
    qtbot.waitUntil(lambda: status_kind(dialog) is Kind.ERROR, timeout=20_000)

    text = status(dialog)
    assert "copied the whole token" in text
    assert "401" not in text
    assert "Unauthorized" not in text.replace("unauthorized", "")
    assert planted not in visible_text(dialog)
    assert session.token_location is None
    assert not session.has_token
    assert len(refusing.seen) == 2, "both regions' hosts were tried"


def test_the_host_that_accepts_the_token_tells_the_eu_region(
    qtbot: QtBot, tmp_path: Path, refusing: ApiServer, acme: ApiServer, planted: str
) -> None:
    hosts = (as_region(refusing, Region.US), as_region(acme, Region.EU))
    session = make_session(tmp_path, SessionTokenStore(), hosts)
    dialog = open_dialog(qtbot, session)
    dialog.entry.edit.setText(planted)
    press(qtbot, dialog, "token_session_only")
    qtbot.waitUntil(lambda: session.token_location is not None, timeout=20_000)
    check = session.token_check
    assert check is not None
    assert check.region is Region.EU
    assert "EU region" in status(dialog)
    assert session.token_location == SESSION_LOCATION


def test_without_a_keyring_the_token_can_be_kept_for_this_session(
    qtbot: QtBot, tmp_path: Path, acme: ApiServer, planted: str
) -> None:
    store = KeyringTokenStore(backend=fail.Keyring())
    session = make_session(tmp_path, store, (as_region(acme, Region.US),))
    dialog = open_dialog(qtbot, session)
    dialog.entry.edit.setText(planted)
    press(qtbot, dialog, "check_token")
    qtbot.waitUntil(lambda: status_kind(dialog) is Kind.WARNING, timeout=20_000)

    assert "could not be saved in the keyring" in status(dialog)
    assert "this session only" in status(dialog)
    assert session.token_location is None, "nothing is held until the user says so"
    session_only = child(dialog, QPushButton, "token_session_only")
    assert session_only.isDefault()
    assert session_only.hasFocus()
    assert session_only.text() == "&Use for this session only"
    session_only.click()
    assert held_at(session) == SESSION_LOCATION
    assert session.api_token() == planted
    assert not session.settings.token_stored
    assert len(acme.seen) == 1, "the token was checked once, not again"


def test_cancel_stops_a_slow_check_and_the_gui_keeps_running(
    qtbot: QtBot, tmp_path: Path, planted: str
) -> None:
    def slow(_seen: Seen) -> Reply:
        return Reply(200, b"{}", delay=60.0)

    with ApiServer(slow) as server:
        session = make_session(tmp_path, SessionTokenStore(), (as_region(server, Region.US),))
        dialog = open_dialog(qtbot, session)
        dialog.entry.edit.setText(planted)
        ticks: list[int] = []
        timer = QTimer(dialog)
        timer.timeout.connect(lambda: ticks.append(1))
        timer.start(20)
        press(qtbot, dialog, "check_token")
        qtbot.waitUntil(lambda: len(server.seen) == 1, timeout=20_000)
        assert dialog.entry.is_busy()
        # The check waits on its worker: the GUI thread goes on turning its event loop.
        before = len(ticks)
        qtbot.waitUntil(lambda: len(ticks) >= before + 5, timeout=20_000)
        assert dialog.entry.task.isVisible()
        assert "Asking Segment" in dialog.entry.task.text()
        press(qtbot, dialog, "token_task_cancel")
        assert not dialog.entry.is_busy()
        assert "Cancelled" in status(dialog)
        assert session.token_location is None
        timer.stop()


def test_the_check_runs_off_the_gui_thread(
    qtbot: QtBot,
    tmp_path: Path,
    acme: ApiServer,
    planted: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.proof import workspace

    threads: list[threading.Thread] = []
    real = workspace.check_token

    def spy(*args: object, **kwargs: object) -> workspace.TokenCheck:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace, "check_token", spy)
    session = make_session(tmp_path, SessionTokenStore(), (as_region(acme, Region.US),))
    dialog = open_dialog(qtbot, session)
    dialog.entry.edit.setText(planted)
    press(qtbot, dialog, "check_token")
    qtbot.waitUntil(lambda: session.token_location is not None, timeout=20_000)
    assert threads
    assert threads[0] is not threading.main_thread()


def test_text_that_cannot_be_a_token_keeps_the_buttons_off(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = open_dialog(qtbot, make_session(tmp_path, SessionTokenStore()))
    for name in ("check_token", "token_session_only"):
        assert not child(dialog, QPushButton, name).isEnabled()
    dialog.entry.edit.setText("two words")
    assert not child(dialog, QPushButton, "check_token").isEnabled()


def test_in_sandbox_mode_the_sandbox_answers_with_its_workspace(
    qtbot: QtBot, tmp_path: Path
) -> None:
    session = make_session(tmp_path, SessionTokenStore(), sandbox=True)
    try:
        dialog = open_dialog(qtbot, session)
        assert not dialog.entry.edit.isVisible(), "no token is asked for"
        assert "no token is needed" in visible_text(dialog)
        press(qtbot, dialog, "check_sandbox_token")
        qtbot.waitUntil(lambda: session.token_check is not None, timeout=20_000)
        assert "“Sandbox workspace” (sandbox)" in status(dialog)
        assert session.token_location is None, "the sandbox's token is not a held one"
        session.use_sandbox = False
        assert session.token_check is None, "the sandbox's workspace is not the real one's"
    finally:
        session.close()


def test_delete_removes_the_token_from_the_keyring(
    qtbot: QtBot,
    tmp_path: Path,
    secret_service: SecretServiceSession,
    acme: ApiServer,
    planted: str,
) -> None:
    store = KeyringTokenStore(backend=secret_service.backend())
    session = make_session(tmp_path, store, (as_region(acme, Region.US),))
    dialog = open_dialog(qtbot, session)
    delete = child(dialog, QPushButton, "delete_token")
    assert not delete.isVisible(), "nothing is stored yet"
    dialog.entry.edit.setText(planted)
    press(qtbot, dialog, "check_token")
    qtbot.waitUntil(lambda: session.token_location is not None, timeout=20_000)
    qtbot.waitUntil(delete.isVisible)
    press(qtbot, dialog, "delete_token")
    qtbot.waitUntil(lambda: not session.has_token, timeout=20_000)
    assert store.load() is None
    assert not session.settings.token_stored
    assert "deleted" in status(dialog)


def test_the_main_window_takes_replaces_and_shows_the_token(
    qtbot: QtBot, tmp_path: Path, acme: ApiServer, planted: str
) -> None:
    from app.ui.main_window import MainWindow

    session = make_session(tmp_path, SessionTokenStore(), (as_region(acme, Region.US),))
    window = shown(qtbot, MainWindow(session), 900, 600)
    header = window.findChild(QWidget, "header")
    assert header is not None
    assert "No Public API token" in visible_text(header)
    action = window.findChild(QAction, "action_token")
    assert action is not None
    action.trigger()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), TokenDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, TokenDialog)
    dialog.entry.edit.setText(planted)
    press(qtbot, dialog, "token_session_only")
    qtbot.waitUntil(lambda: "workspace <b>Acme</b>" in visible_text(header), timeout=20_000)
    assert SESSION_LOCATION in visible_text(header)
    assert planted not in visible_text(window) + visible_text(dialog)
    dialog.reject()


def test_the_main_window_loads_a_stored_token_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, secret_service: SecretServiceSession, planted: str
) -> None:
    from app.ui.main_window import MainWindow

    store = KeyringTokenStore(backend=secret_service.backend())
    store.save(planted)
    session = make_session(tmp_path, store)
    session.settings.token_stored = True
    window = shown(qtbot, MainWindow(session), 900, 600)
    qtbot.waitUntil(lambda: session.api_token() == planted, timeout=20_000)
    header = window.findChild(QWidget, "header")
    assert header is not None
    qtbot.waitUntil(lambda: "GNOME Keyring" in visible_text(header))
    assert planted not in visible_text(window)


def test_the_sandbox_itself_accepts_its_token_through_the_dialog(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    """A real token check against the sandbox over loopback, its host standing in for US."""
    from app.segment import SANDBOX_TOKEN

    session = make_session(
        tmp_path, SessionTokenStore(), (ApiEndpoint(sandbox.public_api_url, Region.US),)
    )
    dialog = open_dialog(qtbot, session)
    dialog.entry.edit.setText(SANDBOX_TOKEN)
    press(qtbot, dialog, "token_session_only")
    qtbot.waitUntil(lambda: session.token_location is not None, timeout=20_000)
    assert "“Sandbox workspace” (sandbox)" in status(dialog)


def test_api_endpoint_from_the_command_line_is_the_only_host_asked(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    """`--api-endpoint URL`: the token is checked there alone, and the region stays open."""
    from app.segment import SANDBOX_TOKEN
    from app.segment.public_api.hosts import parse_api_endpoint

    session = make_session(tmp_path, SessionTokenStore())  # Segment's own hosts by default
    session.use_api_endpoint_from_command_line(parse_api_endpoint(sandbox.public_api_url))
    dialog = open_dialog(qtbot, session)
    dialog.entry.edit.setText(SANDBOX_TOKEN)
    press(qtbot, dialog, "token_session_only")
    qtbot.waitUntil(lambda: session.token_location is not None, timeout=20_000)
    check = session.token_check
    assert check is not None
    assert check.region is Region.LOCAL
    assert "on this computer" in status(dialog)


def test_enter_checks_the_token_and_then_closes(
    qtbot: QtBot, tmp_path: Path, acme: ApiServer, planted: str
) -> None:
    from PySide6.QtCore import Qt

    session = make_session(tmp_path, SessionTokenStore(), (as_region(acme, Region.US),))
    dialog = open_dialog(qtbot, session)
    edit = dialog.entry.edit
    edit.setFocus()
    qtbot.keyClicks(edit, planted)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: session.token_location is not None, timeout=20_000)
    assert dialog.isVisible(), "Enter checked the token; it did not close the dialog"
    focused = QApplication.focusWidget()
    assert focused is child(dialog, QPushButton, "close_token_dialog")
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(focused, Qt.Key.Key_Return)


@pytest.mark.parametrize("sandbox", [False, True], ids=["segment", "sandbox"])
def test_every_control_in_the_dialog_has_a_name_and_its_own_mnemonic(
    qtbot: QtBot, tmp_path: Path, sandbox: bool
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit

    session = make_session(tmp_path, SessionTokenStore(), sandbox=sandbox)
    try:
        dialog = open_dialog(qtbot, session)
        controls = [
            widget
            for widget in dialog.findChildren(QWidget)
            if isinstance(widget, QAbstractButton | QLineEdit)
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        ]
        assert [w.objectName() for w in controls if not w.accessibleName()] == []
        texts = [
            w.text()
            for w in dialog.findChildren(QWidget)
            if isinstance(w, QAbstractButton | QLabel) and w.isVisible()
        ]
        keys = [t[t.index("&") + 1].lower() for t in texts if "&" in t and "&&" not in t]
        assert len(keys) == len(set(keys)), keys
    finally:
        session.close()
