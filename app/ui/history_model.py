"""The send history as a lazy Qt model: pages of kept sends read on worker threads, as the view
scrolls, so that a hundred thousand sends never become a hundred thousand rows at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.history.records import Outcome, SendEntry
from app.history.store import HistoryFilter
from app.ui.worker import run_in_background

if TYPE_CHECKING:
    from app.ui.session import Session

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("When", "What", "Where")
# Rows read per page: a screenful or three. Each page's rows are turned into text on a worker,
# and a smaller page keeps that burst short (the GUI thread waits for the interpreter meanwhile).
PAGE_SIZE = 100
# After the events: how the send ended, in words (nothing when every event arrived).
OUTCOME_WORDS = {
    Outcome.ARRIVED: "",
    Outcome.PARTLY: " \u2014 some did not arrive",
    Outcome.FAILED: " \u2014 did not arrive",
    Outcome.CANCELLED: " \u2014 cancelled",
}


def when_text(moment: datetime, now: datetime | None = None) -> str:
    """'Today 14:05', 'Yesterday 09:12', '3 Nov 14:05', '3 Nov 2025' — in local time."""
    local, today = moment.astimezone(), (now or datetime.now(UTC)).astimezone().date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"Today {clock}"
    if local.date() == today - timedelta(days=1):
        return f"Yesterday {clock}"
    if local.year == today.year:
        return f"{local.day} {local.strftime('%b')} {clock}"
    return f"{local.day} {local.strftime('%b %Y')}"


def events_text(entry: SendEntry) -> str:
    """'Whole conversation (6 events)', 'Message Sent', '3 events'."""
    names = entry.events
    if len(names) == 1:
        return names[0].removeprefix("Live Chat ")
    whole = names[:1] == ("Live Chat Conversation Started",) and names[-1:] == (
        "Live Chat Conversation Ended",
    )
    return f"Whole conversation ({len(names)} events)" if whole else f"{len(names)} events"


def what_text(entry: SendEntry) -> str:
    """'✔ Whole conversation (6 events)', '✖ Message Sent — did not arrive'."""
    mark = "\u2714" if entry.ok else "\u2716"
    return f"{mark} {events_text(entry)}{OUTCOME_WORDS[entry.outcome]}"


def where_text(entry: SendEntry) -> str:
    """'Chatlio · Segment (US)', 'the sandbox', 'proxy.example.com', with 'command line'."""
    if entry.sandbox:
        where = "the built-in sandbox"
    elif entry.region in ("us", "eu"):
        where = f"{entry.source} \u00b7 Segment ({entry.region.upper()})"
    else:
        where = f"{entry.source} \u00b7 {entry.endpoint.split('://', 1)[-1]}"
    return f"{where} \u00b7 command line" if entry.face.value == "cli" else where


def row_texts(entry: SendEntry) -> tuple[str, ...]:
    """What a row shows: its columns, then its tooltip and its accessible text."""
    local = entry.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    tip = [f"{local} \u00b7 {where_text(entry)}", entry.summary]
    if entry.confirmation:
        tip.append(entry.confirmation)
    when = when_text(entry.started_at)
    return (when, what_text(entry), where_text(entry), "\n".join(tip), f"{when}: {entry.summary}")


# Display: the column's text (-1); tooltip and accessible text: their place in row_texts().
_ROLE_SLOTS: dict[int, int] = {
    Qt.ItemDataRole.DisplayRole.value: -1,
    Qt.ItemDataRole.ToolTipRole.value: len(COLUMNS),
    Qt.ItemDataRole.AccessibleTextRole.value: len(COLUMNS) + 1,
}


class HistoryModel(QAbstractTableModel):
    """Kept sends matching a filter, newest first, a page at a time.

    Signals: counted(matching, kept) — how many sends match and how many are kept;
    failed(sentence) — the history could not be read; loaded() — a page arrived.
    """

    counted = Signal(int, int)
    failed = Signal(str)
    loaded = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._rows: list[SendEntry] = []
        self._texts: list[tuple[str, ...]] = []  # row_texts() of each row, in the same order
        self._filter = HistoryFilter()
        self._generation = 0  # one more at each reload: pages of an older filter are dropped
        self._loading = False
        self._exhausted = False
        self._started = False  # nothing is read before the view first asks

    # --- Qt's model interface -----------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        # Qt asks for a dozen roles per cell at every paint: the texts are made once per row,
        # on the worker that read it, and every other role is answered before any lookup.
        slot = _ROLE_SLOTS.get(role)
        if slot is None or not index.isValid() or index.row() >= len(self._texts):
            return None
        texts = self._texts[index.row()]
        return texts[index.column()] if slot < 0 else texts[slot]

    # Not Qt's canFetchMore/fetchMore: views call those again before a page read on a worker
    # has been laid out, and would read every page. The pane asks for more as it scrolls.

    @property
    def more_to_read(self) -> bool:
        return self._started and not self._exhausted and not self._loading

    def read_more(self) -> None:
        """The next page, if there is one and none is being read."""
        if self.more_to_read:
            self._load_page()

    # --- what the pane asks -------------------------------------------------------------------

    def entry(self, row: int) -> SendEntry | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, send_id: int) -> int:
        """The row showing send `send_id`, or -1."""
        return next((row for row, e in enumerate(self._rows) if e.id == send_id), -1)

    @property
    def loading(self) -> bool:
        return self._loading or not self._started

    def set_filter(self, where: HistoryFilter) -> None:
        self._filter = where
        self.reload()

    def reload(self) -> None:
        """Read the first page again (the filter changed, or a send was kept or removed)."""
        self._generation += 1
        self._started, self._loading, self._exhausted = True, False, False
        self.beginResetModel()
        self._rows, self._texts = [], []
        self.endResetModel()
        self._load_page()
        self._count()

    def remove(self, send_id: int) -> None:
        """Take one deleted send out without reading the rest again."""
        row = self.row_of(send_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            del self._texts[row]
            self.endRemoveRows()
        self._count()

    # --- reading, off the GUI thread --------------------------------------------------------

    def _load_page(self) -> None:
        generation, where = self._generation, self._filter
        before = self._rows[-1].id if self._rows else None
        store = self._session.history_store()
        self._loading = True
        run_in_background(
            lambda _report: [
                (entry, row_texts(entry))
                for entry in store.page(where, before=before, limit=PAGE_SIZE)
            ],
            lambda page: self._on_page(generation, page),
            lambda error: self._on_failed(generation, error),
            name="history-page",
            owner=self,
        )

    def _on_page(self, generation: int, page: list[tuple[SendEntry, tuple[str, ...]]]) -> None:
        if generation != self._generation:
            return
        self._loading = False
        self._exhausted = len(page) < PAGE_SIZE
        if page:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self._rows.extend(entry for entry, _texts in page)
            self._texts.extend(texts for _entry, texts in page)
            self.endInsertRows()
        self.loaded.emit()

    def _count(self) -> None:
        generation, where = self._generation, self._filter
        store = self._session.history_store()
        run_in_background(
            lambda _report: (store.count(where), store.count()),
            lambda counts: self._on_counted(generation, counts),
            lambda error: self._on_failed(generation, error),
            name="history-count",
            owner=self,
        )

    def _on_counted(self, generation: int, counts: tuple[int, int]) -> None:
        if generation == self._generation:
            self.counted.emit(*counts)

    def _on_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._loading, self._exhausted = False, True
        message = getattr(error, "message", None) or "The send history could not be read."
        self.failed.emit(message)
