"""Which addresses events may go to."""

from __future__ import annotations

import pytest

from app.segment.endpoint import EU, US, EndpointError, Region, parse_endpoint


def test_default_is_us_and_eu_is_flagged() -> None:
    assert parse_endpoint("") is US
    assert parse_endpoint("https://api.segment.io/") is US
    assert US.supports_chatlio
    assert US.warning is None
    eu = parse_endpoint("events.eu1.segmentapis.com")
    assert eu is EU
    assert not eu.supports_chatlio
    assert eu.warning is not None
    assert "US" in eu.warning


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8471", "http://localhost:9", "http://[::1]:80", "http://127.9.9.9"]
)
def test_plain_http_only_to_loopback(url: str) -> None:
    assert parse_endpoint(url).region is Region.LOCAL


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://api.segment.io", "unencrypted"),
        ("http://10.0.0.1:8080", "unencrypted"),
        ("ftp://example.com", "not a web address"),
        ("https://", "not a web address"),
        ("https://api.segment.io/v1/track", "path"),
    ],
)
def test_unsafe_or_malformed_addresses_are_refused(url: str, why: str) -> None:
    with pytest.raises(EndpointError, match=why):
        parse_endpoint(url)


def test_custom_https_endpoint() -> None:
    endpoint = parse_endpoint("https://segment-proxy.example.com/v1/")
    assert endpoint.region is Region.CUSTOM
    assert endpoint.url("batch") == "https://segment-proxy.example.com/v1/batch"
