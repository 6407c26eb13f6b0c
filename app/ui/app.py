"""Starts the GUI: the wizard on first run, the test-event screen after setup."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication, QWidget

from app import APP_ID, APP_NAME, __version__
from app.ui import crash
from app.ui.session import Session
from app.ui.settings import AppSettings
from app.ui.wizard import SetupWizard

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

    from app.segment.endpoint import Endpoint
    from app.segment.public_api.hosts import ApiEndpoint
    from app.ui.main_window import MainWindow


class AppController(QObject):
    """Decides which window shows: the setup wizard, or the main window once setup is done."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.wizard: SetupWizard | None = None
        self.window: MainWindow | None = None

    def start(self) -> None:
        if self.session.settings.setup_complete:
            self.show_main()
        else:
            self.show_wizard()

    @Slot()
    def show_wizard(self) -> None:
        if self.wizard is None:
            self.wizard = SetupWizard(self.session, self._make_panel)
            self.wizard.accepted.connect(self.on_wizard_accepted)
            self.wizard.rejected.connect(self.on_wizard_rejected)
        self.wizard.show()
        self.wizard.raise_()

    @staticmethod
    def _make_panel(session: Session, parent: QWidget) -> QWidget:
        from app.ui.send_panel import SendPanel  # not on the first page's start-up path

        return SendPanel(session, parent)

    @Slot()
    def on_wizard_accepted(self) -> None:
        # The session took the wizard's draft; an open main window follows it by itself.
        self._drop_wizard()
        self.show_main()

    @Slot()
    def on_wizard_rejected(self) -> None:
        self._drop_wizard()  # the draft goes with it: nothing changed

    def _drop_wizard(self) -> None:
        if self.wizard is not None:
            self.wizard.deleteLater()
            self.wizard = None

    def show_main(self) -> None:
        if self.window is None:
            from app.ui.main_window import MainWindow

            self.window = MainWindow(self.session)
            self.window.setup_requested.connect(self.show_wizard)
        self.window.show()


# For the packaging smoke test and the start-up benchmark: report the first painted window.
EXIT_AFTER_PAINT_ENV = "CHATLIO_SEGMENT_SETUP_EXIT_AFTER_PAINT"
SCREENSHOT_ENV = "CHATLIO_SEGMENT_SETUP_SCREENSHOT"


class FirstPaintProbe(QObject):
    """Notices a window's first paint; then runs what waits for it, and for the packaging
    smoke test and the start-up benchmark reports it, saves a screenshot and/or quits."""

    def __init__(
        self, screenshot: str | None, quit_after: bool, report: bool, *then: Callable[[], None]
    ) -> None:
        super().__init__()
        self._screenshot, self._quit_after, self._report = screenshot, quit_after, report
        self._then = then
        self._seen = False

    def watch(self, window: QWidget) -> None:
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self._seen and isinstance(watched, QWidget):
            self._seen = True
            watched.removeEventFilter(self)
            if self._report:
                print(f"first-paint {time.monotonic():.6f}", flush=True)
            QTimer.singleShot(0, lambda: self._after_paint(watched))
        return False

    def _after_paint(self, window: QWidget) -> None:
        for callback in self._then:
            callback()
        if self._screenshot:
            window.grab().save(self._screenshot)
        if self._quit_after:
            QApplication.quit()


def icon() -> QIcon:
    """The app's icon from resources/ (beside the package, also in the frozen build)."""
    from PySide6.QtGui import QIcon  # after the first paint, like the icon itself

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "resources", "icons", "app.svg")
    return QIcon(path) if os.path.exists(path) else QIcon()


def _follow_color_scheme(app: QApplication) -> None:
    """app.ui.theme, imported after the first paint."""
    from app.ui import theme

    theme.follow_system_color_scheme(app)


def run_gui(
    argv: Sequence[str] | None = None,
    endpoint: Endpoint | None = None,
    api_endpoint: ApiEndpoint | None = None,
) -> int:
    """Open the app; `endpoint` (from `--endpoint URL`) is where this run sends, shown in the
    window and not saved; `api_endpoint` (from `--api-endpoint URL`) is where it asks the
    Public API, also for this run only."""
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName("chatlio-segment-setup")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    session = Session(AppSettings())
    if endpoint is not None:
        session.use_endpoint_from_command_line(endpoint)
    if api_endpoint is not None:
        session.use_api_endpoint_from_command_line(api_endpoint)
    crash.install(session.secrets)
    controller = AppController(session)
    controller.start()
    screenshot, quit_after = (
        os.environ.get(SCREENSHOT_ENV),
        bool(os.environ.get(EXIT_AFTER_PAINT_ENV)),
    )
    # After the first paint: the icon is not in the window's first frame, and loading the SVG
    # plugin costs start-up time. Where the platform follows the system's dark scheme itself
    # (Windows 11, macOS, desktops with Qt's portal), the first frame is already right;
    # elsewhere the dark palette comes a frame later rather than costing every start its
    # first touch of Qt's enums.
    probe = FirstPaintProbe(
        screenshot,
        quit_after,
        bool(screenshot or quit_after),
        lambda: app.setWindowIcon(icon()),
        lambda: _follow_color_scheme(app),
    )
    for window in (controller.wizard, controller.window):
        if window is not None:
            probe.watch(window)
    try:
        return app.exec()
    finally:
        session.settings.sync()
        session.close()
