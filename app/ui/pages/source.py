"""Segment's steps 1-3: open the catalog at Chatlio, add the source, name it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
)

from app.key_storage import SESSION_LOCATION, KeyStorage
from app.segment import SANDBOX_KEY, links, warehouse
from app.segment.public_api.hosts import answerer
from app.ui.api_task import ApiTask, failure_sentence
from app.ui.browser import LinkButton
from app.ui.draft import HeldKey, SetupDraft
from app.ui.page_kit import Kind, Notice, Page, api_session, text_label
from app.ui.pages.welcome import token_row
from app.ui.session import Session

if TYPE_CHECKING:
    from app.keystore import SaveResult
    from app.proof.create import CreatedSource
    from app.proof.workspace import TokenCheck
    from app.segment.cancel import CancelToken


class SourcePage(Page):
    """The workspace (optional, for links that open inside it) and the source's name; with a
    Public API token (or in the sandbox), "Create the Chatlio source for me"."""

    help_topic = "source"

    def __init__(self, draft: SetupDraft, trial: Session) -> None:
        super().__init__(
            draft,
            "Create the Chatlio source in Segment",
            "In Segment: add a source, pick Chatlio from the catalog, and give it a name.",
        )
        self._slug_edit = QLineEdit()
        self._slug_edit.setObjectName("workspace_slug")
        self._slug_edit.setAccessibleName("Workspace slug or address (optional)")
        self._slug_edit.setPlaceholderText("acme-inc, or https://app.segment.com/acme-inc/…")
        self._slug_edit.setClearButtonEnabled(True)
        self._slug_notice = Notice()
        slug_help = text_label(
            "Optional. Paste the address of any page of your workspace, and the buttons in this "
            "assistant open pages inside it. Without it they open the workspace you are signed "
            "in to."
        )
        self._catalog = LinkButton(
            "&Open Segment's catalog at Chatlio",
            lambda: links.chatlio_catalog(self._valid_slug()),
            "Open Segment's sources catalog at Chatlio",
            "open_catalog",
        )
        catalog_help = text_label(
            "In the catalog, choose Chatlio and add it as a source, with the name below."
        )
        self._name_edit = QLineEdit()
        self._name_edit.setObjectName("source_name")
        self._name_edit.setAccessibleName("Source name")
        self._name_edit.setAccessibleDescription("The name you give the Chatlio source in Segment")
        self._name_notice = Notice()
        self._name_notice.setObjectName("name_notice")
        self._schema = text_label("", rich=True)
        self._schema.setObjectName("schema_hint")

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        add_field(grid, 0, "&Workspace:", self._slug_edit, self._slug_notice, slug_help)
        grid.setRowMinimumHeight(3, 8)
        grid.addWidget(self._catalog, 4, 0, 1, 2)
        grid.addWidget(catalog_help, 5, 0, 1, 2)
        grid.setRowMinimumHeight(6, 8)
        add_field(grid, 7, "&Source name:", self._name_edit, self._name_notice, self._schema)
        self.body.addLayout(grid)
        self.body.addSpacing(8)
        self.body.addWidget(self._build_create(trial))
        self.body.addStretch(1)

        self._slug_edit.textChanged.connect(self.on_slug_edit_text_changed)
        self._slug_edit.editingFinished.connect(self.on_slug_edit_editing_finished)
        self._name_edit.textChanged.connect(self.on_name_edit_text_changed)

    def _build_create(self, trial: Session) -> QWidget:
        """ "Or let the app create it": the button with a token, else the offer of one."""
        self._trial = trial
        self._created: CreatedSource | None = None
        group = QGroupBox("Or let the app create the source")
        group.setObjectName("create_group")
        self._create_text = text_label("")
        self._create_text.setObjectName("create_text")
        self._create = QPushButton("C&reate the Chatlio source for me")
        self._create.setObjectName("create_source")
        self._create.setAccessibleName("Create the Chatlio source in Segment, with the name above")
        self._create.setAutoDefault(False)  # Enter goes on with the wizard
        self._create_task = ApiTask("create_task")
        self._create_task.running_changed.connect(self.on_create_task_running_changed)
        self._create_notice = Notice()
        self._create_notice.setObjectName("create_notice")
        self._open_created = LinkButton(
            "Open the new source in Se&gment",
            lambda: self._source_url("overview"),
            "Open the new source in Segment",
            "open_created",
        )
        self._open_created.hide()
        self._token_box, self._use_token = token_row(
            self,
            "Have a Segment Public API token (Team and Business plans)? The app can then "
            "create the source for you and keep its write key without showing it.",
            "use_token_source",
        )
        create_row = QHBoxLayout()
        create_row.addWidget(self._create)
        create_row.addStretch(1)
        box = QVBoxLayout(group)
        box.addWidget(self._create_text)
        box.addLayout(create_row)
        box.addWidget(self._create_task)
        box.addWidget(self._create_notice)
        box.addWidget(self._open_created)
        box.addWidget(self._token_box)
        self._create.clicked.connect(self.on_create_clicked)
        self._use_token.clicked.connect(self.on_use_token_clicked)
        trial.changed.connect(self.on_trial_changed)
        return group

    def _next_button(self) -> QWidget | None:
        """Where the focus goes once the source is made: on with the wizard."""
        wizard = self.wizard()
        return wizard.button(QWizard.WizardButton.NextButton) if wizard is not None else None

    def _api(self) -> Session:
        return api_session(self._trial, self._draft)

    def _refresh_create(self) -> None:
        api, draft = self._api(), self._draft
        held = api.has_token
        check = api.token_check
        if draft.sandbox:
            where = "the sandbox's workspace"
        elif check is not None:
            where = f"workspace “{check.workspace.name}”"
        else:
            where = "your workspace"
        self._create_text.setText(
            f"With {'the sandbox' if draft.sandbox else 'your Public API token'} the app can "
            f"create the Chatlio source in {where}, with the name above, and keep its write key "
            "for the next steps without showing it."
            if held
            else ""
        )
        self._create.setVisible(held)
        self._create_text.setVisible(held)
        self._token_box.setVisible(not held)
        name = self._name_edit.text().strip()
        busy = self._create_task.is_running()
        created = self._created is not None and self._created.source.name == name
        self._create.setEnabled(held and bool(name) and not busy and not created)

    def _valid_slug(self) -> str | None:
        try:
            return links.normalize_workspace_slug(self._slug_edit.text())
        except ValueError:
            return None

    def _slug_ok(self) -> bool:
        try:
            links.normalize_workspace_slug(self._slug_edit.text())
        except ValueError:
            return False
        return True

    def initializePage(self) -> None:
        check = self._api().token_check
        if check is not None and not self._draft.workspace_slug and not self._draft.sandbox:
            self._draft.workspace_slug = check.workspace.slug
        self._name_edit.setText(self._draft.source_name)
        self._slug_edit.setText(self._draft.workspace_slug)
        self.on_name_edit_text_changed(self._name_edit.text())
        self._refresh_create()

    def isComplete(self) -> bool:
        if self._create_task.is_running():
            return False
        return bool(self._name_edit.text().strip()) and self._slug_ok()

    def cleanupPage(self) -> None:
        self._create_task.cancel()

    def first_focus(self) -> QWidget | None:
        return self._name_edit if not self._name_edit.text().strip() else None

    @Slot(str)
    def on_slug_edit_text_changed(self, text: str) -> None:
        try:
            slug = links.normalize_workspace_slug(text)
        except ValueError as error:
            self._slug_notice.show_message(Kind.ERROR, f"{error} Next stays off until it is.")
        else:
            self._draft.workspace_slug = slug or ""
            if slug is not None and slug != text.strip():
                self._slug_notice.show_message(Kind.OK, f"Workspace: {slug}")
            else:
                self._slug_notice.clear()
        self.completeChanged.emit()

    @Slot()
    def on_slug_edit_editing_finished(self) -> None:
        slug = self._valid_slug()
        if slug is not None and slug != self._slug_edit.text():
            self._slug_edit.setText(slug)

    @Slot(str)
    def on_name_edit_text_changed(self, text: str) -> None:
        name = text.strip()
        if name:
            self._draft.source_name = name
            self._name_notice.clear()
        else:
            self._name_notice.show_message(
                Kind.INFO,
                "Type the name you gave the source in Segment (Chatlio, if you kept Segment's "
                "suggestion). Next stays off until there is one.",
            )
        if self._created is None or self._created.source.name != name:
            self._draft.source_slug = ""  # the created source's slug no longer applies
        else:
            self._draft.source_slug = self._created.source.slug
        schema = warehouse.schema_name(text)
        if schema:
            self._schema.setText(
                f"Warehouse schema: <b><code>{schema}</code></b>, as Segment will suggest it. "
                "Segment lets you change this in the warehouse's SQL settings."
            )
        else:
            self._schema.setText(
                "Type a name with letters or digits to see the warehouse schema it gives."
            )
        self._refresh_create()
        self.completeChanged.emit()

    # --- creating the source -----------------------------------------------------------------

    @Slot()
    def on_trial_changed(self) -> None:
        if self.isVisible():
            self._refresh_create()

    @Slot(bool)
    def on_create_task_running_changed(self, _running: bool) -> None:
        self._refresh_create()
        self.completeChanged.emit()

    @Slot()
    def on_use_token_clicked(self) -> None:
        from app.ui.token_entry import TokenDialog

        dialog = TokenDialog.open_for(self._api(), self)
        dialog.entry.taken.connect(self.on_token_taken)

    @Slot(object)
    def on_token_taken(self, check: TokenCheck) -> None:
        if not self._draft.sandbox and not self._valid_slug():
            self._slug_edit.setText(check.workspace.slug)
            self._draft.workspace_name = check.workspace.name
        self._refresh_create()

    @Slot()
    def on_create_clicked(self) -> None:
        name = self._name_edit.text().strip()
        if not name or self._create_task.is_running():
            return
        api = self._api()
        api.proxy  # noqa: B018 - read the settings here, on the GUI thread
        self._create_notice.clear()
        self._open_created.hide()

        def work(cancel: CancelToken) -> CreatedSource:
            from app.proof.create import create_chatlio_source

            with api.api_client(cancel) as client:
                return create_chatlio_source(client, name)

        where = answerer(api.use_sandbox)
        self._create_task.start(
            f"Creating the Chatlio source “{name}” in {where}…",
            work,
            self._on_created,
            self._on_create_failed,
            lambda: self._create_notice.show_message(
                Kind.INFO,
                "Cancelled. If Segment had already received the request, the source may exist "
                f"anyway: look in your list of sources in {where} before trying again.",
            ),
            focus_after=self._next_button(),
        )

    def _on_created(self, created: CreatedSource) -> None:
        from app.proof.key_owner import KeyOwner

        self._created = created
        source, draft = created.source, self._draft
        draft.source_slug = source.slug
        draft.created_source_id = source.id
        self._name_edit.setText(source.name)
        draft.source_name = source.name
        self._open_created.setVisible(not draft.sandbox)  # the sandbox has no web pages
        made = f"Created the Chatlio source “{source.name}” ({source.slug})"
        key = created.write_key
        if key is None:
            why = (
                f"its write key could not be read afterwards ({created.unread.rstrip('.')})"
                if created.unread
                else "your token cannot see write keys: it lacks the Source Admin role, so the "
                "app could not take the new source's key"
            )
            self._create_notice.show_message(
                Kind.WARNING,
                f"{made}, but {why}. Copy it by hand: on the next step, open the source's API "
                "keys page (Settings → API Keys), copy the write key and paste it there.",
            )
            return
        draft.key_owner = (key, KeyOwner(source, 1, True))
        if draft.sandbox:
            where = "" if key == SANDBOX_KEY else " (test events use the sandbox's own key)"
            self._create_notice.show_message(
                Kind.OK,
                f"{made} in the sandbox. In the sandbox no key needs keeping{where}.",
            )
            return
        api = self._api()

        def work(_cancel: CancelToken) -> SaveResult:
            return api.keystore.save(source.name, key)

        self._create_task.start(
            f"{made}. Saving its write key to the keyring… (it may ask you to unlock it)",
            work,
            lambda result: self._on_key_saved(made, source.name, key, result),
            lambda error: self._on_key_save_failed(made, source.name, key, error),
            lambda: self._on_key_save_failed(made, source.name, key, None),
            focus_after=self._next_button(),
        )

    def _on_key_saved(self, made: str, name: str, key: str, result: SaveResult) -> None:
        self._draft.key = HeldKey(name, key, KeyStorage.KEYRING, result.location)
        self._create_notice.show_message(
            Kind.OK,
            f"{made}. Its write key is saved in {result.location}, without being shown: the "
            "next steps use it.",
        )
        self.completeChanged.emit()

    def _on_key_save_failed(
        self, made: str, name: str, key: str, error: BaseException | None
    ) -> None:
        self._draft.key = HeldKey(name, key, KeyStorage.SESSION, SESSION_LOCATION)
        why = "Saving was cancelled." if error is None else failure_sentence(error)
        self._create_notice.show_message(
            Kind.WARNING,
            f"{made}. Its write key could not be saved in the keyring: {why} It is held in "
            "memory for this session only, without being shown, and is forgotten when the app "
            "closes: to keep it, save it from the source's API keys page later.",
        )
        self.completeChanged.emit()

    def _on_create_failed(self, error: BaseException) -> None:
        from app.segment.public_api.errors import ApiErrorKind, PublicApiError

        sentence = failure_sentence(error)
        kind = error.kind if isinstance(error, PublicApiError) else None
        if kind is ApiErrorKind.CONFLICT:
            sentence += (
                " If that source is the one you want, go on and paste its write key on the "
                "next step."
            )
        elif kind is ApiErrorKind.UNAUTHORIZED:
            sentence += (
                " Creating a source needs a token with Workspace Owner access (or Source "
                "Admin). You can still create it in Segment with the catalog button above."
            )
        else:
            sentence += " You can still create it in Segment with the catalog button above."
        self._create_notice.show_message(Kind.ERROR, sentence)


def add_field(grid: QGridLayout, row: int, text: str, field: QWidget, *below: QWidget) -> None:
    """A label and its field on `row`, and under the field the widgets `below`, one a row."""
    label = QLabel(text)
    label.setBuddy(field)
    grid.addWidget(label, row, 0)
    grid.addWidget(field, row, 1)
    for offset, widget in enumerate(below, start=1):
        grid.addWidget(widget, row + offset, 1)
