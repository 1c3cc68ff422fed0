"""Window-to-clip pooling: the one rule every path (inference, validation, probes) uses.

A clip is cut into fixed windows (`audio.io.frame_windows`); its embedding is the
valid-duration-weighted mean of its windows', so a zero-padded last window counts for
the audio it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from audiotext_cli.embedder import Embeddings


def weighted_mean(x: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(n, D) rows -> (D,) float64 mean with weights normalised to sum 1."""
    w = weights / weights.sum()
    return (x * w[:, None]).sum(0)


def pool_windows(
    mean: np.ndarray, logvar: np.ndarray | None, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Clip embedding from its windows: weighted mean of the window means, re-normalised;
    variances are averaged with the same weights (a documented choice)."""
    mu = weighted_mean(mean, weights)
    mu = mu / max(float(np.linalg.norm(mu)), 1e-12)
    lv = None if logvar is None else np.log(weighted_mean(np.exp(logvar), weights))
    return mu.astype(np.float32), None if lv is None else lv.astype(np.float32)


def pool_clips(
    mean: np.ndarray, logvar: np.ndarray | None, weights: np.ndarray, offsets: Sequence[int]
) -> Embeddings:
    """Window embeddings of many clips, clip c owning rows offsets[c]:offsets[c + 1]."""
    mus, lvs = [], []
    for s, e in pairwise(int(o) for o in offsets):
        mu, lv = pool_windows(mean[s:e], None if logvar is None else logvar[s:e], weights[s:e])
        mus.append(mu)
        if lv is not None:
            lvs.append(lv)
    return Embeddings(np.stack(mus), np.stack(lvs) if lvs else None)


def pool_features(x: np.ndarray, weights: np.ndarray, offsets: Sequence[int]) -> np.ndarray:
    """(n_clips, C) float32 weighted means of per-window features (no normalisation)."""
    rows = [weighted_mean(x[s:e], weights[s:e]) for s, e in pairwise(int(o) for o in offsets)]
    return np.stack(rows).astype(np.float32)
