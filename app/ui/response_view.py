"""Shows the last send of the session: one row per event, and what the selected answer means."""

from __future__ import annotations

import json
from dataclasses import replace
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.segment.endpoint import EU_HOST, US_HOST
from app.segment.result import WHAT_200_PROVES, Attempt, ErrorKind, SendResult
from app.ui.confirm_view import ArrivalBox
from app.ui.sandbox_feed import SandboxFeed
from app.ui.secret_clipboard import SecretClipboard

if TYPE_CHECKING:
    from app.ui.session import SendRecord, Session

OK_MARK, FAIL_MARK = "\u2714", "\u2716"
SPLITTER_NAME = "response_view"

# What each outcome is called in a row of the list: words, never the ErrorKind value.
_WORDS: dict[ErrorKind, str] = {
    ErrorKind.INVALID: "not sent: the event has a problem",
    ErrorKind.CANCELLED: "cancelled",
    ErrorKind.NOT_SENT: "not sent",
    ErrorKind.TIMEOUT: "no answer in time",
    ErrorKind.CONNECTION: "could not connect",
    ErrorKind.DNS: "server not found",
    ErrorKind.TLS: "could not connect securely",
    ErrorKind.PROXY: "the proxy server failed",
    ErrorKind.DISCONNECTED: "cut off before a complete answer",
    ErrorKind.PROTOCOL: "an answer that is not Segment's",
    ErrorKind.TOO_LARGE: "an answer far too large to be Segment's",
    ErrorKind.BAD_REQUEST: "rejected as malformed or too large",
    ErrorKind.AUTH: "write key refused",
    ErrorKind.NOT_FOUND: "wrong address",
    ErrorKind.RATE_LIMITED: "too many events at once",
    ErrorKind.SERVER: "a problem on the server's side",
    ErrorKind.HTTP: "an unexpected answer",
}

_CHANGE_ADDRESS = (
    "If that address is not the one you meant, change the Tracking API address in the app's "
    "settings. If it is, check this computer's internet access and proxy settings, then send "
    "again."
)

# What to do next, in this app's terms; the core's message has already said what happened.
_NEXT: dict[ErrorKind, str] = {
    ErrorKind.INVALID: "The Request tab shows the event as it was built. Correct the property "
    "values on the left, then send again.",
    ErrorKind.CANCELLED: "Press a send button on the left when you want to try again.",
    ErrorKind.NOT_SENT: "Select the first event in the list that failed, follow what it says, "
    "then send again.",
    ErrorKind.TIMEOUT: _CHANGE_ADDRESS,
    ErrorKind.CONNECTION: _CHANGE_ADDRESS,
    ErrorKind.DNS: _CHANGE_ADDRESS,
    ErrorKind.TLS: "If your company inspects web traffic, ask IT to add its certificate to this "
    "computer's trust store. Otherwise check the Tracking API address in the app's settings.",
    ErrorKind.PROXY: "Check the proxy choice in the app's settings (the computer's own "
    "settings are used by default), or ask IT which proxy to use.",
    ErrorKind.DISCONNECTED: "Wait a few minutes and send again. If it keeps happening, check "
    "the Tracking API address in the app's settings.",
    ErrorKind.PROTOCOL: "Something other than Segment answered: a sign-in page, a proxy or a "
    "firewall may be in the way. Check the Tracking API address in the app's settings, or "
    "ask IT.",
    ErrorKind.TOO_LARGE: "Check the Tracking API address in the app's settings: Segment's own "
    "answers are a few dozen characters.",
    ErrorKind.BAD_REQUEST: "Check the property values on the left (the Request tab shows "
    "exactly what was sent), then send again.",
    ErrorKind.AUTH: "In Segment, open the source's Settings, then API Keys, copy the write key "
    "again, enter it in this app, and send again.",
    ErrorKind.NOT_FOUND: "Check the Tracking API address in the app's settings; Segment's is "
    f"{US_HOST}.",
    ErrorKind.RATE_LIMITED: "Wait a minute, then send again; one event at a time is gentler "
    "than a whole conversation.",
    ErrorKind.SERVER: "Wait a few minutes and send again; status.segment.com lists Segment's "
    "known incidents.",
    ErrorKind.HTTP: "Send again later. If it keeps happening, use Copy the answer on the "
    "Answer tab and send what it copies to whoever runs that address.",
}


def outcome_words(kind: ErrorKind | None, status: int | None) -> str:
    """'arrived (HTTP 200)', 'no answer in time', 'write key refused (HTTP 401)'."""
    words = "arrived" if kind is None else _WORDS[kind]
    return f"{words} (HTTP {status})" if status is not None else words


def next_step(kind: ErrorKind) -> str:
    """What the user can do about a failure of this kind."""
    return _NEXT[kind]


def seconds_text(ms: float) -> str:
    """'under 0.1 s', '0.4 s', '12 s', '2 min 5 s': never raw milliseconds."""
    seconds = ms / 1000
    if seconds < 0.1:
        return "under 0.1 s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def row_text(result: SendResult) -> str:
    """'✔ Message Sent — arrived (HTTP 200)'; tries only when more than one, time when slow."""
    mark = OK_MARK if result.ok else FAIL_MARK
    name = result.event.removeprefix("Live Chat ")
    parts = [f"{mark} {name} \u2014 {outcome_words(result.error_kind, result.status)}"]
    tries = len(result.attempts)
    if tries > 1:
        parts.append(f"after {tries} tries")
    if result.elapsed_ms >= 1000:  # a quick answer's time says nothing to the user
        parts.append(seconds_text(result.elapsed_ms))
    return " \u00b7 ".join(parts)


def is_segment(endpoint: str) -> bool:
    return endpoint.rstrip("/") in (US_HOST, EU_HOST)


def headline(result: SendResult, sandbox: bool) -> str:
    """One sentence about the selected event; claims nothing about Segment unless it was."""
    mark = OK_MARK if result.ok else FAIL_MARK
    if not result.ok:
        return f"{mark} {result.event}: {outcome_words(result.error_kind, result.status)}."
    if sandbox:
        where = "the built-in sandbox on this computer"
    elif is_segment(result.endpoint):
        where = "Segment"
    else:
        where = result.endpoint
    return f"{mark} {result.event} arrived at {where} (HTTP {result.status})."


def pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _attempt_words(attempt: Attempt, result: SendResult, last: bool) -> str:
    """A try's outcome in words; the technical text stays in the Answer tab."""
    if attempt.status is not None and attempt.error is None:
        kind = result.error_kind if last else _kind_of_status(attempt.status)
        return outcome_words(kind, attempt.status)
    if last and result.error_kind is not None:
        return outcome_words(result.error_kind, None)
    error = attempt.error or ""
    if "Timeout" in error or error.startswith("cut at the"):
        return outcome_words(ErrorKind.TIMEOUT, None)
    if result.error_kind is not None:  # an earlier try most likely failed the same way
        return outcome_words(result.error_kind, None)
    return "failed"


def _kind_of_status(status: int) -> ErrorKind | None:
    """Roughly how a retried try's status reads (the final one is the client's own verdict)."""
    if 200 <= status < 300:
        return None
    if status == 429:
        return ErrorKind.RATE_LIMITED
    return ErrorKind.SERVER if status >= 500 else ErrorKind.HTTP


class RevealKeyDialog:
    """Asks before a copied cURL command carries the real write key."""

    @classmethod
    def ask(cls, parent: QWidget) -> bool:
        answer = QMessageBox.warning(
            parent,
            "Copy with the write key?",
            "The copied command will contain your write key. Anyone who sees it can send data "
            "into your Segment source. Paste it only where you would paste a password.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes


def _button(text: str, name: str, accessible: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setAccessibleName(accessible)
    return button


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setMinimumWidth(1)  # wraps instead of widening the window
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ResponseView(QWidget):
    """The session's last send: a list of its results and the details of the selected one.

    Renders from `session.changed`. Signals: debugger_requested() — the user wants to open
    the source's Debugger in Segment.
    """

    debugger_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._record: SendRecord | None = None
        self._rows = 0  # results of self._record already in the list
        self._intro_html = ""
        self._secret_clipboard = SecretClipboard(self)

        self._intro = _label("response_intro")
        self._intro.setAccessibleName("What happens when you send")
        self._intro.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._intro.setTextFormat(Qt.TextFormat.RichText)
        self._intro.setContentsMargins(8, 8, 8, 8)

        self._stack = QStackedWidget()
        self._stack.addWidget(_scrolling(self._intro, "intro_scroll"))
        self._stack.addWidget(self._build_results())
        self._stack.setMinimumSize(1, 1)
        # In sandbox mode a second tab lists what the sandbox received: the offline "I saw
        # my events arrive", where Segment's Debugger would be.
        self._feed = SandboxFeed(session)
        self._pages = QTabWidget()
        self._pages.setObjectName("response_pages")
        self._pages.setAccessibleName("Answers, and what the sandbox received")
        self._pages.setDocumentMode(True)
        self._pages.addTab(self._stack, "Answers")
        self._pages.addTab(self._feed, "Arrived in the sand&box")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._pages)
        self.setMinimumSize(200, 200)

        session.changed.connect(self.on_session_changed)
        self.on_session_changed()

    # --- building ---------------------------------------------------------------------------

    def _build_results(self) -> QWidget:
        self._summary = _label("send_summary")
        self._summary.setAccessibleName("How the send went")
        self._summary.setContentsMargins(4, 2, 4, 2)

        self._list = QListWidget()
        self._list.setObjectName("results")
        self._list.setAccessibleName("Sent events")
        self._list.setWordWrap(True)
        self._list.setSpacing(1)
        self._list.setResizeMode(QListView.ResizeMode.Adjust)
        self._list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self._list.setMinimumSize(1, self._list.fontMetrics().height() * 2)
        self._list.currentRowChanged.connect(self.on_list_current_row_changed)

        self._headline = _label("headline")
        self._headline.setAccessibleName("Verdict")
        font = self._headline.font()
        font.setBold(True)
        self._headline.setFont(font)
        self._headline.setContentsMargins(4, 2, 4, 2)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._tabs = QTabWidget()
        self._tabs.setObjectName("details")
        self._tabs.setAccessibleName("Response details")
        self._tabs.setUsesScrollButtons(True)
        self._tabs.setMinimumSize(1, 1)
        self._tabs.addTab(self._build_meaning(), "What it &means")
        self._tabs.addTab(self._build_answer(mono), "Answ&er")
        self._tabs.addTab(self._build_request(mono), "Re&quest")
        self._timing = _text_area("timing", "Timing and retries", mono)
        self._tabs.addTab(self._timing, "&Timing")

        self._copied = _label("copy_status")
        self._copied.setAccessibleName("Copy status")
        self._copied.hide()

        details = QWidget()
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self._headline)
        details_layout.addWidget(self._tabs, 1)
        details_layout.addWidget(self._copied)

        self._splitter = QSplitter(Qt.Orientation.Vertical)
        self._splitter.setObjectName("response_splitter")
        self._splitter.setAccessibleName("Results and details")
        self._splitter.addWidget(self._list)
        self._splitter.addWidget(details)
        self._splitter.setStretchFactor(1, 3)
        self._splitter.setChildrenCollapsible(False)
        saved = self._session.settings.splitter(SPLITTER_NAME)
        if saved is None or not self._splitter.restoreState(saved):
            row = self._list.fontMetrics().lineSpacing() + 2 * self._list.spacing()
            frame = 2 * self._list.frameWidth() + 4
            self._splitter.setSizes([row * 6 + frame, row * 18])  # a whole conversation
        self._splitter.splitterMoved.connect(self.on_splitter_moved)

        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self._summary)
        # Segment's own count of the send, once asked for (or why it was not).
        self.arrival = ArrivalBox(self._session)
        page_layout.addWidget(self.arrival)
        page_layout.addWidget(self._splitter, 1)
        return page

    def _build_meaning(self) -> QWidget:
        self._verdict = _label("meaning")
        self._verdict.setAccessibleName("What the answer means")
        self._verdict.setTextFormat(Qt.TextFormat.RichText)

        self._ids = QWidget()
        grid = QGridLayout(self._ids)
        grid.setContentsMargins(0, 0, 0, 0)
        self._visitor_id = self._id_row(grid, 0, "Test visitor:", "visitor_id", "visitor id")
        self._conversation_id = self._id_row(
            grid, 1, "Conversation:", "conversation_id", "conversation id"
        )
        grid.setColumnStretch(1, 1)

        self._debugger = _button(
            "Open the source's &Debugger", "open_debugger", "Open the source's Debugger in Segment"
        )
        self._debugger.clicked.connect(self.debugger_requested)

        meaning = QWidget()
        layout = QVBoxLayout(meaning)
        layout.addWidget(self._verdict)
        layout.addWidget(self._ids)
        layout.addWidget(self._debugger, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch()
        return _scrolling(meaning, "meaning_scroll")

    def _id_row(self, grid: QGridLayout, row: int, caption: str, name: str, what: str) -> QLineEdit:
        field = QLineEdit()
        field.setObjectName(name)
        field.setReadOnly(True)
        field.setAccessibleName(f"The test {what}")
        field.setMinimumWidth(40)
        label = QLabel(caption)
        label.setBuddy(field)
        copy = _button("Copy", f"copy_{name}", f"Copy the test {what}")
        copy.clicked.connect(lambda: self._copy_plain(field.text(), f"Copied the {what}."))
        grid.addWidget(label, row, 0)
        grid.addWidget(field, row, 1)
        grid.addWidget(copy, row, 2)
        return field

    def _build_answer(self, mono: QFont) -> QWidget:
        self._response = _text_area("answer", "Segment's answer", mono)
        self._response.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        copy = _button("C&opy the answer", "copy_answer", "Copy the answer")
        copy.clicked.connect(
            lambda: self._copy_plain(self._response.toPlainText(), "Copied the answer.")
        )
        return _with_buttons(self._response, copy)

    def _build_request(self, mono: QFont) -> QWidget:
        self._request = _text_area("request", "Request as sent", mono)
        self._curl = _button("Cop&y as cURL", "copy_curl", "Copy the request as a cURL command")
        self._curl.clicked.connect(self.on_curl_clicked)
        self._with_key = QCheckBox("with the write &key")
        self._with_key.setObjectName("curl_with_key")
        self._with_key.setAccessibleName("Include the write key in the copied command")
        self._with_key.setToolTip("Off by default: the copied command shows <write key hidden>.")
        return _with_buttons(self._request, self._curl, self._with_key)

    def sizeHint(self) -> QSize:
        # Wrapping labels would ask for their one-word-per-line height: ask for a usual pane.
        return QSize(380, 480)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # The verdict's words scroll rather than squeeze the results out of a small window.
        self.arrival.set_height_cap(event.size().height() * 2 // 7)

    # --- what others read -------------------------------------------------------------------

    def results(self) -> list[SendResult]:
        return list(self._record.results[: self._rows]) if self._record else []

    def current(self) -> SendResult | None:
        row = self._list.currentRow()
        results = self.results()
        return results[row] if 0 <= row < len(results) else None

    # --- slots ------------------------------------------------------------------------------

    @Slot()
    def on_session_changed(self) -> None:
        sandbox = self._session.use_sandbox
        self._pages.setTabVisible(1, sandbox)
        self._pages.tabBar().setVisible(sandbox)
        if not sandbox:
            self._pages.setCurrentIndex(0)
        record = self._session.last_send
        if record is not self._record:
            self._record, self._rows = record, 0
            self._list.clear()
        if record is None or not record.results:
            self._show_intro(record)
            return
        self._stack.setCurrentIndex(1)
        self._summary.setText(self._summary_text(record))
        if len(record.results) > self._rows:
            self._append(record.results[self._rows :])

    @Slot(int)
    def on_list_current_row_changed(self, row: int) -> None:
        self._show(self.current())

    @Slot(int, int)
    def on_splitter_moved(self, pos: int, index: int) -> None:
        self._session.settings.set_splitter(SPLITTER_NAME, self._splitter.saveState())

    @Slot()
    def on_curl_clicked(self) -> None:
        result = self.current()
        if result is None or result.request is None:
            return
        key = None
        if self._with_key.isChecked():
            # Read only now, and never the made-up sandbox key for a real send's command.
            key = None if self._session.use_sandbox else self._session.write_key()
            if key is None:
                self._say("Not copied: no write key is held now.")
                return
            if not RevealKeyDialog.ask(self):
                self._say("Not copied.")
                return
        request = result.request
        if key:
            # as_curl adds "Authorization" beside the redacted lower-case header httpx sent.
            headers = {n: v for n, v in request.headers.items() if n.lower() != "authorization"}
            request = replace(request, headers=headers)
        command = request.as_curl(write_key=key)
        if key:
            self._secret_clipboard.copy(command)
            self._say(
                "Copied, with the write key. The clipboard is cleared again in "
                f"{self._secret_clipboard.seconds} seconds if it still holds it."
            )
        else:
            QGuiApplication.clipboard().setText(command)
            self._say("Copied; the write key shows as <write key hidden>.")

    # --- rendering --------------------------------------------------------------------------

    def _show_intro(self, record: SendRecord | None) -> None:
        self._stack.setCurrentIndex(0)
        sandbox = record.sandbox if record is not None else self._session.use_sandbox
        html = _intro_html(record, sandbox)
        if html != self._intro_html:  # changed() comes often; setText lays the label out again
            self._intro_html = html
            self._intro.setText(html)

    def _summary_text(self, record: SendRecord) -> str:
        if record.ended:
            return record.summary
        done = len(record.results)
        return f"Sending\u2026 {done} of {record.total} answered so far."

    def _append(self, new: list[SendResult]) -> None:
        follow = self._list.currentRow() in (-1, self._list.count() - 1)
        for result in new:
            item = QListWidgetItem(row_text(result))
            item.setToolTip(f"{result.event}: {result.message}")
            self._list.addItem(item)
        self._rows += len(new)
        if follow:
            self._list.setCurrentRow(self._list.count() - 1)

    def _show(self, result: SendResult | None) -> None:
        record = self._record
        sandbox = record is not None and record.sandbox
        has_request = result is not None and result.request is not None
        self._curl.setVisible(not sandbox)
        self._with_key.setVisible(not sandbox)
        self._curl.setEnabled(has_request)
        self._with_key.setEnabled(has_request)
        self._say("")
        if result is None or record is None:
            self._headline.clear()
            for area in (self._request, self._response, self._timing):
                area.clear()
            self._verdict.clear()
            self._ids.hide()
            self._debugger.hide()
            return
        self._headline.setText(headline(result, sandbox))
        self._verdict.setText(_meaning_html(result, sandbox))
        self._ids.setVisible(result.ok)
        self._visitor_id.setText(record.visitor_id)
        self._visitor_id.setCursorPosition(0)
        self._conversation_id.setText(record.conversation_id)
        self._conversation_id.setCursorPosition(0)
        self._debugger.setVisible(result.ok and not sandbox)
        self._request.setPlainText(_request_text(result))
        self._response.setPlainText(_response_text(result))
        self._timing.setPlainText(_timing_text(result))

    def _copy_plain(self, text: str, said: str) -> None:
        """Ids and answers are not secrets: the plain clipboard."""
        QGuiApplication.clipboard().setText(text)
        self._say(said)

    def _say(self, text: str) -> None:
        self._copied.setText(text)
        self._copied.setVisible(bool(text))


def _scrolling(content: QWidget, name: str) -> QScrollArea:
    """Text that wraps to the width and scrolls only when the pane is too short for it."""
    scroll = QScrollArea()
    scroll.setObjectName(name)
    scroll.setWidget(content)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not an empty Tab stop
    scroll.setMinimumSize(1, 1)
    return scroll


def _text_area(name: str, accessible: str, font: QFont) -> QPlainTextEdit:
    area = QPlainTextEdit()
    area.setObjectName(name)
    area.setReadOnly(True)
    area.setFont(font)
    area.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    area.setAccessibleName(accessible)
    area.setMinimumSize(1, 1)
    return area


def _with_buttons(area: QWidget, *controls: QWidget) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.addWidget(area, 1)
    row = QHBoxLayout()
    for control in controls:
        control.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        row.addWidget(control)
    row.addStretch()
    layout.addLayout(row)
    return page


def _intro_html(record: SendRecord | None, sandbox: bool) -> str:
    """Before the first answer: what will happen, or what the send that got none said."""
    if record is not None and record.ended:
        said = escape(record.summary or "Nothing was sent.")
        first = f"<p><b>{said}</b> Press a send button on the left to try again.</p>"
    elif record is not None:
        first = "<p><b>Sending\u2026</b> Each event's answer appears here as it arrives.</p>"
    else:
        first = (
            "<p><b>Nothing sent yet.</b> Press one of the send buttons on the left: one event, "
            "or a whole conversation. Each event's answer appears here as it arrives: whether "
            "it arrived, what was sent (the write key hidden), what came back, and how long it "
            "took.</p>"
        )
    if sandbox:
        rest = (
            "<p>The events go to the built-in sandbox on this computer, not to Segment. It "
            "answers as Segment would, so you see exactly what would be sent and that the "
            "events are well formed.</p>"
        )
    else:
        rest = (
            "<p>An answer of 200 means the event reached Segment in good shape. It does not "
            "prove that the write key is right: Segment answers 200 even to an unknown key. "
            "The source's Debugger in Segment shows whether the events really arrived; the "
            "ids to search for appear here after a send.</p>"
        )
    return first + rest


def _meaning_html(result: SendResult, sandbox: bool) -> str:
    """What happened and what to do next; on a success what it proves and where to look."""
    if not result.ok:
        kind = result.error_kind
        advice = next_step(kind) if kind is not None else ""
        where = ""
        if result.request is not None:
            where = f"<p>It was sent to <b>{escape(result.endpoint)}</b>.</p>"
        return (
            f"<p><b>What happened</b></p><p>{escape(result.message)}</p>{where}"
            f"<p><b>What to do next</b></p><p>{escape(advice)}</p>"
        )
    if sandbox:
        return (
            "<p>This went to the built-in sandbox on this computer, not to Segment. It shows "
            "exactly what would be sent, and that the event is well formed. It proves nothing "
            "about a Segment source or write key.</p><p>The event carries these ids:</p>"
        )
    if not is_segment(result.endpoint):
        return (
            f"<p>It was received by <b>{escape(result.endpoint)}</b>, not by Segment itself. "
            "If that address passes events on to Segment, search for the test visitor or the "
            "conversation below in the source's Debugger.</p>"
        )
    return (
        f"<p>{escape(WHAT_200_PROVES)}</p><p>In the source's Debugger, search for the test "
        "visitor or the conversation below. It can take a minute to appear, and the Debugger "
        "shows a sample, not every event.</p>"
    )


def _request_text(result: SendResult) -> str:
    if result.request is None:
        return "Nothing was sent.\n\n" + json.dumps(result.payload, indent=2)
    request = result.request
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return "\n".join(lines) + "\n\n" + pretty_json(request.body)


def _response_text(result: SendResult) -> str:
    if result.status is None:
        text = f"No answer.\n\n{result.message}"
    else:
        lines = [f"HTTP {result.status}"]
        lines += [f"{name}: {value}" for name, value in result.response_headers.items()]
        text = "\n".join(lines) + "\n\n" + pretty_json(result.body)
        if result.body_truncated:
            text += "\n\n(Only the beginning of the answer was read.)"
    errors = [f"Try {a.number}: {a.error}" for a in result.attempts if a.error]
    if errors:
        text += "\n\nTechnical details:\n" + "\n".join(errors)
    return text


def _timing_text(result: SendResult) -> str:
    tries = len(result.attempts)
    if not tries:
        return "Nothing was sent."
    over = f" over {tries} tries" if tries > 1 else ""
    lines = [f"Took {seconds_text(result.elapsed_ms)} in all{over}."]
    if result.batched_with > 1:
        lines.append(f"Sent in one batch request with {result.batched_with} events.")
    lines.append("")
    for attempt in result.attempts:
        last = attempt.number == result.attempts[-1].number
        waited = (
            f", after waiting {seconds_text(attempt.waited_before_s * 1000)}"
            if attempt.waited_before_s
            else ""
        )
        words = _attempt_words(attempt, result, last)
        lines.append(f"Try {attempt.number}{waited}: {words} ({seconds_text(attempt.elapsed_ms)})")
    return "\n".join(lines)
