"""The web addresses the app opens, and reading a workspace slug from what the user pastes."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.segment.links import (
    CATALOG_GENERIC,
    CHATLIO_DASHBOARD,
    SEGMENT_STATUS,
    SOURCE_PAGES,
    SourcePage,
    chatlio_catalog,
    normalize_workspace_slug,
    source_page,
    source_slug,
    sources_list,
)


def test_constants() -> None:
    assert CATALOG_GENERIC == "https://app.segment.com/goto-my-workspace/sources/catalog"
    assert CHATLIO_DASHBOARD == "https://chatlio.com/app/"
    assert SEGMENT_STATUS == "https://status.segment.com"


def test_chatlio_catalog() -> None:
    assert chatlio_catalog(None) == f"{CATALOG_GENERIC}/chatlio"
    assert chatlio_catalog("acme-inc") == "https://app.segment.com/acme-inc/sources/catalog/chatlio"


def test_sources_list() -> None:
    assert sources_list("acme-inc") == "https://app.segment.com/acme-inc/sources"
    assert sources_list(None) == "https://app.segment.com/goto-my-workspace/sources"


@pytest.mark.parametrize("page", SOURCE_PAGES)
def test_source_page(page: SourcePage) -> None:
    assert (
        source_page("acme-inc", "chatlio-prod", page)
        == f"https://app.segment.com/acme-inc/sources/chatlio-prod/{page}"
    )


def test_source_page_falls_back_to_the_sources_list() -> None:
    assert source_page(None, "chatlio", "debugger") == sources_list(None)
    assert source_page("acme-inc", "", "overview") == sources_list("acme-inc")


def test_source_page_rejects_unknown_pages() -> None:
    with pytest.raises(ValueError, match="Unknown source page"):
        source_page("acme-inc", "chatlio", "billing")  # type: ignore[arg-type]


def test_slugs_are_quoted() -> None:
    assert chatlio_catalog("a b/c") == "https://app.segment.com/a%20b%2Fc/sources/catalog/chatlio"
    assert source_page("acme", "x/y?z", "overview") == (
        "https://app.segment.com/acme/sources/x%2Fy%3Fz/overview"
    )


@given(st.text(), st.text(min_size=1))
def test_addresses_stay_in_segments_app(workspace: str, source: str) -> None:
    for page in SOURCE_PAGES:
        parts = urlsplit(source_page(workspace, source, page))
        assert (parts.scheme, parts.hostname) == ("https", "app.segment.com")
        assert not parts.query
        assert not parts.fragment


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Chatlio", "chatlio"),
        ("Chatlio Prod", "chatlio-prod"),
        ("  Chatlio  (EU) 2 ", "chatlio-eu-2"),
        ("chatlio_prod", "chatlio-prod"),
        ("", ""),
    ],
)
def test_source_slug(name: str, slug: str) -> None:
    assert source_slug(name) == slug


@given(st.text())
def test_source_slug_is_url_safe(name: str) -> None:
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", source_slug(name))


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("acme-inc", "acme-inc"),
        ("  acme-inc\n", "acme-inc"),
        ("Acme-Inc", "acme-inc"),
        ("https://app.segment.com/acme-inc/overview", "acme-inc"),
        ("https://app.segment.com/acme-inc", "acme-inc"),
        ("https://app.segment.com/acme-inc/", "acme-inc"),
        ("http://app.segment.com/acme-inc/sources/chatlio/debugger?x=1#top", "acme-inc"),
        ("HTTPS://APP.SEGMENT.COM/acme-inc/overview", "acme-inc"),
        ("app.segment.com/acme-inc/overview", "acme-inc"),
        ("acme2", "acme2"),
    ],
)
def test_normalize_workspace_slug(text: str, slug: str) -> None:
    assert normalize_workspace_slug(text) == slug


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_normalize_workspace_slug_empty(text: str) -> None:
    assert normalize_workspace_slug(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acme inc", "no spaces"),
        ("https://app.segment.com/acme%20inc/overview", "no spaces"),
        ("https://example.com/acme-inc/overview", "example.com"),
        ("https://segment.com/docs/", "segment.com"),
        ("ftp://app.segment.com/acme-inc", "app.segment.com"),
        ("https://app.segment.com/", "does not name a workspace"),
        ("https://app.segment.com/goto-my-workspace/sources/catalog", "does not name yours"),
        ("goto-my-workspace", "does not name yours"),
        ("acme-inc/overview", "full address"),
        ("acme$inc", "does not look like a workspace slug"),
        ("-acme", "does not look like a workspace slug"),
        ("https://[::1", "not a web address"),
    ],
)
def test_normalize_workspace_slug_rejects_garbage(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        normalize_workspace_slug(text)


@given(st.text())
def test_normalize_workspace_slug_gives_a_safe_slug_or_a_clear_error(text: str) -> None:
    try:
        slug = normalize_workspace_slug(text)
    except ValueError as error:
        message = str(error)
    else:
        assert slug is None or re.fullmatch(r"[a-z0-9_-]+", slug)
        return
    assert message.endswith(".")
