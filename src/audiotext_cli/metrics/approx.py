"""Approximate kNN graphs (an IVF join) and the measured price of the approximation.

Every point is a query and the database at once, so instead of searching an index point by
point, the search is turned into GEMMs: faiss k-means cuts the space into `nlist` cells,
each point is stored in its nearest cell and probes its `nprobe` nearest, and for each cell
one sgemm scores all points probing it against all points stored in it, feeding running
top-k lists (`knn.TopK`). Memory beyond the data: one reordered copy of the rows, the
(n, nprobe) probe table and the (n, k) lists; never O(n^2). At n = 1M, d = 512 that is
about 2 GB for the copy plus 0.2 GB, next to the 2 GB of each input space.

The graph's quality is measured, not assumed: `graph_quality` computes exact neighbour
lists for a random sample of rows (exact search of those rows against all n) and reports
the recall of the approximate lists and the NNGS error on that sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from audiotext_cli.errors import ConfigError
from audiotext_cli.metrics.knn import Metric, TopK, _sides, drop_self

TRAIN_PER_CELL = 40
"""k-means sample size per cell (faiss warns below 39)."""


@dataclass(frozen=True)
class ApproxParams:
    """nlist cells (None: 2 sqrt(n)), nprobe cells probed per point, k-means iterations."""

    nlist: int | None = None
    nprobe: int = 8
    niter: int = 5
    seed: int = 0

    def cells(self, n: int) -> int:
        return max(1, min(self.nlist or round(2 * math.sqrt(n)), n // TRAIN_PER_CELL or 1))


def approx_top_k(
    X: np.ndarray, k: int, metric: Metric = "cosine", params: ApproxParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Approximate `knn.top_k`: each row's k nearest rows (self included), nearest first.

    Scores are `knn.top_k`'s (squared distances for euclidean, inner products otherwise).
    Rows that find fewer than k candidates in their cells are padded with id -1.
    Points are sorted by home cell, so a cell is a contiguous slice: the home cell of
    every point is searched first (one small GEMM per cell, no gathers), which gives each
    point a good k-th best score; the other probed cells then only hand over the entries
    that beat it (`knn.TopK`), so no per-block sort is needed.
    """
    params = params or ApproxParams()
    L, R = _sides(X, metric)
    nlist = params.cells(len(L))
    probes = _nearest_cells(R, _centroids(R, nlist, params, metric), min(params.nprobe, nlist))
    # cells hold ~sqrt(n) points: OpenBLAS's thread hand-off costs more than such GEMMs
    # (10x on a busy 2-core box), so the cell joins run with one BLAS thread
    with threadpool_limits(1, user_api="blas"):
        return _join(L, R, probes, nlist, k, metric)


def _join(L, R, probes: np.ndarray, nlist: int, k: int, metric: str):
    """The cell-by-cell search of `approx_top_k` given each point's probed cells."""
    n, nprobe = probes.shape
    order = np.argsort(probes[:, 0], kind="stable")  # sorted position -> row
    bounds = np.searchsorted(probes[order, 0], np.arange(nlist + 1))
    Ls = L[order]
    Rs = Ls if R is L else R[order]
    best = TopK(n, k)  # rows and ids are sorted positions until the end
    mask = np.empty(int(np.diff(bounds).max()) ** 2, dtype=bool)
    for cell in range(nlist):
        lo, hi = bounds[cell], bounds[cell + 1]
        if hi > lo:
            S = Ls[lo:hi] @ Rs[lo:hi].T
            kth = -np.partition(-S, k - 1, axis=1)[:, k - 1] if hi - lo >= k else None
            best.offer(S, lo, lo, mask, floor=kth)
    visits = probes[order, 1:].ravel()  # other probed cells of each sorted position
    by_cell = np.argsort(visits, kind="stable")
    visit_bounds = np.searchsorted(visits[by_cell], np.arange(nlist + 1))
    for cell in range(nlist):
        lo, hi = bounds[cell], bounds[cell + 1]
        queries = by_cell[visit_bounds[cell] : visit_bounds[cell + 1]] // max(nprobe - 1, 1)
        if hi > lo and len(queries):
            S = Ls[queries] @ Rs[lo:hi].T
            r, c = np.nonzero(np.greater_equal(S, best.threshold(queries)[:, None]))
            best.merge(queries[r], c + lo, S[r, c])
    ids = np.full((n, k), -1, dtype=np.int64)
    ids[order] = np.where(best.ids >= 0, order[best.ids], -1)
    scores = np.empty((n, k), dtype=np.float32)
    scores[order] = best.scores
    if metric == "euclidean":
        scores = np.where(ids >= 0, np.maximum(-2 * scores, 0), np.inf).astype(np.float32)
    return ids, scores


def _centroids(R: np.ndarray, nlist: int, params: ApproxParams, metric: str) -> np.ndarray:
    """faiss k-means on TRAIN_PER_CELL * nlist sampled rows (spherical for cosine)."""
    from audiotext_cli.blas import import_faiss

    faiss = import_faiss()

    rng = np.random.default_rng(params.seed)
    sample = R[np.sort(rng.choice(len(R), min(len(R), nlist * TRAIN_PER_CELL), replace=False))]
    kmeans = faiss.Kmeans(
        R.shape[1], nlist, niter=params.niter, seed=params.seed, spherical=metric == "cosine"
    )
    kmeans.train(sample)
    return kmeans.centroids


def _nearest_cells(R: np.ndarray, centroids: np.ndarray, nprobe: int, block: int = 4096):
    """(n, nprobe) cell ids, nearest first (squared euclidean to the centroids).

    One reused score buffer: fresh GB-sized temporaries are slow to first touch here.
    """
    half = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty((len(R), nprobe), dtype=np.int64)
    buffer = np.empty((min(block, len(R)), len(centroids)), dtype=np.float32)
    for start in range(0, len(R), block):
        rows = R[start : start + block]
        S = np.matmul(rows, centroids.T, out=buffer[: len(rows)])
        S -= half  # = -|r - c|^2 / 2 + a constant per row
        part = np.argpartition(S, len(centroids) - nprobe, axis=1)[:, -nprobe:]
        rank = np.argsort(-np.take_along_axis(S, part, axis=1), axis=1, kind="stable")
        out[start : start + block] = np.take_along_axis(part, rank, axis=1)
    return out


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
