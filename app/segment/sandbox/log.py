"""The request log: one escaped line per request, handed to a hook on a thread of its own."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Final

from app.redaction import mask, printable

# Lines waiting for a slow hook (a terminal nobody scrolls, a full pipe); past this, new lines
# are dropped and counted rather than letting the log hold up serving or grow without end.
MAX_PENDING_LINES: Final = 1000
_PATH_CHARS: Final = 200

Hook = Callable[[str], None]


def mask_key(key: str | None) -> str:
    """A write key as it may appear in a log: first and last two characters only, escaped."""
    return printable(mask(key)) if key else "(none)"


def request_line(
    method: str,
    path: str,
    status: int | None,
    elapsed_ms: float,
    *,
    api: bool = False,
    key: str | None = None,
    events: int = 0,
    reasons: Iterable[str] = (),
    note: str = "",
) -> str:
    """The log line for one request; everything the client chose is escaped and cut."""
    parts = [printable(method, 20), printable(path, _PATH_CHARS)]
    parts.append("dropped" if status is None else str(status))
    if api:
        parts += [f"key={mask_key(key)}", f"{events} event(s)"]
    parts.append(f"{elapsed_ms:.1f} ms")
    line = " ".join(parts) + note
    discards = sorted(set(reasons))
    if discards:
        line += f" [Segment would discard: {', '.join(discards)}]"
    return line


class RequestLog:
    """Delivers lines to their hook in order, on one daemon thread started with the first line.

    A hook that raises loses its line, never the server. When lines had to be dropped, a line
    saying how many follows once the hook has caught up.
    """

    def __init__(self, capacity: int = MAX_PENDING_LINES) -> None:
        self._capacity = capacity
        self._ready = threading.Condition()
        self._lines: deque[tuple[Hook, str]] = deque()
        self._dropped = 0
        self._unreported = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    @property
    def dropped(self) -> int:
        """Lines dropped because the hook was too slow, since this log was made."""
        with self._ready:
            return self._dropped

    def put(self, hook: Hook, line: str) -> None:
        with self._ready:
            if self._closed:
                return
            if len(self._lines) >= self._capacity:
                self._dropped += 1
                self._unreported += 1
                return
            self._lines.append((hook, line))
            if self._thread is None:
                self._thread = threading.Thread(target=self._deliver, name="sandbox-log")
                self._thread.daemon = True
                self._thread.start()
            self._ready.notify()

    def close(self, timeout: float = 1.0) -> None:
        """Deliver what is waiting (for at most `timeout` seconds), then take no more lines."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _deliver(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._lines or self._closed)
                if not self._lines:
                    return
                hook, line = self._lines.popleft()
                lost = self._unreported if not self._lines else 0
                self._unreported -= lost
            _call(hook, line)
            if lost:
                _call(hook, f"({lost} log line(s) dropped: the log was read too slowly)")


def _call(hook: Hook, line: str) -> None:
    try:
        hook(line)
    except Exception:  # noqa: BLE001 - a failing log sink must not stop the log
        return
