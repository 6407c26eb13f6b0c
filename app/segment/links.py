"""Every web address the app opens: Segment's web app and status page, Chatlio's dashboard."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

APP = "https://app.segment.com"
# Segment's docs link here: it lands in whichever workspace the user is signed in to.
ANY_WORKSPACE = f"{APP}/goto-my-workspace"
CATALOG_GENERIC = f"{ANY_WORKSPACE}/sources/catalog"
CHATLIO_DASHBOARD = "https://chatlio.com/app/"
SEGMENT_STATUS = "https://status.segment.com"

SourcePage = Literal["overview", "debugger", "settings/keys", "destinations"]
SOURCE_PAGES: tuple[SourcePage, ...] = ("overview", "debugger", "settings/keys", "destinations")

_APP_HOST = "app.segment.com"
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?")
_EXAMPLE = "https://app.segment.com/acme-inc/overview"


def _workspace(slug: str | None) -> str:
    return ANY_WORKSPACE if slug is None else f"{APP}/{quote(slug, safe='')}"


def chatlio_catalog(workspace_slug: str | None) -> str:
    """Chatlio's entry in the sources catalog, in the given workspace or the signed-in one."""
    return f"{_workspace(workspace_slug)}/sources/catalog/chatlio"


def sources_list(workspace_slug: str | None) -> str:
    """The workspace's list of sources (the signed-in workspace when the slug is unknown)."""
    # goto-my-workspace is documented for catalog links only; it redirects other paths the same.
    return f"{_workspace(workspace_slug)}/sources"


def access_tokens(workspace_slug: str | None) -> str:
    """Settings → Access Management → Tokens, where a workspace owner makes a Public API token.

    UNCLEAR: the path is what Segment's web app shows, not documented; goto-my-workspace
    redirects it to the signed-in workspace as it does the catalog.
    """
    return f"{_workspace(workspace_slug)}/settings/access-management/tokens"


def source_page(workspace_slug: str | None, source_slug: str, page: SourcePage) -> str:
    """One page of one source; the sources list when the workspace or source slug is unknown.

    UNCLEAR: these per-source paths are common knowledge, not documented; if the user reports
    they moved, send them to `sources_list` instead.
    """
    if page not in SOURCE_PAGES:
        raise ValueError(f"Unknown source page {page!r}; expected one of {SOURCE_PAGES}.")
    # goto-my-workspace does not reach inside a source, so without the slug only the list works.
    if workspace_slug is None or not source_slug:
        return sources_list(workspace_slug)
    return f"{_workspace(workspace_slug)}/sources/{quote(source_slug, safe='')}/{page}"


def source_slug(source_name: str) -> str:
    """The slug Segment gives a source named `source_name`: "Chatlio Prod" -> "chatlio-prod"."""
    # UNCLEAR: Segment does not document its rule; lower-case words joined by dashes is what its
    # UI shows for ordinary names. Segment may also add a suffix when the slug is already taken.
    return "-".join(re.findall(r"[a-z0-9]+", source_name.lower()))


def normalize_workspace_slug(text: str) -> str | None:
    """The workspace slug in `text`: a bare slug ("acme-inc") or a pasted Segment address.

    `https://app.segment.com/acme-inc/overview` gives "acme-inc"; empty text gives None.
    Anything else raises ValueError with a message to show the user.
    """
    text = text.strip()
    if not text:
        return None
    if "://" in text or text.lower().startswith(_APP_HOST):
        slug = _slug_from_address(text if "://" in text else f"https://{text}")
    elif "/" in text:
        raise ValueError(
            f"That is neither a workspace slug nor a full address. Paste the address of any "
            f"page of your Segment workspace, such as {_EXAMPLE}."
        )
    else:
        slug = text
    if any(char.isspace() for char in slug):
        raise ValueError(
            f"A workspace slug has no spaces. Paste the address of any page of your Segment "
            f"workspace, such as {_EXAMPLE}, or just the part after app.segment.com/."
        )
    # Segment's workspace slugs are lower-case; fold capitals typed by hand.
    slug = slug.lower()
    if slug == "goto-my-workspace":
        raise ValueError(
            "That link works for any workspace and does not name yours. Open it, then copy "
            "the address your browser shows."
        )
    if not _SLUG.fullmatch(slug):
        raise ValueError(
            f"{slug!r} does not look like a workspace slug: it has only letters, digits and "
            f"dashes, like the 'acme-inc' in {_EXAMPLE}."
        )
    return slug


def _slug_from_address(address: str) -> str:
    try:
        parts = urlsplit(address)
        host = parts.hostname
    except ValueError as error:
        raise ValueError(f"That is not a web address Segment uses, such as {_EXAMPLE}.") from error
    if parts.scheme not in ("http", "https") or host != _APP_HOST:
        where = f" It points to {host}." if host and host != _APP_HOST else ""
        raise ValueError(
            f"That is not an address in Segment's web app (app.segment.com).{where} Paste the "
            f"address of any page of your Segment workspace, such as {_EXAMPLE}."
        )
    first = unquote(parts.path).strip("/").split("/", 1)[0]
    if not first:
        raise ValueError(
            f"That address does not name a workspace. Open your workspace in Segment and copy "
            f"the address of any page in it, such as {_EXAMPLE}."
        )
    return first
