"""The wizard's first page: what will happen, what is needed, and the workspace's region."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QButtonGroup, QGroupBox, QRadioButton, QVBoxLayout

from app.ui.page_kit import REGION_EU, REGION_US, Kind, Notice, Page, PageId, text_label
from app.ui.session import Session


class WelcomePage(Page):
    """What will happen, what the user needs, and the workspace's region (US only works)."""

    def __init__(self, session: Session) -> None:
        super().__init__(
            session,
            "Connect Chatlio to Segment",
            "Set up Chatlio's connection to Segment, one step at a time.",
        )
        intro = text_label(
            "This assistant follows Segment's setup for Chatlio: create a Chatlio source in "
            "Segment, keep its write key in your keyring, send test events, paste the key into "
            "Chatlio, and connect destinations. It opens each Segment and Chatlio page for you "
            "and checks what a program can check."
        )
        needs = text_label(
            "You need:<ul style='margin-top:0'>"
            "<li>a Segment workspace where you can add sources;</li>"
            "<li>access to the settings in Chatlio's dashboard.</li></ul>",
            rich=True,
        )
        group = QGroupBox("Where does your Segment workspace process its data?")
        self._us = QRadioButton("&United States (US)")
        self._us.setAccessibleName("Region: United States")
        self._eu = QRadioButton("&European Union (EU)")
        self._eu.setAccessibleName("Region: European Union")
        self._unknown = QRadioButton("I &don't know")
        self._unknown.setAccessibleName("Region: I don't know")
        self._regions = QButtonGroup(self)
        box = QVBoxLayout(group)
        for button, name in ((self._us, "region_us"), (self._eu, "region_eu")):
            button.setObjectName(name)
        self._unknown.setObjectName("region_unknown")
        for button in (self._us, self._eu, self._unknown):
            self._regions.addButton(button)
            box.addWidget(button)
        self._hint = Notice()
        box.addWidget(self._hint)
        note = text_label("Chatlio's source exists only in US workspaces.")
        box.addWidget(note)
        self._regions.buttonToggled.connect(self.on_regions_button_toggled)

        self.body.addWidget(intro)
        self.body.addWidget(needs)
        self.body.addWidget(group)
        self.body.addStretch(1)

    def region(self) -> str | None:
        """The chosen region, "us" or "eu"; None until the user chooses one of them."""
        if self._us.isChecked():
            return REGION_US
        if self._eu.isChecked():
            return REGION_EU
        return None

    def initializePage(self) -> None:
        region = self._session.settings.region
        button = {REGION_US: self._us, REGION_EU: self._eu}.get(region)
        if button is not None:
            button.setChecked(True)

    def isComplete(self) -> bool:
        return self.region() is not None

    def nextId(self) -> int:
        return PageId.EU_WORKSPACE if self.region() == REGION_EU else PageId.SOURCE

    def validatePage(self) -> bool:
        region = self.region()
        if region is None:
            return False
        self._session.settings.region = region
        return True

    @Slot(QRadioButton, bool)
    def on_regions_button_toggled(self, _button: QRadioButton, _checked: bool) -> None:
        if self._unknown.isChecked():
            self._hint.show_message(
                Kind.INFO,
                "Look in Segment's workspace settings (usually Settings → Workspace settings → "
                "Regional settings), then choose the region here. Next stays off until you do.",
            )
        else:
            self._hint.clear()
        self.completeChanged.emit()
