"""Approximate kNN graphs (an IVF join) and the measured price of the approximation.

Every point is a query and the database at once, so instead of searching an index point by
point, the search is turned into GEMMs: faiss k-means cuts the space into `nlist` cells,
each point is stored in its nearest cell and probes its `nprobe` nearest, and for each cell
one sgemm scores all points probing it against all points stored in it. Each (point,
probe) keeps its k best in an (n, nprobe, k) buffer, reduced to the k best at the end, so
memory is O(n * nprobe * k) beyond the data, never O(n^2).

The graph's quality is measured, not assumed: `graph_quality` computes exact neighbour
lists for a random sample of rows (exact search of those rows against all n) and reports
the recall of the approximate lists and the NNGS error on that sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from audiotext_cli.errors import ConfigError
from audiotext_cli.metrics.knn import Metric, TopK, _sides, drop_self

TRAIN_PER_CELL = 40
"""k-means sample size per cell (faiss warns below 39)."""


@dataclass(frozen=True)
class ApproxParams:
    """nlist cells (None: 2 sqrt(n)), nprobe cells probed per point, k-means iterations."""

    nlist: int | None = None
    nprobe: int = 8
    niter: int = 8
    seed: int = 0

    def cells(self, n: int) -> int:
        return max(1, min(self.nlist or round(2 * math.sqrt(n)), n // TRAIN_PER_CELL or 1))


def approx_top_k(
    X: np.ndarray, k: int, metric: Metric = "cosine", params: ApproxParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate `knn.top_k`: each row's k nearest rows (self included), nearest first.

    Scores are `knn.top_k`'s (squared distances for euclidean, inner products otherwise).
    Rows that find fewer than k candidates in their cells are padded with id -1.
    """
    import faiss

    params = params or ApproxParams()
    L, R = _sides(X, metric)
    n, d = L.shape
    nlist = params.cells(n)
    nprobe = min(params.nprobe, nlist)
    rng = np.random.default_rng(params.seed)
    sample = R[np.sort(rng.choice(n, min(n, nlist * TRAIN_PER_CELL), replace=False))]
    kmeans = faiss.Kmeans(
        d, nlist, niter=params.niter, seed=params.seed, spherical=metric == "cosine"
    )
    kmeans.train(sample)
    centroids = kmeans.centroids
    # cells in order of closeness by squared distance to the stored vector R
    probes = _nearest_cells(R, centroids, nprobe)
    home = probes[:, 0]
    order = np.argsort(home, kind="stable")  # stored points, cell by cell
    bounds = np.searchsorted(home[order], np.arange(nlist + 1))
    R_sorted = R[order]
    probe_points = np.argsort(probes.ravel(), kind="stable")  # (point, slot) pairs by cell
    probe_bounds = np.searchsorted(probes.ravel()[probe_points], np.arange(nlist + 1))
    buf_scores = np.full((n * nprobe, k), -np.inf, dtype=np.float32)
    buf_ids = np.full((n * nprobe, k), -1, dtype=np.int64)
    for cell in range(nlist):
        slots = probe_points[probe_bounds[cell] : probe_bounds[cell + 1]]
        lo, hi = bounds[cell], bounds[cell + 1]
        if not len(slots) or hi == lo:
            continue
        S = L[slots // nprobe] @ R_sorted[lo:hi].T
        m = min(k, hi - lo)
        part = np.argpartition(-S, m - 1, axis=1)[:, :m] if hi - lo > m else np.tile(
            np.arange(hi - lo), (len(slots), 1)
        )
        buf_scores[slots, :m] = np.take_along_axis(S, part, axis=1)
        buf_ids[slots, :m] = order[lo + part]
    return _reduce(buf_scores.reshape(n, -1), buf_ids.reshape(n, -1), k, metric)


def _nearest_cells(R: np.ndarray, centroids: np.ndarray, nprobe: int, block: int = 65536):
    """(n, nprobe) cell ids, nearest first (squared euclidean to the centroids)."""
    half = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty((len(R), nprobe), dtype=np.int64)
    for start in range(0, len(R), block):
        S = R[start : start + block] @ centroids.T - half  # = -|r - c|^2 / 2 + const
        part = np.argpartition(-S, nprobe - 1, axis=1)[:, :nprobe]
        rank = np.argsort(-np.take_along_axis(S, part, axis=1), axis=1, kind="stable")
        out[start : start + block] = np.take_along_axis(part, rank, axis=1)
    return out


def _reduce(scores: np.ndarray, ids: np.ndarray, k: int, metric: str):
    """The k best of each row's nprobe * k candidates (ties by id), in `top_k`'s units."""
    best = TopK(len(scores), k)
    rows = np.repeat(np.arange(len(scores)), scores.shape[1])
    real = ids.ravel() >= 0
    best.merge(rows[real], ids.ravel()[real], scores.ravel()[real])
    out = best.scores
    if metric == "euclidean":
        out = np.where(best.ids >= 0, np.maximum(-2 * out, 0), np.inf).astype(np.float32)
    return best.ids, out


def approx_knn_graph(
    X: np.ndarray, k: int, metric: Metric = "cosine", params: ApproxParams | None = None
) -> np.ndarray:
    """Approximate `knn.knn_graph`: (n, k) nearest other rows, self dropped the same way."""
    if not 1 <= k <= len(X) - 1:
        raise ConfigError(f"k={k} needs 1 <= k <= n-1 = {len(X) - 1}")
    return drop_self(approx_top_k(X, k + 1, metric, params)[0], k)


def exact_rows(X: np.ndarray, rows: np.ndarray, k: int, metric: Metric, block: int = 8192):
    """Exact k nearest other rows for the given rows only: (len(rows), k), ties by id."""
    L, R = _sides(X, metric)
    best = TopK(len(rows), k + 1)
    Q = L[rows]
    mask = np.empty(len(rows) * block, dtype=bool)
    for start in range(0, len(R), block):
        S = Q @ R[start : start + block].T
        first = start == 0 and S.shape[1] > k
        kth = -np.partition(-S, k, axis=1)[:, k] if first else None  # seeds the bar
        best.offer(S, 0, start, mask, floor=kth)
    return drop_self(best.ids, k, rows)


def graph_quality(
    X: np.ndarray,
    Y: np.ndarray,
    GX: np.ndarray,
    GY: np.ndarray,
    metric: Metric,
    sample: int = 1000,
    seed: int = 0,
) -> dict:
    """Recall of approximate graphs GX, GY and their NNGS error, on `sample` random rows.

    recall = mean |approx(i) & exact(i)| / k; nngs_error = mean over the sampled rows of
    J_approx(i) - J_exact(i), an unbiased estimate of NNGS(approx) - NNGS(exact), with its
    standard error.
    """
    from audiotext_cli.metrics.nngs import jaccard_per_item, overlap_counts

    n, k = GX.shape
    rows = np.sort(np.random.default_rng(seed).choice(n, min(sample, n), replace=False))
    EX, EY = exact_rows(X, rows, k, metric), exact_rows(Y, rows, k, metric)
    diff = jaccard_per_item(GX[rows], GY[rows]) - jaccard_per_item(EX, EY)
    return {
        "sample": len(rows),
        "recall_a": float(overlap_counts(GX[rows], EX).mean() / k),
        "recall_b": float(overlap_counts(GY[rows], EY).mean() / k),
        "nngs_sample_exact": float(jaccard_per_item(EX, EY).mean()),
        "nngs_error": float(diff.mean()),
        "nngs_error_se": float(diff.std(ddof=1) / math.sqrt(len(rows))) if len(rows) > 1 else 0.0,
    }
