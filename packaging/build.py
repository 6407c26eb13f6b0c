"""Build the installable app in one command: `python packaging/build.py`.

1. a clean virtual environment in build/venv-pack with only the app's dependencies and PyInstaller,
   exactly as packaging/release.lock pins them, hashes checked (nothing from the system's Python);
2. PyInstaller with packaging/chatlio-segment-setup.spec: a trimmed one-folder build (on Linux
   ICU's 32 MB data library is then cut to what Qt uses, packaging/icu_data.py);
3. on Linux, a portable .tar.gz of that folder and a .deb for /opt, checked first: every shared
   library the bundle links but does not carry must come from a package the .deb depends on;
   on Windows, the executables signed (when a certificate is set), a .zip and the Inno Setup
   installer (the build stops when Inno Setup is missing);
   on macOS, the universal2 .app checked and put in a DMG (packaging/macos/dmg.py signs and
   notarizes when configured);
4. a list of the artifacts in dist/ with their sizes (also written to build/sizes-<kind>.json).

`--naive` builds, for comparison only, what PyInstaller makes by default from the full PySide6
package with no trimming, into build/naive/ (never dist/).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import tomllib
import venv
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bundle_rules  # packaging/bundle_rules.py: this script's folder is first on sys.path
import icu_data

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"
BUILD = ROOT / "build"
DIST = ROOT / "dist"
SPEC = PACKAGING / "chatlio-segment-setup.spec"
NAME = "chatlio-segment-setup"
INSTALL_DIR = f"/opt/{NAME}"
WINDOWS = sys.platform == "win32"
MACOS = sys.platform == "darwin"
LINUX = sys.platform.startswith("linux")

# What the .deb needs from the system: glibc for PySide6's manylinux_2_34 wheels; libGL/libEGL
# and libxcb, which PyInstaller never bundles; and the libraries that
# bundle_rules.SYSTEM_LIBRARIES leaves to the system (X11/xcb, xkbcommon, Wayland, fontconfig,
# GLib, D-Bus, libstdc++, OpenSSL, ...). `check_closure` proves that this list covers every
# library the bundle links. Alternatives keep Ubuntu 24.04 (t64 package names) working.
DEB_DEPENDS = (
    "libc6 (>= 2.34)",
    "libstdc++6",
    "libgcc-s1",
    "libssl3t64 | libssl3",
    "zlib1g",
    "libzstd1",
    "liblzma5",
    "libbz2-1.0",
    "libffi8",
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libfreetype6",
    "libglib2.0-0t64 | libglib2.0-0",
    "libdbus-1-3",
    "libx11-6",
    "libx11-xcb1",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-glx0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-util1",
    "libxcb-xfixes0",
    "libxcb-xkb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libwayland-client0",
    "libwayland-cursor0",
    "libwayland-egl1",
    # Qt's wheels carry no fonts: without one, every letter is drawn as a box.
    "fonts-dejavu-core | fonts-liberation2 | fonts-noto-core",
)
# The keyring the write key goes to; the app explains what to do when there is none.
DEB_RECOMMENDS = ("gnome-keyring | kwalletmanager | keepassxc",)
# Packages needing no mention: glibc's own libraries (libm, libdl, ...) come with libc6.
_ALWAYS_PRESENT = frozenset({"libc6"})


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(args: Sequence[str | Path], **kwargs: object) -> None:
    """Run a build tool, echoing its command line; a failure stops the build."""
    print("$ " + " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603


def capture(args: Sequence[str | Path]) -> str:
    result = subprocess.run(  # noqa: S603
        [str(a) for a in args], check=True, capture_output=True, text=True
    )
    return result.stdout


def app_info() -> tuple[str, str, str]:
    """(version, APP_ID, APP_NAME) from app/__init__.py, which imports nothing."""
    sys.path.insert(0, str(ROOT))
    import app

    return app.__version__, app.APP_ID, app.APP_NAME


# --- the clean virtual environment ------------------------------------------------------------


# What the release build installs, exactly: every platform's pins with their hashes
# (`bash scripts/dev lock` makes it from pyproject.toml and packaging/requirements.txt, held to
# constraints.txt). The Python that builds releases is named in PYTHON_VERSION_FILE, which
# actions/setup-python reads too.
LOCK = PACKAGING / "release.lock"
PYTHON_VERSION_FILE = PACKAGING / "python-version"


def runtime_dependencies(*, full_pyside: bool) -> list[str]:
    """The app's dependencies as pyproject.toml declares them (optionally full PySide6)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps: list[str] = list(project["dependencies"])
    if full_pyside:
        essentials = _pinned("PySide6_Essentials") or _pinned("PySide6-Essentials")
        deps = [d for d in deps if not d.lower().startswith("pyside6-essentials")]
        deps.append(f"PySide6=={essentials}" if essentials else "PySide6")
    return deps


def _pinned(name: str) -> str | None:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(f"{name.lower()}=="):
            return line.split("==", 1)[1].strip()
    return None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise BuildError(f"Cannot read the package name in the requirement {requirement!r}")
    return _normalized(match[1])


def _locked_names() -> set[str]:
    """The packages packaging/release.lock pins (`name==version` lines)."""
    pins = re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", LOCK.read_text(), re.MULTILINE)
    return {_normalized(pin[1]) for pin in pins}


def check_lock(requirements: Sequence[str]) -> None:
    """BuildError unless the lock pins every requirement and every build tool."""
    tools = [
        line
        for line in (PACKAGING / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    wanted = {_requirement_name(r) for r in [*requirements, *tools]}
    missing = sorted(wanted - _locked_names())
    if missing:
        raise BuildError(
            f"{rel(LOCK)} does not pin {', '.join(missing)}: regenerate it with "
            f"`bash scripts/dev lock` after changing pyproject.toml or packaging/requirements.txt"
        )


def check_python() -> None:
    """Say which Python builds; on GitHub Actions, refuse any but PYTHON_VERSION_FILE's."""
    wanted = PYTHON_VERSION_FILE.read_text().strip()
    running = platform.python_version()
    log(f"Building with Python {running} ({sys.executable})")
    if running == wanted:
        return
    if os.environ.get("CI") and os.environ.get("GITHUB_ACTIONS"):
        raise BuildError(
            f"This runner's Python is {running}, but releases are built with Python {wanted} "
            f"({rel(PYTHON_VERSION_FILE)}): give actions/setup-python "
            f"`python-version-file: {rel(PYTHON_VERSION_FILE)}`"
        )
    print(
        f"  note: releases are built with Python {wanted} ({rel(PYTHON_VERSION_FILE)}); "
        f"this local build uses {running}",
        flush=True,
    )


def venv_python(path: Path) -> Path:
    return path / ("Scripts/python.exe" if WINDOWS else "bin/python")


def ensure_venv(path: Path, requirements: list[str], *, fresh: bool) -> Path:
    """A virtual environment with exactly `requirements`, rebuilt when they change.

    Never --system-site-packages, and PYTHONPATH/PYTHONHOME/user site are kept out, so the
    bundle cannot pick up a module from the build machine's Python. The release's requirements
    are installed from packaging/release.lock alone, every file checked against its hash; any
    other set (the --naive comparison's full PySide6, which the lock does not hold) is resolved
    against constraints.txt, without hashes, for a build that is never released. The app itself
    is not installed in either: the spec puts the source tree on PyInstaller's path.
    """
    check_python()
    locked = list(requirements) == runtime_dependencies(full_pyside=False)
    if locked:
        check_lock(requirements)
    pins = (
        [LOCK.read_text()]
        if locked
        else [(ROOT / "constraints.txt").read_text(), (PACKAGING / "requirements.txt").read_text()]
    )
    stamp = path / ".build-stamp"
    inputs = [sys.version, platform.machine(), *requirements, *pins]
    digest = hashlib.sha256("\n".join(inputs).encode()).hexdigest()
    python = venv_python(path)
    if not fresh and python.exists() and stamp.exists() and stamp.read_text() == digest:
        log(f"Reusing the clean virtual environment {rel(path)} (its inputs have not changed)")
        return python
    log(f"Creating a clean virtual environment in {rel(path)}")
    shutil.rmtree(path, ignore_errors=True)
    venv.EnvBuilder(clear=True, with_pip=True, system_site_packages=False).create(path)
    pip: list[str | Path] = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    if locked:
        # The venv's own pip (ensurepip's, from the pinned Python) installs the lock: upgrading
        # it first would be the one download the lock does not pin. Wheels only, as tested.
        run(
            [
                *pip,
                "install",
                "-q",
                "--require-hashes",
                "--no-deps",
                "--only-binary",
                ":all:",
                "-r",
                LOCK,
            ],
            env=clean_env(),
        )
        # --no-deps trusts the lock to be complete; pip check proves it for this platform.
        run([*pip, "check"], env=clean_env())
        stamp.write_text(digest)
        return python
    run([*pip, "install", "-q", "-U", "pip"], env=clean_env())
    run(
        [
            *pip,
            "install",
            "-q",
            "-c",
            ROOT / "constraints.txt",
            "-r",
            PACKAGING / "requirements.txt",
            *requirements,
        ],
        env=clean_env(),
    )
    stamp.write_text(digest)
    return python


def clean_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "CONDA"))
    }
    env["PYTHONNOUSERSITE"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# --- PyInstaller ------------------------------------------------------------------------------


def pyinstaller(python: Path, work: Path, dist: Path, extra: Sequence[str | Path]) -> None:
    run(
        [
            python,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--workpath",
            work,
            "--distpath",
            dist,
            *extra,
        ],
        env=clean_env(),
        cwd=ROOT,
    )


# --- checking the bundle (Linux) ---------------------------------------------------------------


def _elf_files(folder: Path) -> Iterable[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    yield path


def _package_of(soname: str) -> str | None:
    """The Debian package on this machine that ships `soname`, if any."""
    try:
        output = capture(["dpkg-query", "-S", f"*/{soname}"])
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    for line in output.splitlines():
        package = line.split(":", 1)[0].strip()
        if package and "," not in package:
            return package
    return None


def _declared_packages(depends: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for entry in depends:
        for alternative in entry.split("|"):
            names.add(alternative.split("(")[0].strip())
    return names


@dataclass
class Closure:
    """The shared libraries the bundle links but does not carry, and who provides them."""

    external: dict[str, str | None] = field(default_factory=dict)  # soname -> package
    undeclared: dict[str, str | None] = field(default_factory=dict)


def check_closure(folder: Path, depends: Iterable[str]) -> Closure:
    """Every library the bundle needs is either in it or from a package the .deb depends on."""
    bundled = {path.name for path in folder.rglob("*")}
    closure = Closure()
    for elf in _elf_files(folder):
        for soname in bundle_rules.elf_needed(str(elf)):
            if soname in bundled or soname in closure.external:
                continue
            closure.external[soname] = _package_of(soname)
    declared = _declared_packages(depends) | _ALWAYS_PRESENT
    for soname, package in sorted(closure.external.items()):
        # Strip Debian's :amd64 qualifier and the t64 rename before comparing.
        base = (package or "").split(":")[0]
        if base not in declared and base.removesuffix("t64") not in declared:
            closure.undeclared[soname] = package
    return closure


# --- artifacts --------------------------------------------------------------------------------


def source_date_epoch() -> int:
    """A fixed time for archive entries, so rebuilding one commit gives the same archives."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        return int(capture(["git", "-C", ROOT, "log", "-1", "--format=%ct"]).strip())
    except (subprocess.CalledProcessError, FileNotFoundError, ValueError):
        return int(time.time())


def desktop_files(app_id: str) -> dict[str, Path]:
    """The freedesktop files the packages install, by path below /usr (or the archive's top)."""
    files = {
        f"share/applications/{app_id}.desktop": RESOURCES / f"{app_id}.desktop",
        f"share/metainfo/{app_id}.metainfo.xml": RESOURCES / f"{app_id}.metainfo.xml",
        f"share/icons/hicolor/scalable/apps/{app_id}.svg": RESOURCES / "icons" / "app.svg",
    }
    for png in sorted((RESOURCES / "icons" / "hicolor").glob(f"*/apps/{app_id}.png")):
        files[f"share/icons/hicolor/{png.parent.parent.name}/apps/{png.name}"] = png
    return files


def _mode(path: Path) -> int:
    if path.is_dir() or path.stat().st_mode & stat.S_IXUSR:
        return 0o755
    return 0o644


def make_tarball(folder: Path, out: Path, top: str, extra: dict[str, Path], mtime: int) -> Path:
    """A .tar.gz of `folder` under `top/` (plus `extra` files), with normalised metadata."""

    def add(tar: tarfile.TarFile, source: Path, name: str) -> None:
        info = tar.gettarinfo(str(source), arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = mtime
        if not info.issym():
            info.mode = _mode(source)
        if info.isfile():
            with source.open("rb") as handle:
                tar.addfile(info, handle)
        else:
            tar.addfile(info)

    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        out.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=mtime) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        add(tar, folder, top)
        for path in sorted(folder.rglob("*")):
            add(tar, path, f"{top}/{path.relative_to(folder).as_posix()}")
        directories = sorted({str(Path(name).parent) for name in extra})
        for directory in _with_parents(directories):
            info = tarfile.TarInfo(f"{top}/{directory}")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
            info.uname = info.gname = "root"
            tar.addfile(info)
        for name, source in sorted(extra.items()):
            add(tar, source, f"{top}/{name}")
    return out


def _with_parents(directories: Iterable[str]) -> list[str]:
    every: set[str] = set()
    for directory in directories:
        parts = Path(directory).parts
        every.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(every)


def _copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def make_deb(folder: Path, out: Path, version: str, app_id: str, mtime: int) -> Path:
    """A Debian package: the folder in /opt, a command on the PATH, menu entry, icons, metainfo."""
    stage = BUILD / "deb" / out.stem
    shutil.rmtree(stage, ignore_errors=True)
    root = stage / "root"
    _copy_tree(folder, root / INSTALL_DIR.lstrip("/"))
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin" / NAME).symlink_to(f"{INSTALL_DIR}/{NAME}")
    for name, source in desktop_files(app_id).items():
        target = root / "usr" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    doc = root / "usr/share/doc" / NAME
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(_COPYRIGHT)

    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(_mode(path))
        os.utime(path, (mtime, mtime), follow_symlinks=False)

    control_dir = root / "DEBIAN"
    control_dir.mkdir()
    installed_kib = sum(
        (p.lstat().st_size + 1023) // 1024 for p in root.rglob("*") if not p.is_dir()
    )
    description = (
        "Connect Chatlio live chat to Segment, and prove that it works\n"
        " A desktop app that walks you through connecting a company's Chatlio live chat\n"
        " to Segment, keeps the source's write key in the system keyring, sends test\n"
        " Live Chat events and shows exactly what Segment answered. The same checks run\n"
        f" headless from the command line: {NAME} --help."
    )
    control = {
        "Package": NAME,
        "Version": version,
        "Section": "net",
        "Priority": "optional",
        "Architecture": _deb_arch(),
        "Maintainer": "Chatlio Segment Setup contributors <noreply@chatlio-segment-setup.invalid>",
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join(DEB_DEPENDS),
        "Recommends": ", ".join(DEB_RECOMMENDS),
        "Homepage": "https://github.com/chatlio-segment-setup/chatlio-segment-setup",
        "Description": description,
    }
    (control_dir / "control").write_text("".join(f"{k}: {v}\n" for k, v in control.items()))
    md5sums = [
        f"{hashlib.md5(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n"  # noqa: S324 - dpkg's format
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink() and "DEBIAN" not in p.relative_to(root).parts
    ]
    (control_dir / "md5sums").write_text("".join(md5sums))
    for path in control_dir.iterdir():
        path.chmod(0o644)
        os.utime(path, (mtime, mtime))
    # No postinst/postrm: dpkg's file triggers (declared by gtk-update-icon-cache and
    # desktop-file-utils) refresh the icon cache and the desktop database whenever a package
    # adds or removes files in /usr/share/icons and /usr/share/applications.

    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(mtime)}
    run(["dpkg-deb", "--root-owner-group", "-Zxz", "-z9", "--build", root, out], env=env)
    return out


def _deb_arch() -> str:
    try:
        return capture(["dpkg", "--print-architecture"]).strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


_COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: chatlio-segment-setup
Source: https://github.com/chatlio-segment-setup/chatlio-segment-setup

Files: *
Copyright: Chatlio Segment Setup contributors
License: MIT

Files: opt/chatlio-segment-setup/_internal/PySide6/* opt/chatlio-segment-setup/_internal/shiboken6/*
Copyright: The Qt Company Ltd.
License: LGPL-3.0-only
 On Debian systems, the full text of the GNU Lesser General Public License
 version 3 can be found in /usr/share/common-licenses/LGPL-3.

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this
 software and associated documentation files (the "Software"), to deal in the Software
 without restriction, including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
 to whom the Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
 INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
 PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
 FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
 OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
"""


def make_zip(folder: Path, out: Path, top: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
    return out


# --- sizes ------------------------------------------------------------------------------------


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) of a folder, counting each file's length (not disk blocks)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def report(kind: str, folder: Path, artifacts: list[Path]) -> dict[str, object]:
    size, count = folder_size(folder)
    rows = [(f"{rel(folder)}/ (one folder, {count} files)", size)]
    rows += [(rel(path), path.stat().st_size) for path in artifacts]
    width = max(len(name) for name, _ in rows)
    print()
    print(f"{kind} build:")
    for name, value in rows:
        print(f"  {name.ljust(width)}  {mb(value):>9}")
    summary: dict[str, object] = {
        "kind": kind,
        "folder": str(folder),
        "folder_bytes": size,
        "folder_files": count,
        "artifacts": {path.name: path.stat().st_size for path in artifacts},
    }
    BUILD.mkdir(exist_ok=True)
    (BUILD / f"sizes-{kind}.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _platform_tag() -> str:
    """e.g. linux-x86_64, windows-x86_64; macOS builds are universal2 whichever Mac built them."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, "other")
    machine = "universal2" if MACOS else platform.machine().lower().replace("amd64", "x86_64")
    return f"{system}-{machine}"


# --- the two builds ---------------------------------------------------------------------------


class BuildError(Exception):
    """The build cannot go on; the message says why and what to do."""


def package_linux(folder: Path, version: str, app_id: str, stem: str) -> list[Path]:
    """Check the bundle's library closure, then the portable .tar.gz and the .deb."""
    closure = check_closure(folder, DEB_DEPENDS)
    if closure.undeclared:
        missing = "\n".join(
            f"  {soname}: from {package or 'no installed package'}"
            for soname, package in closure.undeclared.items()
        )
        raise BuildError(
            f"These libraries are linked by the bundle but neither bundled nor provided by a "
            f"package in DEB_DEPENDS; add their packages there (or keep them in the bundle):\n"
            f"{missing}"
        )
    log(f"The bundle links {len(closure.external)} system libraries, each from a dependency")
    mtime = source_date_epoch()
    log("Packing the portable .tar.gz")
    top = f"{NAME}-{version}"
    artifacts = [make_tarball(folder, DIST / f"{stem}.tar.gz", top, desktop_files(app_id), mtime)]
    if not shutil.which("dpkg-deb"):
        log("dpkg-deb not found: no .deb (install the dpkg package)")
        return artifacts
    log("Building the .deb")
    deb = DIST / f"{NAME}_{version}_{_deb_arch()}.deb"
    artifacts.append(make_deb(folder, deb, version, app_id, mtime))
    return artifacts


def package_windows(folder: Path, version: str, stem: str) -> list[Path]:
    """Sign the executables (when set up), then the .zip and the Inno Setup installer."""
    import versions
    import windows_installer  # packaging/windows_installer.py: ISCC.exe and its command line
    import windows_signing  # packaging/windows_signing.py: signtool, when a certificate is set
    import windows_version

    iscc = windows_installer.find_iscc(os.environ)
    if iscc is None:
        raise BuildError(windows_installer.ISCC_MISSING)
    try:
        command = windows_installer.iscc_command(iscc, version, folder, DIST)
        signing = windows_signing.from_environment(os.environ)
        if signing is None:
            log(windows_signing.NOT_CONFIGURED)
        else:
            log("Signing the executables, before they are packed")
            windows_signing.sign(signing, [folder / exe for exe in windows_version.EXECUTABLES])
            sign_tool = windows_signing.inno_sign_tool(sys.executable)
            command = windows_installer.iscc_command(iscc, version, folder, DIST, sign_tool)
    except (versions.VersionError, windows_signing.SigningError) as exc:
        raise BuildError(str(exc)) from exc
    artifacts = [make_zip(folder, DIST / f"{stem}.zip", f"{NAME}-{version}")]
    log("Compiling the Inno Setup installer" + (" (Inno Setup signs it)" if signing else ""))
    run(command)
    setup = DIST / f"{NAME}-{version}-setup.exe"
    if not setup.is_file():
        raise BuildError(f"iscc exited 0 but wrote no {rel(setup)}")
    return [*artifacts, setup]


def check_macos_python() -> None:
    """BuildError unless this Python is universal2 (python.org's): the app inherits its arches."""
    import sysconfig

    import macos_bundle

    problem = macos_bundle.python_problem(sysconfig.get_platform())
    if problem:
        raise BuildError(problem)


def package_macos(bundle: Path, version: str, stem: str) -> list[Path]:
    """Check the .app, then sign, notarize and put it in a DMG (packaging/macos/dmg.py).

    The check covers what the spec never saw (PyInstaller's bootloader, the Python library):
    every Mach-O file universal2, none needing a newer macOS than LSMinimumSystemVersion.
    """
    import macos_bundle

    try:
        minimum = macos_bundle.check_bundle(bundle)
    except macos_bundle.BundleError as exc:
        raise BuildError(str(exc)) from exc
    log(
        f"The app is universal2 (arm64 and x86_64) and declares macOS "
        f"{macos_bundle.format_version(minimum)} or newer"
    )
    dmg = DIST / f"{stem}.dmg"
    run([sys.executable, PACKAGING / "macos" / "dmg.py", bundle, dmg, version])
    return [dmg]


def build_release(args: argparse.Namespace) -> int:
    version, app_id, app_name = app_info()
    started = time.monotonic()
    if MACOS:
        check_macos_python()
    python = ensure_venv(
        BUILD / "venv-pack", runtime_dependencies(full_pyside=False), fresh=args.fresh
    )
    work, pyi_dist = BUILD / "pyinstaller", BUILD / "pyinstaller-dist"
    if args.fresh:
        shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(pyi_dist, ignore_errors=True)
    log("Running PyInstaller with packaging/chatlio-segment-setup.spec")
    pyinstaller(python, work, pyi_dist, [SPEC])
    folder = pyi_dist / NAME
    if LINUX and not args.full_icu:
        for library in sorted(folder.rglob("libicudata.so.*")):
            log(f"Trimming ICU data to what Qt uses: {rel(library)}")
            total, kept = icu_data.shrink(library)
            print(f"  kept {kept} of {total} items, now {mb(library.stat().st_size)}")
    stem = f"{NAME}-{version}-{_platform_tag()}"
    DIST.mkdir(exist_ok=True)
    artifacts: list[Path] = []
    if not args.no_installers:
        if LINUX:
            artifacts = package_linux(folder, version, app_id, stem)
        elif WINDOWS:
            artifacts = package_windows(folder, version, stem)
        elif MACOS:
            artifacts = package_macos(pyi_dist / f"{app_name}.app", version, stem)

    report("release", folder, artifacts)
    print(f"\nBuilt in {time.monotonic() - started:.0f} s. Start it: {rel(folder)}/{NAME}")
    debs = [path for path in artifacts if path.suffix == ".deb"]
    if debs:
        print(f"Install the .deb: sudo apt-get install ./{rel(debs[0])}")
    return 0


def build_naive(args: argparse.Namespace) -> int:
    """PyInstaller's defaults against the full PySide6 package: the size to beat."""
    version, app_id, _app_name = app_info()
    started = time.monotonic()
    python = ensure_venv(
        BUILD / "venv-naive", runtime_dependencies(full_pyside=True), fresh=args.fresh
    )
    base = BUILD / "naive"
    shutil.rmtree(base / "dist", ignore_errors=True)
    log("Running PyInstaller with its defaults (no spec, no trimming)")
    pyinstaller(
        python,
        base / "work",
        base / "dist",
        [
            "--onedir",
            "--name",
            NAME,
            "--paths",
            ROOT,
            "--specpath",
            base,
            PACKAGING / "launcher.py",
        ],
    )
    folder = base / "dist" / NAME
    artifacts: list[Path] = []
    if LINUX and not args.no_installers:
        mtime = source_date_epoch()
        artifacts.append(
            make_tarball(
                folder,
                base / f"{NAME}-{version}-naive.tar.gz",
                f"{NAME}-{version}",
                desktop_files(app_id),
                mtime,
            )
        )
        if shutil.which("dpkg-deb"):
            artifacts.append(
                make_deb(folder, base / f"{NAME}_{version}_naive.deb", version, app_id, mtime)
            )
    report("naive", folder, artifacts)
    print(f"\nBuilt in {time.monotonic() - started:.0f} s (for comparison only; not for release).")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python packaging/build.py",
        description="Build the frozen app and its installers into dist/.",
        epilog="Artifacts: dist/ (Linux: .tar.gz and .deb). Sizes: build/sizes-*.json.",
    )
    parser.add_argument(
        "--naive",
        action="store_true",
        help="build PyInstaller's untrimmed default against full PySide6 into build/naive/, "
        "to compare sizes",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="recreate the virtual environment and PyInstaller's cache from scratch",
    )
    parser.add_argument(
        "--no-installers", action="store_true", help="only the one-folder build, no archives"
    )
    parser.add_argument(
        "--full-icu",
        action="store_true",
        help="keep all of ICU's data (Linux; by default it is trimmed to what Qt uses, "
        "saving ~24 MB: see packaging/icu_data.py)",
    )
    args = parser.parse_args(argv)
    try:
        return build_naive(args) if args.naive else build_release(args)
    except (subprocess.CalledProcessError, BuildError) as exc:
        print(f"\nBuild failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
