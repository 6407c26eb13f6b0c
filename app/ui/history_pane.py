"""The History tab: every kept send, newest first, filtered by event, outcome, date and text;
the selected one shows in the response view, and can be sent again, deleted or exported."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QObject,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.chatlio import EVENTS
from app.history.records import Outcome
from app.history.store import HistoryFilter, KeepMode, Retention
from app.ui.history_model import HistoryModel
from app.ui.session import SendRecord
from app.ui.worker import run_in_background

if TYPE_CHECKING:
    from app.history.export import Written
    from app.history.records import SendDetail
    from app.ui.session import Session

log = logging.getLogger(__name__)

SEARCH_DELAY_MS = 250  # typing pauses this long before the list is searched
WHOLE_CONVERSATION = "whole"

# (label, outcomes matched); the first is "any".
OUTCOME_CHOICES: list[tuple[str, frozenset[Outcome]]] = [
    ("Any outcome", frozenset()),
    ("Arrived", frozenset({Outcome.ARRIVED})),
    ("Did not all arrive", frozenset({Outcome.PARTLY, Outcome.FAILED})),
    ("Cancelled", frozenset({Outcome.CANCELLED})),
]
# (label, days back; None: any time, 0: today).
DATE_CHOICES: list[tuple[str, int | None]] = [
    ("Any time", None),
    ("Today", 0),
    ("Last 7 days", 7),
    ("Last 30 days", 30),
]
KEEP_CHOICES: list[Retention] = [
    Retention(KeepMode.SENDS, 100),
    Retention(KeepMode.SENDS, 1000),
    Retention(KeepMode.SENDS, 10_000),
    Retention(KeepMode.SENDS, 100_000),
    Retention(KeepMode.DAYS, 7),
    Retention(KeepMode.DAYS, 30),
    Retention(KeepMode.DAYS, 90),
    Retention(KeepMode.DAYS, 365),
    Retention(KeepMode.OFF, 0),
]


def keep_words(keep: Retention) -> str:
    """'the last 1,000 sends', 'sends of the last 30 days', "no history"."""
    if keep.mode is KeepMode.OFF:
        return "no history (sends are not kept)"
    if keep.mode is KeepMode.DAYS:
        return f"sends of the last {keep.amount:,} days" if keep.amount != 1 else "today's sends"
    return f"the last {keep.amount:,} sends" if keep.amount != 1 else "the last send"


def keeps_less(new: Retention, old: Retention) -> bool:
    """Whether `new` may delete sends that `old` kept."""
    if new.mode is KeepMode.OFF:
        return old.mode is not KeepMode.OFF
    if old.mode is KeepMode.OFF:
        return False
    return new.mode is not old.mode or new.amount < old.amount


class ClearHistoryDialog:
    """Asks before every kept send is deleted."""

    @classmethod
    def ask(cls, parent: QWidget, count: int) -> bool:
        sends = "the 1 kept send" if count == 1 else f"all {count:,} kept sends"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Clear the history",
            f"Delete {sends}? This cannot be undone.",
            QMessageBox.StandardButton.Cancel,
            parent,
        )
        delete = box.addButton("Delete them", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is delete


class KeepLessDialog:
    """Asks before a smaller history setting deletes older sends."""

    @classmethod
    def ask(cls, parent: QWidget, keep: Retention) -> bool:
        text = (
            "Stop keeping history? Every kept send is deleted now."
            if keep.mode is KeepMode.OFF
            else f"Keep only {keep_words(keep)}? Older sends are deleted now."
        )
        answer = QMessageBox.question(
            parent,
            "Keep less history",
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes


class ExportDialog:
    """Asks where to export the history, and as what: (path, "har" or "jsonl"), or None."""

    @classmethod
    def ask(cls, parent: QWidget) -> tuple[Path, str] | None:
        har, jsonl = "HAR, for browsers, Postman and Insomnia (*.har)", "JSON lines (*.jsonl)"
        path, chosen = QFileDialog.getSaveFileName(
            parent,
            "Export the history",
            str(Path.home() / "chatlio-history.har"),
            f"{har};;{jsonl}",
        )
        if not path:
            return None
        kind = "jsonl" if chosen == jsonl or path.endswith(".jsonl") else "har"
        return Path(path), kind


class HistoryPane(QWidget):
    """The kept sends; selecting one shows it in the response view (session.show_kept).

    Signals: send_again_requested(SendDetail) — the user wants that send made once more.
    """

    send_again_requested = Signal(object)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._detail: SendDetail | None = None  # the send shown, once read
        self._asked = 0  # one more per selection: an older read is not shown
        self._keep: Retention | None = None
        self._kept = 0
        self._reselect: int | None = None  # the send to select again once a reload is read
        self._shown_problem = ""  # the session's history problem last shown
        self.model = HistoryModel(session, self)
        self.model.counted.connect(self.on_model_counted)
        self.model.failed.connect(self.on_model_failed)
        self.model.loaded.connect(self.on_model_loaded)

        self._event = QComboBox()
        self._event.setObjectName("history_event")
        self._event.setAccessibleName("Show sends with this event")
        self._event.addItem("Any event", None)
        self._event.addItem("Whole conversations", WHOLE_CONVERSATION)
        for spec in EVENTS:
            self._event.addItem(spec.name.removeprefix("Live Chat "), spec.name)
        self._outcome = QComboBox()
        self._outcome.setObjectName("history_outcome")
        self._outcome.setAccessibleName("Show sends with this outcome")
        for label, _outcomes in OUTCOME_CHOICES:
            self._outcome.addItem(label)
        self._date = QComboBox()
        self._date.setObjectName("history_date")
        self._date.setAccessibleName("Show sends from")
        for label, _days in DATE_CHOICES:
            self._date.addItem(label)
        self._search = QLineEdit()
        self._search.setObjectName("history_search")
        self._search.setAccessibleName("Search the history")
        self._search.setPlaceholderText("Search ids, sources, summaries")
        self._search.setClearButtonEnabled(True)
        for combo in (self._event, self._outcome, self._date):
            combo.currentIndexChanged.connect(self.on_filter_changed)
        self._search_delay = QTimer(self)
        self._search_delay.setSingleShot(True)
        self._search_delay.setInterval(SEARCH_DELAY_MS)
        self._search_delay.timeout.connect(self.on_filter_changed)
        self._search.textChanged.connect(self._search_delay.start)
        find = QAction(self)
        find.setShortcuts(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: self._search.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.addAction(find)

        filters = QGridLayout()
        filters.addWidget(self._event, 0, 0)
        filters.addWidget(self._outcome, 0, 1)
        filters.addWidget(self._date, 0, 2)
        filters.addWidget(self._search, 1, 0, 1, 3)
        for column in range(3):
            filters.setColumnStretch(column, 1)

        self._message = QLabel()
        self._message.setObjectName("history_message")
        self._message.setWordWrap(True)
        self._message.setTextFormat(Qt.TextFormat.PlainText)
        self._message.setAccessibleName("History message")
        self._message.hide()

        # A table, not a tree: with fixed row heights its rows cost nothing to lay out, where
        # a tree view lays out every row again as each page arrives (100 ms at 10,000 rows).
        self._list = QTableView()
        self._list.setObjectName("history_list")
        self._list.setAccessibleName("Kept sends, newest first")
        self._list.setModel(self.model)
        self._list.setShowGrid(False)
        self._list.setWordWrap(False)
        self._list.setAlternatingRowColors(True)
        self._list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._list.setTabKeyNavigation(False)  # Tab leaves the list, as in any list
        rows = self._list.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self._list.fontMetrics().height() + 6)
        header = self._list.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        metrics = self._list.fontMetrics()
        for column, sample in enumerate(
            ("Yesterday 00:00", "\u2714 Whole conversation (6 events)")
        ):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 16)
        self._list.selectionModel().selectionChanged.connect(self.on_list_selection_changed)
        self._list.installEventFilter(self)  # the Delete key deletes the selected send
        scrollbar = self._list.verticalScrollBar()
        scrollbar.valueChanged.connect(self.read_more_if_near_the_end)
        scrollbar.rangeChanged.connect(self.read_more_if_near_the_end)

        self._empty = QLabel()
        self._empty.setObjectName("history_empty")
        self._empty.setWordWrap(True)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setTextFormat(Qt.TextFormat.PlainText)
        self._clear_filters = QPushButton("Show all sends")
        self._clear_filters.setObjectName("history_clear_filters")
        self._clear_filters.setAccessibleName("Clear the filters")
        self._clear_filters.clicked.connect(self.clear_filters)
        empty_row = QHBoxLayout()
        empty_row.addStretch()
        empty_row.addWidget(self._clear_filters)
        empty_row.addStretch()

        self._count = QLabel()
        self._count.setObjectName("history_count")
        self._count.setAccessibleName("How many sends are kept")
        self._send_again = self._button("Send again", "history_send_again", "Send this again")
        self._send_again.setToolTip(
            "The same events, properties and visitor, sent now to where test events go now. "
            "Segment gets new message ids, so it takes them as new events."
        )
        self._send_again.clicked.connect(self.on_send_again_clicked)
        self._delete = self._button("Delete", "history_delete", "Delete this send")
        self._delete.setToolTip("Delete the selected send from the history (Delete key).")
        self._delete.clicked.connect(self.on_delete_clicked)
        self._export = self._button("Export\u2026", "history_export", "Export the history")
        self._export.setToolTip("Write every kept send to a HAR or JSON lines file.")
        self._export.clicked.connect(self.on_export_clicked)
        self._clear = self._button("Clear all\u2026", "history_clear", "Delete every kept send")
        self._clear.clicked.connect(self.on_clear_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self._send_again)
        actions.addWidget(self._delete)
        actions.addStretch()
        actions.addWidget(self._export)
        actions.addWidget(self._clear)

        self._keep_box = QComboBox()
        self._keep_box.setObjectName("history_keep")
        self._keep_box.setAccessibleName("How much history is kept")
        self._keep_box.setToolTip(
            "The command line keeps its sends here too, and follows this setting "
            "('history keep' changes it there)."
        )
        self._keep_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._keep_box.activated.connect(self.on_keep_activated)
        keep_label = QLabel("Keep:")
        keep_label.setBuddy(self._keep_box)
        keep_row = QHBoxLayout()
        keep_row.addWidget(self._count, 1)
        keep_row.addWidget(keep_label)
        keep_row.addWidget(self._keep_box)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self._message)
        layout.addWidget(self._list, 1)
        layout.addWidget(self._empty, 1)
        layout.addLayout(empty_row)
        layout.addLayout(actions)
        layout.addLayout(keep_row)
        session.history_changed.connect(self.on_session_history_changed)
        session.changed.connect(self.refresh)
        self.refresh()

    def _button(self, text: str, name: str, accessible: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        return button

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self._list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Delete)
        ):
            self.on_delete_clicked()
            return True
        return super().eventFilter(watched, event)

    @Slot()
    def read_more_if_near_the_end(self) -> None:
        """Another page once the list is scrolled to within a screenful of its end (or when
        what was read does not fill it)."""
        scrollbar = self._list.verticalScrollBar()
        if scrollbar.maximum() - scrollbar.value() <= max(scrollbar.pageStep(), 1):
            self.model.read_more()

    # --- state ----------------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.model.loading and self._keep is None:
            self.load()  # nothing is read until the tab is first shown

    def load(self) -> None:
        """Read the first page, the counts and the setting (on workers)."""
        self.model.set_filter(self.current_filter())
        store = self._session.history_store()
        run_in_background(
            lambda _report: (store.retention, store.notice),
            self._on_setting_read,
            self.on_model_failed,
            name="history-setting",
            owner=self,
        )

    def _on_setting_read(self, read: tuple[Retention, str | None]) -> None:
        self._keep, notice = read
        self._fill_keep_box()
        if notice:
            self._say(notice)
        self.refresh()

    def _fill_keep_box(self) -> None:
        choices = list(KEEP_CHOICES)
        if self._keep is not None and self._keep not in choices:
            choices.insert(0, self._keep)  # set on the command line: shown as it is
        self._keep_box.blockSignals(True)
        self._keep_box.clear()
        for keep in choices:
            self._keep_box.addItem(keep_words(keep), keep)
        if self._keep is not None:
            self._keep_box.setCurrentIndex(choices.index(self._keep))
        self._keep_box.blockSignals(False)

    def current_filter(self) -> HistoryFilter:
        event = self._event.currentData()
        days = DATE_CHOICES[self._date.currentIndex()][1]
        since = None
        if days is not None:
            today = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
            since = (today - timedelta(days=days)).astimezone(UTC)
        return HistoryFilter(
            event=None if event == WHOLE_CONVERSATION else event,
            conversations=event == WHOLE_CONVERSATION,
            outcomes=OUTCOME_CHOICES[self._outcome.currentIndex()][1],
            since=since,
            text=self._search.text(),
        )

    @property
    def filtered(self) -> bool:
        return bool(
            self._event.currentIndex()
            or self._outcome.currentIndex()
            or self._date.currentIndex()
            or self._search.text().strip()
        )

    def refresh(self) -> None:
        """What can be pressed, and the empty state, from the model and the session."""
        rows = self.model.rowCount()
        empty = rows == 0 and not self.model.loading
        self._list.setVisible(not empty)
        self._empty.setVisible(empty)
        self._clear_filters.setVisible(empty and self.filtered)
        if self._keep is not None and self._keep.mode is KeepMode.OFF and not self._kept:
            self._empty.setText(
                "History is off: sends are not kept. Choose how much to keep below to keep them."
            )
        elif self.filtered:
            self._empty.setText("No kept send matches these filters.")
        else:
            self._empty.setText(
                "No sends are kept yet. Sends made here, or with the command line, appear here."
            )
        selected = self._detail is not None and self._selected_id() == self._detail.entry.id
        session = self._session
        self._send_again.setEnabled(selected and session.has_key and not session.busy)
        self._delete.setEnabled(self._selected_id() is not None)
        self._export.setEnabled(self._kept > 0)
        self._clear.setEnabled(self._kept > 0)

    def focus_list(self) -> None:
        self._list.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if self._selected_id() is None and self.model.rowCount():
            self._list.selectionModel().setCurrentIndex(
                self.model.index(0, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def _say(self, text: str) -> None:
        self._message.setText(text)
        self._message.setVisible(bool(text))

    def _selected_id(self) -> int | None:
        rows = self._list.selectionModel().selectedRows()
        entry = self.model.entry(rows[0].row()) if rows else None
        return None if entry is None else entry.id

    @Slot()
    def clear_filters(self) -> None:
        for combo in (self._event, self._outcome, self._date):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self._search.blockSignals(True)
        self._search.clear()
        self._search.blockSignals(False)
        self.on_filter_changed()

    # --- slots ----------------------------------------------------------------------------------

    @Slot()
    def on_filter_changed(self) -> None:
        self._search_delay.stop()
        self.model.set_filter(self.current_filter())
        self.refresh()

    @Slot()
    def on_session_history_changed(self) -> None:
        problem = self._session.history_problem
        if problem or self._message.text() == self._shown_problem:
            self._say(problem)  # a send that could not be kept, or none since
        self._shown_problem = problem
        if self._keep is None and not self.model.loading:
            self.load()  # the setting could not be read before: try again
            return
        if not self.model.loading or self._keep is not None:
            self._reselect = self._selected_id()
            self.model.reload()
        self.refresh()

    def _restore_selection(self) -> None:
        """After a reload, the send that was selected is again, if it is still listed; quietly,
        so that it does not take the response view back from a newer send."""
        send_id, self._reselect = self._reselect, None
        row = -1 if send_id is None else self.model.row_of(send_id)
        if row < 0:
            return
        selection = self._list.selectionModel()
        selection.blockSignals(True)
        selection.setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        selection.blockSignals(False)
        self._list.viewport().update()

    @Slot(int, int)
    def on_model_counted(self, matching: int, kept: int) -> None:
        self._kept = kept
        sends = "1 send" if kept == 1 else f"{kept:,} sends"
        if self.filtered:
            self._count.setText(f"{matching:,} of {sends} kept match")
        else:
            self._count.setText(f"{sends} kept")
        self.refresh()

    @Slot(str)
    def on_model_failed(self, message: object) -> None:
        text = message if isinstance(message, str) else getattr(message, "message", "")
        self._say(text or "The send history could not be read.")
        self.refresh()

    @Slot()
    def on_model_loaded(self) -> None:
        if self._reselect is not None:
            self._restore_selection()
        self.refresh()
        # After Qt has laid the new rows out: does the list still end on screen?
        QTimer.singleShot(0, self, self.read_more_if_near_the_end)

    @Slot(QItemSelection, QItemSelection)
    def on_list_selection_changed(self, _selected: QItemSelection, _old: QItemSelection) -> None:
        send_id = self._selected_id()
        self._asked += 1
        self.refresh()
        if send_id is None:
            return
        asked, store = self._asked, self._session.history_store()

        def read(_report: object) -> tuple[SendDetail, SendRecord] | None:
            # The record is built here too: its confirmation's class is imported on a worker.
            detail = store.get(send_id)
            return None if detail is None else (detail, SendRecord.from_history(detail))

        run_in_background(
            read,
            lambda read: self._on_detail(asked, read),
            self.on_model_failed,
            name="history-open",
            owner=self,
        )

    def _on_detail(self, asked: int, read: tuple[SendDetail, SendRecord] | None) -> None:
        if asked != self._asked:
            return
        if read is None:
            self._say("That send is no longer kept (it was deleted, here or elsewhere).")
            self.model.reload()
            return
        self._detail, record = read
        if self._session.busy:
            self._say("A send is running: select this send again once it has ended to see it.")
        else:
            self._session.show_kept(record)
        self.refresh()

    @Slot()
    def on_send_again_clicked(self) -> None:
        if self._detail is not None:
            self.send_again_requested.emit(self._detail)

    @Slot()
    def on_delete_clicked(self) -> None:
        send_id = self._selected_id()
        if send_id is None:
            return
        store = self._session.history_store()
        row = self._list.currentIndex().row()
        run_in_background(
            lambda _report: store.delete(send_id),
            lambda _deleted: self._on_deleted(send_id, row),
            self.on_model_failed,
            name="history-delete",
            owner=self,
        )

    def _on_deleted(self, send_id: int, row: int) -> None:
        self._kept = max(0, self._kept - 1)  # now, before the count is read again
        self.model.remove(send_id)
        if self._detail is not None and self._detail.entry.id == send_id:
            self._detail = None
        rows = self.model.rowCount()
        if rows:  # the next send takes the place of the deleted one, as in a mail list
            self._list.setCurrentIndex(self.model.index(min(row, rows - 1), 0))
        self._say("Deleted the send.")
        self.refresh()

    @Slot()
    def on_clear_clicked(self) -> None:
        if not self._kept or not ClearHistoryDialog.ask(self, self._kept):
            return
        store = self._session.history_store()
        run_in_background(
            lambda _report: store.clear(),
            self._on_cleared,
            self.on_model_failed,
            name="history-clear",
            owner=self,
        )

    def _on_cleared(self, count: int) -> None:
        self._detail = None
        self._say(f"Deleted {'1 send' if count == 1 else f'{count:,} sends'}.")
        self.model.reload()

    @Slot(int)
    def on_keep_activated(self, index: int) -> None:
        wanted = self._keep_box.itemData(index)
        old = self._keep
        if not isinstance(wanted, Retention) or old is None or wanted == old:
            return
        if self._kept and keeps_less(wanted, old) and not KeepLessDialog.ask(self, wanted):
            self._fill_keep_box()  # back to what is kept
            return
        store = self._session.history_store()
        self._keep_box.setEnabled(False)

        def save(_report: object) -> Retention:
            store.retention = wanted
            return wanted

        run_in_background(
            save, self._on_keep_saved, self._on_keep_failed, name="history-keep", owner=self
        )

    def _on_keep_saved(self, keep: Retention) -> None:
        self._keep = keep
        self._keep_box.setEnabled(True)
        self._fill_keep_box()
        self._say(f"Keeping {keep_words(keep)}.")
        self.model.reload()

    def _on_keep_failed(self, error: BaseException) -> None:
        self._keep_box.setEnabled(True)
        self._fill_keep_box()
        self.on_model_failed(error)

    @Slot()
    def on_export_clicked(self) -> None:
        chosen = ExportDialog.ask(self)
        if chosen is None:
            return
        path, kind = chosen
        store = self._session.history_store()
        self._export.setEnabled(False)
        self._say("Exporting\u2026")

        def work(_report: object) -> Written:
            from app.history.export import Format, export_file

            return export_file(store.details(), path, Format(kind))

        run_in_background(
            work,
            lambda written: self._on_exported(written, path),
            self._on_export_failed,
            name="history-export",
            owner=self,
        )

    def _on_exported(self, written: Written, path: Path) -> None:
        self._say(written.describe(str(path)) + " It holds no write key and no token.")
        self.refresh()

    def _on_export_failed(self, error: BaseException) -> None:
        message = getattr(error, "message", None)
        if message is None:
            log.error("The export stopped: %s", type(error).__name__)
            message = "Something unexpected stopped the export. Nothing was written."
        self._say(message)
        self.refresh()
