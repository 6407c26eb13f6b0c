"""The sockets one client opened, and the one attempt that the deadline or Cancel may cut."""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from enum import Enum


class Cut(Enum):
    """Why an attempt was cut short."""

    DEADLINE = "deadline"  # the watchdog: the attempt's time ran out
    CANCELLED = "cancelled"  # the user pressed Cancel


def shut(sock: socket.socket) -> None:
    """Shut a socket down both ways: a thread blocked on it, in connect() too, wakes at once.

    The plain socket's shutdown, even for a TLS socket: ssl.SSLSocket.shutdown first drops its
    TLS state, and a write racing with it on another thread would go out unencrypted, write key
    and all. Shut underneath, the TLS socket keeps its state and its next read or write fails.
    """
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Sockets:
    """Every socket of one client, and the attempt running on them now.

    A socket is added before it connects, so that a cut reaches a connect in progress. A cut
    names the attempt it was armed for and applies only while that attempt is the running one;
    it shuts the sockets while holding the lock, so the next attempt (which may reuse a
    keep-alive socket) cannot begin until the cut is over.
    """

    def __init__(self, shutter: Callable[[socket.socket], None] = shut) -> None:
        self._lock = threading.Lock()  # the worker adds and removes, other threads cut
        self._open: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._running: object | None = None
        self._why: Cut | None = None  # why the running attempt was cut, if it was
        self._shut = shutter

    def begin(self, attempt: object) -> None:
        """`attempt` (any object, compared by identity) runs on these sockets from now on."""
        with self._lock:
            self._running = attempt
            self._why = None

    def end(self, attempt: object) -> Cut | None:
        """`attempt` is over: why it was cut, if it was. A cut armed for it is void from now."""
        with self._lock:
            if self._running is not attempt:
                return None
            why, self._running, self._why = self._why, None, None
            return why

    def cut(self, attempt: object, why: Cut) -> bool:
        """Shut every socket if `attempt` is still running; False if it is over (or was cut)."""
        with self._lock:
            if self._running is not attempt or self._why is not None:
                return False
            self._why = why
            for sock in list(self._open):
                self._shut(sock)
            return True

    def add(self, sock: socket.socket) -> Cut | None:
        """Register a socket before it is used; if the running attempt is already cut, why
        (and the socket must not be used)."""
        with self._lock:
            self._open.add(sock)
            return self._why

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def why(self) -> Cut | None:
        """Why the running attempt was cut, or None."""
        with self._lock:
            return self._why
