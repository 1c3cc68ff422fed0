"""Approximate kNN graphs: shape and self rules of the exact graph, measured recall and NNGS
error against exact search, and the `compare_spaces(approx=...)` result fields."""

from __future__ import annotations

import numpy as np
import pytest

from audiotext_cli.metrics import ApproxParams, compare_spaces
from audiotext_cli.metrics.approx import approx_knn_graph, exact_rows, graph_quality
from audiotext_cli.metrics.knn import knn_graph
from audiotext_cli.metrics.nngs import jaccard_per_item, overlap_counts


def _clustered(n: int = 1500, d: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two related clustered spaces (real embeddings are clustered; random ones are not)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, d))
    A = centres[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, d))
    B = A @ rng.standard_normal((d, d)) / np.sqrt(d) + 0.3 * rng.standard_normal((n, d))
    return A.astype(np.float32), B.astype(np.float32)


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_approx_graph_has_high_recall_and_no_self(metric):
    A, _ = _clustered()
    exact = knn_graph(A, 10, metric)
    approx = approx_knn_graph(A, 10, metric, ApproxParams(nprobe=8))
    assert approx.shape == exact.shape and approx.dtype == np.int64
    assert not (approx == np.arange(len(A))[:, None]).any()
    assert all(len(set(row)) == 10 for row in approx.tolist())
    recall = overlap_counts(approx, exact).mean() / 10
    assert 0.9 < recall <= 1.0


def test_probing_every_cell_is_exact():
    A, _ = _clustered(800)
    params = ApproxParams(nlist=6, nprobe=6)
    np.testing.assert_array_equal(
        approx_knn_graph(A, 7, "cosine", params), knn_graph(A, 7, "cosine")
    )


def test_exact_rows_match_the_full_exact_graph():
    A, _ = _clustered(1500)
    rows = np.array([0, 7, 500, 1499])
    for metric in ("cosine", "euclidean", "ip"):
        np.testing.assert_array_equal(
            exact_rows(A, rows, 9, metric, block=256), knn_graph(A, 9, metric)[rows]
        )


def test_quality_is_measured_against_exact():
    A, B = _clustered()
    GA, GB = knn_graph(A, 10, "cosine"), knn_graph(B, 10, "cosine")
    perfect = graph_quality(A, B, GA, GB, "cosine", sample=300)
    assert perfect["recall_a"] == perfect["recall_b"] == 1.0 and perfect["nngs_error"] == 0.0
    broken = np.roll(GA, 1, axis=0)  # another row's neighbours: recall near 0
    quality = graph_quality(A, B, broken, GB, "cosine", sample=300)
    assert quality["recall_a"] < 0.2 and quality["recall_b"] == 1.0
    rows = np.sort(np.random.default_rng(0).choice(len(A), 300, replace=False))
    want = (jaccard_per_item(broken[rows], GB[rows]) - jaccard_per_item(GA[rows], GB[rows])).mean()
    assert quality["nngs_error"] == pytest.approx(want) and quality["nngs_error"] < -0.1


def test_compare_spaces_approx_reports_recall_and_error_within_tolerance():
    A, B = _clustered()
    exact = compare_spaces(A, B, ks=(10,), metrics=["nngs", "mutual_knn"])
    approx = compare_spaces(A, B, ks=(10,), metrics=["nngs", "mutual_knn"], approx=ApproxParams())
    info = approx["approx"]
    assert {"nlist", "nprobe", "sample", "recall_a", "recall_b", "nngs_error"} <= set(info)
    assert info["recall_a"] > 0.9 and info["recall_b"] > 0.9 and abs(info["nngs_error"]) < 0.02
    assert approx["per_k"][0]["nngs"] == pytest.approx(exact["per_k"][0]["nngs"], abs=0.02)
    assert "approx" not in exact
