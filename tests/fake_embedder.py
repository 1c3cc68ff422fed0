"""A small deterministic Embedder for index/search tests, checkable by hand.

Audio vector = normalised [RMS, zero-crossing rate, log energies of 6 fixed frequency bands]
of the whole waveform: computed per waveform, so a batch equals its items one at a time, and
a tone's vector depends on its pitch (a tone finds itself and its neighbours in pitch).
Text vector = a unit Gaussian vector seeded by the text's hash. The probabilistic variant
adds log-variances that depend on the content too.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np

from audiotext_cli.embedder import Embeddings

BANDS_HZ = (0, 250, 500, 1000, 2000, 4000, 8000)


class FakeEmbedder:
    dim = 8
    sample_rate = 16000

    def __init__(
        self,
        probabilistic: bool = False,
        source: str = "fake.ckpt",
        model_id: str = "fake-v1",
        delay: float = 0.0,
    ) -> None:
        self.probabilistic = probabilistic
        self.source = source
        self.model_id = model_id + ("-prob" if probabilistic else "")
        self.delay = delay  # seconds per batch, to make a job slow enough to kill
        self.batches: list[int] = []  # sizes of the audio batches seen

    def embed_waveforms(self, waves: Sequence[np.ndarray]) -> Embeddings:
        self.batches.append(len(waves))
        time.sleep(self.delay)
        feats = np.stack([audio_features(w, self.sample_rate) for w in waves])
        return self._finish(feats)

    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        feats = np.stack([_text_vector(t, self.dim) for t in texts])
        return self._finish(feats)

    def _finish(self, feats: np.ndarray) -> Embeddings:
        mean = (feats / np.linalg.norm(feats, axis=1, keepdims=True)).astype(np.float32)
        if not self.probabilistic:
            return Embeddings(mean)
        logvar = (-6.0 + np.tanh(feats[:, :1] + 0.5 * feats)).astype(np.float32)  # small variances
        return Embeddings(mean, logvar)


def audio_features(wave: np.ndarray, sr: int) -> np.ndarray:
    wave = np.asarray(wave, np.float64)
    rms = np.sqrt(np.mean(wave**2)) + 1e-6
    zcr = np.mean(np.abs(np.diff(np.signbit(wave).astype(np.int8)))) + 1e-6
    power = np.abs(np.fft.rfft(wave)) ** 2
    freqs = np.fft.rfftfreq(len(wave), 1 / sr)
    bands = [
        power[(freqs >= lo) & (freqs < hi)].sum()
        for lo, hi in zip(BANDS_HZ[:-1], BANDS_HZ[1:], strict=True)
    ]
    energies = np.log1p(np.asarray(bands) / max(len(wave), 1))
    return np.concatenate([[rms, zcr * 10], energies])


def _text_vector(text: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim)
