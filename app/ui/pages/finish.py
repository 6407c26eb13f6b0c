"""The wizard's last page: what was set up, and what to do next."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from app.key_storage import SESSION_LOCATION, KeyStorage
from app.segment import warehouse
from app.ui.browser import LinkButton
from app.ui.draft import REGION_NAMES, SetupDraft
from app.ui.page_kit import Page, api_session, text_label
from app.ui.session import Session

SANDBOX_LOCATION = "built-in sandbox (no key)"


class FinishPage(Page):
    """A summary of the draft that Finish will keep, and the next steps for its mode."""

    help_topic = "finish"

    def __init__(self, draft: SetupDraft, trial: Session) -> None:
        super().__init__(draft, "Chatlio is set up")
        self._trial = trial
        self._form = QFormLayout()
        self._form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self._values: dict[str, QLabel] = {}
        for key, label in (
            ("source", "Source:"),
            ("region", "Region:"),
            ("workspace", "Workspace:"),
            ("key", "Write key:"),
            ("owner", "Key checked:"),
            ("token", "Public API token:"),
            ("schema", "Warehouse schema:"),
        ):
            value = text_label("")
            value.setObjectName(f"summary_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._values[key] = value
            self._form.addRow(label, value)
        self._next_steps = text_label("", rich=True)
        self._next_steps.setObjectName("next_steps")
        self._debugger = LinkButton(
            "&Open the source's Debugger",
            lambda: self._source_url("debugger"),
            "Open the source's Debugger in Segment",
            "open_debugger",
        )
        self.body.addLayout(self._form)
        self.body.addSpacing(8)
        self.body.addWidget(self._next_steps)
        self.body.addWidget(self._debugger)
        self.body.addStretch(1)

    def initializePage(self) -> None:
        draft = self._draft
        source = draft.source_name.strip() or "Chatlio"
        if draft.sandbox:
            self.setTitle("Ready to try it out")
            self.setSubTitle(
                "Nothing was connected to Segment: test events go to the built-in sandbox on "
                "this computer. Run the setup again with your source's write key when you are "
                "ready."
            )
            self._next_steps.setText(
                "<b>Next</b><ul style='margin-top:0'>"
                "<li>After Finish, the app opens on its test screen: send test events there and "
                "watch the sandbox receive them.</li>"
                "<li>When you have a Segment source, choose Run setup again and enter its "
                "write key.</li></ul>"
            )
        else:
            self.setTitle("Chatlio is set up")
            self.setSubTitle(
                "Here is what you set up. After Finish, the app opens on its test screen."
            )
            self._next_steps.setText(
                "<b>Next</b><ul style='margin-top:0'>"
                "<li>Watch the source's Debugger in Segment: Chatlio's events show up there as "
                "visitors chat.</li>"
                "<li>Next time, this app opens on the test screen, where you can send test "
                "events again.</li></ul>"
            )
        self._debugger.setVisible(not draft.sandbox)
        schema = warehouse.schema_name(source)
        self._values["source"].setText(source)
        self._values["region"].setText(REGION_NAMES.get(draft.region, "not chosen"))
        workspace = (
            draft.workspace_slug or "not given (links open the workspace you are signed in to)"
        )
        if draft.workspace_name and draft.workspace_slug:
            workspace = f"{draft.workspace_name} ({draft.workspace_slug})"
        self._values["workspace"].setText(workspace)
        self._values["key"].setText(self.key_location())
        owner = draft.owner_of_key()
        api = api_session(self._trial, draft)
        unchecked = "not checked" if api.has_token else "not checked (no Public API token)"
        self._values["owner"].setText(owner.describe() if owner is not None else unchecked)
        if draft.sandbox:
            where = "not needed: the sandbox answers"
        elif api.token_location is not None:
            where = f"kept in {api.token_location}"
        else:
            where = "none (Segment's counts are not asked; the Debugger shows the events)"
        self._values["token"].setText(where)
        self._values["schema"].setText(
            f"{schema} (suggested; the warehouse's SQL settings can change it)"
            if schema
            else "chosen in the warehouse's SQL settings"
        )

    def key_location(self) -> str:
        draft = self._draft
        if draft.sandbox:
            return SANDBOX_LOCATION
        if draft.key is None:
            return "not set"
        if draft.key.storage is KeyStorage.SESSION:
            return f"Held in memory for {SESSION_LOCATION}"
        return f"Stored in {draft.key.location}"

    def first_focus(self) -> QWidget | None:
        return None  # Finish
