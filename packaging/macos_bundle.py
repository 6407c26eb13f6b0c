"""The macOS app bundle's facts, derived rather than typed: its Info.plist and its minimum macOS.

`minimum_macos` is the highest minimum that any bundled Mach-O binary declares (packaging/macho.py)
or that an installed wheel's platform tag states (`macosx_14_0_universal2`): Finder then refuses
an older macOS with a clear message instead of the app crashing in dyld. `info_plist` builds the
bundle's Info.plist entries with Apple's numeric versions (packaging/versions.py) and the
bundle identifier Apple accepts. `check_universal2` names every binary that lacks one of the
universal2 build's two architectures, and `check_bundle` checks a finished .app both ways.

Plain functions of paths and strings: the spec (in the build venv), build.py (the runner's
Python) and the tests on Linux all use them.
"""

from __future__ import annotations

import plistlib
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import macho  # packaging/macho.py: this module's folder is on sys.path
import versions

__all__ = [
    "UNIVERSAL2",
    "BundleError",
    "app_macho_files",
    "check_bundle",
    "check_universal2",
    "format_version",
    "info_plist",
    "installed_wheel_tags",
    "minimum_macos",
    "python_problem",
    "wheel_tag_minimum",
]

UNIVERSAL2 = frozenset({"arm64", "x86_64"})
# Apple's CFBundleIdentifier: reverse DNS of letters, digits, '-' and '.'.
BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
# A wheel tag's platform part: macosx_<major>_<minor>_<arch>.
_MACOS_TAG = re.compile(r"^macosx_(\d+)_(\d+)_([a-z0-9_]+)$")
# Which of the two architectures a macOS wheel tag's arch covers.
_TAG_ARCHS = {
    "universal2": UNIVERSAL2,
    "arm64": frozenset({"arm64"}),
    "x86_64": frozenset({"x86_64"}),
    "intel": frozenset({"x86_64"}),
    "fat64": frozenset({"x86_64"}),
    "fat3": frozenset({"x86_64"}),
    "universal": frozenset({"x86_64"}),
}


format_version = macho.format_version


class BundleError(Exception):
    """The bundle would not run where it says it does; the message names the files."""


def wheel_tag_minimum(tags: Iterable[str]) -> macho.Version | None:
    """The oldest macOS a wheel with these tags (`cp310-abi3-macosx_14_0_universal2`) runs on.

    A wheel installs where any one of its tags matches, so for each architecture the lowest
    tag covering it counts; the app needs both, so the higher of the two. None for a wheel with
    no macOS tag (pure Python).
    """
    lowest: dict[str, macho.Version] = {}
    for tag in tags:
        for platform in tag.strip().split("-")[-1].split("."):
            match = _MACOS_TAG.match(platform)
            if match is None:
                continue
            version = (int(match[1]), int(match[2]), 0)
            for arch in _TAG_ARCHS.get(match[3], frozenset()):
                lowest[arch] = min(lowest.get(arch, version), version)
    return max(lowest.values()) if lowest else None


def installed_wheel_tags(site_packages: Iterable[Path]) -> dict[str, list[str]]:
    """Each installed distribution's `Tag:` lines from its *.dist-info/WHEEL, by dist-info."""
    tags: dict[str, list[str]] = {}
    for folder in site_packages:
        for wheel in sorted(Path(folder).glob("*.dist-info/WHEEL")):
            lines = wheel.read_text(encoding="utf-8", errors="replace").splitlines()
            found = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Tag:")]
            tags[wheel.parent.name] = found
    return tags


def minimum_macos(
    binaries: Iterable[Path], wheel_tags: Mapping[str, Iterable[str]]
) -> tuple[macho.Version, list[str]]:
    """The highest minimum over `binaries` (non-Mach-O files are ignored) and the wheels.

    Also returns, for the build log, what declared that minimum. BundleError when nothing
    declares any (no Mach-O file and no macOS wheel: not a macOS build).
    """
    declared: list[tuple[macho.Version, str]] = []
    for path in binaries:
        image = macho.read(Path(path))
        if image is not None and image.minimum is not None:
            declared.append((image.minimum, str(path)))
    for name, tags in wheel_tags.items():
        version = wheel_tag_minimum(tags)
        if version is not None:
            declared.append((version, f"{name} (wheel tag)"))
    if not declared:
        raise BundleError("No bundled binary and no installed wheel declares a minimum macOS")
    highest = max(version for version, _ in declared)
    return highest, sorted(source for version, source in declared if version == highest)


def check_universal2(binaries: Iterable[Path]) -> None:
    """BundleError naming every Mach-O file that lacks arm64 or x86_64."""
    offenders = []
    for path in binaries:
        image = macho.read(Path(path))
        if image is not None and not image.archs >= UNIVERSAL2:
            missing = ", ".join(sorted(UNIVERSAL2 - image.archs))
            offenders.append(f"  {path}: has {', '.join(sorted(image.archs))}, lacks {missing}")
    if offenders:
        raise BundleError(
            f"{len(offenders)} binaries are not universal2 (arm64 + x86_64), so the app would "
            f"not start on one kind of Mac; install universal2 wheels (and a universal2 "
            f"Python):\n" + "\n".join(offenders)
        )


def python_problem(platform: str) -> str | None:
    """Why a Python whose sysconfig.get_platform() is `platform` cannot build universal2."""
    if platform.endswith("universal2"):
        return None
    return (
        f"This Python is built for {platform}, not universal2: the app would run on one kind "
        f"of Mac only. Build with python.org's macOS installer (actions/setup-python installs "
        f"it), not Homebrew's or pyenv's Python."
    )


def info_plist(
    *, version: str, name: str, bundle_id: str, minimum: macho.Version
) -> dict[str, object]:
    """The entries of the bundle's Info.plist that PyInstaller does not fill in by itself."""
    if not BUNDLE_ID.match(bundle_id):
        raise BundleError(
            f"{bundle_id!r} is not a valid CFBundleIdentifier (letters, digits, '-' and '.')"
        )
    numbers = versions.parse(version).apple
    return {
        "CFBundleIdentifier": bundle_id,
        "CFBundleName": name,
        "CFBundleDisplayName": name,
        "CFBundleShortVersionString": numbers,
        "CFBundleVersion": numbers,
        "LSApplicationCategoryType": "public.app-category.developer-tools",
        "LSMinimumSystemVersion": macho.format_version(minimum),
        "NSHighResolutionCapable": True,
        "NSHumanReadableCopyright": "MIT licence, Chatlio Segment Setup contributors",
    }


def _parse_version(text: str) -> macho.Version:
    parts = [int(part) for part in text.split(".")]
    major, minor, patch = (*parts, 0, 0)[:3]
    return (major, minor, patch)


def app_macho_files(app: Path) -> Iterator[Path]:
    """Every Mach-O file in an .app bundle (symlinks not followed), in a stable order."""
    for path in sorted(app.rglob("*")):
        if macho.read(path) is not None:
            yield path


def check_bundle(app: Path) -> macho.Version:
    """BundleError unless every binary in `app` is universal2 and runs on its declared macOS.

    Returns the Info.plist's LSMinimumSystemVersion. This checks the finished bundle, which
    holds what the spec never saw: PyInstaller's bootloader and its Python library.
    """
    plist_path = app / "Contents" / "Info.plist"
    with plist_path.open("rb") as stream:
        plist = plistlib.load(stream)
    text = plist.get("LSMinimumSystemVersion")
    if not isinstance(text, str):
        raise BundleError(f"{plist_path} has no LSMinimumSystemVersion")
    declared = _parse_version(text)
    files = list(app_macho_files(app))
    if not files:
        raise BundleError(f"{app} holds no Mach-O file")
    check_universal2(files)
    newer = [
        f"  {path.relative_to(app)}: needs macOS {macho.format_version(image.minimum)}"
        for path in files
        if (image := macho.read(path)) is not None
        and image.minimum is not None
        and image.minimum > declared
    ]
    if newer:
        raise BundleError(
            f"Info.plist says macOS {text} but these binaries need a newer one (the spec derives "
            f"LSMinimumSystemVersion from what it bundles; was the bundle changed after?):\n"
            + "\n".join(newer)
        )
    return declared
