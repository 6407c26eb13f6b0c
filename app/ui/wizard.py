"""The setup wizard: Segment's documented Chatlio setup, one page per stage."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget, QWizard

from app.ui.pages import (
    REGION_EU,
    REGION_US,
    ChatlioPage,
    DestinationsPage,
    EuWorkspacePage,
    FinishPage,
    PageId,
    SourcePage,
    TestPage,
    WelcomePage,
    WriteKeyPage,
)
from app.ui.session import Session

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
        self.setPage(PageId.WELCOME, WelcomePage(session))
        self.setPage(PageId.SOURCE, SourcePage(session))
        self.setPage(PageId.WRITE_KEY, WriteKeyPage(session))
        self.setPage(PageId.TEST, TestPage(session, test_panel_factory))
        self.setPage(PageId.CHATLIO, ChatlioPage(session))
        self.setPage(PageId.DESTINATIONS, DestinationsPage(session))
        self.setPage(PageId.FINISH, FinishPage(session))
        self.setPage(PageId.EU_WORKSPACE, EuWorkspacePage(session))
        self.setStartId(PageId.WELCOME)
        geometry = session.settings.geometry(GEOMETRY_NAME)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(800, 600)

    @property
    def session(self) -> Session:
        return self._session

    def test_panel(self) -> QWidget | None:
        """The widget from test_panel_factory, once the test page has been shown."""
        page = self.page(PageId.TEST)
        return page.panel if isinstance(page, TestPage) else None

    def accept(self) -> None:
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
        chatlio = self.page(PageId.CHATLIO)
        if isinstance(chatlio, ChatlioPage):
            # The key must not outlive the wizard on the clipboard once nobody will clear it.
            chatlio.clear_clipboard()
        self._session.settings.set_geometry(GEOMETRY_NAME, self.saveGeometry())
        super().done(result)
