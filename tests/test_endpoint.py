"""Which addresses events may go to."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.redaction import printable
from app.segment.endpoint import EU, US, Endpoint, EndpointError, Region, parse_endpoint


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


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "not a web address"),
        ("http://[v1.x]", "IPv6"),
        ("http://127.0.0.1:abc", "port"),
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:0", "port"),
        ("https://exa mple.com", "space"),
        ("https://ex\x1bample.com", "control characters"),
        ("https://example\u202e.com", "control characters"),
        ("https://xn--zz.com", "valid server name"),
        ("https://xn--.com", "valid server name"),
        ("https://" + "a" * 64 + ".com", "valid server name"),
        ("https://a..b", "valid server name"),
        ("https://-a.com", "valid server name"),
        ("https://1.2.3.4.5", "valid server name"),
        ("https://\u2603\ufe0f.com", "valid server name"),
        ("https://[fe80::1%25eth0]", "valid server address"),
        ("https://example.com/?x=1", "'\\?' or '#'"),
        ("https://example.com#top", "'\\?' or '#'"),
        ("https://example.com?", "'\\?' or '#'"),
    ],
)
def test_bad_addresses_are_refused_with_a_sentence(url: str, why: str) -> None:
    with pytest.raises(EndpointError, match=why) as caught:
        parse_endpoint(url)
    assert str(caught.value).endswith(".")
    assert printable(str(caught.value)) == str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://user:pw@127.0.0.1:8471", "https://key@api.segment.io", "https://:pw@a.example"]
)
def test_credentials_in_the_address_are_refused(url: str) -> None:
    # httpx would send them as Authorization instead of the write key, while output claimed
    # the write key was sent.
    with pytest.raises(EndpointError, match="user name or password"):
        parse_endpoint(url)
    with pytest.raises(EndpointError, match="user name or password"):
        Endpoint(url, Region.LOCAL)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://api.segment.io:443/", US.base_url),
        ("HTTP://LOCALHOST:9/v1/", "http://localhost:9"),
        ("http://127.0.0.1:", "http://127.0.0.1"),
        ("bücher.example", "https://xn--bcher-kva.example"),
        ("https://xn--bcher-kva.example", "https://xn--bcher-kva.example"),
        ("http://[0:0::1]:8080", "http://[::1]:8080"),
        ("https://segment-proxy.example.com.", "https://segment-proxy.example.com"),
    ],
)
def test_addresses_are_normalised_to_what_is_sent(url: str, base: str) -> None:
    assert parse_endpoint(url).base_url == base


def _check_any_text(text: str) -> None:
    refusal: str | None = None
    try:
        endpoint = parse_endpoint(text)
    except EndpointError as exc:
        refusal = str(exc)
    if refusal is not None:
        assert printable(refusal) == refusal  # user text is echoed escaped
        return
    base = endpoint.base_url
    assert base.isascii()
    assert base.isprintable()
    assert "@" not in base
    assert parse_endpoint(base) == endpoint  # what is shown parses back to itself
    url = httpx.URL(endpoint.url("track"))  # and httpx takes it as it is
    assert url.scheme in ("http", "https")
    assert url.userinfo == b""
    if url.scheme == "http":
        assert endpoint.region is Region.LOCAL


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_gives_an_endpoint_or_a_sentence(text: str) -> None:
    _check_any_text(text)


_URL_PIECES = st.tuples(
    st.sampled_from(["", "http://", "https://", "ftp://", "HTTPS://", "//"]),
    st.sampled_from(["", "user@", "u:p@", ":@"]),
    st.one_of(
        st.sampled_from(["127.0.0.1", "localhost", "[::1]", "[::1", "api.segment.io", "xn--"]),
        st.from_regex(r"[a-z0-9.\-_\[\]:%]{1,70}", fullmatch=True),
        st.text(min_size=1, max_size=20),
    ),
    st.one_of(st.just(""), st.integers(-5, 70000).map(lambda n: f":{n}"), st.text(max_size=6)),
    st.sampled_from(["", "/", "/v1", "/v1/", "/v1/track", "?a=b", "#f", "/%2e%2e"]),
)


@settings(max_examples=600, deadline=None)
@given(_URL_PIECES)
def test_any_url_shaped_text_gives_an_endpoint_or_a_sentence(
    pieces: tuple[str, str, str, str, str],
) -> None:
    _check_any_text("".join(pieces))
