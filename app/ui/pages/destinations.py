"""Segment's step 6: connect destinations; a preview of what a warehouse will get."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.segment import warehouse
from app.segment.public_api.hosts import answerer
from app.ui.api_task import ApiTask, failure_sentence
from app.ui.browser import LinkButton
from app.ui.draft import SetupDraft
from app.ui.page_kit import Kind, Notice, Page, api_session, text_label
from app.ui.session import Session
from app.ui.warehouse_sql_box import WarehouseSqlBox

if TYPE_CHECKING:
    from app.proof.connections import SourceConnections
    from app.segment.cancel import CancelToken


class DestinationsPage(Page):
    """Segment's step 6: connect destinations; a preview of what a warehouse will get. With a
    Public API token and a known source, what the source is connected to now."""

    help_topic = "destinations"

    def __init__(self, draft: SetupDraft, trial: Session) -> None:
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
        self.body.addSpacing(4)
        self.body.addWidget(self._build_connected(trial))
        self.body.addSpacing(8)
        self.body.addWidget(self._intro)
        self.body.addWidget(self._tree, 1)
        self.body.addWidget(tracks)
        self._sql = WarehouseSqlBox(draft.source_name)
        self.body.addWidget(self._sql)

    def _build_connected(self, trial: Session) -> QWidget:
        self._trial = trial
        group = QGroupBox("Connected in Segment now")
        group.setObjectName("connected_group")
        self._connected_text = text_label("")
        self._connected_text.setObjectName("connected_text")
        self._connected = QTreeWidget()
        self._connected.setObjectName("connected_list")
        self._connected.setAccessibleName("Destinations and warehouses the source sends to")
        self._connected.setHeaderLabels(["Name", "Kind", "State"])
        self._connected.setRootIsDecorated(False)
        self._connected.hide()
        self._refresh = QPushButton("&Refresh")
        self._refresh.setObjectName("refresh_connections")
        self._refresh.setAccessibleName("Ask Segment again what the source is connected to")
        self._refresh.setAutoDefault(False)
        self._refresh.clicked.connect(self.on_refresh_clicked)
        self._connected_task = ApiTask("connections_task")
        self._connected_notice = Notice()
        self._connected_notice.setObjectName("connected_notice")
        row = QHBoxLayout()
        row.addWidget(self._connected_text, 1)
        row.addWidget(self._refresh)
        box = QVBoxLayout(group)
        box.addLayout(row)
        box.addWidget(self._connected_task)
        box.addWidget(self._connected)
        box.addWidget(self._connected_notice)
        return group

    def _list_connections(self, focus_after: QWidget | None = None) -> None:
        api = api_session(self._trial, self._draft)
        source_id = self._draft.source_id()
        self._refresh.setVisible(api.has_token and source_id is not None)
        self._connected_task.cancel()
        self._connected.clear()  # what was listed may be another mode's, or another source's
        self._connected.hide()
        self._connected_notice.clear()
        if not api.has_token:
            self._connected_text.setText(
                "With a Segment Public API token (Team and Business plans) the app lists the "
                "destinations and warehouses the source sends to."
            )
            return
        if source_id is None:
            self._connected_text.setText(
                "The app lists the destinations and warehouses here once it knows which source "
                "is yours: the write key step asks Segment which source the key belongs to."
            )
            return
        api.proxy  # noqa: B018 - read the settings here, on the GUI thread
        self._connected_text.setText(f"What {answerer(api.use_sandbox)} says the source sends to:")
        self._connected_notice.clear()

        def work(cancel: CancelToken) -> SourceConnections:
            from app.proof.connections import source_connections

            with api.api_client(cancel) as client:
                return source_connections(client, source_id)

        self._connected_task.start(
            f"Asking {answerer(api.use_sandbox)} what the source is connected to…",
            work,
            self._on_connections,
            self._on_connections_failed,
            focus_after=focus_after,
        )

    def _on_connections(self, connections: SourceConnections) -> None:
        self._connected.clear()
        for kind, items in (
            ("Destination", connections.destinations),
            ("Warehouse", connections.warehouses),
        ):
            for connection in items:
                state = "enabled" if connection.enabled else "disabled"
                what = f"{kind}: {connection.catalog_name}" if connection.catalog_name else kind
                self._connected.addTopLevelItem(QTreeWidgetItem([connection.name, what, state]))
        any_connected = bool(connections.destinations or connections.warehouses)
        self._connected.setVisible(any_connected)
        self._connected.resizeColumnToContents(0)
        self._connected.resizeColumnToContents(1)
        self._fit_connected()
        if any_connected:
            self._connected_notice.show_message(Kind.OK, connections.describe())
        else:
            self._connected_notice.show_message(
                Kind.INFO,
                "The source sends to no destination or warehouse yet: connect one in Segment "
                "with the button above, then press Refresh.",
            )

    def _fit_connected(self) -> None:
        """As tall as its rows (up to six), so the warehouse preview keeps the room."""
        tree = self._connected
        rows = min(max(tree.topLevelItemCount(), 1), 6)
        row_height = max(tree.sizeHintForRow(0), tree.fontMetrics().height() + 4)
        height = tree.header().sizeHint().height() + rows * row_height + 2 * tree.frameWidth() + 2
        tree.setMinimumHeight(height)
        tree.setMaximumHeight(height)

    def _on_connections_failed(self, error: BaseException) -> None:
        self._connected_notice.show_message(Kind.WARNING, failure_sentence(error))

    @Slot()
    def on_refresh_clicked(self) -> None:
        if not self._connected_task.is_running():
            self._list_connections(focus_after=self._refresh)

    def cleanupPage(self) -> None:
        self._connected_task.cancel()

    def initializePage(self) -> None:
        self._list_connections()
        source = self._draft.source_name.strip() or "Chatlio"
        schema = warehouse.schema_name(source) or "your_schema"
        self._intro.setText(
            f"What the events create in a warehouse, in the schema <code>{schema}</code> "
            "(Segment's suggestion; its SQL settings can change it):"
        )
        self._sql.set_source(source)
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
