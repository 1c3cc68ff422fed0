"""A trained checkpoint as an `Embedder`: deterministic embeddings for files, waveforms and text.

A CNN model embeds fixed windows and pools them (`models/pooling.py`). A tower model runs
the frozen tower (its block embeddings come from the per-file feature cache when the file's
content hash is known) and then its pooling + head, in passes of a fixed number of clips
of one block count (`head_rows`): what makes a clip's row identical alone or in any batch.
A model whose tower tail was fine-tuned runs the tower with that tail (`towers.aisfx`),
under its own cache key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from audiotext_cli.audio.features import num_frames, valid_frames
from audiotext_cli.audio.io import frame_windows
from audiotext_cli.embedder import Embeddings
from audiotext_cli.models.audio_encoder import frames_needed
from audiotext_cli.models.checkpoint import load_model
from audiotext_cli.models.model import AudioTextModel
from audiotext_cli.models.pooling import pool_clips, pool_features
from audiotext_cli.towers import Tower, load_tower, pool_blocks
from audiotext_cli.towers.cache import FeatureCache

HEAD_ROWS = 32  # clips per head pass (`TrainedEmbedder.embed_blocks`)
HEAD_BLOCKS = 4096  # blocks per head pass at most: a long clip runs with fewer rows


def head_rows(n_blocks: int) -> int:
    """Clips per head pass for clips of `n_blocks` blocks: a function of the count only."""
    return max(1, min(HEAD_ROWS, HEAD_BLOCKS // n_blocks))


class TrainedEmbedder:
    """Wraps `AudioTextModel` in eval mode; windows of all waveforms are batched together,
    and each window is computed independently of its batch (BatchNorm in eval mode)."""

    def __init__(
        self,
        model: AudioTextModel,
        model_id: str,
        source: str,
        window_batch: int = 64,
        tower: Tower | None = None,
    ) -> None:
        if model.uses_tower and tower is None:
            raise ValueError(f"a {model.cfg.audio_tower} model needs its tower")
        self.model = model.eval()
        self.tower = tower
        self.features = FeatureCache(tower) if tower is not None else None
        self.model_id = model_id
        self.source = source
        self.dim = model.cfg.embed_dim
        self.sample_rate = model.cfg.sample_rate
        self.probabilistic = model.cfg.probabilistic
        self.window_batch = window_batch
        self._text = None

    @torch.inference_mode()
    def _per_window(
        self,
        waves: Sequence[np.ndarray],
        encode: Callable[[Tensor, Tensor, int], list[Tensor | None]],
    ) -> tuple[list[np.ndarray | None], np.ndarray, list[int]]:
        """`encode(windows, valid samples, frames)` on the windows of all waveforms: its
        outputs in window order, the pooling weights and each waveform's window offsets.

        Windows run `window_batch` at a time among those that need the same number of
        log-mel frames (`frames_needed`: a short clip's padded window is cropped to what
        its valid tokens see), so the work follows the audio, not the window count."""
        framed = [frame_windows(w, self.sample_rate, self.model.cfg.window_seconds) for w in waves]
        windows = np.concatenate([f[0] for f in framed])
        valid = np.concatenate([f[1] for f in framed])
        cfg = self.model.frontend_cfg
        total = num_frames(windows.shape[1], cfg)
        need = np.array([frames_needed(int(n), total) for n in valid_frames(valid, cfg)])
        device = next(self.model.parameters()).device
        outputs: list[np.ndarray | None] = []
        for frames in np.unique(need):
            same = np.flatnonzero(need == frames)
            for start in range(0, len(same), self.window_batch):
                rows = same[start : start + self.window_batch]
                w = torch.from_numpy(windows[rows]).to(device)
                v = torch.from_numpy(valid[rows]).to(device)
                outs = encode(w, v, int(frames))
                outputs = outputs or [_rows_like(t, len(windows)) for t in outs]
                for out, t in zip(outputs, outs, strict=True):
                    if out is not None and t is not None:
                        out[rows] = t.float().cpu().numpy()
        offsets = np.cumsum([0] + [len(f[0]) for f in framed]).tolist()
        return outputs, valid.astype(np.float64), offsets

    @property
    def caches_content(self) -> bool:
        """Whether `embed_waveforms` takes `content_keys` (`embedder.embed_contents`): a
        tower model whose tower is worth caching (`Tower.caches_jobs`)."""
        return self.features is not None and bool(getattr(self.tower, "caches_jobs", True))

    def embed_waveforms(
        self, waves: Sequence[np.ndarray], content_keys: Sequence[str] | None = None
    ) -> Embeddings:
        """`content_keys` (the files' sha256, when known) let a tower model reuse and fill
        the feature cache; a CNN model ignores them."""
        if not waves:
            return self._empty()
        if self.tower is not None:
            return self.embed_blocks(self.tower_blocks(waves, content_keys))

        def encode(w: Tensor, v: Tensor, frames: int) -> list[Tensor | None]:
            emb = self.model.encode_windows(w, v, frames)
            return [emb.mean, emb.logvar]

        (mean, logvar), weights, offsets = self._per_window(waves, encode)
        return pool_clips(mean, logvar, weights, offsets)

    def tower_blocks(
        self, waves: Sequence[np.ndarray], content_keys: Sequence[str] | None = None
    ) -> list[np.ndarray]:
        """The tower's (n_blocks, C) block embeddings per waveform, through the cache
        where `content_keys` are given."""
        assert self.tower is not None and self.features is not None
        if content_keys is None:
            return self.tower.embed_blocks(waves)
        return self.features.blocks_of_waves(waves, content_keys)

    @torch.inference_mode()
    def embed_blocks(self, per_clip: Sequence[np.ndarray]) -> Embeddings:
        """Tower block embeddings per clip -> joint embeddings, with the tower's own clip
        embeddings (unit-norm block means) beside them.

        Clips with the same block count K run together in passes of exactly `head_rows(K)`
        clips (rows past the last clip zero, dropped): a clip's row then depends only on
        its own blocks, alone or in any batch, bit for bit, and a library of short clips
        costs a few passes, not one forward per clip."""
        if not per_clip:
            return self._empty()
        device = next(self.model.parameters()).device
        tower = np.stack([pool_blocks(b) for b in per_clip])
        tower /= np.maximum(np.linalg.norm(tower, axis=1, keepdims=True), 1e-12)
        by_count: dict[int, list[int]] = {}
        for i, blocks in enumerate(per_clip):
            by_count.setdefault(len(blocks), []).append(i)
        mean = np.empty((len(per_clip), self.dim), np.float32)
        logvar = np.empty_like(mean) if self.probabilistic else None
        for k, clips in by_count.items():
            rows = head_rows(k)
            counts = torch.full((rows,), k, device=device)
            for start in range(0, len(clips), rows):
                chunk = clips[start : start + rows]
                x = np.zeros((rows, k, tower.shape[1]), np.float32)
                for j, i in enumerate(chunk):
                    x[j] = per_clip[i]
                emb = self.model.encode_audio(torch.from_numpy(x).to(device), counts)
                mean[chunk] = emb.mean[: len(chunk)].float().cpu().numpy()
                if logvar is not None and emb.logvar is not None:
                    logvar[chunk] = emb.logvar[: len(chunk)].float().cpu().numpy()
        return Embeddings(mean, logvar, tower)

    @property
    def tower_dim(self) -> int:
        """Width of the tower vectors `embed_waveforms` returns (0: no pretrained tower)."""
        return 0 if self.tower is None else self.tower.dim

    def model_inputs(self, path: str | Path) -> tuple[Tensor, Tensor]:
        """One file as `encode_audio` takes it: (windows' log-mels, valid frames) for the
        CNN, (1, K, C) blocks (from the feature cache) and (1,) count for a tower."""
        device = next(self.model.parameters()).device
        if self.features is not None:
            (blocks,) = self.features.blocks_for([path])
            return torch.from_numpy(blocks)[None].to(device), torch.tensor([len(blocks)])
        from audiotext_cli.audio.io import load_audio

        wave = load_audio(path, self.sample_rate)
        windows, valid = frame_windows(wave, self.sample_rate, self.model.cfg.window_seconds)
        with torch.inference_mode():
            logmel = self.model.logmel(torch.from_numpy(windows).to(device))
        return logmel, valid_frames(torch.from_numpy(valid), self.model.frontend_cfg).to(device)

    def audio_features(self, waves: Sequence[np.ndarray]) -> np.ndarray:
        """(n, C) pooled audio-encoder features per waveform, before any projection head,
        pooled over windows exactly as the embeddings are (what a backbone probe reads);
        for a tower, the mean of its block embeddings (the tower's own clip embedding)."""
        if self.tower is not None:
            return np.stack([pool_blocks(b) for b in self.tower.embed_blocks(waves)])
        (feats,), weights, offsets = self._per_window(
            waves, lambda w, v, frames: [self.model.audio_features(w, v, frames)]
        )
        return pool_features(feats, weights, offsets)

    def file_audio_features(self, paths: Sequence[str | Path]) -> np.ndarray:
        """`audio_features` of files; a tower model pools its cached blocks."""
        if self.features is not None:
            return np.stack([pool_blocks(b) for b in self.features.blocks_for(paths)])
        from audiotext_cli.audio.io import load_audio

        return self.audio_features([load_audio(p, self.sample_rate) for p in paths])

    def with_fresh_heads(self, seed: int) -> TrainedEmbedder:
        """The same backbones (log-mel front end, audio encoder; MiniLM is shared) under
        fresh, untrained projection heads and scalars initialised from `seed`: what the
        backbones align by chance."""
        torch.manual_seed(seed)
        fresh = AudioTextModel(self.model.cfg)
        fresh.audio_encoder.load_state_dict(self.model.audio_encoder.state_dict())
        if not fresh.uses_tower:
            fresh.logmel.load_state_dict(self.model.logmel.state_dict())
        device = next(self.model.parameters()).device
        other = TrainedEmbedder(
            fresh.to(device),
            f"{self.model_id}-random-heads-{seed}",
            self.source,
            self.window_batch,
            self.tower,
        )
        other._text = self._text
        return other

    @torch.inference_mode()
    def embed_text_features(self, features: np.ndarray) -> Embeddings:
        device = next(self.model.parameters()).device
        emb = self.model.encode_text(
            torch.from_numpy(np.ascontiguousarray(features, np.float32)).to(device)
        )
        return Embeddings(
            emb.mean.cpu().numpy(), None if emb.logvar is None else emb.logvar.cpu().numpy()
        )

    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        if not texts:
            return self._empty(audio=False)
        return self.embed_text_features(self.text_encoder.encode(list(texts)))

    @property
    def text_encoder(self):
        if self._text is None:
            from audiotext_cli.text import load_minilm

            self._text = load_minilm()
        return self._text

    def embed_files(self, paths: Sequence[str | Path]) -> Embeddings:
        """Files -> rows; a tower model reads and fills the feature cache."""
        if self.features is not None:
            return self.embed_blocks(self.features.blocks_for(paths))
        from audiotext_cli.audio.io import load_audio

        return self.embed_waveforms([load_audio(p, self.sample_rate) for p in paths])

    def _empty(self, audio: bool = True) -> Embeddings:
        return Embeddings(
            np.zeros((0, self.dim), np.float32),
            np.zeros((0, self.dim), np.float32) if self.probabilistic else None,
            np.zeros((0, self.tower_dim), np.float32) if audio and self.tower_dim else None,
        )


def _rows_like(t: Tensor | None, n: int) -> np.ndarray | None:
    """An (n, ...) float32 array for `n` windows of outputs shaped like `t`'s rows."""
    return None if t is None else np.empty((n, *t.shape[1:]), np.float32)


def load_embedder(path: str | Path, device: str = "cpu") -> TrainedEmbedder:
    """Load a checkpoint folder as an `Embedder`; its model_id names the weights' content."""
    model, meta = load_model(path, device)
    model_id = model_id_of(model.cfg.name, meta)
    tower = (
        load_tower(model.cfg.audio_tower, device, tail=model.tower_tail)
        if model.uses_tower
        else None
    )
    return TrainedEmbedder(model, model_id, str(Path(path).resolve()), tower=tower)


def model_id_of(name: str, meta: dict) -> str:
    """A checkpoint's model id: its name and the start of its weights' sha256."""
    return f"{name}-{meta['weights_sha256'][:12]}"
