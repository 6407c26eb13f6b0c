"""Building blocks of the wizard's pages: page ids, notices, a scrolling page with its draft."""

from __future__ import annotations

import enum

from PySide6.QtCore import QObject, QSize
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from app.segment import links
from app.ui.draft import SetupDraft
from app.ui.session import Session


class PageId(enum.IntEnum):
    """The wizard's pages, by name; their order is the wizard's PAGE_ORDER, not these values."""

    WELCOME = enum.auto()
    SOURCE = enum.auto()
    WRITE_KEY = enum.auto()
    TEST = enum.auto()
    CHATLIO = enum.auto()
    DESTINATIONS = enum.auto()
    FINISH = enum.auto()
    EU_WORKSPACE = enum.auto()


def set_enum(target: QObject, name: str, value: str) -> None:
    """Set an enum-typed Qt property by its value's name, e.g. "AlignLeft|AlignTop".

    The first page uses this instead of PySide6.QtCore.Qt: the first touch of Qt builds every
    one of its enums (about 18 ms here), and this code runs before the window's first paint.
    """
    if not target.setProperty(name, value):
        raise ValueError(f"{type(target).__name__} has no property {name!r} accepting {value!r}")


# --- small widgets --------------------------------------------------------------------------


class Kind(enum.Enum):
    """What a Notice says: its icon and the word a screen reader puts before it."""

    # Names, not QStyle values: touching QStyle's enums at import costs start-up time.
    INFO = ("Note", "SP_MessageBoxInformation")
    OK = ("Done", "SP_DialogApplyButton")
    WARNING = ("Warning", "SP_MessageBoxWarning")
    ERROR = ("Problem", "SP_MessageBoxCritical")


class Notice(QWidget):
    """A wrapped line of text behind an icon; the icon, not a colour, says what kind it is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind: Kind | None = None
        self._icon = QLabel(self)
        self._label = text_label("")
        set_enum(self._label, "alignment", "AlignLeft|AlignTop")
        set_enum(self._label, "textInteractionFlags", "TextSelectableByMouse")
        set_enum(self._icon, "alignment", "AlignHCenter|AlignTop")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._icon)
        layout.addWidget(self._label, 1)
        self.hide()

    def show_message(self, kind: Kind, text: str) -> None:
        from PySide6.QtWidgets import QStyle  # only once there is something to say

        word, pixmap = kind.value
        extent = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        icon = self.style().standardIcon(getattr(QStyle.StandardPixmap, pixmap))
        self._icon.setPixmap(icon.pixmap(QSize(extent, extent), self.devicePixelRatioF()))
        self._icon.setFixedWidth(extent + 4)
        self._label.setText(text)
        self._label.setAccessibleName(f"{word}: {text}")
        self._kind = kind
        self.show()

    def clear(self) -> None:
        self._kind = None
        self._label.clear()
        self.hide()

    @property
    def kind(self) -> Kind | None:
        return self._kind

    def text(self) -> str:
        return self._label.text()


def api_session(trial: Session, draft: SetupDraft) -> Session:
    """The wizard's trial session in the draft's mode, for a page's Public API calls: in
    sandbox mode the sandbox answers them (with its own token), else the held token."""
    trial.use_sandbox = draft.sandbox
    return trial


def text_label(text: str, *, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    set_enum(label, "textFormat", "RichText" if rich else "PlainText")
    return label


class Page(QWizardPage):
    """A wizard page whose content scrolls, so that nothing clips in a small window.

    Pages read and write the wizard's SetupDraft only; `help_topic` names its app.ui.help topic.
    """

    help_topic = "welcome"

    def __init__(self, draft: SetupDraft, title: str, subtitle: str = "") -> None:
        super().__init__()
        self._draft = draft
        self.setTitle(title)
        if subtitle:
            self.setSubTitle(subtitle)
        content = QWidget()
        self.body = QVBoxLayout(content)
        self.body.setContentsMargins(0, 0, 0, 0)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        set_enum(self._scroll, "horizontalScrollBarPolicy", "ScrollBarAlwaysOff")
        # Focus moves through the controls; the area itself is no stop for Tab.
        set_enum(self._scroll, "focusPolicy", "NoFocus")
        self._scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._scroll)

    def _slug(self) -> str | None:
        return self._draft.workspace_slug or None

    def _source_url(self, page: links.SourcePage) -> str:
        name = self._draft.source_name.strip() or "Chatlio"
        slug = self._draft.source_slug or links.source_slug(name)
        return links.source_page(self._slug(), slug, page)

    def first_focus(self) -> QWidget | None:
        """Where focus goes when the page is shown; None: the wizard's Next/Finish button."""
        return None
