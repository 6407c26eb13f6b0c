"""Render every window and page to PNG, for people to look at: `python -m tests.render_screens
OUT [--dark]`. Run it with QT_SCALE_FACTOR=2 for 2x scaling (tests/test_screenshots.py does).

Everything runs in sandbox mode with a fresh settings file: no keyring, nothing leaves the
computer. Each screen is saved at its default size and at its minimum size.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QSize, Qt, QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QWidget


def settle(ms: int = 80) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


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
        window.panel.send_event("Live Chat Message Sent")
        while session.busy:
            settle(50)
        shots += shoot(window, out, "main-02-one-more")

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
        eu.next()
        shots += shoot(eu, out, "wizard-08-eu-workspace")
        eu.discard()
        window.close()
        session.close()
    return shots


if __name__ == "__main__":
    args = sys.argv[1:]
    for path in render(Path(args[0]), dark="--dark" in args):
        print(path, WIDTHS[path])
