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
from threadpoolctl import threadpool_limits

from audiotext_cli.errors import ConfigError
from audiotext_cli.metrics.knn import TopK, _sides, knn_graph, resolve_k, top_k
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


def _brute_force_top_k(X: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Reference `top_k` (self included): all float64 scores, sorted by (score desc, id)."""
    Z = np.asarray(X, dtype=np.float64)
    sim = -((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1) if metric == "euclidean" else Z @ Z.T
    idx = np.argsort(-sim, axis=1, kind="stable")[:, :k]
    score = np.take_along_axis(sim, idx, axis=1)
    return idx, (-score if metric == "euclidean" else score).astype(np.float32)


@pytest.mark.parametrize("metric", ["euclidean", "ip"])
def test_top_k_scores_and_ties_equal_brute_force_on_integer_data(metric):
    # small integers with mean 0 (rows and their negatives; euclidean rows are centred):
    # every float32 product is exact, so scores must match to the bit, and repeated values
    # and rows give many exact ties (which go to the smaller id); zero rows score 0 against
    # everyone under "ip", so their low bars send chunks down the dense path
    rng = np.random.default_rng(4)
    half = rng.integers(-2, 3, (250, 6)).astype(np.float32)
    half[rng.choice(250, 30, replace=False)] = half[rng.choice(250, 30)]
    half[::47] = 0
    X = np.concatenate([half, -half])
    want_ids, want_scores = _brute_force_top_k(X, 13, metric)
    for block in (37, 128, 499, 4096):  # ragged last blocks, n not a multiple of the block
        ids, scores = top_k(X, 13, metric, block=block)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(scores, want_scores)


def _sequential_top_k(X: np.ndarray, k: int, metric: str, block: int):
    """Reference: every block multiplied in turn (one BLAS thread) and offered from both sides."""
    L, R = _sides(X, metric)
    best, mask = TopK(len(L), k), np.empty(block * block, dtype=bool)
    with threadpool_limits(1, user_api="blas"):
        for i in range(0, len(L), block):
            for j in range(i, len(L), block):
                S = L[i : i + block] @ R[j : j + block].T
                if i == j:
                    kth = -np.partition(-S[:, :512], k - 1, axis=1)[:, k - 1]
                    best.offer(S[:, :512], i, i, mask, floor=kth)
                    best.offer(S[:, 512:], i, i + 512, mask)
                else:
                    best.offer(S, i, j, mask)
                    best.offer(S.T, j, i, mask)
    return best.ids, best.scores


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_top_k_workers_equal_the_sequential_loop_bit_for_bit(metric):
    # float data, so every score depends on the GEMM calls: however many worker threads
    # share the blocks (and in whatever order they merge), the lists must be those of the
    # plain loop, to the bit; duplicated rows give exact ties, 2300 is not a multiple of 600
    X = np.random.default_rng(6).standard_normal((2300, 24)).astype(np.float32)
    X[1000:1100] = X[:100]
    X[2000:2050] = X[1000:1050]
    want_ids, want_scores = _sequential_top_k(X, 9, metric, 600)
    want = np.maximum(-2 * want_scores, 0) if metric == "euclidean" else want_scores
    for threads in (1, 2, 3):  # the workers follow the BLAS thread count
        with threadpool_limits(threads, user_api="blas"):
            ids, scores = top_k(X, 9, metric, block=600)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(scores.view(np.int32), want.view(np.int32))


def test_offer_both_equals_the_two_offers_bit_for_bit():
    # a block seen from its rows and, transposed, from its columns: the one-pass version
    # must leave exactly the lists the two plain offers leave. Lists start full with larger
    # ids at score 1 (rows) and 2 (columns), so ties at the bar decide (the smaller id
    # wins) and entries between the two bars count; a few part-filled lists (bar -inf)
    # send the first chunk of rows down the dense path and let some columns through whole
    rng = np.random.default_rng(8)
    S = rng.choice(np.float32([0, 1, 2, 3]), (300, 2000), p=[0.995, 0.002, 0.002, 0.001])
    part = np.concatenate([np.arange(10, 30), np.arange(1000, 1050)])
    full = np.setdiff1d(np.concatenate([np.arange(300), np.arange(400, 2400)]), part)
    rows = np.concatenate([np.repeat(full, 7), part])
    scores = np.concatenate([np.where(full < 400, 1, 2).repeat(7), np.zeros(len(part))])
    plain, fused = TopK(2400, 7), TopK(2400, 7)
    for best in (plain, fused):
        best.merge(rows, 2400 + np.arange(len(rows)), scores.astype(np.float32))
    mask = np.empty(S.size, dtype=bool)
    plain.offer(S, 0, 400, mask)
    plain.offer(S.T, 400, 0, mask)
    fused.offer_both(S, 0, 400, mask)
    np.testing.assert_array_equal(fused.ids, plain.ids)
    np.testing.assert_array_equal(fused.scores, plain.scores)
    assert (plain.ids < 2400).any() and (plain.ids >= 2400).any()  # both kinds kept


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
