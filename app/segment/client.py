"""Segment Tracking API client: auth, validation, the official retry policy, honest results.

Bounds that hold against any server (see also RetryPolicy and app.segment.bounded):
- a public call (one event, one batch, one `send_each` conversation) ends by its deadline,
  `retry.total_budget` seconds: no attempt starts and no wait runs past it;
- one attempt lasts at most `timeout` seconds from connect to the body's last byte, however
  slowly the bytes arrive (a watchdog shuts the socket down), and never past the deadline;
- connecting (every address of the name, and the TLS handshake) shares one deadline of at most
  MAX_CONNECT_SECONDS, and the watchdog and Cancel reach a connect in progress (transport.py);
- a body is read up to MAX_ANSWER_BYTES, before and after decompression; headers up to h11's
  100 KB. Only the operating system's name lookup cannot be cut short.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import socket
import ssl
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app import __version__
from app.chatlio import TestEvent
from app.redaction import REDACTED_AUTH, basic_auth, printable
from app.segment.bounded import ACCEPT_ENCODING, MAX_ANSWER_BYTES, Body, read_body
from app.segment.cancel import CancelToken
from app.segment.deadline import Deadline, Guarded
from app.segment.endpoint import US, Endpoint, Region
from app.segment.payload import (
    TrackMessage,
    Visitor,
    batch_problems,
    build_track,
    event_problems,
    now_iso,
)
from app.segment.progress import (
    OnProgress,
    Phase,
    SendProgress,
    awaiting,
    connecting,
    retry_reason,
)
from app.segment.proxy import ProxyChoice, ProxyMode
from app.segment.result import Attempt, ErrorKind, SendResult, SentRequest
from app.segment.retry import RetryPolicy, parse_retry_after
from app.segment.sockets import Cut, Sockets

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

USER_AGENT = f"chatlio-segment-setup/{__version__}"

# No attempt starts with less time than this left in the call's budget (or the whole
# per-attempt timeout, if that is shorter): a TLS handshake alone can take half a second.
MIN_ATTEMPT_SECONDS = 0.5
# Connecting (name lookup, every address, the TLS handshake) gets at most this long of a try.
MAX_CONNECT_SECONDS = 10.0
# h11 (httpx's HTTP/1.1 parser) refuses response headers larger than this.
MAX_HEADER_BYTES = 100 * 1024

# After one of these, the next event of a conversation would fail the same way: not tried.
UNREACHABLE = frozenset(
    {
        ErrorKind.DNS,
        ErrorKind.CONNECTION,
        ErrorKind.TIMEOUT,
        ErrorKind.TLS,
        ErrorKind.PROXY,
        ErrorKind.PROTOCOL,
        ErrorKind.DISCONNECTED,
    }
)


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
    """The proxy the client sends `url` through, from HTTPS_PROXY/ALL_PROXY/NO_PROXY (or the
    system's settings, as urllib reads them), if any; 'host:port' means http://host:port."""
    import urllib.request

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def proxy_url(choice: ProxyChoice | None, url: str) -> str | None:
    """The proxy address a choice means for `url`: the computer's, none, or the one typed."""
    if choice is None or choice.mode is ProxyMode.SYSTEM:
        return proxy_for(url)
    if choice.mode is ProxyMode.NONE:
        return None
    return choice.url


def cuttable_transport(sockets: Sockets, base_url: str, proxy: str | None) -> httpx.BaseTransport:
    """The transport the app's clients send through: connects that `sockets` can cut, the OS
    trust store for https, and `proxy` (an address from proxy_url) if any. Raises ProxyUnusable.
    """
    import httpx

    from app.segment.transport import CuttableTransport

    # As httpx.Client(verify=True) would for plain http: the same context, the same cost.
    https = base_url.startswith("https")
    try:
        return CuttableTransport(
            sockets,
            ssl_context=make_ssl_context() if https else httpx.create_ssl_context(),
            proxy=proxy,
        )
    # A proxy of a kind httpx cannot use (socks4, ftp) or needs a package for (socks5).
    except (ValueError, RuntimeError, ImportError) as exc:
        raise ProxyUnusable(proxy) from exc


_proxy_url = proxy_url  # the name this module's callers knew first


class ProxyUnusable(ValueError):
    """The proxy this computer's settings name is not one the app can send through."""

    def __init__(self, proxy: str | None) -> None:
        scheme = urlsplit(proxy or "").scheme or "unknown"
        super().__init__(
            f"The proxy set for this computer (a {printable(scheme)}:// proxy, from "
            "HTTPS_PROXY, ALL_PROXY or the system's settings) is not a kind the app can send "
            "through. Set an http:// or https:// proxy there, or ask IT."
        )


class SegmentClient:
    """Sends Live Chat events to one Segment source; blocking, so the GUI runs it on a worker.

    One call at a time per client. `timeout` bounds one attempt (connect to last byte);
    `retry.total_budget` bounds each public call as a whole, all tries and waits included.
    The write key is held privately and appears in no result, log line, exception or repr.
    A `transport` of the caller's own replaces the one whose connects can be cut: then only
    httpx's timeouts bound a connect, and only sockets it never registers escape the watchdog.
    `proxy`: None or ProxyMode.SYSTEM means this computer's settings (proxy_for), NONE a
    direct connection whatever the environment says, MANUAL the address it holds.
    `integrations` go on every event (NO_DESTINATIONS keeps them away from destinations).
    Every sending method takes an `on_progress` callback, called on the sending thread with a
    SendProgress when a try starts, when its request is out, and before each wait for a retry.
    """

    def __init__(
        self,
        write_key: str,
        endpoint: Endpoint = US,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 15.0,
        transport: httpx.BaseTransport | None = None,
        proxy: ProxyChoice | None = None,
        integrations: Mapping[str, bool] | None = None,
    ) -> None:
        import httpx

        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        # The sockets this client opened, so that Cancel and the watchdog can cut a request.
        self._sockets = Sockets()
        self._auth = basic_auth(write_key)
        self.endpoint = endpoint
        self._integrations = integrations
        self._manual_proxy = proxy is not None and proxy.mode is ProxyMode.MANUAL
        self._proxy = _proxy_url(proxy, endpoint.base_url)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        if transport is None:
            transport = cuttable_transport(self._sockets, endpoint.base_url, self._proxy)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, MAX_CONNECT_SECONDS)),
            transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING},
        )

    def __repr__(self) -> str:
        return f"SegmentClient(endpoint={self.endpoint.base_url!r}, write_key=<hidden>)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SegmentClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _message(self, event: TestEvent, visitor: Visitor) -> TrackMessage:
        return build_track(event, visitor, integrations=self._integrations)

    # --- public API -------------------------------------------------------------------------

    def track(
        self,
        event: TestEvent,
        visitor: Visitor,
        cancel: CancelToken | None = None,
        on_progress: OnProgress | None = None,
    ) -> SendResult:
        """Send one event through /v1/track."""
        message = self._message(event, visitor)
        return self.send_track(message, cancel, on_progress)

    def send_track(
        self,
        message: TrackMessage,
        cancel: CancelToken | None = None,
        on_progress: OnProgress | None = None,
    ) -> SendResult:
        deadline = self._deadline()
        return self._track(message, cancel, deadline, self._reporter(on_progress, deadline))

    def batch(
        self,
        events: Sequence[TestEvent],
        visitor: Visitor,
        cancel: CancelToken | None = None,
        on_progress: OnProgress | None = None,
    ) -> list[SendResult]:
        """Send several events in one /v1/batch request; one result per event."""
        return self.send_batch([self._message(e, visitor) for e in events], cancel, on_progress)

    def send_batch(
        self,
        messages: Sequence[TrackMessage],
        cancel: CancelToken | None = None,
        on_progress: OnProgress | None = None,
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
        deadline = self._deadline()
        what = f"{len(messages)} events in one batch"
        return self._post(
            "batch",
            lambda: {"batch": items, "sentAt": now_iso()},
            messages,
            cancel,
            deadline,
            self._reporter(on_progress, deadline, event=what),
        )

    def send_each(
        self,
        events: Sequence[TestEvent],
        visitor: Visitor,
        cancel: CancelToken | None = None,
        on_result: Callable[[SendResult], None] | None = None,
        on_progress: OnProgress | None = None,
    ) -> list[SendResult]:
        """Send events one /v1/track request each, in order, all within one deadline.

        Stops early when cancelled, when the deadline leaves no room for another attempt, or
        when an event shows that the address cannot be reached: the events not tried get
        ErrorKind.NOT_SENT and one message naming the failure that stopped the send.
        """
        deadline = self._deadline()
        results: list[SendResult] = []
        stopped_by: str | None = None  # the message every event not tried carries
        for index, event in enumerate(events, 1):
            message = self._message(event, visitor)
            if cancel is not None and cancel.cancelled:
                result = self._not_tried(message, ErrorKind.CANCELLED, "")
            elif stopped_by is not None:
                result = self._not_tried(message, ErrorKind.NOT_SENT, stopped_by)
            elif results and deadline.left() < self._min_attempt():
                stopped_by = self._out_of_time(deadline)
                result = self._not_tried(message, ErrorKind.NOT_SENT, stopped_by)
            else:
                report = self._reporter(on_progress, deadline, index, len(events), event.name)
                result = self._track(message, cancel, deadline, report)
                if result.error_kind in UNREACHABLE:
                    stopped_by = _not_sent_after(result, self.endpoint)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    # --- sending with retries ---------------------------------------------------------------

    def _deadline(self) -> Deadline:
        return Deadline(self.retry.total_budget)

    def _min_attempt(self) -> float:
        return min(MIN_ATTEMPT_SECONDS, self.timeout)

    def _reporter(
        self,
        on_progress: OnProgress | None,
        deadline: Deadline,
        index: int = 1,
        total: int = 1,
        event: str = "",
    ) -> _Reporter | None:
        if on_progress is None:
            return None
        return _Reporter(on_progress, deadline, index, total, event, self.retry.max_attempts)

    def _track(
        self,
        message: TrackMessage,
        cancel: CancelToken | None,
        deadline: Deadline,
        report: _Reporter | None = None,
    ) -> SendResult:
        payload = {k: v for k, v in message.payload.items() if k != "type"}
        problems = event_problems(payload)
        if problems:
            return self._invalid(message, problems)
        body = lambda: {**payload, "sentAt": now_iso()}  # noqa: E731 - a fresh sentAt per try
        if report is not None and not report.event:
            report = replace(report, event=message.event)
        return self._post("track", body, [message], cancel, deadline, report)[0]

    def _post(
        self,
        path: str,
        make_body: Callable[[], dict[str, Any]],
        messages: Sequence[TrackMessage],
        cancel: CancelToken | None,
        deadline: Deadline,
        report: _Reporter | None = None,
    ) -> list[SendResult]:
        url = self.endpoint.url(path)
        started = time.monotonic()
        attempts: list[Attempt] = []
        waited = 0.0
        out_of_time = False
        for number in range(1, self.retry.max_attempts + 1):
            outcome = self._attempt(url, make_body(), number, cancel, deadline, report)
            attempts.append(
                Attempt(number, outcome.status, outcome.error_text, outcome.elapsed_ms, waited)
            )
            log.info("POST %s attempt %d -> %s", url, number, outcome.status or outcome.error_kind)
            delay = self._delay_before_retry(outcome, number)
            if delay is None or number == self.retry.max_attempts:
                break
            if delay + self._min_attempt() > deadline.left():
                out_of_time = True  # the wait, or the wait and a try, would pass the deadline
                break
            waited = round(delay, 3)
            if report is not None:
                asked = outcome.retry_after is not None and outcome.detail != "mid_answer"
                why = retry_reason(outcome.error_kind, outcome.status, self.endpoint, asked)
                report(number + 1, "waiting", why, retry_in=delay)
            if cancel is not None and cancel.wait(delay):
                outcome = replace(outcome, error_kind=ErrorKind.CANCELLED)
                break
            if cancel is None:
                time.sleep(delay)
        total_ms = (time.monotonic() - started) * 1000
        note = self._out_of_time(deadline) if out_of_time else None
        return [
            self._final(m, path, outcome, attempts, total_ms, len(messages), note) for m in messages
        ]

    def _attempt(
        self,
        url: str,
        document: dict[str, Any],
        number: int,
        cancel: CancelToken | None,
        deadline: Deadline,
        report: _Reporter | None = None,
    ) -> _Outcome:
        """One POST; never raises for network trouble, which becomes an error kind instead."""
        left = deadline.left()
        limit = max(0.001, min(self.timeout, left))
        allowed = TryLimit(self.timeout, left, deadline.budget)
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        headers = {"Content-Type": "application/json", "Authorization": self._auth}
        if number > 1:
            headers["X-Retry-Count"] = str(number - 1)
        timeouts = {
            "connect": min(limit, MAX_CONNECT_SECONDS),
            "read": limit,
            "write": limit,
            "pool": limit,
        }
        extensions: dict[str, Any] = {"timeout": timeouts}
        if report is not None:
            endpoint = self.endpoint

            def trace(name: str, info: dict[str, Any]) -> None:  # httpcore's trace extension
                if name == "http11.receive_response_headers.started":
                    report(number, "sending", awaiting(endpoint))

            extensions["trace"] = trace
        request = self._http.build_request(
            "POST", url, content=body.encode(), headers=headers, extensions=extensions
        )
        sent = _redacted(request, body)
        started = time.monotonic()
        if cancel is not None and cancel.cancelled:
            return _Outcome(sent, limit, allowed, error_kind=ErrorKind.CANCELLED)
        if report is not None:
            report(number, "connecting", connecting(self.endpoint))
        with Guarded(self._sockets, limit, cancel) as guard:
            response, answer, error = self._exchange(request)
        why = guard.why
        elapsed = round((time.monotonic() - started) * 1000, 1)
        if response is None:
            outcome = _Outcome(sent, limit, allowed, elapsed_ms=elapsed)
        else:
            outcome = _Outcome(
                sent,
                limit,
                allowed,
                status=response.status_code,
                headers=dict(response.headers.items()),
                body=answer,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                elapsed_ms=elapsed,
                **(_judge(response.status_code, answer) if error is None else {}),
            )
        if error is not None:
            return self._failed(outcome, error, cancel, why)
        return outcome

    def _exchange(
        self, request: httpx.Request
    ) -> tuple[httpx.Response | None, Body | None, Exception | None]:
        """Send and read within the caps: (response, body, error); a response without a body
        means the connection failed in the middle of the answer."""
        import httpx

        try:
            response = self._http.send(request, stream=True)
        except (httpx.HTTPError, OSError) as exc:
            return None, None, exc
        try:
            return response, read_body(response), None
        except (httpx.HTTPError, OSError) as exc:
            return response, None, exc
        finally:
            with contextlib.suppress(httpx.HTTPError, OSError):
                response.close()  # unread bytes are not drained: the connection is dropped

    def _failed(
        self,
        outcome: _Outcome,
        error: Exception,
        cancel: CancelToken | None,
        why: Cut | None,
    ) -> _Outcome:
        answered = outcome.status is not None
        technical = _technical(error)
        if (cancel is not None and cancel.cancelled) or why is Cut.CANCELLED:
            return replace(outcome, error_kind=ErrorKind.CANCELLED, error_text=technical)
        # httpx's own read timeout is the same limit as the watchdog's: whichever fires first,
        # the try was cut at the limit (a connect says it itself).
        at_limit = why is Cut.DEADLINE or _is_silence_timeout(error)
        if at_limit and not _is_connect_timeout(error):
            text = f"cut at the {outcome.limit:.3g} s limit ({technical})"
            return replace(
                outcome, error_kind=ErrorKind.TIMEOUT, error_text=text, detail=_mid(answered)
            )
        kind, detail = _failure(error, answered)
        if kind in (ErrorKind.CONNECTION, ErrorKind.DNS) and self._proxy is not None:
            kind = ErrorKind.PROXY  # we never reached the endpoint, only the proxy in between
        if kind is ErrorKind.PROXY and self._manual_proxy:
            detail = "manual"
        return replace(outcome, error_kind=kind, error_text=technical, detail=detail)

    def _delay_before_retry(self, outcome: _Outcome, number: int) -> float | None:
        """Seconds to wait before trying again, or None when retrying cannot help."""
        kind = outcome.error_kind
        if kind in (ErrorKind.CANCELLED, ErrorKind.TLS, ErrorKind.PROXY):
            return None  # the same certificate or proxy would fail again: tell the user now
        if kind is None or (
            kind in (ErrorKind.TOO_LARGE, ErrorKind.PROTOCOL) and outcome.ok_status
        ):
            return None  # an answer arrived; sending again would not change it
        status = outcome.status
        if status is not None and outcome.detail != "mid_answer":
            if not self.retry.should_retry_status(status):
                return None
            if outcome.retry_after is not None:
                return min(outcome.retry_after, self.retry.retry_after_cap)
        return self.retry.backoff(number)

    # --- results ----------------------------------------------------------------------------

    def _out_of_time(self, deadline: Deadline) -> str:
        return (
            f"The time limit for this send ({_seconds(deadline.budget)}) left no time for "
            "another try, so the app stopped trying."
        )

    def _invalid(self, message: TrackMessage, problems: list[str]) -> SendResult:
        return self._not_tried(message, ErrorKind.INVALID, "Not sent: " + " ".join(problems))

    def _not_tried(self, message: TrackMessage, kind: ErrorKind, text: str) -> SendResult:
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
            error_kind=kind,
            message=text or explain(kind, None, self.endpoint, 0, self.timeout),
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
        note: str | None = None,
    ) -> SendResult:
        body = outcome.body
        text = explain(
            outcome.error_kind,
            outcome.status,
            self.endpoint,
            len(attempts),
            outcome.allowed,
            path,
            retry_after=outcome.retry_after,
            detail=outcome.detail,
            body=body,
        )
        if body is not None and outcome.error_kind not in (None, ErrorKind.TOO_LARGE):
            text += _body_note(body)
        if note and outcome.error_kind is not ErrorKind.CANCELLED and not outcome.ran_out:
            text += " " + note
        return SendResult(
            event=message.event,
            message_id=message.message_id,
            endpoint=self.endpoint.base_url,
            request=outcome.sent,
            status=outcome.status,
            response_headers=outcome.headers,
            body=body.text if body is not None else "",
            elapsed_ms=round(total_ms, 1),
            attempts=tuple(attempts),
            error_kind=outcome.error_kind,
            message=text,
            batched_with=batched_with,
            payload=message.payload,
            body_truncated=body is not None and (body.truncated or body.declared is not None),
        )


@dataclass(frozen=True)
class _Reporter:
    """Turns what one event's send is doing into SendProgress reports."""

    on_progress: OnProgress
    deadline: Deadline
    event_index: int
    events_total: int
    event: str
    max_attempts: int

    def __call__(
        self, attempt: int, phase: Phase, reason: str, retry_in: float | None = None
    ) -> None:
        progress = SendProgress(
            self.event_index,
            self.events_total,
            self.event,
            attempt,
            self.max_attempts,
            phase,
            retry_in,
            self.deadline.left(),
            reason,
        )
        try:
            self.on_progress(progress)
        except Exception:  # a report is advisory: a failing one must not end the send
            log.exception("A progress report failed")


@dataclass(frozen=True)
class TryLimit:
    """How long one try was allowed, as a message says it: the try's own timeout, or the send's
    limit when the send had less than that left; never the odd fraction of a second that was
    left, which is no number the user chose."""

    timeout: float  # the client's timeout for one try
    left: float = math.inf  # what the send had left when the try started
    budget: float | None = None  # the send's time limit

    def by_send(self, nominal: float) -> bool:
        """Whether the send's deadline, not `nominal` (a timeout), was the try's bound."""
        return self.budget is not None and self.left < nominal

    def within(self, nominal: float) -> str:
        if self.by_send(nominal):
            assert self.budget is not None
            return f"within the time limit for this send ({_seconds(self.budget)})"
        if _seconds(nominal) == "less than a second":
            return "within the time allowed (less than a second)"
        return f"within {_seconds(nominal)}"


@dataclass(frozen=True)
class _Outcome:
    """What one attempt produced."""

    sent: SentRequest | None
    limit: float  # the seconds this attempt was allowed
    allowed: TryLimit  # the same, as a message says it
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Body | None = None
    retry_after: float | None = None
    error_kind: ErrorKind | None = None
    error_text: str | None = None
    detail: str | None = None  # which variant of the error message applies
    elapsed_ms: float = 0.0

    @property
    def ok_status(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def ran_out(self) -> bool:
        """A timeout whose message already says that the send's time limit ran out."""
        if self.error_kind is not ErrorKind.TIMEOUT:
            return False
        timeout = self.allowed.timeout
        nominal = min(timeout, MAX_CONNECT_SECONDS) if self.detail == "connect" else timeout
        return self.allowed.by_send(nominal)


def _judge(status: int, body: Body | None) -> dict[str, Any]:
    """The error kind (and message variant) of a complete answer."""
    assert body is not None  # a response without an error has a body
    if 200 <= status < 300:
        if body.truncated or body.declared is not None:
            return {"error_kind": ErrorKind.TOO_LARGE}
        if body.unreadable is not None:
            return {"error_kind": ErrorKind.PROTOCOL, "detail": "unreadable_body"}
        if not is_segment_answer(body.text):  # a sign-in page, a proxy's or firewall's page
            return {"error_kind": ErrorKind.PROTOCOL, "detail": "not_segment"}
        return {}
    return {"error_kind": _status_kind(status)}


def is_segment_answer(text: str) -> bool:
    """Segment's documented answer to what it took, the sandbox's too: {"success": true}."""
    try:
        answer = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        return False
    return isinstance(answer, dict) and answer.get("success") is True


def _redacted(request: httpx.Request, body: str) -> SentRequest:
    headers = {
        name: (REDACTED_AUTH if name.lower() == "authorization" else value)
        for name, value in request.headers.items()
    }
    return SentRequest(request.method, str(request.url), headers, body)


def _technical(error: Exception) -> str:
    """For the attempt log: the exception's name and text, safe for a terminal."""
    text = str(error)
    name = type(error).__name__
    return printable(f"{name}: {text}" if text else name, 160)


def _chain(error: BaseException) -> list[BaseException]:
    """The error and what caused it, a few levels deep (httpx wraps httpcore wraps OSError)."""
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(found) < 6 and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _mid(answered: bool) -> str:
    return "mid_answer" if answered else "before_answer"


def classify_failure(error: Exception, answered: bool) -> tuple[ErrorKind, str | None]:
    """What kind of network failure an httpx error is (and which variant of it), for any of
    the app's clients: `answered` is whether the response's headers had arrived."""
    return _failure(error, answered)


def _failure(error: Exception, answered: bool) -> tuple[ErrorKind, str | None]:
    """The error kind of a failed exchange, and the variant of its message."""
    kind = _classify(error)
    chain = _chain(error)
    if kind is ErrorKind.CONNECTION:
        return _connection_failure(error, answered, chain)
    if kind is ErrorKind.TLS:
        verify = any(isinstance(e, ssl.SSLCertVerificationError) for e in chain)
        return kind, "certificate" if verify else "handshake"
    if kind is ErrorKind.TIMEOUT:
        return kind, "connect" if _is_connect_timeout(error) else _mid(answered)
    return kind, None


def _is_connect_timeout(error: Exception) -> bool:
    import httpx

    return isinstance(error, httpx.ConnectTimeout)


def _is_silence_timeout(error: Exception) -> bool:
    """httpx gave up waiting for the server to read or write (not to connect)."""
    import httpx

    return isinstance(error, httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout)


def _connection_failure(
    error: Exception, answered: bool, chain: list[BaseException]
) -> tuple[ErrorKind, str]:
    """Refused or unreachable, closed early, or not HTTP: what httpx calls a connection error."""
    import httpx

    if isinstance(error, httpx.RemoteProtocolError):
        text = str(error).lower()
        if "without sending" in text or "incomplete chunked read" in text:
            return ErrorKind.DISCONNECTED, _mid(answered)  # closed before or mid-answer
        return ErrorKind.PROTOCOL, (
            "headers_too_large" if "receive buffer too long" in text else "not_http"
        )
    if isinstance(error, httpx.ProtocolError | httpx.DecodingError):
        return ErrorKind.PROTOCOL, "not_http"
    if isinstance(error, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return ErrorKind.DISCONNECTED, _mid(answered)
    refused = any(isinstance(e, ConnectionRefusedError) for e in chain)
    return ErrorKind.CONNECTION, "refused" if refused else "unreachable"


def _classify(exc: Exception) -> ErrorKind:
    import httpx

    chain = _chain(exc)
    text = str(exc).lower()
    if isinstance(exc, httpx.ProxyError):
        return ErrorKind.PROXY
    if isinstance(exc, httpx.TimeoutException):
        return ErrorKind.TIMEOUT
    if any(isinstance(e, ssl.SSLError) for e in chain) or "certificate" in text or "ssl" in text:
        return ErrorKind.TLS
    if isinstance(exc, httpx.ConnectError) and (
        any(isinstance(e, socket.gaierror) for e in chain)
        or "name or service not known" in text
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


# --- messages -------------------------------------------------------------------------------------


def _number(value: float) -> str:
    """A readable number of seconds: 15, 2.5, 0.25 — never 'inf' or '1e+308'."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _seconds(value: float) -> str:
    """'15 seconds', '1 second', '0.5 seconds' — and never '0 seconds'."""
    number = _number(value)
    if number == "0":
        return "less than a second"
    return "1 second" if number == "1" else f"{number} seconds"


def _duration(seconds: float) -> str:
    """How long a server asked to wait, in words a person reads at a glance."""
    if seconds < 120:  # rounded up: waiting a little longer than asked is the safe side
        return _seconds(math.ceil(seconds))
    if seconds < 2 * 3600:
        return f"{math.ceil(seconds / 60)} minutes"
    if seconds < 2 * 86400:
        return f"{math.ceil(seconds / 3600)} hours"
    return "more than a day"


def _receiver_name(endpoint: Endpoint) -> str:
    """Who a request that went out may have reached, for the Cancelled message."""
    if endpoint.region is Region.LOCAL:
        return f"the sandbox on this computer ({printable(endpoint.host)})"
    if endpoint.region is Region.CUSTOM:
        return printable(endpoint.host)
    return "Segment"


def _size(count: int) -> str:
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GB"
    if count >= 1024**2:
        return f"{count / 1024**2:.1f} MB"
    return f"{count // 1024} KB"


CAP_TEXT = _size(MAX_ANSWER_BYTES)


def _body_note(body: Body) -> str:
    """What the message adds when a non-2xx answer's body could not be read in full."""
    if body.declared is not None:
        return f" (It announced {_size(body.declared)} of data; the app did not read it.)"
    if body.truncated:
        return f" (The answer was over {CAP_TEXT}; the app stopped reading it.)"
    if body.unreadable is not None:
        return " (The answer's body was in a form the app cannot read.)"
    return ""


_WHY_NOT_SENT = {
    ErrorKind.DNS: "its server name was not found",
    ErrorKind.CONNECTION: "nothing there accepted the connection",
    ErrorKind.TIMEOUT: "it did not answer in time",
    ErrorKind.TLS: "the secure connection failed",
    ErrorKind.PROXY: "the proxy server failed",
    ErrorKind.PROTOCOL: "it did not answer like a web server",
    ErrorKind.DISCONNECTED: "it closed the connection without a complete answer",
}


def _not_sent_after(failed: SendResult, endpoint: Endpoint) -> str:
    kind = failed.error_kind
    why = _WHY_NOT_SENT.get(kind, "it failed") if kind is not None else "it failed"
    if kind is ErrorKind.PROTOCOL and failed.status is not None:
        why = "its answer was not Segment's"
    return (
        f"Not sent: '{printable(failed.event, 60)}' could not be delivered to "
        f"{printable(endpoint.host)} ({why}), so the app did not try the remaining events. "
        "Fix that first, then send again."
    )


def explain(
    kind: ErrorKind | None,
    status: int | None,
    endpoint: Endpoint,
    attempts: int,
    limit: TryLimit | float,
    path: str = "track",
    retry_after: float | None = None,
    *,
    detail: str | None = None,
    body: Body | None = None,
) -> str:
    """One sentence (or two) a non-developer understands, with a way forward.

    Only values the app controls or has checked go in: the host (validated by
    parse_endpoint, escaped anyway), the status number, numbers formatted here. `limit` is
    the last try's (a number: the try's own timeout).
    """
    host = printable(endpoint.host)
    allowed = limit if isinstance(limit, TryLimit) else TryLimit(limit)
    timeout = allowed.timeout
    connect = min(timeout, MAX_CONNECT_SECONDS)
    tries = f" on each of {attempts} tries" if attempts > 1 else ""
    after_tries = f" after {attempts} tries" if attempts > 1 else ""
    wait = (
        f"Segment asked to wait {_duration(retry_after)}; send again after that."
        if retry_after
        else "Wait a minute and send again."
    )
    if kind is None:
        where = {Region.LOCAL: "The sandbox on this computer", Region.CUSTOM: host}.get(
            endpoint.region, "Segment"
        )
        return f"{where} received it (HTTP {status})."
    within = allowed.within(timeout)
    # The last try ran out of the send's time: the tries before it may have had longer.
    tries_within = after_tries if allowed.by_send(timeout) else tries
    connect_tries = after_tries if allowed.by_send(connect) else tries
    messages = {
        ErrorKind.CANCELLED: "Cancelled. If a request was already on its way it may still have "
        f"reached {_receiver_name(endpoint)}; nothing more will be sent.",
        ErrorKind.NOT_SENT: "Not sent: the time limit for this send ran out before its turn.",
        ErrorKind.TIMEOUT: {
            "mid_answer": f"{host} started to answer but did not finish {within}{tries_within}: "
            "it sends too slowly. Try again later, or check the address and your proxy settings.",
            "connect": f"Could not connect to {host} {allowed.within(connect)}{connect_tries}: "
            "nothing answered. Check the address, your internet connection and proxy settings.",
        }.get(
            detail or "",
            f"{host} did not answer {within}{tries_within}. Your network may be slow or "
            "blocking it: try again, or check your proxy settings.",
        ),
        ErrorKind.CONNECTION: f"Could not connect to {host}{tries}: "
        + (
            "nothing answered there (the connection was refused). Check the address and port."
            if detail == "refused"
            else "it could not be reached. Check the address and your internet connection."
        ),
        ErrorKind.DNS: f"Could not find the server {host}. Check the address, your internet "
        "connection and proxy settings.",
        ErrorKind.TLS: (
            f"The secure connection to {host} could not be verified. If your company inspects "
            "web traffic, its certificate must be in this computer's trust store; ask IT."
            if detail == "certificate"
            else f"A secure (https) connection to {host} could not be set up: the server there "
            "may not speak https, or something on your network interferes. Check the address; "
            "if your company inspects web traffic, its certificate must be in this computer's "
            "trust store (ask IT)."
        ),
        ErrorKind.PROXY: (
            "The proxy server set in the app's network settings could not be reached or would "
            f"not connect to {host}. Check its address there, or ask IT."
            if detail == "manual"
            else "The proxy server set for this computer (HTTPS_PROXY) could not be reached or "
            f"would not connect to {host}. Check the proxy settings, or ask IT."
        ),
        ErrorKind.DISCONNECTED: (
            f"{host} started to answer but closed the connection before finishing{tries}. The "
            "event may or may not have been recorded; try again in a few minutes."
            if detail == "mid_answer"
            else f"{host} accepted the connection but closed it without answering{tries}. "
            "Check the address; if it is right, try again in a few minutes."
        ),
        ErrorKind.PROTOCOL: {
            "headers_too_large": f"{host} answered with more header data than the app accepts "
            f"({_size(MAX_HEADER_BYTES)}){tries}; Segment never does that. Check the address.",
            "unreadable_body": f"{host} answered HTTP {status}, but in a form the app cannot "
            "read; Segment never does that. Check the address.",
            "not_segment": f"{host} answered HTTP {status}, but not with Segment's answer: a "
            "sign-in page, proxy or firewall may be in the way. Check the address and your "
            "network.",
        }.get(
            detail or "",
            f"{host} answered, but not as a web server does{tries}: something other than "
            "Segment is listening there. Check the address and port.",
        ),
        ErrorKind.TOO_LARGE: f"{host} answered HTTP {status} with "
        + (
            f"{_size(body.declared)} of data announced; the app did not read it."
            if body is not None and body.declared is not None
            else f"more than {CAP_TEXT} of data; the app stopped reading."
        )
        + " Segment's answers are tiny, so this is probably not Segment: check the address.",
        ErrorKind.BAD_REQUEST: f"Segment rejected the request as malformed or too large (HTTP "
        f"{status}). Nothing was recorded; check the property values and send again.",
        ErrorKind.AUTH: f"The server refused the write key (HTTP {status}). Copy the key again "
        "from the source's settings in Segment.",
        ErrorKind.NOT_FOUND: f"{host} has no Segment endpoint at /v1/{path} (HTTP 404). Check the "
        "address: Segment's US address is https://api.segment.io.",
        ErrorKind.RATE_LIMITED: f"Segment is limiting how fast it accepts events (HTTP 429) and "
        f"still refused{after_tries}. {wait}",
        ErrorKind.SERVER: f"Segment had a problem on its side (HTTP {status}){tries}. Try again "
        "in a few minutes; status.segment.com shows known incidents.",
        ErrorKind.HTTP: f"Segment answered with an unexpected HTTP {status}{tries}; the event "
        "was probably not recorded. Try again later.",
        ErrorKind.INVALID: "Not sent: the event has a problem.",
    }
    return messages[kind]
