"""Render every window and page to PNG, for people to look at: `python -m tests.render_screens
OUT [--dark]`. Run it with QT_SCALE_FACTOR=2 for 2x scaling (tests/test_screenshots.py does).

Everything runs in sandbox mode with a fresh settings file: no keyring, nothing leaves the
computer. Each screen is saved at its default size and at its minimum size.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSize, Qt, QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QLineEdit, QPushButton, QWidget


def settle(ms: int = 80) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def settle_until(done: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Turn the event loop until `done()`; a screen that never gets there is an error."""
    for _ in range(int(seconds * 20)):
        if done():
            return
        settle(50)
    raise RuntimeError(f"gave up waiting for {what}")


# What a user might paste from the Source Debugger: one clean event, one with two problems.
PASTED_EVENTS = "\n".join(
    (
        '{"type": "track", "event": "Live Chat Message Sent", "anonymousId": "v-1", '
        '"properties": {"conversation_id": "c-1", "message_id": "m-1"}}',
        '{"type": "track", "event": "Live chat message received", "anonymousId": "v-1", '
        '"properties": {"conversation_id": "c-1", "message_id": "m-2", "agent_id": "U1", '
        '"conversation_duration": "75"}}',
    )
)

# Each shot's width in device-independent pixels, so that a test can tell the scale.
WIDTHS: dict[Path, int] = {}


def shoot(widget: QWidget, out: Path, name: str) -> list[Path]:
    """`name`.png at the widget's size, and `name`-min.png at its minimum size."""
    saved: list[Path] = []
    size = widget.size()
    for suffix, target in (("", size), ("-min", widget.minimumSize())):
        widget.resize(target.expandedTo(QSize(1, 1)))
        settle()
        path = out / f"{name}{suffix}.png"
        if not widget.grab().save(str(path)):
            raise RuntimeError(f"could not save {path}")
        saved.append(path)
        WIDTHS[path] = widget.width()
    widget.resize(size)
    settle()
    return saved


def record_summary(session: object) -> str:
    record = getattr(session, "last_send", None)
    return "" if record is None else str(record.summary)


def render(out: Path, dark: bool) -> list[Path]:
    from keyring.backends import fail

    from app.keystore import KeyStore
    from app.ui.main_window import MainWindow
    from app.ui.send_panel import SendPanel
    from app.ui.session import Session
    from app.ui.settings import AppSettings
    from app.ui.wizard import PageId, SetupWizard

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    if dark:
        from app.ui.theme import set_color_scheme

        set_color_scheme(app, Qt.ColorScheme.Dark)
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as home:
        settings = AppSettings(str(Path(home) / "settings.ini"))
        session = Session(settings, keystore=KeyStore(backend=fail.Keyring()))
        wizard = SetupWizard(session, SendPanel)
        wizard.show()
        settle(200)
        shots += shoot(wizard, out, "wizard-01-welcome")
        wizard.add_remaining_pages()
        wizard.draft.region = "us"
        wizard.next()
        shots += shoot(wizard, out, "wizard-02-source")
        wizard.next()
        shots += shoot(wizard, out, "wizard-03-write-key")
        wizard.draft.sandbox = True
        wizard.next()
        panel = wizard.test_panel()
        assert isinstance(panel, SendPanel)
        panel.send_conversation()
        while wizard.trial.busy or wizard.trial.last_send is None:
            settle(50)
        shots += shoot(wizard, out, "wizard-04-test-sent")
        for page, name in (
            (PageId.CHATLIO, "wizard-05-chatlio"),
            (PageId.DESTINATIONS, "wizard-06-destinations"),
            (PageId.FINISH, "wizard-07-finish"),
        ):
            for tick in wizard.currentPage().findChildren(QCheckBox):
                tick.setChecked(True)
            wizard.next()
            assert wizard.currentId() == page
            shots += shoot(wizard, out, name)
        wizard.accept()

        window = MainWindow(session)
        window.show()
        settle(200)
        shots += shoot(window, out, "main-01-results")
        record = session.last_send
        assert record is not None
        settle_until(lambda: record.confirmation is not None, "the sandbox's count")
        shots += shoot(window, out, "main-01-confirmed")
        window.panel.send_event("Live Chat Message Sent")
        while session.busy:
            settle(50)
        shots += shoot(window, out, "main-02-one-more")
        window.show_history()
        pane = window.panel.history
        assert pane is not None
        settle_until(lambda: pane.model.rowCount() == 2, "the kept sends")
        window.show_history()  # the newest selected: it shows in the response view
        settle_until(lambda: "(from the history)" in (record_summary(session)), "the kept send")
        shots += shoot(window, out, "main-04-history")
        window.show_event_check()
        check = window.panel.event_check
        assert check is not None
        check.editor.setPlainText(PASTED_EVENTS)
        settle_until(lambda: not check.checking, "the check of the pasted events")
        shots += shoot(window, out, "main-05-check-event")
        from app.ui.warehouse_sql_box import WarehouseSqlDialog

        sql_dialog = WarehouseSqlDialog(session.source_name, window)
        sql_dialog.show()
        settle(100)
        shots += shoot(sql_dialog, out, "warehouse-sql")
        sql_dialog.close()

        from app.ui.help import show_help
        from app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(session, window)
        dialog.show()
        settle(100)
        shots += shoot(dialog, out, "settings-dialog")
        dialog.reject()
        show_help(window, "write_key")
        help_window = next(
            w for w in QApplication.topLevelWidgets() if w.objectName() == "help_window"
        )
        settle(100)
        shots += shoot(help_window, out, "help-write-key")
        help_window.close()

        eu = SetupWizard(Session(AppSettings(str(Path(home) / "eu.ini"))), SendPanel)
        eu.show()
        eu.add_remaining_pages()
        eu.draft.region = "eu"
        eu.draft.region_reason = (
            "The token opens workspace “Acme Europe” (acme-eu), in Segment's EU region."
        )
        eu.next()
        shots += shoot(eu, out, "wizard-08-eu-workspace")
        eu.discard()
        window.close()
        session.close()
        shots += render_token_screens(out, Path(home))
    return shots


def render_token_screens(out: Path, home: Path) -> list[Path]:
    """The Public API token's dialog, and the wizard's steps that a token enables (sandbox
    mode: the built-in sandbox answers as Segment's Public API would, with no account)."""
    from keyring.backends import fail

    from app.key_storage import KeyStorage
    from app.keystore import KeyStore
    from app.segment import SANDBOX_TOKEN
    from app.segment.endpoint import Region
    from app.segment.public_api.hosts import ApiEndpoint
    from app.segment.sandbox import Sandbox
    from app.token_store import SessionTokenStore
    from app.ui.main_window import MainWindow
    from app.ui.page_kit import Kind, Notice
    from app.ui.send_panel import SendPanel
    from app.ui.session import Session
    from app.ui.settings import AppSettings
    from app.ui.token_entry import TokenDialog
    from app.ui.wizard import PageId, SetupWizard

    shots: list[Path] = []
    with Sandbox() as stand_in:
        # A "real" token checked against the sandbox's Public API, standing in for the US host.
        session = Session(
            AppSettings(str(home / "token.ini")),
            keystore=KeyStore(backend=fail.Keyring()),
            token_store=SessionTokenStore(),
            api_hosts=(ApiEndpoint(stand_in.public_api_url, Region.US),),
        )
        window = MainWindow(session)
        window.show()
        settle(100)
        dialog = TokenDialog(session, window)
        dialog.show()
        settle(100)
        shots += shoot(dialog, out, "token-dialog")
        dialog.entry.edit.setText(SANDBOX_TOKEN)
        dialog.entry.on_session_only_clicked()
        settle_until(lambda: session.token_location is not None, "the token check")
        shots += shoot(dialog, out, "token-dialog-checked")
        dialog.reject()
        shots += shoot(window, out, "main-03-token-held")
        window.close()

        # The wizard with that token: its workspace, the create button, a website's key.
        wizard = SetupWizard(session, SendPanel)
        wizard.show()
        settle(200)
        wizard.add_remaining_pages()
        wizard.restart()
        shots += shoot(wizard, out, "wizard-real-01-welcome-token")
        wizard.next()
        shots += shoot(wizard, out, "wizard-real-02-source-token")
        wizard.next()
        page = wizard.currentPage()
        edit = page.findChild(QLineEdit, "write_key")
        assert edit is not None
        edit.setText("sandbox-website-key")
        page.findChild(QPushButton, "session_only").click()  # type: ignore[union-attr]
        whose = page.findChild(Notice, "owner_notice")
        assert whose is not None
        settle_until(lambda: whose.kind is Kind.WARNING, "the key check")
        shots += shoot(wizard, out, "wizard-real-03-website-key")
        wizard.discard()
        session.close()

    settings = AppSettings(str(home / "sandbox.ini"))
    settings.key_storage = KeyStorage.SANDBOX
    session = Session(settings, keystore=KeyStore(backend=fail.Keyring()))
    wizard = SetupWizard(session, SendPanel)
    wizard.show()
    settle(200)
    wizard.add_remaining_pages()
    welcome = wizard.currentPage()
    sandbox_dialog = TokenDialog(wizard.trial, welcome)
    sandbox_dialog.show()
    sandbox_dialog.entry.taken.connect(welcome.on_token_taken)  # type: ignore[attr-defined]
    sandbox_dialog.entry.on_sandbox_check_clicked()
    settle_until(lambda: not sandbox_dialog.entry.is_busy(), "the sandbox's workspace")
    shots += shoot(sandbox_dialog, out, "token-dialog-sandbox")
    sandbox_dialog.reject()
    shots += shoot(wizard, out, "wizard-token-01-welcome")
    wizard.next()
    page = wizard.currentPage()
    page.findChild(QWidget, "create_source").click()  # type: ignore[union-attr]
    notice = page.findChild(Notice, "create_notice")
    assert notice is not None
    settle_until(lambda: notice.kind is Kind.OK, "the source to be created")
    shots += shoot(wizard, out, "wizard-token-02-source-created")
    wizard.next()
    owner = wizard.currentPage().findChild(Notice, "owner_notice")
    assert owner is not None
    settle_until(lambda: owner.kind is not None, "the key check")
    shots += shoot(wizard, out, "wizard-token-03-write-key-checked")
    wizard.next()  # test events
    wizard.next()  # Chatlio: nothing to paste in the sandbox
    wizard.next()
    assert wizard.currentId() == PageId.DESTINATIONS
    connected = wizard.currentPage().findChild(Notice, "connected_notice")
    assert connected is not None
    settle_until(lambda: connected.kind is not None, "the source's connections")
    shots += shoot(wizard, out, "wizard-token-06-destinations")
    wizard.next()
    shots += shoot(wizard, out, "wizard-token-07-finish")
    wizard.discard()
    session.close()
    return shots


if __name__ == "__main__":
    args = sys.argv[1:]
    for path in render(Path(args[0]), dark="--dark" in args):
        print(path, WIDTHS[path])
