"""Check a Public API token: which workspace it opens, and so which region that workspace is in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.redaction import printable
from app.segment.endpoint import Region
from app.segment.public_api.client import PublicApiClient
from app.segment.public_api.errors import WORKSPACE_CALL, ApiErrorKind, PublicApiError, where
from app.segment.public_api.hosts import REGION_HOSTS, ApiEndpoint
from app.segment.public_api.models import Workspace

_REGION_WORDS = {Region.US: "Segment's US region", Region.EU: "Segment's EU region"}


@dataclass(frozen=True)
class TokenCheck:
    """The workspace a token opens, and the host that accepted it (hence the region)."""

    workspace: Workspace
    endpoint: ApiEndpoint

    @property
    def region(self) -> Region:
        return self.endpoint.region

    def describe(self) -> str:
        """'The token opens workspace "Acme" (acme), in Segment's US region.'"""
        name = printable(self.workspace.name or self.workspace.slug, 80)
        slug = printable(self.workspace.slug, 80)
        named = f'"{name}" ({slug})' if slug and slug != name else f'"{name}"'
        region = _REGION_WORDS.get(self.region)
        place = f"in {region}" if region else f"on {where(self.endpoint)}"
        text = f"The token opens workspace {named}, {place}."
        if self.region is Region.EU:
            text += (
                " Chatlio sources exist only in US workspaces, so Chatlio cannot send to this "
                "workspace."
            )
        return text


def check_token(
    token: str, hosts: Sequence[ApiEndpoint] = REGION_HOSTS, **client_options: Any
) -> TokenCheck:
    """`GET /` on each host in turn; the first that accepts the token wins.

    Raises PublicApiError: UNAUTHORIZED with a sentence naming every host tried when none
    accepts it; other kinds (unreachable...) as the first host that failed that way says.
    `client_options` go to PublicApiClient (proxy, cancel, transport...).
    """
    refusals: list[PublicApiError] = []
    failures: list[PublicApiError] = []
    for endpoint in hosts:
        with PublicApiClient(endpoint, token, **client_options) as client:
            try:
                return TokenCheck(client.workspace(), endpoint)
            except PublicApiError as exc:
                if exc.kind is ApiErrorKind.CANCELLED:
                    raise
                # Refused here means "not this region's token": the next host may take it.
                (refusals if exc.kind is ApiErrorKind.UNAUTHORIZED else failures).append(exc)
    if failures:
        raise failures[0]
    places = [_REGION_WORDS.get(e.region) or where(e) for e in hosts]
    if len(places) == 2:
        who = f"Neither {places[0]} nor {places[1]} accepted the token"
    elif len(places) == 1:
        who = f"{places[0][0].upper()}{places[0][1:]} did not accept the token"
    else:
        who = f"None of {', '.join(places)} accepted the token"
    technical = "; ".join(e.technical for e in refusals if e.technical)
    raise PublicApiError(
        ApiErrorKind.UNAUTHORIZED,
        f"{who}: it may be mistyped or revoked. Copy it again from Segment (Settings → Access "
        "Management → Tokens), or ask a Workspace Owner for a new one.",
        call=WORKSPACE_CALL.what,
        status=refusals[0].status if refusals else None,
        technical=technical,
    )
