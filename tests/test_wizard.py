"""The setup wizard, driven through real widgets, with a real Secret Service behind the keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTreeWidget,
    QWidget,
    QWizard,
)
from pytestqt.qtbot import QtBot

from app.key_storage import SESSION_LOCATION, KeyStorage
from app.keystore import SERVICE_NAME, KeyStore, WriteKeyStore
from app.segment import SANDBOX_KEY, links, warehouse
from app.ui import browser
from app.ui.browser import UrlNotOpened
from app.ui.draft import HeldKey
from app.ui.page_kit import Kind, Notice
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.wizard import PageId, SetupWizard
from tests.secret_service import SecretServiceSession

KEY = "Wz7kP2mQ9xR4tL8vN3bH6jD1fG5sA0cY"  # planted: must never reach a file or a label
HELD = HeldKey("Chatlio", KEY, KeyStorage.SESSION, SESSION_LOCATION)
GNOME_KEYRING = "GNOME Keyring (Secret Service)"
Next = QWizard.WizardButton.NextButton
Finish = QWizard.WizardButton.FinishButton
Cancel = QWizard.WizardButton.CancelButton


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    return AppSettings(str(tmp_path / "settings.ini"))


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address the wizard asked the desktop to open (none really opens)."""
    urls: list[str] = []
    monkeypatch.setattr(browser, "open_url", urls.append)
    return urls


def make_wizard(
    qtbot: QtBot, settings: AppSettings, keystore: WriteKeyStore | None = None
) -> SetupWizard:
    session = Session(settings, keystore=keystore)
    wizard = SetupWizard(session, lambda _session, parent: QLabel("test panel", parent))
    # Closing at the end of a test must not ask "Leave setup?" and wait for an answer.
    qtbot.addWidget(wizard, before_close_func=lambda w: w.discard())
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard


@pytest.fixture
def wizard(qtbot: QtBot, settings: AppSettings) -> Iterator[SetupWizard]:
    """A wizard whose keystore must never be touched (tests that save make their own)."""
    made = make_wizard(qtbot, settings, keystore=KeyStore(backend=fail.Keyring()))
    yield made
    made.session.close()


def child(wizard: SetupWizard, kind: type[QWidget], name: str) -> QWidget:
    """The widget called `name` on the current page."""
    page = wizard.currentPage()
    assert page is not None
    found = page.findChild(kind, name)
    assert found is not None, f"no {kind.__name__} {name!r} on page {wizard.currentId()}"
    return found


def line_edit(wizard: SetupWizard, name: str) -> QLineEdit:
    found = child(wizard, QLineEdit, name)
    assert isinstance(found, QLineEdit)
    return found


def button(wizard: SetupWizard, name: str) -> QAbstractButton:
    found = child(wizard, QAbstractButton, name)
    assert isinstance(found, QAbstractButton)
    return found


def notice(wizard: SetupWizard, name: str) -> Notice:
    found = child(wizard, Notice, name)
    assert isinstance(found, Notice)
    return found


def kind(widget: Notice) -> Kind | None:
    """What a notice says now (a call, so that type checkers do not pin it between changes)."""
    return widget.kind


def click(qtbot: QtBot, widget: QAbstractButton) -> None:
    """A mouse click where the user aims: near the start of the text, which any button takes."""
    assert widget.isVisible(), widget.objectName()
    assert widget.isEnabled(), widget.objectName()
    spot = QPoint(min(12, widget.width() // 2), widget.height() // 2)
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=spot)


def can_go_next(wizard: SetupWizard) -> bool:
    next_button = wizard.button(Next)
    return next_button.isVisible() and next_button.isEnabled()


def go_next(qtbot: QtBot, wizard: SetupWizard) -> None:
    before = wizard.currentId()
    click(qtbot, wizard.button(Next))
    assert wizard.currentId() != before


def choose_region(qtbot: QtBot, wizard: SetupWizard, name: str) -> None:
    click(qtbot, button(wizard, f"region_{name}"))


def walk_to(qtbot: QtBot, wizard: SetupWizard, target: PageId) -> None:
    """From the start page to `target`, the way a US user does, with the session's key."""
    while wizard.currentId() != target:
        if wizard.currentId() == PageId.WELCOME:
            choose_region(qtbot, wizard, "us")
        if wizard.currentId() == PageId.CHATLIO and not can_go_next(wizard):
            for tick in wizard.currentPage().findChildren(QCheckBox):
                click(qtbot, tick)
        go_next(qtbot, wizard)


def staged_key(wizard: SetupWizard) -> HeldKey | None:
    """The draft's key now (a call: type checkers do not pin it between changes)."""
    return wizard.draft.key


def staged_sandbox(wizard: SetupWizard) -> bool:
    return wizard.draft.sandbox


def all_label_text(wizard: SetupWizard) -> str:
    return "\n".join(label.text() + label.accessibleName() for label in wizard.findChildren(QLabel))


# --- 1. welcome and region ------------------------------------------------------------------


def test_window_title_pages_and_start(qtbot: QtBot, wizard: SetupWizard) -> None:
    assert wizard.windowTitle() == "Chatlio Segment Setup"
    # The first page paints first; the others are built right after it.
    qtbot.waitUntil(lambda: sorted(wizard.pageIds()) == [int(page) for page in PageId])
    assert wizard.currentId() == PageId.WELCOME
    assert not can_go_next(wizard), "a region must be chosen first"


def test_eu_workspace_stops_at_a_final_page(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    choose_region(qtbot, wizard, "eu")
    assert wizard.nextId() == PageId.EU_WORKSPACE
    go_next(qtbot, wizard)

    page = wizard.currentPage()
    assert wizard.currentId() == PageId.EU_WORKSPACE
    assert page.isFinalPage()
    assert not wizard.button(Next).isVisible()
    assert not wizard.button(Cancel).isVisible()
    close = wizard.button(Finish)
    assert close.isVisible()
    assert close.text() == "&Close"
    assert "only in US workspaces" in page.subTitle()
    assert wizard.draft.region == "eu"

    with qtbot.waitSignal(wizard.rejected):
        click(qtbot, close)
    assert not settings.setup_complete
    assert settings.region == "", "nothing is kept from a setup that stopped"


def test_dont_know_region_keeps_next_off_and_shows_where_to_look(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    choose_region(qtbot, wizard, "unknown")
    assert not can_go_next(wizard)
    hint = wizard.currentPage().findChildren(Notice)[0]
    assert hint.isVisible()
    assert "workspace settings" in hint.text()

    choose_region(qtbot, wizard, "us")
    assert can_go_next(wizard)
    assert not hint.isVisible()
    assert wizard.nextId() == PageId.SOURCE


# --- 2. the source --------------------------------------------------------------------------


def test_workspace_slug_is_checked_inline_and_saved(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    walk_to(qtbot, wizard, PageId.SOURCE)
    slug = line_edit(wizard, "workspace_slug")
    errors = [n for n in wizard.currentPage().findChildren(Notice) if kind(n) is Kind.ERROR]
    assert not errors

    slug.setText("https://example.com/acme-inc")
    error = next(n for n in wizard.currentPage().findChildren(Notice) if kind(n) is Kind.ERROR)
    assert error.isVisible()
    assert "app.segment.com" in error.text()
    assert not can_go_next(wizard), "a wrong workspace blocks Next until fixed or cleared"

    slug.setText("https://app.segment.com/acme-inc/sources")
    assert can_go_next(wizard)
    slug.editingFinished.emit()
    assert slug.text() == "acme-inc"

    go_next(qtbot, wizard)
    assert wizard.draft.workspace_slug == "acme-inc"
    assert settings.workspace_slug == "", "kept only on Finish"


def test_source_name_is_mandatory_and_shows_the_schema_live(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    walk_to(qtbot, wizard, PageId.SOURCE)
    name = line_edit(wizard, "source_name")
    assert name.text() == "Chatlio"
    schema = child(wizard, QLabel, "schema_hint")
    assert isinstance(schema, QLabel)
    assert "chatlio" in schema.text()
    assert "SQL settings" in schema.text()

    name.setText("   ")
    assert not can_go_next(wizard)
    name.setText("Chatlio Prod")
    assert "chatlio_prod" in schema.text()
    assert can_go_next(wizard)
    go_next(qtbot, wizard)
    assert wizard.draft.source_name == "Chatlio Prod"


def test_buttons_open_the_right_addresses(
    qtbot: QtBot, settings: AppSettings, opened: list[str]
) -> None:
    wizard = make_wizard(qtbot, settings, KeyStore(backend=fail.Keyring()))
    wizard.draft.key = HELD
    walk_to(qtbot, wizard, PageId.SOURCE)
    click(qtbot, button(wizard, "open_catalog"))
    assert opened[-1] == links.chatlio_catalog(None)
    assert opened[-1] == "https://app.segment.com/goto-my-workspace/sources/catalog/chatlio"

    line_edit(wizard, "workspace_slug").setText("acme-inc")
    line_edit(wizard, "source_name").setText("Chatlio Prod")
    click(qtbot, button(wizard, "open_catalog"))
    assert opened[-1] == "https://app.segment.com/acme-inc/sources/catalog/chatlio"

    go_next(qtbot, wizard)
    click(qtbot, button(wizard, "open_keys"))
    assert opened[-1] == "https://app.segment.com/acme-inc/sources/chatlio-prod/settings/keys"

    walk_to(qtbot, wizard, PageId.CHATLIO)
    click(qtbot, button(wizard, "open_dashboard"))
    assert opened[-1] == links.CHATLIO_DASHBOARD

    walk_to(qtbot, wizard, PageId.DESTINATIONS)
    click(qtbot, button(wizard, "open_destinations"))
    assert opened[-1] == "https://app.segment.com/acme-inc/sources/chatlio-prod/destinations"

    walk_to(qtbot, wizard, PageId.FINISH)
    click(qtbot, button(wizard, "open_debugger"))
    assert opened[-1] == "https://app.segment.com/acme-inc/sources/chatlio-prod/debugger"
    assert len(opened) == 6


def test_an_address_the_desktop_cannot_open_is_shown_to_copy(
    qtbot: QtBot, wizard: SetupWizard, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot_open(url: str) -> None:
        raise UrlNotOpened(url)

    monkeypatch.setattr(browser, "open_url", cannot_open)
    walk_to(qtbot, wizard, PageId.SOURCE)
    address = line_edit(wizard, "open_catalog_address")
    assert not address.isVisible()
    click(qtbot, button(wizard, "open_catalog"))
    assert address.isVisible()
    assert address.isReadOnly()
    assert address.text() == links.chatlio_catalog(None)


# --- 3. the write key -----------------------------------------------------------------------


def test_empty_key_blocks_next(qtbot: QtBot, wizard: SetupWizard) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    key = line_edit(wizard, "write_key")
    assert key.echoMode() == QLineEdit.EchoMode.Password
    assert key.text() == ""
    assert not wizard.button(Next).isEnabled()
    assert not button(wizard, "save_key").isEnabled()
    assert not button(wizard, "session_only").isEnabled()
    assert "32 letters and digits" in notice(wizard, "key_check").text()


def test_malformed_keys_are_explained_inline(qtbot: QtBot, wizard: SetupWizard) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    key, check = line_edit(wizard, "write_key"), notice(wizard, "key_check")

    key.setText("abcd efgh")
    assert kind(check) is Kind.ERROR
    assert "space" in check.text()
    assert not button(wizard, "save_key").isEnabled()

    key.setText("tooShort123")
    assert kind(check) is Kind.WARNING
    assert "11 characters" in check.text()
    assert button(wizard, "save_key").isEnabled(), "an odd-looking key may still be stored"

    key.setText(f"  {KEY}\n")
    assert kind(check) is Kind.OK
    assert not wizard.button(Next).isEnabled(), "typing alone keeps nothing"


def test_show_toggle_reveals_and_hides_the_key(qtbot: QtBot, wizard: SetupWizard) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    key, show = line_edit(wizard, "write_key"), button(wizard, "show_key")
    click(qtbot, show)
    assert key.echoMode() == QLineEdit.EchoMode.Normal
    click(qtbot, show)
    assert key.echoMode() == QLineEdit.EchoMode.Password


def test_paste_button_takes_the_key_from_the_clipboard(qtbot: QtBot, wizard: SetupWizard) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    QGuiApplication.clipboard().setText(f"{KEY}\n")
    click(qtbot, button(wizard, "paste_key"))
    assert line_edit(wizard, "write_key").text() == KEY
    assert notice(wizard, "key_check").kind is Kind.OK
    QGuiApplication.clipboard().clear()


@pytest.mark.keyring
def test_save_to_keyring_stores_the_key_in_the_secret_service(
    qtbot: QtBot, settings: AppSettings, secret_service: SecretServiceSession
) -> None:
    keystore = KeyStore(backend=secret_service.backend())
    wizard = make_wizard(qtbot, settings, keystore)
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    line_edit(wizard, "write_key").setText(KEY)
    save, status = button(wizard, "save_key"), notice(wizard, "key_status")

    click(qtbot, save)
    assert not save.isEnabled()
    assert not button(wizard, "session_only").isEnabled()
    assert "Saving to the keyring…" in all_label_text(wizard)
    assert not wizard.button(Next).isEnabled()

    qtbot.waitUntil(lambda: kind(status) is Kind.OK, timeout=10_000)
    assert f"Saved in {GNOME_KEYRING}" in status.text()
    assert "stays there even if you leave setup" in status.text()
    assert can_go_next(wizard)
    assert wizard.draft.key == HeldKey("Chatlio", KEY, KeyStorage.KEYRING, GNOME_KEYRING)
    assert wizard.session.write_key() is None, "the session takes the key on Finish"
    assert settings.key_storage == ""

    stored = [item for item in secret_service.items() if item.secret == KEY]
    assert len(stored) == 1
    assert stored[0].attributes.get("service") == SERVICE_NAME
    assert stored[0].attributes.get("username") == "Chatlio"
    assert keystore.load("Chatlio") == KEY
    assert KEY not in all_label_text(wizard)


@pytest.mark.keyring
def test_changing_the_key_after_saving_asks_to_save_again(
    qtbot: QtBot, settings: AppSettings, secret_service: SecretServiceSession
) -> None:
    wizard = make_wizard(qtbot, settings, KeyStore(backend=secret_service.backend()))
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    key, status = line_edit(wizard, "write_key"), notice(wizard, "key_status")
    key.setText(KEY)
    click(qtbot, button(wizard, "save_key"))
    qtbot.waitUntil(lambda: kind(status) is Kind.OK, timeout=10_000)

    key.setText(KEY[::-1])
    assert not wizard.button(Next).isEnabled()
    assert kind(status) is Kind.INFO
    assert "changed the key" in status.text()
    key.setText(KEY)
    assert can_go_next(wizard)
    assert kind(status) is Kind.OK


@pytest.mark.keyring
def test_a_keyring_that_does_not_answer_never_freezes_the_window(
    qtbot: QtBot, settings: AppSettings, secret_service: SecretServiceSession
) -> None:
    wizard = make_wizard(qtbot, settings, KeyStore(backend=secret_service.backend(), timeout=0.5))
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    line_edit(wizard, "write_key").setText(KEY)
    status = notice(wizard, "key_status")
    ticks: list[int] = []
    with secret_service.frozen():
        click(qtbot, button(wizard, "save_key"))
        progress = wizard.currentPage().findChild(QProgressBar)
        assert isinstance(progress, QProgressBar)
        assert progress.isVisible()
        QTimer.singleShot(50, lambda: ticks.append(1))
        qtbot.waitUntil(lambda: kind(status) is Kind.WARNING, timeout=5_000)
    assert ticks == [1], "the event loop kept running while the keyring hung"
    assert "did not answer within 0.5 seconds" in status.text()
    assert not progress.isVisible()
    assert button(wizard, "session_only").isEnabled()


def test_keyring_unavailable_offers_session_only(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    line_edit(wizard, "write_key").setText(KEY)
    status, session_only = notice(wizard, "key_status"), button(wizard, "session_only")
    click(qtbot, button(wizard, "save_key"))

    qtbot.waitUntil(lambda: kind(status) is Kind.WARNING, timeout=10_000)
    assert "No system keyring was found" in status.text()
    assert "this session only" in status.text()
    assert isinstance(session_only, QPushButton)
    assert session_only.isDefault()
    assert not wizard.button(Next).isEnabled()
    assert staged_key(wizard) is None

    # It is now the default button: Enter in the key field takes it, and does not retry.
    QTest.keyClick(line_edit(wizard, "write_key"), Qt.Key.Key_Return)
    assert staged_key(wizard) == HELD
    assert kind(status) is Kind.OK
    assert "for this session only" in status.text()
    assert can_go_next(wizard)


def test_sandbox_makes_the_key_optional(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    sandbox = button(wizard, "sandbox")
    assert not can_go_next(wizard)

    click(qtbot, sandbox)
    assert staged_sandbox(wizard), "sandbox mode needs no key"
    assert can_go_next(wizard)
    assert "Optional" in notice(wizard, "key_check").text()

    click(qtbot, sandbox)
    assert not staged_sandbox(wizard)
    assert not can_go_next(wizard)

    click(qtbot, sandbox)
    walk_to(qtbot, wizard, PageId.FINISH)
    with qtbot.waitSignal(wizard.accepted):
        click(qtbot, wizard.button(Finish))
    assert settings.key_storage == "sandbox"
    assert wizard.session.write_key() == SANDBOX_KEY


# --- 4. test events -------------------------------------------------------------------------


def test_test_page_embeds_the_panel_and_is_always_complete(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    wizard.draft.sandbox = True
    assert wizard.test_panel() is None
    walk_to(qtbot, wizard, PageId.TEST)
    panel = wizard.test_panel()
    assert isinstance(panel, QLabel)
    assert panel.isVisible()
    assert panel.parent() is wizard.currentPage()
    assert "sandbox" in wizard.currentPage().subTitle()
    assert can_go_next(wizard)
    assert wizard.trial.use_sandbox, "the test page sends on the trial, staged from the draft"
    assert not wizard.session.use_sandbox


# --- 5. Chatlio -----------------------------------------------------------------------------


def test_copy_key_puts_it_on_the_clipboard_and_clears_it(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.draft.key = HELD
    walk_to(qtbot, wizard, PageId.CHATLIO)
    page = wizard.currentPage()
    page.clear_clipboard_after_ms = 200  # type: ignore[attr-defined]
    clipboard = QGuiApplication.clipboard()

    click(qtbot, button(wizard, "copy_key"))
    assert clipboard.text() == KEY
    assert "cleared again" in notice(wizard, "copy_notice").text()
    qtbot.waitUntil(lambda: clipboard.text() == "", timeout=3_000)
    assert "was cleared" in notice(wizard, "copy_notice").text()


def test_clipboard_is_left_alone_once_it_holds_something_else(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    wizard.draft.key = HELD
    walk_to(qtbot, wizard, PageId.CHATLIO)
    wizard.currentPage().clear_clipboard_after_ms = 100  # type: ignore[attr-defined]
    clipboard = QGuiApplication.clipboard()
    click(qtbot, button(wizard, "copy_key"))
    clipboard.setText("something the user copied since")
    qtbot.wait(300)
    assert clipboard.text() == "something the user copied since"
    clipboard.clear()


def test_checklist_gates_next(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.draft.key = HELD
    walk_to(qtbot, wizard, PageId.CHATLIO)
    ticks = wizard.currentPage().findChildren(QCheckBox)
    assert [tick.accessibleName() for tick in ticks] == [
        "Opened Chatlio's settings",
        "Pasted the key into the Segment field",
        "Saved the settings in Chatlio",
    ]
    for tick in ticks:
        assert not can_go_next(wizard)
        click(qtbot, tick)
    assert can_go_next(wizard)
    click(qtbot, ticks[1])
    assert not can_go_next(wizard)


def test_sandbox_skips_the_checklist_and_copying(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.draft.sandbox = True
    walk_to(qtbot, wizard, PageId.CHATLIO)
    assert can_go_next(wizard)
    assert not button(wizard, "copy_key").isEnabled()
    assert "without Segment" in notice(wizard, "sandbox_notice").text()
    assert "no write key to copy" in notice(wizard, "copy_notice").text()


# --- 6. destinations and warehouse ----------------------------------------------------------


def test_warehouse_preview_lists_the_event_tables_and_tracks(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    wizard.draft.sandbox = True
    walk_to(qtbot, wizard, PageId.DESTINATIONS)
    tree = child(wizard, QTreeWidget, "warehouse_tree")
    assert isinstance(tree, QTreeWidget)
    tables = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert [item.text(0) for item in tables if item is not None] == [
        "chatlio.live_chat_conversation_started",
        "chatlio.live_chat_conversation_ended",
        "chatlio.live_chat_message_sent",
        "chatlio.live_chat_message_received",
        "chatlio.tracks",
    ]
    ended = tables[1]
    assert ended is not None
    cells = [ended.child(i) for i in range(ended.childCount())]
    columns = {cell.text(0): cell.text(1) for cell in cells if cell is not None}
    assert columns["conversation_duration"] == warehouse.TYPE_INTEGER == "bigint"
    assert columns["agent_id"] == "varchar"
    assert "tracks" in all_label_text(wizard)


# --- 7. finish ------------------------------------------------------------------------------


def test_finish_summarises_and_marks_setup_complete(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    wizard.draft.key = HELD
    walk_to(qtbot, wizard, PageId.SOURCE)
    line_edit(wizard, "workspace_slug").setText("acme-inc")
    walk_to(qtbot, wizard, PageId.FINISH)
    summary = {
        name: label.text()
        for name in ("source", "region", "workspace", "key", "schema")
        if isinstance(label := child(wizard, QLabel, f"summary_{name}"), QLabel)
    }
    assert summary["source"] == "Chatlio"
    assert summary["region"] == "United States (US)"
    assert summary["workspace"] == "acme-inc"
    assert summary["key"] == f"Held in memory for {SESSION_LOCATION}"
    assert summary["schema"].startswith("chatlio ")
    assert wizard.currentPage().isFinalPage()

    with qtbot.waitSignal(wizard.accepted):
        click(qtbot, wizard.button(Finish))
    assert settings.setup_complete
    assert (settings.region, settings.workspace_slug, settings.source_name) == (
        "us",
        "acme-inc",
        "Chatlio",
    )


def test_finish_in_sandbox_mode_says_so(qtbot: QtBot, wizard: SetupWizard) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    click(qtbot, button(wizard, "sandbox"))
    walk_to(qtbot, wizard, PageId.FINISH)
    key = child(wizard, QLabel, "summary_key")
    assert isinstance(key, QLabel)
    assert key.text() == "built-in sandbox (no key)"


@pytest.mark.keyring
def test_the_key_never_reaches_the_settings_file(
    qtbot: QtBot, settings: AppSettings, secret_service: SecretServiceSession
) -> None:
    wizard = make_wizard(qtbot, settings, KeyStore(backend=secret_service.backend()))
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    line_edit(wizard, "write_key").setText(KEY)
    click(qtbot, button(wizard, "save_key"))
    status = notice(wizard, "key_status")
    qtbot.waitUntil(lambda: kind(status) is Kind.OK, timeout=10_000)
    walk_to(qtbot, wizard, PageId.FINISH)
    assert GNOME_KEYRING in all_label_text(wizard)
    assert KEY not in all_label_text(wizard)
    with qtbot.waitSignal(wizard.accepted):
        click(qtbot, wizard.button(Finish))

    settings.sync()
    text = Path(settings.path).read_text()
    assert "complete=true" in text
    assert "key_storage=keyring" in text
    assert KEY not in text
    assert KEY[:8] not in text
    assert KEY[-8:] not in text


# --- keyboard only --------------------------------------------------------------------------


def press(
    qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    target = QApplication.focusWidget()
    assert target is not None
    QTest.keyClick(target, key, modifier)


CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def alt(qtbot: QtBot, key: Qt.Key) -> None:
    press(qtbot, key, Qt.KeyboardModifier.AltModifier)


def wait_for_page(qtbot: QtBot, wizard: SetupWizard, page: PageId) -> None:
    qtbot.waitUntil(lambda: wizard.currentId() == page, timeout=2_000)


@pytest.mark.keyring
def test_whole_wizard_by_keyboard(
    qtbot: QtBot, settings: AppSettings, secret_service: SecretServiceSession
) -> None:
    wizard = make_wizard(qtbot, settings, KeyStore(backend=secret_service.backend()))
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)

    # Welcome: Alt+U chooses the US, Alt+N goes on.
    alt(qtbot, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: can_go_next(wizard))
    alt(qtbot, Qt.Key.Key_N)
    wait_for_page(qtbot, wizard, PageId.SOURCE)

    # Source: Alt+S reaches the name; Enter in a field takes the default button, Next.
    alt(qtbot, Qt.Key.Key_S)
    assert QApplication.focusWidget() is line_edit(wizard, "source_name")
    press(qtbot, Qt.Key.Key_End)
    QTest.keyClicks(line_edit(wizard, "source_name"), " Prod")
    press(qtbot, Qt.Key.Key_Return)
    wait_for_page(qtbot, wizard, PageId.WRITE_KEY)
    assert wizard.draft.source_name == "Chatlio Prod"

    # Write key: Alt+W reaches the field; Enter saves to the keyring, Enter again goes on.
    alt(qtbot, Qt.Key.Key_W)
    key = line_edit(wizard, "write_key")
    assert QApplication.focusWidget() is key
    QTest.keyClicks(key, KEY)
    press(qtbot, Qt.Key.Key_H, CTRL_SHIFT)
    assert key.echoMode() == QLineEdit.EchoMode.Normal, "Ctrl+Shift+H shows the key"
    press(qtbot, Qt.Key.Key_H, CTRL_SHIFT)
    assert key.echoMode() == QLineEdit.EchoMode.Password
    press(qtbot, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is button(wizard, "save_key")
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: can_go_next(wizard), timeout=10_000)
    assert wizard.draft.key is not None
    assert wizard.draft.key.location == GNOME_KEYRING
    alt(qtbot, Qt.Key.Key_N)
    wait_for_page(qtbot, wizard, PageId.TEST)

    alt(qtbot, Qt.Key.Key_N)
    wait_for_page(qtbot, wizard, PageId.CHATLIO)

    # Chatlio: Alt+O, Alt+P, Alt+S tick the checklist.
    assert not can_go_next(wizard)
    for letter in (Qt.Key.Key_O, Qt.Key.Key_P, Qt.Key.Key_S):
        alt(qtbot, letter)
    qtbot.waitUntil(lambda: can_go_next(wizard))
    alt(qtbot, Qt.Key.Key_N)
    wait_for_page(qtbot, wizard, PageId.DESTINATIONS)

    alt(qtbot, Qt.Key.Key_N)
    wait_for_page(qtbot, wizard, PageId.FINISH)
    with qtbot.waitSignal(wizard.accepted):
        alt(qtbot, Qt.Key.Key_F)
    assert settings.setup_complete


def test_tab_order_follows_the_page(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    walk_to(qtbot, wizard, PageId.SOURCE)
    line_edit(wizard, "workspace_slug").setFocus()
    order = []
    for _ in range(3):
        press(qtbot, Qt.Key.Key_Tab)
        focused = QApplication.focusWidget()
        assert focused is not None
        order.append(focused.objectName())
    assert order[:2] == ["open_catalog", "source_name"]


def test_every_control_has_an_accessible_name(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.draft.sandbox = True
    walk_to(qtbot, wizard, PageId.FINISH)
    controls = [
        widget
        for page_id in wizard.pageIds()
        if page_id != PageId.TEST
        for widget in wizard.page(page_id).findChildren(QWidget)
        if isinstance(widget, (QAbstractButton, QLineEdit, QTreeWidget))
        # Skips parts of other controls, such as a line edit's clear button.
        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
    ]
    assert len(controls) > 20
    unnamed = [w.objectName() or type(w).__name__ for w in controls if not w.accessibleName()]
    assert unnamed == []


def test_pages_fit_in_800_by_600(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.draft.sandbox = True
    wizard.resize(800, 600)
    assert wizard.minimumSizeHint().width() <= 800
    assert wizard.minimumSizeHint().height() <= 600
    labels = wizard.findChildren(QLabel)
    multi_line = [label for label in labels if len(label.text()) > 90]
    assert multi_line
    assert all(label.wordWrap() for label in multi_line)
    assert isinstance(wizard.findChild(QRadioButton, "region_us"), QRadioButton)


# --- leaving, Enter, focus, sizes, the sandbox shortcut ----------------------------------------


def answer_when_asked(button_text: str) -> list[str]:
    """Click `button_text` in the next message box that opens; returns what it said."""
    said: list[str] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            said.append(f"{box.text()} {box.informativeText()}")
            for candidate in box.buttons():
                if candidate.text().replace("&", "") == button_text:
                    candidate.click()
                    return
        QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)
    return said


def test_cancel_with_a_typed_key_asks_and_can_stay(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    line_edit(wizard, "write_key").setText(KEY)
    said = answer_when_asked("Keep setting up")
    click(qtbot, wizard.button(Cancel))
    assert said
    assert "the write key you typed" in said[0]
    assert "keyring stays there" in said[0]
    assert wizard.isVisible(), "Keep setting up keeps the wizard and the typed key"
    assert line_edit(wizard, "write_key").text() == KEY

    said = answer_when_asked("Leave setup")
    with qtbot.waitSignal(wizard.rejected):
        QTest.keyClick(line_edit(wizard, "write_key"), Qt.Key.Key_Escape)
    assert said
    assert not settings.setup_complete
    assert settings.region == ""
    assert KEY not in " ".join(said)


def test_cancel_with_nothing_to_lose_does_not_ask(qtbot: QtBot, settings: AppSettings) -> None:
    settings.region = "us"
    wizard = make_wizard(qtbot, settings, KeyStore(backend=fail.Keyring()))
    with qtbot.waitSignal(wizard.rejected, timeout=2_000):
        click(qtbot, wizard.button(Cancel))


def test_enter_on_a_focused_link_goes_next_not_to_the_web(
    qtbot: QtBot, wizard: SetupWizard, opened: list[str]
) -> None:
    wizard.draft.key = HELD
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    keys = button(wizard, "open_keys")
    keys.setFocus()
    QTest.keyClick(keys, Qt.Key.Key_Return)
    wait_for_page(qtbot, wizard, PageId.TEST)
    assert opened == []

    walk_to(qtbot, wizard, PageId.DESTINATIONS)
    destinations = button(wizard, "open_destinations")
    destinations.setFocus()
    QTest.keyClick(destinations, Qt.Key.Key_Return)
    wait_for_page(qtbot, wizard, PageId.FINISH)
    debugger = button(wizard, "open_debugger")
    debugger.setFocus()
    with qtbot.waitSignal(wizard.accepted):
        QTest.keyClick(debugger, Qt.Key.Key_Enter)
    assert opened == []


def test_focus_lands_on_the_shown_page(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.activateWindow()
    qtbot.waitUntil(wizard.isActiveWindow)
    walk_to(qtbot, wizard, PageId.SOURCE)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is wizard.button(Next))
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is line_edit(wizard, "write_key"))
    click(qtbot, button(wizard, "sandbox"))
    walk_to(qtbot, wizard, PageId.CHATLIO)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is wizard.button(Next))


def test_try_without_an_account_from_the_welcome_and_eu_pages(
    qtbot: QtBot, wizard: SetupWizard, settings: AppSettings
) -> None:
    click(qtbot, button(wizard, "try_sandbox"))
    assert wizard.currentId() == PageId.TEST
    assert wizard.draft.sandbox
    assert wizard.trial.use_sandbox
    click(qtbot, wizard.button(QWizard.WizardButton.BackButton))
    assert wizard.currentId() == PageId.WELCOME

    choose_region(qtbot, wizard, "eu")
    go_next(qtbot, wizard)
    assert wizard.currentId() == PageId.EU_WORKSPACE
    click(qtbot, button(wizard, "try_sandbox_eu"))
    assert wizard.currentId() == PageId.TEST
    walk_to(qtbot, wizard, PageId.FINISH)
    with qtbot.waitSignal(wizard.accepted):
        click(qtbot, wizard.button(Finish))
    assert settings.key_storage == "sandbox"


def test_an_empty_source_name_says_why_next_is_off(qtbot: QtBot, wizard: SetupWizard) -> None:
    walk_to(qtbot, wizard, PageId.SOURCE)
    line_edit(wizard, "source_name").setText("")
    reason = notice(wizard, "name_notice")
    assert reason.isVisible()
    assert "Next stays off" in reason.text()
    line_edit(wizard, "source_name").setText("Chatlio")
    assert not reason.isVisible()


def test_back_and_next_stay_off_while_the_test_page_sends(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    wizard.draft.sandbox = True
    walk_to(qtbot, wizard, PageId.TEST)
    back = wizard.button(QWizard.WizardButton.BackButton)
    assert back.isEnabled()
    wizard.trial.busy = True  # what the send panel says while it sends
    assert not back.isEnabled()
    assert not wizard.button(Next).isEnabled()
    wizard.trial.busy = False
    assert back.isEnabled()
    assert can_go_next(wizard)


def test_finish_carries_the_test_results_to_the_session(qtbot: QtBot, wizard: SetupWizard) -> None:
    from app.ui.session import SendRecord

    wizard.draft.sandbox = True
    walk_to(qtbot, wizard, PageId.TEST)
    record = SendRecord("visitor", "conversation", sandbox=True, total=6)
    wizard.trial.begin_send(record)
    assert wizard.session.last_send is None
    walk_to(qtbot, wizard, PageId.FINISH)
    with qtbot.waitSignal(wizard.accepted):
        click(qtbot, wizard.button(Finish))
    assert wizard.session.last_send is record


def test_finish_in_sandbox_mode_offers_no_debugger(qtbot: QtBot, wizard: SetupWizard) -> None:
    wizard.draft.sandbox = True
    walk_to(qtbot, wizard, PageId.FINISH)
    assert not button(wizard, "open_debugger").isVisible()
    steps = child(wizard, QLabel, "next_steps")
    assert isinstance(steps, QLabel)
    assert "Debugger" not in steps.text()
    assert "sandbox" in steps.text()


def test_the_wizard_fits_the_screen_and_shows_a_whole_page_at_its_minimum(
    qtbot: QtBot, wizard: SetupWizard
) -> None:
    free = wizard.screen().availableGeometry()
    assert wizard.width() <= free.width()
    assert wizard.height() <= free.height()
    minimum = wizard.minimumSize()
    assert minimum.width() >= 500
    assert minimum.height() >= 380
    wizard.resize(minimum)
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    for which in (Next, Cancel, QWizard.WizardButton.HelpButton):
        shown = wizard.button(which)
        assert shown.isVisible()
        parent = shown.parentWidget()
        assert parent is not None
        assert wizard.rect().contains(shown.geometry().translated(parent.pos()))


def test_the_key_field_carries_show_and_paste_with_icons(qtbot: QtBot, wizard: SetupWizard) -> None:
    from app.ui.secret_edit import ICON_DIR

    for name in ("show.svg", "hide.svg", "paste.svg"):
        assert (Path(ICON_DIR) / name).is_file(), name
    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    key = line_edit(wizard, "write_key")
    for name in ("show_key", "paste_key"):
        inside = button(wizard, name)
        assert key.isAncestorOf(inside), "the buttons sit inside the field"
        assert not inside.icon().isNull()


def test_help_shows_the_current_page_s_topic(qtbot: QtBot, wizard: SetupWizard) -> None:
    from PySide6.QtWidgets import QTextBrowser

    from app.ui.help import TOPICS

    walk_to(qtbot, wizard, PageId.WRITE_KEY)
    click(qtbot, wizard.button(QWizard.WizardButton.HelpButton))
    window = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "help_window")
    qtbot.waitExposed(window)
    text = window.findChild(QTextBrowser, "help_text")
    assert isinstance(text, QTextBrowser)
    assert TOPICS["write_key"] in text.toPlainText()
    window.close()
