"""Reading a server's answer body within a size cap, counted before and after decompression.

Segment answers `{"success": true}`; a body many times that size means the address is not
Segment. httpx's own decoder can turn one 64 KB network chunk into 64 MB, so the body is read
raw and decompressed here, never producing more than the cap plus one byte at a time.
"""

from __future__ import annotations

import codecs
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

# The most of a server's answer that is read (not the sandbox's cap on requests, MAX_BODY_BYTES in
# sandbox/rules.py). Segment's answers are a few dozen bytes; 64 KB leaves room for any error page.
MAX_ANSWER_BYTES = 64 * 1024

# What the client asks for: the encodings it can decompress within the cap itself.
ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class Body:
    """A response body as far as it was read, and why reading stopped early if it did."""

    text: str
    truncated: bool = False  # more than the cap arrived (or would have): reading stopped
    declared: int | None = None  # a Content-Length over the cap: nothing was read
    unreadable: str | None = None  # an encoding the app cannot decode, or corrupt data


class _Inflater:
    """gzip or deflate decompression that never yields more than asked for at once."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._z: zlib._Decompress | None = None

    def feed(self, data: bytes, room: int) -> tuple[bytes, bool]:
        """Decompress `data`; (output, overflowed) where output holds at most room + 1 bytes."""
        if self._z is None:
            if self._gzip:
                wbits = 16 + zlib.MAX_WBITS
            else:  # 'deflate' is zlib-wrapped by the standard, raw in some servers' hands
                wrapped = (
                    len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
                )
                wbits = zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
            self._z = zlib.decompressobj(wbits)
        pieces: list[bytes] = []
        produced = 0
        while data and not self._z.eof:
            # max_length bounds the output of this call; 0 would mean "no limit", never passed.
            piece = self._z.decompress(data, room - produced + 1)
            pieces.append(piece)
            produced += len(piece)
            if produced > room:
                return b"".join(pieces), True
            data = self._z.unconsumed_tail
        return b"".join(pieces), False


def read_body(response: httpx.Response, cap: int = MAX_ANSWER_BYTES) -> Body:
    """Read a streamed response's body, at most `cap` bytes raw and `cap` bytes decoded."""
    declared = _content_length(response)
    if declared is not None and declared > cap:
        return Body("", truncated=True, declared=declared)
    encodings = [
        e.strip().lower()
        for e in response.headers.get("content-encoding", "").split(",")
        if e.strip().lower() not in ("", "identity")
    ]
    if len(encodings) > 1 or (encodings and encodings[0] not in ("gzip", "x-gzip", "deflate")):
        return Body("", unreadable=", ".join(encodings))
    inflater = _Inflater(encodings[0]) if encodings else None
    decoded = bytearray()
    raw = 0
    truncated = False
    try:
        for chunk in response.iter_raw():
            raw += len(chunk)
            room = cap - len(decoded)
            if inflater is None:
                decoded += chunk[: room + 1]
                truncated = len(decoded) > cap
            else:
                piece, truncated = inflater.feed(chunk, room)
                decoded += piece
            if truncated or raw > cap:
                truncated = True
                break
    except zlib.error:
        return Body(_decode(bytes(decoded[:cap]), response), unreadable=encodings[0])
    return Body(_decode(bytes(decoded[:cap]), response), truncated=truncated)


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "").strip()
    if not (value.isdigit() and value.isascii()):
        return None
    return int(value) if len(value) <= 18 else 10**18  # int() refuses 4,300+ digits


def _decode(data: bytes, response: httpx.Response) -> str:
    """The body as text in the server's charset when that is a text encoding, else UTF-8.

    A charset names any codec Python has: 'hex', 'base64' or 'zlib' turn bytes into bytes,
    'idna' and 'undefined' refuse errors="replace"; none of them may crash a send.
    """
    content_type = response.headers.get("content-type", "")
    # Most answers name no charset: spare httpx's parse of the header for them.
    charset = (response.charset_encoding if "charset" in content_type.lower() else None) or "utf-8"
    try:
        if codecs.lookup(charset)._is_text_encoding:
            return data.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        pass
    return data.decode("utf-8", errors="replace")
