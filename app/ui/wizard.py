"""The setup wizard: Segment's documented Chatlio setup, one page per stage."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtWidgets import QWidget, QWizard

from app.ui.page_kit import REGION_EU, REGION_US, PageId
from app.ui.session import Session
from app.ui.welcome import WelcomePage

__all__ = ["REGION_EU", "REGION_US", "PageId", "SetupWizard"]

GEOMETRY_NAME = "wizard"


class SetupWizard(QWizard):
    """Walks the user through connecting Chatlio to Segment, doing the work a program can.

    Pages (PageId): WELCOME (region) → SOURCE → WRITE_KEY → TEST → CHATLIO → DESTINATIONS →
    FINISH; an EU workspace ends at EU_WORKSPACE instead. Accepting from FINISH marks setup
    complete in the settings; closing from EU_WORKSPACE rejects. No signals of its own beyond
    QWizard's (accepted, rejected, currentIdChanged, …).
    """

    def __init__(
        self,
        session: Session,
        test_panel_factory: Callable[[QWidget], QWidget],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self.setWindowTitle("Chatlio Segment Setup")
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self._test_panel_factory = test_panel_factory
        self._all_pages = False
        # Only the first page before the window paints; the rest right after (see event()).
        self.setPage(PageId.WELCOME, WelcomePage(session))
        self.setStartId(PageId.WELCOME)
        geometry = session.settings.geometry(GEOMETRY_NAME)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(800, 600)

    def add_remaining_pages(self) -> None:
        """Build every page after the first; idempotent, and done before the first is left."""
        if self._all_pages:
            return
        self._all_pages = True
        from app.ui.pages import (
            ChatlioPage,
            DestinationsPage,
            EuWorkspacePage,
            FinishPage,
            SourcePage,
            TestPage,
            WriteKeyPage,
        )

        session = self._session
        self.setPage(PageId.SOURCE, SourcePage(session))
        self.setPage(PageId.WRITE_KEY, WriteKeyPage(session))
        self.setPage(PageId.TEST, TestPage(session, self._test_panel_factory))
        self.setPage(PageId.CHATLIO, ChatlioPage(session))
        self.setPage(PageId.DESTINATIONS, DestinationsPage(session))
        self.setPage(PageId.FINISH, FinishPage(session))
        self.setPage(PageId.EU_WORKSPACE, EuWorkspacePage(session))

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Paint and not self._all_pages:
            QTimer.singleShot(0, self.add_remaining_pages)
        return handled

    def validateCurrentPage(self) -> bool:
        self.add_remaining_pages()  # Next pressed before the first paint's timer ran
        return super().validateCurrentPage()

    @property
    def session(self) -> Session:
        return self._session

    def test_panel(self) -> QWidget | None:
        """The widget from test_panel_factory, once the test page has been shown."""
        from app.ui.pages import TestPage

        page = self.page(PageId.TEST)
        return page.panel if isinstance(page, TestPage) else None

    def accept(self) -> None:
        from app.ui.pages import SourcePage

        self.add_remaining_pages()
        if self.currentId() == PageId.EU_WORKSPACE:
            # Nothing was set up: the dialog closes as cancelled.
            self.reject()
            return
        settings = self._session.settings
        welcome, source = self.page(PageId.WELCOME), self.page(PageId.SOURCE)
        region = welcome.region() if isinstance(welcome, WelcomePage) else None
        if region is not None:
            settings.region = region
        if isinstance(source, SourcePage):
            source.validatePage()  # saves the source name and workspace slug
        settings.setup_complete = True
        settings.sync()
        super().accept()

    def done(self, result: int) -> None:
        from app.ui.pages import ChatlioPage

        chatlio = self.page(PageId.CHATLIO)
        if isinstance(chatlio, ChatlioPage):
            # The key must not outlive the wizard on the clipboard once nobody will clear it.
            chatlio.clear_clipboard()
        self._session.settings.set_geometry(GEOMETRY_NAME, self.saveGeometry())
        super().done(result)
