"""The wizard's first page: what will happen, what is needed, and the workspace's region."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.draft import REGION_EU, REGION_US, SetupDraft
from app.ui.page_kit import Kind, Notice, Page, api_session, text_label
from app.ui.session import Session

if TYPE_CHECKING:
    from app.proof.workspace import TokenCheck


def token_row(
    page: Page, text: str, name: str, label: str = "Use a Public &API token…"
) -> tuple[QWidget, QPushButton]:
    """ "Use a Public API token…": one sentence on what it adds, and the button."""
    button = QPushButton(label)
    button.setObjectName(name)
    button.setAccessibleName("Use a Segment Public API token (optional)")
    button.setAutoDefault(False)  # Enter goes on with the wizard
    row = QWidget(page)
    layout = QVBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(text_label(text))
    buttons = QHBoxLayout()
    buttons.addWidget(button)
    buttons.addStretch(1)
    layout.addLayout(buttons)
    return row, button


def try_sandbox_row(page: Page, name: str) -> tuple[QWidget, QPushButton]:
    """ "Try it without a Segment account": the built-in sandbox, offered where people stop."""
    button = QPushButton("&Try it without a Segment account")
    button.setObjectName(name)
    button.setAccessibleName("Try it without a Segment account, with the built-in sandbox")
    button.setAutoDefault(False)  # Enter goes on with the wizard, not into the sandbox
    help_text = text_label(
        "Test events then go to a Segment-like receiver on this computer, and you see them "
        "arrive. Nothing reaches Segment, and no account or key is needed."
    )
    row = QWidget(page)
    layout = QVBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    buttons = QHBoxLayout()
    buttons.addWidget(button)
    buttons.addStretch(1)
    layout.addLayout(buttons)
    layout.addWidget(help_text)
    return row, button


class WelcomePage(Page):
    """What will happen, what the user needs, and the workspace's region (US only works).

    Signals: sandbox_chosen() — the user wants to try it without Segment (the wizard goes on).
    """

    sandbox_chosen = Signal()
    help_topic = "welcome"

    def __init__(self, draft: SetupDraft, trial: Session) -> None:
        super().__init__(
            draft,
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
        self._us.setObjectName("region_us")
        self._eu = QRadioButton("&European Union (EU)")
        self._eu.setAccessibleName("Region: European Union")
        self._eu.setObjectName("region_eu")
        self._unknown = QRadioButton("I &don't know")
        self._unknown.setAccessibleName("Region: I don't know")
        self._unknown.setObjectName("region_unknown")
        self._regions = QButtonGroup(self)
        box = QVBoxLayout(group)
        for button in (self._us, self._eu, self._unknown):
            self._regions.addButton(button)
            box.addWidget(button)
        self._hint = Notice()
        box.addWidget(self._hint)
        box.addWidget(text_label("Chatlio's source exists only in US workspaces."))
        self._trial = trial
        token_box, self._use_token = token_row(
            self,
            "Optional: with a Segment Public API token (Team and Business plans) the app finds "
            "your workspace and its region, and does more of the setup for you.",
            "use_token",
        )
        self._token_notice = Notice()
        self._token_notice.setObjectName("token_notice")
        sandbox_row, self._try = try_sandbox_row(self, "try_sandbox")
        self._regions.buttonToggled.connect(self.on_regions_button_toggled)
        self._try.clicked.connect(self.on_try_clicked)
        self._use_token.clicked.connect(self.on_use_token_clicked)

        self.body.addWidget(intro)
        self.body.addWidget(needs)
        self.body.addWidget(group)
        self.body.addSpacing(4)
        self.body.addWidget(token_box)
        self.body.addWidget(self._token_notice)
        self.body.addSpacing(8)
        self.body.addWidget(sandbox_row)
        self.body.addStretch(1)

    def initializePage(self) -> None:
        button = {REGION_US: self._us, REGION_EU: self._eu}.get(self._draft.region)
        if button is not None:
            button.setChecked(True)
        check = api_session(self._trial, self._draft).token_check
        if check is not None:
            self.on_token_taken(check)

    def isComplete(self) -> bool:
        return self._draft.region in (REGION_US, REGION_EU)

    def first_focus(self) -> QWidget | None:
        checked = self._regions.checkedButton()
        return checked if checked is not None else self._us

    @Slot(QRadioButton, bool)
    def on_regions_button_toggled(self, _button: QRadioButton, _checked: bool) -> None:
        if self._us.isChecked():
            self._draft.region = REGION_US
        elif self._eu.isChecked():
            self._draft.region = REGION_EU
        else:
            self._draft.region = ""
        if self._unknown.isChecked():
            self._hint.show_message(
                Kind.INFO,
                "Look in Segment's workspace settings (usually Settings → Workspace settings → "
                "Regional settings), then choose the region here; or use a Public API token "
                "below, and the app finds out. Next stays off until then; or try it without a "
                "Segment account first.",
            )
        else:
            self._hint.clear()
        self.completeChanged.emit()

    @Slot()
    def on_try_clicked(self) -> None:
        self._draft.sandbox = True
        self.sandbox_chosen.emit()

    @Slot()
    def on_use_token_clicked(self) -> None:
        from app.ui.token_entry import TokenDialog  # not before the first paint

        dialog = TokenDialog.open_for(api_session(self._trial, self._draft), self)
        dialog.entry.taken.connect(self.on_token_taken)

    @Slot(object)
    def on_token_taken(self, check: TokenCheck) -> None:
        """The token's workspace fills the draft; its host answers the region question."""
        from app.segment.endpoint import Region
        from app.ui.token_entry import region_words, workspace_words

        draft = self._draft
        if not draft.sandbox:  # the sandbox's workspace has no pages in Segment's web app
            draft.workspace_slug = check.workspace.slug
            draft.workspace_name = check.workspace.name
        opens = f"The token opens {workspace_words(check)}, {region_words(check)}"
        region = check.region
        if draft.sandbox and region is Region.LOCAL:
            self._us.setChecked(True)
            text, kind = f"{opens}: it stands in for a US workspace.", Kind.OK
        elif region is Region.US:
            self._us.setChecked(True)
            text, kind = f"{opens}: Chatlio's source is offered there.", Kind.OK
        elif region is Region.EU:
            self._eu.setChecked(True)
            draft.region_reason = f"{opens}."
            text, kind = f"{opens}: Chatlio's source is not offered there.", Kind.WARNING
        else:
            text = f"{opens}, which does not tell the region: choose it above."
            kind = Kind.INFO
        if region is not Region.EU:
            draft.region_reason = ""
        self._token_notice.show_message(kind, text)
