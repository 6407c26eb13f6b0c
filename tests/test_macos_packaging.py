"""macOS packaging, checked on Linux: the Mach-O reader, the derived Info.plist, and the DMG steps.

Mach-O files are built here byte by byte. Apple's tools (codesign, xcrun notarytool and stapler,
hdiutil, ditto, spctl, lipo, sw_vers) cannot run here: small fakes first on PATH log their
arguments and answer as the real ones do, so the recipes' logic (Apple's verdict read, the log
fetched, hdiutil retried, the signing order, the password never shown) runs for real.
"""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from app import APP_NAME, MACOS_BUNDLE_ID, __version__
from tests.packaging_helpers import load, run_spec_as_on

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SMOKE_TEST = PACKAGING / "macos" / "smoke_test_dmg.sh"

ARM64 = (0x0100000C, 0)
ARM64E = (0x0100000C, 2)
X86_64 = (0x01000007, 3)
I386 = (7, 3)
MH_EXECUTE, MH_DYLIB = 0x2, 0x6
PASSWORD = "abcd-efgh-ijkl-mnop"  # an app-specific password's shape


@pytest.fixture(scope="module")
def macho() -> Any:
    return load("macho")


@pytest.fixture(scope="module")
def bundle() -> Any:
    return load("macos_bundle")


@pytest.fixture(scope="module")
def dmg() -> Any:
    return load("macos/dmg")


# --- Mach-O files, byte by byte ---------------------------------------------------------------


def packed(major: int, minor: int, patch: int = 0) -> int:
    return (major << 16) | (minor << 8) | patch


def build_version(order: str, minos: int, platform: int = 1) -> bytes:
    """LC_BUILD_VERSION (0x32) with one tool entry, as ld writes it."""
    return struct.pack(order + "IIIIIIII", 0x32, 32, platform, minos, packed(15, 0), 1, 3, 0)


def version_min_macosx(order: str, version: int) -> bytes:
    """LC_VERSION_MIN_MACOSX (0x24), the pre-2018 form."""
    return struct.pack(order + "IIII", 0x24, 16, version, packed(10, 14))


def uuid_command(order: str) -> bytes:
    return struct.pack(order + "II", 0x1B, 24) + bytes(range(16))


def image(
    cpu: tuple[int, int],
    commands: list[bytes],
    *,
    order: str = "<",
    bits: int = 64,
    filetype: int = MH_DYLIB,
) -> bytes:
    body = b"".join(commands)
    magic = 0xFEEDFACF if bits == 64 else 0xFEEDFACE
    header = struct.pack(order + "IiiIIII", magic, *cpu, filetype, len(commands), len(body), 0)
    if bits == 64:
        header += b"\0\0\0\0"
    return header + body + b"\0" * 64  # some "code" after the load commands


def fat(slices: list[tuple[tuple[int, int], bytes]], *, bits: int = 32) -> bytes:
    """A universal file: big-endian fat header and table, each slice 4 KiB aligned."""
    entry = ">iiQQII" if bits == 64 else ">iiIII"
    table_end = 8 + len(slices) * struct.calcsize(entry)
    offsets, position = [], 4096
    for _cpu, data in slices:
        offsets.append(position)
        position += (len(data) + 4095) // 4096 * 4096
    header = struct.pack(">II", 0xCAFEBABF if bits == 64 else 0xCAFEBABE, len(slices))
    for (cpu, data), offset in zip(slices, offsets, strict=True):
        header += struct.pack(entry, *cpu, offset, len(data), 12, *([0] if bits == 64 else []))
    out = bytearray(header.ljust(max(table_end, 4096), b"\0"))
    for (_cpu, data), offset in zip(slices, offsets, strict=True):
        out[offset : offset + len(data)] = data
        out.extend(b"\0" * ((-len(out)) % 4096))
    return bytes(out)


def universal(arm: tuple[int, int], intel: tuple[int, int], filetype: int = MH_DYLIB) -> bytes:
    """A universal2 file: arm64 with LC_BUILD_VERSION, x86_64 with LC_VERSION_MIN_MACOSX."""
    return fat(
        [
            (X86_64, image(X86_64, [version_min_macosx("<", packed(*intel))], filetype=filetype)),
            (ARM64, image(ARM64, [build_version("<", packed(*arm))], filetype=filetype)),
        ]
    )


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- the reader -------------------------------------------------------------------------------


def test_thin_arm64_with_build_version(macho: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path / "libthin.dylib",
        image(ARM64, [uuid_command("<"), build_version("<", packed(14, 4))]),
    )

    result = macho.read(path)

    assert result.fat is False
    assert result.archs == {"arm64"}
    assert result.minimum == (14, 4, 0)
    assert result.filetype == macho.MH_DYLIB
    assert macho.format_version(result.minimum) == "14.4"


def test_thin_x86_64_with_version_min_macosx(macho: Any, tmp_path: Path) -> None:
    path = write(
        tmp_path / "tool",
        image(X86_64, [version_min_macosx("<", packed(10, 13, 6))], filetype=MH_EXECUTE),
    )

    result = macho.read(path)

    assert result.archs == {"x86_64"}
    assert result.minimum == (10, 13, 6)
    assert result.filetype == macho.MH_EXECUTE
    assert macho.format_version(result.minimum) == "10.13.6"


def test_fat_file_reports_each_slice_and_the_highest_minimum(macho: Any, tmp_path: Path) -> None:
    path = write(tmp_path / "QtCore", universal(arm=(26, 0), intel=(14, 4)))

    result = macho.read(path)

    assert result.fat is True
    assert [(part.cpu, part.minimum) for part in result.slices] == [
        ("x86_64", (14, 4, 0)),
        ("arm64", (26, 0, 0)),
    ]
    assert result.minimum == (26, 0, 0)


@pytest.mark.parametrize("bits", [32, 64])
def test_fat_64_bit_tables_and_big_endian_32_bit_slices(
    macho: Any, tmp_path: Path, bits: int
) -> None:
    old = image(I386, [version_min_macosx(">", packed(10, 6))], order=">", bits=32)
    new = image(ARM64E, [build_version("<", packed(11, 0))])
    path = write(tmp_path / "mixed", fat([(I386, old), (ARM64E, new)], bits=bits))

    result = macho.read(path)

    assert [(part.cpu, part.minimum) for part in result.slices] == [
        ("i386", (10, 6, 0)),
        ("arm64e", (11, 0, 0)),
    ]


def test_other_platforms_build_version_is_not_a_macos_minimum(macho: Any, tmp_path: Path) -> None:
    ios = 2
    path = write(tmp_path / "libios.dylib", image(ARM64, [build_version("<", packed(17, 0), ios)]))

    assert macho.read(path).minimum is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x7fELF\x02\x01\x01" + b"\0" * 60,
        b"import sys\n",
        b"!<arch>\n" + b"\0" * 60,
        # A Java class file: the fat magic number, then its version (major 52) where a fat
        # header's slice count would be.
        struct.pack(">IHH", 0xCAFEBABE, 0, 52) + b"\0" * 64,
        # The fat magic and a plausible count, but a table that points outside the file.
        struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", *ARM64, 4096, 999999, 12),
    ],
    ids=["empty", "elf", "python", "archive", "java", "not-fat"],
)
def test_files_that_are_not_mach_o(macho: Any, tmp_path: Path, data: bytes) -> None:
    assert macho.read(write(tmp_path / "file", data)) is None


def test_more_slices_than_a_universal_file_has_is_a_java_class_file(
    macho: Any, tmp_path: Path
) -> None:
    slice_ = image(ARM64, [build_version("<", packed(14, 0))])
    path = write(tmp_path / "Main.class", fat([(ARM64, slice_)] * 31))

    assert macho.read(path) is None
    assert macho.read(write(tmp_path / "ok", fat([(ARM64, slice_)] * 3))) is not None


def test_folders_and_symlinks_are_not_read(macho: Any, tmp_path: Path) -> None:
    target = write(tmp_path / "libreal.dylib", image(ARM64, [build_version("<", packed(14, 0))]))
    (tmp_path / "link.dylib").symlink_to(target)

    assert macho.read(tmp_path / "link.dylib") is None
    assert macho.read(tmp_path) is None
    assert macho.read(target) is not None


@pytest.mark.parametrize(
    "commands", [[b"\x32\0\0\0\0\0\0\0"], [b"\x32\0\0\0\xff\0\0\0"]], ids=["size-0", "too-long"]
)
def test_damaged_load_commands_are_an_error_not_a_hang(
    macho: Any, tmp_path: Path, commands: list[bytes]
) -> None:
    path = write(tmp_path / "broken.dylib", image(ARM64, commands))

    with pytest.raises(macho.MachOError, match=r"broken\.dylib"):
        macho.read(path)


def test_truncated_header_is_an_error(macho: Any, tmp_path: Path) -> None:
    data = image(ARM64, [build_version("<", packed(14, 0))])

    with pytest.raises(macho.MachOError, match=r"truncated|do not fit"):
        macho.read(write(tmp_path / "cut.dylib", data[:40]))


# --- the minimum macOS and the Info.plist -----------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["cp310-abi3-macosx_14_0_universal2"], (14, 0, 0)),
        # one wheel built per arch, combined: the app needs both, so the higher one
        (["cp314-cp314-macosx_10_13_x86_64", "cp314-cp314-macosx_11_0_arm64"], (11, 0, 0)),
        # a compressed tag set: the lowest tag covering each arch counts
        (["cp39-abi3-macosx_10_9_universal2.macosx_12_0_universal2"], (10, 9, 0)),
        (["py3-none-any"], None),
        (["cp311-cp311-manylinux_2_28_x86_64", "cp311-cp311-win_amd64"], None),
    ],
)
def test_wheel_tag_minimum(bundle: Any, tags: list[str], expected: object) -> None:
    assert bundle.wheel_tag_minimum(tags) == expected


def test_installed_wheel_tags_are_read_from_dist_info(bundle: Any, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    write(
        site / "shiboken6-6.12.0.dist-info" / "WHEEL",
        b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp310-abi3-macosx_14_0_universal2\n",
    )
    write(site / "httpx-0.28.1.dist-info" / "WHEEL", b"Wheel-Version: 1.0\nTag: py3-none-any\n")
    write(site / "httpx" / "__init__.py", b"")

    assert bundle.installed_wheel_tags([site]) == {
        "httpx-0.28.1.dist-info": ["py3-none-any"],
        "shiboken6-6.12.0.dist-info": ["cp310-abi3-macosx_14_0_universal2"],
    }


def test_minimum_is_the_highest_over_binaries_and_wheels(bundle: Any, tmp_path: Path) -> None:
    libpython = write(tmp_path / "Python", universal(arm=(11, 0), intel=(10, 13)))
    qt = write(tmp_path / "QtCore", universal(arm=(14, 4), intel=(14, 4)))
    shiboken = write(tmp_path / "libshiboken6.dylib", universal(arm=(26, 0), intel=(26, 0)))
    script = write(tmp_path / "launcher.py", b"print('hi')\n")
    wheels = {"PySide6_Essentials": ["cp310-abi3-macosx_14_0_universal2"]}

    assert bundle.minimum_macos([libpython, qt, script], wheels) == (
        (14, 4, 0),
        [str(qt)],
    )
    assert bundle.minimum_macos([libpython, qt, shiboken, script], wheels) == (
        (26, 0, 0),
        [str(shiboken)],
    )
    # The wheel's tag counts too: binaries that claim less do not lower it.
    assert bundle.minimum_macos([libpython], wheels) == (
        (14, 0, 0),
        ["PySide6_Essentials (wheel tag)"],
    )


def test_minimum_needs_something_that_declares_one(bundle: Any, tmp_path: Path) -> None:
    script = write(tmp_path / "launcher.py", b"print('hi')\n")

    with pytest.raises(bundle.BundleError, match="minimum macOS"):
        bundle.minimum_macos([script], {"httpx": ["py3-none-any"]})


def test_info_plist_round_trips_with_apple_numbers_for_a_prerelease(bundle: Any) -> None:
    entries = bundle.info_plist(
        version="0.2.0rc1", name=APP_NAME, bundle_id=MACOS_BUNDLE_ID, minimum=(26, 0, 0)
    )

    loaded = plistlib.loads(plistlib.dumps(entries))

    assert loaded == entries
    assert loaded["CFBundleIdentifier"] == MACOS_BUNDLE_ID
    assert bundle.BUNDLE_ID.match(loaded["CFBundleIdentifier"])
    assert "_" not in loaded["CFBundleIdentifier"]
    assert loaded["CFBundleShortVersionString"] == "0.2.0"
    assert loaded["CFBundleVersion"] == "0.2.0"
    assert loaded["LSMinimumSystemVersion"] == "26.0"
    assert loaded["CFBundleName"] == APP_NAME
    assert loaded["NSHighResolutionCapable"] is True


@pytest.mark.parametrize(
    "bundle_id",
    ["io.github.chatlio_segment_setup.ChatlioSegmentSetup", "ChatlioSegmentSetup", "io..app"],
)
def test_info_plist_refuses_an_identifier_apple_rejects(bundle: Any, bundle_id: str) -> None:
    with pytest.raises(bundle.BundleError, match="CFBundleIdentifier"):
        bundle.info_plist(version="0.1.0", name=APP_NAME, bundle_id=bundle_id, minimum=(14, 0, 0))


def test_universal2_check_names_each_thin_binary(bundle: Any, tmp_path: Path) -> None:
    good = write(tmp_path / "QtGui", universal(arm=(14, 0), intel=(14, 0)))
    thin = write(tmp_path / "_cffi_backend.so", image(ARM64, [build_version("<", packed(11, 0))]))
    intel = write(tmp_path / "libold.dylib", image(X86_64, [build_version("<", packed(10, 9))]))
    data = write(tmp_path / "app.svg", b"<svg/>")

    with pytest.raises(bundle.BundleError) as raised:
        bundle.check_universal2([good, thin, intel, data])

    message = str(raised.value)
    assert "2 binaries are not universal2" in message
    assert f"{thin}: has arm64, lacks x86_64" in message
    assert f"{intel}: has x86_64, lacks arm64" in message
    assert "QtGui" not in message
    bundle.check_universal2([good, data])  # nothing to say


@pytest.mark.parametrize(
    ("platform", "ok"),
    [
        ("macosx-10.13-universal2", True),
        ("macosx-11.0-universal2", True),
        ("macosx-14.0-arm64", False),
        ("macosx-10.9-x86_64", False),
    ],
)
def test_only_a_universal2_python_builds(bundle: Any, platform: str, ok: bool) -> None:
    problem = bundle.python_problem(platform)

    assert (problem is None) is ok
    if not ok:
        assert platform in problem


def make_app(tmp_path: Path, *, minimum: str | None = "14.4", thin: bool = False) -> Path:
    """A fake .app as PyInstaller lays it out (executable, libraries, a Qt framework)."""
    app = tmp_path / f"{APP_NAME}.app"
    contents = app / "Contents"
    write(contents / "MacOS" / "chatlio-segment-setup", universal((11, 0), (10, 13), MH_EXECUTE))
    write(contents / "Frameworks" / "Python", universal(arm=(11, 0), intel=(10, 13)))
    framework = contents / "Frameworks" / "PySide6" / "Qt" / "lib" / "QtCore.framework"
    qt = universal(arm=(14, 4), intel=(14, 4))
    if thin:
        qt = image(ARM64, [build_version("<", packed(14, 4))])
    write(framework / "Versions" / "A" / "QtCore", qt)
    # shallower than QtCore's binary, but sorted before it by name
    write(framework.parent / "QtConcurrent.dylib", universal(arm=(14, 4), intel=(14, 4)))
    write(framework / "Versions" / "A" / "Resources" / "Info.plist", b"<plist/>")
    (framework / "Versions" / "Current").symlink_to("A")
    (framework / "QtCore").symlink_to("Versions/Current/QtCore")
    write(contents / "Resources" / "resources" / "icons" / "app.svg", b"<svg/>")
    plist: dict[str, object] = {"CFBundleIdentifier": MACOS_BUNDLE_ID}
    if minimum is not None:
        plist["LSMinimumSystemVersion"] = minimum
    write(contents / "Info.plist", plistlib.dumps(plist))
    return app


def test_bundle_check_passes_a_universal2_app_within_its_minimum(
    bundle: Any, tmp_path: Path
) -> None:
    assert bundle.check_bundle(make_app(tmp_path)) == (14, 4, 0)


def test_bundle_check_finds_a_binary_newer_than_the_plist_says(bundle: Any, tmp_path: Path) -> None:
    with pytest.raises(bundle.BundleError, match=r"QtCore: needs macOS 14\.4"):
        bundle.check_bundle(make_app(tmp_path, minimum="14.0"))


def test_bundle_check_finds_a_thin_binary(bundle: Any, tmp_path: Path) -> None:
    with pytest.raises(bundle.BundleError, match=r"QtCore: has arm64, lacks x86_64"):
        bundle.check_bundle(make_app(tmp_path, thin=True))


def test_bundle_check_needs_the_minimum_in_the_plist(bundle: Any, tmp_path: Path) -> None:
    with pytest.raises(bundle.BundleError, match="no LSMinimumSystemVersion"):
        bundle.check_bundle(make_app(tmp_path, minimum=None))


# --- fake Apple tools -------------------------------------------------------------------------

FAKE_TOOL = """\
#!{python}
import json, os, pathlib, shutil, sys
tool, args = pathlib.Path(sys.argv[0]).name, sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([tool, *args]) + "\\n")
state = pathlib.Path(os.environ["FAKE_STATE"])

def count(name):
    path = state / name
    n = int(path.read_text()) if path.exists() else 0
    path.write_text(str(n + 1))
    return n

if tool == "xcrun" and args[:2] == ["notarytool", "submit"]:
    print("Conducting pre-submission checks and initiating connection...", file=sys.stderr)
    status = os.environ.get("FAKE_NOTARY_STATUS", "Accepted")
    answer = {{"id": "2efe2717-52ef-43a5-96dc-0797e4ca1041", "message": "Processing complete"}}
    if status:
        answer["status"] = status
    print(json.dumps(answer))
    sys.exit(int(os.environ.get("FAKE_NOTARY_EXIT", "0")))
elif tool == "xcrun" and args[:2] == ["stapler", "staple"]:
    if count("staple") < int(os.environ.get("FAKE_STAPLE_FAILS", "0")):
        print('CloudKit query for app failed due to "Record not found".')
        print("The staple and validate action failed! Error 65.")
        sys.exit(65)
elif tool == "xcrun" and args[:2] == ["notarytool", "log"]:
    print(json.dumps({{"status": "Invalid", "issues": [{{"path": "x/QtCore",
        "message": "The binary is not signed with a valid Developer ID certificate."}}]}}))
elif tool == "hdiutil" and args[0] == "create":
    if count("hdiutil-create") < int(os.environ.get("FAKE_HDIUTIL_BUSY", "0")):
        print("hdiutil: create failed - Resource busy", file=sys.stderr)
        sys.exit(1)
    if os.environ.get("FAKE_HDIUTIL_ERROR"):
        print("hdiutil: create failed - " + os.environ["FAKE_HDIUTIL_ERROR"], file=sys.stderr)
        sys.exit(1)
    pathlib.Path(args[-1]).write_bytes(b"koly")
    print("created: " + args[-1])
elif tool == "hdiutil" and args[0] == "attach":
    mount = pathlib.Path(args[args.index("-mountpoint") + 1])
    shutil.copytree(os.environ["FAKE_DMG_CONTENT"], mount, symlinks=True, dirs_exist_ok=True)
    (state / "mounted").write_text(str(mount))
elif tool == "hdiutil" and args[0] == "detach":
    mount = pathlib.Path(args[1])
    for child in mount.iterdir():
        child.unlink() if child.is_symlink() else shutil.rmtree(child)
elif tool == "ditto":
    if args[0] == "-c":
        pathlib.Path(args[-1]).write_bytes(b"PK")
    else:
        shutil.copytree(args[0], args[1], symlinks=True)
elif tool == "spctl":
    verdict = os.environ.get("FAKE_SPCTL", "accepted")
    print(args[-1] + ": " + verdict, file=sys.stderr)
    if verdict != "accepted":
        sys.exit(3)
    print("source=" + os.environ.get("FAKE_SPCTL_SOURCE", "Notarized Developer ID"),
          file=sys.stderr)
elif tool == "lipo":
    print(os.environ.get("FAKE_LIPO_ARCHS", "x86_64 arm64"))
elif tool == "sw_vers":
    print(os.environ.get("FAKE_MACOS", "26.0.1"))
elif tool == "codesign":
    if "--sign" in args and count("sign") < int(os.environ.get("FAKE_TIMESTAMP_FAILS", "0")):
        print(args[-1] + ": The timestamp service is not available.", file=sys.stderr)
        sys.exit(1)
    sys.exit(int(os.environ.get("FAKE_CODESIGN_STATUS", "0")))
"""
FAKE_TOOLS = ("codesign", "xcrun", "hdiutil", "ditto", "spctl", "lipo", "sw_vers")


class Fakes:
    """The fake tools' folder, their log, and the environment that puts them first."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = tmp_path / "fake-bin"
        self.bin.mkdir()
        self.log = tmp_path / "fake-tools.log"
        self.log.touch()
        state = tmp_path / "fake-state"
        state.mkdir()
        self.state = state
        for tool in FAKE_TOOLS:
            script = self.bin / tool
            script.write_text(FAKE_TOOL.format(python=sys.executable))
            script.chmod(0o755)
        self._monkeypatch = monkeypatch
        monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_LOG", str(self.log))
        monkeypatch.setenv("FAKE_STATE", str(state))

    def set(self, name: str, value: str) -> None:
        self._monkeypatch.setenv(name, value)

    def calls(self, tool: str | None = None) -> list[list[str]]:
        lines = self.log.read_text().splitlines()
        calls = [json.loads(line) for line in lines]
        return [call for call in calls if tool is None or call[0] == tool]


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    return Fakes(tmp_path, monkeypatch)


def signed_and_notarized(dmg: Any) -> Any:
    return dmg.Config.from_environment(
        {
            "MACOS_SIGNING_IDENTITY": "Developer ID Application: Chatlio (TEAM123456)",
            "APPLE_ID": "release@example.com",
            "APPLE_TEAM_ID": "TEAM123456",
            "APPLE_APP_PASSWORD": PASSWORD,
        }
    )


def run_package(dmg: Any, app: Path, out: Path, config: Any, pauses: list[float]) -> Path:
    secrets = [config.notary.password] if config.notary else []
    tools = dmg.Tools(secrets=secrets, sleep=pauses.append)
    result: Path = dmg.package(tools, app, out, "0.2.0rc1", config)
    return result


# --- notarization: Apple's verdict, not notarytool's exit status ------------------------------


def test_invalid_verdict_fails_and_shows_apples_log(
    dmg: Any, fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fakes.set("FAKE_NOTARY_STATUS", "Invalid")
    app = make_app(tmp_path)

    with pytest.raises(dmg.StepError, match=r"did not accept .*'Invalid'"):
        run_package(dmg, app, tmp_path / "out.dmg", signed_and_notarized(dmg), [])

    output = capsys.readouterr()
    assert (fakes.calls("xcrun")[-1][:4]) == [
        "xcrun",
        "notarytool",
        "log",
        "2efe2717-52ef-43a5-96dc-0797e4ca1041",
    ]
    assert "not signed with a valid Developer ID certificate" in output.out
    assert not [call for call in fakes.calls("xcrun") if "stapler" in call]
    assert not fakes.calls("hdiutil")  # no DMG of an app Apple refused
    assert PASSWORD not in output.out + output.err


def test_accepted_verdict_staples_checks_gatekeeper_and_makes_the_dmg(
    dmg: Any, fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path)
    out = tmp_path / "dist" / "out.dmg"

    assert run_package(dmg, app, out, signed_and_notarized(dmg), []) == out

    output = capsys.readouterr()
    calls = [call[:3] for call in fakes.calls()]
    # The order that makes a trusted DMG: app signed, verified, notarized, stapled, assessed;
    # then the DMG made, signed, notarized, stapled and assessed.
    steps = [
        ["codesign", "--verify", "--deep"],
        ["ditto", "-c", "-k"],
        ["xcrun", "notarytool", "submit"],
        ["xcrun", "stapler", "staple"],
        ["spctl", "--assess", "--type"],
        ["hdiutil", "create", "-volname"],
        ["codesign", "--force", "--timestamp"],
        ["xcrun", "notarytool", "submit"],
        ["xcrun", "stapler", "staple"],
        ["spctl", "-a", "-t"],
    ]
    positions = []
    start = 0
    for wanted in steps:
        position = calls.index(wanted, start)
        positions.append(position)
        start = position + 1
    assert positions == sorted(positions)
    submit = next(call for call in fakes.calls("xcrun") if call[1:3] == ["notarytool", "submit"])
    assert submit[-5:] == ["--wait", "--timeout", "30m", "--output-format", "json"]
    assert (fakes.calls("spctl")[-1][:-1]) == [
        "spctl",
        "-a",
        "-t",
        "open",
        "--context",
        "context:primary-signature",
        "-vv",
    ]
    assert not [call for call in fakes.calls("xcrun") if call[1:3] == ["notarytool", "log"]]
    assert "Apple accepted" in output.out
    assert out.read_bytes() == b"koly"
    # The password went to notarytool, and nowhere in what was printed.
    assert PASSWORD in submit
    assert PASSWORD not in output.out + output.err
    assert dmg.REDACTED in output.out


@pytest.mark.parametrize("answer", ["not json at all", ""])
def test_no_verdict_at_all_fails(dmg: Any, fakes: Fakes, tmp_path: Path, answer: str) -> None:
    script = fakes.bin / "xcrun"
    script.write_text(f"#!/bin/sh\necho '{answer}'\nexit 0\n")

    with pytest.raises(dmg.StepError, match="without a verdict"):
        dmg.notarize(dmg.Tools(), tmp_path / "x.zip", signed_and_notarized(dmg).notary)


# --- signing: inside out, hardened runtime, entitlements on executables only ----------------


def test_signing_goes_inside_out_and_ends_with_the_app(
    dmg: Any, fakes: Fakes, tmp_path: Path
) -> None:
    app = make_app(tmp_path)

    run_package(dmg, app, tmp_path / "out.dmg", signed_and_notarized(dmg), [])

    signs = [
        call
        for call in fakes.calls("codesign")
        if "--sign" in call and call[-1] != str(tmp_path / "out.dmg")
    ]
    signed = [Path(call[-1]) for call in signs]
    contents = app / "Contents"
    qtcore_version = contents / "Frameworks/PySide6/Qt/lib/QtCore.framework/Versions/A"
    assert signed[-1] == app
    assert set(signed[:4]) == {
        qtcore_version / "QtCore",
        qtcore_version.parent.parent.parent / "QtConcurrent.dylib",
        contents / "Frameworks" / "Python",
        contents / "MacOS" / "chatlio-segment-setup",
    }
    assert signed[0] == qtcore_version / "QtCore"  # the deepest file first
    depths = [len(path.relative_to(app).parts) for path in signed[:4]]
    assert depths == sorted(depths, reverse=True)
    assert signed.index(qtcore_version) > signed.index(qtcore_version / "QtCore")
    assert len(signed) == 6  # four Mach-O files, the framework, the app: no symlinks, no SVG
    for call in signs:
        assert call[1:5] == ["--force", "--timestamp", "--options", "runtime"]
        assert call[call.index("--sign") + 1].startswith("Developer ID Application")
    entitled = {Path(call[-1]) for call in signs if "--entitlements" in call}
    assert entitled == {app, contents / "MacOS" / "chatlio-segment-setup"}
    assert all(
        call[call.index("--entitlements") + 1] == str(dmg.ENTITLEMENTS)
        for call in signs
        if "--entitlements" in call
    )
    verify = fakes.calls("codesign").index(
        ["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app)]
    )
    assert verify == len(signs)  # right after the last signature


def test_a_broken_signature_stops_the_build(dmg: Any, fakes: Fakes, tmp_path: Path) -> None:
    fakes.set("FAKE_CODESIGN_STATUS", "1")

    with pytest.raises(dmg.StepError, match="codesign"):
        run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", dmg.Config(None, None), [])


def test_unconfigured_steps_say_they_are_skipped(
    dmg: Any, fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(tmp_path)

    run_package(dmg, app, tmp_path / "out.dmg", dmg.Config.from_environment({}), [])

    out = capsys.readouterr().out
    assert "--> skipped: signing (set MACOS_SIGNING_IDENTITY" in out
    assert "--> skipped: notarization (set APPLE_ID, APPLE_TEAM_ID and APPLE_APP_PASSWORD)" in out
    assert "--> skipped: Gatekeeper's assessment" in out
    assert "--> skipped: signing the DMG" in out
    assert not [call for call in fakes.calls("codesign") if "--sign" in call]
    assert not fakes.calls("xcrun")
    assert not fakes.calls("spctl")
    # PyInstaller's ad hoc signature is still checked, and the DMG still made.
    assert ["codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app)] in (
        fakes.calls("codesign")
    )
    assert (tmp_path / "out.dmg").is_file()


def test_notary_credentials_without_an_identity_say_why_nothing_is_notarized(
    dmg: Any, fakes: Fakes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = dmg.Config.from_environment(
        {"APPLE_ID": "a@example.com", "APPLE_TEAM_ID": "T", "APPLE_APP_PASSWORD": PASSWORD}
    )

    run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", config, [])

    output = capsys.readouterr()
    assert "--> skipped: notarization: Apple only notarizes signed apps" in output.out
    assert not fakes.calls("xcrun")
    assert PASSWORD not in output.out + output.err


def test_stapling_is_tried_again_until_apples_ticket_is_found(
    dmg: Any, fakes: Fakes, tmp_path: Path
) -> None:
    fakes.set("FAKE_STAPLE_FAILS", "2")
    pauses: list[float] = []

    run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", signed_and_notarized(dmg), pauses)

    staples = [call for call in fakes.calls("xcrun") if call[1:3] == ["stapler", "staple"]]
    assert len(staples) == 4  # the app three times, then the DMG once
    assert pauses == list(dmg.STAPLE_PAUSES[:2])


def test_stapling_gives_up_after_its_last_pause(dmg: Any, fakes: Fakes, tmp_path: Path) -> None:
    fakes.set("FAKE_STAPLE_FAILS", "99")
    pauses: list[float] = []

    with pytest.raises(dmg.StepError, match=r"stapler staple failed \(exit status 65, attempt 5\)"):
        run_package(
            dmg, make_app(tmp_path), tmp_path / "out.dmg", signed_and_notarized(dmg), pauses
        )

    assert pauses == list(dmg.STAPLE_PAUSES)
    assert not fakes.calls("hdiutil")


def test_an_unavailable_timestamp_service_is_tried_again(
    dmg: Any, fakes: Fakes, tmp_path: Path
) -> None:
    fakes.set("FAKE_TIMESTAMP_FAILS", "1")
    pauses: list[float] = []

    run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", signed_and_notarized(dmg), pauses)

    signs = [call for call in fakes.calls("codesign") if "--sign" in call]
    assert signs[0][-1] == signs[1][-1]  # the first file, signed again
    assert pauses == [dmg.TIMESTAMP_PAUSES[0]]


def test_an_accepted_verdict_counts_whatever_notarytool_exits_with(
    dmg: Any, fakes: Fakes, tmp_path: Path
) -> None:
    fakes.set("FAKE_NOTARY_EXIT", "1")

    run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", signed_and_notarized(dmg), [])

    assert [call for call in fakes.calls("xcrun") if call[1:3] == ["stapler", "staple"]]


def test_no_verdict_fails_and_names_the_submission_to_ask_about(
    dmg: Any, fakes: Fakes, tmp_path: Path
) -> None:
    fakes.set("FAKE_NOTARY_STATUS", "")
    fakes.set("FAKE_NOTARY_EXIT", "1")

    with pytest.raises(dmg.StepError) as failure:
        run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", signed_and_notarized(dmg), [])

    assert "failed (exit status 1) without a verdict" in str(failure.value)
    assert "xcrun notarytool info 2efe2717-52ef-43a5-96dc-0797e4ca1041" in str(failure.value)


def test_a_password_that_needs_quoting_never_shows(
    dmg: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    password = 'it\'s a "secret" pass'
    tools = dmg.Tools(secrets=[password])
    notary = dmg.Notary("release@example.com", "TEAM123456", password)

    tools.capture(["echo", *notary.arguments()])

    printed = capsys.readouterr().out
    assert "secret" not in printed
    assert "secret" not in repr(notary)
    assert dmg.REDACTED in printed


# --- hdiutil: "Resource busy" is tried again, anything else fails at once -------------------


def test_resource_busy_is_tried_again_with_growing_pauses(
    dmg: Any, fakes: Fakes, tmp_path: Path
) -> None:
    fakes.set("FAKE_HDIUTIL_BUSY", "2")
    pauses: list[float] = []

    run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", dmg.Config(None, None), pauses)

    creates = [call for call in fakes.calls("hdiutil") if call[1] == "create"]
    assert len(creates) == 3
    assert pauses == list(dmg.HDIUTIL_PAUSES[:2])
    assert pauses[0] < pauses[1]
    assert (tmp_path / "out.dmg").read_bytes() == b"koly"


def test_resource_busy_every_time_gives_up(dmg: Any, fakes: Fakes, tmp_path: Path) -> None:
    fakes.set("FAKE_HDIUTIL_BUSY", "99")
    pauses: list[float] = []

    with pytest.raises(dmg.StepError, match="hdiutil create failed"):
        run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", dmg.Config(None, None), pauses)

    assert len([call for call in fakes.calls("hdiutil") if call[1] == "create"]) == 4
    assert pauses == list(dmg.HDIUTIL_PAUSES)


def test_other_hdiutil_failures_fail_at_once(dmg: Any, fakes: Fakes, tmp_path: Path) -> None:
    fakes.set("FAKE_HDIUTIL_ERROR", "No space left on device")
    pauses: list[float] = []

    with pytest.raises(dmg.StepError, match="attempt 1"):
        run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", dmg.Config(None, None), pauses)

    assert len([call for call in fakes.calls("hdiutil") if call[1] == "create"]) == 1
    assert pauses == []


def test_the_dmg_holds_the_app_and_an_applications_link(
    dmg: Any, fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}
    create_image = dmg.create_image

    def look(tools: Any, source: Path, out: Path, volume: str) -> None:
        seen["entries"] = sorted(path.name for path in source.iterdir())
        seen["link"] = os.readlink(source / "Applications")
        seen["volume"] = volume
        create_image(tools, source, out, volume)

    monkeypatch.setattr(dmg, "create_image", look)

    run_package(dmg, make_app(tmp_path), tmp_path / "out.dmg", dmg.Config(None, None), [])

    assert seen == {
        "entries": ["Applications", f"{APP_NAME}.app"],
        "link": "/Applications",
        "volume": "Chatlio Segment Setup 0.2.0rc1",
    }


def test_main_refuses_to_run_off_macos(dmg: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert dmg.main(["a.app", "b.dmg", "0.1.0"], {}) == 1
    assert "needs macOS" in capsys.readouterr().err


# --- the smoke test of the app copied out of the DMG ------------------------------------------


def fake_dmg_content(tmp_path: Path, *, self_test_status: int = 0) -> Path:
    """What the fake `hdiutil attach` mounts: the app (whose executable logs where it ran)."""
    content = tmp_path / "dmg-content"
    app = make_app(content, minimum="26.0")
    main = app / "Contents" / "MacOS" / "chatlio-segment-setup"
    main.write_text(
        '#!/bin/sh\necho "$0 $*" >> "$FAKE_STATE/ran"\n'
        f'echo "Self-test passed: 6 checks."\nexit {self_test_status}\n'
    )
    main.chmod(0o755)
    (content / "Applications").symlink_to("/Applications")
    return content


def smoke_test(fakes: Fakes, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    the_dmg = tmp_path / "app.dmg"
    the_dmg.write_bytes(b"koly")
    environment = {key: value for key, value in os.environ.items() if key.startswith("FAKE")}
    environment |= {"PATH": os.environ["PATH"], "TMPDIR": str(tmp_path), "HOME": str(tmp_path)}
    return subprocess.run(
        ["bash", str(SMOKE_TEST), str(the_dmg), str(tmp_path / "logs")],
        capture_output=True,
        text=True,
        check=False,
        env=environment | env,
        cwd=tmp_path,
    )


@pytest.fixture
def mounted(fakes: Fakes, tmp_path: Path) -> Fakes:
    fakes.set("FAKE_DMG_CONTENT", str(fake_dmg_content(tmp_path)))
    return fakes


def test_smoke_test_runs_the_copy_not_the_mounted_app(mounted: Fakes, tmp_path: Path) -> None:
    mounted.set("FAKE_SPCTL", "rejected")

    result = smoke_test(mounted, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    attach = mounted.calls("hdiutil")[0]
    assert attach[:4] == ["hdiutil", "attach", str(tmp_path / "app.dmg"), "-readonly"]
    assert "-nobrowse" in attach
    mount = attach[attach.index("-mountpoint") + 1]
    assert mounted.calls("hdiutil")[1] == ["hdiutil", "detach", mount]
    ran = (mounted.state / "ran").read_text().rstrip("\n").rsplit(" ", 1)
    assert ran[1] == "--self-test"
    assert not ran[0].startswith(mount)
    assert "/copy/" in ran[0]
    # detached before the copy is checked
    tools = [call[:2] for call in mounted.calls()]
    assert tools.index(["hdiutil", "detach"]) < tools.index(["codesign", "--verify"])
    verify = mounted.calls("codesign")[0]
    assert verify[:5] == ["codesign", "--verify", "--deep", "--strict", "--verbose=2"]
    assert "rejected, as expected for an unsigned build" in result.stdout
    assert (
        "Self-test passed"
        in (tmp_path / "logs")
        .joinpath(next(p.name for p in (tmp_path / "logs").iterdir()))
        .read_text()
    )
    assert not Path(mount).exists()  # the temporary folder is gone


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MACOS_EXPECT_NOTARIZED": "1", "FAKE_SPCTL": "rejected"}, "Gatekeeper rejects"),
        (
            {"MACOS_EXPECT_NOTARIZED": "1", "FAKE_SPCTL_SOURCE": "Unnotarized Developer ID"},
            "not as notarized",
        ),
        ({"FAKE_LIPO_ARCHS": "arm64"}, "lacks x86_64"),
        ({"FAKE_MACOS": "15.6"}, "older than the app's minimum 26.0"),
        ({"FAKE_CODESIGN_STATUS": "1"}, ""),
    ],
    ids=["rejected", "not-notarized", "thin", "old-macos", "bad-signature"],
)
def test_smoke_test_fails_a_broken_build(
    mounted: Fakes, tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = smoke_test(mounted, tmp_path, **env)

    assert result.returncode != 0
    assert message in result.stderr
    assert not (mounted.state / "ran").exists()


def test_smoke_test_accepts_a_notarized_build(mounted: Fakes, tmp_path: Path) -> None:
    result = smoke_test(mounted, tmp_path, MACOS_EXPECT_NOTARIZED="1")

    assert result.returncode == 0, result.stdout + result.stderr
    assert mounted.calls("xcrun")[0][:3] == ["xcrun", "stapler", "validate"]


def test_smoke_test_checks_the_self_tests_exit_status(fakes: Fakes, tmp_path: Path) -> None:
    fakes.set("FAKE_DMG_CONTENT", str(fake_dmg_content(tmp_path, self_test_status=1)))

    result = smoke_test(fakes, tmp_path)

    assert result.returncode == 1
    assert "--self-test exited with status 1" in result.stderr


def test_smoke_test_needs_the_minimum_in_the_plist(fakes: Fakes, tmp_path: Path) -> None:
    content = fake_dmg_content(tmp_path)
    plist = content / f"{APP_NAME}.app" / "Contents" / "Info.plist"
    plist.write_bytes(plistlib.dumps({"CFBundleIdentifier": MACOS_BUNDLE_ID}))
    fakes.set("FAKE_DMG_CONTENT", str(content))

    result = smoke_test(fakes, tmp_path)

    assert result.returncode == 1
    assert "no LSMinimumSystemVersion" in result.stderr


def test_smoke_test_script_parses() -> None:
    assert shutil.which("bash")
    result = subprocess.run(
        ["bash", "-n", str(SMOKE_TEST)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --- the spec and build.py use all of this ----------------------------------------------------


def analysis_binaries(macho: Any, app: Path) -> list[tuple[str, str, str]]:
    """The app's Mach-O files as PyInstaller's Analysis lists binaries: (dest, source, kind)."""
    return [
        (str(path.relative_to(app)), str(path), "BINARY")
        for path in sorted(app.rglob("*"))
        if not path.is_symlink() and macho.read(path) is not None
    ]


def run_spec_on_a_mac(
    macho: Any, app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, python: str
) -> list[tuple[str, dict[str, Any]]]:
    monkeypatch.setattr(sysconfig, "get_platform", lambda: python)
    binaries = analysis_binaries(macho, app)
    return run_spec_as_on("darwin", tmp_path / "work", monkeypatch, binaries)


def test_spec_builds_universal2_with_the_derived_info_plist(
    macho: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = run_spec_on_a_mac(
        macho, make_app(tmp_path), tmp_path, monkeypatch, "macosx-10.13-universal2"
    )

    exes = [kwargs for name, kwargs in calls if name == "EXE"]
    [bundle] = [kwargs for name, kwargs in calls if name == "BUNDLE"]
    assert [exe["target_arch"] for exe in exes] == ["universal2"]
    assert bundle["bundle_identifier"] == MACOS_BUNDLE_ID
    plist = bundle["info_plist"]
    assert plist["CFBundleIdentifier"] == MACOS_BUNDLE_ID
    assert plist["LSMinimumSystemVersion"] == "14.4"  # QtCore's, the highest binary's
    apple = load("versions").parse(__version__).apple
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == apple


def test_spec_refuses_a_binary_without_both_architectures(
    macho: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path, thin=True)

    with pytest.raises(SystemExit, match="lacks x86_64"):
        run_spec_on_a_mac(macho, app, tmp_path, monkeypatch, "macosx-10.13-universal2")


def test_spec_refuses_a_python_that_is_not_universal2(
    macho: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit, match="universal2"):
        run_spec_on_a_mac(macho, make_app(tmp_path), tmp_path, monkeypatch, "macosx-11.0-arm64")


def test_build_checks_the_bundle_then_makes_a_universal2_dmg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = load("build")
    commands: list[list[object]] = []
    monkeypatch.setattr(build, "run", lambda args, **_kwargs: commands.append(list(args)))
    monkeypatch.setattr(build, "MACOS", True)
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(build.platform, "machine", lambda: "arm64")
    monkeypatch.setattr(build, "DIST", tmp_path / "dist")
    app = make_app(tmp_path)
    stem = f"chatlio-segment-setup-0.2.0rc1-{build._platform_tag()}"

    artifacts = build.package_macos(app, "0.2.0rc1", stem)

    dmg_path = tmp_path / "dist" / "chatlio-segment-setup-0.2.0rc1-macos-universal2.dmg"
    assert artifacts == [dmg_path]
    assert commands == [[sys.executable, PACKAGING / "macos" / "dmg.py", app, dmg_path, "0.2.0rc1"]]


def test_build_refuses_a_bundle_with_a_thin_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = load("build")
    commands: list[object] = []
    monkeypatch.setattr(build, "run", lambda args, **_kwargs: commands.append(args))

    with pytest.raises(build.BuildError, match="lacks x86_64"):
        build.package_macos(make_app(tmp_path, thin=True), "0.1.0", "x-0.1.0-macos-arm64")

    assert commands == []  # nothing signed or packed


def test_build_refuses_a_python_that_is_not_universal2(monkeypatch: pytest.MonkeyPatch) -> None:
    build = load("build")
    monkeypatch.setattr(sysconfig, "get_platform", lambda: "macosx-14.0-arm64")

    with pytest.raises(build.BuildError, match="not universal2"):
        build.check_macos_python()

    monkeypatch.setattr(sysconfig, "get_platform", lambda: "macosx-10.13-universal2")
    build.check_macos_python()
