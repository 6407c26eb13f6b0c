"""Generated input for the sandbox: whatever arrives, it answers within HTTP and never fails."""

from __future__ import annotations

import gzip
import json
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.segment.sandbox import Sandbox

KEY = "fuzzKey0123456789abcdefghijklmno"
TLS = ssl.create_default_context()
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "type": json_values | st.sampled_from(["track", "identify", "page", "alias"]),
        "event": json_values,
        "userId": json_values,
        "anonymousId": json_values,
        "properties": json_values,
        "context": json_values,
        "writeKey": json_values,
    },
)


class Watched:
    """A sandbox with its log lines, shared by every example of a module."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sandbox = Sandbox(on_request=self.lines.append)
        self.http = httpx.Client(timeout=10, trust_env=False, verify=TLS)

    def health(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.get(self.sandbox.url + "/health").json()
        return answer


@pytest.fixture(scope="module")
def watched() -> Iterator[Watched]:
    box = Watched()
    with box.sandbox, box.http:
        yield box
    assert all(line.isprintable() for line in box.lines)


def post(box: Watched, path: str, content: bytes, **headers: str) -> httpx.Response:
    return box.http.post(box.sandbox.url + path, content=content, auth=(KEY, ""), headers=headers)


@FUZZ
@given(document=event_like | json_values)
def test_any_json_to_track_is_200_or_400(watched: Watched, document: Any) -> None:
    response = post(watched, "/v1/track", json.dumps(document).encode())

    assert response.status_code in {200, 400}
    assert response.json()["success"] is (response.status_code == 200)


@FUZZ
@given(items=st.lists(event_like, max_size=5), extra=st.dictionaries(st.text(), json_values))
def test_any_batch_is_200_or_400(watched: Watched, items: list[Any], extra: dict[str, Any]) -> None:
    body = json.dumps({**extra, "batch": items}).encode()

    response = post(watched, "/v1/batch", gzip.compress(body), **{"Content-Encoding": "gzip"})

    assert response.status_code in {200, 400}


@FUZZ
@given(body=st.binary(max_size=300), gzipped=st.booleans())
def test_any_bytes_are_200_or_400(watched: Watched, body: bytes, gzipped: bool) -> None:
    headers = {"Content-Encoding": "gzip"} if gzipped else {}

    response = post(watched, "/v1/batch", body, **headers)

    assert response.status_code in {200, 400}


@FUZZ
@given(raw=st.binary(max_size=300))
def test_any_bytes_on_the_wire_get_http_or_nothing(watched: Watched, raw: bytes) -> None:
    host, port = watched.sandbox.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw + b"\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk

    assert answer == b"" or answer.startswith(b"HTTP/1.1 ")


def test_nothing_generated_made_the_sandbox_fail(watched: Watched) -> None:
    """Runs after the others in this module: no answer was a 500 from an exception."""
    assert watched.health()["errors"] == 0
