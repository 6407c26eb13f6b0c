"""Loopback servers that misbehave on purpose: real sockets for proving the client's bounds.

Each `HostileServer` listens on 127.0.0.1 and runs one behaviour per accepted connection on its
own thread. A behaviour gets the connection and a stop event; leaving the `with` block sets the
event, closes every socket and joins every thread, so tests leave nothing open behind them.
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import ipaddress
import select
import socket
import ssl
import sys
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Behaviour = Callable[[socket.socket, threading.Event], None]

_POLL = 0.05  # how often a blocked behaviour looks at the stop event


class HostileServer:
    """A TCP server on 127.0.0.1 that answers every connection with `behaviour`."""

    def __init__(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(_POLL)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self.accepted = 0  # connections accepted so far
        self._acceptor = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            connections, threads = list(self._connections), list(self._threads)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(5)
        for conn in connections:
            conn.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(_POLL)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self.accepted += 1
                self._connections.append(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self._behaviour(conn, self._stop)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)  # done: the client sees the connection close
        conn.close()


# --- building blocks ---------------------------------------------------------------------------


def read_request(conn: socket.socket, stop: threading.Event) -> bytes | None:
    """Read one HTTP request (head and Content-Length body); None if the peer went away."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(conn, stop)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = _recv(conn, stop)
        if not chunk:
            return None
        body += chunk
    return head


def _recv(conn: socket.socket, stop: threading.Event) -> bytes:
    while not stop.is_set():
        try:
            return conn.recv(65536)
        except TimeoutError:
            continue
    return b""


def send_slowly(conn: socket.socket, stop: threading.Event, data: bytes, interval: float) -> None:
    """Send `data` one byte every `interval` seconds, until done or stopped."""
    for index in range(len(data)):
        if stop.wait(interval):
            return
        conn.sendall(data[index : index + 1])


def hold(stop: threading.Event) -> None:
    stop.wait()


def response(
    status: int = 200,
    body: bytes = b'{"success":true}',
    headers: Sequence[tuple[str, str]] = (),
    *,
    length: int | None = None,
    chunked: bool = False,
) -> bytes:
    """An HTTP/1.1 response; `length` overrides the Content-Length that is declared, and
    `chunked` sends the body in 16 KB chunks with no length declared at all."""
    lines = [f"HTTP/1.1 {status} Whatever"]
    lines += [f"{name}: {value}" for name, value in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        step = 16 * 1024
        pieces = [body[i : i + step] for i in range(0, len(body), step)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def gzip_bomb(decoded_bytes: int) -> bytes:
    """A gzip stream of `decoded_bytes` zero bytes: about a thousand times smaller than that."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = bytes(1024 * 1024)
    parts = []
    left = decoded_bytes
    while left > 0:
        parts.append(packer.compress(piece[: min(left, len(piece))]))
        left -= len(piece)
    parts.append(packer.flush())
    return b"".join(parts)


# --- behaviours --------------------------------------------------------------------------------


def drip_headers(interval: float = 0.5) -> Behaviour:
    """A status line, then a header that never ends, one byte at a time."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if read_request(conn, stop) is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        send_slowly(conn, stop, b"a" * 100_000, interval)

    return behave


def drip_body(interval: float = 0.5) -> Behaviour:
    """Complete headers for a 10,000-byte body, then the body one byte at a time."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if read_request(conn, stop) is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n")
        send_slowly(conn, stop, b"x" * 10_000, interval)

    return behave


def garbage(data: bytes = b"\x1b[31mSSH-2.0-OpenSSH_9.2\r\n\x00\xff") -> Behaviour:
    """Something that is not HTTP at all, then the connection closes."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if read_request(conn, stop) is None:
            return
        conn.sendall(data)

    return behave


def reply_at_once(
    data: bytes = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
) -> Behaviour:
    """Answers the first bytes received, whatever they are (a TLS hello, say), with `data`."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if _recv(conn, stop):
            conn.sendall(data)

    return behave


def close_before_answer() -> Behaviour:
    """Reads the request, then closes without a byte of answer."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn, stop)

    return behave


def close_mid_body() -> Behaviour:
    """Headers for a 1,000-byte body, 10 bytes of it, then the connection closes."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if read_request(conn, stop) is None:
            return
        conn.sendall(response(200, b'{"success"', length=1000))

    return behave


def huge_header(size: int = 1024 * 1024) -> Behaviour:
    """A header line of `size` bytes, sent as fast as the client takes it."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if read_request(conn, stop) is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Huge: " + b"h" * size + b"\r\n\r\n")

    return behave


def declared_huge(declared: int = 5 * 1024**3) -> Behaviour:
    """Declares a `declared`-byte body, then sends zero bytes as fast as the client takes them."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if read_request(conn, stop) is None:
            return
        conn.sendall(response(200, b"", length=declared))
        chunk = bytes(65536)
        for _ in range(declared // len(chunk)):
            if stop.is_set():
                return
            try:
                conn.sendall(chunk)
            except TimeoutError:
                continue

    return behave


def never_answer() -> Behaviour:
    """Reads the request and then says nothing, holding the connection open."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn, stop)
        hold(stop)

    return behave


@dataclass
class Script:
    """Answers each request with the next canned response; the last one repeats."""

    responses: list[bytes]
    requests: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        head = read_request(conn, stop)
        if head is None:
            return
        with self._lock:
            self.requests.append(head)
            answer = self.responses[min(len(self.requests), len(self.responses)) - 1]
        conn.sendall(answer)


def gzip_response(decoded_bytes: int, status: int = 200, *, chunked: bool = False) -> bytes:
    """A gzip-compressed body of `decoded_bytes` zeros (a bomb, when that is large)."""
    headers = [("Content-Encoding", "gzip")]
    return response(status, gzip_bomb(decoded_bytes), headers, chunked=chunked)


def gzip_ok() -> bytes:
    """A normal, small gzip-compressed Segment answer."""
    return response(200, gzip.compress(b'{"success":true}'), [("Content-Encoding", "gzip")])


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port where nothing listens: connections to it are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    yield port


# Linux drops the SYN of a connection to a listener whose accept queue is full, so the connect
# hangs as it does behind a firewall that drops packets. Other systems may refuse it instead.
BLACKHOLE_WORKS = sys.platform == "linux"
BLACKHOLE_REASON = "only Linux drops connections to a listener whose accept queue is full"


@contextlib.contextmanager
def never_opening(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    """A listener on `host` whose accept queue is full: a connect to it never opens (on Linux)
    until the listener accepts what fills the queue."""
    server = socket.socket()
    fillers = [socket.socket() for _ in range(3)]
    try:
        server.bind((host, 0))
        server.listen(0)
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(server.getsockname())
        yield server
    finally:
        for sock in [*fillers, server]:
            sock.close()


# --- TLS and proxies ---------------------------------------------------------------------------


def silent() -> Behaviour:
    """Accepts the connection and never says a word: a TLS hello goes unanswered."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        hold(stop)

    return behave


def tls(context: ssl.SSLContext, behaviour: Behaviour) -> Behaviour:
    """`behaviour` inside TLS with `context` (a server context)."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.settimeout(5)  # the handshake: a whole-handshake deadline in CPython
        with context.wrap_socket(conn, server_side=True) as wrapped:
            wrapped.settimeout(_POLL)
            behaviour(wrapped, stop)

    return behave


@dataclass
class ConnectProxy:
    """An HTTP proxy that only tunnels (CONNECT), as company proxies do for https."""

    tunnels: list[str] = field(default_factory=list)  # the host:port of every CONNECT

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        head = read_request(conn, stop)
        if head is None:
            return
        method, target, _ = head.split(b"\r\n")[0].decode("latin-1").split(" ", 2)
        if method != "CONNECT":
            conn.sendall(response(405, b"CONNECT only"))
            return
        self.tunnels.append(target)
        host, _, port = target.rpartition(":")
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as upstream:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(conn, upstream, stop)


def _pipe(one: socket.socket, other: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes or the server stops."""
    peers = {one: other, other: one}
    while not stop.is_set():
        # TLS may hold decrypted bytes that select() cannot see: those count as readable too.
        pending = [s for s in peers if isinstance(s, ssl.SSLSocket) and s.pending()]
        readable = pending or select.select(list(peers), [], [], _POLL)[0]
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            peers[sock].sendall(data)


def tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate it signed for 127.0.0.1 and localhost, as PEM files:
    (CA certificate, server certificate, server key). Needs the cryptography package."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile_server test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def server_context(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    return context
