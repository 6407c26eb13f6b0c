"""The app's version as each platform's installer metadata must spell it.

`app.__version__` is a PEP 440 version and may be a pre-release (`0.2.0rc1`). Windows' version
resource and Inno Setup's VersionInfoVersion take exactly four numbers (each 0-65535); Apple's
CFBundleVersion and CFBundleShortVersionString take up to three. Both are derived here, the one
place, and the full text (with `rc1`) goes wherever the platform allows text.

A pre-release gets the numbers of the release it leads to (0.2.0rc1 -> 0.2.0.0): the numbers
only have to be valid, and Inno Setup replaces files whatever their version (`ignoreversion`).
A post-release's number is the fourth field (0.2.0.post1 -> 0.2.0.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ReleaseVersion", "VersionError", "parse"]

# PEP 440's canonical public form (no epoch, no local part): what `__version__` may be.
_CANONICAL = re.compile(
    r"^(?P<release>\d+(?:\.\d+)*)"
    r"(?:(?P<pre_kind>a|b|rc)(?P<pre>\d+))?"
    r"(?:\.post(?P<post>\d+))?"
    r"(?:\.dev(?P<dev>\d+))?$"
)
_MAX_FIELD = 65535  # a 16-bit half of VS_FIXEDFILEINFO's dwFileVersionMS/LS


class VersionError(ValueError):
    """The version cannot be written for an installer; the message says why."""


@dataclass(frozen=True)
class ReleaseVersion:
    text: str
    major: int
    minor: int
    micro: int
    post: int
    prerelease: bool

    @property
    def windows(self) -> str:
        """Four numbers for the version resource and Inno Setup's VersionInfoVersion."""
        return ".".join(str(n) for n in self.windows_tuple)

    @property
    def windows_tuple(self) -> tuple[int, int, int, int]:
        return (self.major, self.minor, self.micro, self.post)

    @property
    def apple(self) -> str:
        """Three numbers for CFBundleShortVersionString and CFBundleVersion."""
        return f"{self.major}.{self.minor}.{self.micro}"


def parse(text: str) -> ReleaseVersion:
    """`text` as installers need it; VersionError unless it is a canonical PEP 440 version."""
    match = _CANONICAL.match(text)
    if match is None:
        raise VersionError(
            f"{text!r} is not a canonical PEP 440 version such as 1.2.0, 1.2.0rc1 or 1.2.0.post1"
        )
    release = [int(part) for part in match["release"].split(".")]
    if len(release) > 3:
        raise VersionError(f"{text!r} has more than three release numbers (major.minor.micro)")
    major, minor, micro = (*release, 0, 0)[:3]
    post = int(match["post"] or 0)
    if max(major, minor, micro, post) > _MAX_FIELD:
        raise VersionError(f"{text!r} has a number above {_MAX_FIELD}, Windows' limit")
    prerelease = bool(match["pre_kind"] or match["dev"])
    return ReleaseVersion(text, major, minor, micro, post, prerelease)
