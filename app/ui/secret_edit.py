"""A line edit for a secret that carries its own Show and Paste actions (as Vorta's
PasswordLineEdit carries its eye), so every place that takes a key behaves the same."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import QLineEdit, QWidget

# resources/icons/ui beside the app package (also in the frozen build: see the spec).
ICON_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "resources",
    "icons",
    "ui",
)


def ui_icon(theme_name: str, file_name: str) -> QIcon:
    """The desktop theme's icon where there is one, else the app's own."""
    return QIcon.fromTheme(theme_name, QIcon(os.path.join(ICON_DIR, file_name)))


class SecretLineEdit(QLineEdit):
    """Masked by default; Show/Hide and Paste sit inside the field (and on Ctrl+Shift+H).

    Hidden again whenever `hide_secret()` is called (pages call it when the user moves on).
    Signals: paste_failed(str) — the clipboard held no text; the sentence says what to do.
    """

    paste_failed = Signal(str)

    def __init__(self, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._what = what
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.setInputMethodHints(
            Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
            | Qt.InputMethodHint.ImhNoAutoUppercase
        )
        self.show_action = QAction(self)
        self.show_action.setCheckable(True)
        self.show_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
        self.show_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.show_action.toggled.connect(self.on_show_action_toggled)
        self.paste_action = QAction(
            ui_icon("edit-paste", "paste.svg"), f"Paste the {what} from the clipboard", self
        )
        self.paste_action.triggered.connect(self.on_paste_action_triggered)
        self.addAction(self.paste_action, QLineEdit.ActionPosition.TrailingPosition)
        self.addAction(self.show_action, QLineEdit.ActionPosition.TrailingPosition)
        self.on_show_action_toggled(False)

    def name_buttons(self, show: str, paste: str) -> None:
        """Object names for the buttons Qt makes for the two actions (for tests and tools)."""
        for action, name in ((self.show_action, show), (self.paste_action, paste)):
            for widget in action.associatedObjects():
                if isinstance(widget, QWidget) and widget is not self:
                    widget.setObjectName(name)

    @property
    def shown(self) -> bool:
        return self.show_action.isChecked()

    def hide_secret(self) -> None:
        self.show_action.setChecked(False)

    @Slot(bool)
    def on_show_action_toggled(self, shown: bool) -> None:
        self.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        icon = ui_icon("view-conceal", "hide.svg") if shown else ui_icon("view-reveal", "show.svg")
        self.show_action.setIcon(icon)
        verb = "Hide" if shown else "Show"
        self.show_action.setText(f"{verb} the {self._what}")
        self.show_action.setToolTip(f"{verb} the {self._what} (Ctrl+Shift+H)")

    @Slot()
    def on_paste_action_triggered(self) -> None:
        text = QGuiApplication.clipboard().text().strip()
        if not text:
            self.paste_failed.emit(
                f"The clipboard holds no text. Copy the {self._what} in Segment first."
            )
            return
        self.setText(text)
        self.setFocus()
