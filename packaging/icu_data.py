"""Shrink Qt's ICU data library to the parts Qt uses: about 32 MB down to about 6 MB.

PySide6's wheels link QtCore against ICU, whose libicudata.so.73 carries every converter, every
locale's display names and formats, transliterators and word dictionaries. QtCore formats
numbers and dates with its own CLDR tables and speaks UTF-8/16 natively; from ICU it uses
collation (QCollator), the locale fallback structure, time zones, normalization and break
rules. Everything else goes; see `keep`.

The library holds one symbol, icudt<N>_dat: an ICU "common data" package (a header, a table of
contents sorted by name, then the items). This module parses that package, writes a smaller one
with the same header, and assembles it into a new shared library with the same soname and
symbol using binutils' `as` and `ld` (no compiler needed).

    python packaging/icu_data.py path/to/libicudata.so.73   # rewrites it in place
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_ALIGN = 16
_LOCALE_RES = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9]+)*\.res$")
# Folders of localized display names and rules that Qt never asks ICU for.
_DROPPED_TREES = ("curr/", "lang/", "region/", "unit/", "zone/", "translit/", "rbnf/")
# Files every resource tree needs to resolve fallbacks (kept even in dropped trees).
_TREE_SKELETON = ("root.res", "res_index.res", "pool.res")


def keep(name: str) -> bool:
    """Whether ICU item `name` (without the icudt<N><e>/ prefix) is kept."""
    if name.endswith(".cnv"):
        return False  # legacy code pages: Qt converts UTF-8/16/Latin-1 itself
    if name.endswith(".dict"):
        return False  # CJK, Thai, Lao, Khmer, Burmese word dictionaries (3 MB)
    for tree in _DROPPED_TREES:
        if name.startswith(tree):
            rest = name[len(tree) :]
            return rest in _TREE_SKELETON or rest.startswith("en")
    if "/" not in name and _LOCALE_RES.match(name):
        return name.startswith("en")  # locale formats: QLocale uses its own CLDR tables
    return True  # collation, break rules, normalization, time zones, fallback structure


@dataclass(frozen=True)
class Package:
    """An ICU common-data package: its header and its items, in table-of-contents order."""

    header: bytes
    items: list[tuple[str, bytes]]

    @classmethod
    def parse(cls, data: bytes) -> Package:
        header_size, magic1, magic2 = struct.unpack_from("<HBB", data, 0)
        if (magic1, magic2) != (0xDA, 0x27) or data[12:16] != b"CmnD":
            raise ValueError("not an ICU common data package (little-endian CmnD)")
        toc = data[header_size:]
        (count,) = struct.unpack_from("<I", toc, 0)
        entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
        offsets = [data_offset for _name, data_offset in entries] + [len(toc)]
        items = []
        for index, (name_offset, data_offset) in enumerate(entries):
            name = toc[name_offset : toc.index(b"\0", name_offset)].decode("ascii")
            items.append((name, toc[data_offset : offsets[index + 1]]))
        return cls(data[:header_size], items)

    def serialize(self) -> bytes:
        """The package bytes; names stay sorted, items 16-byte aligned as ICU's pkgdata does."""
        count = len(self.items)
        names = b"".join(name.encode("ascii") + b"\0" for name, _ in self.items)
        names_start = 4 + 8 * count
        data_start = _aligned(names_start + len(names))
        table, name_offset, data_offset = [], names_start, data_start
        body = bytearray()
        for name, item in self.items:
            table.append(struct.pack("<II", name_offset, data_offset))
            name_offset += len(name) + 1
            padded = item + b"\0" * (_aligned(len(item)) - len(item))
            body += padded
            data_offset += len(padded)
        toc = struct.pack("<I", count) + b"".join(table) + names
        toc += b"\0" * (data_start - len(toc))
        return self.header + toc + bytes(body)


def _aligned(size: int) -> int:
    return (size + _ALIGN - 1) // _ALIGN * _ALIGN


def _symbol(library: Path) -> tuple[str, int, int]:
    """(name, file offset, size) of the icudt*_dat symbol in an ELF shared library."""
    symbols = _tool(["readelf", "-Ws", "--dyn-syms", str(library)])
    match = re.search(
        r"\s([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+OBJECT\s+GLOBAL\s+\S+\s+(\d+)\s+(icudt\d+_dat)\b",
        symbols,
    )
    if match is None:
        raise ValueError(f"{library} has no icudt*_dat symbol")
    address, size, section, name = match.groups()
    sections = _tool(["readelf", "-SW", str(library)])
    row = re.search(rf"\[\s*{section}\]\s+\S+\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s", sections)
    if row is None:
        raise ValueError(f"{library}: section {section} not found")
    section_address, section_offset = int(row.group(1), 16), int(row.group(2), 16)
    offset = int(address, 16) - section_address + section_offset
    return name, offset, int(size, 0)


def _tool(args: list[str]) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603


def shrink(library: Path) -> tuple[int, int]:
    """Rewrite `library` with only the kept items; returns (items before, items after)."""
    name, offset, size = _symbol(library)
    soname = re.search(r"\(SONAME\).*\[(.+)\]", _tool(["readelf", "-d", str(library)]))
    if soname is None:
        raise ValueError(f"{library} has no soname")
    package = Package.parse(library.read_bytes()[offset : offset + size])
    prefix = package.items[0][0].split("/", 1)[0] + "/"
    kept = [(item, data) for item, data in package.items if keep(item.removeprefix(prefix))]
    smaller = Package(package.header, kept).serialize()
    with tempfile.TemporaryDirectory() as work:
        blob, source = Path(work, "icudata.bin"), Path(work, "icudata.s")
        obj, out = Path(work, "icudata.o"), Path(work, library.name)
        blob.write_bytes(smaller)
        source.write_text(
            "\t.section .rodata\n"
            f"\t.globl {name}\n"
            f"\t.type {name}, @object\n"
            "\t.balign 16\n"
            f"{name}:\n"
            f'\t.incbin "{blob}"\n'
            f"\t.size {name}, . - {name}\n"
            '\t.section .note.GNU-stack,"",@progbits\n'
        )
        _tool(["as", "-o", str(obj), str(source)])
        _tool(
            [
                "ld",
                "-shared",
                "-z",
                "noexecstack",
                "-soname",
                soname.group(1),
                "-o",
                str(out),
                str(obj),
            ]
        )
        library.write_bytes(out.read_bytes())
    return len(package.items), len(kept)


def main(argv: list[str]) -> int:
    for path in map(Path, argv):
        before = path.stat().st_size
        total, kept = shrink(path)
        print(
            f"{path}: {before / 1e6:.1f} MB -> {path.stat().st_size / 1e6:.1f} MB "
            f"({kept} of {total} ICU data items kept)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
