"""The fortune-interviews recipe: parsing, per-document determinism, a tiny render, resume."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from audiotext_cli.hilbert import docs_corpus as dc

QUOTES = {
    t: [f"{t} quote number {i} has exactly nine words." for i in range(5)]
    for t in dc.MARKER_TOPICS + dc.BACKGROUND_TOPICS
}


def test_parse_fortunes_cleans_and_filters():
    raw = (
        "Short one.\n%\nA quotation that is long enough to keep,\n\tspread over lines.\n"
        "\t\t-- Somebody Famous\n%\nA non-ascii caf\u00e9 quote of nine words is dropped.\n%\n"
    )
    assert dc.parse_fortunes(raw) == ["A quotation that is long enough to keep, spread over lines."]


def test_plans_are_prefix_stable_and_labels_imbalanced():
    thresholds = dc.label_thresholds()
    small = [dc.plan_document(i, 3, QUOTES, (4, 6), thresholds) for i in range(5)]
    again = [dc.plan_document(i, 3, QUOTES, (4, 6), thresholds) for i in range(5)]
    assert small == again
    big = [dc.plan_document(i, 3, QUOTES, (8, 14), thresholds) for i in range(400)]
    assert [(p.t, p.a, p.voice, p.binary) for p in small] == [
        (p.t, p.a, p.voice, p.binary) for p in big[:5]
    ]
    assert 0.08 < np.mean([p.binary for p in big]) < 0.22
    counts = np.bincount([p.multiclass for p in big], minlength=3)
    assert counts[0] > counts[1] > counts[2] > 0


def test_flat_turns_use_ssml_prosody_and_escape_text():
    assert 'range="x-low"' in dc._ssml("One. Two & three.", flat=True)
    assert "&amp;" in dc._ssml("a & b", flat=False) and "prosody" not in dc._ssml("a", False)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_render_writes_flac_meta_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(dc, "load_quotes", lambda _: QUOTES)
    monkeypatch.setattr(dc, "fortunes_dir", lambda: tmp_path)
    out = dc.build_docs(tmp_path / "c", 3, (2, 3), seed=1, workers=1)
    recs = [json.loads(x) for x in (out / "meta.jsonl").read_text().splitlines()]
    assert [r["id"] for r in recs] == ["doc00000", "doc00001", "doc00002"]
    wave, sr = sf.read(out / recs[0]["audio"])
    assert sr == 16000 and len(wave) / sr == pytest.approx(recs[0]["duration"], abs=1e-3)
    seg = recs[0]["segments"]
    assert all(a["end"] < b["start"] for a, b in zip(seg, seg[1:], strict=False))
    assert (out / "labels.csv").read_text().startswith("id,label\n")
    mtime = (out / "audio" / "doc00000.flac").stat().st_mtime_ns
    dc.build_docs(tmp_path / "c", 3, (2, 3), seed=1, workers=1)
    assert (out / "audio" / "doc00000.flac").stat().st_mtime_ns == mtime
