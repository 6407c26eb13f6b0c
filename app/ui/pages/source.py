"""Segment's steps 1-3: open the catalog at Chatlio, add the source, name it."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QWidget

from app.segment import links, warehouse
from app.ui.browser import LinkButton
from app.ui.draft import SetupDraft
from app.ui.page_kit import Kind, Notice, Page, text_label


class SourcePage(Page):
    """The workspace (optional, for links that open inside it) and the source's name."""

    help_topic = "source"

    def __init__(self, draft: SetupDraft) -> None:
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
        self.body.addStretch(1)

        self._slug_edit.textChanged.connect(self.on_slug_edit_text_changed)
        self._slug_edit.editingFinished.connect(self.on_slug_edit_editing_finished)
        self._name_edit.textChanged.connect(self.on_name_edit_text_changed)

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
        self._name_edit.setText(self._draft.source_name)
        self._slug_edit.setText(self._draft.workspace_slug)
        self.on_name_edit_text_changed(self._name_edit.text())

    def isComplete(self) -> bool:
        return bool(self._name_edit.text().strip()) and self._slug_ok()

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
        self.completeChanged.emit()


def add_field(grid: QGridLayout, row: int, text: str, field: QWidget, *below: QWidget) -> None:
    """A label and its field on `row`, and under the field the widgets `below`, one a row."""
    label = QLabel(text)
    label.setBuddy(field)
    grid.addWidget(label, row, 0)
    grid.addWidget(field, row, 1)
    for offset, widget in enumerate(below, start=1):
        grid.addWidget(widget, row + offset, 1)
