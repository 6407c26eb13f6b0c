"""Wire overhead: a whole conversation through the app's client against a bare httpx loop.

Both sides post to the same sandbox, which runs in its own process (the app's Sandbox class,
no request log) so that the server does not share a GIL with the client being measured.

- app: what SendPanel does on "Send a whole conversation": SegmentClient(key, endpoint) and
  send_each(events, visitor, CancelToken()) — payload building, validation, JSON encoding, the
  cancellable request thread, retry bookkeeping, redacted request copies, result objects.
- floor: httpx.Client() and one client.post() per event with the bytes and headers the app
  put on the wire (captured from the app's own SentRequest records; only the Authorization
  header, redacted there, is rebuilt).

Two variants, each timed over interleaved rounds after warm-up (the ratio is the median of the
rounds' app/floor ratios): "per click" creates the client
for every conversation on both sides (as the app does per click); "reused" keeps one client per
side open across rounds, isolating the per-request overhead.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.benchmarks.common import (
    Row,
    app_root,
    emit,
    interleaved,
    median,
    run_worker,
    summary,
)

MODULE = "tests.benchmarks.wire"
KEY = "BenchWriteKey0123456789abcdefXYZ"
SANDBOX = """\
import sys
from app.segment.sandbox import Sandbox
with Sandbox() as sandbox:
    print(sandbox.url, flush=True)
    sys.stdin.read()
"""


def _start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SANDBOX],
        cwd=app_root(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError("the sandbox did not start")
    return proc, url


def _stop_sandbox(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main(rounds: int, warmup: int) -> dict[str, Any]:
    import httpx

    from app.chatlio import Conversation
    from app.redaction import REDACTED_AUTH, basic_auth
    from app.segment.cancel import CancelToken
    from app.segment.client import SegmentClient
    from app.segment.endpoint import parse_endpoint
    from app.segment.payload import Visitor

    proc, url = _start_sandbox()
    try:
        endpoint = parse_endpoint(url)
        events = Conversation(visitor_id="bench-visitor").events()
        visitor = Visitor("bench-visitor")

        def check(results: list[Any]) -> list[Any]:
            if len(results) != len(events) or not all(r.ok for r in results):
                raise RuntimeError(f"app send failed: {[r.message for r in results]}")
            return results

        # What the app put on the wire, byte for byte, to replay on the floor side.
        with SegmentClient(KEY, endpoint) as client:
            sent = [r.request for r in check(client.send_each(events, visitor, CancelToken()))]
        requests = []
        for request in sent:
            headers = {
                name: (basic_auth(KEY) if value == REDACTED_AUTH else value)
                for name, value in request.headers.items()
                if name.lower() not in ("host", "content-length")
            }
            requests.append((request.url, headers, request.body.encode()))

        def app_per_click() -> None:
            with SegmentClient(KEY, endpoint) as client:
                check(client.send_each(events, visitor, CancelToken()))

        def floor_per_click() -> None:
            with httpx.Client() as client:
                for target, headers, body in requests:
                    client.post(target, content=body, headers=headers).raise_for_status()

        app_client = SegmentClient(KEY, endpoint)
        floor_client = httpx.Client()

        def app_reused() -> None:
            check(app_client.send_each(events, visitor, CancelToken()))

        def floor_reused() -> None:
            for target, headers, body in requests:
                floor_client.post(target, content=body, headers=headers).raise_for_status()

        variants: dict[str, dict[str, Callable[[], None]]] = {
            "per_click": {"app": app_per_click, "floor": floor_per_click},
            "reused": {"app": app_reused, "floor": floor_reused},
        }
        timings: dict[str, dict[str, list[float]]] = {}
        for variant, sides in variants.items():
            for _ in range(warmup):
                sides["floor"]()
                sides["app"]()
            times: dict[str, list[float]] = {"floor": [], "app": []}
            for _index, floor_first in interleaved(rounds):
                for side in ("floor", "app") if floor_first else ("app", "floor"):
                    started = time.perf_counter()
                    sides[side]()
                    times[side].append((time.perf_counter() - started) * 1000)
            timings[variant] = times
        app_client.close()
        floor_client.close()
    finally:
        _stop_sandbox(proc)
    return {
        "timings_ms": timings,
        "events": len(events),
        "body_bytes": [len(body) for _url, _headers, body in requests],
        "headers": sorted(name for name in requests[0][1] if name.lower() != "authorization"),
    }


def run(rounds: int, warmup: int = 5, say: Callable[[str], None] = print) -> list[Row]:
    rows = [
        Row(
            "wire_per_click",
            "Wire: whole conversation, client per click",
            "ms",
            "ratio",
            1.3,
            floor_name="httpx.Client() + 6 posts, same bytes",
        ),
        Row(
            "wire_reused",
            "Wire: whole conversation, client reused",
            "ms",
            "ratio",
            1.3,
            floor_name="open httpx.Client, 6 posts, same bytes",
        ),
    ]
    try:
        outcome = run_worker(MODULE, str(rounds), str(warmup), timeout=600)
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        for row in rows:
            row.error = str(error)
        return rows
    for row in rows:
        times = outcome["timings_ms"][row.id.removeprefix("wire_")]
        row.floor = summary(times["floor"])["median"]
        row.app = summary(times["app"])["median"]
        pairs = [app / floor for app, floor in zip(times["app"], times["floor"], strict=True)]
        row.paired_ratio = median(pairs)
        row.samples = times
        row.details = {
            "ratio_of_medians": row.app / row.floor,
            "floor": summary(times["floor"]),
            "app": summary(times["app"]),
            "rounds": rounds,
            "warmup": warmup,
            "events": outcome["events"],
            "body_bytes": outcome["body_bytes"],
            "headers": outcome["headers"],
        }
        say(f"  wire {row.id}: floor {row.floor:.2f} ms, app {row.app:.2f} ms")
    return rows


if __name__ == "__main__":
    emit(main(int(sys.argv[1]), int(sys.argv[2])))
