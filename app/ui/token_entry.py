"""Taking a Segment Public API token: what it is for, the field, the check with Segment (which
also tells the workspace and its region), and where it is kept. Shared by the wizard's pages
and the main window's token dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.key_storage import SESSION_LOCATION
from app.segment import SANDBOX_TOKEN, links
from app.segment.endpoint import Region
from app.ui.api_task import ApiTask, failure_sentence
from app.ui.browser import LinkButton
from app.ui.page_kit import Kind, Notice, text_label
from app.ui.screen_fit import fit_to_screen
from app.ui.secret_edit import SecretLineEdit
from app.ui.session import Session

if TYPE_CHECKING:
    from app.proof.workspace import TokenCheck
    from app.segment.cancel import CancelToken

WHO_AND_WHERE = (
    "<b>Who can make one.</b> A workspace owner, in Segment under Settings → Workspace "
    "settings → Access Management → Tokens (Create Token). Workspace Owner access lets the app "
    "do everything below; a Workspace Member token needs the Source Admin role for the app to "
    "see write keys."
)
PLANS = (
    "<b>Which plans.</b> Segment offers tokens on its Team and Business plans. On the Free "
    "plan there are none, and that is fine: you confirm the setup by eye in the source's "
    "Debugger, and this app shows you where."
)
WHAT_IT_DOES = (
    "<b>What the app does with it.</b> It reads the workspace, its sources and their write "
    "keys (to tell you which source a key belongs to), creates the Chatlio source only when "
    "you press Create, and reads Segment's counts of delivered events. It never changes or "
    "deletes anything else. The token is kept in your keyring (or in memory for this session "
    "only), never in a file."
)
EXPLANATION = (
    "<p><b>Optional.</b> With a Segment Public API token the app can check the write key, "
    "create the Chatlio source for you, list its destinations and confirm that Segment "
    f"counted the test events.</p><p>{WHO_AND_WHERE}</p><p>{PLANS}</p><p>{WHAT_IT_DOES}</p>"
)
# Room for the field, its buttons and a two-line answer below the scrolling explanation; small
# enough for a 1280x800 screen at 2x scaling.
MINIMUM_SIZE = QSize(480, 380)
DEFAULT_SIZE = QSize(560, 580)
SANDBOX_EXPLANATION = (
    "You are trying it without Segment: the built-in sandbox answers like Segment's Public "
    "API, with a workspace of its own, so no token is needed."
)


def region_words(check: TokenCheck) -> str:
    """Where the workspace's API lives, as a clause: "in Segment's US region"."""
    region = check.region
    if region is Region.US:
        return "in Segment's US region"
    if region is Region.EU:
        return "in Segment's EU region"
    if region is Region.LOCAL:
        return "on this computer (the built-in sandbox or a test receiver)"
    from urllib.parse import urlsplit

    return f"at {urlsplit(check.endpoint.base_url).netloc} (the address given to this run)"


def workspace_words(check: TokenCheck) -> str:
    """'workspace “Acme” (acme)'."""
    workspace = check.workspace
    return f"workspace “{workspace.name}” ({workspace.slug})"


def way_forward(error: BaseException) -> str:
    """What to do after a failed token check, added to the failure's sentence."""
    from app.segment.public_api.errors import ApiErrorKind, PublicApiError

    kind = error.kind if isinstance(error, PublicApiError) else None
    if kind is ApiErrorKind.UNAUTHORIZED:
        return (
            "Check that you copied the whole token: Segment shows it only once, when it is "
            "made. If it was removed, a workspace owner can make a new one on the Tokens page."
        )
    if kind is ApiErrorKind.UNREACHABLE:
        return (
            "Check that this computer is online. If your company uses a proxy, set it in Settings."
        )
    if kind in (ApiErrorKind.RATE_LIMITED, ApiErrorKind.SERVER):
        return "Try again in a minute."
    return ""


class TokenEntry(QWidget):
    """The token field; Check asks Segment (off the GUI thread), then the token is kept.

    Kept in the keyring ("Check and save") or in memory for this run ("for this session
    only"); with a locked or missing keyring the user is offered the session instead. In
    sandbox mode no token is asked for: "Show the sandbox's workspace" checks the sandbox's.
    Signals: taken(TokenCheck) — a token (or the sandbox's) was checked and is now held by the
    session; changed() — busy state or what is held changed.
    """

    taken = Signal(object)
    changed = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._pending: tuple[str, TokenCheck] | None = None  # checked, but not yet kept
        self.edit = SecretLineEdit("token")
        self.edit.setObjectName("api_token")
        self.edit.setAccessibleName("Segment Public API token")
        self.edit.name_buttons(show="show_token", paste="paste_token")
        self._format = Notice()
        self._format.setObjectName("token_format")
        self._check = QPushButton("Check and &save to keyring")
        self._check.setObjectName("check_token")
        self._check.setAccessibleName("Check the token with Segment and save it to the keyring")
        self._session_only = QPushButton("Check and use for this session &only")
        self._session_only.setObjectName("token_session_only")
        self._session_only.setAccessibleName(
            "Check the token with Segment and keep it in memory for this session only"
        )
        self._sandbox_check = QPushButton("Show the sandbox's &workspace")
        self._sandbox_check.setObjectName("check_sandbox_token")
        self._sandbox_check.setAccessibleName("Ask the built-in sandbox for its workspace")
        self._sandbox_note = text_label(SANDBOX_EXPLANATION)
        self._delete = QPushButton("&Delete the stored token")
        self._delete.setObjectName("delete_token")
        self._delete.setAccessibleName("Delete the Public API token from the keyring")
        for button in (self._sandbox_check, self._delete):
            button.setAutoDefault(False)
        self.task = ApiTask("token_task")
        self._status = Notice()
        self._status.setObjectName("token_status")

        self._label = QLabel("Public API &token:")
        self._label.setBuddy(self.edit)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.addWidget(self._label, 0, 0)
        grid.addWidget(self.edit, 0, 1)
        grid.addWidget(self._format, 1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self._check)
        buttons.addWidget(self._session_only)
        buttons.addWidget(self._sandbox_check)
        buttons.addStretch(1)
        delete_row = QHBoxLayout()
        delete_row.addStretch(1)
        delete_row.addWidget(self._delete)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._sandbox_note)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addLayout(delete_row)
        layout.addWidget(self.task)
        layout.addWidget(self._status)

        self.edit.textChanged.connect(self.refresh)
        self.edit.returnPressed.connect(self.on_edit_return_pressed)
        self.edit.paste_failed.connect(lambda text: self._format.show_message(Kind.ERROR, text))
        self._check.clicked.connect(self.on_check_clicked)
        self._session_only.clicked.connect(self.on_session_only_clicked)
        self._sandbox_check.clicked.connect(self.on_sandbox_check_clicked)
        self._delete.clicked.connect(self.on_delete_clicked)
        self.task.running_changed.connect(self.refresh)
        self.show_held()

    # --- state -------------------------------------------------------------------------------

    def is_busy(self) -> bool:
        return self.task.is_running()

    def _checked_text(self) -> str | None:
        from app.token_store import InvalidToken, check_token_text

        try:
            return check_token_text(self.edit.text())
        except InvalidToken:
            return None

    @Slot()
    def refresh(self) -> None:
        sandbox, busy = self._session.use_sandbox, self.task.is_running()
        for widget in (self._label, self.edit, self._format, self._check, self._session_only):
            widget.setVisible(not sandbox)
        self._sandbox_note.setVisible(sandbox)
        self._sandbox_check.setVisible(sandbox)
        self._sandbox_check.setEnabled(not busy)
        text = self._refresh_format() if not sandbox else None
        self._check.setEnabled(text is not None and not busy)
        self._session_only.setEnabled(text is not None and not busy)
        self.edit.setReadOnly(busy)
        stored = self._session.settings.token_stored
        held_here = self._session.token_location == SESSION_LOCATION and not stored
        self._delete.setText("&Forget the token" if held_here else "&Delete the stored token")
        self._delete.setAccessibleName(
            "Forget the Public API token held for this session"
            if held_here
            else "Delete the Public API token from the keyring"
        )
        self._delete.setVisible(not sandbox and (stored or held_here))
        self._delete.setEnabled(not busy)
        self.changed.emit()

    def _refresh_format(self) -> str | None:
        from app.token_store import InvalidToken, check_token_text

        if not self.edit.text().strip():
            self._format.show_message(Kind.INFO, "Paste the token Segment showed when it was made.")
            return None
        try:
            text = check_token_text(self.edit.text())
        except InvalidToken as error:
            self._format.show_message(Kind.ERROR, str(error))
            return None
        self._format.clear()
        return text

    def show_held(self) -> None:
        """The status line for what the session holds now."""
        session = self._session
        check = session.token_check
        if session.use_sandbox:
            if check is not None:
                self._status.show_message(
                    Kind.OK, f"The sandbox answers as {workspace_words(check)}."
                )
            else:
                self._status.clear()
        elif session.token_location is not None and check is not None:
            self._status.show_message(
                Kind.OK,
                f"A token is held: it opens {workspace_words(check)}, {region_words(check)}. "
                f"It is kept in {session.token_location}. Enter another to replace it.",
            )
        elif session.token_location is not None:
            self._status.show_message(
                Kind.OK,
                f"A token is held, kept in {session.token_location}. Enter another to replace it.",
            )
        else:
            self._status.clear()
        self.refresh()

    def status_text(self) -> str:
        return self._status.text()

    def status_kind(self) -> Kind | None:
        return self._status.kind

    # --- checking ----------------------------------------------------------------------------

    def _start_check(self, token: str, keep_in_keyring: bool) -> None:
        session = self._session
        session.proxy  # noqa: B018 - read the settings here, on the GUI thread
        self._pending = None
        self._session_only.setDefault(False)
        self._status.clear()

        def work(cancel: CancelToken) -> TokenCheck:
            from app.proof.workspace import check_token

            return check_token(token, session.api_hosts(), proxy=session.proxy, cancel=cancel)

        self.task.start(
            "Asking Segment about the token…",
            work,
            lambda check: self._on_checked(token, check, keep_in_keyring),
            self._on_check_failed,
            lambda: self._status.show_message(Kind.INFO, "Cancelled: the token was not kept."),
            focus_after=self.edit,
        )

    def _on_checked(self, token: str, check: TokenCheck, keep_in_keyring: bool) -> None:
        if not keep_in_keyring:
            self._take(token, SESSION_LOCATION, check)
            return
        session = self._session

        def work(_cancel: CancelToken) -> str:
            return session.token_store.save(token)

        self.task.start(
            f"Segment accepted the token ({workspace_words(check)}). Saving it to the "
            "keyring… (it may ask you to unlock it)",
            work,
            lambda location: self._on_saved(token, check, location),
            lambda error: self._on_save_failed(token, check, error),
            lambda: self._on_save_failed(token, check, None),
            focus_after=self.edit,
        )

    def _on_saved(self, token: str, check: TokenCheck, location: str) -> None:
        self._session.settings.token_stored = True
        self._take(token, location, check)

    def _on_save_failed(self, token: str, check: TokenCheck, error: BaseException | None) -> None:
        self._pending = (token, check)
        why = "Saving was cancelled." if error is None else failure_sentence(error)
        self._status.show_message(
            Kind.WARNING,
            f"Segment accepted the token: it opens {workspace_words(check)}. It could not be "
            f"saved in the keyring: {why}\n\nYou can use it for this session only: it stays in "
            "memory and is forgotten when the app closes.",
        )
        self._session_only.setText("&Use for this session only")
        self.refresh()
        self._session_only.setEnabled(True)
        self._session_only.setDefault(True)
        self._session_only.setFocus()

    def _on_check_failed(self, error: BaseException) -> None:
        sentence = failure_sentence(error)
        forward = way_forward(error)
        self._status.show_message(Kind.ERROR, f"{sentence} {forward}".strip())
        self.edit.setFocus()

    def _take(self, token: str, location: str, check: TokenCheck) -> None:
        self._pending = None
        self._session_only.setText("Check and use for this session &only")
        self._session_only.setDefault(False)
        self._session.set_token(token, location, check)
        self.edit.clear()  # held by the session now; the field need not keep it
        self.show_held()
        self.taken.emit(check)

    # --- slots -------------------------------------------------------------------------------

    @Slot()
    def on_edit_return_pressed(self) -> None:
        if self._session_only.isDefault():
            return  # after a keyring failure Enter takes "Use for this session only"
        if self._check.isEnabled():
            self.on_check_clicked()

    @Slot()
    def on_check_clicked(self) -> None:
        token = self._checked_text()
        if token is not None and not self.task.is_running():
            self._start_check(token, keep_in_keyring=True)

    @Slot()
    def on_session_only_clicked(self) -> None:
        if self.task.is_running():
            return
        token = self._checked_text()
        pending = self._pending
        if pending is not None and (token is None or token == pending[0]):
            self._take(pending[0], SESSION_LOCATION, pending[1])
        elif token is not None:
            self._start_check(token, keep_in_keyring=False)

    @Slot()
    def on_sandbox_check_clicked(self) -> None:
        session = self._session
        if self.task.is_running():
            return

        def work(cancel: CancelToken) -> TokenCheck:
            from app.proof.workspace import check_token

            return check_token(SANDBOX_TOKEN, session.api_hosts(), cancel=cancel)

        def done(check: TokenCheck) -> None:
            session.token_check = check
            self.show_held()
            self.taken.emit(check)

        self.task.start(
            "Asking the sandbox…",
            work,
            done,
            self._on_check_failed,
            focus_after=self._sandbox_check,
        )

    @Slot()
    def on_delete_clicked(self) -> None:
        session = self._session
        if self.task.is_running():
            return
        if not session.settings.token_stored and session.token_location == SESSION_LOCATION:
            session.forget_token()
            self._status.show_message(Kind.OK, "The token was forgotten.")
            self.refresh()
            return

        def work(_cancel: CancelToken) -> str:
            store = session.token_store
            store.delete()
            return store.location()

        def done(location: str) -> None:
            session.settings.token_stored = False
            session.forget_token()
            self._status.show_message(Kind.OK, f"The token was deleted from {location}.")
            self.refresh()

        self.task.start(
            "Deleting the token from the keyring…",
            work,
            done,
            self._on_delete_failed,
            focus_after=self.edit,
        )

    def _on_delete_failed(self, error: BaseException) -> None:
        self._status.show_message(
            Kind.WARNING, f"The token could not be deleted: {failure_sentence(error)}"
        )


class TokenDialog(QDialog):
    """The token's explanation, a link to Segment's Tokens page, and the entry; Close ends it.

    Used from the wizard's pages and the main window's Setup menu. Signals: those of QDialog;
    `entry.taken` says when a token is held.
    """

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.setObjectName("token_dialog")
        self.setWindowTitle("Segment Public API token")
        self.setMinimumSize(MINIMUM_SIZE)
        explanation = text_label(EXPLANATION, rich=True)
        explanation.setObjectName("token_explanation")
        check = session.token_check
        slug = check.workspace.slug if check is not None and not session.use_sandbox else None
        slug = slug or session.settings.workspace_slug or None
        tokens_page = LinkButton(
            "Open Segment's Tokens &page",
            lambda: links.access_tokens(slug),
            "Open Segment's Access Management Tokens page",
            "open_tokens",
        )
        self.entry = TokenEntry(session, self)
        self.entry.taken.connect(self.on_entry_taken)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Close | QDialogButtonBox.StandardButton.Help
        )
        buttons.rejected.connect(self.reject)
        buttons.helpRequested.connect(self.on_buttons_help_requested)
        help_button = buttons.button(QDialogButtonBox.StandardButton.Help)
        help_button.setAutoDefault(False)
        help_button.setObjectName("token_help")
        help_button.setAccessibleName("Help on the Public API token")
        self._close = buttons.button(QDialogButtonBox.StandardButton.Close)
        self._close.setAutoDefault(False)  # Enter in the field checks the token
        self._close.setObjectName("close_token_dialog")
        self._close.setAccessibleName("Close the token window")
        # The explanation scrolls, so that a small window (or 2x scaling) clips nothing.
        about = QWidget()
        about_layout = QVBoxLayout(about)
        about_layout.setContentsMargins(0, 0, 0, 0)
        about_layout.addWidget(explanation)
        about_layout.addWidget(tokens_page)
        about_layout.addStretch(1)
        tokens_page.setVisible(not session.use_sandbox)
        scroll = QScrollArea()
        scroll.setObjectName("token_about")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroll.setWidget(about)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addSpacing(6)
        layout.addWidget(self.entry)
        layout.addWidget(buttons)
        self.resize(fit_to_screen(self, DEFAULT_SIZE))
        self.entry.edit.textChanged.connect(self.on_entry_text_changed)
        self.entry.edit.setFocus()

    def reject(self) -> None:
        self.entry.task.cancel()
        self.entry.edit.hide_secret()
        super().reject()

    @Slot()
    def on_buttons_help_requested(self) -> None:
        from app.ui.help import show_help

        show_help(self, "token")

    @Slot(str)
    def on_entry_text_changed(self, _text: str) -> None:
        # Typing another token: Enter checks it again instead of closing.
        self._close.setDefault(False)

    @Slot(object)
    def on_entry_taken(self, _check: object) -> None:
        # Done: Enter now closes; the status line says what the token opened.
        self._close.setDefault(True)
        self._close.setFocus()

    @classmethod
    def open_for(cls, session: Session, parent: QWidget) -> TokenDialog:
        """Open the dialog window-modal (never a blocking exec) and return it."""
        dialog = cls(session, parent)
        dialog.open()
        return dialog
