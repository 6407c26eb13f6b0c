"""Windows packaging checked here: version resource, .iss, signing, ISCC, the smoke test script.

The version resource is read back by PyInstaller's own code; build.py's Windows step runs
against a fake ISCC.exe and a fake signtool.exe put first on PATH (the real ones need Windows),
which record what they were asked to do. The real install and uninstall run on the Windows
release runner (packaging/windows/smoke_test.ps1).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import textwrap
import uuid
import zipfile
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from app import APP_NAME, __version__
from tests.packaging_helpers import PACKAGING, load, run_spec_as_on

ISS = PACKAGING / "windows" / "chatlio-segment-setup.iss"
SMOKE_TEST = PACKAGING / "windows" / "smoke_test.ps1"
SPEC = PACKAGING / "chatlio-segment-setup.spec"
APP_ID_GUID = "C8C23446-C622-4E01-B05F-C0B88F60B7F9"
PASSWORD = 'pa$$ "S3CRET-w0rd" 42'
SECRET = "S3CRET-w0rd"  # the part of PASSWORD that shows even if quoting escaped the rest
SIGNED = b"<fake signature>"


@pytest.fixture(scope="module")
def winver() -> Any:
    return load("windows_version")


@pytest.fixture(scope="module")
def signing_module() -> Any:
    return load("windows_signing")


@pytest.fixture(scope="module")
def installer() -> Any:
    return load("windows_installer")


@pytest.fixture(scope="module")
def build() -> Any:
    return load("build")


@pytest.fixture
def versioninfo(monkeypatch: pytest.MonkeyPatch) -> Any:
    """PyInstaller's version-resource module, which EXE(version=...) reads the file with.

    It imports two Windows-only things it needs only to read and write .exe files, never to
    parse or serialise: pefile (PyInstaller's Windows-only dependency) and PyInstaller.compat's
    win32api (defined only on Windows). Where they are missing, stand-ins let it import.
    """
    compat = importlib.import_module("PyInstaller.compat")
    monkeypatch.delitem(sys.modules, "PyInstaller.utils.win32.versioninfo", raising=False)
    if not hasattr(compat, "win32api"):
        monkeypatch.setattr(compat, "win32api", None, raising=False)
    if importlib.util.find_spec("pefile") is None:
        monkeypatch.setitem(sys.modules, "pefile", ModuleType("pefile"))
    module = importlib.import_module("PyInstaller.utils.win32.versioninfo")
    # Its structs use native sizes ('L'), which are Windows' (4 bytes) only on Windows: pack and
    # unpack little-endian with standard sizes, as they come out there.
    windows_struct = SimpleNamespace(
        pack=lambda layout, *values: struct.pack("<" + layout, *values),
        unpack=lambda layout, data: struct.unpack("<" + layout, data),
    )
    monkeypatch.setattr(module, "struct", windows_struct)
    return module


# --- the version resource -----------------------------------------------------------------------


def _read_back(versioninfo: Any, path: Path) -> tuple[Any, dict[str, str], str, list[int]]:
    """The file as PyInstaller loads it, serialised to the bytes it embeds and parsed again."""
    loaded = versioninfo.load_version_info_from_text_file(str(path))
    raw = loaded.toRaw()
    assert struct.unpack("<H", raw[:2])[0] == len(raw)  # VS_VERSIONINFO's wLength: all of it
    parsed = versioninfo.VSVersionInfo()
    parsed.fromRaw(raw)
    string_info, var_info = parsed.kids
    (table,) = string_info.kids
    strings = {kid.name: kid.val for kid in table.kids}
    (translation,) = var_info.kids
    assert translation.name == "Translation"
    return parsed.ffi, strings, table.name, translation.kids


def _numbers(most: int, least: int) -> tuple[int, int, int, int]:
    return (most >> 16, most & 0xFFFF, least >> 16, least & 0xFFFF)


@pytest.mark.parametrize(
    ("version", "numbers", "prerelease"),
    [
        ("0.2.0rc1", (0, 2, 0, 0), True),
        ("0.2.0.post1", (0, 2, 0, 1), False),
        ("1.10.3", (1, 10, 3, 0), False),
    ],
)
def test_version_resource_is_read_by_pyinstaller_with_the_version(
    winver: Any,
    versioninfo: Any,
    tmp_path: Path,
    version: str,
    numbers: tuple[int, ...],
    prerelease: bool,
) -> None:
    files = winver.write_version_files(version, APP_NAME, tmp_path / "build")

    assert sorted(files) == ["chatlio-segment-setup", "chatlio-segment-setup-cli"]
    for name, path in files.items():
        ffi, strings, table, translation = _read_back(versioninfo, path)

        assert _numbers(ffi.fileVersionMS, ffi.fileVersionLS) == numbers
        assert _numbers(ffi.productVersionMS, ffi.productVersionLS) == numbers
        assert bool(ffi.fileFlags & 0x2) is prerelease  # VS_FF_PRERELEASE
        assert ffi.fileType == 0x1  # an application
        assert strings["ProductName"] == APP_NAME
        assert strings["ProductVersion"] == version
        assert strings["FileVersion"] == version
        assert strings["OriginalFilename"] == f"{name}.exe"
        assert strings["InternalName"] == name
        assert strings["CompanyName"]
        assert "MIT" in strings["LegalCopyright"]
        assert strings["FileDescription"].startswith(APP_NAME)
        assert table == "040904B0"
        assert translation == [0x0409, 1200]


def test_the_two_executables_describe_themselves_apart(
    winver: Any, versioninfo: Any, tmp_path: Path
) -> None:
    files = winver.write_version_files(__version__, APP_NAME, tmp_path)

    gui = _read_back(versioninfo, files["chatlio-segment-setup"])[1]
    cli = _read_back(versioninfo, files["chatlio-segment-setup-cli"])[1]
    assert gui["FileDescription"] == APP_NAME
    assert cli["FileDescription"] == f"{APP_NAME} (command line)"


def test_strings_with_quotes_survive_pyinstallers_eval(winver: Any, versioninfo: Any) -> None:
    executable = winver.Executable("x", 'It\'s "quoted" \\ and ünïcode')
    text = winver.version_info_text("1.0.0", "O'Brien's app", executable)
    loaded = eval(text, vars(versioninfo))

    strings = {kid.name: kid.val for kid in loaded.kids[0].kids[0].kids}
    assert strings["FileDescription"] == 'It\'s "quoted" \\ and ünïcode'
    assert strings["ProductName"] == "O'Brien's app"
    assert loaded.toRaw()


@pytest.mark.parametrize(
    ("version", "words"),
    [
        ("0.2", None),  # fine: 0.2.0.0
        ("1.2.3.4", "more than three"),
        ("0.2.0-rc1", "canonical PEP 440"),
        ("70000.0.0", "65535"),
    ],
)
def test_a_version_windows_cannot_hold_fails_clearly(
    winver: Any, version: str, words: str | None
) -> None:
    executable = winver.executables(APP_NAME)[0]
    if words is None:
        assert "filevers=(0, 2, 0, 0)" in winver.version_info_text(version, APP_NAME, executable)
        return
    with pytest.raises(winver.versions.VersionError, match=re.escape(words)):
        winver.version_info_text(version, APP_NAME, executable)


def exe_calls(platform: str, workpath: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    return [kw for name, kw in run_spec_as_on(platform, workpath, monkeypatch) if name == "EXE"]


def test_spec_gives_each_windows_executable_its_own_version_resource(
    versioninfo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exes = exe_calls("win32", tmp_path / "work", monkeypatch)

    assert [exe["name"] for exe in exes] == ["chatlio-segment-setup", "chatlio-segment-setup-cli"]
    for exe in exes:
        path = Path(exe["version"])
        assert path.parent == tmp_path / "work" / "windows-version"
        strings = _read_back(versioninfo, path)[1]
        assert strings["OriginalFilename"] == f"{exe['name']}.exe"
        assert strings["ProductVersion"] == __version__


def test_spec_gives_linux_executable_no_version_resource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (exe,) = exe_calls("linux", tmp_path / "work", monkeypatch)

    assert exe["version"] is None
    assert not (tmp_path / "work").exists()


def test_the_names_of_the_executables_agree(winver: Any, build: Any) -> None:
    assert winver.NAME == build.NAME
    assert (f"{build.NAME}.exe", f"{build.NAME}-cli.exe") == winver.EXECUTABLES


# --- the Inno Setup script ----------------------------------------------------------------------


def _setup_directives() -> dict[str, str]:
    section = ISS.read_text().split("[Setup]", 1)[1].split("\n[", 1)[0]
    directives: dict[str, str] = {}
    for line in section.splitlines():
        if "=" in line and not line.startswith((";", "#")):
            key, value = line.split("=", 1)
            directives[key.strip()] = value.strip()
    return directives


def test_iss_app_id_is_the_fixed_guid_so_upgrades_replace_in_place() -> None:
    app_id = _setup_directives()["AppId"]

    # `{{` is Inno Setup's escaped `{`: the value is the GUID in braces.
    assert app_id == f"{{{{{APP_ID_GUID}}}"
    assert str(uuid.UUID(app_id.strip("{}"))).upper() == APP_ID_GUID


def test_iss_gives_version_info_the_four_numbers_and_the_text_elsewhere() -> None:
    setup = _setup_directives()

    assert setup["VersionInfoVersion"] == "{#AppNumericVersion}"
    assert setup["VersionInfoProductVersion"] == "{#AppNumericVersion}"
    assert setup["VersionInfoTextVersion"] == "{#AppVersion}"
    assert setup["VersionInfoProductTextVersion"] == "{#AppVersion}"
    assert setup["AppVersion"] == "{#AppVersion}"
    assert setup["OutputBaseFilename"] == "chatlio-segment-setup-{#AppVersion}-setup"


def test_iss_keeps_the_per_user_install_and_the_clean_upgrade() -> None:
    iss = ISS.read_text()
    setup = _setup_directives()

    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"].startswith("{autopf}")
    assert setup["CloseApplications"] == "yes"
    assert 'Type: filesandordirs; Name: "{app}\\_internal"' in iss.split("[InstallDelete]")[1]


def test_iss_signs_installer_and_uninstaller_only_when_asked(signing_module: Any) -> None:
    iss = ISS.read_text()
    block = iss[iss.index("#ifdef Sign") : iss.index("#endif", iss.index("#ifdef Sign"))]

    assert f"SignTool={signing_module.INNO_SIGN_TOOL}" in block
    assert "SignedUninstaller=yes" in block
    assert iss.count("SignTool=") == 1


def _defines_expected_from_outside(iss: str) -> set[str]:
    return set(re.findall(r"^#ifn?def (\w+)$", iss, re.MULTILINE))


def test_build_passes_exactly_the_defines_the_iss_expects(
    installer: Any, signing_module: Any, tmp_path: Path
) -> None:
    sign_tool = signing_module.inno_sign_tool(sys.executable)
    command = installer.iscc_command("iscc", "0.2.0rc1", tmp_path / "app", tmp_path, sign_tool)
    passed = dict(arg[2:].split("=", 1) for arg in command if arg.startswith("/D"))

    assert set(passed) == _defines_expected_from_outside(ISS.read_text())
    assert passed["AppVersion"] == "0.2.0rc1"
    assert passed["AppNumericVersion"] == "0.2.0.0"
    assert command[-1] == str(ISS)
    assert sign_tool in command
    unsigned = installer.iscc_command("iscc", "0.2.0rc1", tmp_path / "app", tmp_path)
    assert not [arg for arg in unsigned if arg.startswith(("/S", "/DSign"))]


def test_the_define_check_notices_a_define_the_iss_does_not_use() -> None:
    iss = ISS.read_text().replace("#ifndef AppNumericVersion", "#ifndef AppNumberVersion")

    assert "AppNumericVersion" not in _defines_expected_from_outside(iss)


def test_iscc_gets_no_command_line_for_a_version_without_four_numbers(
    installer: Any, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="more than three"):
        installer.iscc_command("iscc", "1.2.3.4", tmp_path, tmp_path)


# --- finding ISCC.exe ---------------------------------------------------------------------------


def _executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_iscc_is_found_on_path_then_in_inno_setups_folders(installer: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert installer.find_iscc({"PATH": str(empty)}) is None

    per_user = _executable(tmp_path / "local" / "Programs" / "Inno Setup 6" / "ISCC.exe")
    env = {"PATH": str(empty), "LOCALAPPDATA": str(tmp_path / "local")}
    assert installer.find_iscc(env) == str(per_user)

    everyone = _executable(tmp_path / "pf86" / "Inno Setup 6" / "ISCC.exe")
    assert installer.find_iscc({**env, "ProgramFiles(x86)": str(tmp_path / "pf86")}) == str(
        everyone
    )

    on_path = _executable(tmp_path / "bin" / "iscc")
    assert installer.find_iscc({**env, "PATH": str(on_path.parent)}) == str(on_path)


def _windows_environment(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """Only `path` on PATH, no Inno Setup in default folders, no signing configured."""
    monkeypatch.setenv("PATH", str(path))
    for variable in (
        "ProgramFiles(x86)",
        "ProgramFiles",
        "LOCALAPPDATA",
        "WINDOWS_CERTIFICATE_PATH",
        "WINDOWS_CERTIFICATE_PASSWORD",
        "WINDOWS_TIMESTAMP_URL",
        "WINDOWS_SIGNTOOL",
    ):
        monkeypatch.delenv(variable, raising=False)


def _frozen_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pyinstaller-dist" / "chatlio-segment-setup"
    (folder / "_internal").mkdir(parents=True)
    (folder / "_internal" / "base_library.zip").write_bytes(b"zip")
    for exe in ("chatlio-segment-setup.exe", "chatlio-segment-setup-cli.exe"):
        (folder / exe).write_bytes(b"MZ " + exe.encode())
    return folder


def test_package_windows_fails_the_build_without_iscc(
    build: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _windows_environment(monkeypatch, empty)
    monkeypatch.setattr(build, "DIST", tmp_path / "dist")

    with pytest.raises(build.BuildError, match="Inno Setup 6") as failure:
        build.package_windows(_frozen_folder(tmp_path), "0.2.0rc1", "stem")

    assert "--no-installers" in str(failure.value)
    assert "winget install JRSoftware.InnoSetup" in str(failure.value)
    assert not (tmp_path / "dist").exists()  # failed before packing anything


# --- signing --------------------------------------------------------------------------------------


def _no_tool(_name: str) -> str | None:
    return None


def test_signing_is_skipped_when_no_certificate_is_set(signing_module: Any) -> None:
    assert signing_module.from_environment({}, _no_tool) is None
    assert signing_module.from_environment({"WINDOWS_CERTIFICATE_PATH": ""}, _no_tool) is None
    assert "WINDOWS_CERTIFICATE_PATH" in signing_module.NOT_CONFIGURED
    assert "WINDOWS_CERTIFICATE_PASSWORD" in signing_module.NOT_CONFIGURED


def test_a_certificate_that_is_not_there_fails_clearly(signing_module: Any, tmp_path: Path) -> None:
    env = {"WINDOWS_CERTIFICATE_PATH": str(tmp_path / "missing.pfx")}

    with pytest.raises(signing_module.SigningError, match=r"missing\.pfx.*not a file"):
        signing_module.from_environment(env, _no_tool)


def test_signing_without_signtool_says_how_to_get_it(signing_module: Any, tmp_path: Path) -> None:
    certificate = tmp_path / "code.pfx"
    certificate.write_bytes(b"pfx")

    with pytest.raises(signing_module.SigningError, match="WINDOWS_SIGNTOOL"):
        signing_module.from_environment({"WINDOWS_CERTIFICATE_PATH": str(certificate)}, _no_tool)


def test_signtool_is_taken_from_the_newest_windows_sdk(signing_module: Any, tmp_path: Path) -> None:
    kits = tmp_path / "pf86" / "Windows Kits" / "10" / "bin"
    for version in ("10.0.9999.0", "10.0.22621.0", "10.0.19041.0"):
        _executable(kits / version / "x64" / "signtool.exe")
    _executable(kits / "10.0.26100.0" / "x86" / "signtool.exe")  # not the x64 one
    env = {"ProgramFiles(x86)": str(tmp_path / "pf86")}

    found = signing_module.find_signtool(env, _no_tool)

    assert found == str(kits / "10.0.22621.0" / "x64" / "signtool.exe")
    assert signing_module.find_signtool({**env, "WINDOWS_SIGNTOOL": "C:\\st.exe"}, _no_tool) == (
        "C:\\st.exe"
    )
    assert signing_module.find_signtool(env, lambda _name: "/bin/signtool") == "/bin/signtool"


def test_sign_and_verify_command_lines(signing_module: Any, tmp_path: Path) -> None:
    certificate = tmp_path / "code.pfx"
    certificate.write_bytes(b"pfx")
    env = {
        "WINDOWS_CERTIFICATE_PATH": str(certificate),
        "WINDOWS_CERTIFICATE_PASSWORD": PASSWORD,
        "WINDOWS_SIGNTOOL": "signtool.exe",
    }
    signing = signing_module.from_environment(env, _no_tool)
    files = [Path("a.exe"), Path("b.exe")]

    assert signing.sign_command(files) == [
        "signtool.exe",
        "sign",
        "/fd",
        "SHA256",
        "/f",
        str(certificate),
        "/p",
        PASSWORD,
        "/tr",
        "http://timestamp.digicert.com",
        "/td",
        "SHA256",
        "a.exe",
        "b.exe",
    ]
    assert signing.verify_command(Path("a.exe")) == ["signtool.exe", "verify", "/pa", "a.exe"]
    assert SECRET not in repr(signing)
    other = signing_module.from_environment(
        {**env, "WINDOWS_TIMESTAMP_URL": "http://ts.example/rfc3161"}, _no_tool
    )
    assert other.sign_command(files)[9] == "http://ts.example/rfc3161"
    no_password = signing_module.from_environment(
        {**env, "WINDOWS_CERTIFICATE_PASSWORD": ""}, _no_tool
    )
    assert "/p" not in no_password.sign_command(files)


def test_a_signtool_that_cannot_run_fails_clearly(signing_module: Any, tmp_path: Path) -> None:
    target = tmp_path / "app.exe"
    target.write_bytes(b"MZ")
    signing = signing_module.Signing(str(tmp_path / "no-signtool.exe"), target, PASSWORD)

    with pytest.raises(signing_module.SigningError, match=r"Cannot run .*no-signtool\.exe"):
        signing_module.sign(signing, [target], echo=lambda _line: None)


def test_inno_setup_runs_this_module_as_its_sign_tool(signing_module: Any) -> None:
    option = signing_module.inno_sign_tool("C:\\Python\\python.exe")
    script = str(PACKAGING.resolve() / "windows_signing.py")

    assert option == f"/Ssigntool=$qC:\\Python\\python.exe$q $q{script}$q $f"
    assert SECRET not in option


# A signtool.exe stand-in: records each call, "signs" by appending a marker, "verifies" by
# looking for it, and prints its whole command line (which real signtool does not) so that a
# password leaking into the build's output would show.
FAKE_SIGNTOOL = """\
import json, os, sys
from pathlib import Path
args = sys.argv[1:]
with open(os.environ["FAKE_TOOL_LOG"], "a") as log:
    log.write(json.dumps({"tool": "signtool", "args": args}) + "\\n")
print("fake signtool:", " ".join(args))
failures = Path(os.environ["FAKE_TOOL_LOG"]).with_name("sign-failures")
if args[0] == "sign":
    if failures.exists() and int(failures.read_text()) > 0:
        failures.write_text(str(int(failures.read_text()) - 1))
        print("SignTool Error: The specified timestamp server could not be reached.")
        sys.exit(1)
    files = args[args.index("/td") + 2:]
    for name in files:
        with open(name, "ab") as handle:
            handle.write(MARKER)
elif args[0] == "verify":
    sys.exit(0 if Path(args[-1]).read_bytes().endswith(MARKER) else 1)
"""

# An ISCC.exe stand-in: records its defines, writes the setup .exe, and, when given a sign tool,
# runs it on an uninstaller and then on the setup .exe as Inno Setup does ($q, $f expanded).
FAKE_ISCC = """\
import json, os, shlex, subprocess, sys
from pathlib import Path
args = sys.argv[1:]
defines = dict(a[2:].split("=", 1) for a in args if a.startswith("/D"))
tools = dict(a[2:].split("=", 1) for a in args if a.startswith("/S"))
with open(os.environ["FAKE_TOOL_LOG"], "a") as log:
    log.write(json.dumps({"tool": "iscc", "args": args}) + "\\n")
out = Path(defines["OutputDir"])
out.mkdir(parents=True, exist_ok=True)
setup = out / f"chatlio-segment-setup-{defines['AppVersion']}-setup.exe"
uninstaller = out / "uninst.e32.tmp"
uninstaller.write_bytes(b"MZ uninstaller")
setup.write_bytes(b"MZ setup")
if "Sign" in defines:
    for target in (uninstaller, setup):
        command = tools["signtool"].replace("$f", '"' + str(target) + '"').replace("$q", '"')
        if subprocess.run(shlex.split(command)).returncode != 0:
            sys.exit(2)
uninstaller.unlink()
"""


@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: Any) -> Path:
    """A PATH holding only fake iscc and signtool; build.py writing to a temporary dist/."""
    bin_dir = tmp_path / "bin"
    header = f"#!{sys.executable}\nMARKER = {SIGNED!r}\n"
    _executable(bin_dir / "signtool", header + FAKE_SIGNTOOL)
    _executable(bin_dir / "iscc", header + FAKE_ISCC)
    _windows_environment(monkeypatch, bin_dir)
    monkeypatch.setenv("FAKE_TOOL_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setattr(build, "DIST", tmp_path / "dist")
    return tmp_path


def _calls(fake_tools: Path) -> list[tuple[str, str, list[str]]]:
    """(tool, sub-command, file names) of each call, in order."""
    log = fake_tools / "calls.jsonl"
    calls = []
    for line in log.read_text().splitlines() if log.exists() else []:
        call = json.loads(line)
        args = call["args"]
        if call["tool"] == "iscc":
            calls.append(("iscc", "compile", [Path(args[-1]).name]))
        elif args[0] == "sign":
            calls.append(
                ("signtool", "sign", [Path(a).name for a in args[args.index("/td") + 2 :]])
            )
        else:
            calls.append(("signtool", args[0], [Path(args[-1]).name]))
    return calls


def _certificate(fake_tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certificate = fake_tools / "code signing.pfx"
    certificate.write_bytes(b"pfx")
    monkeypatch.setenv("WINDOWS_CERTIFICATE_PATH", str(certificate))
    monkeypatch.setenv("WINDOWS_CERTIFICATE_PASSWORD", PASSWORD)


def test_package_windows_signs_executables_before_packing_then_the_installer(
    build: Any,
    fake_tools: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    _certificate(fake_tools, monkeypatch)
    folder = _frozen_folder(fake_tools)

    artifacts = build.package_windows(folder, "0.2.0rc1", "chatlio-segment-setup-0.2.0rc1-win")

    gui, cli = "chatlio-segment-setup.exe", "chatlio-segment-setup-cli.exe"
    setup = "chatlio-segment-setup-0.2.0rc1-setup.exe"
    assert _calls(fake_tools) == [
        ("signtool", "sign", [gui, cli]),
        ("signtool", "verify", [gui]),
        ("signtool", "verify", [cli]),
        ("iscc", "compile", ["chatlio-segment-setup.iss"]),
        ("signtool", "sign", ["uninst.e32.tmp"]),
        ("signtool", "verify", ["uninst.e32.tmp"]),
        ("signtool", "sign", [setup]),
        ("signtool", "verify", [setup]),
    ]
    archive, installer = artifacts
    assert installer.name == setup
    assert installer.read_bytes().endswith(SIGNED)
    with zipfile.ZipFile(archive) as packed:
        for exe in (gui, cli):  # the .zip holds the signed executables
            assert packed.read(f"chatlio-segment-setup-0.2.0rc1/{exe}").endswith(SIGNED)
    output = capfd.readouterr()
    assert "fake signtool: sign" in output.out  # the tools' output is shown...
    assert SECRET not in output.out + output.err  # ...without the password
    assert "/p ********" in output.out


def test_package_windows_without_a_certificate_says_so_and_signs_nothing(
    build: Any, fake_tools: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    artifacts = build.package_windows(_frozen_folder(fake_tools), "0.2.0", "stem")

    assert [call[:2] for call in _calls(fake_tools)] == [("iscc", "compile")]
    iscc_args = json.loads((fake_tools / "calls.jsonl").read_text())["args"]
    assert "/DAppNumericVersion=0.2.0.0" in iscc_args
    assert not [arg for arg in iscc_args if arg.startswith(("/S", "/DSign"))]
    assert not artifacts[1].read_bytes().endswith(SIGNED)
    skipped = [line for line in capfd.readouterr().out.splitlines() if "Not signing" in line]
    assert len(skipped) == 1
    assert "WINDOWS_CERTIFICATE_PATH" in skipped[0]


def test_a_signature_that_does_not_verify_fails_the_build_without_the_password(
    build: Any, fake_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _certificate(fake_tools, monkeypatch)
    # A signtool that "signs" nothing: verification must catch it.
    _executable(
        fake_tools / "bin" / "signtool",
        f"#!{sys.executable}\nimport sys\nprint('fake:', *sys.argv)\n"
        "sys.exit(1 if sys.argv[1] == 'verify' else 0)\n",
    )

    with pytest.raises(build.BuildError, match="does not verify") as failure:
        build.package_windows(_frozen_folder(fake_tools), "0.2.0", "stem")

    assert SECRET not in str(failure.value)
    assert not (fake_tools / "dist").exists()  # nothing packed unsigned


def test_signing_tries_again_when_the_time_stamp_server_fails(
    signing_module: Any,
    fake_tools: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    _certificate(fake_tools, monkeypatch)
    signing = signing_module.from_environment(os.environ)
    target = fake_tools / "app.exe"
    target.write_bytes(b"MZ")
    pauses: list[float] = []

    (fake_tools / "sign-failures").write_text("2")
    signing_module.sign(signing, [target], pause=pauses.append)
    assert target.read_bytes().endswith(SIGNED)
    assert len(pauses) == 2

    (fake_tools / "sign-failures").write_text("3")
    with pytest.raises(signing_module.SigningError, match="3 tries"):
        signing_module.sign(signing, [target], pause=pauses.append)
    assert SECRET not in capfd.readouterr().out


def test_inno_setups_sign_tool_command_fails_when_signing_is_not_set_up(
    fake_tools: Path, tmp_path: Path
) -> None:
    target = tmp_path / "setup.exe"
    target.write_bytes(b"MZ")
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "windows_signing.py"), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "WINDOWS_CERTIFICATE_PATH" in result.stderr
    assert target.read_bytes() == b"MZ"


# --- the Windows smoke test -----------------------------------------------------------------------


def test_smoke_test_script_parses_as_powershell() -> None:
    import tree_sitter
    import tree_sitter_powershell

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))

    tree = parser.parse(SMOKE_TEST.read_bytes())

    assert not tree.root_node.has_error
    broken = parser.parse(b"if ($x -eq 1 {\n  Write-Host 'a'\n")
    assert broken.root_node.has_error


def test_smoke_test_matches_the_installer_and_checks_exit_codes(winver: Any) -> None:
    script = SMOKE_TEST.read_text()
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("#"))

    assert "$ErrorActionPreference = 'Stop'" in code
    assert "Set-StrictMode -Version Latest" in code
    assert f"$AppId = '{{{APP_ID_GUID}}}'" in code
    assert f"$AppName = '{APP_NAME}'" in code
    for exe in winver.EXECUTABLES:
        assert f"'{exe}'" in code
    assert "-Wait -PassThru" in code
    assert "$process.ExitCode" in code
    assert "$LASTEXITCODE -ne 0" in code
    assert "/VERYSILENT" in code
    assert "/LOG=" in code
    assert "--self-test" in code
    assert "$ExpectedVersion" in code
    assert "ProductVersion" in code
    assert "Start-Sleep -Seconds" not in code  # waits are polls with a deadline
    assert "$deadline" in code


def _guards(script: bytes) -> dict[str, str]:
    """Each `if (condition) { ... throw ... }` in the script: condition -> the block's text."""
    import tree_sitter
    import tree_sitter_powershell

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    guards: dict[str, str] = {}
    pending = [parser.parse(script).root_node]
    while pending:
        node = pending.pop()
        pending.extend(node.children)
        if node.type == "if_statement":
            condition = next(c for c in node.children if c.type == "pipeline")
            block = next(c for c in node.children if c.type == "statement_block")
            assert condition.text is not None
            assert block.text is not None
            if b"throw" in block.text:
                guards[condition.text.decode()] = block.text.decode()
    return guards


def test_smoke_test_fails_on_every_exit_code_it_gets() -> None:
    guards = _guards(SMOKE_TEST.read_bytes())

    # Start-Process's ExitCode (installer and uninstaller), and the self-test's $LASTEXITCODE.
    assert "$null -eq $code -or $code -ne 0" in guards
    assert "--self-test failed" in guards["$LASTEXITCODE -ne 0"]
    assert "still holds" in guards["[DateTime]::UtcNow -gt $deadline"]
    broken = SMOKE_TEST.read_bytes().replace(b"$null -eq $code -or $code -ne 0", b"$false")
    assert "$null -eq $code -or $code -ne 0" not in _guards(broken)


def test_smoke_test_installs_where_the_iss_says() -> None:
    setup = _setup_directives()
    code = SMOKE_TEST.read_text()

    # {autopf} is %LOCALAPPDATA%\Programs for a per-user install.
    assert setup["DefaultDirName"] == "{autopf}\\{#AppName}"
    assert 'Join-Path $env:LOCALAPPDATA "Programs\\$AppName"' in code
    assert (
        textwrap.dedent("""\
        $MenuEntry = Join-Path ([Environment]::GetFolderPath('Programs')) "$AppName\\$AppName.lnk"
        """)
        in code
    )
    assert setup["DefaultGroupName"] == "{#AppName}"
