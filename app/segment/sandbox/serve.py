"""The `sandbox` command: run a sandbox in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType
from typing import Any, TextIO

from app.exit_codes import ExitCode


def serve(host: str, port: int, out: TextIO, *, chatlio_source: bool = False) -> int:
    """Run a sandbox until SIGINT or SIGTERM: its URL first on `out`, then a line per request.

    The URL's line is followed by two saying where its Public API and CDN stand-ins are, and
    the (made-up) token the Public API takes. Returns 0 after a clean stop, 1 if the address
    cannot be bound.
    """
    from app.segment import SANDBOX_KEY, SANDBOX_TOKEN
    from app.segment.sandbox import Sandbox

    write_lock = threading.Lock()

    def emit(line: str) -> None:
        with write_lock:
            try:
                out.write(line + "\n")
            except UnicodeEncodeError:
                out.write(line.encode("ascii", "backslashreplace").decode("ascii") + "\n")
            out.flush()

    # Request lines come from the sandbox's log thread; they wait until the URL is out.
    url_shown = threading.Event()

    def log_line(line: str) -> None:
        url_shown.wait()
        emit(line)

    sandbox = Sandbox(host, port, on_request=log_line, chatlio_source=chatlio_source)
    try:
        sandbox.start()
    except OSError as exc:
        print(
            f"The sandbox cannot listen on {host}:{port} ({exc.strerror or exc}). Pick another "
            "--port, or --port 0 for a free one.",
            file=sys.stderr,
        )
        return ExitCode.FAILED

    # A plain flag, not an Event: Event.set() inside a signal handler can deadlock
    # against the same thread's Event.wait().
    stop_requested: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop_requested.append(signum)

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        emit(sandbox.url)
        emit(f"Public API: {sandbox.public_api_url} (token: {SANDBOX_TOKEN})")
        chatlio = f"; the Chatlio source's key is {SANDBOX_KEY}" if chatlio_source else ""
        emit(f"CDN settings: {sandbox.cdn_url}/v1/projects/<write key>/settings{chatlio}")
        url_shown.set()
        while not stop_requested:
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return ExitCode.OK
