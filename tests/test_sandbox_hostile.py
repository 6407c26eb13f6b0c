"""The sandbox under hostile and broken clients: framing, read caps, slow senders, crafted input."""

from __future__ import annotations

import base64
import gzip
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.segment.limits import MAX_BATCH_EVENTS
from app.segment.sandbox import Sandbox, SandboxLimits, ServerLimits
from app.segment.sandbox.log import RequestLog
from app.segment.sandbox.rules import MAX_BODY_BYTES, MAX_JSON_DEPTH, PayloadTooLarge, gunzip

KEY = "abcdefghijklmnopqrstuvwxyz012345"
TOKEN = base64.b64encode(f"{KEY}:".encode()).decode()
TLS = ssl.create_default_context()
# Far beyond what a working sandbox needs, far below what each broken behaviour took.
PROMPT = 5.0


@dataclass(frozen=True)
class Answer:
    status_line: bytes
    headers: dict[str, str]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def address(sandbox: Sandbox) -> tuple[str, int]:
    host, port = sandbox.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def connect(sandbox: Sandbox, timeout: float = PROMPT) -> socket.socket:
    return socket.create_connection(address(sandbox), timeout=timeout)


def read_answer(sock: socket.socket, *, head_only: bool = False) -> Answer:
    """One response from the socket: status line, headers, and a Content-Length body."""
    with sock.makefile("rb") as reader:
        status_line = reader.readline()
        headers: dict[str, str] = {}
        while (line := reader.readline()) not in {b"\r\n", b""}:
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head_only else int(headers.get("content-length", "0"))
        return Answer(status_line, headers, reader.read(length))


def exchange(sandbox: Sandbox, data: bytes) -> Answer:
    with connect(sandbox) as sock:
        sock.sendall(data)
        return read_answer(sock)


def request(
    body: bytes, *, path: str = "/v1/track", headers: str = "", method: str = "POST"
) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


def track(**extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": "Chat Started", "userId": "u-1", **extra}


def health_took(sandbox: Sandbox) -> float:
    started = time.monotonic()
    with httpx.Client(timeout=PROMPT * 2, trust_env=False, verify=TLS) as http:
        assert http.get(sandbox.url + "/health").status_code == 200
    return time.monotonic() - started


# 1. Every body read is capped, whatever its framing


def test_a_negative_chunk_size_is_400_not_a_read_to_the_end(sandbox: Sandbox) -> None:
    """Defect: int("-1", 16) was taken as a size, and read(-1) reads until the client stops."""
    with connect(sandbox) as sock:
        sock.sendall(
            b"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"-1\r\n" + b"x" * 65536
        )
        answer = read_answer(sock)

    assert answer.status == 400
    assert sandbox.events() == []


def send_until_refused(sock: socket.socket, chunk: bytes, most: int) -> int:
    """Send chunk after chunk until the peer refuses more (or most bytes went); how many went."""
    sent = 0
    try:
        while sent < most:
            sock.sendall(chunk)
            sent += len(chunk)
    except OSError:  # reset, broken pipe, or a timeout once the sandbox stopped reading
        pass
    return sent


def test_a_chunked_body_past_the_cap_is_refused_while_it_streams(sandbox: Sandbox) -> None:
    most = 64 * MAX_BODY_BYTES
    with connect(sandbox) as sock:
        sock.sendall(
            b"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        sent = send_until_refused(sock, b"10000\r\n" + b"x" * 0x10000 + b"\r\n", most)

    assert sent < most
    assert [request.status for request in sandbox.requests()] == [400]


def test_a_declared_length_over_the_cap_is_answered_before_any_body(sandbox: Sandbox) -> None:
    answer = exchange(
        sandbox,
        b"POST /v1/batch HTTP/1.1\r\nHost: localhost\r\n"
        + f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode(),
    )

    assert answer.status == 400
    assert json.loads(answer.body) == {"success": False, "message": "Exceed payload limit"}
    assert answer.headers["connection"] == "close"


def test_expect_100_continue_is_honoured(sandbox: Sandbox) -> None:
    body = json.dumps(track()).encode()
    with connect(sandbox) as sock:
        sock.sendall(
            b"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
            + f"Authorization: Basic {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        interim = sock.recv(100)
        sock.sendall(body)
        answer = read_answer(sock)

    assert interim.startswith(b"HTTP/1.1 100 ")
    assert answer.status == 200
    assert len(sandbox.events()) == 1


# 2. Documents too deep to handle are refused at the door


def nested(depth: int) -> dict[str, Any]:
    """An object nested `depth` levels deep, the top level included."""
    document: dict[str, Any] = {}
    for _ in range(depth - 1):
        document = {"a": document}
    return document


def test_deeply_nested_json_is_400_and_the_events_list_keeps_working(sandbox: Sandbox) -> None:
    """Defect: a 500-deep event was accepted, then GET /sandbox/events hit RecursionError."""
    deep = json.dumps(track(properties=nested(500))).encode()

    answer = exchange(sandbox, request(deep))

    assert answer.status == 400
    assert "nested deeper" in json.loads(answer.body)["message"]
    listed = exchange(sandbox, request(b"", path="/sandbox/events", method="GET"))
    assert listed.status == 200
    assert json.loads(listed.body)["events"] == []


@pytest.mark.parametrize(("depth", "status"), [(MAX_JSON_DEPTH, 200), (MAX_JSON_DEPTH + 1, 400)])
def test_the_depth_limit_counts_the_top_level_object(
    sandbox: Sandbox, depth: int, status: int
) -> None:
    document = {**track(), **nested(depth)}  # the "a" chain starts at the top level
    assert exchange(sandbox, request(json.dumps(document).encode())).status == status


def test_nesting_inside_batch_items_counts_too(sandbox: Sandbox) -> None:
    body = json.dumps({"batch": [track(properties=nested(MAX_JSON_DEPTH))]}).encode()

    assert exchange(sandbox, request(body, path="/v1/batch")).status == 400


def test_json_too_deep_for_the_parser_itself_is_400(sandbox: Sandbox) -> None:
    body = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    assert exchange(sandbox, request(body)).status == 400


# 3. gzip costs time linear in its size, and its output is capped


@pytest.mark.timeout(120)
def test_many_gzip_members_decompress_in_linear_time() -> None:
    """Defect: each member copied the rest of the body; 8 MB of members took 46 s."""
    members = gzip.compress(b"") * (4 * 1024 * 1024 // 20)

    started = time.monotonic()
    assert gunzip(members, 10**9) == b""

    assert time.monotonic() - started < 10  # about 0.2 s; the quadratic version took minutes


def test_gzip_members_are_joined_and_still_capped() -> None:
    half = b'{"a": "' + b"x" * 100
    assert gunzip(gzip.compress(half) + gzip.compress(b'"}'), 1000) == half + b'"}'
    with pytest.raises(PayloadTooLarge):
        gunzip(gzip.compress(b"\0" * 50_000_000), 500 * 1024)


def test_a_body_of_a_million_empty_gzip_members_is_answered_promptly(sandbox: Sandbox) -> None:
    body = gzip.compress(b"") * (MAX_BODY_BYTES // 20)
    started = time.monotonic()

    answer = exchange(sandbox, request(body, headers="Content-Encoding: gzip\r\n"))

    assert answer.status == 400  # nothing inside: not JSON
    assert time.monotonic() - started < PROMPT


# 4. Crafted values get an answer, never a traceback


def test_a_basic_header_with_non_ascii_bytes_is_no_key(sandbox: Sandbox) -> None:
    """Defect: base64 of non-ASCII text raised ValueError, and the connection was dropped."""
    body = json.dumps(track()).encode()
    raw = request(body).replace(f"Basic {TOKEN}".encode(), b"Basic \xe9\xe9\xe9\xe9")

    answer = exchange(sandbox, raw)

    assert answer.status == 400
    assert json.loads(answer.body) == {"success": False, "message": "Missing write key"}


def test_a_non_ascii_basic_header_falls_back_to_the_body_key(sandbox: Sandbox) -> None:
    body = json.dumps({**track(), "writeKey": "body-key"}).encode()
    raw = request(body).replace(f"Basic {TOKEN}".encode(), b"Basic \xff\xfe")

    assert exchange(sandbox, raw).status == 200
    assert sandbox.events()[0].write_key == "body-key"


@pytest.mark.parametrize(
    "kind",
    [["track"], {"track": 1}, 7, None, True],
    ids=["list", "object", "number", "null", "bool"],
)
def test_batch_items_with_an_odd_type_are_accepted_and_marked_invalid_type(
    sandbox: Sandbox, kind: Any
) -> None:
    """Defect: a list or an object as "type" was unhashable, and the request crashed."""
    body = json.dumps({"batch": [track(type=kind), track()]}).encode()

    answer = exchange(sandbox, request(body, path="/v1/batch"))

    assert answer.status == 200
    assert [e.discard_reason for e in sandbox.events()] == ["invalid_type", None]


def test_a_lone_surrogate_is_kept_and_listed_as_valid_json(sandbox: Sandbox) -> None:
    body = b'{"batch": [{"type": "track", "event": "\\ud800", "userId": "u-1"}]}'

    assert exchange(sandbox, request(body, path="/v1/batch")).status == 200
    [event] = sandbox.events()
    assert event.payload["event"] == "\ud800"
    listed = exchange(sandbox, request(b"", path="/sandbox/events", method="GET"))
    assert json.loads(listed.body)["events"][0]["payload"]["event"] == "\ud800"


# 5. What is kept is bounded, and listed page by page


def test_default_bounds_keep_the_newest_10000_events(sandbox: Sandbox) -> None:
    batch = json.dumps({"batch": [track()] * MAX_BATCH_EVENTS}).encode()
    for _ in range(5):
        assert exchange(sandbox, request(batch, path="/v1/batch")).status == 200

    events = sandbox.events()

    assert len(events) == 10_000
    assert (events[0].seq, events[-1].seq) == (2_501, 12_500)
    listed = json.loads(exchange(sandbox, request(b"", path="/health", method="GET")).body)
    assert listed["dropped"]["events"] == 2_500


def test_small_bounds_drop_the_oldest_and_count_them() -> None:
    limits = SandboxLimits(max_events=3, max_requests=2)
    with Sandbox(limits=limits) as sandbox, httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        for n in range(5):
            http.post("/v1/track", json=track(event=f"E{n}"), auth=(KEY, ""))

        assert [e.payload["event"] for e in sandbox.events()] == ["E2", "E3", "E4"]
        assert len(sandbox.requests()) == 2
        health = http.get("/health").json()
        listed = http.get("/sandbox/events").json()

    assert health["dropped"] == {"events": 2, "requests": 3, "log_lines": 0}
    assert listed["dropped"] == 2
    assert [e["seq"] for e in listed["events"]] == [3, 4, 5]


def test_the_byte_budget_drops_the_oldest_events_too() -> None:
    limits = SandboxLimits(max_event_bytes=3 * 1024)
    with Sandbox(limits=limits) as sandbox, httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        for n in range(10):
            http.post("/v1/track", json=track(event=f"E{n}", pad="x" * 900), auth=(KEY, ""))

        events = sandbox.events()

    assert 1 <= len(events) <= 3
    assert events[-1].payload["event"] == "E9"


def test_events_are_listed_page_by_page(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        http.post(
            "/v1/batch", json={"batch": [track(event=f"E{n}") for n in range(5)]}, auth=(KEY, "")
        )
        pages, after = [], 0
        while True:
            page = http.get("/sandbox/events", params={"limit": 2, "after": after}).json()
            pages.append([e["payload"]["event"] for e in page["events"]])
            after = page["next"]
            if not page["has_more"]:
                break
        again = http.get("/sandbox/events", params={"after": after}).json()
        http.post("/v1/track", json=track(event="E5"), auth=(KEY, ""))
        newer = http.get("/sandbox/events", params={"after": after}).json()

    assert pages == [["E0", "E1"], ["E2", "E3"], ["E4"]]
    assert (again["events"], again["next"]) == ([], 5)
    assert [e["payload"]["event"] for e in newer["events"]] == ["E5"]
    assert newer["next"] == 6


def test_cursors_stay_valid_after_a_clear(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        http.post("/v1/track", json=track(), auth=(KEY, ""))
        http.delete("/sandbox/events")
        http.post("/v1/track", json=track(event="After"), auth=(KEY, ""))
        listed = http.get("/sandbox/events", params={"after": 1}).json()

    assert [(e["seq"], e["payload"]["event"]) for e in listed["events"]] == [(2, "After")]


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "limit=10001", "after=-1", "after=1e3"])
def test_bad_paging_parameters_are_400(sandbox: Sandbox, query: str) -> None:
    with httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        response = http.get(f"/sandbox/events?{query}")

    assert response.status_code == 400
    assert response.json()["success"] is False


# 5b. Listings nobody reads hold a bounded number of bytes


MB = 1024 * 1024
# Far beyond anything these tests wait for: the answers they hold back stay held.
NEVER = 600.0


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll an observable condition; the deadline only stops a broken sandbox hanging the run."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.01)


def health(sandbox: Sandbox) -> dict[str, Any]:
    with httpx.Client(timeout=PROMPT * 2, trust_env=False, verify=TLS) as http:
        response = http.get(sandbox.url + "/health")
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def fill(sandbox: Sandbox, megabytes: int) -> None:
    """About that many MB of events kept, in batches of 15 events of 30 KB."""
    body = json.dumps({"batch": [track(pad="x" * 30_000)] * 15}).encode()
    with httpx.Client(base_url=sandbox.url, timeout=PROMPT * 2, verify=TLS) as http:
        for _ in range(-(-megabytes * MB // len(body))):
            response = http.post("/v1/batch", content=body, auth=(KEY, ""))
            assert response.status_code == 200


def ask_and_never_read(sandbox: Sandbox) -> socket.socket:
    """A connection that asks for the whole listing and takes in none of it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: small window
    sock.settimeout(PROMPT)
    sock.connect(address(sandbox))
    sock.sendall(b"GET /sandbox/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    return sock


def listings(sandbox: Sandbox) -> list[int | None]:
    """The status of every GET /sandbox/events recorded, oldest first."""
    return [
        r.status for r in sandbox.requests() if (r.method, r.path) == ("GET", "/sandbox/events")
    ]


def resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm")
def test_listings_nobody_reads_hold_bounded_memory_and_health_answers() -> None:
    """Defect: every GET held its whole listing until the write timeout: 32 x 8 MB here."""
    budget = 8 * MB
    server = ServerLimits(max_unsent_bytes=budget, write_timeout=NEVER)
    with Sandbox(limits=SandboxLimits(max_event_bytes=8 * MB, server=server)) as sandbox:
        fill(sandbox, 8)
        with httpx.Client(timeout=PROMPT * 2, trust_env=False, verify=TLS) as http:
            listing = len(http.get(sandbox.url + "/sandbox/events").content)  # read in full
        assert listing > 7 * MB
        wait_until(lambda: health(sandbox)["unsent_answer_bytes"] == 0, "the listing sent")
        before = resident_bytes()
        hogs = [ask_and_never_read(sandbox) for _ in range(32)]
        try:
            wait_until(lambda: len(listings(sandbox)) == 33, "32 more listings answered")
            grown = resident_bytes() - before
            state = health(sandbox)  # and it still answers
        finally:
            for sock in hogs:
                sock.close()
        wait_until(lambda: health(sandbox)["unsent_answer_bytes"] == 0, "every byte given back")
        statuses = listings(sandbox)[1:]

    assert grown < 8 * listing  # a held listing or two; unbounded, 32 of them
    assert state["unsent_answer_bytes"] <= budget + listing + 1024
    assert state["limits"]["max_unsent_answer_bytes"] == budget
    assert 200 in statuses
    assert set(statuses) == {200, 503}


def test_past_the_budget_a_listing_is_503_to_retry_and_head_is_still_answered() -> None:
    server = ServerLimits(max_unsent_bytes=1, write_timeout=NEVER)
    with Sandbox(limits=SandboxLimits(server=server)) as sandbox:
        fill(sandbox, 4)
        with httpx.Client(base_url=sandbox.url, verify=TLS) as http:
            http.post("/v1/track", json=track(event="Caf\u00e9 \U0001f600"), auth=(KEY, ""))
            hog = ask_and_never_read(sandbox)
            try:
                wait_until(lambda: health(sandbox)["unsent_answer_bytes"] > 0, "a listing held")
                busy = http.get("/sandbox/events")
                head = http.head("/sandbox/events")
            finally:
                hog.close()
            wait_until(lambda: health(sandbox)["unsent_answer_bytes"] == 0, "the bytes back")
            full = http.get("/sandbox/events")

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["success"] is False
    assert head.status_code == 200  # measured, not built: it needs no room
    assert head.content == b""
    assert full.status_code == 200
    assert int(head.headers["content-length"]) == len(full.content)
    assert full.json()["events"][-1]["payload"]["event"] == "Caf\u00e9 \U0001f600"


def test_a_long_write_key_counts_against_the_event_byte_budget() -> None:
    """Defect: the key was not counted, so 10,000 events could list 160 MB of 16 KB keys."""
    long_key = "k" * 16_000
    limits = SandboxLimits(max_event_bytes=160 * 1024)
    with Sandbox(limits=limits) as sandbox, httpx.Client(base_url=sandbox.url, verify=TLS) as http:
        for n in range(20):
            document = {**track(event=f"E{n}"), "writeKey": long_key}
            assert http.post("/v1/track", json=document).status_code == 200
        kept = sandbox.events()

    assert 1 <= len(kept) <= 10  # 160 KB holds ten 16 KB keys at most
    assert kept[-1].payload["event"] == "E19"


# 6. Idle and slow connections hold no thread, and slow senders time out


def test_idle_connections_hold_no_thread(sandbox: Sandbox) -> None:
    """Defect: one thread per connection; 300 idle connections made 302 threads."""
    exchange(sandbox, request(json.dumps(track()).encode()))
    before = threading.active_count()
    sockets = [connect(sandbox) for _ in range(300)]
    try:
        for sock in sockets[::30]:  # some mid-request, which is no different
            sock.sendall(b"POST /v1/track HTTP/1.1\r\nHost: sa")
        assert health_took(sandbox) < PROMPT
        assert threading.active_count() <= before
    finally:
        for sock in sockets:
            sock.close()


def test_a_request_not_complete_in_time_gets_408() -> None:
    limits = SandboxLimits(server=ServerLimits(request_timeout=0.5))
    with Sandbox(limits=limits) as sandbox, connect(sandbox) as sock:
        sock.sendall(b"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n{")
        answer = read_answer(sock)

        assert answer.status == 408
        assert answer.headers["connection"] == "close"
        assert sock.recv(1) == b""
        assert sandbox.requests()[0].status == 408


def test_a_slowloris_trickle_is_cut_at_the_deadline() -> None:
    limits = SandboxLimits(server=ServerLimits(request_timeout=1.0))
    stop = threading.Event()
    with Sandbox(limits=limits) as sandbox, connect(sandbox) as sock:

        def trickle() -> None:
            while not stop.wait(0.05):
                try:
                    sock.sendall(b"a")
                except OSError:
                    return

        sock.sendall(b"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        started = time.monotonic()
        trickler = threading.Thread(target=trickle)
        trickler.start()
        try:
            answer = sock.recv(200)
        finally:
            stop.set()
            trickler.join()

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < PROMPT


def test_twenty_slowloris_connections_never_slow_health(sandbox: Sandbox) -> None:
    sockets = [connect(sandbox) for _ in range(20)]
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.05):
            for sock in sockets:
                sock.sendall(b"a")

    for sock in sockets:
        sock.sendall(b"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
    trickler = threading.Thread(target=trickle)
    trickler.start()
    try:
        assert max(health_took(sandbox) for _ in range(5)) < PROMPT
    finally:
        stop.set()
        trickler.join()
        for sock in sockets:
            sock.close()


def test_twenty_delayed_answers_never_slow_health() -> None:
    with Sandbox() as sandbox:
        sandbox.delay_next(30, times=20)
        sockets = [connect(sandbox, timeout=60) for _ in range(20)]
        body = json.dumps(track()).encode()
        for sock in sockets:
            sock.sendall(request(body))
        deadline = time.monotonic() + PROMPT
        while sandbox.pending_faults() and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            assert sandbox.pending_faults() == 0
            assert health_took(sandbox) < PROMPT
            started = time.monotonic()
            sandbox.stop()
            assert time.monotonic() - started < PROMPT
            assert all(sock.recv(1) == b"" for sock in sockets)  # cut, unanswered
        finally:
            for sock in sockets:
                sock.close()
    assert [r.status for r in sandbox.requests() if r.method == "POST"] == [None] * 20
    assert sandbox.events() == []


def test_past_the_connection_cap_the_longest_idle_connection_goes() -> None:
    limits = SandboxLimits(server=ServerLimits(max_connections=5))
    with Sandbox(limits=limits) as sandbox:
        idle = [connect(sandbox) for _ in range(5)]
        try:
            for sock in idle:  # answered, so accepted, and idle again from then on, in order
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
                assert read_answer(sock).status == 200
            assert health_took(sandbox) < PROMPT  # a sixth connection, in the first's place
            assert idle[0].recv(1) == b""
        finally:
            for sock in idle:
                sock.close()


def test_past_the_cap_with_no_idle_connection_a_new_one_gets_503() -> None:
    limits = SandboxLimits(server=ServerLimits(max_connections=3))
    with Sandbox(limits=limits) as sandbox:
        busy = [connect(sandbox) for _ in range(3)]
        try:
            for sock in busy:  # a head without its body: each is mid-request
                sock.sendall(
                    b"POST /v1/track HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n"
                    b"Expect: 100-continue\r\n\r\n"
                )
            for sock in busy:  # "100 Continue" proves the sandbox has read that head
                assert sock.recv(100).startswith(b"HTTP/1.1 100 ")
            with connect(sandbox) as sock:
                answer = read_answer(sock)
        finally:
            for sock in busy:
                sock.close()

    assert answer.status == 503


# 7. Strict HTTP/1.1 framing


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /health\r\n\r\n",
        b"GET /\x1b[2J HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        b"POST /v1/track HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET /health HTTP/1.1\r\n\r\n",  # HTTP/1.1 requires Host
    ],
    ids=[
        "garbage",
        "http-0.9",
        "escape-in-path",
        "two-lengths",
        "listed-lengths",
        "length-abc",
        "length-negative",
        "te-gzip",
        "te-twice",
        "bad-chunk",
        "bad-header",
        "no-host",
    ],
)
def test_malformed_requests_get_an_http_1_1_400(sandbox: Sandbox, raw: bytes) -> None:
    answer = exchange(sandbox, raw)

    assert answer.status_line.startswith(b"HTTP/1.1 400 ")
    assert json.loads(answer.body)["success"] is False
    assert answer.headers["connection"] == "close"
    assert health_took(sandbox) < PROMPT


@pytest.mark.parametrize("version", [b"2.0", b"9.9"])
def test_http_versions_other_than_1_x_are_505(sandbox: Sandbox, version: bytes) -> None:
    answer = exchange(sandbox, b"GET /health HTTP/" + version + b"\r\nHost: x\r\n\r\n")

    assert answer.status_line.startswith(b"HTTP/1.1 505 ")


def test_headers_over_16_kb_are_431(sandbox: Sandbox) -> None:
    answer = exchange(sandbox, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)

    assert answer.status == 431


def test_head_answers_headers_only(sandbox: Sandbox) -> None:
    with connect(sandbox) as sock:
        sock.sendall(b"HEAD /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = read_answer(sock, head_only=True)
        rest = sock.recv(1000)

    assert answer.status == 200
    assert int(answer.headers["content-length"]) > 0
    assert answer.headers["content-type"] == "application/json"
    assert rest == b""


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/v1/track", "POST, OPTIONS"),
        ("/v1/t", "POST, OPTIONS"),
        ("/sandbox/events", "GET, HEAD, DELETE, OPTIONS"),
        ("/health", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_is_204_with_allow(sandbox: Sandbox, path: str, allow: str) -> None:
    answer = exchange(sandbox, f"OPTIONS {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())

    assert answer.status == 204
    assert answer.headers["allow"] == allow
    assert "content-length" not in answer.headers


def test_a_trailing_slash_is_404_never_a_redirect(sandbox: Sandbox) -> None:
    answer = exchange(sandbox, request(json.dumps(track()).encode(), path="/v1/track/"))

    assert answer.status == 404
    assert "location" not in answer.headers


def test_http_1_0_is_answered_and_closed(sandbox: Sandbox) -> None:
    with connect(sandbox) as sock:
        sock.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        answer = read_answer(sock)
        rest = sock.recv(1)

    assert answer.status == 200
    assert rest == b""


# The log cannot be forged or recoloured


@pytest.mark.parametrize(
    "key",
    [
        "\x1b[2J\x1b[31mfake\nPOST /v1/track 200 key=ab…45 1 event(s) 0.1 ms",
        "ok-start\r\nPOST /v1/identify 200\x1b]0;title\x07",
        "\u202eevil-key-reversed\u202c",
    ],
    ids=["escape-and-newline", "carriage-return-and-osc", "bidi"],
)
def test_crafted_keys_cannot_forge_or_recolour_log_lines(key: str) -> None:
    lines: list[str] = []
    basic = base64.b64encode(f"{key}:".encode()).decode()
    with Sandbox(on_request=lines.append) as sandbox:
        in_body = request(json.dumps({**track(), "writeKey": key}).encode())
        exchange(sandbox, in_body.replace(f"Authorization: Basic {TOKEN}\r\n".encode(), b""))
        in_header = request(json.dumps(track()).encode())
        exchange(sandbox, in_header.replace(TOKEN.encode(), basic.encode()))
        exchange(sandbox, b"GET /\x1b[2J\n HTTP/1.1\r\nHost: x\r\n\r\n")

    assert len(lines) == 3
    for line in lines:
        assert all(ch.isprintable() and ch not in "\u202e\u202c" for ch in line), line
    assert lines[0].startswith("POST /v1/track 200 key=")
    assert lines[1].startswith("POST /v1/track 200 key=")
    assert lines[2].startswith("- - 400 ")


def test_a_hook_slower_than_the_traffic_never_holds_it_up() -> None:
    release = threading.Event()
    lines: list[str] = []

    def stuck(line: str) -> None:
        release.wait(30)
        lines.append(line)

    with Sandbox(on_request=stuck) as sandbox:
        for _ in range(5):
            assert health_took(sandbox) < PROMPT
        release.set()
    assert len(lines) == 5


def test_lines_past_the_log_backlog_are_dropped_and_said_so() -> None:
    release = threading.Event()
    lines: list[str] = []

    def stuck(line: str) -> None:
        release.wait(30)
        lines.append(line)

    log = RequestLog(capacity=3)
    for n in range(10):
        log.put(stuck, f"line {n}")
    dropped = log.dropped
    release.set()
    log.close(timeout=PROMPT)

    assert dropped in {6, 7}  # 7 when the first line was still queued, not yet in the hook
    delivered = [int(line.removeprefix("line ")) for line in lines[:-1]]
    assert len(delivered) == 10 - dropped
    assert delivered[:3] == [0, 1, 2]
    assert delivered == sorted(delivered)
    assert lines[-1] == f"({dropped} log line(s) dropped: the log was read too slowly)"
