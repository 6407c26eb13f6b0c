"""`send` of one event as a whole process, against a bare Python script posting the same bytes.

What a script or CI job pays per call: interpreter start-up, imports, argument parsing, the key
check, one POST to a sandbox (in its own process) and the report.

- app: `python -m app send --event conversation-started --endpoint URL --max-attempts 1`, the
  key in $SEGMENT_WRITE_KEY.
- floor: `python -c` importing httpx and posting one track body of the same size with the same
  headers to the same sandbox. (curl is about 20x faster than both: that is Python's start-up.)

Interleaved ABBA pairs after one warm-up pair; the ratio is the median of per-pair ratios.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.benchmarks.common import Row, app_root, child_env, interleaved, median, summary
from tests.benchmarks.wire import KEY, _start_sandbox, _stop_sandbox

BARE_POST = """\
import sys
import httpx
body = open(sys.argv[2], "rb").read()
headers = {"Content-Type": "application/json", "Authorization": sys.argv[3]}
response = httpx.post(sys.argv[1] + "/v1/track", content=body, headers=headers)
print(response.status_code, response.text)
sys.exit(0 if response.is_success else 1)
"""


def _track_body() -> bytes:
    from app.chatlio import Conversation
    from app.segment.payload import Visitor, build_track, now_iso

    conversation = Conversation()
    message = build_track(conversation.events()[0], Visitor(conversation.visitor_id))
    payload = {k: v for k, v in message.payload.items() if k != "type"}
    return json.dumps({**payload, "sentAt": now_iso()}, separators=(",", ":")).encode()


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=app_root(), env=env, capture_output=True, text=True, timeout=60, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited {done.returncode}: {done.stderr[-500:]}")
    return seconds


def run(repeats: int, say: Callable[[str], None]) -> list[Row]:
    from app.redaction import basic_auth

    row = Row(
        id="send_process",
        name="send of one event, as a whole process",
        unit="s",
        compare="ratio",
        limit=1.25,
        floor_name="a bare Python script posting the same bytes with httpx (python -c)",
    )
    proc, url = _start_sandbox()
    try:
        with tempfile.TemporaryDirectory() as folder:
            body = Path(folder) / "track.json"
            body.write_bytes(_track_body())
            env = child_env(SEGMENT_WRITE_KEY=KEY)
            app = [sys.executable, "-m", "app", "send", "--event", "conversation-started"]
            app += ["--endpoint", url, "--max-attempts", "1"]
            floor = [sys.executable, "-c", BARE_POST, url, str(body), basic_auth(KEY)]
            floor_times: list[float] = []
            app_times: list[float] = []
            for index, floor_first in [(-1, True), *interleaved(repeats)]:
                order = [("floor", floor), ("app", app)]
                times = {
                    name: _timed(command, env)
                    for name, command in order[:: 1 if floor_first else -1]
                }
                if index >= 0:  # the first pair warms caches and bytecode: not counted
                    floor_times.append(times["floor"])
                    app_times.append(times["app"])
    except (RuntimeError, subprocess.SubprocessError) as exc:
        row.error = str(exc)
        return [row]
    finally:
        _stop_sandbox(proc)
    row.floor, row.app = median(floor_times), median(app_times)
    row.paired_ratio = median([a / f for a, f in zip(app_times, floor_times, strict=True)])
    row.samples = {"floor": floor_times, "app": app_times}
    row.details = {"floor": summary(floor_times), "app": summary(app_times)}
    say(f"  send: {row.app:.3f} s vs bare {row.floor:.3f} s ({row.ratio:.2f}x)")
    return [row]
