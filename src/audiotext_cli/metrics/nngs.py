"""NNGS, nearest-neighbour graph similarity (Tavares, Ayres, Smaragdis, arXiv 2411.08687).

For row-aligned spaces X (n, d1) and Y (n, d2), build each space's directed kNN graph
(k nearest *other* items) and average, over items, the Jaccard index of the item's two
neighbour sets: J_i = |N_X(i) & N_Y(i)| / |N_X(i) | N_Y(i)| = m_i / (2k - m_i).
NNGS is in [0, 1]; it is 1 for identical graphs and trivially 1 at k = n - 1.
It depends only on neighbour *sets*, so it is invariant to whatever leaves the kNN graphs
unchanged: rotation and isotropic scaling of either space (both metrics), translation
(euclidean only; cosine neighbours change when the origin moves), and any monotone
rescaling of distances.
"""

from __future__ import annotations

import math

import numpy as np

from audiotext_cli.metrics.knn import Metric, knn_graph, resolve_k


def overlap_counts(GA: np.ndarray, GB: np.ndarray, block: int = 65536) -> np.ndarray:
    """(n,) int64: m_i = |GA[i] & GB[i]| for two (n, k) neighbour lists without repeats.

    Each row's entries are distinct, so after sorting the 2k entries of GA[i] and GB[i]
    together the shared items are exactly the equal adjacent pairs: O(n k log k) time and
    O(block * k) memory, instead of Python sets or an (n, k, k) comparison.
    """
    if GA.shape != GB.shape:
        raise ValueError(f"neighbour graphs differ in shape: {GA.shape} vs {GB.shape}")
    n = len(GA)
    out = np.empty(n, dtype=np.int64)
    for start in range(0, n, block):
        both = np.sort(np.concatenate([GA[start : start + block], GB[start : start + block]], 1))
        out[start : start + block] = (both[:, 1:] == both[:, :-1]).sum(axis=1)
    return out


def jaccard_per_item(GA: np.ndarray, GB: np.ndarray) -> np.ndarray:
    """(n,) float64 Jaccard index of each item's neighbour sets in two k-NN graphs."""
    k = GA.shape[1]
    m = overlap_counts(GA, GB)
    return m / (2 * k - m)


def nngs_per_item(
    X: np.ndarray, Y: np.ndarray, k: int | float, metric: Metric = "euclidean"
) -> np.ndarray:
    """(n,) float64 per-item NNGS J_i (see module docstring); k as in `resolve_k`."""
    kk = resolve_k(k, len(X))
    return jaccard_per_item(knn_graph(X, kk, metric), knn_graph(Y, kk, metric))


def nngs(X: np.ndarray, Y: np.ndarray, k: int | float, metric: Metric = "euclidean") -> float:
    """NNGS = mean over items of J_i, the Jaccard index of the two k-NN sets of item i."""
    return float(nngs_per_item(X, Y, k, metric).mean())


def nngs_chance(n: int, k: int) -> float:
    """The authors' chance level H(k) = k / (2N - k), N = n - 1 candidate neighbours.

    It plugs the hypergeometric mean E[m] = k^2 / N into m / (2k - m): a ratio of
    expectations, slightly below the exact expected Jaccard (`nngs_chance_exact`).
    """
    big_n = n - 1
    return k / (2 * big_n - k)


def nngs_chance_exact(n: int, k: int) -> float:
    """Exact E[J] when both neighbour sets are independent uniform k-subsets of N = n - 1.

    m ~ Hypergeom(N, k, k), so E[J] = sum_m P(m) * m / (2k - m).
    """
    from scipy.stats import hypergeom

    big_n = n - 1
    m = np.arange(max(0, 2 * k - big_n), k + 1)
    p = hypergeom.pmf(m, big_n, k, k)
    return float(np.sum(p * m / (2 * k - m)))


def nngs_normalised(score: float, chance: float) -> float:
    """(score - chance) / (1 - chance): 0 at chance, 1 for identical graphs; NaN if chance is 1."""
    return (score - chance) / (1 - chance) if chance < 1 else math.nan
