"""A small Mach-O reader: each architecture of a macOS binary and the macOS it says it needs.

Reads thin and fat (universal) files, 32- and 64-bit, in either byte order, and nothing but
their headers and load commands (a 60 MB Qt framework costs a few kilobytes). For each slice:
its CPU (named as `lipo -archs` names it), its file type, and its minimum macOS from
LC_BUILD_VERSION (platform macOS) or the older LC_VERSION_MIN_MACOSX. Works on any system, so
the Linux machines can check a macOS bundle or wheel, and the macOS build checks its own.

`read(path)` is None for a file that is not Mach-O (a Python module, a Java class file, whose
magic number is the fat header's, a static archive); MachOError for one that starts like Mach-O
but is damaged.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "MH_BUNDLE",
    "MH_DYLIB",
    "MH_EXECUTE",
    "MachO",
    "MachOError",
    "Slice",
    "Version",
    "format_version",
    "read",
]

Version = tuple[int, int, int]

_MH_MAGIC = 0xFEEDFACE
_MH_MAGIC_64 = 0xFEEDFACF
_FAT_MAGIC = 0xCAFEBABE
_FAT_MAGIC_64 = 0xCAFEBABF
# mach_header (7 words) and mach_header_64 (one reserved word more).
_HEADER_WORDS = 7
_LOAD_COMMAND = 8  # cmd, cmdsize
_LC_VERSION_MIN_MACOSX = 0x24
_LC_BUILD_VERSION = 0x32
_PLATFORM_MACOS = 1
# A fat header shares its magic number with Java class files, where the next word is the class
# file version (45 and up); Apple's own tools assume no universal file has that many slices.
_MAX_FAT_SLICES = 30
_MAX_LOAD_COMMANDS_SIZE = 16 * 1024 * 1024

MH_EXECUTE = 0x2
MH_DYLIB = 0x6
MH_BUNDLE = 0x8

_CPU_ARCH_ABI64 = 0x01000000
_CPU_ARCH_ABI64_32 = 0x02000000
_CPU_SUBTYPE_MASK = 0x00FFFFFF
_CPU_NAMES = {
    7: "i386",
    7 | _CPU_ARCH_ABI64: "x86_64",
    12: "arm",
    12 | _CPU_ARCH_ABI64: "arm64",
    12 | _CPU_ARCH_ABI64_32: "arm64_32",
    18: "ppc",
    18 | _CPU_ARCH_ABI64: "ppc64",
}
_CPU_SUBTYPE_NAMES = {
    (12 | _CPU_ARCH_ABI64, 2): "arm64e",
    (7 | _CPU_ARCH_ABI64, 8): "x86_64h",
}


class MachOError(ValueError):
    """The file looks like Mach-O but cannot be read; the message names the file and why."""


@dataclass(frozen=True)
class Slice:
    """One architecture of a Mach-O file.

    `filetype` (MH_EXECUTE, MH_DYLIB, MH_BUNDLE, ...) and `minimum` are None for a fat file's
    slice that holds something other than a Mach-O image (a static archive's member list);
    `minimum` is also None when the image declares no macOS version (or another platform's).
    """

    cpu: str
    filetype: int | None
    minimum: Version | None


@dataclass(frozen=True)
class MachO:
    """A Mach-O file: its slices in the order the file holds them."""

    path: Path
    fat: bool
    slices: tuple[Slice, ...]

    @property
    def archs(self) -> frozenset[str]:
        return frozenset(part.cpu for part in self.slices)

    @property
    def minimum(self) -> Version | None:
        """The highest minimum any slice declares: the file loads on no older macOS."""
        declared = [part.minimum for part in self.slices if part.minimum is not None]
        return max(declared) if declared else None

    @property
    def filetype(self) -> int | None:
        types = {part.filetype for part in self.slices} - {None}
        return types.pop() if len(types) == 1 else None


def format_version(version: Version) -> str:
    """14.0 for (14, 0, 0), 10.13.6 for (10, 13, 6): how Info.plist writes versions."""
    major, minor, patch = version
    return f"{major}.{minor}.{patch}" if patch else f"{major}.{minor}"


def _decode_version(packed: int) -> Version:
    """Mach-O's xxxx.yy.zz nibble encoding."""
    return (packed >> 16, (packed >> 8) & 0xFF, packed & 0xFF)


def _cpu_name(cputype: int, cpusubtype: int) -> str:
    subtype = cpusubtype & _CPU_SUBTYPE_MASK
    named = _CPU_SUBTYPE_NAMES.get((cputype, subtype)) or _CPU_NAMES.get(cputype)
    return named or f"cputype-{cputype:#x}"


def _read_exactly(stream: BinaryIO, offset: int, size: int, path: Path, what: str) -> bytes:
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise MachOError(f"{path}: truncated {what} at byte {offset}")
    return data


def _thin_order(magic_bytes: bytes) -> tuple[str, bool] | None:
    """('<' or '>', is 64-bit) for a thin Mach-O header's first four bytes, else None."""
    for order in ("<", ">"):
        (magic,) = struct.unpack(order + "I", magic_bytes)
        if magic == _MH_MAGIC:
            return order, False
        if magic == _MH_MAGIC_64:
            return order, True
    return None


def _read_image(stream: BinaryIO, offset: int, size: int, path: Path) -> Slice | None:
    """The slice that starts at `offset`, or None when no Mach-O header is there."""
    head = _read_exactly(stream, offset, 4, path, "Mach-O header")
    kind = _thin_order(head)
    if kind is None:
        return None
    order, is_64 = kind
    header_size = 4 * (_HEADER_WORDS + (1 if is_64 else 0))
    header = _read_exactly(stream, offset, header_size, path, "Mach-O header")
    _magic, cputype, cpusubtype, filetype, ncmds, sizeofcmds, _flags = struct.unpack(
        order + "IiiIIII", header[: 4 * _HEADER_WORDS]
    )
    if sizeofcmds > _MAX_LOAD_COMMANDS_SIZE or header_size + sizeofcmds > size:
        raise MachOError(f"{path}: load commands ({sizeofcmds} bytes) do not fit the image")
    commands = _read_exactly(stream, offset + header_size, sizeofcmds, path, "load commands")
    return Slice(_cpu_name(cputype, cpusubtype), filetype, _minimum(commands, ncmds, order, path))


def _minimum(commands: bytes, ncmds: int, order: str, path: Path) -> Version | None:
    position = 0
    for _ in range(ncmds):
        if position + _LOAD_COMMAND > len(commands):
            raise MachOError(f"{path}: load command {position} runs past the commands' end")
        cmd, cmdsize = struct.unpack_from(order + "II", commands, position)
        if cmdsize < _LOAD_COMMAND or position + cmdsize > len(commands):
            raise MachOError(f"{path}: load command {cmd:#x} has a bad size ({cmdsize})")
        if cmd == _LC_BUILD_VERSION and cmdsize >= 16:
            platform, minos = struct.unpack_from(order + "II", commands, position + 8)
            if platform == _PLATFORM_MACOS:
                return _decode_version(minos)
        elif cmd == _LC_VERSION_MIN_MACOSX and cmdsize >= 16:
            (version,) = struct.unpack_from(order + "I", commands, position + 8)
            return _decode_version(version)
        position += cmdsize
    return None


def _read_fat(stream: BinaryIO, path: Path, file_size: int, order: str, is_64: bool) -> MachO:
    (count,) = struct.unpack(order + "I", _read_exactly(stream, 4, 4, path, "fat header"))
    if not 0 < count <= _MAX_FAT_SLICES:
        raise _NotMachO
    # fat_arch: cputype, cpusubtype, offset, size, align; fat_arch_64: 64-bit offset and size.
    entry_format = order + ("iiQQII" if is_64 else "iiIII")
    entry_size = struct.calcsize(entry_format)
    if 8 + count * entry_size > file_size:
        raise _NotMachO
    table = _read_exactly(stream, 8, count * entry_size, path, "fat table")
    slices = []
    for index in range(count):
        cputype, cpusubtype, offset, size, *_rest = struct.unpack_from(
            entry_format, table, index * entry_size
        )
        if offset < 8 + count * entry_size or offset + size > file_size:
            raise _NotMachO
        image = _read_image(stream, offset, size, path)
        slices.append(image or Slice(_cpu_name(cputype, cpusubtype), None, None))
    return MachO(path, True, tuple(slices))


class _NotMachO(Exception):
    """A fat-looking header that does not describe this file (a Java class file)."""


def read(path: Path) -> MachO | None:
    """The Mach-O file at `path`, or None when it is not one (or is not a regular file)."""
    if path.is_symlink() or not path.is_file():
        return None
    with path.open("rb") as stream:
        magic_bytes = stream.read(4)
        if len(magic_bytes) < 4:
            return None
        file_size = path.stat().st_size
        (big,) = struct.unpack(">I", magic_bytes)
        (little,) = struct.unpack("<I", magic_bytes)
        for order, magic in ((">", big), ("<", little)):
            if magic in (_FAT_MAGIC, _FAT_MAGIC_64):
                try:
                    return _read_fat(stream, path, file_size, order, magic == _FAT_MAGIC_64)
                except _NotMachO:
                    return None
        if _thin_order(magic_bytes) is None:
            return None
        image = _read_image(stream, 0, file_size, path)
        assert image is not None  # the magic number was checked above
        return MachO(path, False, (image,))
