"""httpx's transport on a network backend whose connects and TLS handshakes can be cut short.

httpcore's own sync backend connects with socket.create_connection: each address of a name in
turn, each with the whole connect timeout, and no socket exists to shut down until one is
connected. Four addresses behind a firewall that drops packets made a 5-second limit take 20.
Here the backend resolves the name itself (the one lookup create_connection would have made),
registers each socket with the client's Sockets *before* connecting it, so the watchdog and
Cancel reach a connect in progress, and gives all addresses and the TLS handshake one connect
deadline between them.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

# httpcore's stream for TLS inside an https proxy's TLS has no public name (httpcore 1.0).
from httpcore._backends.sync import TLSinTLSStream

from app.segment.sockets import Cut, Sockets

# What socket.getaddrinfo gives: family, type, protocol, canonical name, socket address.
AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]
Resolver = Callable[[str, int], Sequence[AddressInfo]]

# httpx's own defaults (httpx.HTTPTransport's `limits`).
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


def system_resolver(host: str, port: int) -> Sequence[AddressInfo]:
    """The lookup socket.create_connection makes; socket.getaddrinfo is looked up per call."""
    return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)


class CuttableBackend(httpcore.SyncBackend):
    """httpcore's sync backend, with sockets that `sockets` can cut from the moment they exist.

    `timeout` of connect_tcp is one deadline for the name lookup, every address and the TLS
    handshake after it; each address that is left gets an equal share of the time that is left,
    so a dead first address (a broken IPv6 route, say) leaves time for the others.
    """

    def __init__(self, sockets: Sockets, resolver: Resolver = system_resolver) -> None:
        self._sockets = sockets
        self._resolve = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        ends = None if timeout is None else time.monotonic() + timeout
        try:
            addresses = list(self._resolve(host, port))
        except OSError as exc:  # socket.gaierror: the name was not found
            raise httpcore.ConnectError(exc) from exc
        if not addresses:
            raise httpcore.ConnectError(f"no address found for {host}")
        for index, (family, kind, proto, _, address) in enumerate(addresses):
            left = None if ends is None else ends - time.monotonic()
            if left is not None and left <= 0:
                break  # the name lookup took all the time there was
            share = None if left is None else left / (len(addresses) - index)
            sock = socket.socket(family, kind, proto)
            try:
                self._connect(sock, address, share, local_address, socket_options)
            except BaseException as exc:
                self._sockets.discard(sock)
                sock.close()
                if not isinstance(exc, OSError):
                    raise
                _raise_if_cut(self._sockets.why(), exc)
                out_of_time = ends is not None and ends <= time.monotonic()
                if index == len(addresses) - 1 or out_of_time:
                    # Raised here, so httpcore's `raise exc from None` leaves the OSError in
                    # __context__, where the client looks for 'refused'.
                    if isinstance(exc, TimeoutError) or out_of_time:
                        raise httpcore.ConnectTimeout(exc) from exc
                    raise httpcore.ConnectError(exc) from exc
                continue
            return CuttableStream(sock, self._sockets, ends)
        raise httpcore.ConnectTimeout("no time was left to connect")

    def _connect(
        self,
        sock: socket.socket,
        address: tuple[Any, ...],
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> None:
        """Connect `sock`, registered first so that a cut wakes the connect; raises OSError."""
        why = self._sockets.add(sock)
        if why is not None:
            raise _cut_error(why)
        if local_address is not None:
            sock.bind((local_address, 0))
        sock.settimeout(timeout)
        sock.connect(address)
        why = self._sockets.why()  # cut just as it opened: nothing may be sent on it
        if why is not None:
            raise _cut_error(why)
        for option in socket_options or ():
            sock.setsockopt(*option)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class CuttableStream(httpcore.NetworkStream):
    """A connected socket (plain or TLS) that stays registered with the client's Sockets."""

    def __init__(self, sock: socket.socket, sockets: Sockets, connect_ends: float | None) -> None:
        self._sock = sock
        self._sockets = sockets
        self._connect_ends = connect_ends  # the TLS handshake shares the connect deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            self._sock.settimeout(timeout)
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(exc) from exc
        except (OSError, ValueError) as exc:  # ValueError: a TLS socket closed under us
            raise httpcore.ReadError(exc) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            while buffer:
                self._sock.settimeout(timeout)
                buffer = buffer[self._sock.send(buffer) :]
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(exc) from exc
        except (OSError, ValueError) as exc:  # ValueError: a TLS socket closed under us
            raise httpcore.WriteError(exc) from exc

    def close(self) -> None:
        self._sockets.discard(self._sock)
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """The TLS handshake, within what is left of the connect deadline and cuttable."""
        if self._connect_ends is not None:
            left = self._connect_ends - time.monotonic()
            if left <= 0:
                self.close()
                raise httpcore.ConnectTimeout("no time was left for the secure handshake")
            timeout = left if timeout is None else min(timeout, left)
        if isinstance(self._sock, ssl.SSLSocket):  # an https proxy in front of an https site
            return self._tls_in_tls(ssl_context, server_hostname, timeout)
        # wrap_socket takes the descriptor away from self._sock: a duplicate stays registered
        # for the handshake, and shutting it down shuts the very same connection.
        guard: socket.socket | None = None
        try:
            guard = self._sock.dup()
            why = self._sockets.add(guard)
            if why is not None:
                raise _cut_error(why)
            self._sock.settimeout(timeout)
            tls = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except OSError as exc:
            self.close()
            raise _handshake_failure(self._sockets.why(), exc) from exc
        except BaseException:
            self.close()
            raise
        finally:
            if guard is not None:
                self._sockets.discard(guard)
                guard.close()
        self._sockets.discard(self._sock)
        stream = CuttableStream(tls, self._sockets, self._connect_ends)
        why = self._sockets.add(tls)
        if why is not None:  # cut just as the handshake ended
            stream.close()
            raise _connect_failure(why, _cut_error(why))
        return stream

    def _tls_in_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None, timeout: float | None
    ) -> httpcore.NetworkStream:
        """TLS inside the proxy's TLS: httpcore's own stream for it (no public name), which
        keeps using the outer socket, still registered here."""
        try:
            return TLSinTLSStream(self._sock, ssl_context, server_hostname, timeout)
        except OSError as exc:
            self.close()
            raise _handshake_failure(self._sockets.why(), exc) from exc

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock  # has SSLObject's methods: selected_alpn_protocol(), version() ...
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return _is_readable(self._sock)
        return None


class CuttableTransport(httpx.HTTPTransport):
    """httpx.HTTPTransport whose connection pool connects through a CuttableBackend.

    HTTPTransport.__init__ does one thing, build `self._pool`, and cannot be handed a network
    backend; so the pool is built here, with the same public httpcore constructors and the
    arguments httpx passes, and HTTPTransport's methods use it as their own.
    """

    def __init__(  # the parent's __init__ is not called: it would build a pool to throw away
        self,
        sockets: Sockets,
        *,
        ssl_context: ssl.SSLContext | None,
        proxy: str | None,
        resolver: Resolver = system_resolver,
        limits: httpx.Limits = LIMITS,
    ) -> None:
        backend = CuttableBackend(sockets, resolver)
        pool: dict[str, Any] = {
            "ssl_context": ssl_context,
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
            "network_backend": backend,
        }
        if proxy is None:
            self._pool = httpcore.ConnectionPool(**pool)
            return
        via = httpx.Proxy(url=proxy)
        url = httpcore.URL(
            scheme=via.url.raw_scheme,
            host=via.url.raw_host,
            port=via.url.port,
            target=via.url.raw_path,
        )
        if via.url.scheme in ("http", "https"):
            self._pool = httpcore.HTTPProxy(
                proxy_url=url,
                proxy_auth=via.raw_auth,
                proxy_headers=via.headers.raw,
                proxy_ssl_context=via.ssl_context,
                **pool,
            )
        elif via.url.scheme in ("socks5", "socks5h"):  # needs socksio, as httpx's own does
            self._pool = httpcore.SOCKSProxy(proxy_url=url, proxy_auth=via.raw_auth, **pool)
        else:
            raise ValueError(
                "Proxy protocol must be either 'http', 'https', 'socks5', or 'socks5h',"
                f" but got {via.url.scheme!r}."
            )


class _CutShort(OSError):
    """The attempt was cut before this socket could be used."""


def _cut_error(why: Cut) -> OSError:
    return _CutShort(why.value)


def _connect_failure(why: Cut, error: OSError) -> httpcore.ConnectError | httpcore.ConnectTimeout:
    """A connect or handshake that was cut: at the deadline a timeout, on Cancel an error."""
    cause = "" if isinstance(error, _CutShort) else f" ({error})"
    if why is Cut.DEADLINE:
        return httpcore.ConnectTimeout(f"cut at the attempt's deadline{cause}")
    return httpcore.ConnectError(f"cancelled{cause}")


def _handshake_failure(
    why: Cut | None, error: OSError
) -> httpcore.ConnectError | httpcore.ConnectTimeout:
    """What a failed TLS handshake becomes: cut, timed out, or refused by the other end."""
    if why is not None:
        return _connect_failure(why, error)
    if isinstance(error, TimeoutError):
        return httpcore.ConnectTimeout(error)
    return httpcore.ConnectError(error)


def _raise_if_cut(why: Cut | None, error: OSError) -> None:
    if why is not None:
        raise _connect_failure(why, error) from error


def _is_readable(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read, i.e. the server closed it (httpcore's
    is_socket_readable)."""
    fd = sock.fileno()
    if fd == -1:
        return True
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        readable, _, _ = select.select([fd], [], [], 0)
        return bool(readable)
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
