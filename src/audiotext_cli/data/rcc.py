"""Read Qt binary resource files (`.rcc`) without Qt: GCompris ships its sounds inside them.

Layout (Qt's rcc.cpp, formats 1-3): a 20-byte header `qres`, version, and the offsets of
the tree, data and names sections (big-endian u32; format 3 adds a u32 of flags). The tree
is an array of nodes, 14 bytes each in format 1 and 22 in formats 2-3 (a trailing u64
modification time): u32 name offset, u16 flags, then for a directory u32 child count and
u32 index of the first child, for a file u16 country, u16 language, u32 data offset.
Names are u16 length, u32 hash, UTF-16BE characters. Data entries are a u32 length and
the bytes; flag 1 marks zlib (Qt's qCompress: a u32 uncompressed length, then a zlib
stream), flag 4 zstd, which we do not read. pyside6-rcc can build these but not unpack
them, hence this reader.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from audiotext_cli.errors import DataBuildError

MAGIC = b"qres"
_COMPRESSED, _DIRECTORY, _ZSTD = 1, 2, 4


def read_rcc(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(resource path without the leading '/', content) for every file in the archive."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < 20 or data[:4] != MAGIC:
        raise DataBuildError("not a Qt resource file (no 'qres' header)", path)
    version, tree, payload, names = struct.unpack_from(">IIII", data, 4)
    if version not in (1, 2, 3):
        raise DataBuildError(f"unsupported rcc format version {version}", path)
    node_size = 14 if version == 1 else 22
    try:
        yield from _walk(data, path, tree, payload, names, node_size, 0, "")
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError) as exc:
        raise DataBuildError(f"corrupt Qt resource file: {exc}", path) from None


def _walk(
    data, path, tree, payload, names, node_size, index, prefix
) -> Iterator[tuple[str, bytes]]:
    base = tree + index * node_size
    name_offset, flags = struct.unpack_from(">IH", data, base)
    name = _name(data, names + name_offset) if index else ""
    here = f"{prefix}/{name}" if prefix else name
    if flags & _DIRECTORY:
        count, first = struct.unpack_from(">II", data, base + 6)
        for child in range(first, first + count):
            yield from _walk(data, path, tree, payload, names, node_size, child, here)
        return
    (offset,) = struct.unpack_from(">I", data, base + 10)
    (length,) = struct.unpack_from(">I", data, payload + offset)
    start = payload + offset + 4
    blob = data[start : start + length]
    if len(blob) != length:
        raise DataBuildError(f"entry {here} runs past the end of the file", path)
    if flags & _ZSTD:
        raise DataBuildError(f"entry {here} is zstd-compressed (not supported)", path)
    if flags & _COMPRESSED:
        blob = zlib.decompress(blob[4:])
    yield here, blob


def _name(data: bytes, at: int) -> str:
    (length,) = struct.unpack_from(">H", data, at)
    raw = data[at + 6 : at + 6 + 2 * length]
    if len(raw) != 2 * length:
        raise IndexError("name runs past the end of the file")
    return raw.decode("utf-16-be")
