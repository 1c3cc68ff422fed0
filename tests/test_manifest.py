"""Manifest schema: round trip, and every malformed line reported with file and line number."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiotext_cli.data.manifest import (
    ClipRecord,
    captions_at,
    manifest_stats,
    read_manifest,
    validate_manifest,
    write_manifest,
)
from audiotext_cli.errors import ManifestError


def _row(i: int = 0, **over) -> dict:
    row = {
        "id": f"src/clip{i}",
        "audio": f"audio/clip{i}.flac",
        "duration": 1.5,
        "sample_rate": 16000,
        "source": "src",
        "split": "train",
        "captions": [{"level": lv, "text": f"caption {lv}"} for lv in (1, 2, 3, 4)]
        + [{"level": 4, "text": "another sentence"}],
        "labels": ["music", "strings", "violin"],
        "license": "MIT",
    }
    row.update(over)
    return row


def _write(tmp_path: Path, rows: list, audio: bool = True) -> Path:
    path = tmp_path / "m.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    if audio:
        (tmp_path / "audio").mkdir(exist_ok=True)
        for r in rows:
            if isinstance(r, dict) and isinstance(r.get("audio"), str):
                (tmp_path / r["audio"]).touch()
    return path


def test_round_trip_keeps_fields_and_relative_audio(tmp_path):
    (tmp_path / "audio").mkdir()
    records = []
    for i in range(3):
        (tmp_path / "audio" / f"clip{i}.flac").touch()
        row = _row(i, audio=str(tmp_path / "audio" / f"clip{i}.flac"))
        records.append(ClipRecord(**row))
    path = write_manifest(tmp_path / "m.jsonl", records)
    stored = [json.loads(line) for line in path.read_text().splitlines()]
    assert stored[0]["audio"] == "audio/clip0.flac"
    back = read_manifest(path)
    assert back == records
    assert captions_at(back[0], 4) == ["caption 4", "another sentence"]
    assert captions_at(back[0], 1) == ["caption 1"]
    assert validate_manifest(path, check_audio=True) == []


def test_moved_corpus_still_resolves(tmp_path):
    (tmp_path / "a").mkdir()
    path = _write(tmp_path / "a", [_row()])
    moved = tmp_path / "b"
    path.parent.rename(moved)
    assert read_manifest(moved / "m.jsonl")[0].audio == str(moved / "audio" / "clip0.flac")


def _without(key: str) -> dict:
    row = _row(1)
    del row[key]
    return row


CASES = [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "expected a JSON object"),
    (_without("labels"), "missing field 'labels'"),
    (_row(1, duration="long"), "field 'duration' has type str"),
    (_row(1, sample_rate=True), "field 'sample_rate' has type bool"),
    (_row(1, captions="music"), "field 'captions' has type str"),
    (_row(1, extra=1), "unknown field(s) extra"),
    (_row(1, duration=0), "must be positive"),
    (_row(1, labels=["music", "strings"]), "labels must be 3 non-empty strings"),
    (_row(1, captions=[{"level": lv, "text": "x"} for lv in (1, 2, 3, 5)]), "outside 1..4"),
    (
        _row(1, captions=[{"level": lv, "text": "x"} for lv in (1, 2, 4)]),
        "no caption at level(s) 3",
    ),
    (_row(1, captions=[{"level": lv, "text": " "} for lv in (1, 2, 3, 4)]), "has no text"),
    (_row(1, captions=[{"level": "1", "text": "x"}]), "outside 1..4"),
    (_row(0), "duplicate id 'src/clip0' (first on line 1)"),
    (_row(1, audio="audio/missing.flac"), "audio missing"),
]


@pytest.mark.parametrize("bad,reason", CASES, ids=[c[1][:24] for c in CASES])
def test_bad_line_is_reported_with_file_and_line(tmp_path, bad, reason):
    path = _write(tmp_path, [_row(0), bad, _row(2)])
    if isinstance(bad, dict) and bad.get("audio") == "audio/missing.flac":
        (tmp_path / "audio" / "missing.flac").unlink()
    with pytest.raises(ManifestError) as err:
        read_manifest(path)
    assert str(err.value).startswith(f"{path}: line 2: ")
    assert reason in str(err.value)
    problems = validate_manifest(path, check_audio=True)
    assert len(problems) == 1 and problems[0].startswith(f"{path}:2: ")


def test_validate_lists_every_problem_and_missing_file(tmp_path):
    path = _write(tmp_path, [_row(0), "{", _row(2, labels=[]), _row(3)])
    problems = validate_manifest(path)
    assert [p.split(":")[1] for p in problems] == ["2", "3"]
    assert "manifest not found" in validate_manifest(tmp_path / "nope.jsonl")[0]
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(tmp_path / "nope.jsonl")


def test_a_symlink_loop_or_broken_link_is_a_missing_file_not_a_crash(tmp_path):
    """Resolving the audio path raised RuntimeError (symlink loop) out of read_manifest."""
    path = _write(tmp_path, [_row(0), _row(1), _row(2)])
    for name in ("clip0.flac", "clip1.flac"):
        (tmp_path / "audio" / name).unlink()
    (tmp_path / "audio" / "clip0.flac").symlink_to(tmp_path / "audio" / "clip0.flac")
    (tmp_path / "audio" / "clip1.flac").symlink_to(tmp_path / "audio" / "nowhere.flac")
    with pytest.raises(ManifestError, match="line 1: audio missing: .*clip0.flac"):
        read_manifest(path)
    problems = validate_manifest(path, check_audio=True)
    assert [p.split(":")[1] for p in problems] == ["1", "2"]
    assert problems[1].endswith(f"audio missing: {tmp_path / 'audio' / 'clip1.flac'}")


def test_an_audio_check_reports_each_unusable_file_with_its_reason(tmp_path):
    from audiotext_cli.audio.io import verify

    path = _write(tmp_path, [_row(0), _row(1)])
    sf.write(tmp_path / "audio" / "clip1.flac", np.sin(np.arange(1600) / 5) / 4, 16000)
    problems = validate_manifest(path, check_audio=True, audio_check=verify)
    clip0 = tmp_path / "audio" / "clip0.flac"
    assert problems == [f"{path}:1: audio {clip0}: empty file (0 bytes)"]
    assert validate_manifest(path, check_audio=False, audio_check=verify) == []


def test_a_file_name_that_is_not_utf8_round_trips(tmp_path):
    """`curate` wrote such a name with ensure_ascii=False: UnicodeEncodeError."""
    audio = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9 \xff.flac")))
    open(audio, "wb").close()
    path = write_manifest(tmp_path / "m.jsonl", [ClipRecord(**_row(0, audio=str(audio)))])
    assert "\\udce9" in path.read_text(encoding="utf-8")
    assert read_manifest(path)[0].audio == str(audio)


def test_write_refuses_duplicate_ids(tmp_path):
    rec = ClipRecord(**_row())
    with pytest.raises(ManifestError, match="duplicate id"):
        write_manifest(tmp_path / "m.jsonl", [rec, rec])
    assert not (tmp_path / "m.jsonl").exists()


def test_captions_at_rejects_bad_level():
    with pytest.raises(ManifestError):
        captions_at(ClipRecord(**_row()), 0)


def test_stats_counts_and_chance(tmp_path):
    rows = [_row(0), _row(1), _row(2, labels=["animal", "mammal", "dog"], split="eval")]
    records = read_manifest(_write(tmp_path, rows))
    stats = manifest_stats(records)
    assert stats["clips"] == 3 and stats["split"] == {"train": 2, "eval": 1}
    assert stats["captions_per_level"][4] == 6
    assert stats["labels"]["L1"] == {"classes": 2, "chance": 0.5, "majority": 2 / 3}
