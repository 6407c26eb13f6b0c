"""Sandbox under load: 50 keep-alive clients against a bare ThreadingHTTPServer, and its memory.

Each server runs in a process of its own, and the load generator in a third, so that neither
shares a GIL with the clients hammering it.

- throughput: 50 threads, one keep-alive socket each, post the same realistic track event (the
  app's own payload, the app's headers) as fast as each answer comes back, for a fixed time per
  round. Floor: http.server.ThreadingHTTPServer whose handler reads the body and answers 200
  {"success": true} — no judging, no recording. Rounds alternate floor and sandbox (ABBA); the
  figure is time per 1,000 requests, so "sandbox at least 0.8 times the floor's throughput"
  reads as a ratio of at most 1.25. p50 and p99 latency pool every request of the measured
  rounds.
- memory: a fresh sandbox's resident set after 1,000 events (the floor) and after 100,000 (it
  keeps the newest 10,000): bounded retention means the second is only a few MB more.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks.common import Row, app_root, emit, interleaved, median, run_worker

MODULE = "tests.benchmarks.sandbox_load"
KEY = "BenchWriteKey0123456789abcdefXYZ"
CLIENTS = 50
SANDBOX = """\
import sys
from app.segment.sandbox import Sandbox
with Sandbox() as sandbox:
    print(sandbox.url, flush=True)
    sys.stdin.read()
"""
FLOOR = """\
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"success": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

server = Server(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
sys.stdin.read()
"""
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class _Process:
    """A server in a child process: its URL from the first line, stopped by closing stdin."""

    def __init__(self, code: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=app_root(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        url = self.proc.stdout.readline().strip()
        if not url.startswith("http"):
            self.stop()
            raise RuntimeError("a server did not start")
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.address = (host, int(port))

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def _request_bytes() -> bytes:
    from app.chatlio import Conversation
    from app.redaction import basic_auth
    from app.segment.payload import Visitor, build_track

    event = Conversation(visitor_id="bench-visitor").events()[0]
    body = json.dumps(build_track(event, Visitor("bench-visitor")).payload).encode()
    head = (
        "POST /v1/track HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {basic_auth(KEY)}\r\nContent-Type: application/json\r\n"
        f"User-Agent: chatlio-segment-setup/bench\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _read_answer(sock: socket.socket) -> None:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        data += chunk
        end = data.find(b"\r\n\r\n")
        if end < 0:
            continue
        if not data.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"unexpected answer {data[:40]!r}")
        match = _LENGTH.search(data, 0, end + 2)
        if match is None:
            raise RuntimeError("an answer without Content-Length")
        if len(data) >= end + 4 + int(match.group(1)):
            return


def _load(
    address: tuple[str, int], request: bytes, *, seconds: float = 0, total: int = 0
) -> tuple[int, float, list[float]]:
    """CLIENTS threads post for `seconds`, or `total` requests: count, time, latencies."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    tickets = itertools.count()
    start = threading.Barrier(CLIENTS + 1)
    failures: list[BaseException] = []
    deadline = [0.0]

    def client(mine: list[float]) -> None:
        try:
            with socket.create_connection(address, timeout=30) as sock:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                start.wait()
                while (total and next(tickets) < total) or (
                    seconds and time.perf_counter() < deadline[0]
                ):
                    began = time.perf_counter()
                    sock.sendall(request)
                    _read_answer(sock)
                    mine.append(time.perf_counter() - began)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failures.append(exc)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} client(s) failed: {failures[0]!r}")
    flat = [value for mine in latencies for value in mine]
    return len(flat), elapsed, flat


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(rounds: int, seconds: float) -> dict[str, Any]:
    request = _request_bytes()
    servers = {"floor": _Process(FLOOR), "app": _Process(SANDBOX)}
    try:
        for server in servers.values():
            _load(server.address, request, seconds=1)  # warm-up
        per_1000_ms: dict[str, list[float]] = {"floor": [], "app": []}
        throughput: dict[str, list[float]] = {"floor": [], "app": []}
        latencies: dict[str, list[float]] = {"floor": [], "app": []}
        for _index, floor_first in interleaved(rounds):
            for side in ("floor", "app") if floor_first else ("app", "floor"):
                count, elapsed, flat = _load(servers[side].address, request, seconds=seconds)
                throughput[side].append(count / elapsed)
                per_1000_ms[side].append(elapsed / count * 1000 * 1000)
                latencies[side] += flat
    finally:
        for server in servers.values():
            server.stop()

    memory = _Process(SANDBOX)
    try:
        _load(memory.address, request, total=1_000)
        rss_1k = memory.rss_mb()
        _load(memory.address, request, total=99_000)
        rss_100k = memory.rss_mb()
        with socket.create_connection(memory.address, timeout=10) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        health = json.loads(b"".join(chunks).split(b"\r\n\r\n", 1)[1])
    finally:
        memory.stop()
    return {
        "per_1000_ms": per_1000_ms,
        "throughput": throughput,
        "p50_ms": {side: _percentile(v, 0.50) * 1000 for side, v in latencies.items()},
        "p99_ms": {side: _percentile(v, 0.99) * 1000 for side, v in latencies.items()},
        "requests": {side: len(v) for side, v in latencies.items()},
        "rss_mb": {"after_1000": rss_1k, "after_100000": rss_100k},
        "health": {"events": health["events"], "dropped": health["dropped"]},
        "body_bytes": len(request.split(b"\r\n\r\n", 1)[1]),
    }


def run(rounds: int, seconds: float = 2.0, say: Callable[[str], None] = print) -> list[Row]:
    floor_name = "ThreadingHTTPServer answering 200, same requests"
    rows = [
        Row(
            "sandbox_throughput",
            f"Sandbox: {CLIENTS} keep-alive clients, time per 1,000 requests",
            "ms",
            "ratio",
            1.25,  # throughput at least 0.8x the floor's
            floor_name=floor_name,
        ),
        Row("sandbox_p50", "Sandbox: latency p50, 50 clients", "ms", "report", None),
        Row("sandbox_p99", "Sandbox: latency p99, 50 clients", "ms", "report", None),
        Row(
            "sandbox_rss",
            "Sandbox: RSS after 100,000 events",
            "MB",
            "difference",
            20,
            floor_name="the same sandbox process after 1,000 events",
        ),
    ]
    try:
        outcome = run_worker(MODULE, str(rounds), str(seconds), timeout=900)
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        for row in rows:
            row.error = str(error)
        return rows
    throughput_row, p50_row, p99_row, rss_row = rows
    times = outcome["per_1000_ms"]
    throughput_row.floor = median(times["floor"])
    throughput_row.app = median(times["app"])
    throughput_row.paired_ratio = median(
        [app / floor for app, floor in zip(times["app"], times["floor"], strict=True)]
    )
    throughput_row.samples = times
    throughput_row.details = {
        "throughput_per_s": {side: median(v) for side, v in outcome["throughput"].items()},
        "throughput_ratio": median(outcome["throughput"]["app"])
        / median(outcome["throughput"]["floor"]),
        "rounds": rounds,
        "seconds_per_round": seconds,
        "requests": outcome["requests"],
        "body_bytes": outcome["body_bytes"],
        "stdev_ms": {side: statistics.pstdev(v) for side, v in times.items()},
    }
    for row, key in ((p50_row, "p50_ms"), (p99_row, "p99_ms")):
        row.floor, row.app = outcome[key]["floor"], outcome[key]["app"]
        row.floor_name = floor_name
    rss_row.floor = outcome["rss_mb"]["after_1000"]
    rss_row.app = outcome["rss_mb"]["after_100000"]
    rss_row.details = {"health_after_100000": outcome["health"]}
    rate = throughput_row.details["throughput_per_s"]
    say(
        f"  sandbox: {rate['app']:.0f} req/s vs floor {rate['floor']:.0f} req/s; "
        f"p50 {p50_row.app:.2f} vs {p50_row.floor:.2f} ms, p99 {p99_row.app:.2f} vs "
        f"{p99_row.floor:.2f} ms; RSS {rss_row.floor:.1f} -> {rss_row.app:.1f} MB"
    )
    return rows


if __name__ == "__main__":
    emit(main(int(sys.argv[1]), float(sys.argv[2])))
