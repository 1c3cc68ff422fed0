"""The contract between trained models and everything that consumes embeddings.

`embed folder`, `index`, `search`, `compare-spaces`, `zeroshot` and HILBERT's segment
encoders only need an object with this shape, so tests can use a small fake embedder and
users can plug in other local models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Embeddings:
    """Row-aligned embeddings: unit-norm means, per-dimension log-variances for
    probabilistic models (None for deterministic ones), and for audio embedded through a
    pretrained tower the tower's own clip embedding (unit-norm; None otherwise), which
    measures audio -> audio similarity better than the text-aligned space."""

    mean: np.ndarray  # (n, d) float32, rows L2-normalised
    logvar: np.ndarray | None = None  # (n, d) float32, log sigma^2
    tower: np.ndarray | None = None  # (n, c) float32, rows L2-normalised

    def __post_init__(self) -> None:
        if self.mean.ndim != 2:
            raise ValueError(f"mean must be (n, d), got shape {self.mean.shape}")
        if self.logvar is not None and self.logvar.shape != self.mean.shape:
            raise ValueError(f"logvar shape {self.logvar.shape} != mean shape {self.mean.shape}")
        if self.tower is not None and (self.tower.ndim != 2 or len(self.tower) != len(self.mean)):
            raise ValueError(f"tower shape {self.tower.shape} does not match {self.mean.shape}")

    def take(self, rows: np.ndarray | list[int]) -> Embeddings:
        """The same rows of every array."""
        return Embeddings(
            self.mean[rows],
            None if self.logvar is None else self.logvar[rows],
            None if self.tower is None else self.tower[rows],
        )

    def finite_rows(self) -> np.ndarray:
        """True for each row whose every array is finite: a NaN row is never found by a
        search, so it must be reported, not stored or searched with."""
        finite = np.isfinite(self.mean).all(axis=1)
        for extra in (self.logvar, self.tower):
            if extra is not None:
                finite &= np.isfinite(extra).all(axis=1)
        return finite

    @staticmethod
    def concat(parts: Sequence[Embeddings]) -> Embeddings:
        """Row-wise concatenation of parts that all have the same arrays."""

        def cat(arrays: list[np.ndarray | None]) -> np.ndarray | None:
            return None if arrays[0] is None else np.concatenate(arrays)  # type: ignore[arg-type]

        return Embeddings(
            np.concatenate([p.mean for p in parts]),
            cat([p.logvar for p in parts]),
            cat([p.tower for p in parts]),
        )

    def __len__(self) -> int:
        return self.mean.shape[0]

    @property
    def probabilistic(self) -> bool:
        return self.logvar is not None


@runtime_checkable
class Embedder(Protocol):
    """What a model must offer to embed audio and text into one space."""

    model_id: str  # stable identifier (name + content hash of the weights)
    dim: int
    sample_rate: int  # rate the waveforms passed to embed_waveforms must have
    probabilistic: bool

    def embed_waveforms(self, waves: Sequence[np.ndarray]) -> Embeddings:
        """Mono float32 waveforms at `sample_rate`, any lengths -> one row each.
        Deterministic: a waveform gives the same row alone or in any batch."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> Embeddings:
        """Captions -> one row each, in the same space as the audio."""
        ...


def embed_contents(
    embedder: Embedder, waves: Sequence[np.ndarray], sha256s: Sequence[str]
) -> Embeddings:
    """`embed_waveforms` of decoded files whose content hashes are known: an embedder that
    caches features per file content (`caches_content`, e.g. a pretrained-tower model)
    reuses what training or evaluation already computed for the same bytes."""
    if getattr(embedder, "caches_content", False):
        return embedder.embed_waveforms(waves, content_keys=sha256s)  # type: ignore[call-arg]
    return embedder.embed_waveforms(waves)


NOT_FINITE = "embedding is not finite (samples too loud for the front end?)"


def embed_audio_query(
    embedder: Embedder, wave: np.ndarray, source: str | Path | None = None
) -> Embeddings:
    """One waveform's query embedding; AudioError when it is not finite (samples near
    float32's maximum overflow a front end), which a search would answer with no hits."""
    from audiotext_cli.errors import AudioError

    query = embedder.embed_waveforms([wave])
    if not query.finite_rows().all():
        raise AudioError(NOT_FINITE, source)
    return query
