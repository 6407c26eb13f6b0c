"""Segment's step 4: the source's write key, saved to the keyring or held for this session."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.segment.public_api.hosts import answerer
from app.ui.api_task import ApiTask, failure_sentence
from app.ui.browser import LinkButton
from app.ui.draft import HeldKey, SetupDraft
from app.ui.key_entry import KeyEntry
from app.ui.page_kit import Kind, Notice, Page, api_session, text_label
from app.ui.pages.welcome import token_row
from app.ui.session import Session

if TYPE_CHECKING:
    from app.proof.cdn import CdnCheck
    from app.proof.key_owner import KeyOwner
    from app.segment.cancel import CancelToken


class CdnLookupDialog:
    """Asks before the unofficial CDN check, which puts the key in a web address."""

    @classmethod
    def ask(cls, parent: QWidget) -> bool:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Ask Segment's CDN about the key?",
            "The app can ask Segment's content delivery network (cdn.segment.com) whether it "
            "has settings for this write key.",
            QMessageBox.StandardButton.NoButton,
            parent,
        )
        box.setInformativeText(
            "This check is unofficial: Segment does not document it, and a “could not "
            "confirm” does not mean the key is wrong. The key travels in the web address, "
            "over an encrypted connection, to Segment's own CDN."
        )
        ask = box.addButton("&Ask the CDN", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("&Don't ask", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(ask)
        box.exec()
        return box.clickedButton() is ask


class WriteKeyPage(Page):
    """The key goes into the draft when saved or held; "Save to keyring" acts at once.

    As soon as a key and a Public API token are both known, the page asks Segment which
    source the key belongs to; without a token it offers the unofficial CDN check (asking
    first).
    """

    help_topic = "write_key"

    def __init__(self, session: Session, draft: SetupDraft, trial: Session) -> None:
        super().__init__(
            draft,
            "Keep the source's write key",
            "Copy the write key from the new source in Segment and keep it here; it never "
            "goes into a settings file.",
        )
        self._keys = LinkButton(
            "Open the source's &API keys page",
            lambda: self._source_url("settings/keys"),
            "Open the source's API keys page in Segment",
            "open_keys",
        )
        keys_help = text_label(
            "In Segment the key is under the source's Settings → API Keys (older workspaces "
            "show it on the source's Overview page)."
        )
        self._entry = KeyEntry(session, lambda: draft.source_name.strip() or "Chatlio")
        self._sandbox = QCheckBox("&Try it without a Segment account (built-in sandbox)")
        self._sandbox.setObjectName("sandbox")
        self._sandbox.setAccessibleName("Try it without a Segment account, in the sandbox")
        sandbox_help = text_label(
            "Test events then go to a Segment-like receiver on this computer and nothing "
            "reaches Segment, so the write key is optional."
        )
        sandbox_help.setIndent(24)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        self.body.addWidget(self._keys)
        self.body.addWidget(keys_help)
        self.body.addSpacing(8)
        self.body.addWidget(self._entry)
        self.body.addSpacing(8)
        self.body.addWidget(self._build_check(trial))
        self.body.addSpacing(8)
        self.body.addWidget(line)
        self.body.addWidget(self._sandbox)
        self.body.addWidget(sandbox_help)
        self.body.addStretch(1)

        self._entry.held.connect(self.on_entry_held)
        self._entry.changed.connect(self.on_entry_changed)
        self._sandbox.toggled.connect(self.on_sandbox_toggled)

    def _build_check(self, trial: Session) -> QWidget:
        """ "Whose key is it?": the Public API's answer, or the offer of the CDN check."""
        self._trial = trial
        self._checked_key: str | None = None  # the key last asked about
        self._asked_for: str | None = None  # the key the running check (owner or CDN) is about
        self._shown_for: str | None = None  # the key the notice below describes
        group = QGroupBox("Whose key is it?")
        group.setObjectName("owner_group")
        self._owner_task = ApiTask("owner_task")
        self._owner_task.running_changed.connect(self.on_owner_task_running_changed)
        self._owner = Notice()
        self._owner.setObjectName("owner_notice")
        self._owner_hint = text_label("")
        self._owner_hint.setObjectName("owner_hint")
        self._token_box, self._use_token = token_row(
            self,
            "With a Segment Public API token (Team and Business plans) the app tells you which "
            "source this key belongs to, and whether it is a Chatlio source.",
            "use_token_key",
            "Use a Public API to&ken…",
        )
        self._cdn = QPushButton("Ask Segment's &CDN about this key…")
        self._cdn.setObjectName("cdn_lookup")
        self._cdn.setAccessibleName("Ask Segment's CDN whether it knows this key (asks first)")
        self._cdn.setAutoDefault(False)
        self._cdn_text = text_label(
            "Without a token: an unofficial check asks Segment's content delivery network "
            "whether it knows the key."
        )
        self._cdn_box = QWidget()
        cdn_layout = QVBoxLayout(self._cdn_box)
        cdn_layout.setContentsMargins(0, 0, 0, 0)
        cdn_layout.addWidget(self._cdn_text)
        cdn_row = QHBoxLayout()
        cdn_row.addWidget(self._cdn)
        cdn_row.addStretch(1)
        cdn_layout.addLayout(cdn_row)
        box = QVBoxLayout(group)
        box.addWidget(self._owner_hint)
        box.addWidget(self._owner_task)
        box.addWidget(self._owner)
        box.addWidget(self._token_box)
        box.addWidget(self._cdn_box)
        self._use_token.clicked.connect(self.on_use_token_clicked)
        self._cdn.clicked.connect(self.on_cdn_clicked)
        return group

    def _api(self) -> Session:
        return api_session(self._trial, self._draft)

    def _refresh_check(self) -> None:
        """What the group offers now; starts the key check when key and token are known."""
        draft, api = self._draft, self._api()
        key, held = draft.key_in_use(), api.has_token
        busy = self._owner_task.is_running()
        self._token_box.setVisible(not held)
        self._cdn_box.setVisible(not held and key is not None)
        self._cdn.setEnabled(not busy)
        self._owner_hint.setVisible(key is None)
        self._owner_hint.setText(
            "Once the key is saved or in use, the app "
            + ("asks Segment which source it belongs to." if held else "can check it.")
        )
        if self._shown_for != key:  # the notice, or the check running, is about another key
            self._owner.clear()
            self._shown_for = None
            if busy and self._asked_for != key:
                self._owner_task.cancel()
                busy = False
        if key is None:
            return
        owner = draft.owner_of_key()
        if owner is not None:
            self._show_owner(key, owner)
        elif held and not busy and self._checked_key != key:
            self._start_owner_check(key)

    def initializePage(self) -> None:
        self._entry.set_held(self._draft.key)
        self._sandbox.blockSignals(True)
        self._sandbox.setChecked(self._draft.sandbox)
        self._sandbox.blockSignals(False)
        self._entry.set_optional(self._draft.sandbox)
        self._checked_key = None
        self._refresh_check()

    def cleanupPage(self) -> None:
        self._owner_task.cancel()
        self._entry.edit.hide_secret()  # Back hides the key again

    def isComplete(self) -> bool:
        if self._entry.is_saving():
            return False
        return self._draft.sandbox or self._entry.current() is not None

    # --- whose key ---------------------------------------------------------------------------

    def _start_owner_check(self, key: str) -> None:
        api = self._api()
        api.proxy  # noqa: B018 - read the settings here, on the GUI thread
        self._checked_key = self._asked_for = key
        self._owner.clear()

        def work(cancel: CancelToken) -> KeyOwner:
            from app.proof.key_owner import find_key_owner

            with api.api_client(cancel) as client:
                return find_key_owner(client, key)

        self._owner_task.start(
            f"Asking {answerer(api.use_sandbox)} which source this key belongs to…",
            work,
            lambda owner: self._on_owner_found(key, owner),
            lambda error: self._say_about(key, Kind.WARNING, _owner_failure(error)),
            lambda: self._say_about(key, Kind.INFO, "Cancelled: the key was not checked."),
        )

    def _on_owner_found(self, key: str, owner: KeyOwner) -> None:
        self._draft.key_owner = (key, owner)
        if not self._draft.sandbox and self._trial.write_key() == key:  # already sending
            self._trial.key_owner = owner
        self._show_owner(key, owner)  # shown only if not replaced while Segment was asked

    def _show_owner(self, key: str, owner: KeyOwner) -> None:
        if owner.is_chatlio:
            kind = Kind.OK
        elif owner.source is not None or owner.keys_visible:
            kind = Kind.WARNING
        else:
            kind = Kind.INFO
        self._say_about(key, kind, owner.describe())

    def _say_about(self, key: str, kind: Kind, text: str) -> None:
        """A notice about `key`, unless another key is in use by now."""
        if key == self._draft.key_in_use():
            self._owner.show_message(kind, text)
            self._shown_for = key

    @Slot(bool)
    def on_owner_task_running_changed(self, _running: bool) -> None:
        self._refresh_check()

    @Slot()
    def on_use_token_clicked(self) -> None:
        from app.ui.token_entry import TokenDialog

        dialog = TokenDialog.open_for(self._api(), self)
        dialog.entry.taken.connect(self.on_token_taken)

    @Slot(object)
    def on_token_taken(self, _check: object) -> None:
        self._checked_key = None
        self._refresh_check()

    @Slot()
    def on_cdn_clicked(self) -> None:
        key = self._draft.key_in_use()
        if key is None or self._owner_task.is_running() or not CdnLookupDialog.ask(self):
            return
        api = self._api()
        proxy = api.proxy

        def work(cancel: CancelToken) -> CdnCheck:
            from app.proof.cdn import cdn_lookup

            return cdn_lookup(key, base_url=api.cdn_url(), proxy=proxy, cancel=cancel)

        self._asked_for = key
        self._owner_task.start(
            "Asking Segment's CDN about the key…",
            work,
            lambda check: self._on_cdn_answered(key, check),
            lambda error: self._say_about(key, Kind.INFO, failure_sentence(error)),
            focus_after=self._cdn,
        )

    def _on_cdn_answered(self, key: str, check: CdnCheck) -> None:
        from app.proof.cdn import CdnAnswer

        self._say_about(
            key, Kind.OK if check.answer is CdnAnswer.KNOWN else Kind.INFO, check.sentence
        )

    def validatePage(self) -> bool:
        self._entry.edit.hide_secret()
        return self.isComplete()

    def first_focus(self) -> QWidget | None:
        return self._entry.edit if not self.isComplete() else None

    @Slot(object)
    def on_entry_held(self, held: HeldKey) -> None:
        self._draft.key = held
        self.on_entry_changed()
        self._refresh_check()

    @Slot()
    def on_entry_changed(self) -> None:
        self._draft.typed_key = self._entry.has_unused_text()
        self.completeChanged.emit()

    @Slot(bool)
    def on_sandbox_toggled(self, on: bool) -> None:
        self._draft.sandbox = on
        self._entry.set_optional(on)
        self._owner_task.cancel()
        self._refresh_check()
        self.completeChanged.emit()


def _owner_failure(error: BaseException) -> str:
    return (
        f"{failure_sentence(error)} The key is kept all the same; the test events show "
        "whether it works."
    )
