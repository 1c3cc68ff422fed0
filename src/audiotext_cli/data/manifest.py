"""The corpus manifest: one JSON object per line, one line per clip.

Every reader of a corpus (training, evaluation, stats) goes through `read_manifest`, so a
bad file fails here, once, with the file and line number, not deep inside a training loop.
`audio` is stored relative to the manifest's folder so a corpus folder can be moved whole.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from audiotext_cli.atomic import utf8_json, write_text_atomic
from audiotext_cli.errors import AudiotextError, ManifestError

AudioCheck = Callable[[str], object]
"""Raises AudiotextError for a file that is not usable audio (e.g. `audio.io.verify`)."""

LEVELS = (1, 2, 3, 4)
"""Caption levels: 1 most general ("music") .. 4 the specific sentence."""

N_LABELS = 3
"""`labels` is the classification path [L1, L2, L3]; caption levels 1-3 paraphrase it."""


@dataclass
class ClipRecord:
    """One clip: where its audio is, what it is (labels) and how it is described (captions)."""

    id: str
    audio: str
    duration: float
    sample_rate: int
    source: str
    split: str
    captions: list[dict]
    labels: list[str]
    license: str

    def to_json(self, root: Path | None = None) -> str:
        """One manifest line; `audio` made relative to `root` when it lies under it."""
        row = asdict(self)
        if root is not None:
            row["audio"] = _relative(self.audio, root)
        return utf8_json(row)  # a non-UTF-8 file name is escaped, not a crash


_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "audio": (str,),
    "duration": (int, float),
    "sample_rate": (int,),
    "source": (str,),
    "split": (str,),
    "captions": (list,),
    "labels": (list,),
    "license": (str,),
}
_FIELDS = tuple(f.name for f in fields(ClipRecord))


def _relative(audio: str, root: Path) -> str:
    path = Path(audio)
    if not path.is_absolute():
        return audio
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return os.path.relpath(path, root.resolve())


def captions_at(record: ClipRecord, level: int) -> list[str]:
    """The caption paraphrases of `record` at `level` (1..4), in manifest order."""
    if level not in LEVELS:
        raise ManifestError(f"caption level {level} is outside 1..4")
    return [c["text"] for c in record.captions if c["level"] == level]


def parse_record(row: Any) -> ClipRecord:
    """Check one decoded JSON line against the schema; raise ManifestError with the reason."""
    if not isinstance(row, dict):
        raise ManifestError(f"expected a JSON object, got {type(row).__name__}")
    for name in _FIELDS:
        if name not in row:
            raise ManifestError(f"missing field {name!r}")
        value = row[name]
        if isinstance(value, bool) or not isinstance(value, _TYPES[name]):
            raise ManifestError(f"field {name!r} has type {type(value).__name__}")
    extra = sorted(set(row) - set(_FIELDS))
    if extra:
        raise ManifestError(f"unknown field(s) {', '.join(extra)}")
    if not row["id"]:
        raise ManifestError("field 'id' is empty")
    if row["duration"] <= 0 or row["sample_rate"] <= 0:
        raise ManifestError("duration and sample_rate must be positive")
    _check_labels(row["labels"])
    _check_captions(row["captions"])
    return ClipRecord(**{**row, "duration": float(row["duration"])})


def _check_labels(labels: list) -> None:
    if len(labels) != N_LABELS or not all(isinstance(x, str) and x for x in labels):
        raise ManifestError(f"labels must be {N_LABELS} non-empty strings, got {labels!r}")


def _check_captions(captions: list) -> None:
    seen = set()
    for cap in captions:
        if not isinstance(cap, dict) or set(cap) != {"level", "text"}:
            raise ManifestError(f"caption must be {{'level', 'text'}}, got {cap!r}")
        level, text = cap["level"], cap["text"]
        if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
            raise ManifestError(f"caption level {level!r} is outside 1..4")
        if not isinstance(text, str) or not text.strip():
            raise ManifestError(f"caption at level {level} has no text")
        seen.add(level)
    missing = [lv for lv in LEVELS if lv not in seen]
    if missing:
        raise ManifestError(f"no caption at level(s) {', '.join(map(str, missing))}")


def _iter_lines(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError("manifest not found", path) from None
    except UnicodeDecodeError as exc:
        raise ManifestError(f"not UTF-8 text ({exc.reason})", path) from None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield lineno, line


def _read(
    path: Path, check_audio: bool, audio_check: AudioCheck | None = None
) -> tuple[list[ClipRecord], list[tuple[int, str]]]:
    """Parse every line; return the good records and (line number, reason) per bad line."""
    records: list[ClipRecord] = []
    problems: list[tuple[int, str]] = []
    first_line: dict[str, int] = {}
    root = path.resolve().parent
    for lineno, line in _iter_lines(path):
        try:
            rec = parse_record(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append((lineno, f"invalid JSON ({exc.msg})"))
            continue
        except ManifestError as exc:
            problems.append((lineno, exc.reason))
            continue
        if rec.id in first_line:
            first = first_line[rec.id]
            problems.append((lineno, f"duplicate id {rec.id!r} (first on line {first})"))
            continue
        first_line[rec.id] = lineno
        # absolute, links not followed: a broken link is reported as itself, not its target
        rec.audio = os.path.abspath(root / rec.audio)
        problem = _audio_problem(rec.audio, audio_check) if check_audio else None
        if problem:
            problems.append((lineno, problem))
        records.append(rec)
    return records, problems


def _audio_problem(audio: str, audio_check: AudioCheck | None) -> str | None:
    """Why `audio` cannot be used: missing, or what `audio_check` says of it."""
    if not os.path.lexists(audio) or (audio_check is None and not os.path.isfile(audio)):
        return f"audio missing: {audio}"
    if audio_check is not None:
        try:
            audio_check(audio)
        except AudiotextError as exc:
            return f"audio {audio}: {exc.reason}"
    return None


def read_manifest(path: str | Path, *, check_audio: bool = True) -> list[ClipRecord]:
    """All records of a manifest, `audio` resolved to absolute paths.

    Raises ManifestError "<file>: line N: <reason>" for the first problem.
    """
    path = Path(path)
    records, problems = _read(path, check_audio)
    if problems:
        lineno, reason = problems[0]
        raise ManifestError(f"line {lineno}: {reason}", path)
    return records


def validate_manifest(
    path: str | Path, check_audio: bool = False, *, audio_check: AudioCheck | None = None
) -> list[str]:
    """Every problem in a manifest as "<file>:<line>: <reason>" (empty when it is valid).

    `check_audio`: every audio file must exist and, with `audio_check`, pass it."""
    path = Path(path)
    try:
        problems = _read(path, check_audio, audio_check)[1]
    except ManifestError as exc:
        return [str(exc)]
    return [f"{path}:{lineno}: {reason}" for lineno, reason in problems]


def write_manifest(path: str | Path, records: list[ClipRecord]) -> Path:
    """Write records atomically, `audio` relative to the manifest's folder."""
    path = Path(path)
    root = path.parent
    root.mkdir(parents=True, exist_ok=True)
    ids = set()
    for rec in records:
        if rec.id in ids:
            raise ManifestError(f"duplicate id {rec.id!r}", path)
        ids.add(rec.id)
    text = "".join(rec.to_json(root) + "\n" for rec in records)
    return write_text_atomic(path, text)


def manifest_stats(records: list[ClipRecord]) -> dict:
    """Counts per split, source, caption level and label level, plus chance rates."""
    stats: dict = {
        "clips": len(records),
        "hours": round(sum(r.duration for r in records) / 3600, 3),
        "split": dict(Counter(r.split for r in records)),
        "source": dict(Counter(r.source for r in records)),
        "captions_per_level": {
            lv: sum(1 for r in records for c in r.captions if c["level"] == lv) for lv in LEVELS
        },
        "labels": {},
    }
    for level in range(N_LABELS):
        counts = Counter(r.labels[level] for r in records)
        top = counts.most_common(1)[0][1] if counts else 0
        stats["labels"][f"L{level + 1}"] = {
            "classes": len(counts),
            "chance": 1 / len(counts) if counts else None,
            "majority": top / len(records) if records else None,
        }
    return stats
