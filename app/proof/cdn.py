"""The unofficial, token-free key check: does Segment's CDN have settings for this write key?

Undocumented; it puts the key in a URL, so the user is asked first. Settings found means
"Segment knows this key"; anything else means "could not confirm", never "wrong".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import quote

from app.redaction import mask, printable

if TYPE_CHECKING:
    import httpx

    from app.segment.cancel import CancelToken
    from app.segment.proxy import ProxyChoice
    from app.segment.sockets import Sockets

log = logging.getLogger(__name__)

CDN_HOST = "https://cdn.segment.com"
# The whole lookup ends within this many seconds.
CDN_SECONDS = 10.0
# A source's settings (its destinations' options) can run to a few hundred KB.
MAX_SETTINGS_BYTES = 1024 * 1024

_NOT_WRONG = (
    "That does not mean the key is wrong: this unofficial check may not answer for Chatlio "
    "sources. Send the test events and look in the Source Debugger, or add a Public API token "
    "for a real check."
)


class CdnAnswer(StrEnum):
    KNOWN = "known"  # settings came back: Segment knows this key
    UNCONFIRMED = "unconfirmed"  # anything else


@dataclass(frozen=True)
class CdnCheck:
    answer: CdnAnswer
    sentence: str
    technical: str = ""  # status or error, for --verbose


def cdn_lookup(
    write_key: str,
    *,
    base_url: str = CDN_HOST,
    proxy: ProxyChoice | None = None,
    cancel: CancelToken | None = None,
    transport: httpx.BaseTransport | None = None,
) -> CdnCheck:
    """GET {base_url}/v1/projects/<key>/settings; never raises."""
    from app.segment.client import ProxyUnusable, cuttable_transport, proxy_url
    from app.segment.sockets import Sockets

    key = write_key.strip()
    if not key:
        return _unconfirmed("there is no key to check", "no key")
    sockets = Sockets()
    if transport is None:
        try:
            transport = cuttable_transport(sockets, base_url, proxy_url(proxy, base_url))
        except ProxyUnusable as exc:
            return CdnCheck(CdnAnswer.UNCONFIRMED, str(exc), "unusable proxy")
    if cancel is not None and cancel.cancelled:
        return _cancelled()
    try:
        status, body, error = _fetch(key, base_url, sockets, cancel, transport)
    except Exception as exc:  # noqa: BLE001 - never raises: anything else is "not confirmed"
        log.warning("The CDN lookup failed unexpectedly: %s", type(exc).__name__)
        return _unconfirmed("the check failed", type(exc).__name__)
    return _judged(key, status, body, error)


def _fetch(
    key: str,
    base_url: str,
    sockets: Sockets,
    cancel: CancelToken | None,
    transport: httpx.BaseTransport,
) -> tuple[int, str, Exception | str | None]:
    """(status, body, error): the error an httpx one, or "cancelled"."""
    import httpx

    from app.segment.bounded import read_body
    from app.segment.client import USER_AGENT
    from app.segment.deadline import Guarded
    from app.segment.sockets import Cut

    url = f"{base_url.rstrip('/')}/v1/projects/{quote(key, safe='')}/settings"
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    status, body, error = 0, "", None
    with (
        _KeyOutOfLogs(key),
        httpx.Client(transport=transport, timeout=httpx.Timeout(CDN_SECONDS)) as http,
        Guarded(sockets, CDN_SECONDS, cancel) as guard,
    ):
        try:
            with http.stream("GET", url, headers=headers) as response:
                status = response.status_code
                answer = read_body(response, MAX_SETTINGS_BYTES)
                body = "" if answer.truncated or answer.unreadable else answer.text
        except (httpx.HTTPError, OSError) as exc:
            error = exc
    if guard.why is Cut.CANCELLED or (cancel is not None and cancel.cancelled):
        return 0, "", "cancelled"
    return status, body, error


def _judged(
    key: str,
    status: int,
    body: str,
    error: Exception | str | None,
) -> CdnCheck:
    from app.segment.client import classify_failure

    where = f"GET /v1/projects/{mask(key)}/settings"
    if error == "cancelled":
        return _cancelled()
    if isinstance(error, Exception):
        kind, _ = classify_failure(error, answered=status != 0)
        return _unconfirmed(
            "Segment's CDN could not be reached", f"{where}: {type(error).__name__} ({kind})"
        )
    technical = f"{where}: HTTP {status}"
    if status == 200 and _is_settings(body):
        return CdnCheck(
            CdnAnswer.KNOWN,
            "Segment knows this key: its CDN has settings for the source it belongs to. (An "
            "unofficial check: it cannot say which source that is, or whether it is a Chatlio "
            "source.)",
            technical,
        )
    return _unconfirmed("Segment's CDN gave no settings for it", technical)


class _KeyOutOfLogs(logging.Filter):
    """While installed, the key is masked in what httpx logs (it logs each request's URL)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key
        self._logger = logging.getLogger("httpx")

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self._key in text:
            record.msg, record.args = text.replace(self._key, mask(self._key)), ()
        return True

    def __enter__(self) -> None:
        self._logger.addFilter(self)

    def __exit__(self, *exc: object) -> None:
        self._logger.removeFilter(self)


def _is_settings(body: str) -> bool:
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(answer, dict) and bool(answer)


def _unconfirmed(why: str, technical: str) -> CdnCheck:
    sentence = f"Could not confirm the key this way: {why}. {_NOT_WRONG}"
    return CdnCheck(CdnAnswer.UNCONFIRMED, sentence, printable(technical, 200))


def _cancelled() -> CdnCheck:
    return CdnCheck(CdnAnswer.UNCONFIRMED, "Cancelled: the key was not checked.", "cancelled")
