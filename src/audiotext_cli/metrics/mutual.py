"""Mutual kNN and CKNNA, the neighbourhood metrics of the Platonic Representation Hypothesis
(Huh et al. 2024, minyoungg/platonic-rep `metrics.py`).

mutual kNN: mean over items of |N_X(i) & N_Y(i)| / k (overlap over k, not Jaccard as in NNGS).
platonic-rep ranks neighbours by inner product on l2-normalised rows, i.e. cosine.

CKNNA: CKA restricted to mutual neighbours. With linear kernels K = XX', L = YY' and
mask_K(i, j) = 1 when j is among row i's top-k of K (self excluded when unbiased),
M = mask_K * mask_L and sim(K, L) = HSIC(M*K, M*L) (Song's unbiased HSIC when unbiased,
else biased with self allowed in the top-k), CKNNA = sim(K, L) / sqrt(sim(K, K) sim(L, L)),
where sim(K, K) uses M = mask_K. At k = n - 1 (unbiased) it equals unbiased linear CKA.
It is computed on sparse matrices with n*k entries, never n x n. Neighbours use the raw
inner product of the given rows; l2-normalise them first to match platonic-rep's pipeline.
"""

from __future__ import annotations

import numpy as np

from audiotext_cli.metrics.cka import cka_ratio, hsic
from audiotext_cli.metrics.knn import Metric, knn_graph, knn_graph_scored, resolve_k, top_k
from audiotext_cli.metrics.nngs import overlap_counts


def mutual_knn_from_graphs(GA: np.ndarray, GB: np.ndarray) -> float:
    """Mean |N_A(i) & N_B(i)| / k for two (n, k) neighbour graphs."""
    return float(overlap_counts(GA, GB).mean() / GA.shape[1])


def mutual_knn(X: np.ndarray, Y: np.ndarray, k: int | float, metric: Metric = "cosine") -> float:
    """Mutual kNN (see module docstring); metric "cosine" is platonic-rep's default pipeline,
    "ip" its raw-feature inner product."""
    kk = resolve_k(k, len(X))
    return mutual_knn_from_graphs(knn_graph(X, kk, metric), knn_graph(Y, kk, metric))


def _sparse_rows(G: np.ndarray, values: np.ndarray):
    """(n, n) CSR matrix with row i holding `values[i]` at columns `G[i]`."""
    from scipy.sparse import csr_matrix

    n, k = G.shape
    indptr = np.arange(0, n * k + 1, k)
    mat = csr_matrix((values.astype(np.float64).ravel(), G.ravel(), indptr), shape=(n, n))
    mat.sort_indices()
    return mat


def cknna_from_graphs(
    GX: np.ndarray, KX: np.ndarray, GY: np.ndarray, LY: np.ndarray, unbiased: bool = True
) -> float:
    """CKNNA from top-k lists G and their kernel values (K_ij for j in G[i]) in each space."""
    SK, SL = _sparse_rows(GX, KX), _sparse_rows(GY, LY)
    A = SK.multiply(_sparse_rows(GY, np.ones(GY.shape))).tocsr()
    B = SL.multiply(_sparse_rows(GX, np.ones(GX.shape))).tocsr()
    return cka_ratio(hsic(A, B, unbiased), hsic(SK, SK, unbiased), hsic(SL, SL, unbiased))


def cknna(X: np.ndarray, Y: np.ndarray, k: int | float, unbiased: bool = True) -> float:
    """CKNNA (see module docstring) with linear kernels on the rows as given.

    Kernel values are faiss's float32 inner products of the kNN search (relative error
    about 1e-7 each), so no n x n or n*k*d work is added to the search.
    """
    kk = resolve_k(k, len(X))
    search = knn_graph_scored if unbiased else top_k
    GX, KX = search(X, kk, "ip")
    GY, LY = search(Y, kk, "ip")
    return cknna_from_graphs(GX, KX, GY, LY, unbiased)
