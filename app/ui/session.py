"""What this run of the app knows, announced to every view: the source, the write key (in memory
only), where events go and how, whether a send is running, and the last send's results."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.key_storage import KeyStorage
from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
from app.ui.settings import AppSettings

if TYPE_CHECKING:
    from datetime import datetime

    from app.history.records import SendDetail
    from app.history.store import HistoryStore
    from app.keystore import WriteKeyStore
    from app.proof.arrival import Confirmation
    from app.proof.key_owner import KeyOwner
    from app.proof.workspace import TokenCheck
    from app.segment.cancel import CancelToken
    from app.segment.endpoint import Endpoint
    from app.segment.proxy import ProxyChoice
    from app.segment.public_api.client import PublicApiClient
    from app.segment.public_api.hosts import ApiEndpoint
    from app.segment.result import SendResult
    from app.segment.retry import RetryPolicy
    from app.segment.sandbox import Sandbox
    from app.sending import Target
    from app.token_store import TokenStore


log = logging.getLogger(__name__)

# The keyring may show an unlock prompt that a person has to answer: give them time. The window
# stays responsive meanwhile (calls run on a worker), and a hung keyring still ends.
KEYRING_TIMEOUT = 120.0


class SendRecord:
    """One send from the test panel: what it was about, and the results as they arrived.

    Kept by the session, so that the wizard's test page and the main window show the same.
    (A plain class: dataclasses cost start-up time, and this module is on that path.)
    """

    def __init__(self, visitor_id: str, conversation_id: str, sandbox: bool, total: int) -> None:
        self.visitor_id = visitor_id
        self.conversation_id = conversation_id
        self.sandbox = sandbox  # went to the built-in sandbox
        self.total = total  # events asked for
        self.results: list[SendResult] = []
        self.summary = ""  # one line, once the send ended
        self.ended = False
        self.started_at: datetime | None = None  # UTC, when the panel began the send
        # Segment's count of what arrived, once confirming ended (app.ui.confirm runs it).
        self.confirmation: Confirmation | None = None
        self.history_id: int | None = None  # where the send history keeps it, once kept

    def __repr__(self) -> str:
        return f"SendRecord(total={self.total}, results={len(self.results)}, ended={self.ended})"

    @classmethod
    def from_history(cls, detail: SendDetail) -> SendRecord:
        """A send the history kept, ended, as the response view shows a new one (worker
        threads too: reading the confirmation imports the Public API's code)."""
        from app.proof.arrival import Confirmation

        entry = detail.entry
        record = cls(detail.visitor_id, detail.conversation_id, entry.sandbox, entry.total)
        record.results = list(detail.results)
        when = entry.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
        record.summary, record.ended = f"Sent {when} (from the history): {entry.summary}", True
        record.started_at, record.history_id = entry.started_at, entry.id
        if detail.confirmation is not None:
            try:
                record.confirmation = Confirmation.from_json(detail.confirmation)
            except ValueError:
                record.confirmation = None  # a file edited by hand: the send still shows
        return record


class TokenState:
    """The Public API token and what it told: one per app run, shared by the wizard's trial.

    The token is kept in memory only while the app runs (the keyring is where it is stored).
    """

    def __init__(self) -> None:
        self.token: str | None = None
        self.location: str | None = None
        self.check: TokenCheck | None = None  # the workspace it opened, and its host
        # The sandbox's own workspace, once checked: kept apart, so that the real token is
        # never sent to the sandbox's address after leaving sandbox mode.
        self.sandbox_check: TokenCheck | None = None
        self.api_endpoint: ApiEndpoint | None = None  # --api-endpoint: this run only
        self.store: TokenStore | None = None
        self.generation = 0  # one more each time the token is set or forgotten
        self.hosts: tuple[ApiEndpoint, ...] | None = None  # None: Segment's US and EU hosts
        self.cdn_url: str | None = None  # None: Segment's CDN

    def __repr__(self) -> str:
        return f"TokenState(location={self.location!r}, token=<hidden>)"


class Session(QObject):
    """The one model the wizard pages, the test panel and the main window show.

    Blocking methods (keystore, target, sandbox, history) are for worker threads; everything
    else runs on the GUI thread. Signals: changed() — anything a view shows may have changed;
    history_changed() — a send was kept in, or removed from, the send history.
    """

    changed = Signal()
    history_changed = Signal()

    def __init__(
        self,
        settings: AppSettings,
        keystore: WriteKeyStore | None = None,
        token_store: TokenStore | None = None,
        *,
        api_hosts: tuple[ApiEndpoint, ...] | None = None,
        cdn_url: str | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        """`api_hosts` are the Public API hosts a token is tried on (Segment's US and EU ones
        by default) and `cdn_url` the CDN the token-free key check asks (Segment's by
        default): a test points them at receivers on this computer. `history` is the send
        history (the platform's data directory by default)."""
        super().__init__()
        self.settings = settings
        self._keystore = keystore
        self._tokens = TokenState()
        self._tokens.store = token_store
        self._tokens.hosts = api_hosts
        self._tokens.cdn_url = cdn_url
        self._key_owner: KeyOwner | None = None  # which source the held key belongs to
        self._key: str | None = None
        self._key_location: str | None = None
        self._use_sandbox = settings.key_storage == KeyStorage.SANDBOX
        self._sandbox: Sandbox | None = None
        self._lock = threading.Lock()
        # An address other than Segment's US host (a proxy of the company's, or a test receiver).
        self._custom_endpoint: Endpoint | None = None
        self._endpoint_from_command_line = False
        self._proxy: ProxyChoice | None = None  # read from the settings on first use
        self.retry: RetryPolicy | None = None  # None: the official libraries' policy
        self._busy = False
        self._last_send: SendRecord | None = None
        self._source_name: str | None = None  # a trial's, staged by the wizard
        self._history = history
        self._history_of: Session | None = None  # a trial keeps its sends in this one's
        self._history_lock = threading.Lock()
        # Why the last send could not be kept in the history, in a sentence; "" when it was.
        self.history_problem = ""
        self._load_endpoint_setting()

    def __repr__(self) -> str:
        return f"Session(source={self.source_name!r}, sandbox={self.use_sandbox}, key=<hidden>)"

    # --- what views show ---------------------------------------------------------------------

    @property
    def source_name(self) -> str:
        return self._source_name or self.settings.source_name or "Chatlio"

    def debugger_url(self) -> str:
        """The source's Debugger in Segment (the sources list while the workspace is unknown)."""
        from app.segment import links

        slug = self.settings.workspace_slug or None
        return links.source_page(slug, links.source_slug(self.source_name), "debugger")

    @property
    def key_location(self) -> str | None:
        return self._key_location

    @property
    def has_key(self) -> bool:
        """Whether a send can go out: a real key is held, or the sandbox needs none."""
        return self._use_sandbox or self._key is not None

    @property
    def use_sandbox(self) -> bool:
        return self._use_sandbox

    @use_sandbox.setter
    def use_sandbox(self, on: bool) -> None:
        if on != self._use_sandbox:
            self._use_sandbox = on
            self.changed.emit()

    @property
    def custom_endpoint(self) -> Endpoint | None:
        return self._custom_endpoint

    @custom_endpoint.setter
    def custom_endpoint(self, endpoint: Endpoint | None) -> None:
        self._custom_endpoint = endpoint
        self.changed.emit()

    def use_endpoint_from_command_line(self, endpoint: Endpoint) -> None:
        """`--endpoint URL`: this run sends there, whatever the settings say; not saved."""
        self._endpoint_from_command_line = True
        self.custom_endpoint = endpoint

    @property
    def endpoint_from_command_line(self) -> bool:
        return self._endpoint_from_command_line

    @property
    def proxy(self) -> ProxyChoice:
        if self._proxy is None:
            self._proxy = _proxy_from(self.settings)
        return self._proxy

    @proxy.setter
    def proxy(self, choice: ProxyChoice) -> None:
        self._proxy = choice
        self.changed.emit()

    @property
    def deadline(self) -> float:
        """Seconds a whole send may take, every try and wait included."""
        from app.sending import MAX_DEADLINE

        return min(self.settings.send_timeout, MAX_DEADLINE)

    def reload_network_settings(self) -> None:
        """After the settings dialog saved: the address (unless --endpoint set it) and proxy."""
        self._proxy = None
        if not self._endpoint_from_command_line:
            self._load_endpoint_setting()
        self.changed.emit()

    def _load_endpoint_setting(self) -> None:
        from app.segment.endpoint import EndpointError, Region, parse_endpoint

        text = self.settings.endpoint
        if not text:
            self._custom_endpoint = None
            return
        try:
            endpoint = parse_endpoint(text)
        except EndpointError:
            self._custom_endpoint = None  # a hand-edited file: Segment's address, as before
            return
        self._custom_endpoint = None if endpoint.region is Region.US else endpoint

    @property
    def busy(self) -> bool:
        """A send is running (the wizard keeps Back and Next off meanwhile)."""
        return self._busy

    @busy.setter
    def busy(self, on: bool) -> None:
        if on != self._busy:
            self._busy = on
            self.changed.emit()

    @property
    def last_send(self) -> SendRecord | None:
        return self._last_send

    def show_kept(self, record: SendRecord) -> None:
        """Show a send the history kept (SendRecord.from_history) where the last send shows;
        not while a send runs."""
        if not self._busy:
            self._last_send = record
            self.changed.emit()

    def begin_send(self, record: SendRecord) -> None:
        self._last_send = record
        self.changed.emit()

    def add_result(self, record: SendRecord, result: SendResult) -> None:
        """One more result of `record`; ignored once another send has begun."""
        if record is self._last_send:
            record.results.append(result)
            self.changed.emit()

    def end_send(self, record: SendRecord, summary: str) -> None:
        if record is self._last_send:
            record.summary, record.ended = summary, True
            self.changed.emit()

    # --- the wizard's trial -----------------------------------------------------------------

    def trial(self) -> Session:
        """A session for the wizard's test page: the same settings file, keyring, address and
        proxy, but the wizard's staged source, mode and key; this session is left alone."""
        trial = Session(self.settings, self._keystore)
        trial._tokens = self._tokens  # one token per run: set in the wizard, kept after it
        trial._custom_endpoint = self._custom_endpoint
        trial._endpoint_from_command_line = self._endpoint_from_command_line
        trial._proxy, trial.retry = self._proxy, self.retry
        trial._history_of = self  # one history, made when first asked for (not at start)
        trial.history_changed.connect(self.history_changed)  # the main window's pane follows
        return trial

    def stage(self, source_name: str, sandbox: bool, key: tuple[str, str] | None) -> None:
        """On a trial: what the wizard's draft says now (key and where it is kept, or None)."""
        self._source_name = source_name.strip() or None
        self._use_sandbox = sandbox
        new_key, self._key_location = key if key is not None else (None, None)
        if new_key != self._key:
            self._key_owner = None
        self._key = new_key
        self.changed.emit()

    def adopt_send(self, trial: Session) -> None:
        """Finish: the last send made on the trial, and its running sandbox, carry over here."""
        with trial._lock:
            sandbox, trial._sandbox = trial._sandbox, None
        if sandbox is not None:
            with self._lock:
                old, self._sandbox = self._sandbox, sandbox
            if old is not None:
                old.stop()
        if trial.last_send is not None:
            self._last_send = trial.last_send
        self.changed.emit()

    # --- the send history --------------------------------------------------------------------

    def history_store(self) -> HistoryStore:
        """The send history; made on first use, opened by its first call (off the GUI)."""
        if self._history_of is not None:
            return self._history_of.history_store()
        with self._history_lock:  # not self._lock: workers hold that while keyring loads
            if self._history is None:
                from app.history.store import HistoryStore

                self._history = HistoryStore()
            return self._history

    def history_kept(self, send_id: int | None, problem: str) -> None:
        """A send's worker has kept it (`send_id`), or could not (`problem`, a sentence)."""
        self.history_problem = problem
        if send_id is not None or problem:
            self.history_changed.emit()

    def keep_confirmation(self, record: SendRecord) -> None:
        """Segment's count for a kept send goes into the history too (off the GUI thread)."""
        confirmation, send_id = record.confirmation, record.history_id
        if confirmation is None or send_id is None:
            return
        from app.ui.worker import run_in_background

        store, secrets = self.history_store(), self.secrets()
        run_in_background(
            lambda _report: store.attach_confirmation(send_id, confirmation.to_json(), secrets),
            lambda _none: self.history_changed.emit(),
            lambda error: log.warning("The confirmation was not kept: %s", type(error).__name__),
            name="history-confirmation",
            owner=self,
        )

    # --- the key -----------------------------------------------------------------------------

    @property
    def keystore(self) -> WriteKeyStore:
        """The OS keyring, created on first use (importing keyring is slow): call off the GUI."""
        with self._lock:
            if self._keystore is None:
                from app.keystore import KeyStore

                self._keystore = KeyStore(timeout=KEYRING_TIMEOUT)
            return self._keystore

    def set_key(self, key: str, location: str) -> None:
        if key != self._key:
            self._key_owner = None
        self._key, self._key_location = key, location
        self.changed.emit()

    def forget_key(self) -> None:
        self._key, self._key_location, self._key_owner = None, None, None
        self.changed.emit()

    @property
    def key_owner(self) -> KeyOwner | None:
        """Which source the Public API says the held key belongs to, once checked."""
        return self._key_owner

    @key_owner.setter
    def key_owner(self, owner: KeyOwner | None) -> None:
        self._key_owner = owner
        self.changed.emit()

    def held_key(self) -> str | None:
        """The real key held for this run, in any mode (for the Chatlio step's Copy)."""
        return self._key

    def secrets(self) -> list[str]:
        """What must never be shown: the real key and token, whatever mode the session is in."""
        return [secret for secret in (self._key, self._tokens.token) if secret]

    def write_key(self) -> str | None:
        """The key to send with; in sandbox mode always a made-up one, never the real key."""
        if self._use_sandbox:
            return SANDBOX_KEY
        return self._key

    # --- the Public API token --------------------------------------------------------------

    @property
    def token_store(self) -> TokenStore:
        """The OS keyring's token entry, created on first use: call off the GUI thread."""
        with self._lock:
            if self._tokens.store is None:
                from app.token_store import KeyringTokenStore

                self._tokens.store = KeyringTokenStore(timeout=KEYRING_TIMEOUT)
            return self._tokens.store

    @property
    def has_token(self) -> bool:
        """Whether the Public API can be asked: a token is held, or the sandbox answers."""
        return self._use_sandbox or self._tokens.token is not None

    @property
    def token_location(self) -> str | None:
        return self._tokens.location

    @property
    def token_check(self) -> TokenCheck | None:
        """The workspace the held token opened, and the host that accepted it; sandbox: None
        until the sandbox's was checked."""
        return self._tokens.sandbox_check if self._use_sandbox else self._tokens.check

    @token_check.setter
    def token_check(self, check: TokenCheck | None) -> None:
        if self._use_sandbox:
            self._tokens.sandbox_check = check
        else:
            self._tokens.check = check
        self.changed.emit()

    def api_hosts(self) -> tuple[ApiEndpoint, ...]:
        """Where a token is tried, in order (worker threads: may start the sandbox): the
        sandbox's in sandbox mode, else --api-endpoint, else Segment's US and EU hosts."""
        from app.segment.public_api.hosts import REGION_HOSTS, parse_api_endpoint

        if self._use_sandbox:
            return (parse_api_endpoint(self.sandbox().public_api_url),)
        if self._tokens.api_endpoint is not None:
            return (self._tokens.api_endpoint,)
        return self._tokens.hosts or REGION_HOSTS

    def cdn_url(self) -> str:
        """The CDN the token-free key check asks (worker threads: may start the sandbox)."""
        if self._use_sandbox:
            return self.sandbox().cdn_url
        if self._tokens.cdn_url is not None:
            return self._tokens.cdn_url
        from app.proof.cdn import CDN_HOST

        return CDN_HOST

    def set_token(self, token: str, location: str, check: TokenCheck | None = None) -> None:
        self._tokens.token, self._tokens.location, self._tokens.check = token, location, check
        self._token_changed()

    def forget_token(self) -> None:
        self._tokens.token, self._tokens.location, self._tokens.check = None, None, None
        self._token_changed()

    def _token_changed(self) -> None:
        # Which source the key belongs to was answered for the workspace of the token before.
        self._tokens.generation += 1
        self._key_owner = None
        self.changed.emit()

    @property
    def token_generation(self) -> int:
        """Changes whenever the token does: answers got with another token are stale."""
        return self._tokens.generation

    def use_api_endpoint_from_command_line(self, endpoint: ApiEndpoint) -> None:
        """`--api-endpoint URL`: this run asks the Public API there; not saved."""
        self._tokens.api_endpoint = endpoint
        self.changed.emit()

    def api_token(self) -> str | None:
        """The token to call with; in sandbox mode always the sandbox's, never the real one."""
        if self._use_sandbox:
            return SANDBOX_TOKEN
        return self._tokens.token

    def api_client(self, cancel: CancelToken | None = None) -> PublicApiClient:
        """A Public API client for the held token (worker threads: may start the sandbox).

        The host is the sandbox's in sandbox mode, else --api-endpoint, else the one that
        accepted the token. A token read from the keyring at start has not been checked yet:
        its region is found first (one `GET /` per host), so an EU workspace's token is not
        refused by the US host. Raises LookupError when no token is held, PublicApiError when
        no host accepts it.
        """
        from app.segment.public_api.client import PublicApiClient

        token = self.api_token()
        if token is None:
            raise LookupError("no Public API token")
        if self._use_sandbox or self._tokens.api_endpoint is not None:
            endpoint = self.api_hosts()[0]  # the only host asked, then
        else:
            check = self._tokens.check
            if check is None or self._tokens.token != token:
                from app.proof.workspace import check_token

                check = check_token(token, self.api_hosts(), proxy=self.proxy, cancel=cancel)
                if self._tokens.token == token:  # not replaced meanwhile
                    self._tokens.check = check  # shown at the next change; no signal off-GUI
            endpoint = check.endpoint
        return PublicApiClient(endpoint, token, proxy=self.proxy, cancel=cancel)

    # --- sending (worker threads) ------------------------------------------------------------

    def target(self) -> Target:
        """Where test events go, with which key; starts the sandbox in sandbox mode (off GUI).

        Raises LookupError when there is no key to send with.
        """
        from app.segment.endpoint import US
        from app.sending import Target

        if self._use_sandbox:
            return Target.sandbox(self.sandbox())
        key = self._key
        if key is None:
            raise LookupError("no write key")
        return Target.segment(self._custom_endpoint or US, key)

    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                from app.segment.sandbox import Sandbox

                # A stand-in Chatlio source holds the sandbox's key until the wizard creates
                # one, so a send is counted (and confirmed) either way.
                self._sandbox = Sandbox(chatlio_stand_in=True).start()
            return self._sandbox

    def running_sandbox(self) -> Sandbox | None:
        """The built-in sandbox if a send has started it; never starts one (safe on the GUI)."""
        with self._lock:
            return self._sandbox

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.stop()
                self._sandbox = None


def _proxy_from(settings: AppSettings) -> ProxyChoice:
    """The proxy setting; a value this version cannot read means the computer's settings."""
    from app.segment.proxy import ProxyChoice, ProxyError, ProxyMode

    try:
        mode = ProxyMode(settings.proxy_mode)
    except ValueError:
        return ProxyChoice()
    if mode is ProxyMode.MANUAL:
        try:
            return ProxyChoice.manual(settings.proxy_url)
        except ProxyError:
            return ProxyChoice()
    return ProxyChoice(mode)
