"""The test-event buttons: one per Live Chat event and one for a whole conversation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
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
    QVBoxLayout,
    QWidget,
)

from app.chatlio import EVENTS, EVENTS_BY_NAME, PROPERTIES, Agent, Conversation, TestEvent, new_id
from app.segment import links
from app.ui import browser
from app.ui.response_view import ResponseView
from app.ui.worker import run_in_background

# After Cancel, how long to wait for the worker before the panel stops waiting for it.
ABANDON_AFTER_MS = 500

if TYPE_CHECKING:
    from app.segment.cancel import CancelToken
    from app.segment.result import SendResult
    from app.sending import SendOutcome
    from app.ui.session import Session


class SendPanel(QWidget):
    """Sends test events off the GUI thread and shows each answer in a ResponseView.

    Signals: busy_changed(bool), finished(list[SendResult]).
    """


    busy_changed = Signal(bool)
    finished = Signal(list)

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._cancel: CancelToken | None = None
        conversation = Conversation(visitor_id=session.settings.visitor_id)

        self._target = QLabel()
        self._target.setWordWrap(True)
        self._target.setAccessibleName("Where test events go")

        self._visitor = QLineEdit(conversation.visitor_id)
        self._visitor.setAccessibleName("Test visitor id")
        self._visitor.editingFinished.connect(self.on_visitor_editing_finished)
        self._id_kind = QComboBox()
        self._id_kind.addItems(["as anonymousId", "as userId"])
        self._id_kind.setCurrentIndex(1 if session.settings.as_user_id else 0)
        self._id_kind.setAccessibleName("Send the visitor id as")
        self._id_kind.setToolTip(
            "Chatlio's public docs do not say which one it sends; anonymousId is the usual choice."
        )
        self._id_kind.currentIndexChanged.connect(self.on_id_kind_current_index_changed)
        new_visitor = QPushButton("Ne&w")
        new_visitor.setAccessibleName("Make a new test visitor id")
        new_visitor.clicked.connect(self.on_new_visitor_clicked)
        visitor_row = QHBoxLayout()
        visitor_row.addWidget(self._id_kind, 1)
        visitor_row.addWidget(new_visitor)
        visitor_label = QLabel("&Visitor id:")
        visitor_label.setBuddy(self._visitor)

        self._fields: dict[str, QLineEdit | QSpinBox] = {}
        properties = QFormLayout()
        properties.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        properties.addRow(visitor_label, self._visitor)
        properties.addRow("", visitor_row)
        start = conversation.events()
        initial: dict[str, Any] = {}
        for event in start:
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
            field.setToolTip(spec.description)
            field.setAccessibleName(name)
            field.setAccessibleDescription(spec.description)
            self._fields[name] = field
            label = QLabel(f"{name}:")
            label.setBuddy(field)
            label.setToolTip(spec.description)
            properties.addRow(label, field)
        props_box = QGroupBox("Properties sent with the events")
        props_box.setLayout(properties)

        self._event_buttons: list[QPushButton] = []
        grid = QGridLayout()
        for index, event_spec in enumerate(EVENTS):
            caption = event_spec.name.removeprefix("Live Chat ")
            button = QPushButton(f"&{index + 1} {caption}")
            button.setAccessibleName(f"Send {event_spec.name}")
            button.setToolTip(f"{event_spec.description}\nSends one '{event_spec.name}' event.")
            button.clicked.connect(lambda _=False, name=event_spec.name: self.send_event(name))
            grid.addWidget(button, index // 2, index % 2)
            self._event_buttons.append(button)
        self._conversation_button = QPushButton("Send a whole &conversation")
        self._conversation_button.setAccessibleName("Send a whole test conversation")
        self._conversation_button.setToolTip(
            "Started, two messages each way, Ended: six events in order, like a real chat."
        )
        self._conversation_button.clicked.connect(self.send_conversation)
        grid.addWidget(self._conversation_button, 2, 0, 1, 2)
        self._cancel_button = QPushButton("Cance&l")
        self._cancel_button.setAccessibleName("Cancel sending")
        self._cancel_button.setEnabled(False)
        self._cancel_button.clicked.connect(self.on_cancel_clicked)
        self._progress = QProgressBar()
        self._progress.setAccessibleName("Sending progress")
        self._progress.setTextVisible(False)
        self._progress.setRange(0, 0)  # indeterminate: sends report no percentage
        self._progress.setMaximumHeight(12)
        self._progress.hide()
        self._status = QLabel()
        self._status.setWordWrap(True)
        self._status.setAccessibleName("Sending status")
        busy_row = QHBoxLayout()
        busy_row.addWidget(self._progress, 1)
        busy_row.addWidget(self._cancel_button)
        send_box = QGroupBox("Send test events")
        send_layout = QVBoxLayout(send_box)
        send_layout.addLayout(grid)
        send_layout.addLayout(busy_row)
        send_layout.addWidget(self._status)

        controls = QWidget()
        controls_layout = QVBoxLayout(controls)
        controls_layout.addWidget(self._target)
        controls_layout.addWidget(send_box)
        controls_layout.addWidget(props_box)
        controls_layout.addStretch()
        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Never narrower than the controls: they scroll vertically, never sideways.
        scrollbar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(controls.minimumSizeHint().width() + scrollbar)

        self.view = ResponseView(session.write_key)
        self.view.debugger_requested.connect(self.on_view_debugger_requested)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.refresh()

    # --- state ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read where events go and whether there is a key (after the wizard changed them)."""
        session = self._session
        if session.use_sandbox:
            text = (
                "Events go to the <b>built-in sandbox</b> on this computer: nothing reaches "
                "Segment, and no write key is needed."
            )
        elif session.write_key() is None:
            text = "<b>No write key yet.</b> Enter it in the write key step first."
        else:
            where = (
                f"<b>{session.custom_endpoint.host}</b>"
                if session.custom_endpoint is not None
                else "<b>Segment (US)</b>"
            )
            text = (
                f"Events go to {where}, source <b>{session.source_name}</b>, with the write key "
                f"kept in {session.key_location or 'memory'}."
            )
        self._target.setText(text)
        self._set_busy(self.is_busy())

    def is_busy(self) -> bool:
        return self._cancel is not None

    def _set_busy(self, busy: bool) -> None:
        can_send = not busy and self._session.write_key() is not None
        for button in (*self._event_buttons, self._conversation_button):
            button.setEnabled(can_send)
        self._cancel_button.setEnabled(busy)
        self._progress.setVisible(busy)

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
        properties = {p: self._value(p) for p in spec.properties}
        return TestEvent(name, properties, datetime.now(UTC))

    # --- sending ----------------------------------------------------------------------------

    @Slot()
    def send_conversation(self) -> None:
        self._send(self._conversation().events())

    def send_event(self, name: str) -> None:
        self._send([self.single_event(name)])

    def _send(self, events: list[TestEvent]) -> None:
        from app.segment.cancel import CancelToken

        if self.is_busy():
            return
        visitor_id = self._visitor.text().strip()
        if not visitor_id:
            self._status.setText("Enter a test visitor id first, or press New for one.")
            return
        if self._session.write_key() is None:
            self._status.setText("There is no write key yet: enter it in the write key step.")
            return
        as_user_id = self._id_kind.currentIndex() == 1
        session = self._session
        self.view.clear()
        conversation_id = str(self._value("conversation_id"))
        self.view.set_context(visitor_id, conversation_id, local=session.use_sandbox)
        cancel = self._cancel = CancelToken()
        total = len(events)
        self._status.setText(f"Sending 1 of {total}…" if total > 1 else "Sending…")
        self._set_busy(True)
        self.busy_changed.emit(True)

        def work(report: Any) -> SendOutcome:
            # Imported here, on the worker: sending pulls in ssl and httpx.
            from app.segment.payload import Visitor
            from app.sending import send_test_events

            return send_test_events(
                session.target(),
                events,
                Visitor(visitor_id, as_user_id=as_user_id),
                conversation_id=conversation_id,
                retry=session.retry,
                cancel=cancel,
                on_result=report,
            )

        def progress(result: SendResult) -> None:
            if cancel is not self._cancel:
                return  # a send the user cancelled and the panel already gave up on
            self.view.add_result(result)
            done = len(self.view.results())
            if done < total and not cancel.cancelled:
                self._status.setText(f"Sending {done + 1} of {total}…")

        run_in_background(
            work,
            lambda outcome: self._on_sent(cancel, outcome),
            lambda error: self._on_send_failed(cancel, error),
            progress,
            name="send",
            owner=self,
        )

    def _on_sent(self, cancel: CancelToken, outcome: SendOutcome) -> None:
        if cancel is not self._cancel:
            return
        self._done()
        if outcome.ok:
            self._status.setText(f"{outcome.summary} Select one to see what it proves.")
        elif outcome.cancelled:
            self._status.setText(outcome.summary)
        else:
            self._status.setText(f"{outcome.summary} Select one to see why.")
        self.finished.emit(list(outcome.results))

    def _on_send_failed(self, cancel: CancelToken, error: BaseException) -> None:
        if cancel is not self._cancel:
            return
        self._done()
        from app.sending import SendSetupError  # loaded on the worker already

        if isinstance(error, SendSetupError):
            self._status.setText(f"Nothing was sent. {error}")
            return
        self._status.setText(
            "Something unexpected stopped the send "
            f"({type(error).__name__}). Nothing more was sent; try again."
        )

    def _done(self) -> None:
        self._cancel = None
        self._set_busy(False)
        self.busy_changed.emit(False)

    # --- slots ------------------------------------------------------------------------------

    @Slot()
    def on_cancel_clicked(self) -> None:
        cancel = self._cancel
        if cancel is not None:
            cancel.cancel()
            self._status.setText("Cancelling…")
            self._cancel_button.setEnabled(False)
            QTimer.singleShot(ABANDON_AFTER_MS, self, lambda: self._abandon(cancel))

    def _abandon(self, cancel: CancelToken) -> None:
        """Cancel still pending: a connection is being set up. Stop waiting for it here."""
        if cancel is not self._cancel:
            return
        results = self.view.results()
        self._done()
        self._status.setText(
            f"Cancelled: {sum(r.ok for r in results)} of {len(results)} test events arrived "
            "first. A connection that was still being set up will end on its own."
        )
        self.finished.emit(results)

    @Slot()
    def on_new_visitor_clicked(self) -> None:
        self._visitor.setText(new_id("test-visitor"))
        self._fields["conversation_id"].setProperty("text", new_id("test-conversation"))
        self.on_visitor_editing_finished()

    @Slot()
    def on_visitor_editing_finished(self) -> None:
        if self._visitor.text().strip():
            self._session.settings.visitor_id = self._visitor.text().strip()

    @Slot(int)
    def on_id_kind_current_index_changed(self, index: int) -> None:
        self._session.settings.as_user_id = index == 1

    @Slot()
    def on_view_debugger_requested(self) -> None:
        settings = self._session.settings
        slug = settings.workspace_slug or None
        url = links.source_page(slug, links.source_slug(self._session.source_name), "debugger")
        try:
            browser.open_url(url)
        except browser.UrlNotOpened:
            self._status.setText(f"Your browser did not open. Open this address in it: {url}")
            self._status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
