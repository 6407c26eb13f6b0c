"""The wizard with a Public API token: real widgets, the real sandbox's Public API over loopback
(its host standing in for Segment's US or EU one), and a real GNOME Keyring for the keys."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QPushButton, QTreeWidget
from pytestqt.qtbot import QtBot

from app.key_storage import KeyStorage
from app.keystore import KeyStore, WriteKeyStore
from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.segment.endpoint import Region
from app.segment.public_api.hosts import ApiEndpoint
from app.segment.public_api.models import Source
from app.segment.sandbox import Sandbox
from app.token_store import SessionTokenStore
from app.ui import browser
from app.ui.draft import HeldKey
from app.ui.page_kit import Kind, Notice
from app.ui.pages import write_key
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.token_entry import TokenDialog
from app.ui.wizard import PageId, SetupWizard
from tests.public_api_server import ApiServer, errors_reply, json_reply
from tests.secret_service import SecretServiceSession
from tests.test_screenshots import visible_text
from tests.test_wizard import button, can_go_next, choose_region, click, go_next, line_edit

WEBSITE_KEY = "sandbox-website-key"  # the sandbox's JavaScript website source's key


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(browser, "open_url", urls.append)
    return urls


@pytest.fixture
def refusing() -> Iterator[ApiServer]:
    """A host that refuses every token, as Segment's host of another region does."""
    with ApiServer(lambda seen: errors_reply(401, "Unauthorized")) as server:
        yield server


def us(sandbox: Sandbox) -> tuple[ApiEndpoint, ...]:
    """The sandbox's Public API standing in for Segment's US host."""
    return (ApiEndpoint(sandbox.public_api_url, Region.US),)


def make_wizard(
    qtbot: QtBot,
    tmp_path: Path,
    hosts: tuple[ApiEndpoint, ...] = (),
    *,
    keystore: WriteKeyStore | None = None,
    cdn_url: str | None = None,
    sandbox_mode: bool = False,
) -> SetupWizard:
    settings = AppSettings(str(tmp_path / "settings.ini"))
    if sandbox_mode:
        settings.key_storage = KeyStorage.SANDBOX
    session = Session(
        settings,
        keystore=keystore or KeyStore(backend=fail.Keyring()),
        token_store=SessionTokenStore(),
        api_hosts=hosts or None,
        cdn_url=cdn_url,
    )
    wizard = SetupWizard(session, lambda _session, parent: QLabel("test panel", parent))
    qtbot.addWidget(wizard, before_close_func=lambda w: w.discard())
    wizard.resize(820, 640)
    wizard.show()
    qtbot.waitExposed(wizard)
    qtbot.waitUntil(lambda: len(wizard.pageIds()) == len(PageId))
    return wizard


def page_notice(wizard: SetupWizard, name: str) -> Notice:
    page = wizard.currentPage()
    assert page is not None
    found = page.findChild(Notice, name)
    assert found is not None, name
    return found


def notice_kind(notice: Notice) -> Kind | None:
    return notice.kind


def enter_token(qtbot: QtBot, wizard: SetupWizard, name: str, token: str) -> TokenDialog:
    """Press the page's "Use a Public API token…", enter `token` for this session only."""
    click(qtbot, button(wizard, name))
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), TokenDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, TokenDialog)
    if token:
        dialog.entry.edit.setText(token)
        only = dialog.findChild(QPushButton, "token_session_only")
        assert only is not None
        only.click()
    else:
        check = dialog.findChild(QPushButton, "check_sandbox_token")
        assert check is not None
        check.click()
    qtbot.waitUntil(lambda: not dialog.entry.is_busy(), timeout=20_000)
    assert notice_kind_of(dialog) is Kind.OK, dialog.entry.status_text()
    dialog.accept()
    back_to(qtbot, wizard)
    return dialog


def back_to(qtbot: QtBot, wizard: SetupWizard) -> None:
    """The wizard active again after its dialog closed (a desktop's window manager does this;
    Xvfb has none)."""
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)


def notice_kind_of(dialog: TokenDialog) -> Kind | None:
    return dialog.entry.status_kind()


def to_source_page(qtbot: QtBot, wizard: SetupWizard) -> None:
    if wizard.currentId() == PageId.WELCOME:
        if not can_go_next(wizard):
            choose_region(qtbot, wizard, "us")
        go_next(qtbot, wizard)
    assert wizard.currentId() == PageId.SOURCE


def tick_chatlio(qtbot: QtBot, wizard: SetupWizard) -> None:
    for tick in wizard.currentPage().findChildren(QCheckBox):
        if not tick.isChecked():
            click(qtbot, tick)


# --- the token answers the first page ----------------------------------------------------


def test_an_eu_token_answers_dont_know_and_stops_with_the_reason(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, refusing: ApiServer
) -> None:
    hosts = (
        ApiEndpoint(refusing.url, Region.US),
        ApiEndpoint(sandbox.public_api_url, Region.EU),
    )
    wizard = make_wizard(qtbot, tmp_path, hosts)
    choose_region(qtbot, wizard, "unknown")
    assert not can_go_next(wizard)
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)

    assert button(wizard, "region_eu").isChecked()
    assert wizard.draft.region == "eu"
    notice = page_notice(wizard, "token_notice")
    assert notice_kind(notice) is Kind.WARNING
    assert "EU region" in notice.text()
    go_next(qtbot, wizard)
    assert wizard.currentId() == PageId.EU_WORKSPACE
    reason = page_notice(wizard, "eu_reason")
    assert "“Sandbox workspace” (sandbox)" in reason.text()
    assert "EU region" in reason.text()
    assert len(refusing.seen) == 1, "the US host was asked first"


def test_a_us_token_answers_dont_know_and_fills_the_workspace(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, opened: list[str]
) -> None:
    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    choose_region(qtbot, wizard, "unknown")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    assert button(wizard, "region_us").isChecked()
    assert "US region" in page_notice(wizard, "token_notice").text()
    go_next(qtbot, wizard)

    assert line_edit(wizard, "workspace_slug").text() == "sandbox"
    click(qtbot, button(wizard, "open_catalog"))
    assert opened[-1] == "https://app.segment.com/sandbox/sources/catalog/chatlio"
    assert button(wizard, "create_source").isVisible()


# --- create the source ---------------------------------------------------------------------


def test_create_keeps_the_new_key_in_the_keyring_and_never_shows_it(
    qtbot: QtBot,
    tmp_path: Path,
    sandbox: Sandbox,
    secret_service: SecretServiceSession,
    opened: list[str],
) -> None:
    keystore = KeyStore(backend=secret_service.backend())
    wizard = make_wizard(qtbot, tmp_path, us(sandbox), keystore=keystore)
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    QGuiApplication.clipboard().setText("something the user copied")
    to_source_page(qtbot, wizard)
    click(qtbot, button(wizard, "create_source"))
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is Kind.OK, timeout=20_000)

    held = wizard.draft.key
    assert isinstance(held, HeldKey)
    assert held.storage is KeyStorage.KEYRING
    key = held.key
    assert key == SANDBOX_KEY, "the sandbox's first Chatlio source has the sandbox's key"
    assert keystore.load(held.source) == key
    assert "GNOME Keyring" in notice.text()
    assert "without being shown" in notice.text()
    assert key not in visible_text(wizard)
    assert QGuiApplication.clipboard().text() == "something the user copied"
    assert not button(wizard, "create_source").isEnabled(), "created: not twice"
    click(qtbot, button(wizard, "open_created"))
    assert held.source == "Chatlio", "named as asked (creating takes a slug; a rename follows)"
    assert opened[-1] == "https://app.segment.com/sandbox/sources/chatlio/overview"

    go_next(qtbot, wizard)  # the write key page: the key is held, and known to be Chatlio's
    assert wizard.currentId() == PageId.WRITE_KEY
    owner = page_notice(wizard, "owner_notice")
    assert notice_kind(owner) is Kind.OK
    assert "a Chatlio source" in owner.text()
    assert key not in visible_text(wizard)

    go_next(qtbot, wizard)  # test
    owner_now = wizard.trial.key_owner
    assert owner_now is not None
    assert owner_now.is_chatlio, "the test page's session knows the source"
    go_next(qtbot, wizard)  # chatlio
    tick_chatlio(qtbot, wizard)
    go_next(qtbot, wizard)  # destinations: what the source sends to
    assert wizard.currentId() == PageId.DESTINATIONS
    connected = page_notice(wizard, "connected_notice")
    qtbot.waitUntil(lambda: notice_kind(connected) is Kind.OK, timeout=20_000)
    tree = wizard.currentPage().findChild(QTreeWidget, "connected_list")
    assert isinstance(tree, QTreeWidget)
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    names = [item.text(1) for item in items if item is not None]
    assert any("Google Analytics 4" in name for name in names), names
    assert any("Postgres" in name for name in names), names
    assert "1 destination" in connected.text()

    go_next(qtbot, wizard)
    wizard.accept()
    session = wizard.session
    assert session.write_key() == key
    committed = session.key_owner
    assert committed is not None
    assert committed.is_chatlio
    session.settings.sync()
    assert key not in Path(session.settings.path).read_text()
    assert SANDBOX_TOKEN not in Path(session.settings.path).read_text()


def test_create_without_source_admin_says_so_and_how_to_copy_the_key(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    sandbox.public_api.hide_write_keys()
    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    to_source_page(qtbot, wizard)
    click(qtbot, button(wizard, "create_source"))
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is Kind.WARNING, timeout=20_000)
    assert "Source Admin" in notice.text()
    assert "API Keys" in notice.text()
    assert wizard.draft.key is None
    assert wizard.draft.created_source_id, "the source exists: its connections can be listed"


def test_a_name_already_taken_is_said_with_what_to_do(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    to_source_page(qtbot, wizard)
    line_edit(wizard, "source_name").setText("Website")  # the sandbox's seeded source's slug
    click(qtbot, button(wizard, "create_source"))
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is Kind.ERROR, timeout=20_000)
    assert "already exists" in notice.text()
    assert "409" not in notice.text()


def test_without_a_token_the_source_page_offers_one(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, tmp_path)
    to_source_page(qtbot, wizard)
    assert not button(wizard, "create_source").isVisible()
    assert button(wizard, "use_token_source").isVisible()


# --- whose key is it -----------------------------------------------------------------------


def use_key(qtbot: QtBot, wizard: SetupWizard, key: str) -> None:
    """On the write key page: type `key` and use it for this session."""
    line_edit(wizard, "write_key").setText(key)
    click(qtbot, button(wizard, "session_only"))


def test_a_website_key_is_named_as_not_chatlio(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    to_source_page(qtbot, wizard)
    go_next(qtbot, wizard)
    use_key(qtbot, wizard, WEBSITE_KEY)
    owner = page_notice(wizard, "owner_notice")
    qtbot.waitUntil(lambda: notice_kind(owner) is Kind.WARNING, timeout=20_000)
    assert "not a Chatlio one" in owner.text()
    assert "JavaScript source" in owner.text()
    found = wizard.draft.owner_of_key()
    assert found is not None
    assert found.source is not None
    assert found.source.slug == "website"


def test_a_chatlio_key_is_confirmed(qtbot: QtBot, tmp_path: Path) -> None:
    with Sandbox(chatlio_source=True) as sandbox:
        chatlio_key = next(s for s in sandbox_sources(sandbox) if s.is_chatlio).write_keys[0]
        wizard = make_wizard(qtbot, tmp_path, us(sandbox))
        choose_region(qtbot, wizard, "us")
        enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
        to_source_page(qtbot, wizard)
        go_next(qtbot, wizard)
        use_key(qtbot, wizard, chatlio_key)
        owner = page_notice(wizard, "owner_notice")
        qtbot.waitUntil(lambda: notice_kind(owner) is Kind.OK, timeout=20_000)
        assert "a Chatlio source: the right one" in owner.text()
        wizard.discard()
        wizard.session.close()


def sandbox_sources(sandbox: Sandbox) -> list[Source]:
    from app.segment.public_api.client import PublicApiClient

    with PublicApiClient(us(sandbox)[0], SANDBOX_TOKEN) as client:
        return client.sources()


def test_a_token_that_cannot_see_keys_is_said_so(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    sandbox.public_api.hide_write_keys()
    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    to_source_page(qtbot, wizard)
    go_next(qtbot, wizard)
    use_key(qtbot, wizard, WEBSITE_KEY)
    owner = page_notice(wizard, "owner_notice")
    qtbot.waitUntil(lambda: notice_kind(owner) is not None, timeout=20_000)
    assert notice_kind(owner) is Kind.INFO
    assert "cannot see write keys" in owner.text()


def test_without_a_token_the_cdn_lookup_is_asked_first(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers: list[bool] = [False, True, True]
    asked: list[object] = []

    def ask(cls: object, parent: object) -> bool:
        asked.append(parent)
        return answers.pop(0)

    monkeypatch.setattr(write_key.CdnLookupDialog, "ask", classmethod(ask))
    wizard = make_wizard(qtbot, tmp_path, cdn_url=sandbox.cdn_url)
    to_source_page(qtbot, wizard)
    go_next(qtbot, wizard)
    assert not button(wizard, "cdn_lookup").isVisible(), "no key yet"
    use_key(qtbot, wizard, WEBSITE_KEY)
    owner = page_notice(wizard, "owner_notice")
    assert notice_kind(owner) is None, "nothing is asked without a token"

    click(qtbot, button(wizard, "cdn_lookup"))
    assert asked == [wizard.currentPage()]
    assert notice_kind(owner) is None, "declined: the key went nowhere"

    click(qtbot, button(wizard, "cdn_lookup"))
    qtbot.waitUntil(lambda: notice_kind(owner) is not None, timeout=20_000)
    assert notice_kind(owner) is Kind.OK
    assert "Segment knows this key" in owner.text()

    use_key(qtbot, wizard, "an-unknown-key-of-no-source-here")
    click(qtbot, button(wizard, "cdn_lookup"))
    qtbot.waitUntil(lambda: "could not" in owner.text().lower(), timeout=20_000)
    assert notice_kind(owner) is Kind.INFO
    assert "does not mean the key is wrong" in owner.text()
    assert len(asked) == 3


# --- sandbox mode: the whole flow with no account ------------------------------------------


def test_in_sandbox_mode_the_whole_flow_needs_no_account(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, tmp_path, sandbox_mode=True)
    assert wizard.draft.sandbox
    enter_token(qtbot, wizard, "use_token", "")
    assert button(wizard, "region_us").isChecked()
    assert "stands in for a US workspace" in page_notice(wizard, "token_notice").text()
    go_next(qtbot, wizard)
    assert line_edit(wizard, "workspace_slug").text() == ""
    click(qtbot, button(wizard, "create_source"))
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is Kind.OK, timeout=20_000)
    assert "in the sandbox" in notice.text()
    go_next(qtbot, wizard)
    owner = page_notice(wizard, "owner_notice")
    qtbot.waitUntil(lambda: notice_kind(owner) is Kind.OK, timeout=20_000)
    assert "Chatlio source" in owner.text()
    go_next(qtbot, wizard)
    assert wizard.currentId() == PageId.TEST
    assert wizard.trial.key_owner is None, "a real key's source only, never the sandbox's"
    running = wizard.trial.running_sandbox()
    assert running is not None, "the test page sends to the sandbox that has the source"
    assert wizard.session.token_location is None, "no token of anyone's was needed"


# --- secrets and threads ---------------------------------------------------------------------


def test_a_planted_token_is_in_no_widget_settings_file_or_log(
    qtbot: QtBot, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    planted = "sgp_" + secrets.token_urlsafe(32)
    workspace = {"workspace": {"id": "ws-1", "slug": "acme", "name": "Acme"}}
    with ApiServer(lambda seen: json_reply(workspace)) as acme:
        wizard = make_wizard(qtbot, tmp_path, (ApiEndpoint(acme.url, Region.US),))
        choose_region(qtbot, wizard, "us")
        dialog = enter_token(qtbot, wizard, "use_token", planted)
        texts = [visible_text(wizard), visible_text(dialog)]
        go_next(qtbot, wizard)
        texts.append(visible_text(wizard))
        wizard.accept()
        wizard.session.settings.sync()
    for text in texts:
        assert planted not in text
    assert planted not in Path(wizard.session.settings.path).read_text()
    assert planted not in caplog.text
    assert planted not in repr(wizard.session) + repr(wizard.draft)


def test_every_public_api_call_runs_off_the_gui_thread(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.segment.public_api.client import PublicApiClient

    threads: list[tuple[str, threading.Thread]] = []
    for name in ("workspace", "sources", "create_source", "connected_destinations"):
        real = getattr(PublicApiClient, name)

        def spy(
            self: PublicApiClient,
            *args: object,
            _real: Callable[..., object] = real,
            _name: str = name,
        ) -> object:
            threads.append((_name, threading.current_thread()))
            return _real(self, *args)

        monkeypatch.setattr(PublicApiClient, name, spy)
    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    to_source_page(qtbot, wizard)
    line_edit(wizard, "source_name").setText("Chatlio Two")
    click(qtbot, button(wizard, "create_source"))
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is not None, timeout=20_000)
    go_next(qtbot, wizard)
    use_key(qtbot, wizard, WEBSITE_KEY)
    owner = page_notice(wizard, "owner_notice")
    qtbot.waitUntil(lambda: notice_kind(owner) is not None, timeout=20_000)
    called = {name for name, _ in threads}
    assert {"workspace", "create_source", "sources"} <= called, called
    assert all(thread is not threading.main_thread() for _, thread in threads)


def visible_mnemonics(wizard: SetupWizard) -> list[str]:
    from PySide6.QtWidgets import QAbstractButton, QWidget

    texts = [
        widget.text()
        for widget in wizard.findChildren(QWidget)
        if isinstance(widget, QAbstractButton | QLabel) and widget.isVisible()
    ]
    return [t[t.index("&") + 1].lower() for t in texts if "&" in t and "&&" not in t]


def test_each_page_keeps_its_mnemonics_unique_with_the_token_controls(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    seen: dict[int, list[str]] = {}
    seen[wizard.currentId()] = visible_mnemonics(wizard)
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    to_source_page(qtbot, wizard)
    seen[wizard.currentId()] = visible_mnemonics(wizard)
    click(qtbot, button(wizard, "create_source"))
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is not None, timeout=20_000)
    seen[PageId.SOURCE + 100] = visible_mnemonics(wizard)
    go_next(qtbot, wizard)
    seen[wizard.currentId()] = visible_mnemonics(wizard)
    go_next(qtbot, wizard)
    go_next(qtbot, wizard)
    tick_chatlio(qtbot, wizard)
    go_next(qtbot, wizard)
    seen[wizard.currentId()] = visible_mnemonics(wizard)
    for page, keys in seen.items():
        assert len(keys) == len(set(keys)), (page, keys)


def test_without_a_token_the_offers_keep_mnemonics_unique(qtbot: QtBot, tmp_path: Path) -> None:
    wizard = make_wizard(qtbot, tmp_path)
    pages = []
    choose_region(qtbot, wizard, "us")
    pages.append(visible_mnemonics(wizard))
    to_source_page(qtbot, wizard)
    pages.append(visible_mnemonics(wizard))
    go_next(qtbot, wizard)
    use_key(qtbot, wizard, WEBSITE_KEY)
    assert button(wizard, "cdn_lookup").isVisible()
    assert button(wizard, "use_token_key").isVisible()
    pages.append(visible_mnemonics(wizard))
    for keys in pages:
        assert len(keys) == len(set(keys)), keys


# --- the keyboard ----------------------------------------------------------------------------


def test_the_token_by_keyboard_alone_then_enter_goes_on(
    qtbot: QtBot, tmp_path: Path, sandbox: Sandbox
) -> None:
    from PySide6.QtCore import Qt

    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    use_token = button(wizard, "use_token")
    use_token.setFocus()
    qtbot.keyClick(use_token, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), TokenDialog))
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, TokenDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.entry.edit)
    qtbot.keyClicks(dialog.entry.edit, SANDBOX_TOKEN)
    qtbot.keyClick(dialog.entry.edit, Qt.Key.Key_Return)  # checked, then kept
    qtbot.waitUntil(lambda: wizard.session.token_location is not None, timeout=20_000)
    closer = QApplication.focusWidget()
    assert closer is dialog.findChild(QPushButton, "close_token_dialog")
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(closer, Qt.Key.Key_Return)
    back_to(qtbot, wizard)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is use_token)
    assert button(wizard, "region_us").isChecked(), "the token answered the region"
    qtbot.keyClick(use_token, Qt.Key.Key_Return)  # Enter: on with the wizard, not the dialog
    assert wizard.currentId() == PageId.SOURCE


def test_after_create_the_focus_is_on_next(qtbot: QtBot, tmp_path: Path, sandbox: Sandbox) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QWizard

    wizard = make_wizard(qtbot, tmp_path, us(sandbox))
    choose_region(qtbot, wizard, "us")
    enter_token(qtbot, wizard, "use_token", SANDBOX_TOKEN)
    to_source_page(qtbot, wizard)
    create = button(wizard, "create_source")
    create.setFocus()
    qtbot.keyClick(create, Qt.Key.Key_Space)
    notice = page_notice(wizard, "create_notice")
    qtbot.waitUntil(lambda: notice_kind(notice) is not None, timeout=20_000)
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is next_button)
    qtbot.keyClick(next_button, Qt.Key.Key_Return)
    assert wizard.currentId() == PageId.WRITE_KEY
