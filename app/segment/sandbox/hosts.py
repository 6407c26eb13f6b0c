"""Which Host headers the sandbox answers, and whether it listens on this computer only.

A web page can make a browser send requests to the sandbox under a name of the page's own
(DNS rebinding), and then read the answers; its Host header still carries that name. So only
names that cannot be rebound are answered: localhost, loopback addresses, and the address the
sandbox listens on (the one the client reached, when it listens on every network).
"""

from __future__ import annotations

import ipaddress
from typing import Final

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_MAX_PORT_DIGITS: Final = 5
_HTTP_PORT: Final = 80  # a Host without a port


def ip_of(text: str) -> _IP | None:
    """The IP address text names (IPv4-mapped IPv6 as IPv4, any zone dropped), or None."""
    try:
        address = ipaddress.ip_address(text.strip().partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(address: str) -> bool:
    """Whether an address (as bound or as written) reaches this computer only."""
    ip = ip_of(address)
    return ip is not None and ip.is_loopback


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header's name (lower case, brackets and a final dot removed) and port, or None."""
    text = value.strip().lower()
    if text.startswith("["):
        name, bracket, rest = text[1:].partition("]")
        if not bracket:
            return None
    else:
        name, colon, port_text = text.partition(":")
        rest = colon + port_text
    if rest in {"", ":"}:
        port = None
    elif (
        rest.startswith(":")
        and rest[1:].isascii()
        and rest[1:].isdigit()
        and len(rest) <= _MAX_PORT_DIGITS + 1
    ):
        port = int(rest[1:])
    else:
        return None
    name = name.removesuffix(".")
    return (name, port) if name else None


def is_loopback_name(name: str) -> bool:
    """localhost, any name under it (RFC 6761: never resolved elsewhere), or a loopback IP."""
    return name == "localhost" or name.endswith(".localhost") or is_loopback(name)


def is_unspecified(address: str) -> bool:
    """Whether an address bound means every network (0.0.0.0, ::)."""
    ip = ip_of(address)
    return ip is not None and ip.is_unspecified


def host_allowed(
    header: str | None, *, port: int, names: tuple[str, ...], reached: str | None
) -> bool:
    """Whether to answer a request with this Host header.

    A loopback name or address, with any port (a tunnel may forward another one), or, with
    the `port` bound, one of `names` (the address the sandbox was told to listen on, and the
    one bound) or `reached`, the address the client connected to (when the sandbox listens
    on every network, the one it was reached at). No Host at all (HTTP/1.0)
    is answered: no browser sends a request without one.
    """
    if header is None or not header.strip():
        return True
    parsed = split_host(header)
    if parsed is None:
        return False
    name, named_port = parsed
    if is_loopback_name(name):
        return True
    if (_HTTP_PORT if named_port is None else named_port) != port:
        return False
    ip = ip_of(name)
    if ip is None:
        return name in {n.strip().lower().removesuffix(".") for n in names}
    # 0.0.0.0 and :: name no computer; a listener bound to them is reached at a real address.
    return not ip.is_unspecified and any(ip == ip_of(c) for c in (*names, reached) if c)
