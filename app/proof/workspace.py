"""Check a Public API token: which workspace it opens, and so which region that workspace is in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.segment.endpoint import Region
from app.segment.public_api.hosts import REGION_HOSTS, ApiEndpoint
from app.segment.public_api.models import Workspace


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
        raise NotImplementedError


def check_token(
    token: str, hosts: Sequence[ApiEndpoint] = REGION_HOSTS, **client_options: object
) -> TokenCheck:
    """`GET /` on each host in turn; the first that accepts the token wins.

    Raises PublicApiError: UNAUTHORIZED with a sentence naming every host tried when none
    accepts it; other kinds (unreachable...) as the first host that failed that way says.
    `client_options` go to PublicApiClient (proxy, cancel, transport...).
    """
    raise NotImplementedError
