"""Who can reach the sandbox: only this computer's names are answered, and keys leave it masked.

GET /sandbox/events shows the keys events carried. A web page could read it through DNS
rebinding (its own name, pointed at 127.0.0.1), and anyone on the network could while the
sandbox listens on every network; so a Host that names anything else is refused, and off
loopback the listing masks keys.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
from collections.abc import Iterator

import httpx
import pytest

from app.redaction import mask
from app.segment.sandbox import Sandbox

KEY = "RealWriteKey0123456789abcdefghij"
TOKEN = base64.b64encode(f"{KEY}:".encode()).decode()
TLS = ssl.create_default_context()
TRACK = json.dumps({"type": "track", "event": "Chat Started", "userId": "u-1"}).encode()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


def port_of(sandbox: Sandbox) -> int:
    return int(sandbox.url.rsplit(":", 1)[1])


def exchange(address: tuple[str, int], head: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request on a fresh connection: the status and the body of the answer."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        with sock.makefile("rb") as reader:
            status = int(reader.readline().split()[1])
            length = 0
            while (line := reader.readline()) not in {b"\r\n", b""}:
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            return status, reader.read(length)


def get(address: tuple[str, int], path: str, host: str) -> tuple[int, bytes]:
    return exchange(address, f"GET {path} HTTP/1.1\r\nHost: {host}\r\n")


def post_track(address: tuple[str, int], host: str) -> tuple[int, bytes]:
    head = (
        f"POST /v1/track HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(TRACK)}\r\n"
    )
    return exchange(address, head, TRACK)


def this_computers_network_address() -> str:
    """An IPv4 address of this computer that is not loopback; skips the test if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            pytest.skip("no network interface besides loopback")
        address = str(probe.getsockname()[0])
    if address.startswith("127.") or address == "0.0.0.0":
        pytest.skip("no network interface besides loopback")
    return address


# A Host that a web page could have rebound is refused


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "LocalHost:{port}",
        "localhost.:{port}",
        "localhost",
        "app.localhost:{port}",
        "127.0.0.2:{port}",
        "[::1]:{port}",
        "localhost:9999",  # a tunnel forwarding another port to this one
    ],
)
def test_loopback_names_and_addresses_are_answered(sandbox: Sandbox, host: str) -> None:
    address = ("127.0.0.1", port_of(sandbox))

    status, _body = post_track(address, host.format(port=port_of(sandbox)))

    assert status == 200
    assert len(sandbox.events()) == 1


@pytest.mark.parametrize(
    "host",
    [
        "rebind.example:{port}",
        "rebind.example",
        "127.0.0.1.nip.io:{port}",
        "localhost.rebind.example:{port}",
        "192.0.2.77:{port}",
        "0.0.0.0:{port}",
        "localhost:{port}:1",
        "[::1:{port}",
        "local host",
    ],
)
def test_any_other_host_is_421_and_changes_nothing(sandbox: Sandbox, host: str) -> None:
    address = ("127.0.0.1", port_of(sandbox))
    sandbox.fail_next(503)

    status, body = post_track(address, host.format(port=port_of(sandbox)))

    assert status == 421
    answer = json.loads(body)
    assert answer["success"] is False
    assert f"localhost:{port_of(sandbox)}" in answer["message"]
    assert sandbox.events() == []
    assert sandbox.pending_faults() == 1
    assert [r.status for r in sandbox.requests()] == [421]


def test_a_rebound_page_cannot_read_the_listing_or_the_health(sandbox: Sandbox) -> None:
    """The attack: a page on rebind.example, its name pointed at 127.0.0.1, reads the key."""
    address = ("127.0.0.1", port_of(sandbox))
    assert post_track(address, f"127.0.0.1:{port_of(sandbox)}")[0] == 200
    rebound = f"rebind.example:{port_of(sandbox)}"

    listing = get(address, "/sandbox/events", rebound)
    health = get(address, "/health", rebound)

    assert listing[0] == health[0] == 421
    assert KEY.encode() not in listing[1]
    assert get(address, "/sandbox/events", f"localhost:{port_of(sandbox)}")[0] == 200


def test_http_1_0_without_a_host_is_answered(sandbox: Sandbox) -> None:
    """No browser sends a request without Host; HTTP/1.0 tools may."""
    status, _body = exchange(("127.0.0.1", port_of(sandbox)), "GET /health HTTP/1.0\r\n")

    assert status == 200


def test_the_app_and_clients_given_the_url_are_answered(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.url, trust_env=False, verify=TLS) as http:
        assert http.post("/v1/track", content=TRACK, auth=(KEY, "")).status_code == 200
        assert http.get("/sandbox/events").json()["events"][0]["write_key"] == KEY


# Off loopback, the listing masks keys for every client


def test_on_every_network_the_listing_masks_keys_even_for_this_computer() -> None:
    with Sandbox(host="0.0.0.0") as sandbox:
        address = ("127.0.0.1", port_of(sandbox))
        assert post_track(address, f"127.0.0.1:{port_of(sandbox)}")[0] == 200

        status, body = get(address, "/sandbox/events", f"localhost:{port_of(sandbox)}")

        assert status == 200
        [listed] = json.loads(body)["events"]
        assert listed["write_key"] == mask(KEY)
        assert KEY.encode() not in body
        assert sandbox.events()[0].write_key == KEY  # the Python API keeps the whole key


def test_on_every_network_the_address_reached_is_answered_with_its_port() -> None:
    network = this_computers_network_address()
    with Sandbox(host="0.0.0.0") as sandbox:
        port = port_of(sandbox)
        address = (network, port)

        assert post_track(address, f"{network}:{port}")[0] == 200
        assert post_track(address, f"{network}:{port + 1}")[0] == 421
        assert post_track(address, f"rebind.example:{port}")[0] == 421
        status, body = get(address, "/sandbox/events", f"{network}:{port}")

    assert status == 200
    assert json.loads(body)["events"][0]["write_key"] == mask(KEY)


def test_on_one_network_address_that_address_is_answered_and_keys_are_masked() -> None:
    network = this_computers_network_address()
    with Sandbox(host=network) as sandbox:
        port = port_of(sandbox)
        address = (network, port)
        assert sandbox.url == f"http://{network}:{port}"

        assert post_track(address, f"{network}:{port}")[0] == 200
        assert post_track(address, f"rebind.example:{port}")[0] == 421
        status, body = get(address, "/sandbox/events", f"{network}:{port}")

    assert status == 200
    assert json.loads(body)["events"][0]["write_key"] == mask(KEY)


def test_a_key_in_the_body_is_masked_off_loopback_too() -> None:
    document = json.dumps({"type": "track", "event": "E", "userId": "u", "writeKey": KEY})
    with (
        Sandbox(host="0.0.0.0") as sandbox,
        httpx.Client(base_url=sandbox.url, trust_env=False, verify=TLS) as http,
    ):
        assert http.post("/v1/track", content=document).status_code == 200
        listed = http.get("/sandbox/events").text

    assert KEY not in listed
    assert json.loads(listed)["events"][0]["write_key"] == mask(KEY)


def test_the_log_names_the_host_it_refused() -> None:
    lines: list[str] = []
    with Sandbox(on_request=lines.append) as sandbox:
        address = ("127.0.0.1", port_of(sandbox))
        assert get(address, "/sandbox/events", "rebind.example:81")[0] == 421

    assert len(lines) == 1
    assert lines[0].startswith("GET /sandbox/events 421 ")
    assert lines[0].endswith(" (Host rebind.example:81 not allowed)")
