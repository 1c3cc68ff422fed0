"""Zero-shot leakage analysis: class-word stripping, random heads, probes, bootstrap, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.data.manifest import ClipRecord, read_manifest
from audiotext_cli.train.leakage import (
    PLACEHOLDER,
    bootstrap_table,
    class_words,
    probe_predictions,
    strip_class_words,
)

runner = CliRunner()


@pytest.fixture
def shared(corpus, clap_run):
    return corpus, clap_run


def _record(captions: list[tuple[int, str]]) -> ClipRecord:
    return ClipRecord(
        "x",
        "x.wav",
        1.0,
        16000,
        "s",
        "train",
        [{"level": lv, "text": t} for lv, t in captions],
        ["a", "b", "c"],
        "CC0",
    )


def test_strip_class_words_every_level() -> None:
    rec = _record(
        [
            (1, "Dogs"),
            (2, "a dog barking"),
            (3, "the Church Organ"),
            (4, "two dogs bark near a church organ, loudly"),
        ]
    )
    out = strip_class_words([rec], ["dog", "church organ", "a bell"])[0]
    assert class_words(["dog", "church organ", "a bell"]) == ["church", "organ", "bell", "dog"]
    assert [c["text"] for c in out.captions] == [
        PLACEHOLDER,
        "a barking",
        PLACEHOLDER,
        "two bark near a, loudly",
    ]
    assert [c["level"] for c in out.captions] == [1, 2, 3, 4]
    assert rec.captions[1]["text"] == "a dog barking"  # the input is not modified
    assert out.labels == rec.labels
    # whole words only: "dogma" and "organic" stay
    kept = strip_class_words([_record([(4, "dogma of organic food")])], ["dog", "organ"])[0]
    assert kept.captions[0]["text"] == "dogma of organic food"


def test_stripped_synthetic_corpus_has_no_class_word(shared) -> None:
    corpus, _ = shared
    records = read_manifest(corpus["train"])
    names = sorted({r.labels[2] for r in records})
    words = class_words(names)
    stripped = strip_class_words(records, names)
    texts = [c["text"].lower() for r in stripped for c in r.captions]
    assert not any(w in t.split() for t in texts for w in words)
    assert any("hz" in t for t in texts)  # the rest of the caption survives


def test_bootstrap_table_shares_and_intervals() -> None:
    truth = np.repeat([0, 1], 50)
    perfect = truth.copy()
    half = np.where(np.arange(100) % 2 == 0, truth, 1 - truth)  # 50% correct in each class
    table = bootstrap_table(
        {"trained": perfect, "stripped": half, "probe": 1 - truth}, truth, 2, 300
    )
    assert table["trained"]["balanced_accuracy"] == 1.0 and table["trained"]["share"] == 1.0
    assert table["stripped"]["share"] == pytest.approx(0.0)
    assert table["probe"]["share"] == pytest.approx(-1.0)
    lo, hi = table["stripped"]["accuracy_ci"]
    assert 0.35 < lo < 0.5 < hi < 0.65
    assert table["trained"]["accuracy_ci"] == [1.0, 1.0]


def test_probe_separates_separable_features() -> None:
    rng = np.random.default_rng(0)
    truth = np.repeat(np.arange(3), 8)
    centres = rng.normal(size=(3, 16)) * 5
    features = centres[truth] + rng.normal(size=(24, 16))
    preds = probe_predictions(features, truth, seed=0)
    assert (preds["audio_probe"] == truth).mean() > 0.9 and (
        preds["audio_knn"] == truth
    ).mean() > 0.9
    noise = rng.normal(size=(24, 16))
    assert (probe_predictions(noise, truth, seed=0)["audio_knn"] == truth).mean() < 0.75


def test_random_heads_keep_backbone_and_reset_heads(shared) -> None:
    from audiotext_cli.models import load_embedder

    _, run = shared
    trained = load_embedder(run / "best")
    fresh = trained.with_fresh_heads(seed=0)
    for a, b in zip(
        trained.model.audio_encoder.state_dict().values(),
        fresh.model.audio_encoder.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(a, b)
    assert not torch.equal(
        trained.model.audio_head.mean[0].weight, fresh.model.audio_head.mean[0].weight
    )
    again = trained.with_fresh_heads(seed=0)
    assert torch.equal(fresh.model.text_head.mean[0].weight, again.model.text_head.mean[0].weight)


def test_backbone_features_pool_windows_like_the_embeddings(shared) -> None:
    """`audio_features` equals the per-clip reference (the audio encoder on each clip's
    windows, duration-weighted mean) and does not depend on the batch it is in."""
    import numpy as np

    from audiotext_cli.audio.io import frame_windows, load_audio
    from audiotext_cli.models import load_embedder

    corpus, run = shared
    embedder = load_embedder(run / "best")
    waves = [load_audio(r.audio, 16000) for r in read_manifest(corpus["eval"])[:3]]
    model = embedder.model
    reference = []
    with torch.inference_mode():
        for wave in waves:
            windows, valid = frame_windows(wave, 16000, model.cfg.window_seconds)
            pooled = model.audio_features(torch.from_numpy(windows), torch.from_numpy(valid))
            weights = valid / valid.sum()
            reference.append((pooled.numpy() * weights[:, None]).sum(0))
    batched = embedder.audio_features(waves)
    np.testing.assert_allclose(batched, np.stack(reference), rtol=1e-5, atol=1e-6)
    single = np.concatenate([embedder.audio_features([w]) for w in waves])
    np.testing.assert_allclose(batched, single, rtol=1e-5, atol=1e-6)


def test_leakage_cli(shared, tmp_path: Path) -> None:
    corpus, run = shared
    args = ["leakage", str(run / "best"), "--work", str(tmp_path / "work"), "--level", "3"]
    for split in ("train", "val", "eval"):
        args += [f"--{split}", str(corpus[split])]
    result = runner.invoke(app, [*args, "--bootstrap", "200", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["retrain"]["same_as_checkpoint"] and out["reference"] == str(run / "best")
    assert set(out["stripped_words"]) == {"noise", "burst", "sine", "tone", "square", "wave"}
    block = out["levels"]["3"]
    assert block["n_classes"] == 3 and block["chance"] == pytest.approx(1 / 3)
    conds = block["conditions"]
    assert set(conds) == {
        "trained",
        "stripped",
        "random_heads",
        "audio_probe",
        "audio_knn",
        "text_only",
    }
    for c in conds.values():
        lo, hi = c["balanced_accuracy_ci"]
        assert 0 <= lo <= hi <= 1 and 0 <= c["accuracy"] <= 1
    assert (Path(out["stripped_checkpoint"]) / "model.safetensors").is_file()
    table = runner.invoke(app, [*args, "--bootstrap", "50"])  # the second run reuses the work
    assert table.exit_code == 0, table.output
    assert table.stdout.startswith("level 3: 3 classes, 9 clips, seed 0")
    assert table.stdout.count("\n") > 8  # one row per condition plus chance
