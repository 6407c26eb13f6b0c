"""The unofficial, token-free key check: does Segment's CDN have settings for this write key?

Undocumented; it puts the key in a URL, so the user is asked first. Settings found means
"Segment knows this key"; anything else means "could not confirm", never "wrong".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from app.segment.cancel import CancelToken
    from app.segment.proxy import ProxyChoice

CDN_HOST = "https://cdn.segment.com"


class CdnAnswer(StrEnum):
    KNOWN = "known"  # settings came back: Segment knows this key
    UNCONFIRMED = "unconfirmed"  # anything else


@dataclass(frozen=True)
class CdnCheck:
    answer: CdnAnswer
    sentence: str
    technical: str = ""  # status or error, for --verbose


def cdn_lookup(
    write_key: str,
    *,
    base_url: str = CDN_HOST,
    proxy: ProxyChoice | None = None,
    cancel: CancelToken | None = None,
    transport: httpx.BaseTransport | None = None,
) -> CdnCheck:
    """GET {base_url}/v1/projects/<key>/settings; never raises."""
    raise NotImplementedError
