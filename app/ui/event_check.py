"""'Check a real event': paste what Segment's Source Debugger shows, see what is wrong with it.

The checking (app.validation) runs on a worker a moment after the text stops changing, so a
large paste never holds up typing; a newer text's answer replaces an older one's.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui import browser
from app.ui.page_kit import Kind, Notice, text_label
from app.ui.session import Session
from app.ui.worker import run_in_background

CHECK_DELAY_MS = 300
# More than anyone reads in a window; the command line's `validate` lists every one.
MAX_SHOWN_PROBLEMS = 200
INTRO = (
    "Paste what Segment received from Chatlio to see whether it matches the Live Chat spec: "
    "open the Chatlio source's Debugger, pick an event, choose <b>Raw</b> and copy it. One "
    "event, several (one per line) or a whole batch."
)
PLACEHOLDER = '{\n  "type": "track",\n  "event": "Live Chat Message Sent",\n  …\n}'


@dataclass(frozen=True)
class Checked:
    """A worker's answer: for which text (its generation), the summary, the problems as HTML."""

    generation: int
    clean: bool
    nothing: bool  # no events could be read at all
    summary: str
    problems_html: str


def check(generation: int, text: str) -> Checked:
    """Check `text` (on a worker) and build what the pane shows."""
    from app.validation import check_text  # only once someone checks something

    report = check_text(text)
    # (heading or "", problems): the input's own problems first, then each event's.
    groups = [("", [p.text for p in report.problems])] if report.problems else []
    groups += [(e.label, [p.text for p in e.problems]) for e in report.events if e.problems]
    parts, shown = [], 0
    for heading, problems in groups:
        if shown >= MAX_SHOWN_PROBLEMS:
            parts.append(
                f"<p>… and more: the first {shown} problems are shown here. For every one, "
                "save the events to a file and run <tt>chatlio-segment-setup validate "
                "FILE</tt>.</p>"
            )
            break
        if heading:
            parts.append(f"<p><b>{html.escape(heading)}</b></p>")
        items = "".join(f"<li>{html.escape(text)}</li>" for text in problems)
        parts.append(f'<ul style="-qt-list-indent: 1;">{items}</ul>')
        shown += len(problems)
    return Checked(generation, report.clean, not report.events, report.summary(), "".join(parts))


class EventCheckPane(QWidget):
    """A paste box, buttons that do the work (open the Debugger, paste, clear) and the verdict."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._generation = 0
        self._shown = -1  # the generation whose answer is shown

        intro = text_label(INTRO, rich=True)
        intro.setObjectName("check_intro")
        debugger = QPushButton("Open the source's &Debugger")
        debugger.setObjectName("check_open_debugger")
        debugger.setAccessibleName("Open the Chatlio source's Debugger in Segment")
        debugger.clicked.connect(self.on_debugger_clicked)
        paste = QPushButton("&Paste")
        paste.setObjectName("check_paste")
        paste.setAccessibleName("Paste the copied events to check them")
        paste.clicked.connect(self.on_paste_clicked)
        self._clear = QPushButton("C&lear")
        self._clear.setObjectName("check_clear")
        self._clear.setAccessibleName("Clear the pasted events")
        self._clear.clicked.connect(self.on_clear_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(debugger)
        buttons.addWidget(paste)
        buttons.addWidget(self._clear)
        buttons.addStretch()

        self.editor = QPlainTextEdit()
        self.editor.setObjectName("check_events")
        self.editor.setAccessibleName("Events to check")
        self.editor.setPlaceholderText(PLACEHOLDER)
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabChangesFocus(True)
        self.editor.textChanged.connect(self.on_editor_text_changed)

        self.verdict = Notice()
        self.verdict.setObjectName("check_verdict")
        self.problems = QTextBrowser()
        self.problems.setObjectName("check_problems")
        self.problems.setAccessibleName("Problems found")
        self.problems.setOpenLinks(False)
        self.problems.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        layout.addWidget(self.editor, 2)
        layout.addWidget(self.verdict)
        layout.addWidget(self.problems, 3)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self.check_now)
        self._clear.setEnabled(False)

    def focus_editor(self) -> None:
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def checking(self) -> bool:
        """A check is waiting or running for the text shown now."""
        return self._timer.isActive() or self._shown != self._generation

    # --- checking ---------------------------------------------------------------------------

    @Slot()
    def on_editor_text_changed(self) -> None:
        self._generation += 1
        self._clear.setEnabled(not self.editor.document().isEmpty())
        self._timer.start()

    @Slot()
    def check_now(self) -> None:
        self._timer.stop()
        generation, text = self._generation, self.editor.toPlainText()
        if not text.strip():
            self._shown = generation
            self.verdict.clear()
            self.problems.hide()
            return
        self.verdict.show_message(Kind.INFO, "Checking…")
        run_in_background(
            lambda _report: check(generation, text),
            self._on_checked,
            self._on_failed,
            name="check-events",
            owner=self,
        )

    def _on_checked(self, checked: Checked) -> None:
        if checked.generation != self._generation:
            return  # the text changed meanwhile: its own check follows
        self._shown = checked.generation
        kind = Kind.OK if checked.clean else (Kind.ERROR if checked.nothing else Kind.WARNING)
        self.verdict.show_message(kind, checked.summary)
        self.problems.setHtml(checked.problems_html)
        self.problems.setVisible(bool(checked.problems_html))

    def _on_failed(self, _error: BaseException) -> None:
        self._shown = self._generation
        self.verdict.show_message(
            Kind.ERROR,
            "These events could not be checked: something unexpected went wrong. The command "
            "line's 'validate' may say more.",
        )
        self.problems.hide()

    # --- buttons ----------------------------------------------------------------------------

    @Slot()
    def on_paste_clicked(self) -> None:
        text = QGuiApplication.clipboard().text()
        if not text.strip():
            self.verdict.show_message(
                Kind.INFO,
                "There is nothing to paste: copy an event from the Source Debugger's Raw view "
                "first.",
            )
            return
        self.editor.setPlainText(text)
        self.check_now()
        self.focus_editor()

    @Slot()
    def on_clear_clicked(self) -> None:
        self.editor.clear()
        self.check_now()
        self.focus_editor()

    @Slot()
    def on_debugger_clicked(self) -> None:
        url = self._session.debugger_url()
        try:
            browser.open_url(url)
        except browser.UrlNotOpened:
            self.verdict.show_message(
                Kind.WARNING, f"Your browser did not open. Open this address in it: {url}"
            )
