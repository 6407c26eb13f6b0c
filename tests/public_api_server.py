"""A scriptable Public API on loopback, for the error shapes and timings the sandbox cannot give.

Each request is recorded (method, path, query pairs, headers) and answered by `answer`, a
function the test sets; `json_reply` and `errors_reply` build the documented envelopes. Real
sockets and real HTTP: the client under test is the one the app uses.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from app.segment.public_api.hosts import ApiEndpoint, parse_api_endpoint


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer (the server waits on its stop event)


Answer = Callable[[Seen], Reply]


def json_reply(data: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(status, json.dumps({"data": data}).encode(), headers)


def errors_reply(status: int, message: str, data: Any = None, **headers: str) -> Reply:
    error: dict[str, Any] = {"type": "error", "message": message}
    if data is not None:
        error["data"] = data
    return Reply(status, json.dumps({"errors": [error]}).encode(), headers)


WORKSPACE = {"workspace": {"id": "ws-1", "slug": "acme", "name": "Acme"}}


def source_json(
    number: int, *, key: str | None = None, chatlio: bool = False, name: str | None = None
) -> dict[str, Any]:
    metadata = (
        {"id": "W3065KyMWF", "slug": "chatlio", "name": "Chatlio"}
        if chatlio
        else {"id": "IqDTy1TpoU", "slug": "javascript", "name": "Javascript"}
    )
    return {
        "id": f"src-{number}",
        "slug": f"source-{number}",
        "name": name or f"Source {number}",
        "enabled": True,
        "workspaceId": "ws-1",
        "writeKeys": [key] if key else [],
        "metadata": metadata,
        "settings": {},
        "labels": [],
    }


class ApiServer:
    """A loopback HTTP server whose every answer comes from `answer` (settable)."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer: Answer = answer or (lambda seen: json_reply(WORKSPACE))
        self.seen: list[Seen] = []
        self._stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    parts.path,
                    parse_qsl(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                server.seen.append(seen)
                reply = server.answer(seen)
                if reply.delay and server._stop.wait(reply.delay):
                    return
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PATCH = _any

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/public-api"

    @property
    def endpoint(self) -> ApiEndpoint:
        return parse_api_endpoint(self.url)

    def paths(self) -> list[str]:
        return [seen.path.removeprefix("/public-api") or "/" for seen in self.seen]

    def __enter__(self) -> ApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _QuietServer(ThreadingHTTPServer):
    """Connections the client cuts (Cancel, deadlines, TLS tried on plain http) are expected."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass
