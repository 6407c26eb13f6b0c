"""Shows each send's request (key redacted), Segment's answer, timing and retries, and a verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.segment.result import WHAT_200_PROVES, SendResult
from app.ui.secret_clipboard import SecretClipboard

OK_MARK, FAIL_MARK = "\u2714", "\u2716"


def pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def summary_line(result: SendResult) -> str:
    """'✔ Message Sent — HTTP 200 · 12 ms · 1 try'."""
    mark = OK_MARK if result.ok else FAIL_MARK
    status = f"HTTP {result.status}" if result.status is not None else "no answer"
    if result.error_kind is not None and result.status is None:
        status = result.error_kind.value.replace("_", " ")
    tries = len(result.attempts)
    timing = f" · {result.elapsed_ms:.0f} ms · {tries} {'try' if tries == 1 else 'tries'}"
    name = result.event.removeprefix("Live Chat ")
    return f"{mark} {name} — {status}{timing if tries else ''}"


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


class ResponseView(QWidget):
    """A list of results and the details of the selected one.

    Signals: debugger_requested() — the user wants to open the source's Debugger.
    """

    debugger_requested = Signal()

    def __init__(
        self,
        write_key: Callable[[], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._write_key = write_key
        self._results: list[SendResult] = []
        self._search_terms: tuple[str, str] = ("", "")
        self._local = False

        self._list = QListWidget()
        self._list.setAccessibleName("Sent events")
        self._list.currentRowChanged.connect(self.on_list_current_row_changed)

        self._headline = QLabel()
        self._headline.setWordWrap(True)
        self._headline.setTextFormat(Qt.TextFormat.RichText)
        self._headline.setAccessibleName("Verdict")
        self._verdict = QTextBrowser()
        self._verdict.setAccessibleName("What the answer means")
        self._verdict.setOpenLinks(False)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._request = self._text_area("Request as sent", mono)
        self._response = self._text_area("Segment's answer", mono)
        self._timing = self._text_area("Timing and retries", mono)
        self._tabs = QTabWidget()
        self._tabs.setAccessibleName("Response details")
        meaning = QWidget()
        meaning_layout = QVBoxLayout(meaning)
        meaning_layout.setContentsMargins(0, 0, 0, 0)
        meaning_layout.addWidget(self._verdict, 1)
        self._tabs.addTab(meaning, "What it &means")
        self._tabs.addTab(self._response, "&Answer")
        self._tabs.addTab(self._request, "Re&quest")
        self._tabs.addTab(self._timing, "&Timing")

        self._debugger = QPushButton("Open the source's &Debugger")
        self._debugger.setAccessibleName("Open the source's Debugger in Segment")
        self._debugger.clicked.connect(self.debugger_requested)
        meaning_layout.addWidget(self._debugger, 0, Qt.AlignmentFlag.AlignLeft)
        self._copy = QPushButton("Copy as c&URL")
        self._copy.setAccessibleName("Copy the request as a cURL command")
        self._copy.clicked.connect(self.on_copy_clicked)
        self._with_key = QCheckBox("with the write &key")
        self._with_key.setAccessibleName("Include the write key in the copied command")
        self._with_key.setToolTip("Off by default: the copied command shows <write key hidden>.")
        self._secret_clipboard = SecretClipboard(self)
        self._copied = QLabel()
        self._copied.setAccessibleName("Copy status")

        buttons = QHBoxLayout()
        buttons.addWidget(self._copy)
        buttons.addWidget(self._with_key)
        buttons.addStretch()

        details = QWidget()
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self._headline)
        details_layout.addWidget(self._tabs, 1)
        details_layout.addLayout(buttons)
        details_layout.addWidget(self._copied)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._list)
        splitter.addWidget(details)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        row = self._list.fontMetrics().height() + 4
        splitter.setSizes([row * 6 + 8, row * 20])  # room for a whole conversation's six lines
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.clear()

    @staticmethod
    def _text_area(name: str, font: QFont) -> QPlainTextEdit:
        area = QPlainTextEdit()
        area.setReadOnly(True)
        area.setFont(font)
        area.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        area.setAccessibleName(name)
        return area

    # --- feeding results --------------------------------------------------------------------

    def clear(self) -> None:
        self._results.clear()
        self._list.clear()
        self._show(None)
        self._headline.setText(
            "Send a test event and Segment's answer appears here: the request exactly as sent "
            "(the write key hidden), the status, headers, body, time and any retries."
        )

    def set_context(self, visitor_id: str, conversation_id: str, local: bool) -> None:
        """What the user should search for in the Debugger, and whether this was the sandbox."""
        self._search_terms = (visitor_id, conversation_id)
        self._local = local

    def add_result(self, result: SendResult) -> None:
        self._results.append(result)
        item = QListWidgetItem(summary_line(result))
        item.setToolTip(f"{result.event}: {result.message}")
        self._list.addItem(item)
        self._list.setCurrentRow(self._list.count() - 1)

    def results(self) -> list[SendResult]:
        return list(self._results)

    def current(self) -> SendResult | None:
        row = self._list.currentRow()
        return self._results[row] if 0 <= row < len(self._results) else None

    # --- slots ------------------------------------------------------------------------------

    @Slot(int)
    def on_list_current_row_changed(self, row: int) -> None:
        self._show(self._results[row] if 0 <= row < len(self._results) else None)

    @Slot()
    def on_copy_clicked(self) -> None:
        result = self.current()
        if result is None or result.request is None:
            return
        key = None
        if self._with_key.isChecked():
            key = self._write_key()
            if key is None or not RevealKeyDialog.ask(self):
                self._copied.setText("Not copied.")
                return
        command = result.request.as_curl(write_key=key)
        if key:
            self._secret_clipboard.copy(command)
            self._copied.setText(
                "Copied, with the write key. The clipboard is cleared again in "
                f"{self._secret_clipboard.seconds} seconds if it still holds it."
            )
        else:
            QGuiApplication.clipboard().setText(command)
            self._copied.setText("Copied; the write key shows as <write key hidden>.")

    # --- rendering --------------------------------------------------------------------------

    def _show(self, result: SendResult | None) -> None:
        has_request = result is not None and result.request is not None
        self._copy.setEnabled(has_request)
        self._with_key.setEnabled(has_request)
        self._debugger.setVisible(result is not None and result.ok and not self._local)
        self._copied.clear()
        if result is None:
            for area in (self._request, self._response, self._timing, self._verdict):
                area.clear()
            return
        self._headline.setText(
            f"<b>{OK_MARK if result.ok else FAIL_MARK} {escape(result.message)}</b>"
        )
        self._verdict.setHtml(self._verdict_html(result))
        self._request.setPlainText(self._request_text(result))
        self._response.setPlainText(self._response_text(result))
        self._timing.setPlainText(self._timing_text(result))

    def _verdict_html(self, result: SendResult) -> str:
        """The long form of the headline: what the answer proves, and where to look next."""
        if not result.ok:
            tries = f" over {len(result.attempts)} tries" if len(result.attempts) > 1 else ""
            if result.request is None:  # nothing went out: the headline says why
                return "<p>Nothing was sent. The <i>Request</i> tab shows the event as built.</p>"
            return (
                f"<p>The <i>Answer</i> tab shows exactly what came back, <i>Request</i> what was "
                f"sent{tries}, and <i>Timing</i> each try.</p>"
            )
        if self._local:
            return (
                "<p>This went to the built-in sandbox on this computer, not to Segment: it shows "
                "exactly what would be sent, and that the events are well formed.</p>"
            )
        visitor, conversation = (escape(t) for t in self._search_terms)
        return (
            f"<p>{escape(WHAT_200_PROVES)}</p><p>In the Debugger, search for <b>{visitor}</b> "
            f"(the test visitor) or <b>{conversation}</b> (the test conversation). It can take "
            "a minute to appear; the Debugger shows a sample, not every event.</p>"
        )

    @staticmethod
    def _request_text(result: SendResult) -> str:
        if result.request is None:
            return "Nothing was sent.\n\n" + json.dumps(result.payload, indent=2)
        request = result.request
        lines = [f"{request.method} {request.url}"]
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        return "\n".join(lines) + "\n\n" + pretty_json(request.body)

    @staticmethod
    def _response_text(result: SendResult) -> str:
        if result.status is None:
            return f"No answer.\n\n{result.message}"
        lines = [f"HTTP {result.status}"]
        lines += [f"{name}: {value}" for name, value in result.response_headers.items()]
        return "\n".join(lines) + "\n\n" + pretty_json(result.body)

    @staticmethod
    def _timing_text(result: SendResult) -> str:
        lines = [f"Total: {result.elapsed_ms:.0f} ms over {len(result.attempts)} tries"]
        if result.batched_with > 1:
            lines.append(f"Sent in one batch request with {result.batched_with} events")
        lines.append("")
        for attempt in result.attempts:
            outcome = f"HTTP {attempt.status}" if attempt.status is not None else attempt.error
            waited = (
                f" after waiting {attempt.waited_before_s:.1f} s" if attempt.waited_before_s else ""
            )
            lines.append(f"Try {attempt.number}{waited}: {outcome}, {attempt.elapsed_ms:.0f} ms")
        if not result.attempts:
            lines.append("Nothing was sent.")
        return "\n".join(lines)
