"""Where events go: Segment's US and EU hosts, or a custom (https or loopback) address."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

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


@dataclass(frozen=True)
class Endpoint:
    """A base URL for the Tracking API, with what the user should know about it."""

    base_url: str
    region: Region

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
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def parse_endpoint(text: str) -> Endpoint:
    """Check an address typed by a user; raise EndpointError with a sentence if it is unsafe."""
    raw = text.strip()
    if not raw.rstrip("/"):
        return US
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    hostname = parts.hostname or ""
    if not hostname:
        raise EndpointError(f"'{text}' is not a web address. Use one like {US_HOST}.")
    if parts.scheme not in ("https", "http"):
        raise EndpointError(f"'{text}' is not a web address. Use one like {US_HOST}.")
    if parts.scheme == "http" and not is_loopback(hostname):
        raise EndpointError(
            "The write key would travel unencrypted over plain http. Use an https:// address "
            "(plain http is allowed only for a sandbox on this computer, such as 127.0.0.1)."
        )
    if parts.path.rstrip("/") not in ("", "/v1"):
        raise EndpointError(
            f"Give only the server's address (like {US_HOST}), without a path such as "
            f"'{parts.path}': the app adds /v1/track or /v1/batch itself."
        )
    base = f"{parts.scheme}://{parts.netloc}"
    if base == US_HOST:
        return US
    if base == EU_HOST:
        return EU
    return Endpoint(base, Region.LOCAL if is_loopback(hostname) else Region.CUSTOM)
