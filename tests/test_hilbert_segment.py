"""Turn segmentation: transcripts (JSON, JSONL, txt) and voice activity with known silences."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from audiotext_cli.errors import ManifestError
from audiotext_cli.hilbert.segment import (
    Segment,
    energy_regions,
    merge_regions,
    read_transcript,
    segment_recording,
    voice_segments,
)

SR = 16000
TURNS = [(0.5, 2.0), (3.0, 4.5), (5.3, 7.5)]  # seconds of "speech"; silence elsewhere


def _bursts(turns=TURNS, total=8.5) -> np.ndarray:
    rng = np.random.default_rng(0)
    wave = 1e-4 * rng.standard_normal(int(total * SR)).astype(np.float32)
    t = np.arange(int(total * SR)) / SR
    for start, end in turns:
        on = (t >= start) & (t < end)
        # a voiced-like harmonic tone with a syllable-rate envelope
        wave[on] += (
            0.3 * np.sin(2 * np.pi * 140 * t[on]) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t[on]))
        )
    return wave


def test_energy_rule_finds_the_known_turns():
    found = voice_segments(_bursts(), SR, method="energy")
    assert len(found) == 3
    for seg, (start, end) in zip(found, TURNS, strict=True):
        assert abs(seg.start - start) < 0.05 and abs(seg.end - end) < 0.05


def test_merge_joins_short_gaps_and_drops_blips():
    assert merge_regions([(0, 1), (1.1, 2), (3, 3.05)]) == [(0, 2)]
    assert energy_regions(np.zeros(10, np.float32), SR) == []


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_silero_finds_spoken_turns():
    from audiotext_cli.hilbert.docs_corpus import speak

    gap = np.zeros(SR, np.float32)
    turns = [speak(t, "en-us", 50, 170, False) for t in ("Good morning to you all.", "It is late.")]
    wave = np.concatenate([gap, turns[0], gap, turns[1], gap])
    found = voice_segments(wave, SR, method="silero")
    assert len(found) == 2
    assert abs(found[1].start - (2 + len(turns[0]) / SR)) < 0.4


def test_transcript_formats(tmp_path):
    rows = [{"start": 0.5, "end": 2.0, "text": "a"}, {"start": 3.0, "end": 4.5, "text": "b"}]
    (tmp_path / "a.json").write_text(json.dumps({"segments": rows}))
    (tmp_path / "b.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert read_transcript(tmp_path / "a.json") == read_transcript(tmp_path / "b.jsonl") == rows
    (tmp_path / "bad.json").write_text(json.dumps([{"start": 2, "end": 1}]))
    with pytest.raises(ManifestError, match="start < end"):
        read_transcript(tmp_path / "bad.json")
    segs = segment_recording(_bursts(), SR, tmp_path / "a.json")
    assert segs[1] == Segment(3.0, 4.5, "b")


def test_plain_text_transcript_takes_times_from_voice_activity(tmp_path):
    (tmp_path / "t.txt").write_text("first turn\n\nsecond and third merged\n")
    segs = segment_recording(_bursts(), SR, tmp_path / "t.txt", vad="energy")
    assert [s.text for s in segs] == ["first turn", "second and third merged"]
    assert segs[1].start == pytest.approx(3.0, abs=0.05) and segs[1].end == pytest.approx(
        7.5, abs=0.05
    )
    (tmp_path / "many.txt").write_text("1\n2\n3\n4\n")
    with pytest.raises(ManifestError, match="4 transcript lines"):
        segment_recording(_bursts(), SR, tmp_path / "many.txt", vad="energy")


def test_silero_leaves_torch_threads_alone() -> None:
    """silero_vad sets torch to one thread when first imported; a VAD call must leave the
    process as it was (a fresh interpreter, so the import really happens)."""
    import subprocess
    import sys

    code = (
        "import numpy as np, torch; torch.set_num_threads(2);"
        "from audiotext_cli.hilbert.segment import silero_regions;"
        "silero_regions(np.zeros(16000, dtype=np.float32), 16000);"
        "print(torch.get_num_threads())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"
