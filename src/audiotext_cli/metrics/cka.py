"""CKA, centred kernel alignment (Kornblith et al. 2019), linear and RBF, biased and debiased.

CKA(K, L) = HSIC(K, L) / sqrt(HSIC(K, K) * HSIC(L, L)) for kernel matrices K, L over the
same n items. Biased HSIC = tr(K H L H), H = I - 11^T/n (the 1/(n-1)^2 factor cancels).
Debiased HSIC is Song et al. (2012), eq. 5: with K~, L~ the kernels with zeroed diagonals,
  HSIC_u = [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2 1'K~L~1 / (n-2)] / (n(n-3)),
which needs n >= 4 and can be negative (CKA is then NaN).
No epsilon is added to denominators (platonic-rep adds 1e-6, which is visible on debiased
values); identical spaces give exactly 1.

Invariances: linear CKA is invariant to rotation and isotropic scaling of either space and to
translation (the kernels are centred); RBF CKA with the median bandwidth is too (distances
scale with the bandwidth); with a fixed sigma it is not invariant to scaling.
"""

from __future__ import annotations

import math

import numpy as np

from audiotext_cli.errors import ConfigError, EmbeddingFileError

RBF_MAX_N = 4000
"""RBF CKA needs dense n x n kernels (8 n^2 bytes each); above this n it uses a subsample."""


def _centred_grams(X: np.ndarray, Y: np.ndarray, block: int):
    """Feature Grams Xc'Xc, Yc'Yc, Xc'Yc and squared row norms of the centred rows.

    float64 accumulation in row blocks: O(block * d + d^2) extra memory, never n x n.
    """
    mx = X.mean(axis=0, dtype=np.float64)
    my = Y.mean(axis=0, dtype=np.float64)
    gxx = np.zeros((X.shape[1], X.shape[1]))
    gyy = np.zeros((Y.shape[1], Y.shape[1]))
    gxy = np.zeros((X.shape[1], Y.shape[1]))
    a = np.empty(len(X))
    b = np.empty(len(Y))
    for start in range(0, len(X), block):
        xb = X[start : start + block].astype(np.float64) - mx
        yb = Y[start : start + block].astype(np.float64) - my
        gxx += xb.T @ xb
        gyy += yb.T @ yb
        gxy += xb.T @ yb
        a[start : start + block] = np.einsum("ij,ij->i", xb, xb)
        b[start : start + block] = np.einsum("ij,ij->i", yb, yb)
    return gxx, gyy, gxy, a, b


def debiased_hsic_terms(trace, sum_a, sum_b, cross, n: int):
    """Song et al. (2012) eq. 5 from its four reductions of the zero-diagonal kernels K~,
    L~: tr(K~L~), 1'K~1, 1'L~1 and 1'K~L~1, over n >= 4 items. The one copy of the
    formula: NumPy floats here, torch tensors (with gradients) in HILBERT's CKA loss."""
    return (trace + sum_a * sum_b / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * cross) / (n * (n - 3))


def _hsic_u_linear(gram_sq: float, a: np.ndarray, b: np.ndarray) -> float:
    """Song's unbiased HSIC for linear kernels of centred rows, in O(n) from feature terms.

    With K = Xc Xc' and a = diag(K): tr(K~L~) = ||Xc'Yc||_F^2 - a.b; centred rows sum to 0,
    so K~1 = -a, 1'K~1 = -sum(a) and 1'K~L~1 = a.b. HSIC_u is translation invariant (a
    U-statistic of kernel differences), so centring first changes nothing but rounding.
    """
    ab = float(a @ b)
    return debiased_hsic_terms(gram_sq - ab, float(a.sum()), float(b.sum()), ab, len(a))


def linear_cka(X: np.ndarray, Y: np.ndarray, debiased: bool = False, block: int = 16384) -> float:
    """Linear CKA in the feature-Gram form, O(n d^2) time, no n x n matrix.

    Biased: ||Xc'Yc||_F^2 / (||Xc'Xc||_F ||Yc'Yc||_F) with column-centred Xc, Yc, which equals
    tr(KHLH)/sqrt(tr(KHKH) tr(LHLH)) for K = XX', L = YY'. Debiased: the same ratio of
    Song's unbiased HSIC, computed from the same Grams (see `_hsic_u_linear`).
    """
    _check_pair(X, Y, 4 if debiased else 2)
    gxx, gyy, gxy, a, b = _centred_grams(X, Y, block)
    sxx, syy, sxy = (float(np.sum(g * g)) for g in (gxx, gyy, gxy))
    if debiased:
        sxy, sxx, syy = (
            _hsic_u_linear(sxy, a, b),
            _hsic_u_linear(sxx, a, a),
            _hsic_u_linear(syy, b, b),
        )
    return cka_ratio(sxy, sxx, syy)


def hsic(A, B, unbiased: bool) -> float:
    """HSIC of two (n, n) kernels, dense arrays or scipy sparse, not necessarily symmetric.

    Written with platonic-rep's trace convention tr(AB) = sum_ij A_ij B_ji, so it serves
    masked (non-symmetric) CKNNA kernels too. For `unbiased`, diagonals must already be 0.
    Biased: tr(AHBH) = tr(AB) - (1'AB1 + 1'BA1)/n + (1'A1)(1'B1)/n^2.
    """
    n = A.shape[0]
    if hasattr(A, "multiply"):
        trace_ab = float(A.multiply(B.T).sum())
    else:
        trace_ab = float(np.einsum("ij,ji->", A, B))
    col_a, row_a = _sums(A, 0), _sums(A, 1)
    col_b, row_b = _sums(B, 0), _sums(B, 1)
    sum_a, sum_b = float(row_a.sum()), float(row_b.sum())
    if unbiased:
        if n < 4:
            raise ConfigError(f"unbiased HSIC needs n >= 4 items, got {n}")
        return debiased_hsic_terms(trace_ab, sum_a, sum_b, float(col_a @ row_b), n)
    return trace_ab - (float(col_a @ row_b) + float(col_b @ row_a)) / n + sum_a * sum_b / n**2


def rbf_kernel(X: np.ndarray, sigma: float | None = None) -> tuple[np.ndarray, float]:
    """(n, n) float64 K_ij = exp(-|x_i - x_j|^2 / (2 sigma^2)) and the sigma used.

    sigma=None: the median heuristic, sigma = median pairwise distance over i < j.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    sq = np.einsum("ij,ij->i", X, X)
    d2 = X @ X.T
    d2 *= -2
    d2 += sq[:, None]
    d2 += sq[None, :]
    np.maximum(d2, 0, out=d2)
    np.fill_diagonal(d2, 0)
    if sigma is None:
        sigma = math.sqrt(float(np.median(d2[np.triu_indices(len(X), 1)])))
        if sigma == 0:
            raise ConfigError("median pairwise distance is 0 (most points identical); set sigma")
    elif not sigma > 0:
        raise ConfigError(f"sigma must be > 0, got {sigma}")
    d2 *= -1 / (2 * sigma * sigma)
    return np.exp(d2, out=d2), float(sigma)


def rbf_cka(
    X: np.ndarray,
    Y: np.ndarray,
    sigma: float | None = None,
    debiased: bool = False,
    max_n: int = RBF_MAX_N,
    seed: int = 0,
) -> float:
    """CKA with Gaussian kernels exp(-d^2 / (2 sigma^2)), one bandwidth per space.

    sigma=None uses the median heuristic in each space (scale-invariant); a number applies
    to both (sigma=1 reproduces platonic-rep's `cka(kernel_metric='rbf')`). The kernels are
    dense n x n, so when n > max_n the same `max_n` rows of X and Y are drawn uniformly
    without replacement (numpy default_rng(seed)) and CKA is computed on that subsample.
    """
    _check_pair(X, Y, 4 if debiased else 2)
    if len(X) > max_n:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), max_n, replace=False))
        X, Y = X[rows], Y[rows]
    K, _ = rbf_kernel(X, sigma)
    L, _ = rbf_kernel(Y, sigma)
    if debiased:
        np.fill_diagonal(K, 0)
        np.fill_diagonal(L, 0)
    return cka_ratio(hsic(K, L, debiased), hsic(K, K, debiased), hsic(L, L, debiased))


def _sums(A, axis: int) -> np.ndarray:
    return np.asarray(A.sum(axis=axis), dtype=np.float64).ravel()


def cka_ratio(kl: float, kk: float, ll: float) -> float:
    """kl / sqrt(kk * ll); NaN when a self-term is <= 0 (constant space, or debiased noise)."""
    denom = kk * ll
    return kl / math.sqrt(denom) if denom > 0 and kk > 0 else math.nan


def _check_pair(X: np.ndarray, Y: np.ndarray, min_n: int) -> None:
    if X.ndim != 2 or Y.ndim != 2:
        raise EmbeddingFileError(f"expected 2-D arrays (n, d), got {X.shape} and {Y.shape}")
    if len(X) != len(Y):
        raise EmbeddingFileError(f"spaces have different numbers of rows: {len(X)} vs {len(Y)}")
    if len(X) < min_n:
        raise EmbeddingFileError(f"need at least {min_n} items, got {len(X)}")
