"""The send panel: one button per Live Chat event and one for a whole conversation, what a send
is doing while it runs, and the answers beside it."""

from __future__ import annotations

import html
import logging
import math
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.chatlio import EVENTS, EVENTS_BY_NAME, PROPERTIES, Agent, Conversation, TestEvent, new_id
from app.segment.proxy import ProxyMode
from app.ui import browser
from app.ui.confirm import Pacing, confirm_after_send
from app.ui.confirm_words import clock
from app.ui.response_view import ResponseView
from app.ui.session import SendRecord
from app.ui.worker import run_in_background

if TYPE_CHECKING:
    from app.history.records import SendDetail
    from app.segment.cancel import CancelToken
    from app.segment.progress import SendProgress
    from app.segment.result import SendResult
    from app.sending import SendOutcome
    from app.ui.event_check import EventCheckPane
    from app.ui.history_pane import HistoryPane
    from app.ui.session import Session

# clock is the confirmation's too (app.ui.confirm_words); this module names it as before.
__all__ = ["IDLE_TEXT", "SendPanel", "clock", "describe_progress"]

log = logging.getLogger(__name__)

# After Stop, how long to wait for the worker before the panel stops waiting for it.
ABANDON_AFTER_MS = 500
# How often the status line counts down while a send runs.
TICK_MS = 1000
SPLITTER = "send_panel"
KEEP_AWAY_NOTE = (
    "Destinations will not get them, but warehouses still load them: filter them out there "
    "with context_library_name <> 'chatlio-segment-setup'."
)
IDLE_TEXT = "Press an event to send it alone, or send a whole conversation (Ctrl+Return)."
COLUMNS = 2  # event buttons per row, when there is room for them


class Sent(NamedTuple):
    """What a send's worker hands back: the outcome, and where the history kept it."""

    outcome: SendOutcome
    history_id: int | None  # None: not kept (history is off, or could not be written)
    history_problem: str  # why it could not be kept, in a sentence; "" when it was


def keep_in_history(
    session: Session, outcome: SendOutcome, source: str, started: datetime, secrets: list[str]
) -> tuple[int | None, str]:
    """Record `outcome` in the session's history (worker thread); a failure never fails the
    send, it is only said."""
    from app.history.records import Face
    from app.history.store import HistoryUnavailable

    store = session.history_store()
    try:
        kept = store.record(
            outcome, source=source, face=Face.APP, started_at=started, secrets=secrets
        )
    except HistoryUnavailable as exc:
        return None, f"{exc.message} This send was not kept in the history."
    except Exception as exc:  # noqa: BLE001 - the send happened: keeping it must not undo that
        log.error("The send was not kept in the history: %s", type(exc).__name__)
        return None, "Something unexpected kept this send out of the history; it was sent."
    return kept, ""


def describe_progress(progress: SendProgress, elapsed: float, limit: float) -> str:
    """Three lines for the status: the event and try, what is awaited, the time left.

    `elapsed`: seconds since the report arrived; `limit`: the send's time limit in seconds.
    """
    short = progress.event.removeprefix("Live Chat ")
    if progress.events_total > 1:
        what = f"Sending event {progress.event_index} of {progress.events_total}: {short}"
    else:
        what = f"Sending {short}"
    if progress.attempt > 1:
        what += f", try {progress.attempt} of {progress.max_attempts}"
    reason = progress.reason[:1].upper() + progress.reason[1:]
    if progress.phase == "waiting" and progress.retry_in_s is not None:
        wait = progress.retry_in_s - elapsed
        reason += f": trying again in {clock(wait)}" if wait > 0.5 else ": trying again now"
    elif not reason.endswith("…"):
        reason += "…"
    left = clock(progress.deadline_left_s - elapsed)
    return f"{what}\n{reason}\n{left} left of the {clock(limit)} time limit"


class SendPanel(QWidget):
    """Sends test events off the GUI thread; the session's last send shows in a ResponseView.

    Enabled state follows the session (a key, no send running). Actions, added to the panel
    so their shortcuts work in any window that holds it: `send_conversation_action`
    (Ctrl+Return) and `stop_action`.

    After a send, with a Public API token (always in sandbox mode), Segment's own count of
    the events that got a 200 is asked for (app.ui.confirm), at `pacing`'s wait and interval;
    the view shows it. It does not make the session busy: sending again, or leaving the
    wizard, goes on meanwhile.

    Signals: finished(list[SendResult]) once a send ends,
    key_requested() — the user wants to enter the write key.
    """

    finished = Signal(list)
    key_requested = Signal()

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        pacing: Pacing | None = None,
        *,
        history: bool = False,
    ) -> None:
        """`history`: History and 'Check a real event' tabs beside the test events (the main
        window has them)."""
        super().__init__(parent)
        self._session = session
        self._pacing = pacing or Pacing()
        self._cancel: CancelToken | None = None
        self._record: SendRecord | None = None
        self._started_at = datetime.now(UTC)
        self._progress_report: SendProgress | None = None
        self._reported_at = 0.0
        # Where focus was when a send began, if the send's own buttons were about to lose it.
        self._return_focus: QWidget | None = None

        self.send_conversation_action = QAction("Send a whole &conversation", self)
        self.send_conversation_action.setShortcuts(
            [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")]
        )
        self.send_conversation_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.send_conversation_action.triggered.connect(self.send_conversation)
        # No shortcut: Esc would also close the wizard that holds the panel.
        self.stop_action = QAction("&Stop sending", self)
        self.stop_action.triggered.connect(self.on_stop_clicked)
        self.addActions([self.send_conversation_action, self.stop_action])

        target_box = self._build_target()
        send_box = self._build_send()
        props_box = self._build_properties()

        controls = QWidget()
        controls_layout = self._controls_layout = QVBoxLayout(controls)
        controls_layout.addWidget(target_box)
        controls_layout.addWidget(send_box)
        controls_layout.addWidget(props_box)
        controls_layout.addStretch()
        scroll = QScrollArea()
        scroll.setObjectName("send_controls")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no empty Tab stop before the buttons
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Never narrower than the controls in one column: they scroll vertically, never
        # sideways; with room for two columns of event buttons, they get two.
        self._columns = 0
        self._lay_out_events(1)
        narrow = controls.minimumSizeHint().width()
        scrollbar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(narrow + scrollbar)
        self._lay_out_events(COLUMNS)
        self._wide_width = controls.minimumSizeHint().width()
        scroll.viewport().installEventFilter(self)

        self.view = ResponseView(session)
        self.view.debugger_requested.connect(self.on_view_debugger_requested)
        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self._splitter.setObjectName("send_splitter")
        left: QWidget = scroll
        self.history: HistoryPane | None = None
        self.event_check: EventCheckPane | None = None
        self.tabs: QTabWidget | None = None
        if history:
            from app.ui.event_check import EventCheckPane
            from app.ui.history_pane import HistoryPane

            self.history = HistoryPane(session)
            self.history.send_again_requested.connect(self.on_history_send_again_requested)
            self.tabs = QTabWidget()
            self.tabs.setObjectName("send_tabs")
            self.tabs.setDocumentMode(True)
            self.tabs.addTab(scroll, "Test events")
            self.tabs.addTab(self.history, "History")
            self.event_check = EventCheckPane(session)
            self.tabs.addTab(self.event_check, "Check a real event")
            left = self.tabs
        self._splitter.addWidget(left)
        self._splitter.addWidget(self.view)
        self._splitter.setStretchFactor(0, 1)
        self._splitter.setStretchFactor(1, 1)
        self._splitter.setChildrenCollapsible(False)
        state = session.settings.splitter(SPLITTER)
        if state is None or not self._splitter.restoreState(state):
            # Room for two columns of buttons; the answers get a little more (in proportion).
            width = self._wide_width + scrollbar
            self._splitter.setSizes([width, width * 6 // 5])
        self._splitter.splitterMoved.connect(self.on_splitter_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._splitter)

        self._tick = QTimer(self)
        self._tick.setInterval(TICK_MS)
        self._tick.timeout.connect(self.on_tick_timeout)
        session.changed.connect(self.on_session_changed)
        self.refresh()

    # --- building ---------------------------------------------------------------------------

    def _build_target(self) -> QGroupBox:
        self._target = QLabel()
        self._target.setObjectName("send_target")
        self._target.setWordWrap(True)
        self._target.setTextFormat(Qt.TextFormat.RichText)
        self._target.setAccessibleName("Where test events go")
        self._enter_key = QPushButton("Enter the &write key…")
        self._enter_key.setObjectName("enter_key")
        self._enter_key.setAccessibleName("Enter the write key")
        self._enter_key.clicked.connect(self.key_requested)
        row = QHBoxLayout()
        row.addWidget(self._enter_key)
        row.addStretch()
        self._keep_away = QCheckBox("Keep test events away from destinations")
        self._keep_away.setObjectName("keep_from_destinations")
        self._keep_away.setAccessibleName("Keep test events away from destinations")
        self._keep_away.setToolTip(
            'Sends them with integrations {"All": false}: Segment passes them to no destination.'
        )
        self._keep_away.setChecked(self._session.settings.keep_from_destinations)
        self._keep_away.toggled.connect(self.on_keep_away_toggled)
        self._keep_away_note = QLabel(KEEP_AWAY_NOTE)
        self._keep_away_note.setObjectName("keep_from_destinations_note")
        self._keep_away_note.setWordWrap(True)
        self._keep_away_note.setVisible(self._keep_away.isChecked())
        box = QGroupBox("Where test events go")
        layout = QVBoxLayout(box)
        layout.addWidget(self._target)
        layout.addLayout(row)
        layout.addWidget(self._keep_away)
        layout.addWidget(self._keep_away_note)
        return box

    def _build_send(self) -> QGroupBox:
        self._event_buttons: list[QPushButton] = []
        grid = self._grid = QGridLayout()
        for index, spec in enumerate(EVENTS):
            caption = spec.name.removeprefix("Live Chat ")
            # Digits 1..N: letters are taken by the windows and tabs around the panel.
            mnemonic = f"&{index + 1} " if index < 9 else ""
            button = QPushButton(f"{mnemonic}{caption}")
            button.setObjectName(f"send_{spec.short_name}")
            button.setAccessibleName(f"Send {spec.name}")
            button.setToolTip(f"{spec.description}\nSends one '{spec.name}' event.")
            button.clicked.connect(lambda _=False, name=spec.name: self.send_event(name))
            self._event_buttons.append(button)
        self._conversation_button = QPushButton("Send a whole &conversation")
        self._conversation_button.setObjectName("send_conversation")
        self._conversation_button.setAccessibleName("Send a whole test conversation")
        self._conversation_button.setToolTip(
            "Started, two messages each way, Ended: six events in order, like a real chat."
            "\nShortcut: Ctrl+Return."
        )
        self._conversation_button.clicked.connect(self.send_conversation)

        self._stop_button = QPushButton("Stop sendin&g")
        self._stop_button.setObjectName("stop_sending")
        self._stop_button.setAccessibleName("Stop sending test events")
        self._stop_button.clicked.connect(self.on_stop_clicked)
        self._progress = QProgressBar()
        self._progress.setObjectName("send_progress")
        self._progress.setAccessibleName("Test events answered")
        self._progress.setFormat("%v of %m answered")
        self._progress.setRange(0, 1)
        self._progress.setValue(0)
        self._progress.setTextVisible(False)  # until a send gives it something to count
        busy_row = QHBoxLayout()
        busy_row.addWidget(self._progress, 1)
        busy_row.addWidget(self._stop_button)
        self._status = QLabel()
        self._status.setObjectName("send_status")
        self._status.setWordWrap(True)
        self._status.setAccessibleName("Sending status")
        self._status.setTextFormat(Qt.TextFormat.PlainText)
        self._status.setText(IDLE_TEXT)
        box = QGroupBox("Send test events")
        layout = self._send_layout = QVBoxLayout(box)
        layout.addLayout(grid)
        layout.addLayout(busy_row)
        layout.addWidget(self._status)
        return box

    def _build_properties(self) -> QGroupBox:
        session = self._session
        conversation = Conversation(visitor_id=session.settings.visitor_id)
        self._visitor = QLineEdit(conversation.visitor_id)
        self._visitor.setObjectName("send_visitor_id")
        self._visitor.setAccessibleName("Test visitor id")
        self._visitor.editingFinished.connect(self.on_visitor_editing_finished)
        self._id_kind = QComboBox()
        self._id_kind.setObjectName("send_id_kind")
        self._id_kind.addItems(["as anonymousId", "as userId"])
        self._id_kind.setCurrentIndex(1 if session.settings.as_user_id else 0)
        self._id_kind.setAccessibleName("Send the visitor id as")
        self._id_kind.setToolTip(
            "Chatlio's public docs do not say which one it sends; anonymousId is the usual choice."
        )
        self._id_kind.currentIndexChanged.connect(self.on_id_kind_current_index_changed)
        new_visitor = QPushButton("New &id")
        new_visitor.setObjectName("new_visitor")
        new_visitor.setAccessibleName("Make a new test visitor id")
        new_visitor.clicked.connect(self.on_new_visitor_clicked)
        visitor_row = QHBoxLayout()
        visitor_row.addWidget(self._id_kind, 1)
        visitor_row.addWidget(new_visitor)
        visitor_label = QLabel("&Visitor id:")
        visitor_label.setBuddy(self._visitor)

        self._fields: dict[str, QLineEdit | QSpinBox] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # labels above, if narrow
        form.addRow(visitor_label, self._visitor)
        form.addRow("", visitor_row)
        initial: dict[str, Any] = {}
        for event in conversation.events():
            initial.update(event.properties)
        initial["message_id"] = new_id("test-message")
        for name, spec in PROPERTIES.items():
            field: QLineEdit | QSpinBox
            if spec.json_type == "integer":
                field = QSpinBox()
                field.setRange(0, 10_000_000)
                field.setSuffix(" s")
                field.setValue(int(initial[name]))
            else:
                field = QLineEdit(str(initial[name]))
                field.setCursorPosition(0)  # a long value shows its beginning
            field.setObjectName(f"property_{name}")
            field.setToolTip(spec.description)
            field.setAccessibleName(name)
            field.setAccessibleDescription(spec.description)
            self._fields[name] = field
            label = QLabel(f"{name}:")
            label.setBuddy(field)
            label.setToolTip(spec.description)
            form.addRow(label, field)
        box = QGroupBox("Properties sent with the events")
        box.setLayout(form)
        return box

    def _lay_out_events(self, columns: int) -> None:
        """One button per catalogue event, `columns` to a row; the conversation on its own row."""
        if columns == self._columns:
            return
        self._columns = columns
        for index, button in enumerate(self._event_buttons):
            self._grid.removeWidget(button)
            self._grid.addWidget(button, index // columns, index % columns)
        self._grid.removeWidget(self._conversation_button)
        rows = math.ceil(len(self._event_buttons) / columns)
        self._grid.addWidget(self._conversation_button, rows, 0, 1, columns)
        # Sizes count at once, not at the next layout pass: activate what holds the grid.
        for layout in (self._send_layout, self._controls_layout):
            layout.activate()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            # The controls' viewport: is there room for two columns of buttons?
            self._lay_out_events(COLUMNS if watched.width() >= self._wide_width else 1)
        return super().eventFilter(watched, event)

    # --- state ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-render where events go and what can be pressed, from the session."""
        session = self._session
        self._target.setText(self._target_html())
        self._enter_key.setVisible(not session.has_key)
        can_send = session.has_key and not session.busy and not self.is_busy()
        for button in (*self._event_buttons, self._conversation_button):
            button.setEnabled(can_send)
        self.send_conversation_action.setEnabled(can_send)
        stoppable = self.is_busy() and self._cancel is not None and not self._cancel.cancelled
        self._stop_button.setEnabled(stoppable)
        self.stop_action.setEnabled(stoppable)
        last = session.last_send
        if last is not None and not self.is_busy():
            # The last send, also one made in another view (the wizard's test page).
            self._progress.setRange(0, max(1, last.total))
            self._progress.setValue(len(last.results))
            self._progress.setTextVisible(True)
            if last.ended and self._status.text() == IDLE_TEXT:
                self._status.setText(last.summary)

    def _target_html(self) -> str:
        session = self._session
        if session.use_sandbox:
            running = session.running_sandbox()
            where = "the <b>built-in sandbox</b> on this computer"
            if running is not None:
                where += f" ({html.escape(running.url.removeprefix('http://'))})"
            return f"Events go to {where}: nothing reaches Segment, and no write key is needed."
        if not session.has_key:
            return "<b>There is no write key yet</b>, so nothing can be sent."
        endpoint = session.custom_endpoint
        where = "Segment (US)" if endpoint is None else html.escape(endpoint.host)
        location = html.escape(session.key_location or "memory")
        text = (
            f"Events go to <b>{where}</b>, source <b>{html.escape(session.source_name)}</b>, "
            f"with the write key kept in {location}."
        )
        proxy = session.proxy
        if proxy.mode is ProxyMode.NONE:
            text += " They go directly, through no proxy."
        elif proxy.mode is ProxyMode.MANUAL:
            text += f" They go through the proxy <b>{html.escape(proxy.describe())}</b>."
        return text

    def is_busy(self) -> bool:
        """This panel's own send is running."""
        return self._cancel is not None

    def _conversation(self) -> Conversation:
        values = {name: self._value(name) for name in PROPERTIES}
        base = Conversation(
            visitor_id=self._visitor.text().strip(),
            conversation_id=str(values["conversation_id"]),
            agent=Agent(
                str(values["agent_id"]), str(values["agent_name"]), str(values["agent_username"])
            ),
        )
        duration = int(values["conversation_duration"])
        # Keep the messages inside the conversation's length, in order.
        exchange = tuple(
            (min(after, max(0, duration - 1)), by_visitor) for after, by_visitor in base.exchange
        )
        return replace(base, ended_after=duration, exchange=exchange)

    def _value(self, name: str) -> str | int:
        field = self._fields[name]
        return field.value() if isinstance(field, QSpinBox) else field.text().strip()

    def single_event(self, name: str) -> TestEvent:
        """One event of `name` with exactly the properties shown in the form."""
        spec = EVENTS_BY_NAME[name]
        values = {p: self._value(p) for p in spec.properties}
        properties = {p: v for p, v in values.items() if v != "" or not PROPERTIES[p].optional}
        return TestEvent(name, properties, datetime.now(UTC))

    # --- sending ----------------------------------------------------------------------------

    @Slot()
    def send_conversation(self) -> None:
        self._send(self._conversation().events())

    def send_event(self, name: str) -> None:
        self._send([self.single_event(name)])

    def send_again(self, detail: SendDetail) -> bool:
        """A kept send's events once more, to where test events go now: the same properties
        and visitor, new Segment message ids. False when a send is running already."""
        from app.history.resend import events_to_send_again

        events = events_to_send_again(detail)
        if not events or self.is_busy() or self._session.busy:
            return False
        self._send(events, (detail.visitor_id, detail.as_user_id, detail.conversation_id))
        return True

    def _send(self, events: list[TestEvent], who: tuple[str, bool, str] | None = None) -> None:
        """Send `events` about `who` (visitor id, as userId, conversation id): the form's by
        default."""
        from app.segment.cancel import CancelToken

        session = self._session
        if self.is_busy() or session.busy:
            return
        if who is None:
            who = (
                self._visitor.text().strip(),
                self._id_kind.currentIndex() == 1,
                str(self._value("conversation_id")),
            )
        visitor_id, as_user_id, conversation_id = who
        if not visitor_id:
            self._status.setText("Enter a test visitor id first, or press New id for one.")
            return
        if not session.has_key:
            self._status.setText("There is no write key yet: enter it first.")
            return
        total = len(events)
        record = self._record = SendRecord(visitor_id, conversation_id, session.use_sandbox, total)
        self._started_at = record.started_at = datetime.now(UTC)
        cancel = self._cancel = CancelToken()
        self._progress_report = None
        self._progress.setRange(0, total)
        self._progress.setValue(0)
        self._progress.setTextVisible(True)
        self._status.setText("Starting…")
        self._park_focus()
        session.begin_send(record)
        session.busy = True  # re-renders: the send buttons go off, Stop comes on
        self.refresh()
        self._tick.start()
        deadline, proxy, retry = session.deadline, session.proxy, session.retry
        to_destinations = not self._keep_away.isChecked()

        source, started, secrets = session.source_name, self._started_at, session.secrets()

        def work(report: Any) -> Sent:
            # Imported here, on the worker: sending pulls in ssl and httpx.
            from app.segment.payload import Visitor
            from app.sending import send_test_events

            outcome = send_test_events(
                session.target(),
                events,
                Visitor(visitor_id, as_user_id=as_user_id),
                conversation_id=conversation_id,
                deadline=deadline,
                retry=retry,
                cancel=cancel,
                on_result=report,
                on_progress=report,
                proxy=proxy,
                to_destinations=to_destinations,
            )
            return Sent(outcome, *keep_in_history(session, outcome, source, started, secrets))

        run_in_background(
            work,
            lambda outcome: self._on_sent(cancel, outcome),
            lambda error: self._on_send_failed(cancel, error),
            lambda value: self._on_report(cancel, value),
            name="send",
            owner=self,
        )

    def _on_report(self, cancel: CancelToken, value: SendProgress | SendResult) -> None:
        from app.segment.progress import SendProgress

        if cancel is not self._cancel or self._record is None:
            return  # a send the user stopped and the panel already gave up on
        if isinstance(value, SendProgress):
            self._progress_report, self._reported_at = value, time.monotonic()
        else:
            self._session.add_result(self._record, value)
            self._progress.setValue(len(self._record.results))
        if not cancel.cancelled:
            self._render_progress()

    def _render_progress(self) -> None:
        report = self._progress_report
        if report is None:
            return
        elapsed = time.monotonic() - self._reported_at
        self._status.setText(describe_progress(report, elapsed, self._session.deadline))

    def _on_sent(self, cancel: CancelToken, sent: Sent) -> None:
        self._session.history_kept(sent.history_id, sent.history_problem)
        if cancel is not self._cancel:
            return
        outcome = sent.outcome
        if self._record is not None:
            self._record.history_id = sent.history_id
        self._done(outcome.summary)
        if self._record is not None and not outcome.cancelled:
            confirm_after_send(self._session, self._record, self._started_at, self._pacing)
        self.finished.emit(list(outcome.results))

    def _on_send_failed(self, cancel: CancelToken, error: BaseException) -> None:
        if cancel is not self._cancel:
            return
        from app.sending import SendSetupError  # loaded on the worker already

        if isinstance(error, SendSetupError):
            self._done(f"Nothing was sent. {error}")
        else:
            log.error("The send stopped: %s", type(error).__name__)
            self._done("Something unexpected stopped the send. Nothing more was sent; try again.")
        self.finished.emit(list(self._record.results if self._record else []))

    def _done(self, summary: str) -> None:
        record = self._record
        self._cancel = None
        self._tick.stop()
        self._status.setText(summary)
        if record is not None:
            self._progress.setValue(len(record.results))
            self._session.end_send(record, summary)
        self._session.busy = False
        self.refresh()
        self._restore_focus()

    # --- focus ------------------------------------------------------------------------------

    def _park_focus(self) -> None:
        """Disabling the focused button would push focus on to the next field (the visitor
        id, selected): a second Space or a typed letter would replace it. Park it on the
        status line meanwhile, and give it back when the send ends."""
        focused = QApplication.focusWidget()
        if focused in (*self._event_buttons, self._conversation_button):
            self._return_focus = focused
            self._status.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self._return_focus = None

    def _restore_focus(self) -> None:
        back, self._return_focus = self._return_focus, None
        if back is not None and QApplication.focusWidget() in (self._status, None):
            back.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- slots ------------------------------------------------------------------------------

    @Slot()
    def on_session_changed(self) -> None:
        self.refresh()

    def on_history_send_again_requested(self, detail: SendDetail) -> None:
        if not self.send_again(detail) and self.history is not None:
            self.history.refresh()

    @Slot()
    def on_tick_timeout(self) -> None:
        if self._cancel is not None and not self._cancel.cancelled:
            self._render_progress()

    @Slot()
    def on_stop_clicked(self) -> None:
        cancel = self._cancel
        if cancel is not None and not cancel.cancelled:
            cancel.cancel()
            self._status.setText("Stopping…")
            self.refresh()
            QTimer.singleShot(ABANDON_AFTER_MS, self, lambda: self._abandon(cancel))

    def on_cancel_clicked(self) -> None:
        """The benchmarks' name for Stop sending."""
        self.on_stop_clicked()

    def _abandon(self, cancel: CancelToken) -> None:
        """Stop still pending: a connection is being set up. Stop waiting for it here."""
        if cancel is not self._cancel:
            return
        results = list(self._record.results) if self._record else []
        total = self._record.total if self._record else len(results)
        self._done(
            f"Stopped: {sum(r.ok for r in results)} of {total} test events arrived first. "
            "A connection that was still being set up will end on its own."
        )
        self.finished.emit(results)

    @Slot(int, int)
    def on_splitter_moved(self, pos: int, index: int) -> None:
        self._session.settings.set_splitter(SPLITTER, self._splitter.saveState())

    @Slot()
    def on_new_visitor_clicked(self) -> None:
        self._visitor.setText(new_id("test-visitor"))
        self._fields["conversation_id"].setProperty("text", new_id("test-conversation"))
        self.on_visitor_editing_finished()

    @Slot()
    def on_visitor_editing_finished(self) -> None:
        if self._visitor.text().strip():
            self._session.settings.visitor_id = self._visitor.text().strip()

    @Slot(bool)
    def on_keep_away_toggled(self, checked: bool) -> None:
        self._session.settings.keep_from_destinations = checked
        self._keep_away_note.setVisible(checked)

    @Slot(int)
    def on_id_kind_current_index_changed(self, index: int) -> None:
        self._session.settings.as_user_id = index == 1

    @Slot()
    def on_view_debugger_requested(self) -> None:
        url = self._session.debugger_url()
        try:
            browser.open_url(url)
        except browser.UrlNotOpened:
            self._status.setText(f"Your browser did not open. Open this address in it: {url}")
            self._status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
