"""A last-resort exception hook: log it and tell the user, with the write key scrubbed out."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType

from PySide6.QtWidgets import QApplication

from app.redaction import scrub

log = logging.getLogger(__name__)


class CrashDialog:
    """Tells the user something went wrong, without a traceback in their face."""

    @classmethod
    def ask(cls, details: str) -> None:
        from PySide6.QtWidgets import QMessageBox  # only when something went wrong

        box = QMessageBox(QApplication.activeWindow())
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Something went wrong")
        box.setText(
            "Something unexpected went wrong inside the app. Your settings and the stored write "
            "key are safe. If it happens again, please report it with the details below."
        )
        box.setDetailedText(details)
        box.exec()


def install(secrets: Callable[[], list[str]]) -> None:
    """Replace sys.excepthook so an error in a slot is shown instead of killing the app."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        import traceback

        details = scrub("".join(traceback.format_exception(kind, error, tb)), secrets())
        log.error("Unhandled error:\n%s", details)
        if QApplication.instance() is not None:
            CrashDialog.ask(details)

    sys.excepthook = hook
