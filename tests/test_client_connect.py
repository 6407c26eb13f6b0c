"""Connecting within bounds, on real loopback sockets: every address of a name and the TLS
handshake share one deadline, the watchdog and Cancel reach a connect in progress, and TLS and
proxies still work through the client's own network backend.

A name with several addresses is made by answering socket.getaddrinfo for one made-up name
(httpcore's own backend looked it up the same way): every address is a real listener.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpcore
import pytest

from app.chatlio import Conversation
from app.segment.cancel import CancelToken
from app.segment.client import SegmentClient
from app.segment.endpoint import Endpoint, Region, parse_endpoint
from app.segment.payload import Visitor
from app.segment.result import ErrorKind, SendResult
from app.segment.retry import RetryPolicy
from app.segment.sandbox import Sandbox
from app.segment.sockets import Sockets
from app.segment.transport import AddressInfo, CuttableBackend
from tests.hostile_server import (
    BLACKHOLE_REASON,
    BLACKHOLE_WORKS,
    ConnectProxy,
    HostileServer,
    Script,
    closed_port,
    never_answer,
    never_opening,
    response,
    server_context,
    silent,
    tls,
    tls_files,
)

KEY = "ConnectTestKey0123456789abcdef01"
ONE_TRY = RetryPolicy(max_attempts=1, total_budget=120)
CEILING = 15.0  # seconds; what each test guards against would take 40 s or more
NAME = "several.addresses.test"
blackhole = pytest.mark.skipif(not BLACKHOLE_WORKS, reason=BLACKHOLE_REASON)


def infos(addresses: Sequence[tuple[str, int]]) -> list[AddressInfo]:
    return [
        (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", address)
        for address in addresses
    ]


@contextlib.contextmanager
def resolving(
    monkeypatch: pytest.MonkeyPatch, addresses: Sequence[tuple[str, int]], delay: float = 0
) -> Iterator[str]:
    """NAME resolves to `addresses` (after `delay` seconds, as a slow DNS server would)."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real(host, port, *args, **kwargs)
        time.sleep(delay)
        return infos(addresses)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield NAME


@contextlib.contextmanager
def dead_addresses(count: int) -> Iterator[list[tuple[str, int]]]:
    """`count` loopback addresses where a connect never opens."""
    with contextlib.ExitStack() as stack:
        listeners = [stack.enter_context(never_opening()) for _ in range(count)]
        yield [listener.getsockname() for listener in listeners]


@contextlib.contextmanager
def listening() -> Iterator[tuple[str, int]]:
    """A loopback address where a connect opens at once (the kernel accepts it)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()


def send(
    endpoint: Endpoint, timeout: float, cancel: CancelToken | None = None
) -> tuple[SendResult, float]:
    with SegmentClient(KEY, endpoint, retry=ONE_TRY, timeout=timeout) as client:
        started = time.monotonic()
        result = client.track(Conversation().events()[0], Visitor("v"), cancel)
    return result, time.monotonic() - started


# --- every address shares one connect deadline --------------------------------------------------


@blackhole
def test_several_dead_addresses_share_one_connect_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # socket.create_connection gave each of the 8 addresses the whole 5 s: 40 s in all.
    with dead_addresses(8) as dead, resolving(monkeypatch, dead) as name:
        result, took = send(Endpoint(f"http://{name}", Region.CUSTOM), timeout=5)
    assert took < CEILING
    assert result.error_kind is ErrorKind.TIMEOUT
    assert f"Could not connect to {name} within 5 seconds" in result.message


@blackhole
def test_a_dead_first_address_leaves_time_for_the_next() -> None:
    # The first address gets its share (half of 6 s), not the whole budget: the second opens.
    with dead_addresses(1) as dead, listening() as alive:
        backend = CuttableBackend(Sockets(), lambda host, port: infos([*dead, alive]))
        stream = backend.connect_tcp(NAME, 443, timeout=6)
        try:
            assert stream.get_extra_info("server_addr") == alive
        finally:
            stream.close()


@blackhole
def test_all_addresses_dead_fail_within_the_one_deadline() -> None:
    with dead_addresses(10) as dead:
        backend = CuttableBackend(Sockets(), lambda host, port: infos(dead))
        started = time.monotonic()
        with pytest.raises(httpcore.ConnectTimeout):
            backend.connect_tcp(NAME, 443, timeout=4)  # 10 x 4 s, one after the other
    assert time.monotonic() - started < CEILING


def test_a_refused_address_moves_on_to_the_next() -> None:
    with closed_port() as port, listening() as alive:
        backend = CuttableBackend(Sockets(), lambda host, _: infos([("127.0.0.1", port), alive]))
        stream = backend.connect_tcp(NAME, 443, timeout=5)
        stream.close()
        backend = CuttableBackend(Sockets(), lambda host, _: infos([("127.0.0.1", port)] * 2))
        with pytest.raises(httpcore.ConnectError) as raised:
            backend.connect_tcp(NAME, 443, timeout=5)
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)


def test_a_name_that_is_not_found_is_a_dns_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_found(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", not_found)
    result, _ = send(Endpoint("https://no-such-host.test", Region.CUSTOM), timeout=5)
    assert result.error_kind is ErrorKind.DNS


# --- Cancel and the watchdog reach a connect in progress ---------------------------------------


@blackhole
def test_cancel_cuts_a_connect_in_progress() -> None:
    cancel = CancelToken()
    with never_opening() as server:
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        threading.Timer(0.3, cancel.cancel).start()
        result, took = send(parse_endpoint(url), timeout=60, cancel=cancel)
    assert took < 5  # the connect alone was allowed 10 s
    assert result.error_kind is ErrorKind.CANCELLED


@blackhole
def test_cancel_cuts_a_connect_to_a_name_with_several_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancel = CancelToken()
    with dead_addresses(4) as dead, resolving(monkeypatch, dead) as name:
        threading.Timer(0.3, cancel.cancel).start()
        result, took = send(Endpoint(f"http://{name}", Region.CUSTOM), timeout=60, cancel=cancel)
    assert took < CEILING  # 4 addresses x 10 s before
    assert result.error_kind is ErrorKind.CANCELLED
    assert "Cancelled" in result.message


# --- the TLS handshake is inside the bounds -----------------------------------------------------


def test_cancel_cuts_a_tls_handshake_in_progress() -> None:
    cancel = CancelToken()
    with HostileServer(silent()) as server:
        endpoint = Endpoint(f"https://127.0.0.1:{server.port}", Region.CUSTOM)
        threading.Timer(0.3, cancel.cancel).start()
        result, took = send(endpoint, timeout=60, cancel=cancel)
    assert took < 5  # the handshake alone was allowed 10 s
    assert result.error_kind is ErrorKind.CANCELLED


def test_a_stalled_tls_handshake_ends_at_the_attempt_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The name lookup takes 5.5 s of a 6-second try; the handshake used to get 6 s more.
    with (
        HostileServer(silent()) as server,
        resolving(monkeypatch, [("127.0.0.1", server.port)], delay=5.5) as name,
    ):
        result, took = send(Endpoint(f"https://{name}", Region.CUSTOM), timeout=6)
    assert took < 9  # 11.5 s before
    assert result.error_kind is ErrorKind.TIMEOUT
    assert f"Could not connect to {name} within 6 seconds" in result.message


# --- TLS and proxies work through the backend ---------------------------------------------------

# OpenSSL reads SSL_CERT_FILE; the OS trust stores that truststore uses elsewhere do not.
trusts_ssl_cert_file = pytest.mark.skipif(
    sys.platform != "linux", reason="the test CA is trusted through SSL_CERT_FILE (OpenSSL)"
)


@pytest.fixture
def certificates(tmp_path: Path) -> tuple[Path, Path, Path]:
    pytest.importorskip("cryptography")
    return tls_files(tmp_path)


@trusts_ssl_cert_file
def test_a_tls_answer_is_read(
    certificates: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, certificate, key = certificates
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    segment_like = tls(server_context(certificate, key), Script([response(200)]))
    with HostileServer(segment_like) as server:
        result, _ = send(parse_endpoint(f"https://127.0.0.1:{server.port}"), timeout=5)
    assert result.ok, result.message
    assert result.body == '{"success":true}'


def test_an_untrusted_certificate_is_refused(certificates: tuple[Path, Path, Path]) -> None:
    _, certificate, key = certificates  # the test CA is not trusted here
    segment_like = tls(server_context(certificate, key), Script([response(200)]))
    with HostileServer(segment_like) as server:
        result, _ = send(parse_endpoint(f"https://127.0.0.1:{server.port}"), timeout=5)
    assert result.error_kind is ErrorKind.TLS
    assert "could not be verified" in result.message


@trusts_ssl_cert_file
def test_https_goes_through_the_proxy_tunnel(
    certificates: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, certificate, key = certificates
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    proxy = ConnectProxy()
    segment_like = tls(server_context(certificate, key), Script([response(200)]))
    with HostileServer(segment_like) as server, HostileServer(proxy) as company_proxy:
        monkeypatch.setenv("HTTPS_PROXY", company_proxy.url)
        address = f"127.0.0.1:{server.port}"
        result, _ = send(parse_endpoint(f"https://{address}"), timeout=5)
    assert result.ok, result.message
    assert proxy.tunnels == [address]


@trusts_ssl_cert_file
def test_https_goes_through_an_https_proxy(
    certificates: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # TLS to the site inside TLS to the proxy.
    ca, certificate, key = certificates
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    context = server_context(certificate, key)
    proxy = ConnectProxy()
    segment_like = tls(context, Script([response(200)]))
    with HostileServer(segment_like) as server, HostileServer(tls(context, proxy)) as via:
        monkeypatch.setenv("HTTPS_PROXY", f"https://127.0.0.1:{via.port}")
        address = f"127.0.0.1:{server.port}"
        result, _ = send(parse_endpoint(f"https://{address}"), timeout=5)
    assert result.ok, result.message
    assert proxy.tunnels == [address]


@pytest.mark.parametrize("scheme", ["http://", ""])  # 'host:port' means an http proxy
def test_http_goes_through_the_forward_proxy(monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    script = Script([response(200)])
    with closed_port() as port, HostileServer(script) as company_proxy:
        monkeypatch.setenv("HTTP_PROXY", f"{scheme}127.0.0.1:{company_proxy.port}")
        result, _ = send(parse_endpoint(f"http://127.0.0.1:{port}"), timeout=5)
    assert result.ok, result.message  # nothing listens at the address itself
    assert script.requests[0].startswith(f"POST http://127.0.0.1:{port}/v1/track ".encode())


def test_no_proxy_sends_straight_to_the_address(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    with closed_port() as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")  # would be refused
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        result, _ = send(parse_endpoint(sandbox.url), timeout=5)
    assert result.ok, result.message


def test_cutting_a_tls_socket_keeps_its_encryption(certificates: tuple[Path, Path, Path]) -> None:
    """ssl.SSLSocket.shutdown drops the TLS state first: a write racing with it on another
    thread would go out in clear text. A cut shuts the socket underneath TLS instead."""
    import ssl

    from app.segment.sockets import shut

    ca, certificate, key = certificates
    client_context = ssl.create_default_context(cafile=str(ca))
    with HostileServer(tls(server_context(certificate, key), never_answer())) as server:
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        with client_context.wrap_socket(raw, server_hostname="127.0.0.1") as encrypted:
            assert encrypted.version() is not None

            shut(encrypted)

            assert encrypted.version() is not None  # still TLS: nothing can go out in clear
            with pytest.raises((OSError, ValueError)):
                encrypted.sendall(b"Authorization: Basic c2VjcmV0a2V5Og==\r\n" * 100)
