"""The HEAR API on a tiny checkpoint, checked against HEAR's own invariants: shapes and
attributes, batch-vs-single equality, evenly spaced timestamps at the model's hop, and the
scene embedding being the clip embedding `embed` writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from audiotext_cli import hear


@pytest.fixture(scope="module")
def model(deterministic_ckpt):
    return hear.load_model(str(deterministic_ckpt))


def _audio(model, n: int, seconds: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(n)
    t = torch.arange(int(seconds * model.sample_rate)) / model.sample_rate
    tones = torch.stack([torch.sin(2 * torch.pi * (200 + 150 * i) * t) for i in range(n)])
    return (0.3 * tones + 0.05 * torch.randn(tones.shape, generator=g)).float()


def test_attributes_and_shapes(model):
    assert model.scene_embedding_size == model.timestamp_embedding_size == model.embedder.dim
    window = model.embedder.model.cfg.window_seconds
    audio = _audio(model, 3, 2.5 * window)  # 3 windows, the last one half real
    scene = hear.get_scene_embeddings(audio, model)
    emb, stamps = hear.get_timestamp_embeddings(audio, model)
    assert scene.shape == (3, model.scene_embedding_size) and scene.dtype == torch.float32
    assert emb.shape == (3, 3, model.timestamp_embedding_size) and stamps.shape == (3, 3)
    assert torch.isfinite(emb).all() and torch.isfinite(scene).all()


def test_timestamps_are_window_centres_at_the_hop(model):
    window = model.embedder.model.cfg.window_seconds
    _, stamps = hear.get_timestamp_embeddings(_audio(model, 2, 3 * window), model)
    hop_ms = window * 1000.0
    np.testing.assert_allclose(stamps[0].numpy(), hop_ms * (np.arange(3) + 0.5), rtol=1e-6)
    assert (torch.diff(stamps, dim=1) > 0).all() and torch.equal(stamps[0], stamps[1])


def test_batch_equals_single(model):
    audio = _audio(model, 3, 1.5 * model.embedder.model.cfg.window_seconds)
    scene = hear.get_scene_embeddings(audio, model)
    emb, _ = hear.get_timestamp_embeddings(audio, model)
    for i in range(3):
        one = audio[i : i + 1]
        torch.testing.assert_close(hear.get_scene_embeddings(one, model), scene[i : i + 1])
        torch.testing.assert_close(hear.get_timestamp_embeddings(one, model)[0], emb[i : i + 1])


def test_scene_embedding_is_the_clip_embedding(model):
    audio = _audio(model, 2, 2 * model.embedder.model.cfg.window_seconds)
    clip = model.embedder.embed_waveforms(list(audio.numpy())).mean
    np.testing.assert_allclose(hear.get_scene_embeddings(audio, model).numpy(), clip, atol=1e-6)


def test_one_window_timestamp_embedding_is_the_scene_embedding(model):
    """A sound of exactly one window: pooling one window changes nothing but the norm."""
    audio = _audio(model, 1, model.embedder.model.cfg.window_seconds)
    emb, _ = hear.get_timestamp_embeddings(audio, model)
    unit = emb[0, 0] / emb[0, 0].norm()
    torch.testing.assert_close(unit, hear.get_scene_embeddings(audio, model)[0])


@pytest.mark.parametrize("shape", [(16000,), (1, 2, 16000)])
def test_wrong_ndim_is_a_value_error(model, shape):
    with pytest.raises(ValueError, match="n_sounds, n_samples"):
        hear.get_scene_embeddings(torch.zeros(shape), model)
    with pytest.raises(ValueError, match="n_sounds, n_samples"):
        hear.get_timestamp_embeddings(torch.zeros(shape), model)


def test_load_model_needs_a_checkpoint():
    with pytest.raises(ValueError, match="checkpoint"):
        hear.load_model()
