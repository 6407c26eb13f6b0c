"""The setup wizard: Segment's documented Chatlio setup, one page per stage."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QSize, QTimer, Slot
from PySide6.QtWidgets import QApplication, QWidget, QWizard

from app.ui.draft import REGION_EU, SetupDraft
from app.ui.page_kit import Page, PageId
from app.ui.pages.welcome import WelcomePage
from app.ui.screen_fit import fit_to_screen
from app.ui.session import Session

__all__ = ["PAGE_ORDER", "PageId", "SetupWizard"]

GEOMETRY_NAME = "wizard"
# The pages in the order Next walks them. EU_WORKSPACE is a dead end off WELCOME.
PAGE_ORDER = (
    PageId.WELCOME,
    PageId.SOURCE,
    PageId.WRITE_KEY,
    PageId.TEST,
    PageId.CHATLIO,
    PageId.DESTINATIONS,
    PageId.FINISH,
)
# Big enough for a whole page at its minimum (the pages scroll below it); small enough for a
# 1280x800 screen at 2x scaling.
MINIMUM_SIZE = QSize(560, 400)
DEFAULT_SIZE = QSize(820, 640)

PanelFactory = Callable[[Session, QWidget], QWidget]


class LeaveSetupDialog:
    """Asks before Cancel or Escape throws away what the user entered."""

    @classmethod
    def ask(cls, parent: QWidget, lost: list[str], busy: bool) -> bool:
        from PySide6.QtWidgets import QMessageBox  # its first use costs start-up time

        what = ", ".join(lost[:-1]) + (" and " if len(lost) > 1 else "") + lost[-1] if lost else ""
        text = f"Leaving now loses {what}." if what else ""
        if busy:
            text += " The test events being sent are stopped."
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Leave setup?",
            text.strip(),
            QMessageBox.StandardButton.NoButton,
            parent,
        )
        box.setInformativeText(
            "Nothing else changes: the app keeps the setup it had. A key you saved to the "
            "keyring stays there."
        )
        leave = box.addButton("&Leave setup", QMessageBox.ButtonRole.DestructiveRole)
        stay = box.addButton("&Keep setting up", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        box.exec()
        return box.clickedButton() is leave


class SetupWizard(QWizard):
    """Walks the user through connecting Chatlio to Segment, doing the work a program can.

    Pages stage the user's choices in a SetupDraft; Finish commits it to the settings and the
    session (and carries the test page's results over), Cancel drops it after asking when
    something would be lost. The test page sends on a trial session staged from the draft.
    No signals of its own beyond QWizard's (accepted, rejected, currentIdChanged, …).
    """

    def __init__(
        self, session: Session, panel_factory: PanelFactory, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._draft = SetupDraft.of(session)
        self._trial = session.trial()
        self._token_generation = self._trial.token_generation
        self._panel_factory = panel_factory
        self._all_pages = False
        self._sandbox_jump = False  # Next from "Try it without a Segment account"
        self._focus_before_send: QWidget | None = None
        self.setWindowTitle("Chatlio Segment Setup")
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, True)
        self.helpRequested.connect(self.on_help_requested)
        self.currentIdChanged.connect(self.on_current_id_changed)
        # Before the test page's own connection, which turns Next off: see _park_focus.
        self._trial.changed.connect(self._park_focus)
        # Only the first page before the window paints; the rest right after (see event()).
        welcome = WelcomePage(self._draft, self._trial)
        welcome.sandbox_chosen.connect(self.on_sandbox_chosen)
        self.setPage(PageId.WELCOME, welcome)
        self.setStartId(PageId.WELCOME)
        self.setMinimumSize(MINIMUM_SIZE)
        geometry = session.settings.geometry(GEOMETRY_NAME)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(fit_to_screen(self, DEFAULT_SIZE))

    @property
    def session(self) -> Session:
        return self._session

    @property
    def trial(self) -> Session:
        """The session the test page sends on; the real one changes only on Finish."""
        return self._trial

    @property
    def draft(self) -> SetupDraft:
        return self._draft

    def add_remaining_pages(self) -> None:
        """Build every page after the first; idempotent, and done before the first is left."""
        if self._all_pages:
            return
        self._all_pages = True
        from app.ui.pages.chatlio import ChatlioPage
        from app.ui.pages.destinations import DestinationsPage
        from app.ui.pages.eu_workspace import EuWorkspacePage
        from app.ui.pages.finish import FinishPage
        from app.ui.pages.source import SourcePage
        from app.ui.pages.test_events import TestEventsPage
        from app.ui.pages.write_key import WriteKeyPage

        draft = self._draft
        eu = EuWorkspacePage(draft)
        eu.sandbox_chosen.connect(self.on_sandbox_chosen)
        trial = self._trial
        self.setPage(PageId.SOURCE, SourcePage(draft, trial))
        self.setPage(PageId.WRITE_KEY, WriteKeyPage(self._session, draft, trial))
        self.setPage(PageId.TEST, TestEventsPage(trial, draft, self._panel_factory))
        self.setPage(PageId.CHATLIO, ChatlioPage(draft))
        self.setPage(PageId.DESTINATIONS, DestinationsPage(draft, trial))
        self.setPage(PageId.FINISH, FinishPage(draft, trial))
        self.setPage(PageId.EU_WORKSPACE, eu)
        # After the test page's own connection, which makes QWizard re-enable Back.
        self._trial.changed.connect(self.on_trial_changed)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Paint and not self._all_pages:
            QTimer.singleShot(0, self.add_remaining_pages)
        return handled

    def validateCurrentPage(self) -> bool:
        self.add_remaining_pages()  # Next pressed before the first paint's timer ran
        return super().validateCurrentPage()

    def nextId(self) -> int:
        current = self.currentId()
        if self._sandbox_jump:
            return PageId.TEST
        if current == PageId.WELCOME and self._draft.region == REGION_EU:
            return PageId.EU_WORKSPACE
        if current not in PAGE_ORDER or current == PAGE_ORDER[-1]:
            return -1
        return PAGE_ORDER[PAGE_ORDER.index(PageId(current)) + 1]

    def test_panel(self) -> QWidget | None:
        """The widget from the panel factory, once the test page has been shown."""
        from app.ui.pages.test_events import TestEventsPage

        page = self.page(PageId.TEST)
        return page.panel if isinstance(page, TestEventsPage) else None

    # --- ending ------------------------------------------------------------------------------

    def accept(self) -> None:
        self.add_remaining_pages()
        if self.currentId() == PageId.EU_WORKSPACE:
            super().reject()  # nothing was set up: the dialog closes as cancelled
            return
        self._draft.commit(self._session)
        self._session.adopt_send(self._trial)
        super().accept()

    def reject(self) -> None:
        """Cancel, Escape or the window's close button: ask first if something would be lost."""
        lost = self._draft.unsaved()
        asking = self.currentId() != PageId.EU_WORKSPACE and (lost or self._trial.busy)
        if asking and not LeaveSetupDialog.ask(self, lost, self._trial.busy):
            return
        super().reject()

    def discard(self) -> None:
        """Leave without asking, dropping the draft (for a caller that already asked)."""
        super().reject()

    def done(self, result: int) -> None:
        from app.ui.pages.chatlio import ChatlioPage

        chatlio = self.page(PageId.CHATLIO)
        if isinstance(chatlio, ChatlioPage):
            # The key must not outlive the wizard on the clipboard once nobody will clear it.
            chatlio.clear_clipboard()
        self._session.settings.set_geometry(GEOMETRY_NAME, self.saveGeometry())
        self._trial.close()  # its sandbox, unless Finish handed it over
        super().done(result)

    # --- slots -------------------------------------------------------------------------------

    @Slot()
    def on_sandbox_chosen(self) -> None:
        """ "Try it without a Segment account": straight to the test page, in sandbox mode."""
        self.add_remaining_pages()
        self._sandbox_jump = True
        try:
            self.next()
        finally:
            self._sandbox_jump = False

    @Slot()
    def on_help_requested(self) -> None:
        from app.ui.help import show_help

        page = self.currentPage()
        show_help(self, page.help_topic if isinstance(page, Page) else "welcome")

    @Slot()
    def on_trial_changed(self) -> None:
        """Back and Next stay off while the test page sends (QWizard re-enables them itself);
        a new token makes the key's known owner stale (another workspace may answer)."""
        if self._trial.token_generation != self._token_generation:
            self._token_generation = self._trial.token_generation
            self._draft.key_owner = None
        back = self.button(QWizard.WizardButton.BackButton)
        if self._trial.busy:
            back.setEnabled(False)
            return
        if not back.isEnabled() and self.currentId() != self.startId():
            back.setEnabled(True)
        # Back or Next had focus when the send began (Ctrl+Return): give it back, unless the
        # user has moved on from where it was parked.
        was, self._focus_before_send = self._focus_before_send, None
        focused = QApplication.focusWidget()
        parked = focused is None or focused.objectName() == "send_status"
        if was is not None and parked and was.isVisible() and was.isEnabled():
            was.setFocus()

    @Slot()
    def _park_focus(self) -> None:
        """A send from Back or Next (Ctrl+Return) turns them off, and Qt would push focus on
        to the next field, where a typed letter replaces the visitor id: park it on the send
        panel's status line meanwhile; on_trial_changed gives it back."""
        focused = QApplication.focusWidget()
        buttons = [
            self.button(b)
            for b in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton)
        ]
        if not self._trial.busy or self._focus_before_send is not None or focused not in buttons:
            return
        panel = self.test_panel()
        status = panel.findChild(QWidget, "send_status") if panel is not None else None
        if status is not None:
            self._focus_before_send = focused
            status.setFocus()

    @Slot(int)
    def on_current_id_changed(self, _page_id: int) -> None:
        self._focus_page()
        QTimer.singleShot(0, self, self._focus_page)  # again, once QWizard is done

    def _focus_page(self) -> None:
        """Focus on the page's first control, else Next or Finish: never a hidden widget."""
        page = self.currentPage()
        target = page.first_focus() if isinstance(page, Page) else None
        if target is None or not target.isVisible() or not target.isEnabled():
            for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.FinishButton):
                button = self.button(which)
                if button.isVisible() and button.isEnabled():
                    target = button
                    break
        if target is not None:
            target.setFocus()
