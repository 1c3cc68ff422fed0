"""Exact k-nearest-neighbour graphs, the shared input of NNGS, mutual kNN and CKNNA.

Search is exact (faiss flat indexes) in query blocks, so memory stays O(block * k + n * d)
and never O(n^2). faiss 1.15 only takes its BLAS (GEMM) path for >= 128000 queries; below
that its SIMD path is several times slower (docs: /work/shared/reference/perf-anchors.md),
so the BLAS path is forced for the duration of a search and the old settings restored.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np

from audiotext_cli.errors import ConfigError

Metric = Literal["euclidean", "cosine", "ip"]
METRICS_KNN: tuple[str, ...] = ("euclidean", "cosine", "ip")


def resolve_k(k: int | float, n: int) -> int:
    """The neighbour count for `n` points: an int is a count, a float c a fraction floor(c * n).

    This is graph_structure's rule (floor of c*n, not c*(n-1)). The result must satisfy
    1 <= k <= n - 1, since self is never a neighbour.
    """
    if isinstance(k, bool) or not isinstance(k, int | float | np.integer | np.floating):
        raise ConfigError(f"k must be an int (count) or a float (fraction of n), got {k!r}")
    if isinstance(k, float | np.floating):
        if not math.isfinite(k) or not 0 < k < 1:
            raise ConfigError(f"fractional k must lie in (0, 1), got {k}")
        count = math.floor(float(k) * n)
        if count < 1:
            raise ConfigError(f"k={k} of n={n} points rounds down to 0 neighbours; use a larger k")
    else:
        count = int(k)
    if not 1 <= count <= n - 1:
        raise ConfigError(f"k={count} needs 1 <= k <= n-1 = {n - 1} (n={n} points)")
    return count


@contextmanager
def _faiss_blas_path(faiss) -> Iterator[None]:
    """Force faiss's GEMM path for small query batches; restore the global settings after."""
    old = (faiss.cvar.distance_compute_blas_threshold, faiss.cvar.distance_compute_blas_database_bs)
    faiss.cvar.distance_compute_blas_threshold = 20
    faiss.cvar.distance_compute_blas_database_bs = 65536
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = old[0]
        faiss.cvar.distance_compute_blas_database_bs = old[1]


def _prepare(X: np.ndarray, metric: str) -> np.ndarray:
    """float32 C-contiguous rows in the form the flat index needs.

    Euclidean rows are centred first: distances do not change, but faiss computes
    |x|^2 + |y|^2 - 2 x.y in float32, which loses digits when the cloud sits far from 0.
    """
    if metric not in METRICS_KNN:
        raise ConfigError(f"unknown kNN metric {metric!r}; choose from {', '.join(METRICS_KNN)}")
    X32 = np.asarray(X, dtype=np.float32)
    if metric == "euclidean":
        X32 = X32 - X.mean(axis=0, dtype=np.float64).astype(np.float32)
    elif metric == "cosine":
        norms = np.linalg.norm(X32, axis=1, keepdims=True)
        X32 = X32 / np.where(norms > 0, norms, 1.0)
    return np.ascontiguousarray(X32)


def top_k(
    X: np.ndarray, k: int, metric: Metric = "euclidean", block: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows of X *including itself*, nearest first.

    Returns (indices (n, k) int64, scores (n, k) float32); scores are faiss's: squared
    distances for euclidean, inner products for cosine (on l2-normalised rows) and "ip"
    (raw rows, platonic-rep's kernel). Searches X against itself in blocks of `block` queries.
    """
    import faiss

    Xp = _prepare(X, metric)
    n, d = Xp.shape
    index = faiss.IndexFlatL2(d) if metric == "euclidean" else faiss.IndexFlatIP(d)
    index.add(Xp)
    idx = np.empty((n, k), dtype=np.int64)
    scores = np.empty((n, k), dtype=np.float32)
    with _faiss_blas_path(faiss):
        for start in range(0, n, block):
            stop = start + block
            scores[start:stop], idx[start:stop] = index.search(Xp[start:stop], k)
    return idx, scores


def knn_graph_scored(
    X: np.ndarray, k: int, metric: Metric = "euclidean", block: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """`knn_graph` plus the (n, k) float32 faiss scores of the kept edges (see `top_k`)."""
    n = len(X)
    if not 1 <= k <= n - 1:
        raise ConfigError(f"k={k} needs 1 <= k <= n-1 = {n - 1}")
    idx, scores = top_k(X, k + 1, metric, block)
    drop = idx == np.arange(n)[:, None]
    drop[~drop.any(axis=1), -1] = True
    keep = ~drop
    return idx[keep].reshape(n, k), scores[keep].reshape(n, k)


def knn_graph(X: np.ndarray, k: int, metric: Metric = "euclidean", block: int = 8192) -> np.ndarray:
    """(n, k) int64: row i holds the k nearest *other* rows of X, sorted nearest first.

    Self is excluded by index, not by distance, so an exact duplicate of row i is a
    neighbour at distance 0 (graph_structure's rule). We search k+1 and drop row i from
    its own list. When i is not among the k+1 (ties among duplicates, or raw inner products
    larger than |x_i|^2), the k+1 are all others and the farthest is dropped instead.
    Because rows are sorted, `graph[:, :j]` is the j-NN graph.
    """
    return knn_graph_scored(X, k, metric, block)[0]
