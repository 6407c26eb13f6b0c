"""What the user chose in the setup wizard, staged until Finish.

Pages write here, never to the settings or the session, so Cancel leaves everything as it was.
Only "Save to keyring" acts at once (and says so); the key it saved stays in the keyring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from app.key_storage import SESSION_LOCATION, KeyStorage
from app.segment import SANDBOX_KEY
from app.ui.session import Session

if TYPE_CHECKING:
    from app.proof.key_owner import KeyOwner

REGION_US = "us"
REGION_EU = "eu"
REGION_NAMES = {REGION_US: "United States (US)", REGION_EU: "European Union (EU)"}


# Plain classes, not dataclasses: this module is on the first page's start-up path, and
# importing dataclasses costs a few milliseconds there.


class HeldKey(NamedTuple):
    """A key taken for a source, and where it is kept."""

    source: str
    key: str
    storage: KeyStorage
    location: str

    def __repr__(self) -> str:
        return f"HeldKey(source={self.source!r}, key=<hidden>, storage={self.storage.value!r})"

    @classmethod
    def of_session(cls, session: Session) -> HeldKey | None:
        """What the session holds now, if it holds a real key."""
        key, location = session.held_key(), session.key_location
        if key is None or location is None:
            return None
        storage = KeyStorage.SESSION if location == SESSION_LOCATION else KeyStorage.KEYRING
        return cls(session.source_name, key, storage, location)


class SetupDraft:
    """The wizard's choices; `of(session)` starts one from what is set up now."""

    def __init__(self, region: str, workspace_slug: str, source_name: str, sandbox: bool) -> None:
        self.region = region  # REGION_US, REGION_EU, or "" until chosen
        self.workspace_slug = workspace_slug
        self.source_name = source_name
        self._sandbox = sandbox
        self.key: HeldKey | None = None
        self.chatlio_done: frozenset[str] = frozenset()  # the ticked Chatlio checklist steps
        self.typed_key = False  # a key is typed in the field but neither saved nor in use
        # What a Public API token told: the workspace's name, why the region was chosen, the
        # source's real slug (created or found: links then need no guess), and which source
        # a key belongs to (the key checked, and the answer).
        self.workspace_name = ""
        self.region_reason = ""
        self.source_slug = ""
        self.created_source_id = ""  # the source the app created, even if its key was hidden
        self.key_owner: tuple[str, KeyOwner] | None = None
        self._start: SetupDraft | None = None

    def __repr__(self) -> str:
        return f"SetupDraft(source_name={self.source_name!r}, sandbox={self.sandbox}, key=...)"

    @property
    def sandbox(self) -> bool:
        return self._sandbox

    @sandbox.setter
    def sandbox(self, on: bool) -> None:
        if on != self._sandbox:  # a source created in the other mode is not this mode's
            self.source_slug, self.created_source_id = "", ""
        self._sandbox = on

    @classmethod
    def of(cls, session: Session) -> SetupDraft:
        """The draft that starts from what is set up now."""
        settings = session.settings
        draft, start = (
            cls(settings.region, settings.workspace_slug, session.source_name, session.use_sandbox)
            for _ in range(2)
        )
        draft.key = start.key = HeldKey.of_session(session)
        draft._start = start
        return draft

    def key_in_use(self) -> str | None:
        """The key test events would go with: the sandbox's made-up one, or the held key."""
        if self.sandbox:
            return SANDBOX_KEY
        return self.key.key if self.key is not None else None

    def owner_of_key(self) -> KeyOwner | None:
        """Which source the key in use belongs to, if a token told."""
        known = self.key_owner
        return known[1] if known is not None and known[0] == self.key_in_use() else None

    def source_id(self) -> str | None:
        """The Segment id of the source set up: the key's owner, else the one created."""
        owner = self.owner_of_key()
        if owner is not None and owner.source is not None:
            return owner.source.id
        return self.created_source_id or None

    def unsaved(self) -> list[str]:
        """What leaving the wizard now would lose, in words; empty when nothing would."""
        start = self._start
        lost: list[str] = []
        if self.typed_key:
            lost.append("the write key you typed")
        if start is None:
            return lost
        held = self.key
        if held is not None and held != start.key and held.storage is KeyStorage.SESSION:
            lost.append("the write key kept for this session")
        if self.source_name.strip() != start.source_name or self.workspace_slug != (
            start.workspace_slug
        ):
            lost.append("the source name and workspace")
        if self.region != start.region and self.region:
            lost.append("the region you chose")
        if self.sandbox != start.sandbox:
            lost.append("the choice to try it without Segment")
        return lost

    def commit(self, session: Session) -> None:
        """Finish: the settings and the session take the draft."""
        settings = session.settings
        if self.region:
            settings.region = self.region
        settings.workspace_slug = self.workspace_slug
        if self.source_name.strip():
            settings.source_name = self.source_name.strip()
        if self.sandbox:
            settings.key_storage = KeyStorage.SANDBOX
        elif self.key is not None:
            settings.key_storage = self.key.storage
        if self.key is not None:
            session.set_key(self.key.key, self.key.location)
        session.use_sandbox = self.sandbox
        owner = self.owner_of_key()
        if owner is not None and not self.sandbox:  # a real key's source, never the sandbox's
            session.key_owner = owner
        settings.setup_complete = True
        settings.sync()
