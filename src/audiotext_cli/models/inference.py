"""A trained checkpoint as an `Embedder`: deterministic embeddings for files, waveforms and text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from audiotext_cli.audio.io import frame_windows
from audiotext_cli.embedder import Embeddings
from audiotext_cli.models.checkpoint import load_model
from audiotext_cli.models.model import AudioTextModel, pool_windows


class TrainedEmbedder:
    """Wraps `AudioTextModel` in eval mode; windows of all waveforms are batched together,
    and each window is computed independently of its batch (BatchNorm in eval mode)."""

    def __init__(
        self, model: AudioTextModel, model_id: str, source: str, window_batch: int = 64
    ) -> None:
        self.model = model.eval()
        self.model_id = model_id
        self.source = source
        self.dim = model.cfg.embed_dim
        self.sample_rate = model.cfg.sample_rate
        self.probabilistic = model.cfg.probabilistic
        self.window_batch = window_batch
        self._text = None

    @torch.inference_mode()
    def embed_waveforms(self, waves: Sequence[np.ndarray]) -> Embeddings:
        framed = [frame_windows(w, self.sample_rate, self.model.cfg.window_seconds) for w in waves]
        if not framed:
            return self._empty()
        windows = np.concatenate([f[0] for f in framed])
        valid = np.concatenate([f[1] for f in framed])
        device = next(self.model.parameters()).device
        means, logvars = [], []
        for i in range(0, len(windows), self.window_batch):
            w = torch.from_numpy(windows[i : i + self.window_batch]).to(device)
            v = torch.from_numpy(valid[i : i + self.window_batch]).to(device)
            emb = self.model.encode_windows(w, v)
            means.append(emb.mean.float().cpu().numpy())
            if emb.logvar is not None:
                logvars.append(emb.logvar.float().cpu().numpy())
        mean = np.concatenate(means)
        logvar = np.concatenate(logvars) if logvars else None
        out_mu, out_lv, start = [], [], 0
        for win, val in framed:
            stop = start + len(win)
            mu, lv = pool_windows(
                mean[start:stop],
                None if logvar is None else logvar[start:stop],
                val.astype(np.float64),
            )
            out_mu.append(mu)
            if lv is not None:
                out_lv.append(lv)
            start = stop
        return Embeddings(np.stack(out_mu), np.stack(out_lv) if out_lv else None)

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
            return self._empty()
        return self.embed_text_features(self.text_encoder.encode(list(texts)))

    @property
    def text_encoder(self):
        if self._text is None:
            from audiotext_cli.text import load_minilm

            self._text = load_minilm()
        return self._text

    def embed_files(self, paths: Sequence[str | Path]) -> Embeddings:
        from audiotext_cli.audio.io import load_audio

        return self.embed_waveforms([load_audio(p, self.sample_rate) for p in paths])

    def _empty(self) -> Embeddings:
        return Embeddings(
            np.zeros((0, self.dim), np.float32),
            np.zeros((0, self.dim), np.float32) if self.probabilistic else None,
        )


def load_embedder(path: str | Path, device: str = "cpu") -> TrainedEmbedder:
    """Load a checkpoint folder as an `Embedder`; its model_id names the weights' content."""
    model, meta = load_model(path, device)
    model_id = f"{model.cfg.name}-{meta['weights_sha256'][:12]}"
    return TrainedEmbedder(model, model_id, str(Path(path).resolve()))
