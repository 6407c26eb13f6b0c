"""Segment Tracking API client: auth, validation, the official retry policy, honest results."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import socket
import ssl
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from app import __version__
from app.chatlio import TestEvent
from app.redaction import REDACTED_AUTH, basic_auth
from app.segment.cancel import Cancelled, CancelToken
from app.segment.endpoint import US, Endpoint, Region
from app.segment.payload import (
    TrackMessage,
    Visitor,
    batch_problems,
    build_track,
    event_problems,
    now_iso,
)
from app.segment.result import Attempt, ErrorKind, SendResult, SentRequest
from app.segment.retry import RetryPolicy, parse_retry_after

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

USER_AGENT = f"chatlio-segment-setup/{__version__}"
T = TypeVar("T")


def make_ssl_context() -> ssl.SSLContext:
    """Verify TLS with the OS trust store (corporate TLS inspection works); certifi otherwise."""
    paths = ssl.get_default_verify_paths()
    has_system_store = sys.platform != "linux" or bool(paths.cafile or paths.capath)
    if has_system_store:
        try:
            import truststore

            return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        except ImportError:  # pragma: no cover - truststore is a dependency
            pass
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def proxy_for(url: str) -> str | None:
    """The proxy that httpx will use for `url` from HTTPS_PROXY/ALL_PROXY/NO_PROXY, if any."""
    import urllib.request

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy or None


class SegmentClient:
    """Sends Live Chat events to one Segment source; blocking, so the GUI runs it on a worker.

    The write key is held privately and appears in no result, log line, exception or repr.
    """

    def __init__(
        self,
        write_key: str,
        endpoint: Endpoint = US,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        # The sockets this client opened, so that Cancel can cut a request short (see _trace).
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._sockets_lock = threading.Lock()  # the worker adds, the Cancel button's thread cuts
        self._cancel: CancelToken | None = None
        self._auth = basic_auth(write_key)
        self.endpoint = endpoint
        self._proxy = proxy_for(endpoint.base_url)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        verify: ssl.SSLContext | bool = (
            make_ssl_context() if endpoint.base_url.startswith("https") else True
        )
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=verify,
            trust_env=True,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )

    def __repr__(self) -> str:
        return f"SegmentClient(endpoint={self.endpoint.base_url!r}, write_key=<hidden>)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SegmentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public API -------------------------------------------------------------------------

    def track(
        self, event: TestEvent, visitor: Visitor, cancel: CancelToken | None = None
    ) -> SendResult:
        """Send one event through /v1/track."""
        message = build_track(event, visitor)
        return self.send_track(message, cancel)

    def send_track(self, message: TrackMessage, cancel: CancelToken | None = None) -> SendResult:
        payload = {k: v for k, v in message.payload.items() if k != "type"}
        problems = event_problems(payload)
        if problems:
            return self._invalid(message, problems)
        return self._post("track", lambda: {**payload, "sentAt": now_iso()}, [message], cancel)[0]

    def batch(
        self, events: Sequence[TestEvent], visitor: Visitor, cancel: CancelToken | None = None
    ) -> list[SendResult]:
        """Send several events in one /v1/batch request; one result per event."""
        return self.send_batch([build_track(e, visitor) for e in events], cancel)

    def send_batch(
        self, messages: Sequence[TrackMessage], cancel: CancelToken | None = None
    ) -> list[SendResult]:
        per_event = [event_problems(m.payload) for m in messages]
        if any(per_event):
            return [
                self._invalid(m, p or ["Not sent: another event in the same batch has a problem."])
                for m, p in zip(messages, per_event, strict=True)
            ]
        items = [m.payload for m in messages]
        problems = batch_problems(items)
        if problems:
            return [self._invalid(m, problems) for m in messages]
        return self._post("batch", lambda: {"batch": items, "sentAt": now_iso()}, messages, cancel)

    def send_each(
        self,
        events: Sequence[TestEvent],
        visitor: Visitor,
        cancel: CancelToken | None = None,
        on_result: Callable[[SendResult], None] | None = None,
    ) -> list[SendResult]:
        """Send events one /v1/track request each, in order; stop early if cancelled."""
        results = []
        for event in events:
            if cancel is not None and cancel.cancelled:
                message = build_track(event, visitor)
                cancelled = _Outcome(None, None, ErrorKind.CANCELLED, None)
                result = self._final(message, "track", cancelled, [], 0.0)
            else:
                result = self.track(event, visitor, cancel)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    # --- sending with retries ---------------------------------------------------------------

    def _post(
        self,
        path: str,
        make_body: Callable[[], dict[str, Any]],
        messages: Sequence[TrackMessage],
        cancel: CancelToken | None,
    ) -> list[SendResult]:
        url = self.endpoint.url(path)
        started = time.monotonic()
        attempts: list[Attempt] = []
        outcome = _Outcome(None, None, None, None)
        waited = 0.0
        for number in range(1, self.retry.max_attempts + 1):
            outcome = self._attempt(url, make_body(), number, cancel)
            attempts.append(
                Attempt(number, outcome.status, outcome.error_text, outcome.elapsed_ms, waited)
            )
            log.info("POST %s attempt %d -> %s", url, number, outcome.status or outcome.error_kind)
            delay = self._delay_before_retry(outcome, number)
            if delay is None or number == self.retry.max_attempts:
                break
            if time.monotonic() - started + delay > self.retry.total_budget:
                break
            waited = round(delay, 3)
            if cancel is not None and cancel.wait(delay):
                outcome = replace(outcome, error_kind=ErrorKind.CANCELLED)
                break
            if cancel is None:
                time.sleep(delay)
        total_ms = (time.monotonic() - started) * 1000
        return [self._final(m, path, outcome, attempts, total_ms, len(messages)) for m in messages]

    def _attempt(
        self, url: str, document: dict[str, Any], number: int, cancel: CancelToken | None
    ) -> _Outcome:
        """One POST; never raises for network trouble, which becomes an error kind instead."""
        import httpx

        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        headers = {"Content-Type": "application/json", "Authorization": self._auth}
        if number > 1:
            headers["X-Retry-Count"] = str(number - 1)
        request = self._http.build_request(
            "POST", url, content=body.encode(), headers=headers, extensions={"trace": self._trace}
        )
        sent = _redacted(request, body)
        started = time.monotonic()
        response, kind, text = None, None, None
        try:
            response = self._run_cancellable(functools.partial(self._http.send, request), cancel)
        except Cancelled:
            kind = ErrorKind.CANCELLED
        except httpx.HTTPError as exc:
            kind, text = _classify(exc), type(exc).__name__
        if response is not None and not response.is_success:
            kind = _status_kind(response.status_code)
        elif kind in (ErrorKind.CONNECTION, ErrorKind.DNS) and self._proxy is not None:
            kind = ErrorKind.PROXY  # we never reached the endpoint, only the proxy in between
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return _Outcome(sent, response, kind, text, elapsed)

    def _delay_before_retry(self, outcome: _Outcome, number: int) -> float | None:
        """Seconds to wait before trying again, or None when retrying cannot help."""
        response = outcome.response
        if response is not None:
            if response.is_success or not self.retry.should_retry_status(response.status_code):
                return None
            return self._retry_delay(response, number)
        if outcome.error_kind in (ErrorKind.CANCELLED, ErrorKind.TLS, ErrorKind.PROXY):
            return None  # the same certificate or proxy would fail again: tell the user now
        return self.retry.backoff(number)

    def _retry_delay(self, response: httpx.Response, number: int) -> float:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is not None:
            return min(retry_after, self.retry.retry_after_cap)
        return self.retry.backoff(number)

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's trace hook: remember each socket this client connects (TLS-wrapped too)."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                with self._sockets_lock:
                    self._sockets.add(sock)
                cancel = self._cancel
                if cancel is not None and cancel.cancelled:
                    # Cancelled while connecting: cut it before a byte of the request goes out.
                    _shut(sock)

    def _interrupt(self) -> None:
        """Cut this client's connections: a request blocked on one fails at once."""
        with self._sockets_lock:
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)

    def _run_cancellable(self, call: Callable[[], T], cancel: CancelToken | None) -> T:
        """Run a blocking call on this thread; cancelling shuts its socket down, ending it.

        A connection still being set up cannot be interrupted; it is cut the moment it opens,
        before the request is written (see _trace), or ends at the connect timeout.
        """
        import httpx

        if cancel is None:
            return call()
        if cancel.cancelled:
            raise Cancelled
        self._cancel = cancel
        unregister = cancel.on_cancel(self._interrupt)
        try:
            return call()
        except httpx.HTTPError:
            if cancel.cancelled:
                raise Cancelled from None
            raise
        finally:
            unregister()
            self._cancel = None

    # --- results ----------------------------------------------------------------------------

    def _invalid(self, message: TrackMessage, problems: list[str]) -> SendResult:
        return SendResult(
            event=message.event,
            message_id=message.message_id,
            endpoint=self.endpoint.base_url,
            request=None,
            status=None,
            response_headers={},
            body="",
            elapsed_ms=0.0,
            attempts=(),
            error_kind=ErrorKind.INVALID,
            message="Not sent: " + " ".join(problems),
            payload=message.payload,
        )

    def _final(
        self,
        message: TrackMessage,
        path: str,
        outcome: _Outcome,
        attempts: list[Attempt],
        total_ms: float,
        batched_with: int = 1,
    ) -> SendResult:
        response = outcome.response
        status = response.status_code if response is not None else None
        return SendResult(
            event=message.event,
            message_id=message.message_id,
            endpoint=self.endpoint.base_url,
            request=outcome.sent,
            status=status,
            response_headers=dict(response.headers.items()) if response is not None else {},
            body=response.text if response is not None else "",
            elapsed_ms=round(total_ms, 1),
            attempts=tuple(attempts),
            error_kind=outcome.error_kind,
            message=explain(
                outcome.error_kind,
                status,
                self.endpoint,
                len(attempts),
                self.timeout,
                path,
                retry_after=parse_retry_after(response.headers.get("Retry-After"))
                if response is not None
                else None,
            ),
            batched_with=batched_with,
            payload=message.payload,
        )


@dataclass(frozen=True)
class _Outcome:
    """What one attempt produced."""

    sent: SentRequest | None
    response: httpx.Response | None
    error_kind: ErrorKind | None
    error_text: str | None
    elapsed_ms: float = 0.0

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _redacted(request: httpx.Request, body: str) -> SentRequest:
    headers = {
        name: (REDACTED_AUTH if name.lower() == "authorization" else value)
        for name, value in request.headers.items()
    }
    return SentRequest(request.method, str(request.url), headers, body)


def _classify(exc: Exception) -> ErrorKind:
    import httpx

    text = str(exc).lower()
    if isinstance(exc, httpx.ProxyError):
        return ErrorKind.PROXY
    if isinstance(exc, httpx.TimeoutException):
        return ErrorKind.TIMEOUT
    if "certificate" in text or "ssl" in text or isinstance(exc.__context__, ssl.SSLError):
        return ErrorKind.TLS
    if isinstance(exc, httpx.ConnectError) and (
        "name or service not known" in text
        or "nodename nor servname" in text
        or "getaddrinfo" in text
        or "temporary failure in name resolution" in text
        or "no address associated" in text
    ):
        return ErrorKind.DNS
    return ErrorKind.CONNECTION


def _status_kind(status: int) -> ErrorKind:
    if status in {400, 413}:
        return ErrorKind.BAD_REQUEST
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 404:
        return ErrorKind.NOT_FOUND
    if status == 429:
        return ErrorKind.RATE_LIMITED
    if status >= 500:
        return ErrorKind.SERVER
    return ErrorKind.HTTP


def explain(
    kind: ErrorKind | None,
    status: int | None,
    endpoint: Endpoint,
    attempts: int,
    timeout: float,
    path: str = "track",
    retry_after: float | None = None,
) -> str:
    """One sentence (or two) a non-developer understands, with a way forward."""
    host = endpoint.host
    tries = f" after {attempts} tries" if attempts > 1 else ""
    wait = (
        f"Segment asked to wait {retry_after:.0f} seconds; send again after that."
        if retry_after
        else "Wait a minute and send again."
    )
    if kind is None:
        where = "the sandbox on this computer" if endpoint.region is Region.LOCAL else "Segment"
        return f"{where[0].upper()}{where[1:]} received it (HTTP {status})."
    messages = {
        ErrorKind.CANCELLED: "Cancelled. If a request was already on its way it may still have "
        "reached Segment; nothing more will be sent.",
        ErrorKind.TIMEOUT: f"{host} did not answer within {timeout:.0f} seconds{tries}. Your "
        "network may be slow or blocking it: try again, or check your proxy settings.",
        ErrorKind.CONNECTION: f"Could not connect to {host}{tries}: nothing answered there. "
        "Check the address and your internet connection.",
        ErrorKind.DNS: f"Could not find the server {host}. Check the address, your internet "
        "connection and proxy settings.",
        ErrorKind.TLS: f"The secure connection to {host} could not be verified. If your company "
        "inspects web traffic, its certificate must be in this computer's trust store; ask IT.",
        ErrorKind.PROXY: "The proxy server set for this computer (HTTPS_PROXY) could not be "
        f"reached or would not connect to {host}. Check the proxy settings, or ask IT.",
        ErrorKind.BAD_REQUEST: f"Segment rejected the request as malformed or too large (HTTP "
        f"{status}). Nothing was recorded; check the property values and send again.",
        ErrorKind.AUTH: f"The server refused the write key (HTTP {status}). Copy the key again "
        "from the source's settings in Segment.",
        ErrorKind.NOT_FOUND: f"{host} has no Segment endpoint at /v1/{path} (HTTP 404). Check the "
        "address: Segment's US address is https://api.segment.io.",
        ErrorKind.RATE_LIMITED: f"Segment is limiting how fast it accepts events (HTTP 429) and "
        f"still refused{tries}. {wait}",
        ErrorKind.SERVER: f"Segment had a problem on its side (HTTP {status}){tries}. Try again "
        "in a few minutes; status.segment.com shows known incidents.",
        ErrorKind.HTTP: f"Segment answered with an unexpected HTTP {status}{tries}; the event "
        "was probably not recorded. Try again later.",
        ErrorKind.INVALID: "Not sent: the event has a problem.",
    }
    return messages[kind]
