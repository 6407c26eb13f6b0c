"""The end of the road for an EU workspace: why, what to do instead, and the sandbox to try."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QWidget, QWizard

from app.ui.draft import SetupDraft
from app.ui.page_kit import Kind, Notice, Page, text_label
from app.ui.pages.welcome import try_sandbox_row


class EuWorkspacePage(Page):
    """Chatlio's source exists only in US workspaces; Close ends the wizard as cancelled.

    Signals: sandbox_chosen() — the user wants to try it without Segment (the wizard goes on).
    """

    sandbox_chosen = Signal()
    help_topic = "eu_workspace"

    def __init__(self, draft: SetupDraft) -> None:
        super().__init__(
            draft,
            "Chatlio needs a US workspace",
            "Your workspace processes data in the EU, and Segment offers the Chatlio source "
            "only in US workspaces.",
        )
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Close")
        self._reason = Notice()
        self._reason.setObjectName("eu_reason")
        why = text_label(
            "<b>Why it stops here.</b> Segment lists Chatlio as a source only in workspaces "
            "whose data-processing region is the United States. An EU workspace cannot add a "
            "Chatlio source, and events sent to Segment's EU host never reach one.",
            rich=True,
        )
        what = text_label(
            "<b>What you can do instead</b><ul style='margin-top:0'>"
            "<li>Use a Segment workspace in the US region: create one, or ask your Segment "
            "administrator for access to one, then run this setup again.</li>"
            "<li>Ask Chatlio support or Segment support how to get Chatlio's events into "
            "your EU workspace.</li></ul>",
            rich=True,
        )
        back = text_label(
            "If you chose EU by mistake, go back and choose again. If a Public API token told "
            "the region, it belongs to an EU workspace: a token of your US workspace tells "
            "that one instead."
        )
        sandbox_row, self._try = try_sandbox_row(self, "try_sandbox_eu")
        self._try.clicked.connect(self.on_try_clicked)
        for widget in (self._reason, why, what, back):
            self.body.addWidget(widget)
        self.body.addSpacing(8)
        self.body.addWidget(sandbox_row)
        self.body.addStretch(1)

    def initializePage(self) -> None:
        reason = self._draft.region_reason
        if reason:
            self._reason.show_message(Kind.WARNING, reason)
        else:
            self._reason.clear()

    def first_focus(self) -> QWidget | None:
        return None  # Close: the page's answer

    @Slot()
    def on_try_clicked(self) -> None:
        self._draft.sandbox = True
        self.sandbox_chosen.emit()
