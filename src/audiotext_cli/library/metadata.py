"""What a file says about itself, read at embed time into the store row's `metadata`.

- every file: `name_tokens` (index/query.tokens of the file name stem) and, when the name
  follows UCS, its fields (ucs.py: catid, category, subcategory, fx_name, creator_id, ...);
- WAV: BWF bext, LIST/INFO and iXML (riff.py, hand-written: nothing maintained reads them);
- MP3 (ID3), OGG/Opus and FLAC (Vorbis comments): title, comment, genre, artist, album
  through mutagen.

Decoding metadata never fails a file: each problem is a warning string (the embed job
writes them to errors.jsonl with level "warning") and the audio still embeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audiotext_cli.index.query import tokens
from audiotext_cli.library.riff import read_wav_chunks
from audiotext_cli.library.ucs import parse_ucs_name

_TAG_NAMES = ("title", "comment", "description", "genre", "artist", "album")
_ID3_FRAMES = {"TIT2": "title", "COMM": "comment", "TCON": "genre", "TPE1": "artist"}
_ID3_FRAMES |= {"TALB": "album"}


def read_metadata(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """(metadata, warnings) for one audio file; never raises."""
    path = Path(path)
    meta: dict[str, Any] = {"name_tokens": tokens(path.stem)}
    meta |= parse_ucs_name(path.stem) or {}
    warnings: list[str] = []
    suffix = path.suffix.lower()
    if suffix in (".wav", ".wave", ".bwf"):
        chunks, warnings = read_wav_chunks(path)
        _merge(meta, chunks)
    elif suffix in (".mp3", ".ogg", ".oga", ".opus", ".flac"):
        try:
            _merge(meta, _tags(path))
        except Exception as exc:  # noqa: BLE001 -- mutagen raises many types on bad tags
            warnings.append(f"tags unreadable ({type(exc).__name__}: {exc})")
    return meta, warnings


def _merge(meta: dict[str, Any], found: dict[str, Any]) -> None:
    """File-name UCS fields win over embedded ones of the same name."""
    for key, value in found.items():
        meta.setdefault(key, value)


def _tags(path: Path) -> dict[str, str]:
    import mutagen

    audio = mutagen.File(path)
    tags = getattr(audio, "tags", None)
    if not tags:
        return {}
    out: dict[str, str] = {}
    if hasattr(tags, "getall"):  # ID3
        for frame, name in _ID3_FRAMES.items():
            values = [str(t) for f in tags.getall(frame) for t in getattr(f, "text", [])]
            if values:
                out[name] = "; ".join(v.strip() for v in values if v.strip())
        return {k: v for k, v in out.items() if v}
    for name in _TAG_NAMES:  # Vorbis comments (OGG, Opus, FLAC)
        values = tags.get(name) or []
        if values:
            out[name] = "; ".join(str(v).strip() for v in values)
    return out
