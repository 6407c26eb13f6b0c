"""Where events go: Segment's US and EU hosts, or a custom (https or loopback) address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit

US_HOST = "https://api.segment.io"
EU_HOST = "https://events.eu1.segmentapis.com"


class Region(StrEnum):
    """Where an address sends events; the value is what settings files store."""

    US = "us"
    EU = "eu"
    CUSTOM = "custom"  # another https host: a proxy or a Segment-compatible service
    LOCAL = "local"  # this computer: the sandbox


EU_WARNING = (
    "This is Segment's EU host. Chatlio sources exist only in US workspaces, so Chatlio cannot "
    "send here; test events sent here will not show up in a Chatlio source."
)


class EndpointError(ValueError):
    """An address that events must not be sent to; the message says why in plain words."""


CREDENTIALS_REFUSED = (
    "The address contains a user name or password (the part before '@'). Leave it out: the "
    "app authenticates with the write key, and a password in the address would replace it."
)

_DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class Endpoint:
    """A base URL for the Tracking API, with what the user should know about it."""

    base_url: str
    region: Region

    def __post_init__(self) -> None:
        # Defence in depth: httpx would quietly send credentials in the address instead of the
        # write key, while every result claimed the key was sent.
        if not self.base_url.isprintable() or "@" in self.base_url:
            raise EndpointError(CREDENTIALS_REFUSED if "@" in self.base_url else _unusable(""))

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def supports_chatlio(self) -> bool:
        return self.region is not Region.EU

    @property
    def warning(self) -> str | None:
        return EU_WARNING if self.region is Region.EU else None

    def url(self, path: str) -> str:
        return f"{self.base_url}/v1/{path}"


US = Endpoint(US_HOST, Region.US)
EU = Endpoint(EU_HOST, Region.EU)


def is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    import ipaddress  # only when an address is checked, not at start-up

    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_endpoint(text: str) -> Endpoint:
    """Check an address typed by a user; raise EndpointError with a sentence if it is unusable.

    Every input gives an Endpoint or an EndpointError, never another exception. An accepted
    address is normalised: ASCII host (international names in their xn-- form), no default
    port, no trailing slash, so what is shown is what is sent.
    """
    raw = text.strip()
    if not raw.rstrip("/"):
        return US
    shown = _shown(raw)
    if not raw.isprintable():
        raise EndpointError(
            f"'{shown}' contains invisible or control characters. Type the address again."
        )
    if any(char.isspace() for char in raw):
        raise EndpointError(f"'{shown}' contains a space; a web address has none.")
    parts, hostname, port = _split(raw, shown)
    if "[" in parts.netloc and ":" not in hostname:
        raise EndpointError(f"'{shown}' does not contain a valid IPv6 address.")
    host = _ascii_host(hostname, shown)
    if parts.scheme == "http" and not is_loopback(host):
        raise EndpointError(
            "The write key would travel unencrypted over plain http. Use an https:// address "
            "(plain http is allowed only for a sandbox on this computer, such as 127.0.0.1)."
        )
    if parts.path.rstrip("/") not in ("", "/v1"):
        raise EndpointError(
            f"Give only the server's address (like {US_HOST}), without a path such as "
            f"'{_shown(parts.path)}': the app adds /v1/track or /v1/batch itself."
        )
    netloc = host if port in (None, _DEFAULT_PORTS[parts.scheme]) else f"{host}:{port}"
    base = f"{parts.scheme}://{netloc}"
    if base == US_HOST:
        return US
    if base == EU_HOST:
        return EU
    return Endpoint(base, Region.LOCAL if is_loopback(host) else Region.CUSTOM)


def _split(raw: str, shown: str) -> tuple[SplitResult, str, int | None]:
    """The address's parts, host and port, refusing what cannot be one server's address."""
    bad_port = f"The port in '{shown}' must be a number from 1 to 65535 (or left out)."
    try:
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        hostname = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise EndpointError(bad_port if "port" in str(exc).lower() else _unusable(shown)) from None
    if parts.scheme not in ("https", "http") or not hostname:
        raise EndpointError(_unusable(shown))
    if "@" in parts.netloc:
        raise EndpointError(CREDENTIALS_REFUSED)
    if "?" in raw or "#" in raw:
        raise EndpointError(
            f"Give only the server's address (like {US_HOST}), without '?' or '#' and what "
            "follows: the app adds /v1/track or /v1/batch itself."
        )
    if port == 0:
        raise EndpointError(bad_port)
    return parts, hostname, port


def _shown(text: str) -> str:
    """User input as it may appear in a message: escaped, and cut if long."""
    from app.redaction import printable

    return printable(text, 80)


def _unusable(shown: str) -> str:
    what = f"'{shown}' is not" if shown else "That is not"
    return f"{what} a web address the app can send to. Use one like {US_HOST}."


def _ascii_host(hostname: str, shown: str) -> str:
    """The host as httpx will send it (IPv6 in brackets, names in ASCII), or EndpointError."""
    import ipaddress

    if "%" in hostname:  # an IPv6 zone ('%eth0') names a network card, not a server
        raise EndpointError(f"'{shown}' does not contain a valid server address.")
    if ":" in hostname:
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            raise EndpointError(f"'{shown}' does not contain a valid IPv6 address.") from None
    try:
        return str(ipaddress.IPv4Address(hostname))
    except ValueError:
        pass
    name = hostname.removesuffix(".")
    if not name.isascii():
        import idna

        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise EndpointError(_bad_name(shown)) from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise EndpointError(_bad_name(shown))
    if labels[-1].isdigit():  # '1.2.3.4.5' or '300.1.1.1': neither a name nor an address
        raise EndpointError(_bad_name(shown))
    for label in labels:
        if label.startswith("xn--"):
            import idna

            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                raise EndpointError(_bad_name(shown)) from None
    return name


def _bad_name(shown: str) -> str:
    return (
        f"'{shown}' does not contain a valid server name: names are made of letters, digits "
        "and hyphens, in parts of at most 63 characters separated by dots."
    )


# One DNS label: letters, digits, hyphens (not first or last), underscores as some hosts use.
_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", re.ASCII)
