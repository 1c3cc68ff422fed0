"""Find the documents of a folder: a built corpus (meta.jsonl) or a user's recordings.

User layout: `*.flac|*.wav` long recordings, each with an optional same-stem transcript
(`.json`, `.jsonl` or `.txt`, see segment.py), plus `labels.csv` with a header `id,<name>...`:
every column after `id` is one label, its values mapped to class indices in sorted order.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from audiotext_cli.errors import ManifestError

AUDIO_SUFFIXES = (".flac", ".wav")
TRANSCRIPT_SUFFIXES = (".json", ".jsonl", ".txt")


@dataclass(frozen=True)
class Document:
    id: str
    audio: Path
    transcript: Path | None = None  # None: segments from `segments`, or from voice activity
    segments: tuple[tuple[float, float, str], ...] | None = None
    labels: dict[str, int] = field(default_factory=dict)


def _built_corpus(root: Path) -> list[Document]:
    docs = []
    for line in (root / "meta.jsonl").read_text().splitlines():
        rec = json.loads(line)
        segments = tuple((s["start"], s["end"], s["text"]) for s in rec["segments"])
        docs.append(Document(rec["id"], root / rec["audio"], None, segments, rec["labels"]))
    return docs


def read_labels(path: Path) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """labels.csv -> ({doc id: {label name: class index}}, {label name: class names})."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "id" not in rows[0] or len(rows[0]) < 2:
        raise ManifestError("needs a header 'id,<label>' and at least one row", path)
    names = [k for k in rows[0] if k != "id"]
    classes = {n: sorted({r[n] for r in rows}, key=_natural) for n in names}
    labels = {r["id"]: {n: classes[n].index(r[n]) for n in names} for r in rows}
    return labels, classes


def _natural(value: str) -> tuple:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def _user_folder(root: Path) -> list[Document]:
    labels = read_labels(root / "labels.csv")[0] if (root / "labels.csv").exists() else {}
    docs = []
    for audio in sorted(p for p in root.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES):
        transcript = next(
            (audio.with_suffix(s) for s in TRANSCRIPT_SUFFIXES if audio.with_suffix(s).exists()),
            None,
        )
        docs.append(Document(audio.stem, audio, transcript, None, labels.get(audio.stem, {})))
    if labels and (missing := sorted(set(labels) - {d.id for d in docs})):
        raise ManifestError(f"labels.csv names {len(missing)} ids without audio, e.g. {missing[0]}")
    return docs


def load_documents(root: Path) -> list[Document]:
    """The documents of a built corpus or of a folder of recordings."""
    root = Path(root)
    if not root.is_dir():
        raise ManifestError("not a folder", root)
    docs = _built_corpus(root) if (root / "meta.jsonl").exists() else _user_folder(root)
    if not docs:
        raise ManifestError("no recordings (*.flac, *.wav) and no meta.jsonl", root)
    return docs
