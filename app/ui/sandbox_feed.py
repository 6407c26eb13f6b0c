"""A live list of the events the built-in sandbox received, newest first, with their properties."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QFontDatabase, QHideEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.redaction import printable
from app.segment.sandbox import ReceivedEvent, Sandbox
from app.ui.page_kit import Kind, Notice
from app.ui.session import Session

# The rows kept on screen; older ones leave the list (the sandbox itself keeps more).
MAX_ROWS: Final = 500
# How often the list asks the sandbox for new events while it is shown.
POLL_MS: Final = 300
EMPTY_TEXT: Final = (
    "Send a test event: what the sandbox receives appears here, with its properties."
)
NOT_SANDBOX_TEXT: Final = (
    "Test events go to Segment, not to the sandbox: look for them in the source's Debugger."
)
NO_SELECTION_TEXT: Final = "Choose an event above to see its properties."
_CELL_CHARS: Final = 300  # a property value longer than this is cut in the table (not the JSON)
# Why Segment would drop an event it answered 200 to (the sandbox's discard reasons), in words.
_DISCARDED: Final = {
    "invalid_type": "it has no valid type",
    "no_user_anon_id": "it names no visitor (neither a user id nor an anonymous id)",
    "event_not_defined": "it has no event name",
    "batch_over_2500_events": "it came in a batch of more than 2,500 events",
}

_Index = QModelIndex | QPersistentModelIndex
_NO_PARENT: Final = QModelIndex()


def events_received(n: int) -> str:
    """'6 events received', '1 event received'."""
    return f"{n:,} {'event' if n == 1 else 'events'} received"


@dataclass(frozen=True)
class FeedRow:
    """One received event as the list shows it; the key inside `event` is already masked."""

    event: ReceivedEvent
    time: str
    name: str
    visitor: str

    @classmethod
    def of(cls, event: ReceivedEvent) -> FeedRow:
        return cls(event, _local_time(event.received_at), _event_name(event), _visitor(event))

    def properties(self) -> list[tuple[str, str]]:
        """Property → value pairs (traits for identify and group), nested ones as a.b."""
        payload = self.event.payload
        kind = _kind(self.event)
        values = payload.get("traits" if kind in {"identify", "group"} else "properties")
        if not isinstance(values, dict):
            return []
        return [(printable(k, _CELL_CHARS), printable(v, _CELL_CHARS)) for k, v in _flat(values)]

    def json_text(self) -> str:
        """The event as the sandbox lists it, indented, its key masked."""
        text = json.dumps(self.event.to_json(), indent=2, ensure_ascii=False)
        return printable(text, keep_newlines=True)

    def discarded(self) -> str | None:
        """Why Segment would drop this event although it answered 200, or None."""
        reason = self.event.discard_reason
        if reason is None:
            return None
        return (
            "Segment would answer this request but drop this event later: "
            + _DISCARDED.get(reason, printable(reason, 80))
            + "."
        )


def _local_time(received_at: str) -> str:
    try:
        moment = datetime.fromisoformat(received_at)
    except ValueError:
        return printable(received_at, 30)
    return moment.astimezone().strftime("%H:%M:%S")


def _kind(event: ReceivedEvent) -> str:
    """track, identify, page...: the batch item's own type, else the endpoint's (/v1/track)."""
    kind = event.payload.get("type")
    if event.endpoint.endswith("/batch"):
        return kind if isinstance(kind, str) else ""
    return event.endpoint.rpartition("/")[2]


def _event_name(event: ReceivedEvent) -> str:
    payload = event.payload
    kind = _kind(event)
    name = payload.get("event") if kind == "track" else payload.get("name")
    label = {"track": "", "page": "Page", "screen": "Screen"}.get(kind, kind.title())
    if isinstance(name, str) and name.strip():
        return printable(f"{label}: {name}" if label else name, 120)
    return printable(label or "Event without a name", 120)


def _visitor(event: ReceivedEvent) -> str:
    for field_name in ("userId", "anonymousId"):
        value = event.payload.get(field_name)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
            return printable(str(value), 120)
    return "(no visitor)"


def _flat(values: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            pairs.extend(_flat(value, f"{name}."))
        elif isinstance(value, str):
            pairs.append((name, value))
        else:
            pairs.append((name, json.dumps(value, ensure_ascii=False)))
    return pairs


def _compact_rows(view: QTableView) -> None:
    """Rows one line of text high, no row numbers, no wrapping."""
    view.setWordWrap(False)
    rows = view.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(view.fontMetrics().height() + 6)


class _Table(QAbstractTableModel):
    """A table model whose columns are named by HEADERS."""

    HEADERS: tuple[str, ...] = ()

    def columnCount(self, parent: _Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None


class FeedModel(_Table):
    """Received events, newest first, at most MAX_ROWS of them: time, event, visitor."""

    HEADERS = ("Received", "Event", "Visitor")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[FeedRow] = []

    def rowCount(self, parent: _Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.time, row.name, row.visitor)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return (printable(row.event.received_at, 40), row.name, row.visitor)[index.column()]
        return None

    def row(self, n: int) -> FeedRow:
        return self._rows[n]

    def add(self, events: list[ReceivedEvent]) -> None:
        """Events oldest first, as the sandbox lists them; they go on top, the oldest drop off."""
        new = [FeedRow.of(event) for event in reversed(events[-MAX_ROWS:])]
        if not new:
            return
        self.beginInsertRows(_NO_PARENT, 0, len(new) - 1)
        self._rows[0:0] = new
        self.endInsertRows()
        if len(self._rows) > MAX_ROWS:
            self.beginRemoveRows(_NO_PARENT, MAX_ROWS, len(self._rows) - 1)
            del self._rows[MAX_ROWS:]
            self.endRemoveRows()

    def clear(self) -> None:
        if self._rows:
            self.beginResetModel()
            self._rows.clear()
            self.endResetModel()


class PropertiesModel(_Table):
    """Property → value of one event."""

    HEADERS = ("Property", "Value")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pairs: list[tuple[str, str]] = []

    def rowCount(self, parent: _Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._pairs)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and role in {Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole}:
            return self._pairs[index.row()][index.column()]
        return None

    def show(self, pairs: list[tuple[str, str]]) -> None:
        self.beginResetModel()
        self._pairs = pairs
        self.endResetModel()


class SandboxFeed(QWidget):
    """What the built-in sandbox received, updated while it runs; no signals.

    It polls the session's running sandbox (never starting one) every POLL_MS while shown and
    in sandbox mode, and once more whenever the session changes.
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sandbox_feed")
        self.setAccessibleName("Events the sandbox received")
        self._session = session
        self._source: Sandbox | None = None  # the sandbox the rows came from
        self._after = 0  # the last event number shown
        self._clears = 0  # the source's clear count when last polled
        self._received = 0

        self._count = QLabel()
        self._count.setObjectName("feed_count")
        self._count.setAccessibleName("How many events the sandbox received")
        self._count.setWordWrap(True)
        self._clear = QPushButton("C&lear")
        self._clear.setObjectName("clear_feed")
        self._clear.setAccessibleName("Clear the events the sandbox received")
        self._clear.clicked.connect(self.on_clear_clicked)
        top = QHBoxLayout()
        top.addWidget(self._count, 1)
        top.addWidget(self._clear)

        self._model = FeedModel(self)
        self._list = QTableView()
        self._list.setCornerButtonEnabled(False)  # no "select all" stop for Tab
        self._list.setObjectName("feed_events")
        self._list.setAccessibleName("Received events, newest first")
        self._list.setModel(self._model)
        self._list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._list.setAlternatingRowColors(True)
        # The ends of names tell them apart: "Live Chat Mess…Received", "test-vis…3d29510d".
        self._list.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        _compact_rows(self._list)
        header = self._list.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        self._list.selectionModel().selectionChanged.connect(self.on_list_selection_changed)

        self._empty = QLabel(EMPTY_TEXT)
        self._empty.setObjectName("feed_empty")
        self._empty.setWordWrap(True)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setMargin(12)
        self._stack = QStackedWidget()
        self._stack.addWidget(self._empty)
        self._stack.addWidget(self._list)

        self._discarded = Notice()
        self._discarded.setObjectName("feed_discarded")
        self._no_selection = QLabel(NO_SELECTION_TEXT)
        self._no_selection.setObjectName("feed_no_selection")
        self._no_selection.setWordWrap(True)
        self._no_selection.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._no_selection.setMargin(12)
        self._properties_model = PropertiesModel(self)
        self._properties = QTableView()
        self._properties.setCornerButtonEnabled(False)
        self._properties.setObjectName("feed_properties")
        self._properties.setAccessibleName("Properties of the chosen event")
        self._properties.setModel(self._properties_model)
        self._properties.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._properties.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        _compact_rows(self._properties)
        props_header = self._properties.horizontalHeader()
        props_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        props_header.setStretchLastSection(True)
        self._json = QPlainTextEdit()
        self._json.setObjectName("feed_json")
        self._json.setAccessibleName("The chosen event as received, in JSON")
        self._json.setReadOnly(True)
        self._json.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._json.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._tabs = QTabWidget()
        self._tabs.setObjectName("feed_details")
        self._tabs.setAccessibleName("Details of the chosen event")
        self._tabs.addTab(self._properties, "&Properties")
        self._tabs.addTab(self._json, "As &received")

        self._details = QWidget()
        details_layout = QVBoxLayout(self._details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self._no_selection, 1)
        details_layout.addWidget(self._discarded)
        details_layout.addWidget(self._tabs, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._stack)
        splitter.addWidget(self._details)
        splitter.setChildrenCollapsible(False)
        row = self._list.verticalHeader().defaultSectionSize()
        splitter.setSizes([row * 8, row * 12])  # a whole conversation's six rows, then details
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self._timer = QTimer(self)
        self._timer.setObjectName("feed_poll")
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.on_timer_timeout)
        session.changed.connect(self.on_session_changed)
        self._show_selected()
        self._render()

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * 72, metrics.height() * 26)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # The visitor column keeps room for a whole test visitor id, but never more than a
        # third of the list: the event's name matters more.
        natural = self.fontMetrics().horizontalAdvance("test-visitor-00000000") + 16
        width = min(natural, self._list.viewport().width() // 3)
        self._list.horizontalHeader().resizeSection(2, width)

    # --- polling ----------------------------------------------------------------------------

    def _wanted(self) -> Sandbox | None:
        """The sandbox to poll: shown, in sandbox mode, and one is running."""
        if not (self.isVisible() and self._session.use_sandbox):
            return None
        return self._session.running_sandbox()

    def _poll(self) -> None:
        sandbox = self._wanted()
        if sandbox is None:
            self._timer.stop()
            self._render()
            return
        if not self._timer.isActive():
            self._timer.start()
        if sandbox is not self._source:  # a new sandbox numbers its events from 1 again
            self._source, self._after, self._clears = sandbox, 0, -1
        page = sandbox.feed(self._after, MAX_ROWS)
        if page.clears != self._clears:  # cleared here or elsewhere: what is shown is gone
            self._model.clear()
            self._clears = page.clears
            self._show_selected()  # a reset emits no selectionChanged
        self._model.add(list(page.events()))
        self._after, self._received = page.next_after, page.received
        self._render()

    @Slot()
    def on_timer_timeout(self) -> None:
        self._poll()

    @Slot()
    def on_session_changed(self) -> None:
        self._poll()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._poll()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    # --- showing ----------------------------------------------------------------------------

    def _render(self) -> None:
        rows = self._model.rowCount()
        self._stack.setCurrentWidget(self._list if rows else self._empty)
        self._details.setVisible(bool(rows))
        self._clear.setEnabled(bool(rows))
        if not self._session.use_sandbox and not rows:
            self._empty.setText(NOT_SANDBOX_TEXT)
            self._count.setText("")
            return
        self._empty.setText(EMPTY_TEXT)
        received = max(self._received, rows)
        text = events_received(received) if received else "No events received yet."
        if received > rows:
            text += f". Showing the newest {rows:,}."
        self._count.setText(text)

    def _show_selected(self) -> None:
        chosen = self._list.selectionModel().selectedRows()
        row = self._model.row(chosen[0].row()) if chosen else None
        self._no_selection.setVisible(row is None)
        self._tabs.setVisible(row is not None)
        self._properties_model.show(row.properties() if row else [])
        self._json.setPlainText(row.json_text() if row else "")
        reason = row.discarded() if row else None
        if reason:
            self._discarded.show_message(Kind.WARNING, reason)
        else:
            self._discarded.clear()

    @Slot(QItemSelection, QItemSelection)
    def on_list_selection_changed(
        self, selected: QItemSelection, deselected: QItemSelection
    ) -> None:
        self._show_selected()

    @Slot()
    def on_clear_clicked(self) -> None:
        sandbox = self._session.running_sandbox()
        if sandbox is not None and sandbox is self._source:
            sandbox.clear()  # an in-process lock: quick on the GUI thread
        self._model.clear()
        self._received = 0
        self._show_selected()
        self._poll()
