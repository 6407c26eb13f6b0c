"""Each platform's identifier and version number is valid by that platform's rules."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from app import APP_ID, MACOS_BUNDLE_ID, __version__
from tests.packaging_helpers import load

# freedesktop (Desktop Entry spec "desktop file id", AppStream <id>, D-Bus well-known names):
# two or more elements of [A-Za-z0-9_], none starting with a digit; AppStream asks for
# underscores where a domain has hyphens. At most 255 characters.
FREEDESKTOP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
# Apple's CFBundleIdentifier: letters, digits, hyphens and periods, in reverse-DNS form.
APPLE_BUNDLE_ID = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


versions = load("versions")


def test_the_freedesktop_id_is_valid_for_desktop_files_and_appstream() -> None:
    assert FREEDESKTOP_ID.match(APP_ID), APP_ID
    assert len(APP_ID) <= 255


def test_the_apple_bundle_id_is_valid_for_apple() -> None:
    assert APPLE_BUNDLE_ID.match(MACOS_BUNDLE_ID), MACOS_BUNDLE_ID
    assert "_" not in MACOS_BUNDLE_ID


def test_both_ids_name_the_same_app_in_the_same_domain() -> None:
    # Only the separator the platform forbids differs.
    assert MACOS_BUNDLE_ID.replace("-", "_") == APP_ID


@pytest.mark.parametrize(
    ("bad", "valid_for"),
    [
        ("io.github.chatlio_segment_setup.App", "apple"),
        ("io.github.chatlio-segment-setup.App", "freedesktop"),
        ("App", "both"),
        ("io..App", "both"),
        ("io.github.9lives", "freedesktop"),
    ],
)
def test_the_rules_refuse_what_each_platform_refuses(bad: str, valid_for: str) -> None:
    assert bool(APPLE_BUNDLE_ID.match(bad)) is (valid_for == "freedesktop")
    assert bool(FREEDESKTOP_ID.match(bad)) is (valid_for == "apple")


@pytest.mark.parametrize(
    ("text", "windows", "apple", "prerelease"),
    [
        ("0.1.0", "0.1.0.0", "0.1.0", False),
        ("0.2.0rc1", "0.2.0.0", "0.2.0", True),
        ("1.0.0a3", "1.0.0.0", "1.0.0", True),
        ("1.0.0b2.dev4", "1.0.0.0", "1.0.0", True),
        ("2.0", "2.0.0.0", "2.0.0", False),
        ("3", "3.0.0.0", "3.0.0", False),
        ("1.2.3.post4", "1.2.3.4", "1.2.3", False),
        ("65535.0.1", "65535.0.1.0", "65535.0.1", False),
    ],
)
def test_installer_numbers(text: str, windows: str, apple: str, prerelease: bool) -> None:
    version = versions.parse(text)

    assert version.windows == windows
    assert version.apple == apple
    assert version.prerelease is prerelease
    assert version.text == text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("v1.0.0", "not a canonical PEP 440 version"),
        ("1.0.0-rc1", "not a canonical PEP 440 version"),
        ("1.0.0+local", "not a canonical PEP 440 version"),
        ("1!1.0.0", "not a canonical PEP 440 version"),
        ("1.2.3.4", "more than three release numbers"),
        ("1.65536.0", "a number above 65535"),
        ("", "not a canonical PEP 440 version"),
    ],
)
def test_versions_installers_cannot_take_are_refused(text: str, why: str) -> None:
    with pytest.raises(versions.VersionError, match=why):
        versions.parse(text)


def test_the_app_version_is_one_every_installer_takes() -> None:
    version = versions.parse(__version__)

    assert str(Version(__version__)) == __version__  # canonical, as PyPI's parser writes it
    assert version.prerelease is Version(__version__).is_prerelease


@given(
    release=st.lists(st.integers(0, 999), min_size=1, max_size=3),
    pre=st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 99)),
    post=st.none() | st.integers(0, 99),
    dev=st.none() | st.integers(0, 99),
)
def test_every_canonical_version_is_read_as_pypi_reads_it(
    release: list[int], pre: tuple[str, int] | None, post: int | None, dev: int | None
) -> None:
    text = ".".join(map(str, release))
    text += f"{pre[0]}{pre[1]}" if pre else ""
    text += f".post{post}" if post is not None else ""
    text += f".dev{dev}" if dev is not None else ""
    reference = Version(text)
    assert str(reference) == text

    version = versions.parse(text)

    assert (version.major, version.minor, version.micro) == (*reference.release, 0, 0)[:3]
    assert version.post == (reference.post or 0)
    assert version.prerelease is reference.is_prerelease
