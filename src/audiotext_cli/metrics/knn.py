"""Exact k-nearest-neighbour graphs, the shared input of NNGS, mutual kNN and CKNNA.

Search is exact and blocked: numpy sgemm over (block x block) tiles of the symmetric
similarity matrix, with a running top-k, so memory stays O(workers * block^2 + n * k +
n * d) and never O(n^2). numpy's OpenBLAS picks its AVX-512 (SkylakeX) kernel unless
OPENBLAS_CORETYPE forces another (some VMs set Haswell: about half the sgemm rate), faiss's
older bundled one only because `blas.import_faiss` names it, and faiss's flat search below
128000 queries skips BLAS altogether (perf-anchors in the project's reference notes), so
the GEMM is numpy's.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

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


def _prepare(X: np.ndarray, metric: str) -> np.ndarray:
    """float32 C-contiguous rows in the form the flat index needs.

    Euclidean rows are centred first: distances do not change, but the GEMM computes
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


def _sides(X: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(L, R) float32 rows with L[a] . R[b] = the similarity of a and b, larger is nearer.

    cosine / ip: L = R = the prepared rows. euclidean: L = [x, |x|^2/2, 1] and
    R = [x, -1, -|x|^2/2], so L[a] . R[b] = -|a - b|^2 / 2 comes out of the GEMM itself
    (halving is exact in floating point, so integer data keeps its exact ties).
    """
    Xp = _prepare(X, metric)
    if metric != "euclidean":
        return Xp, Xp
    half = 0.5 * np.einsum("ij,ij->i", Xp, Xp)[:, None]
    ones = np.ones_like(half)
    return (
        np.ascontiguousarray(np.hstack([Xp, half, ones])),
        np.ascontiguousarray(np.hstack([Xp, -ones, -half])),
    )


def _group_order(group: np.ndarray, scores: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Order by (group, score descending, id): one int64 sort, then ids within exact ties.

    The key packs the group above an order-preserving integer image of -score, so a plain
    argsort does the work of a three-key lexsort; the few runs of equal (group, score) are
    then put in id order (unfilled -inf slots may stay tied: they are interchangeable).
    """
    bits = (np.negative(scores, dtype=np.float32) + np.float32(0)).view(np.int32).astype(np.int64)
    bits = np.where(bits < 0, bits ^ 0x7FFFFFFF, bits) + 2**31  # float order -> 0..2^32-1
    key = (group.astype(np.int64) << 32) | bits
    order = np.argsort(key)
    ranked = key[order]
    tied = ranked[1:] == ranked[:-1]
    tied &= scores[order[1:]] > -np.inf  # unfilled slots tie with each other, harmlessly
    if tied.any():  # order each run of equal keys by id, leaving the rest in place
        run = np.zeros(len(key), dtype=bool)
        run[1:] |= tied
        run[:-1] |= tied
        where = np.flatnonzero(run)
        sub = order[where]
        order[where] = sub[np.lexsort((ids[sub], ranked[where]))]
    return order


BLOCK = 2048
"""Rows of a GEMM block. Diagonal blocks, multiplied whole, are then 2 % of the work at
n = 100k (4 % with 4096), a worker's buffers take 20 MiB (80), and one-thread sgemm runs
at the same rate (127-131 GFLOP per CPU-second here on 2048 and on 4096 squares)."""

PROBE_COLUMNS = 512
"""Columns of a diagonal block whose k-th best seeds each row's bar (costs n * this)."""

CHUNK_ENTRIES = 1 << 18
"""Entries of the row chunks `TopK.offer_both` compares at a time: 1 MiB of S, within L2."""

DENSE_FRACTION = 16
"""`offer_both` compares a chunk with both bars when over 1/this of it passes the lower."""


class TopK:
    """Running best-k lists of n rows, nearest first, ties broken by the smaller id.

    `merge` takes candidate (row, id, score) triples; `threshold` is each row's k-th best
    score so far, so a block only has to hand over the entries that reach it. Merges are
    serialised by a lock, so threads may offer blocks at once: a bar read while another
    thread merges is at worst low, which only lets more candidates through, and the lists
    end as the unique best k under (score, id) whatever the order of the merges.
    """

    def __init__(self, n: int, k: int) -> None:
        self.k = k
        self.scores = np.full((n, k), -np.inf, dtype=np.float32)
        self.ids = np.full((n, k), -1, dtype=np.int64)
        self._lock = threading.Lock()

    def threshold(self, rows: slice | np.ndarray) -> np.ndarray:
        """A copy of the rows' k-th best scores (a snapshot, whatever merges come later)."""
        return self.scores[rows, -1].copy()

    def merge(self, rows: np.ndarray, ids: np.ndarray, scores: np.ndarray) -> None:
        """Fold candidate triples into the lists; each (row, id) pair must be new."""
        if not len(rows):
            return
        k = self.k
        first = int(rows.min())
        present = np.bincount(rows - first) > 0
        uniq = np.flatnonzero(present) + first
        local = (np.cumsum(present) - 1)[rows - first]
        group = np.concatenate([np.repeat(np.arange(len(uniq)), k), local])
        counts = np.bincount(group, minlength=len(uniq))
        start = np.cumsum(counts) - counts
        with self._lock:  # read, rank and write back these rows' lists as one step
            all_ids = np.concatenate([self.ids[uniq].ravel(), ids])
            all_scores = np.concatenate([self.scores[uniq].ravel(), scores])
            order = _group_order(group, all_scores, all_ids)
            keep = order[(start[:, None] + np.arange(k)).ravel()]
            self.scores[uniq] = all_scores[keep].reshape(-1, k)
            self.ids[uniq] = all_ids[keep].reshape(-1, k)

    def offer(
        self,
        S: np.ndarray,
        row0: int,
        col0: int,
        mask: np.ndarray,
        floor: np.ndarray | None = None,
    ) -> None:
        """Merge the entries of block S that reach their row's k-th best score.

        S's rows are rows row0.. with ids col0.. (its columns' side is `offer_both`'s, or
        `offer(S.T, col0, row0)`). `mask` is a reused bool buffer of S's size; `floor`
        raises each row's bar, e.g. to the block's k-th.
        """
        bar = self.threshold(slice(row0, row0 + len(S)))
        if floor is not None:
            bar = np.maximum(bar, floor)
        hits = mask[: S.size].reshape(S.shape)
        np.greater_equal(S, bar[:, None], out=hits)
        r, c = np.divmod(np.flatnonzero(hits), S.shape[1])
        self.merge(r + row0, c + col0, S[r, c])

    def offer_both(self, S: np.ndarray, row0: int, col0: int, mask: np.ndarray) -> None:
        """`offer(S, row0, col0)` then `offer(S.T, col0, row0)`, in one pass over S.

        An entry must reach its row's bar or its column's, so each chunk of S's rows (in
        cache while it is read) is compared once, with the lower of the two (the column
        bars capped at the chunk's lowest row bar), and the few entries through are then
        tested against each bar exactly. A chunk with an outlying low row bar lets too
        many through; it is compared with both bars instead. The row ranges must not
        overlap (an off-diagonal block), so neither side's merge moves the other's bars
        and the result is the two offers'.
        """
        width = S.shape[1]
        row_bar = self.threshold(slice(row0, row0 + len(S)))
        col_bar = self.threshold(slice(col0, col0 + width))
        step = max(1, CHUNK_ENTRIES // width)
        found = []
        for lo in range(0, len(S), step):
            part, bar = S[lo : lo + step], row_bar[lo : lo + step, None]
            hits = mask[: part.size].reshape(part.shape)
            np.greater_equal(part, np.minimum(col_bar, bar.min()), out=hits)
            flat = np.flatnonzero(hits)
            if len(flat) * DENSE_FRACTION > part.size:  # the exact union of the two sides
                on_row = np.greater_equal(part, bar)
                np.logical_or(np.greater_equal(part, col_bar, out=hits), on_row, out=hits)
                flat = np.flatnonzero(hits)
            found.append(flat + lo * width)
        r, c = np.divmod(np.concatenate(found), width)
        values = S[r, c]
        on_row, on_col = values >= row_bar[r], values >= col_bar[c]
        self.merge(  # one merge: the two sides' rows are disjoint
            np.concatenate([r[on_row] + row0, c[on_col] + col0]),
            np.concatenate([c[on_row] + col0, r[on_col] + row0]),
            np.concatenate([values[on_row], values[on_col]]),
        )


def top_k(
    X: np.ndarray, k: int, metric: Metric = "euclidean", block: int = BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest rows of X *including itself*, nearest first (ties: smaller id).

    Returns (indices (n, k) int64, scores (n, k) float32): squared distances for euclidean,
    inner products for cosine (on l2-normalised rows) and "ip" (raw rows, platonic-rep's
    kernel). Exact, and near the GEMM floor: the similarity matrix is symmetric, so only
    blocks (i, j >= i) of `block` rows are multiplied (half the FLOPs of X X'), and each
    block feeds the lists of both its row block and, transposed, its column block.
    Diagonal blocks go first so every row starts with a k-th best score, after which a
    block hands over only the few entries that reach it (one vectorised compare per
    entry, `TopK.offer_both`), not a per-block sort.

    Blocks are shared among as many worker threads as BLAS would use, each multiplying
    and filtering whole blocks with one BLAS thread, so one core filters (single-threaded
    numpy) while the others multiply instead of all waiting for it. Every block is the
    same one-thread sgemm whatever the number of workers, so the result does not depend
    on it (nor on the merge order, see `TopK`). Memory: a reused block-sized float32 buffer
    and bool mask per worker (first-touch memory is slow), the (n, k) lists and the rows.
    """
    L, R = _sides(X, metric)
    n = len(L)
    k = min(k, n)
    best = TopK(n, k)
    side = min(block, n)
    scratch = threading.local()

    def run(pair: tuple[int, int]) -> None:
        i, j = pair
        if not hasattr(scratch, "buffer"):  # this worker's first block
            scratch.buffer = np.empty(side * side, dtype=np.float32)
            scratch.mask = np.empty(side * side, dtype=bool)
        a, b = L[i : i + block], R[j : j + block]
        S = np.matmul(a, b.T, out=scratch.buffer[: len(a) * len(b)].reshape(len(a), len(b)))
        if i == j:  # seed: the k best (and ties) of the first columns, then the rest
            probe, rest = S[:, : max(k, PROBE_COLUMNS)], S[:, max(k, PROBE_COLUMNS) :]
            kth = -np.partition(-probe, k - 1, axis=1)[:, k - 1] if probe.shape[1] >= k else None
            best.offer(probe, i, i, scratch.mask, floor=kth)
            best.offer(rest, i, i + probe.shape[1], scratch.mask)
        else:
            best.offer_both(S, i, j, scratch.mask)

    starts = range(0, n, block)
    diagonal = [(i, i) for i in starts]
    others = [(i, j) for pos, i in enumerate(starts) for j in starts[pos + 1 :]]
    workers = min(_blas_threads(), len(diagonal) + len(others))
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
        for pairs in (diagonal, others):  # every diagonal block first: all rows get a bar
            for _ in pool.map(run, pairs):
                pass
    scores = best.scores
    if metric == "euclidean":
        scores = np.maximum(-2 * scores, 0)
    return best.ids, scores


def _blas_threads() -> int:
    """The threads numpy's BLAS would use now (cores, OPENBLAS_NUM_THREADS, any limit)."""
    return max(
        (lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"), default=1
    )


def _self_dropped(ids: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """(n, k+1) bool keep-mask: False at each row's own id, else at its last column."""
    own = np.arange(len(ids)) if rows is None else np.asarray(rows)
    drop = ids == own[:, None]
    drop[~drop.any(axis=1), -1] = True
    return ~drop


def drop_self(ids: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """(n, k) from (n, k+1) neighbour lists of `rows` (default 0..n-1), self removed."""
    return ids[_self_dropped(ids, rows)].reshape(len(ids), k)


def knn_graph_scored(
    X: np.ndarray, k: int, metric: Metric = "euclidean", block: int = BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """`knn_graph` plus the (n, k) float32 scores of the kept edges (see `top_k`)."""
    n = len(X)
    if not 1 <= k <= n - 1:
        raise ConfigError(f"k={k} needs 1 <= k <= n-1 = {n - 1}")
    idx, scores = top_k(X, k + 1, metric, block)
    keep = _self_dropped(idx)
    return idx[keep].reshape(n, k), scores[keep].reshape(n, k)


def knn_graph(
    X: np.ndarray, k: int, metric: Metric = "euclidean", block: int = BLOCK
) -> np.ndarray:
    """(n, k) int64: row i holds the k nearest *other* rows of X, sorted nearest first.

    Self is excluded by index, not by distance, so an exact duplicate of row i is a
    neighbour at distance 0 (graph_structure's rule). We search k+1 and drop row i from
    its own list. When i is not among the k+1 (ties among duplicates, or raw inner products
    larger than |x_i|^2), the k+1 are all others and the farthest is dropped instead.
    Because rows are sorted, `graph[:, :j]` is the j-NN graph.
    """
    return knn_graph_scored(X, k, metric, block)[0]
