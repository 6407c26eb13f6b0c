"""Which proxy the app sends through: the computer's (the default), none, or one the user typed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.redaction import printable


class ProxyMode(enum.StrEnum):
    """Stored in the settings file by value: keep the values stable."""

    SYSTEM = "system"  # HTTPS_PROXY / ALL_PROXY / NO_PROXY, else the system's settings
    NONE = "none"  # connect directly, whatever the environment says
    MANUAL = "manual"  # the address in ProxyChoice.url


class ProxyError(ValueError):
    """A proxy address the app cannot use; the message says why, in a sentence."""


@dataclass(frozen=True)
class ProxyChoice:
    mode: ProxyMode = ProxyMode.SYSTEM
    url: str = ""  # only for MANUAL: a checked http:// or https:// address

    @classmethod
    def manual(cls, text: str) -> ProxyChoice:
        return cls(ProxyMode.MANUAL, parse_proxy(text))

    def describe(self) -> str:
        """For the window: 'this computer's proxy settings', 'no proxy', 'proxy.acme:3128'."""
        if self.mode is ProxyMode.NONE:
            return "no proxy"
        if self.mode is ProxyMode.MANUAL:
            return printable(urlsplit(self.url).netloc or self.url)
        return "this computer's proxy settings"


def parse_proxy(text: str) -> str:
    """An http(s) proxy address as typed ('proxy.acme:3128' means http://proxy.acme:3128)."""
    raw = text.strip()
    if not raw:
        raise ProxyError("Type the proxy's address, such as proxy.example.com:3128.")
    if not raw.isprintable() or any(char.isspace() for char in raw):
        raise ProxyError("The proxy address contains a space or invisible characters.")
    url = raw if "://" in raw else f"http://{raw}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        shown = printable(raw, 80)
        raise ProxyError(f"'{shown}' is not a proxy address the app can read.") from None
    if parts.scheme not in ("http", "https"):
        raise ProxyError(
            f"The app can use only http:// and https:// proxies, not {printable(parts.scheme)}://."
        )
    if not parts.hostname:
        raise ProxyError("The proxy address has no server name.")
    if parts.username or parts.password:
        raise ProxyError(
            "A password in the proxy address would be stored in a plain settings file. Use a "
            "proxy that needs no password, or this computer's proxy settings."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ProxyError("Give only the proxy's server and port, without a path.")
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in (parts.hostname or "") and not netloc.startswith("["):
        netloc = f"[{parts.hostname}]" + ("" if port is None else f":{port}")
    return f"{parts.scheme}://{netloc}"
