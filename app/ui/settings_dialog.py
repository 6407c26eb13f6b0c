"""Settings: where test events go (the Tracking API address), through which proxy, how long."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.segment.endpoint import US_HOST, EndpointError, Region, parse_endpoint
from app.segment.proxy import ProxyError, ProxyMode, parse_proxy
from app.sending import DEFAULT_DEADLINE, MAX_DEADLINE
from app.ui.page_kit import Kind, Notice, text_label
from app.ui.session import Session

MIN_DEADLINE = 5

COMMAND_LINE = (
    "This run sends to the address given on the command line (--endpoint). It is used only "
    "until the app closes and is not saved; to change it, start the app without it."
)
BAD_STORED_ENDPOINT = (
    "The address saved earlier could not be used, so Segment's usual address is shown. Type "
    "another one, or press OK to keep Segment's."
)


class SettingsDialog(QDialog):
    """The network settings; OK saves them to the settings file and reloads them into the
    session (which emits `changed`), Cancel leaves everything as it was."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.setObjectName("settings_dialog")
        self.setWindowTitle("Settings")

        self._endpoint = QLineEdit()
        self._endpoint.setObjectName("endpoint")
        self._endpoint.setAccessibleName("Tracking API address")
        self._endpoint.setPlaceholderText(US_HOST)
        self._endpoint.setClearButtonEnabled(True)
        endpoint_label = QLabel("Tracking API &address:")
        endpoint_label.setBuddy(self._endpoint)
        self._endpoint_notice = Notice()
        self._endpoint_notice.setObjectName("endpoint_notice")
        endpoint_hint = text_label(
            "Where test events are sent. Leave it empty for Segment's usual address; change it "
            "only if your company sends Segment's events through a server of its own."
        )
        endpoint_hint.setObjectName("endpoint_hint")
        self._command_line = text_label(COMMAND_LINE)
        self._command_line.setObjectName("endpoint_from_command_line")
        self._command_line.setVisible(False)

        proxy_box = QGroupBox("Proxy")
        self._proxy_system = self._radio(
            "Use this computer's &proxy settings (HTTPS_PROXY, or the system's)",
            "proxy_system",
            "Use this computer's proxy settings",
        )
        self._proxy_none = self._radio("&No proxy", "proxy_none", "No proxy")
        self._proxy_manual = self._radio("T&his proxy:", "proxy_manual", "This proxy")
        self._proxy_group = QButtonGroup(self)
        for button in (self._proxy_system, self._proxy_none, self._proxy_manual):
            self._proxy_group.addButton(button)
        self._proxy_url = QLineEdit()
        self._proxy_url.setObjectName("proxy_url")
        self._proxy_url.setAccessibleName("Proxy address")
        self._proxy_url.setPlaceholderText("proxy.example.com:3128")
        self._proxy_notice = Notice()
        self._proxy_notice.setObjectName("proxy_notice")
        proxy_layout = QGridLayout(proxy_box)
        proxy_layout.addWidget(self._proxy_system, 0, 0, 1, 2)
        proxy_layout.addWidget(self._proxy_none, 1, 0, 1, 2)
        proxy_layout.addWidget(self._proxy_manual, 2, 0)
        proxy_layout.addWidget(self._proxy_url, 2, 1)
        proxy_layout.addWidget(self._proxy_notice, 3, 1)
        proxy_layout.setColumnStretch(1, 1)

        self._timeout = QSpinBox()
        self._timeout.setObjectName("send_timeout")
        self._timeout.setAccessibleName("Time limit for a whole send, in seconds")
        self._timeout.setRange(MIN_DEADLINE, int(MAX_DEADLINE))
        self._timeout.setSuffix(" s")
        timeout_label = QLabel("Time &limit for a whole send:")
        timeout_label.setBuddy(self._timeout)
        timeout_hint = text_label(
            "Every event, every try and every wait between tries counts; after this long the "
            "send stops."
        )

        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        for which, text, name, accessible in (
            (QDialogButtonBox.StandardButton.Ok, "&OK", "settings_ok", "Save the settings"),
            (QDialogButtonBox.StandardButton.Cancel, "&Cancel", "settings_cancel", "Cancel"),
            (
                QDialogButtonBox.StandardButton.RestoreDefaults,
                "&Restore Defaults",
                "settings_defaults",
                "Restore the default settings",
            ),
        ):
            push = self._buttons.button(which)
            push.setText(text)
            push.setObjectName(name)
            push.setAccessibleName(accessible)
        self._ok = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setDefault(True)
        defaults = self._buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        defaults.setAutoDefault(False)
        self._buttons.accepted.connect(self.on_buttons_accepted)
        self._buttons.rejected.connect(self.reject)
        self._buttons.clicked.connect(self.on_buttons_clicked)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(endpoint_label)
        layout.addWidget(self._endpoint)
        layout.addWidget(self._endpoint_notice)
        layout.addWidget(self._command_line)
        layout.addWidget(endpoint_hint)
        layout.addSpacing(6)
        layout.addWidget(proxy_box)
        layout.addSpacing(6)
        timeout_row = QGridLayout()
        timeout_row.addWidget(timeout_label, 0, 0)
        timeout_row.addWidget(self._timeout, 0, 1)
        timeout_row.setColumnStretch(2, 1)
        layout.addLayout(timeout_row)
        layout.addWidget(timeout_hint)
        layout.addStretch(1)
        # In a small window (or with long sentences under the fields) the fields scroll; the
        # buttons stay in sight.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(content)
        outer = self._outer = QVBoxLayout(self)
        outer.addWidget(scroll, 1)
        outer.addWidget(self._buttons)
        self._content = content

        self._endpoint.textChanged.connect(self.on_field_changed)
        self._proxy_url.textChanged.connect(self.on_field_changed)
        self._proxy_group.buttonToggled.connect(self.on_proxy_toggled)
        self._load()
        margins = outer.contentsMargins()
        self.setMinimumSize(
            content.minimumSizeHint().width()
            + scroll.verticalScrollBar().sizeHint().width()
            + margins.left()
            + margins.right(),
            max(240, self._buttons.sizeHint().height() * 5),
        )

    def sizeHint(self) -> QSize:
        """Room for every field and one sentence under each, without scrolling."""
        margins = self._outer.contentsMargins()
        width = max(self._content.sizeHint().width(), 520)
        height = self._content.heightForWidth(width) + self._buttons.sizeHint().height()
        extra = self.fontMetrics().lineSpacing() * 4
        return QSize(
            width + margins.left() + margins.right(),
            height + margins.top() + margins.bottom() + self._outer.spacing() + extra,
        )

    def _radio(self, text: str, name: str, accessible: str) -> QRadioButton:
        button = QRadioButton(text)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        return button

    # --- reading and writing the settings -----------------------------------------------------

    def _load(self) -> None:
        """The saved values; anything this version cannot read shows as its default."""
        session, settings = self._session, self._session.settings
        if session.endpoint_from_command_line:
            endpoint = session.custom_endpoint
            self._endpoint.setText(endpoint.base_url if endpoint is not None else US_HOST)
            self._endpoint.setReadOnly(True)
            self._endpoint.setClearButtonEnabled(False)
            self._command_line.setVisible(True)
        else:
            self._endpoint.setText(_shown_endpoint(settings.endpoint) or "")
        try:
            mode = ProxyMode(settings.proxy_mode)
        except ValueError:
            mode = ProxyMode.SYSTEM
        try:
            url = parse_proxy(settings.proxy_url) if settings.proxy_url else ""
        except ProxyError:
            url = ""
        if mode is ProxyMode.MANUAL and not url:
            mode = ProxyMode.SYSTEM  # as the session reads it
        self._proxy_url.setText(url)
        self._radio_for(mode).setChecked(True)
        self._timeout.setValue(round(min(settings.send_timeout, MAX_DEADLINE)))
        self._check()
        if not session.endpoint_from_command_line and _shown_endpoint(settings.endpoint) is None:
            self._endpoint_notice.show_message(Kind.INFO, BAD_STORED_ENDPOINT)

    def _radio_for(self, mode: ProxyMode) -> QRadioButton:
        return {
            ProxyMode.SYSTEM: self._proxy_system,
            ProxyMode.NONE: self._proxy_none,
            ProxyMode.MANUAL: self._proxy_manual,
        }[mode]

    def _mode(self) -> ProxyMode:
        if self._proxy_manual.isChecked():
            return ProxyMode.MANUAL
        return ProxyMode.NONE if self._proxy_none.isChecked() else ProxyMode.SYSTEM

    def _check(self) -> bool:
        """Say what is wrong under each field; OK is available only when nothing is."""
        ok = True
        if not self._session.endpoint_from_command_line:
            try:
                endpoint = parse_endpoint(self._endpoint.text())
            except EndpointError as error:
                self._endpoint_notice.show_message(Kind.ERROR, str(error))
                ok = False
            else:
                if endpoint.warning:
                    self._endpoint_notice.show_message(Kind.WARNING, endpoint.warning)
                else:
                    self._endpoint_notice.clear()
        manual = self._mode() is ProxyMode.MANUAL
        self._proxy_url.setEnabled(manual)
        self._proxy_notice.clear()
        if manual:
            try:
                parse_proxy(self._proxy_url.text())
            except ProxyError as error:
                self._proxy_notice.show_message(Kind.ERROR, str(error))
                ok = False
        self._ok.setEnabled(ok)
        return ok

    def _save(self) -> None:
        settings = self._session.settings
        if not self._session.endpoint_from_command_line:
            endpoint = parse_endpoint(self._endpoint.text())
            settings.endpoint = "" if endpoint.region is Region.US else endpoint.base_url
        mode = self._mode()
        settings.proxy_mode = mode.value
        if mode is ProxyMode.MANUAL:
            settings.proxy_url = parse_proxy(self._proxy_url.text())
        settings.send_timeout = float(self._timeout.value())
        settings.sync()
        self._session.reload_network_settings()

    # --- slots --------------------------------------------------------------------------------

    @Slot()
    def on_field_changed(self) -> None:
        self._check()

    @Slot(QAbstractButton, bool)
    def on_proxy_toggled(self, button: QAbstractButton, checked: bool) -> None:
        if checked:
            self._check()
            if button is self._proxy_manual and self._proxy_manual.hasFocus():
                self._proxy_url.setFocus()

    @Slot(QAbstractButton)
    def on_buttons_clicked(self, button: QAbstractButton) -> None:
        role = self._buttons.buttonRole(button)
        if role is QDialogButtonBox.ButtonRole.ResetRole:
            if not self._session.endpoint_from_command_line:
                self._endpoint.clear()
            self._proxy_system.setChecked(True)
            self._timeout.setValue(round(DEFAULT_DEADLINE))
            self._check()

    @Slot()
    def on_buttons_accepted(self) -> None:
        if self._check():
            self._save()
            self.accept()


def _shown_endpoint(stored: str) -> str | None:
    """A stored address as the field shows it ('' for Segment's US one); None if unreadable."""
    try:
        endpoint = parse_endpoint(stored)
    except EndpointError:
        return None
    return "" if endpoint.region is Region.US else endpoint.base_url
