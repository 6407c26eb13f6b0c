"""Where a workspace's Public API lives: the US or EU host, or an address the user gave."""

from __future__ import annotations

from dataclasses import dataclass

from app.segment.endpoint import Region

US_API_HOST = "https://api.segmentapis.com"
EU_API_HOST = "https://eu1.api.segmentapis.com"


@dataclass(frozen=True)
class ApiEndpoint:
    """A Public API base URL (may carry a path, as the sandbox's /public-api does)."""

    base_url: str
    region: Region

    def url(self, path: str) -> str:
        """`path` ("sources", "" for the root) under the base URL."""
        return f"{self.base_url}/{path.lstrip('/')}"


US_API = ApiEndpoint(US_API_HOST, Region.US)
EU_API = ApiEndpoint(EU_API_HOST, Region.EU)
# Tried in this order when a token's region is not known yet.
REGION_HOSTS: tuple[ApiEndpoint, ...] = (US_API, EU_API)


def parse_api_endpoint(text: str) -> ApiEndpoint:
    """`--api-endpoint URL` checked: https, or plain http only to loopback; a path is kept.

    Raises app.segment.endpoint.EndpointError with a sentence. Region.LOCAL for loopback,
    Region.CUSTOM for another https host, US/EU for Segment's own hosts.
    """
    raise NotImplementedError
