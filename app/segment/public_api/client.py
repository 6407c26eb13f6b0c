"""The Public API client on httpx: bearer auth, versions, pagination, retries, size caps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from app.segment.public_api import CHATLIO_METADATA_ID
from app.segment.public_api.hosts import ApiEndpoint
from app.segment.public_api.models import Connection, Counts, Source, Workspace

if TYPE_CHECKING:
    import httpx

    from app.segment.cancel import CancelToken
    from app.segment.proxy import ProxyChoice
    from app.segment.retry import RetryPolicy

# One call (every page of a listing, every retry) ends within this many seconds by default.
DEFAULT_CALL_SECONDS = 30.0


class PublicApiClient:
    """Calls on one workspace's Public API with one token (hidden from repr). Blocking.

    Every method raises PublicApiError (app.segment.public_api.errors) on failure, never
    another exception. `on_request(method, path)` is called before each HTTP request is sent
    (tests count requests with it; the path has no query string and no secret).
    """

    def __init__(
        self,
        endpoint: ApiEndpoint,
        token: str,
        *,
        call_seconds: float = DEFAULT_CALL_SECONDS,
        retry: RetryPolicy | None = None,
        proxy: ProxyChoice | None = None,
        cancel: CancelToken | None = None,
        transport: httpx.BaseTransport | None = None,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        raise NotImplementedError

    @property
    def endpoint(self) -> ApiEndpoint:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> PublicApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def workspace(self) -> Workspace:
        """`GET /`: the token's workspace (the cheapest check that a token works here)."""
        raise NotImplementedError

    def sources(self) -> list[Source]:
        """Every source of the workspace, all pages followed."""
        raise NotImplementedError

    def source(self, source_id: str) -> Source:
        raise NotImplementedError

    def create_source(
        self, slug: str, *, metadata_id: str = CHATLIO_METADATA_ID, enabled: bool = True
    ) -> Source:
        """`POST /sources`; the answer's source (its write keys empty without Source Admin)."""
        raise NotImplementedError

    def connected_destinations(self, source_id: str) -> list[Connection]:
        raise NotImplementedError

    def connected_warehouses(self, source_id: str) -> list[Connection]:
        raise NotImplementedError

    def delivered(
        self, source_id: str, start: datetime, end: datetime, event_names: Sequence[str]
    ) -> Counts:
        """Delivery Overview (beta) successfully-received, by event name, per minute."""
        raise NotImplementedError

    def failed_on_ingest(
        self, source_id: str, start: datetime, end: datetime, event_names: Sequence[str]
    ) -> Counts:
        """Delivery Overview (beta) failed-on-ingest, by discard reason and event name."""
        raise NotImplementedError

    def events_volume(
        self, source_id: str, start: datetime, end: datetime, event_names: Sequence[str]
    ) -> Counts:
        """`GET /events/volume` by event name, per minute: where Delivery Overview is not."""
        raise NotImplementedError
