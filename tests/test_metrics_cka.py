"""CKA family and CKNNA against platonic-rep golden values ("exact" columns, no epsilon), a
naive n x n HSIC reference, Song's U-statistic by enumeration, and invariances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from audiotext_cli.errors import EmbeddingFileError
from audiotext_cli.metrics.cka import hsic, linear_cka, rbf_cka
from audiotext_cli.metrics.mutual import cknna


def _random20(l2: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((20, 5)), rng.standard_normal((20, 7))
    if l2:
        A = A / np.linalg.norm(A, axis=1, keepdims=True)
        B = B / np.linalg.norm(B, axis=1, keepdims=True)
    return A, B


# (raw, l2) "exact" columns of the golden file
GOLDEN_CKA = {
    "linear": (0.30212836841068885, 0.2829942860728805),
    "rbf1": (0.8866866359112227, 0.45628731570103737),
    "rbf2": (0.5624433730294839, 0.3235099730118865),
    "linear_u": (0.046930907338325736, 0.045116785056432525),
    "rbf1_u": (0.06121965534039757, 0.04640596632925237),
    "rbf2_u": (0.035590210529134976, 0.04630436107967357),
}
GOLDEN_CKNNA = {  # (k, unbiased) -> (raw, l2)
    (2, True): (0.18690795844352123, 0.1707663431718616),
    (5, True): (0.18164086474864194, 0.16781390277621172),
    (10, True): (0.3334825437556276, 0.3760616612840951),
    (19, True): (0.046930907338325736, 0.045116785056432525),
    (2, False): (0.6854176319160042, 0.802659059122453),
    (5, False): (0.6334788212992258, 0.6623425424581163),
    (10, False): (0.6623457165690274, 0.7237589082334703),
}


@pytest.mark.parametrize("column", [0, 1], ids=["raw", "l2"])
def test_cka_golden(column):
    A, B = _random20(l2=bool(column))
    got = {
        "linear": linear_cka(A, B),
        "rbf1": rbf_cka(A, B, sigma=1.0),
        "rbf2": rbf_cka(A, B, sigma=2.0),
        "linear_u": linear_cka(A, B, debiased=True),
        "rbf1_u": rbf_cka(A, B, sigma=1.0, debiased=True),
        "rbf2_u": rbf_cka(A, B, sigma=2.0, debiased=True),
    }
    for name, want in GOLDEN_CKA.items():
        assert got[name] == pytest.approx(want[column], rel=1e-10), name


@pytest.mark.parametrize("column", [0, 1], ids=["raw", "l2"])
@pytest.mark.parametrize("key", list(GOLDEN_CKNNA))
def test_cknna_golden(key, column):
    # kernel values come from faiss's float32 scores: ~1e-7 relative, as documented
    A, B = _random20(l2=bool(column))
    k, unbiased = key
    assert cknna(A, B, k, unbiased=unbiased) == pytest.approx(GOLDEN_CKNNA[key][column], rel=2e-6)


def test_cknna_full_k_is_debiased_linear_cka():
    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((60, 6)), rng.standard_normal((60, 4)) + 0.3
    assert cknna(X, Y, 59) == pytest.approx(linear_cka(X, Y, debiased=True), rel=1e-6)


def _naive_hsic(K: np.ndarray, L: np.ndarray, unbiased: bool) -> float:
    n = len(K)
    if not unbiased:
        H = np.eye(n) - np.ones((n, n)) / n
        return float(np.trace(K @ H @ L @ H))
    Kt, Lt = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
    one = np.ones(n)
    value = np.trace(Kt @ Lt) + one @ Kt @ one * (one @ Lt @ one) / ((n - 1) * (n - 2))
    value -= 2 * one @ Kt @ Lt @ one / (n - 2)
    return float(value / (n * (n - 3)))


def _naive_cka(K: np.ndarray, L: np.ndarray, unbiased: bool) -> float:
    return _naive_hsic(K, L, unbiased) / math.sqrt(
        _naive_hsic(K, K, unbiased) * _naive_hsic(L, L, unbiased)
    )


def _rbf(Z: np.ndarray) -> np.ndarray:
    d = pdist(Z)
    return np.exp(-(squareform(d) ** 2) / (2 * np.median(d) ** 2))


@pytest.mark.parametrize("debiased", [False, True])
def test_matches_naive_kernel_form(debiased):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((120, 10)).astype(np.float32)
    Y = (X[:, :6] @ rng.standard_normal((6, 7)) + rng.standard_normal((120, 7))).astype(np.float32)
    X64, Y64 = X.astype(np.float64), Y.astype(np.float64)
    want = _naive_cka(X64 @ X64.T, Y64 @ Y64.T, debiased)
    assert linear_cka(X, Y, debiased=debiased, block=17) == pytest.approx(want, rel=1e-9)
    assert rbf_cka(X, Y, debiased=debiased) == pytest.approx(
        _naive_cka(_rbf(X64), _rbf(Y64), debiased), rel=1e-9
    )


def test_unbiased_hsic_is_songs_u_statistic():
    """HSIC_u = mean over ordered distinct (i, j, q, r) of K_ij L_ij + K_ij L_qr - 2 K_ij L_iq."""
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    K, L = X @ X.T, Y @ Y.T
    terms = [
        K[i, j] * L[i, j] + K[i, j] * L[q, r] - 2 * K[i, j] * L[i, q]
        for i, j, q, r in itertools.permutations(range(7), 4)
    ]
    Kt, Lt = K.copy(), L.copy()
    np.fill_diagonal(Kt, 0)
    np.fill_diagonal(Lt, 0)
    assert hsic(Kt, Lt, unbiased=True) == pytest.approx(np.mean(terms), rel=1e-10)


def test_identical_spaces_give_one():
    X = np.random.default_rng(3).standard_normal((80, 5))
    assert linear_cka(X, X) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(X, X, debiased=True) == pytest.approx(1.0, abs=1e-12)
    assert rbf_cka(X, X) == pytest.approx(1.0, abs=1e-12)
    assert rbf_cka(X, X, debiased=True) == pytest.approx(1.0, abs=1e-12)
    assert cknna(X, X, 10) == pytest.approx(1.0, abs=1e-9)


def test_invariances():
    """Linear CKA (both) and median-bandwidth RBF CKA: rotation, isotropic scale, translation.
    A fixed bandwidth is not scale invariant."""
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((150, 8)), rng.standard_normal((150, 5))
    Y[:, :3] += X[:, :3]
    q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    moved = 4.0 * X @ q + 2.0
    for fn in (linear_cka, lambda a, b: linear_cka(a, b, debiased=True), rbf_cka):
        assert fn(moved, Y) == pytest.approx(fn(X, Y), rel=1e-9)
    assert rbf_cka(4.0 * X, Y, sigma=1.0) != pytest.approx(rbf_cka(X, Y, sigma=1.0), rel=1e-3)


def test_independent_spaces_debiased_near_zero():
    """Debiasing removes the ~d/n floor of biased CKA between independent spaces."""
    rng = np.random.default_rng(12)
    X, Y = rng.standard_normal((400, 64)), rng.standard_normal((400, 64))
    assert abs(linear_cka(X, Y, debiased=True)) < 0.02
    assert linear_cka(X, Y) > 0.1


def test_rbf_subsample_rule():
    rng = np.random.default_rng(10)
    X, Y = rng.standard_normal((300, 4)), rng.standard_normal((300, 3))
    rows = np.sort(np.random.default_rng(0).choice(300, 100, replace=False))
    assert rbf_cka(X, Y, max_n=100) == pytest.approx(rbf_cka(X[rows], Y[rows]), rel=1e-12)
    assert rbf_cka(X, Y, max_n=300) != pytest.approx(rbf_cka(X, Y, max_n=100), rel=1e-6)


def test_bad_shapes_raise():
    X = np.zeros((3, 2))
    with pytest.raises(EmbeddingFileError, match="at least 4"):
        linear_cka(X, X, debiased=True)
    with pytest.raises(EmbeddingFileError, match="different numbers of rows"):
        linear_cka(np.ones((5, 2)), np.ones((6, 2)))
    assert math.isnan(linear_cka(np.ones((5, 2)), np.random.default_rng(0).random((5, 2))))
