"""Sending test events from inside the wizard, on a trial session staged from the draft."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QWidget

from app.ui.draft import SetupDraft
from app.ui.page_kit import Page
from app.ui.session import Session


class TestEventsPage(Page):
    """Hosts the send panel (built when first shown) for the trial session.

    The wizard's Back and Next stay off while a send runs (the trial session is busy).
    """

    __test__ = False  # not a pytest test class
    help_topic = "test"

    def __init__(
        self,
        trial: Session,
        draft: SetupDraft,
        panel_factory: Callable[[Session, QWidget], QWidget],
    ) -> None:
        super().__init__(
            draft,
            "Send test events",
            "Send Chatlio's Live Chat events as tests, and see each answer.",
        )
        self._trial = trial
        self._factory = panel_factory
        self.panel: QWidget | None = None
        # The panel has its own scrolling; it replaces the page's scroll area.
        self._scroll.hide()
        trial.changed.connect(self.on_trial_changed)

    def initializePage(self) -> None:
        draft = self._draft
        key = None if draft.key is None else (draft.key.key, draft.key.location)
        self._trial.stage(draft.source_name, draft.sandbox, key)
        owner = draft.owner_of_key()
        if owner is not None and not draft.sandbox:  # the sandbox's is found when needed
            self._trial.key_owner = owner  # which source Segment's counts are asked about
        if draft.sandbox:
            self.setSubTitle(
                "Send Chatlio's Live Chat events to the built-in sandbox on this computer, and "
                "watch them arrive. Nothing reaches Segment."
            )
        else:
            self.setSubTitle(
                "Send Chatlio's Live Chat events as tests. An answer of 200 proves only that "
                "they arrived, not that the key or source is right: look for them in the "
                "source's Debugger in Segment."
            )
        if self.panel is None:
            self.panel = self._factory(self._trial, self)
            layout = self.layout()
            assert layout is not None
            layout.addWidget(self.panel)

    def isComplete(self) -> bool:
        return not self._trial.busy

    @Slot()
    def on_trial_changed(self) -> None:
        self.completeChanged.emit()
