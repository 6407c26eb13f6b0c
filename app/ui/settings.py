"""Non-secret state in QSettings; the write key never comes here."""

from __future__ import annotations

import math
from typing import Any, overload

from PySide6.QtCore import QByteArray, QSettings


class _Text:
    """A string setting, read and written as an attribute."""

    def __init__(self, key: str, default: str = "") -> None:
        self.key, self.default = key, default

    @overload
    def __get__(self, obj: None, owner: Any) -> _Text: ...
    @overload
    def __get__(self, obj: AppSettings, owner: Any) -> str: ...
    def __get__(self, obj: AppSettings | None, owner: Any) -> _Text | str:
        if obj is None:
            return self
        value = obj.qsettings.value(self.key, self.default)
        return value if isinstance(value, str) else self.default

    def __set__(self, obj: AppSettings, value: str) -> None:
        obj.qsettings.setValue(self.key, value)


class _Flag:
    """A yes/no setting, read and written as an attribute."""

    def __init__(self, key: str) -> None:
        self.key = key

    @overload
    def __get__(self, obj: None, owner: Any) -> _Flag: ...
    @overload
    def __get__(self, obj: AppSettings, owner: Any) -> bool: ...
    def __get__(self, obj: AppSettings | None, owner: Any) -> _Flag | bool:
        if obj is None:
            return self
        return obj.qsettings.value(self.key, "false") in ("true", True)

    def __set__(self, obj: AppSettings, value: bool) -> None:
        obj.qsettings.setValue(self.key, "true" if value else "false")


class _Number:
    """A number-of-seconds setting; anything unreadable in the file reads as the default."""

    def __init__(self, key: str, default: float) -> None:
        self.key, self.default = key, default

    @overload
    def __get__(self, obj: None, owner: Any) -> _Number: ...
    @overload
    def __get__(self, obj: AppSettings, owner: Any) -> float: ...
    def __get__(self, obj: AppSettings | None, owner: Any) -> _Number | float:
        if obj is None:
            return self
        value = obj.qsettings.value(self.key, self.default)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return self.default
        return number if math.isfinite(number) and number > 0 else self.default

    def __set__(self, obj: AppSettings, value: float) -> None:
        obj.qsettings.setValue(self.key, f"{value:g}")


class AppSettings:
    """Typed access to the settings file: region, slug, source, visitor id, window geometry,
    and the network settings (Tracking API address, proxy, time limit).

    Keys are only ever added: a file written by an earlier version reads the same.
    """

    region = _Text("setup/region")
    workspace_slug = _Text("setup/workspace_slug")
    source_name = _Text("setup/source_name", "Chatlio")
    # An app.key_storage.KeyStorage value: where the key was put, never the key itself.
    key_storage = _Text("setup/key_storage")
    setup_complete = _Flag("setup/complete")
    # A Public API token was saved to the keyring (the token itself is only ever there).
    token_stored = _Flag("publicapi/token_stored")
    as_user_id = _Flag("test/as_user_id")
    # Test events carry integrations {"All": false}: no destination gets them (warehouses do).
    keep_from_destinations = _Flag("test/keep_from_destinations")
    # Empty: Segment's US address. Checked with parse_endpoint when read into the session.
    endpoint = _Text("network/endpoint")
    proxy_mode = _Text("network/proxy_mode", "system")  # an app.segment.proxy.ProxyMode value
    proxy_url = _Text("network/proxy_url")
    send_timeout = _Number("network/send_timeout", 60.0)  # seconds for a whole send

    def __init__(self, path: str | None = None) -> None:
        if path is None:
            self.qsettings = QSettings(
                QSettings.Format.IniFormat,
                QSettings.Scope.UserScope,
                "chatlio-segment-setup",
                "settings",
            )
        else:
            self.qsettings = QSettings(path, QSettings.Format.IniFormat)

    @property
    def path(self) -> str:
        return self.qsettings.fileName()

    @property
    def visitor_id(self) -> str:
        value = self.qsettings.value("test/visitor_id", "")
        if not isinstance(value, str) or not value:
            from app.chatlio import new_id  # not needed for the first page

            value = new_id("test-visitor")
            self.qsettings.setValue("test/visitor_id", value)
        return value

    @visitor_id.setter
    def visitor_id(self, value: str) -> None:
        self.qsettings.setValue("test/visitor_id", value)

    def geometry(self, name: str) -> QByteArray | None:
        value = self.qsettings.value(f"window/{name}")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, name: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"window/{name}", value)

    def splitter(self, name: str) -> QByteArray | None:
        value = self.qsettings.value(f"splitter/{name}")
        return value if isinstance(value, QByteArray) else None

    def set_splitter(self, name: str, value: QByteArray) -> None:
        self.qsettings.setValue(f"splitter/{name}", value)

    def sync(self) -> None:
        self.qsettings.sync()
