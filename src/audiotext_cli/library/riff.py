"""Hand-written readers for the WAV chunks no maintained library reads: BWF `bext`,
`LIST/INFO` and iXML. mutagen reads ID3/Vorbis/FLAC tags but not these.

Reading never raises: a malformed chunk becomes a warning string and the other chunks
(and the audio) are still used.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, BinaryIO

MAX_CHUNK = 1 << 20  # metadata chunks larger than this are not read (a warning)
# BWF bext (EBU Tech 3285): fixed-width ASCII fields at these offsets.
_BEXT_FIELDS = (
    ("description", 0, 256),
    ("originator", 256, 32),
    ("originator_reference", 288, 32),
    ("origination_date", 320, 10),
    ("origination_time", 330, 8),
)
_INFO_NAMES = {
    b"INAM": "title",
    b"ICMT": "comment",
    b"IGNR": "genre",
    b"IART": "artist",
    b"IKEY": "keywords",
    b"ICOP": "copyright",
    b"ICRD": "date",
    b"ISBJ": "subject",
    b"IPRD": "album",
    b"ISFT": "software",
    b"IENG": "engineer",
    b"ISRC": "source",
}
_IXML_FIELDS = {
    "NOTE": "note",
    "SCENE": "scene",
    "TAKE": "take",
    "TAPE": "tape",
    "PROJECT": "project",
    "CATEGORY": "category",
    "SUBCATEGORY": "subcategory",
    "CATID": "catid",
    "FXNAME": "fx_name",
    "KEYWORDS": "keywords",
    "DESCRIPTION": "description",
}


def text(raw: bytes) -> str:
    """A NUL-padded chunk string: UTF-8 if it decodes, else Latin-1."""
    raw = raw.split(b"\0", 1)[0]
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError:
        value = raw.decode("latin-1")
    return value.strip()


def read_wav_chunks(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """(metadata, warnings) from a RIFF/WAVE file's bext, LIST/INFO and iXML chunks."""
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    try:
        with open(path, "rb") as fh:
            for cid, data in _chunks(fh, warnings):
                reader = {b"bext": _bext, b"LIST": _info, b"iXML": _ixml}[cid]
                try:
                    meta.update(reader(data))
                except (ValueError, ET.ParseError, struct.error) as exc:
                    warnings.append(f"{cid.decode()} chunk unreadable ({exc})")
    except OSError as exc:
        warnings.append(f"metadata not read ({exc})")
    return {k: v for k, v in meta.items() if v not in ("", None)}, warnings


def _chunks(fh: BinaryIO, warnings: list[str]):
    head = fh.read(12)
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return
    size = fh.seek(0, 2)
    pos = 12
    while pos + 8 <= size:
        fh.seek(pos)
        cid, length = struct.unpack("<4sI", fh.read(8))
        if cid in (b"bext", b"LIST", b"iXML"):
            if pos + 8 + length > size:
                warnings.append(f"{cid.decode('latin-1')} chunk truncated")
                return
            if length > MAX_CHUNK:
                warnings.append(f"{cid.decode('latin-1')} chunk of {length} bytes skipped")
            else:
                yield cid, fh.read(length)
        pos += 8 + length + (length & 1)


def _bext(data: bytes) -> dict[str, str]:
    if len(data) < 338:
        raise ValueError(f"{len(data)} bytes, the fields need 338")
    return {name: text(data[at : at + n]) for name, at, n in _BEXT_FIELDS}


def _info(data: bytes) -> dict[str, str]:
    if data[:4] != b"INFO":
        return {}
    out, pos = {}, 4
    while pos + 8 <= len(data):
        sid, length = struct.unpack("<4sI", data[pos : pos + 8])
        if pos + 8 + length > len(data):
            raise ValueError(f"sub-chunk {sid.decode('latin-1')!r} runs past the list")
        name = _INFO_NAMES.get(sid, "info_" + sid.decode("latin-1").strip().lower())
        out[name] = text(data[pos + 8 : pos + 8 + length])
        pos += 8 + length + (length & 1)
    return out


def _ixml(data: bytes) -> dict[str, str]:
    root = ET.fromstring(data.split(b"\0", 1)[0].strip())
    out: dict[str, str] = {}
    for element in root.iter():
        name = _IXML_FIELDS.get(element.tag.upper())
        if name and name not in out and (element.text or "").strip():
            out[f"ixml_{name}" if name in ("description", "keywords") else name] = (
                element.text.strip()
            )
    return out
