"""Where a workspace's Public API lives: the US or EU host, or an address the user gave."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from app.segment.endpoint import EndpointError, Region, is_loopback

US_API_HOST = "https://api.segmentapis.com"
EU_API_HOST = "https://eu1.api.segmentapis.com"


@dataclass(frozen=True)
class ApiEndpoint:
    """A Public API base URL (may carry a path, as the sandbox's /public-api does)."""

    base_url: str
    region: Region

    def __post_init__(self) -> None:
        # Defence in depth: httpx would send credentials in the address along with the token.
        if "@" in urlsplit(self.base_url).netloc:
            raise EndpointError("The address must not contain a user name or password.")

    @property
    def host(self) -> str:
        """'api.segmentapis.com', '127.0.0.1:8080': the server, for sentences."""
        return urlsplit(self.base_url).netloc

    def url(self, path: str) -> str:
        """`path` ("sources", "" for the root) under the base URL."""
        return f"{self.base_url}/{path.lstrip('/')}"


US_API = ApiEndpoint(US_API_HOST, Region.US)
EU_API = ApiEndpoint(EU_API_HOST, Region.EU)
# Tried in this order when a token's region is not known yet.
REGION_HOSTS: tuple[ApiEndpoint, ...] = (US_API, EU_API)


def answerer(sandbox: bool) -> str:
    """Who answers Public API calls, in words mid-sentence: the sandbox, or Segment."""
    return "the sandbox" if sandbox else "Segment"


def parse_api_endpoint(text: str) -> ApiEndpoint:
    """`--api-endpoint URL` checked: https, or plain http only to loopback; a path is kept.

    Raises app.segment.endpoint.EndpointError with a sentence. Region.LOCAL for loopback,
    Region.CUSTOM for another https host, US/EU for Segment's own hosts.
    """
    from app.redaction import printable
    from app.segment.endpoint import _ascii_host  # the Tracking API's host checks, as worded

    raw = text.strip()
    shown = printable(raw, 80)
    if not raw:
        raise EndpointError(f"Type the Public API's address, like {US_API_HOST}.")
    if not raw.isprintable() or any(char.isspace() for char in raw):
        raise EndpointError(f"'{shown}' contains a space or invisible characters. Type it again.")
    try:
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        hostname = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise EndpointError(_unusable(shown)) from None
    if parts.scheme not in ("https", "http") or not hostname:
        raise EndpointError(_unusable(shown))
    if "@" in parts.netloc:
        raise EndpointError(
            "The address contains a user name or password (the part before '@'). Leave it "
            "out: the app signs in with the Public API token."
        )
    if parts.query or parts.fragment or "?" in raw or "#" in raw:
        raise EndpointError(
            f"Give the Public API's address (like {US_API_HOST}) without '?' or '#' and what "
            "follows."
        )
    if port == 0:
        raise EndpointError(f"The port in '{shown}' must be a number from 1 to 65535.")
    host = _ascii_host(hostname, shown)
    loopback = is_loopback(host)
    if parts.scheme == "http" and not loopback:
        raise EndpointError(
            "The Public API token would travel unencrypted over plain http. Use an https:// "
            "address (plain http is allowed only for a sandbox on this computer, such as "
            "127.0.0.1)."
        )
    default_port = 443 if parts.scheme == "https" else 80
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    base = f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"
    for known in REGION_HOSTS:
        if base == known.base_url:
            return known
    if parts.scheme == "https" and netloc == urlsplit(US_API_HOST).netloc:
        return ApiEndpoint(base, Region.US)
    if parts.scheme == "https" and netloc == urlsplit(EU_API_HOST).netloc:
        return ApiEndpoint(base, Region.EU)
    return ApiEndpoint(base, Region.LOCAL if loopback else Region.CUSTOM)


def _unusable(shown: str) -> str:
    return f"'{shown}' is not a web address the app can use. Use one like {US_API_HOST}."
