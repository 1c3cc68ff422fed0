"""NNGS, kNN graphs and mutual kNN against the authors' golden values, hand-derived cases,
a naive sklearn + Python-sets reference, invariances and the chance level.

Golden values: /work/shared/reference/nngs-cka-golden.md (graph_structure and platonic-rep).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from audiotext_cli.errors import ConfigError
from audiotext_cli.metrics.knn import knn_graph, resolve_k
from audiotext_cli.metrics.mutual import mutual_knn
from audiotext_cli.metrics.nngs import (
    nngs,
    nngs_chance,
    nngs_chance_exact,
    nngs_normalised,
    nngs_per_item,
    overlap_counts,
)


def _demo() -> tuple[np.ndarray, np.ndarray]:
    """The authors' 7-point demo (legacy global MT19937, SNR 0 dB)."""
    np.random.seed(1)
    A = np.random.randn(7, 2)
    B = A + 1.0 * np.random.randn(7, 2)
    return A, B


def _random20() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((20, 5)), rng.standard_normal((20, 7))


def _rotation(d: int, seed: int = 3) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q


@pytest.mark.parametrize(
    "k, cosine, euclidean",
    [
        (1, 5 / 7, 1 / 7),
        (2, 4 / 7, 1 / 7),
        (3, 0.7, 2.3 / 7),
        (4, 0.6952380952380952, 0.580952380952381),
        (5, 0.6666666666666666, 0.7619047619047619),
        (6, 1.0, 1.0),
        (0.5, 0.7, 2.3 / 7),
        (0.3, 4 / 7, 1 / 7),
    ],
)
def test_demo_golden_table(k, cosine, euclidean):
    A, B = _demo()
    assert nngs(A, B, k, "cosine") == pytest.approx(cosine, abs=1e-12)
    assert nngs(A, B, k, "euclidean") == pytest.approx(euclidean, abs=1e-12)


def test_demo_per_item_and_neighbour_sets():
    A, B = _demo()
    np.testing.assert_allclose(
        nngs_per_item(A, B, 3, "cosine"), [0.5, 1.0, 0.2, 1.0, 1.0, 0.2, 1.0], atol=1e-12
    )
    np.testing.assert_allclose(
        nngs_per_item(A, B, 3, "euclidean"), [0.5, 0.5, 0.2, 0.2, 0.2, 0.5, 0.2], atol=1e-12
    )
    sets_a = [{3, 4, 5}, {2, 5, 6}, {3, 4, 5}, {0, 4, 5}, {0, 3, 5}, {2, 3, 4}, {1, 2, 5}]
    sets_b = [{2, 4, 5}, {2, 5, 6}, {0, 5, 6}, {0, 4, 5}, {0, 3, 5}, {0, 2, 6}, {1, 2, 5}]
    assert [set(r) for r in knn_graph(A, 3, "cosine").tolist()] == sets_a
    assert [set(r) for r in knn_graph(B, 3, "cosine").tolist()] == sets_b
    assert mutual_knn(A, B, 3, "cosine") == pytest.approx(16 / 21, abs=1e-12)


def test_one_dimensional_golden():
    X = np.array([[0.0], [1], [3], [7], [15]])
    Y = np.array([[3.0], [0], [7], [1], [15]])
    assert knn_graph(X, 1)[:, 0].tolist() == [1, 0, 1, 2, 3]
    assert knn_graph(Y, 1)[:, 0].tolist() == [3, 3, 0, 1, 2]
    got = [nngs(X, Y, k) for k in range(1, 5)]
    np.testing.assert_allclose(got, [0.0, 1 / 3, 0.9, 1.0], atol=1e-12)


@pytest.mark.parametrize(
    "k, euc, cos, mut_euc, mut_cos, mut_ip",
    [
        (1, 0.1, 0.15, 0.1, 0.15, 0.05),
        (3, 0.08, 0.08, 2 / 15, 2 / 15, 7 / 60),
        (5, 0.19781746031746034, 0.15674603174603177, 0.32, 0.25, 0.27),
        (10, 0.4331043956043955, 0.4231893106893107, 0.595, 0.585, 0.575),
    ],
)
def test_random20_golden_table(k, euc, cos, mut_euc, mut_cos, mut_ip):
    X, Y = _random20()
    assert nngs(X, Y, k, "euclidean") == pytest.approx(euc, abs=1e-12)
    assert nngs(X, Y, k, "cosine") == pytest.approx(cos, abs=1e-12)
    assert mutual_knn(X, Y, k, "euclidean") == pytest.approx(mut_euc, abs=1e-12)
    assert mutual_knn(X, Y, k, "cosine") == pytest.approx(mut_cos, abs=1e-12)
    # platonic-rep's raw-feature inner-product neighbours ("raw: exact" column)
    assert mutual_knn(X, Y, k, "ip") == pytest.approx(mut_ip, abs=1e-12)


def test_hand_derived_four_points():
    """X = 0,1,3,10 and Y swaps items 2 and 3. 1-NN: X -> 1,0,1,2; Y -> 1,0,3,1.
    J = 1,1,0,0 so NNGS = 1/2; H(1) = 1/(2*3-1) = 1/5; exact E[J] = P(m=1) = 1/3."""
    X = np.array([[0.0], [1], [3], [10]])
    Y = np.array([[0.0], [1], [10], [3]])
    np.testing.assert_array_equal(nngs_per_item(X, Y, 1), [1, 1, 0, 0])
    assert nngs(X, Y, 1) == 0.5
    assert nngs_chance(4, 1) == pytest.approx(0.2)
    assert nngs_chance_exact(4, 1) == pytest.approx(1 / 3)
    assert nngs_normalised(0.5, 0.2) == pytest.approx(0.375)


@pytest.mark.parametrize(
    "n, k, h, exact",
    [
        (7, 3, 1 / 3, 0.365),
        (20, 5, 0.151515, 0.163724),
        (100, 10, 0.053191, 0.055702),
        (100, 20, 0.112360, 0.114632),
    ],
)
def test_chance_levels(n, k, h, exact):
    assert nngs_chance(n, k) == pytest.approx(h, abs=1e-6)
    assert nngs_chance_exact(n, k) == pytest.approx(exact, abs=1e-6)
    assert nngs_chance_exact(n, k) > nngs_chance(n, k)


def test_exact_chance_matches_enumeration():
    """Average Jaccard over every pair of k-subsets of N = n - 1 candidates."""
    n, k = 8, 3
    subsets = [set(s) for s in itertools.combinations(range(n - 1), k)]
    mean = np.mean([len(a & b) / len(a | b) for a in subsets for b in subsets])
    assert nngs_chance_exact(n, k) == pytest.approx(mean, abs=1e-12)


def test_independent_spaces_score_near_exact_chance():
    n, k = 1500, 40
    rng = np.random.default_rng(7)
    X, Y = rng.standard_normal((n, 8)), rng.standard_normal((n, 8))
    scores = nngs_per_item(X, Y, k, "euclidean")
    exact = nngs_chance_exact(n, k)
    assert abs(scores.mean() - exact) < 5 * scores.std() / math.sqrt(n)
    # H(k) under-estimates the expectation, as documented
    assert nngs_chance(n, k) < exact


def test_identical_spaces_and_full_k_give_one():
    X, Y = _random20()
    assert nngs(X, X, 5) == 1.0
    assert nngs(X, Y, 19) == 1.0
    assert math.isnan(nngs_normalised(1.0, nngs_chance(20, 19)))


def test_invariances():
    """Rotation and isotropic scaling keep both graphs; translation keeps euclidean only."""
    rng = np.random.default_rng(11)
    X = rng.standard_normal((200, 6))
    moved = 3.0 * X @ _rotation(6) + 1.0
    assert nngs(X, moved, 5, "euclidean") == 1.0
    assert nngs(X, 2.5 * X @ _rotation(6), 5, "cosine") == 1.0
    assert nngs(X, X + 5.0, 5, "cosine") < 0.9


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_matches_sklearn_and_python_sets(metric):
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((300, 12)), rng.standard_normal((300, 9))
    k = 7

    def naive_sets(Z):
        nn = NearestNeighbors(n_neighbors=k + 1, metric=metric).fit(Z)
        _, idx = nn.kneighbors(Z)
        return [set(row) - {i} if i in row else set(row[:k]) for i, row in enumerate(idx.tolist())]

    sa, sb = naive_sets(X), naive_sets(Y)
    naive = [len(a & b) / len(a | b) for a, b in zip(sa, sb, strict=True)]
    np.testing.assert_allclose(nngs_per_item(X, Y, k, metric), naive, atol=1e-12)
    assert [set(r) for r in knn_graph(X, k, metric).tolist()] == sa


def _brute_force_graph(X: np.ndarray, k: int, metric: str) -> np.ndarray:
    """Reference: float64 similarities of all pairs, self removed by index, stable sort."""
    Z = np.asarray(X, dtype=np.float64)
    if metric == "cosine":
        Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    sim = -((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1) if metric == "euclidean" else Z @ Z.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "ip"])
def test_knn_graph_equals_brute_force_across_blocks(metric):
    X = np.random.default_rng(2).standard_normal((500, 16)).astype(np.float32)
    full = knn_graph(X, 12, metric)
    assert full.dtype == np.int64 and full.shape == (500, 12)
    np.testing.assert_array_equal(full, _brute_force_graph(X, 12, metric))
    np.testing.assert_array_equal(knn_graph(X, 4, metric), full[:, :4])
    for block in (37, 128, 499):  # ragged last blocks, blocks smaller than k + 1
        np.testing.assert_array_equal(knn_graph(X, 12, metric, block=block), full)
    assert not (full == np.arange(500)[:, None]).any()


def test_exact_ties_go_to_the_smaller_id_whatever_the_blocks():
    # integer points on a line: many equal distances, exactly representable
    X = np.array([[float(v)] for v in [0, 2, 4, 6, 8, 2, 4, 1, 3, 5, 7, 9] * 5])
    want = _brute_force_graph(X, 6, "euclidean")
    for block in (5, 13, 60):
        np.testing.assert_array_equal(knn_graph(X, 6, "euclidean", block=block), want)


def test_duplicates_are_neighbours_but_self_is_not():
    X = np.array([[0.0], [0.0], [1.0], [5.0]])
    G = knn_graph(X, 1)
    assert G[0, 0] == 1 and G[1, 0] == 0
    many = np.zeros((6, 3))  # six identical points: every other row is at distance 0
    G = knn_graph(many, 4)
    for i, row in enumerate(G.tolist()):
        assert i not in row and len(set(row)) == 4


def test_overlap_counts_match_sets():
    rng = np.random.default_rng(9)
    GA = np.stack([rng.choice(50, 8, replace=False) for _ in range(40)])
    GB = np.stack([rng.choice(50, 8, replace=False) for _ in range(40)])
    want = [len(set(a) & set(b)) for a, b in zip(GA.tolist(), GB.tolist(), strict=True)]
    np.testing.assert_array_equal(overlap_counts(GA, GB, block=7), want)


def test_resolve_k():
    assert resolve_k(3, 7) == 3
    assert resolve_k(0.5, 7) == 3  # floor(0.5 * 7), n not n - 1
    assert resolve_k(np.float64(0.3), 7) == 2
    assert resolve_k(np.int64(6), 7) == 6
    for bad in (0, 7, -1, 1.0, 0.1, 0.0, float("nan"), True, "3"):
        with pytest.raises(ConfigError):
            resolve_k(bad, 7)
