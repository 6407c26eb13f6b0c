"""Wall-clock limits for sends: a deadline per call, and one watchdog thread that enforces them.

httpx's timeouts count per socket read, so a server that sends one byte a second never trips
them. The watchdog instead cuts an attempt at its deadline, however the bytes trickle in, by
calling the attempt's `cut`, which shuts the client's sockets down, as Cancel does.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from app.segment.sockets import Cut, Sockets

if TYPE_CHECKING:
    from app.segment.cancel import CancelToken

log = logging.getLogger(__name__)


class Deadline:
    """A point on the monotonic clock by which a whole call must be over."""

    __slots__ = ("budget", "ends")

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.ends = time.monotonic() + budget

    def left(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.ends - time.monotonic())


class Watch:
    """One attempt under the watchdog: `expired` turns true when `cut` has been called for it."""

    __slots__ = ("cut", "ends", "expired")

    def __init__(self, seconds: float, cut: Callable[[Watch], object]) -> None:
        self.ends = time.monotonic() + seconds
        self.cut = cut
        self.expired = False


class Watchdog:
    """A single daemon thread that cuts every watched attempt that outlives its deadline.

    Arming and disarming take a lock and touch a dict; the thread is woken only when a new
    deadline is earlier than the one it sleeps towards, so a busy client costs no thread
    switches per request.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition(threading.Lock())
        self._watched: dict[int, Watch] = {}
        self._wake_at = math.inf
        self._thread: threading.Thread | None = None

    def arm(self, watch: Watch) -> None:
        """Call `watch.cut(watch)` on the watchdog thread at `watch.ends`, unless released first.

        `cut` may still run just after a release that raced with the deadline: it must check
        that its attempt is the one still running before it cuts anything.
        """
        with self._lock:
            self._watched[id(watch)] = watch
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="segment-watchdog", daemon=True
                )
                self._thread.start()
            if watch.ends < self._wake_at:
                self._wake_at = watch.ends
                self._lock.notify()

    def release(self, watch: Watch) -> None:
        with self._lock:
            self._watched.pop(id(watch), None)

    def watching(self) -> int:
        """How many attempts are armed right now."""
        with self._lock:
            return len(self._watched)

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                due = [w for w in self._watched.values() if w.ends <= now]
                for watch in due:
                    del self._watched[id(watch)]
                    watch.expired = True
                if not due:
                    self._wake_at = min((w.ends for w in self._watched.values()), default=math.inf)
                    timeout = None if self._wake_at == math.inf else self._wake_at - now
                    self._lock.wait(timeout)
                    continue
            for watch in due:  # outside the lock: cutting takes the client's own lock
                try:
                    watch.cut(watch)
                except Exception:  # one failed cut must not leave every later attempt uncut
                    log.exception("Could not cut an attempt at its deadline")


WATCHDOG = Watchdog()


class Guarded:
    """One attempt on a client's sockets, cut at `seconds` by the watchdog or at once on Cancel.

    `with Guarded(sockets, seconds, cancel) as guard: ...`; afterwards `guard.why` says why the
    attempt was cut (Cut.DEADLINE or Cut.CANCELLED), or is None if it was not.
    """

    __slots__ = ("_cancel", "_sockets", "_unregister", "_watch", "why")

    def __init__(self, sockets: Sockets, seconds: float, cancel: CancelToken | None) -> None:
        self._sockets = sockets
        self._cancel = cancel
        self._watch = Watch(seconds, lambda expired: sockets.cut(expired, Cut.DEADLINE))
        self._unregister: Callable[[], None] | None = None
        self.why: Cut | None = None

    def __enter__(self) -> Guarded:
        watch, sockets = self._watch, self._sockets
        sockets.begin(watch)  # the watch is this attempt's token: a cut applies to it alone
        WATCHDOG.arm(watch)
        if self._cancel is not None:
            self._unregister = self._cancel.on_cancel(lambda: sockets.cut(watch, Cut.CANCELLED))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._unregister is not None:
            self._unregister()
        WATCHDOG.release(self._watch)
        self.why = self._sockets.end(self._watch)
