"""The HEAR 2021 API (hearbenchmark.com) for our checkpoints, so `hear-eval-kit` can score
them: `load_model`, `get_scene_embeddings`, `get_timestamp_embeddings`.

A scene embedding is the clip embedding `audiotext embed` writes (the pooled windows). The
timestamp embeddings are the model's per-window embeddings, one per `window_seconds` (4 s
for our presets) centred on the window; `_window_embeddings` is the one place that says
which frames a model has, so a tower with its own blocks (e.g. 2.32 s every 1.16 s) swaps
that function alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from audiotext_cli.audio.io import frame_windows
from audiotext_cli.models.inference import TrainedEmbedder, load_embedder


class HearModel(torch.nn.Module):
    """A loaded checkpoint with the attributes HEAR reads."""

    def __init__(self, embedder: TrainedEmbedder) -> None:
        super().__init__()
        self.embedder = embedder
        self.sample_rate = embedder.sample_rate
        self.scene_embedding_size = embedder.dim
        self.timestamp_embedding_size = embedder.dim


def load_model(model_file_path: str = "", **opts: Any) -> HearModel:
    """A checkpoint folder (e.g. RUN/best) as a HEAR model; `device="cuda"` is the one option."""
    if not model_file_path:
        raise ValueError("audiotext HEAR models need a checkpoint folder (model_file_path)")
    return HearModel(load_embedder(Path(model_file_path), opts.get("device", "cpu")))


def _sounds(audio: torch.Tensor) -> list[np.ndarray]:
    if not isinstance(audio, torch.Tensor) or audio.ndim != 2:
        shape = tuple(audio.shape) if hasattr(audio, "shape") else type(audio).__name__
        raise ValueError(f"audio must be a (n_sounds, n_samples) tensor, got {shape}")
    return list(audio.detach().cpu().float().numpy())


def get_scene_embeddings(audio: torch.Tensor, model: HearModel) -> torch.Tensor:
    """(n_sounds, n_samples) at `model.sample_rate` -> (n_sounds, scene_embedding_size)."""
    sounds = _sounds(audio)
    if not sounds:
        return torch.zeros(0, model.scene_embedding_size)
    return torch.from_numpy(model.embedder.embed_waveforms(sounds).mean)


def get_timestamp_embeddings(
    audio: torch.Tensor, model: HearModel
) -> tuple[torch.Tensor, torch.Tensor]:
    """(n_sounds, n_samples) -> embeddings (n_sounds, T, D), window centres in ms (n_sounds, T)."""
    sounds = _sounds(audio)
    if not sounds:
        size = model.timestamp_embedding_size
        return torch.zeros(0, 0, size), torch.zeros(0, 0)
    emb, centres_ms = _window_embeddings(model.embedder, sounds)
    stamps = np.broadcast_to(centres_ms, (len(sounds), len(centres_ms)))
    return torch.from_numpy(emb), torch.from_numpy(np.ascontiguousarray(stamps, np.float32))


@torch.inference_mode()
def _window_embeddings(
    embedder: TrainedEmbedder, sounds: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Equal-length sounds -> per-window embeddings (n, T, D) and window centres in ms (T,).

    Windows are the model's own non-overlapping `window_seconds` frames (the last one
    zero-padded), each embedded on its own, so a sound's result does not depend on its batch.
    A tower model's windows are the tower's blocks (2.32 s, hop 1.16 s), each embedded as a
    clip of one block.
    """
    if embedder.tower is not None:
        return _block_embeddings(embedder, sounds)
    framed = [
        frame_windows(s, embedder.sample_rate, embedder.model.cfg.window_seconds) for s in sounds
    ]
    windows = torch.from_numpy(np.concatenate([w for w, _ in framed]))
    valid = torch.from_numpy(np.concatenate([v for _, v in framed]))
    device = next(embedder.model.parameters()).device
    means = [
        embedder.model.encode_windows(
            windows[i : i + embedder.window_batch].to(device),
            valid[i : i + embedder.window_batch].to(device),
        )
        .mean.float()
        .cpu()
        for i in range(0, len(windows), embedder.window_batch)
    ]
    emb = torch.cat(means).numpy().reshape(len(sounds), len(framed[0][0]), -1)
    width = framed[0][0].shape[1]
    centres_ms = (np.arange(emb.shape[1]) + 0.5) * width / embedder.sample_rate * 1000.0
    return emb, centres_ms


def _block_embeddings(
    embedder: TrainedEmbedder, sounds: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    from audiotext_cli.audio.sfx_frontend import block_times, n_frames

    per_sound = embedder.tower_blocks(sounds)
    rows = [b[None] for blocks in per_sound for b in blocks]  # each block alone
    emb = embedder.embed_blocks(rows).mean.reshape(len(sounds), len(per_sound[0]), -1)
    centres_ms = np.asarray(block_times(n_frames(len(sounds[0])))) * 1000.0
    return emb, centres_ms
