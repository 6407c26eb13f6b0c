"""Segment's step 6: connect destinations; a preview of what a warehouse will get."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from app.segment import warehouse
from app.ui.browser import LinkButton
from app.ui.draft import SetupDraft
from app.ui.page_kit import Page, text_label


class DestinationsPage(Page):
    """Segment's step 6: connect destinations; a preview of what a warehouse will get."""

    help_topic = "destinations"

    def __init__(self, draft: SetupDraft) -> None:
        super().__init__(
            draft,
            "Destinations and warehouse",
            "Back in Segment, connect the Chatlio source to the tools and warehouses that "
            "should receive its events.",
        )
        self._destinations = LinkButton(
            "Open the source's &destinations",
            lambda: self._source_url("destinations"),
            "Open the source's destinations in Segment",
            "open_destinations",
        )
        self._intro = text_label("", rich=True)
        self._tree = QTreeWidget()
        self._tree.setObjectName("warehouse_tree")
        self._tree.setAccessibleName("Warehouse tables and columns")
        self._tree.setHeaderLabels(["Table or column", "Type", "Description"])
        self._tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._tree.setMinimumHeight(180)
        header = self._tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        tracks = text_label(
            "Each of the four events also lands in the shared <code>tracks</code> table. "
            "Warehouses load every 24 to 48 hours, depending on the Segment plan; types are "
            "generic names, and each warehouse spells them its own way.",
            rich=True,
        )
        self.body.addWidget(self._destinations)
        self.body.addSpacing(8)
        self.body.addWidget(self._intro)
        self.body.addWidget(self._tree, 1)
        self.body.addWidget(tracks)

    def initializePage(self) -> None:
        source = self._draft.source_name.strip() or "Chatlio"
        schema = warehouse.schema_name(source) or "your_schema"
        self._intro.setText(
            f"What the events create in a warehouse, in the schema <code>{schema}</code> "
            "(Segment's suggestion; its SQL settings can change it):"
        )
        self._tree.clear()
        for table in warehouse.preview(source):
            item = QTreeWidgetItem([warehouse.qualified(table, schema), "table", table.description])
            item.setToolTip(2, table.description)
            for column in table.columns:
                child = QTreeWidgetItem([column.name, column.type, column.description])
                child.setToolTip(2, column.description)
                item.addChild(child)
            self._tree.addTopLevelItem(item)
        first = self._tree.topLevelItem(0)
        if first is not None:
            first.setExpanded(True)
            self._tree.setCurrentItem(first)
        self._tree.resizeColumnToContents(0)
        self._tree.resizeColumnToContents(1)
