"""Curation of audio-text pairs by a teacher, and training on them with soft labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.curate import curate
from audiotext_cli.curate.pairs import label_path, resolve_threshold
from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import ConfigError
from synthetic_corpus import tiny_train_args

runner = CliRunner()
KEYWORDS = ("short", "medium", "long", "other")


class KeywordTeacher:
    """Text -> one-hot of the first keyword it contains; audio -> a unit vector leaning to
    short/medium/long by duration with a known cosine, so every score is known by hand."""

    dim, sample_rate = 4, 16000

    def embed_texts(self, texts):
        rows = [next((i for i, k in enumerate(KEYWORDS) if k in t), 3) for t in texts]
        return Embeddings(np.eye(4, dtype=np.float32)[rows])

    def embed_waveforms(self, waves):
        out = []
        for w in waves:
            seconds = len(w) / self.sample_rate
            k = 0 if seconds < 1 else (1 if seconds < 2 else 2)
            strength = {0: 0.9, 1: 0.8, 2: 0.3}[k]  # cosine to the matching keyword
            v = np.zeros(4, np.float32)
            v[k], v[3] = strength, np.sqrt(1 - strength**2)
            out.append(v)
        return Embeddings(np.stack(out))


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("unlabelled")
    for name, seconds in (("a", 0.5), ("b", 1.5), ("c", 3.0)):
        sf.write(root / f"{name}.wav", 0.1 * np.sin(np.arange(int(16000 * seconds)) / 5), 16000)
    (root / "broken.wav").write_bytes(b"RIFF....WAVEfmt nonsense")
    return root


def test_unspecific_pairs_and_thresholds(audio_dir: Path) -> None:
    files = sorted(audio_dir.glob("*.wav"))
    texts = ["a short click", "a medium hum", "a long drone", "rain"]
    result = curate(KeywordTeacher(), files, texts, threshold=0.5)
    assert [s["path"] for s in result.skipped] == [str(audio_dir / "broken.wav")]
    np.testing.assert_allclose(
        result.scores, [0.9, 0.8, np.sqrt(1 - 0.09)], rtol=1e-5
    )  # c: "rain" wins
    assert result.kept.tolist() == [True, True, True]
    caps = {Path(r.audio).name: r.captions for r in result.records}
    assert [c["text"] for c in caps["a.wav"]] == ["a short click"] * 4
    assert caps["b.wav"][3]["text"] == "a medium hum" and caps["c.wav"][3]["text"] == "rain"
    assert result.records[0].labels == ["unlabelled"] * 3
    assert result.records[1].duration == pytest.approx(1.5)
    # quantile rule: keep the top third of three files
    top = curate(KeywordTeacher(), files, texts, keep=1 / 3)
    assert top.kept.tolist() == [False, False, True] and top.threshold == pytest.approx(
        np.sqrt(0.91)
    )
    assert top.summary()["kept"] == 1 and top.summary()["audio"] == 4


class OverflowingTeacher(KeywordTeacher):
    """A NaN vector for samples near float32's maximum, as a real front end gives."""

    def embed_waveforms(self, waves):
        emb = super().embed_waveforms(waves)
        emb.mean[[float(np.abs(w).max()) > 1e30 for w in waves]] = np.nan
        return emb


def test_a_file_with_a_nan_embedding_is_skipped_not_silently_dropped(audio_dir, tmp_path):
    """Its NaN score was neither kept nor dropped, and made the quantile threshold NaN, so
    nothing at all was kept."""
    loud = tmp_path / "loud.wav"
    sf.write(loud, np.full(1600, 3e38, np.float32), 16000, subtype="FLOAT")
    files = [*sorted(audio_dir.glob("*.wav")), loud]
    result = curate(OverflowingTeacher(), files, ["a short click", "rain"], keep=1.0)
    assert {s["path"]: s["reason"] for s in result.skipped}[str(loud)].startswith(
        "embedding is not finite"
    )
    assert np.isfinite(result.threshold) and len(result.records) == 3
    assert str(loud.resolve()) not in {r.audio for r in result.records}


def test_specific_mode_filters_the_pool_and_fills_label_paths(audio_dir: Path) -> None:
    files = sorted(audio_dir.glob("[abc].wav"))
    texts = ["a short click", "a medium hum", "a long drone", "rain"]
    labels = ["events/brief/short", "events/steady/long"]
    result = curate(
        KeywordTeacher(),
        files,
        texts,
        mode="specific",
        labels=labels,
        threshold=0.0,
        label_threshold=0.99,
    )
    assert result.n_texts_in_domain == 2  # "a medium hum" and "rain" are near no label
    by_file = {Path(r.audio).name: r for r in result.records}
    assert by_file["a.wav"].captions[3]["text"] == "a short click"
    assert by_file["a.wav"].labels == ["events", "brief", "short"]
    assert [c["text"] for c in by_file["a.wav"].captions[:3]] == ["events", "brief", "short"]
    assert by_file["c.wav"].captions[3]["text"] == "a long drone"  # rain is out of domain now
    with pytest.raises(ConfigError, match="needs downstream labels"):
        curate(KeywordTeacher(), files, texts, mode="specific")
    with pytest.raises(ConfigError, match="no caption reaches"):
        curate(
            KeywordTeacher(), files, ["rain"], mode="specific", labels=labels, label_threshold=0.5
        )


def test_helpers() -> None:
    assert label_path("dog") == ["dog"] * 3
    assert label_path("animal / dog") == ["animal", "dog", "dog"]
    with pytest.raises(ConfigError):
        label_path("a/b/c/d")
    assert resolve_threshold(np.array([0.1, 0.2, 0.3, 0.4]), None, 0.5) == pytest.approx(0.3)
    assert resolve_threshold(np.array([0.1]), 0.75, 0.5) == 0.75
    with pytest.raises(ConfigError):
        resolve_threshold(np.array([0.1]), None, 0.0)


@pytest.fixture
def shared(corpus, clap_run):
    return corpus, clap_run


def test_curate_cli_writes_a_trainable_manifest(shared, tmp_path: Path) -> None:
    corpus, run = shared
    records = read_manifest(corpus["train"])
    pool = tmp_path / "texts.txt"
    pool.write_text("\n".join(sorted({r.captions[-1]["text"] for r in records})) + "\n")
    labels = tmp_path / "labels.txt"
    labels.write_text(
        "music / tonal / a sine tone\nmusic / tonal / a square wave\n"
        "noise / broadband / a noise burst\n"
    )
    out = tmp_path / "curated.jsonl"
    audio = Path(records[0].audio).parent
    args = ["curate", "--audio", str(audio), "--texts", str(pool), "--teacher", str(run / "best")]
    args += ["--out", str(out)]
    result = runner.invoke(app, [*args, "--mode", "specific", "--labels", str(labels), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    n_audio = len(list(audio.glob("*.flac")))
    assert summary["audio"] == n_audio and summary["kept"] + summary["dropped"] == n_audio
    assert summary["kept"] == len(read_manifest(out)) >= n_audio // 2
    q = summary["score_quantiles"]
    assert q["p5"] <= q["p50"] <= q["p95"]
    assert Path(summary["histogram"]).read_bytes()[:4] == b"\x89PNG"
    curated = read_manifest(out)
    assert all(r.labels[0] in ("music", "noise") and r.split == "train" for r in curated)
    bad = runner.invoke(app, [*args, "--mode", "nope"])
    assert bad.exit_code == 2 and "--mode" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_soft_clip_training_cli(shared, tmp_path: Path) -> None:
    corpus, run = shared
    result = runner.invoke(
        app,
        tiny_train_args(
            corpus,
            tmp_path / "soft",
            "--loss",
            "soft-clip",
            "--teacher",
            str(run / "best"),
            "--epochs",
            "1",
            "--json",
        ),
    )
    assert result.exit_code == 0, result.output
    state = json.loads(result.stdout)
    assert state["global_step"] == state["steps_per_epoch"] > 0
    cfg = json.loads((tmp_path / "soft" / "last" / "config.json").read_text())
    assert cfg["train"]["loss"]["name"] == "soft-clip"


def test_soft_clip_with_beta_zero_is_clip_bit_for_bit(shared, tmp_path: Path) -> None:
    """With multi-positive targets on (the default), beta=0 leaves exactly ClipLoss's targets."""
    from audiotext_cli.models.config import load_preset
    from audiotext_cli.train.loop import train

    corpus, run = shared
    data = read_manifest(corpus["train"]), read_manifest(corpus["val"])

    def weights(name: str, loss: str, beta: float = 0.0) -> dict[str, torch.Tensor]:
        from audiotext_cli.models.config import loss_config_from

        model_cfg, cfg = load_preset("tiny")
        cfg.loss = loss_config_from({"name": loss, "beta": beta} if loss == "soft-clip" else loss)
        assert cfg.multi_positive
        teacher = run / "best" if loss == "soft-clip" else None
        train(
            *data, tmp_path / name, model_cfg, cfg, teacher=teacher, max_steps=4
        )  # last/ at step 4
        return load_file(str(tmp_path / name / "last" / "model.safetensors"))

    clip, soft0, soft3 = (
        weights("clip", "clip"),
        weights("soft0", "soft-clip"),
        weights("soft3", "soft-clip", 0.3),
    )
    assert clip.keys() == soft0.keys()
    assert all(torch.equal(clip[k], soft0[k]) for k in clip)
    assert not all(torch.equal(clip[k], soft3[k]) for k in clip)  # the teacher does change training
