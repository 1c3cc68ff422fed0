"""HILBERT model, fitting, checkpoints, cross-validation and the feature cache."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from audiotext_cli.errors import CheckpointError, ConfigError
from audiotext_cli.hilbert.crossval import cross_validate
from audiotext_cli.hilbert.features import DocFeatures, encode_cached
from audiotext_cli.hilbert.model import Hilbert, HilbertConfig
from audiotext_cli.hilbert.train import FitConfig, fit, infer, load_checkpoint, save_checkpoint
from audiotext_cli.models.checkpoint import write_checkpoint
from audiotext_cli.models.config import apply_overrides


def synthetic(n_docs: int = 60, seed: int = 0) -> DocFeatures:
    """Label = both the audio and the text signal (dim 0) are high on average over turns."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 7, n_docs)
    offsets = np.r_[0, np.cumsum(lengths)]
    shift_a, shift_t = rng.normal(size=n_docs), rng.normal(size=n_docs)
    audio = rng.normal(size=(offsets[-1], 7)).astype(np.float32)
    text = rng.normal(size=(offsets[-1], 12)).astype(np.float32)
    for i in range(n_docs):
        audio[offsets[i] : offsets[i + 1], 0] += 2 * shift_a[i]
        text[offsets[i] : offsets[i + 1], 0] += 2 * shift_t[i]
    y = (shift_a + shift_t > 0.8).astype(np.int64)
    return DocFeatures([f"d{i}" for i in range(n_docs)], offsets, audio, text, {"binary": y}, {})


def test_forward_shapes_and_padding_does_not_leak():
    cfg = HilbertConfig(audio_dim=7, text_dim=12, n_classes=3, d=16)
    model = Hilbert(cfg).eval()
    audio, text = torch.randn(2, 5, 7), torch.randn(2, 5, 12)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    out = model(audio, text, mask)
    assert out["log_probs"].shape == (2, 3) and out["z_j"].shape == (2, 16)
    assert torch.allclose(out["gates"].sum(-1), torch.ones(2))
    audio2, text2 = audio.clone(), text.clone()
    audio2[1, 3:], text2[1, 3:] = 99.0, -99.0
    out2 = model(audio2, text2, mask)
    assert torch.allclose(out["z_j"], out2["z_j"], atol=1e-5)
    single = model(audio[1:, :3], text[1:, :3], mask[1:, :3])
    assert torch.allclose(single["z_j"], out["z_j"][1:], atol=1e-5)


@pytest.mark.parametrize("overrides", [[], ["model.head=linear", "train.losses.dual.direct=true"]])
def test_fit_learns_and_checkpoint_round_trips(tmp_path, overrides):
    feats = synthetic()
    y = feats.labels["binary"]
    cfg, run = apply_overrides(
        HilbertConfig(7, 12, d=16), FitConfig(epochs=10, batch_size=16), overrides
    )
    fitted = fit(feats, y, np.arange(60), cfg, run)
    probs = infer(fitted, feats, np.arange(60))["probs"]
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, probs[:, 1]) > 0.85
    save_checkpoint(fitted, tmp_path / "ck", {"label": "binary"})
    loaded, config = load_checkpoint(tmp_path / "ck")
    assert config["label"] == "binary"
    again = infer(loaded, feats, np.arange(60))
    assert np.allclose(again["probs"], probs, atol=1e-6)
    # the format and content hash of every audiotext checkpoint, kind "hilbert"
    from audiotext_cli.hashing import file_sha256
    from audiotext_cli.models.checkpoint import load_model, read_config

    _, meta = read_config(tmp_path / "ck", kind="hilbert")
    assert meta["weights_sha256"] == file_sha256(tmp_path / "ck" / "model.safetensors")
    with pytest.raises(CheckpointError, match="kind is 'hilbert'"):
        load_model(tmp_path / "ck")  # not a two-tower model: one line, not a crash
    old_model = meta["model"] | {"dual": "joint", "w_dual": 0.1, "w_penalty": 0.001}
    legacy = {"format": "audiotext-hilbert-1", "model": old_model, "label": "binary"}
    (tmp_path / "ck" / "config.json").write_text(json.dumps(legacy))  # written before
    assert np.allclose(
        infer(load_checkpoint(tmp_path / "ck")[0], feats, np.arange(60))["probs"], probs, atol=1e-6
    )
    (tmp_path / "ck" / "config.json").write_text('{"format": "other"}')
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "ck")


def test_cross_validation_baseline_and_hilbert(tmp_path):
    feats = synthetic(80)
    y = feats.labels["binary"]
    base = cross_validate(feats, y, "meanpool", folds=3, shuffles=2)
    assert base["auc_mean"] > 0.7 and len(base["aucs"]) == 2
    full = cross_validate(feats, y, "full", folds=3, shuffles=1, run=FitConfig(epochs=8))
    assert 0.6 < full["auc_mean"] <= 1.0
    multi = np.minimum(y + (feats.audio[feats.offsets[:-1], 1] > 1), 2)
    assert cross_validate(feats, multi, "text", folds=2, shuffles=1)["classes"] == 3
    with pytest.raises(ConfigError, match="folds need"):
        cross_validate(feats, y, "text", folds=len(y))
    with pytest.raises(ConfigError, match="unknown ablation"):
        cross_validate(feats, y, "nope")
    feats.save(tmp_path / "f.npz")
    loaded = DocFeatures.load(tmp_path / "f.npz")
    assert loaded.ids == feats.ids and np.array_equal(loaded.labels["binary"], y)


def test_feature_cache_encodes_each_content_once():
    class Counting:
        id = "count-v1"
        modality = "text"
        calls: list[int] = []

        def encode(self, items):
            self.calls.append(len(items))
            return np.array([[len(s), 1.0] for s in items], dtype=np.float32)

    enc = Counting()
    first = encode_cached(enc, ["ab", "abc", "ab"])
    second = encode_cached(enc, ["abc", "ab", "new one"])
    assert enc.calls == [3, 1]
    assert first[1].tolist() == second[0].tolist() == [3.0, 1.0]


def _fitted():
    feats = synthetic(24)
    cfg = HilbertConfig(7, 12, d=8, heads=2)
    return fit(feats, feats.labels["binary"], np.arange(24), cfg, FitConfig(epochs=1))


def test_hilbert_checkpoints_verify_their_weights_hash(tmp_path) -> None:
    save_checkpoint(_fitted(), tmp_path / "ck", {"label": "binary"})
    weights = tmp_path / "ck" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        load_checkpoint(tmp_path / "ck")


def test_a_save_replaces_a_checkpoint_but_never_another_folder(tmp_path) -> None:
    fitted = _fitted()
    save_checkpoint(fitted, tmp_path / "ck", {"label": "a"})
    save_checkpoint(fitted, tmp_path / "ck", {"label": "b"})  # a checkpoint: swapped
    assert load_checkpoint(tmp_path / "ck")[1]["label"] == "b"
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        write_checkpoint(tmp_path / "mine", {}, {})
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"
