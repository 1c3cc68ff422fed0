"""Models on the frozen aisfx tower: training on cached features, inference through the
feature cache, batch invariance, checkpoints without the tower, ProLAP block masks, HEAR."""

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
from audiotext_cli.data.manifest import read_manifest
from audiotext_cli.index.store import EmbeddingStore
from audiotext_cli.models.config import load_preset, loss_config_from
from audiotext_cli.train.loop import train

runner = CliRunner()


@pytest.fixture(scope="module")
def tower_run(corpus, tmp_path_factory) -> Path:
    model_cfg, train_cfg = load_preset("tiny-aisfx")
    out = tmp_path_factory.mktemp("tower") / "run"
    train(read_manifest(corpus["train"]), read_manifest(corpus["val"]), out, model_cfg, train_cfg)
    return out


@pytest.fixture(scope="module")
def embedder(tower_run):
    from audiotext_cli.models import load_embedder

    return load_embedder(tower_run / "best")


def test_checkpoint_holds_heads_not_the_frozen_tower(tower_run: Path) -> None:
    weights = load_file(str(tower_run / "best" / "model.safetensors"))
    assert not any("net." in k or "logmel" in k for k in weights)
    assert sum(t.numel() for t in weights.values()) < 100_000  # the 4.7 M tower is not in it
    assert any(k.startswith("audio_encoder.norm") for k in weights)


def test_rows_are_identical_alone_or_batched_any_rate_or_channels(embedder, tmp_path) -> None:
    rng = np.random.default_rng(0)
    waves = [(0.1 * rng.standard_normal(int(44100 * s))).astype(np.float32) for s in (0.05, 4, 9)]
    together = embedder.embed_waveforms(waves).mean
    alone = np.stack([embedder.embed_waveforms([w]).mean[0] for w in waves])
    assert np.array_equal(together, alone)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.stack([waves[1], waves[1]], 1), 44100, subtype="FLOAT")
    first = embedder.embed_files([stereo]).mean  # computes and caches
    again = embedder.embed_files([stereo]).mean  # reads the cache
    assert np.array_equal(first, again)
    assert np.array_equal(first[0], alone[1])


def test_validation_on_the_bank_equals_embedding_the_files(corpus, tower_run, embedder) -> None:
    from audiotext_cli.evaluate.run import evaluate

    history = [json.loads(line) for line in (tower_run / "log.jsonl").read_text().splitlines()]
    state = json.loads((tower_run / "best" / "config.json").read_text())["state"]
    best = history[state["best_epoch"] - 1]
    files = evaluate(embedder, read_manifest(corpus["val"]))
    for way in ("text_to_audio", "audio_to_text"):
        assert files[way]["R@5"] == pytest.approx(best["val"][way]["R@5"], abs=1e-9)


def test_embed_folder_reuses_the_features_training_computed(corpus, embedder, tmp_path) -> None:
    from audiotext_cli.index.folder import embed_folder

    calls = []
    real = embedder.tower.embed_blocks
    embedder.tower.embed_blocks = lambda waves: calls.append(len(waves)) or real(waves)
    try:
        train_files = {Path(r.audio).name for r in read_manifest(corpus["train"])}
        audio = Path(read_manifest(corpus["train"])[0].audio).parent
        report = embed_folder(embedder, audio, tmp_path / "lib.emb", workers=0)
    finally:
        embedder.tower.embed_blocks = real
    n_files = len(list(audio.glob("*.flac")))
    assert report.embedded == n_files
    # train and val features were cached by training; at most the eval split's are new
    # (other tests of the session may have cached some of those already)
    assert sum(calls) <= n_files - len(train_files) - len(read_manifest(corpus["val"]))
    # two vectors per clip: the joint one and the tower's own (unit-norm block mean)
    store = EmbeddingStore.open(tmp_path / "lib.emb")
    _, emb, rows = store.load()
    assert store.tower_dim == 512 and emb.tower.shape == (n_files, 512)
    blocks = embedder.features.blocks_for([rows[0]["path"]])[0]
    expected = blocks.mean(0) / np.linalg.norm(blocks.mean(0))
    np.testing.assert_allclose(emb.tower[0], expected, atol=1e-6)
    assert np.array_equal(emb.mean[0], embedder.embed_files([rows[0]["path"]]).mean[0])


def test_tag_write_keeps_the_tower_vectors(corpus, tower_run, tmp_path) -> None:
    audio = Path(read_manifest(corpus["train"])[0].audio).parent
    store_dir = tmp_path / "lib.emb"
    embed = ["embed", "folder", str(audio), "--model", str(tower_run / "best"), "--out"]
    assert runner.invoke(app, [*embed, str(store_dir), "--workers", "0"]).exit_code == 0
    _, before, _ = EmbeddingStore.open(store_dir).load()
    (tmp_path / "labels.txt").write_text("a sine tone\na noise burst\n")
    tag = ["tag", str(store_dir), "--labels", str(tmp_path / "labels.txt"), "--top", "1"]
    result = runner.invoke(app, [*tag, "--write"])
    assert result.exit_code == 0, result.output  # was: tower vectors of width 0
    _, after, rows = EmbeddingStore.open(store_dir).load()
    assert np.array_equal(after.tower, before.tower) and np.array_equal(after.mean, before.mean)
    assert all(len(row["tags"]) == 1 for row in rows)


def test_prolap_on_the_tower_masks_blocks(corpus, tmp_path) -> None:
    from audiotext_cli.models.model import AudioTextModel

    model_cfg, train_cfg = load_preset("tiny-aisfx")
    model_cfg.probabilistic, train_cfg.loss = True, loss_config_from("prolap")
    train_cfg.epochs = 1
    val = read_manifest(corpus["val"])
    train(read_manifest(corpus["train"]), val, tmp_path / "run", model_cfg, train_cfg)
    from audiotext_cli.models import load_embedder
    from audiotext_cli.prolap.inclusion_stats import audio_inclusion

    stats = audio_inclusion(load_embedder(tmp_path / "run" / "best"), val, n_masks=2, seed=0)
    assert stats["pairs"] > 0  # clips of 2+ blocks had blocks masked
    model = AudioTextModel(model_cfg).eval()
    blocks, n = torch.randn(2, 5, 512), torch.tensor([5, 3])
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[0, 1:] = True
    with torch.no_grad():
        full, masked = model.encode_audio(blocks, n), model.encode_audio(blocks, n, mask)
        only_first = model.encode_audio(blocks[:1, :1], torch.tensor([1]))
    assert torch.allclose(masked.mean[0], only_first.mean[0], atol=1e-6)  # masked blocks drop
    assert torch.allclose(masked.mean[1], full.mean[1])  # padding blocks never count
    assert model.mask_units(blocks) == 5
    assert model.valid_units(n).tolist() == [5, 3]


def test_hear_timestamps_follow_the_blocks(tower_run) -> None:
    from audiotext_cli import hear

    model = hear.load_model(str(tower_run / "best"))
    audio = torch.from_numpy(np.random.default_rng(1).standard_normal((2, 44100 * 5))).float()
    emb, stamps = hear.get_timestamp_embeddings(0.1 * audio, model)
    assert emb.shape[:2] == stamps.shape and emb.shape[0] == 2
    steps = np.diff(stamps[0].numpy())  # hop 50 frames; the extra last block ends on the end
    np.testing.assert_allclose(steps[:-1], 50 * 1024 / 44100 * 1000, rtol=1e-6)
    assert 0 < steps[-1] <= steps[0]
    one, _ = hear.get_timestamp_embeddings(0.1 * audio[:1], model)
    assert torch.equal(one[0], emb[0])


def test_cli_picks_the_tower_and_rejects_unknown_ones(corpus, tmp_path) -> None:
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "r"), "--audio-tower", "bogus"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    args = ["train", "--train", str(corpus["train"]), "--val", str(corpus["val"])]
    args += ["--preset", "tiny", "--audio-tower", "aisfx", "--out", str(tmp_path / "run")]
    result = runner.invoke(app, [*args, "--epochs", "1"])
    assert result.exit_code == 0, result.output
    cfg = json.loads((tmp_path / "run" / "best" / "config.json").read_text())["model"]
    assert (cfg["audio_tower"], cfg["sample_rate"]) == ("aisfx", 44100)


def test_info_model_names_the_tower_its_hash_and_licences(tower_run) -> None:
    result = runner.invoke(app, ["info", "--model", str(tower_run / "best"), "--format", "json"])
    assert result.exit_code == 0, result.output
    card = json.loads(result.output)
    assert card["audio_tower"] == "aisfx" and card["sample_rate"] == 44100
    assert card["audio_tower_weights_sha256"].startswith("499ea75909c9")
    assert "MIT" in card["audio_tower_source"] and "CC BY 4.0" in card["audio_tower_source"]
    assert "Apache-2.0" in card["text_tower"]
    assert runner.invoke(app, ["info"]).exit_code == 2
