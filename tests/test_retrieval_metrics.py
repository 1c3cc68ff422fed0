"""Retrieval and zero-shot metrics on hand-made rankings, and their chance levels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audiotext_cli.evaluate.retrieval import (
    caption_relevance,
    chance_metrics,
    rank_metrics,
    similarity,
)
from audiotext_cli.evaluate.zeroshot import accuracy_report


def test_rank_metrics_by_hand() -> None:
    # query 0: relevant item ranked 2nd; query 1: relevant items ranked 1st and 3rd
    sim = np.array([[0.9, 0.8, 0.1], [0.7, 0.5, 0.2]])
    relevant = np.array([[False, True, False], [True, False, True]])
    m = rank_metrics(sim, relevant, ks=(1, 2))
    assert m["R@1"] == 0.5 and m["R@2"] == 1.0
    # AP: q0 = (1/2)/1 ; q1 = (1/1 + 2/3)/2
    assert m["mAP@10"] == pytest.approx((0.5 + (1 + 2 / 3) / 2) / 2)
    assert m["median_rank"] == 1.5


def test_rank_metrics_needs_a_relevant_item() -> None:
    with pytest.raises(ValueError):
        rank_metrics(np.zeros((1, 2)), np.zeros((1, 2), dtype=bool))


def test_chance_matches_combinatorics_and_simulation() -> None:
    relevant = np.zeros((2, 10), dtype=bool)
    relevant[0, 3] = True  # one relevant of 10: R@k chance = k/10
    relevant[1, [1, 2]] = True  # two relevant: 1 - C(8,k)/C(10,k)
    ch = chance_metrics(relevant, ks=(1, 5))
    two = [1 - math.comb(8, k) / math.comb(10, k) for k in (1, 5)]
    assert ch["R@1"] == pytest.approx((0.1 + two[0]) / 2)
    assert ch["R@5"] == pytest.approx((0.5 + two[1]) / 2)
    rng = np.random.default_rng(0)
    sims = [rank_metrics(rng.random((2, 10)), relevant, ks=(5,))["R@5"] for _ in range(4000)]
    assert np.mean(sims) == pytest.approx(ch["R@5"], abs=0.02)


def test_probabilistic_similarity_ranks_by_csd() -> None:
    mu = np.eye(3)[:2]
    q = np.array([[1.0, 0.0, 0.0]])
    lv = np.log(np.array([[0.5, 0.5, 0.5], [0.01, 0.01, 0.01]]))
    sim = similarity(q, mu, np.log(np.full((1, 3), 0.1)), lv)
    csd = ((q[:, None] - mu[None]) ** 2).sum(-1) + 0.3 + np.exp(lv).sum(1)[None]
    np.testing.assert_allclose(sim, 1 - csd / 2)


def test_caption_relevance_and_accuracy_report() -> None:
    rel = caption_relevance(["a dog", "a cat"], [{"a dog", "an animal"}, {"a cat"}, {"a dog"}])
    assert rel.tolist() == [[True, False, True], [False, True, False]]
    rep = accuracy_report(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]), 3)
    assert rep["accuracy"] == 0.75
    assert rep["balanced_accuracy"] == pytest.approx((2 / 3 + 1) / 2)
    assert rep["chance"] == pytest.approx(1 / 3) and rep["majority"] == 0.75


def test_per_category_recall_files_each_query_under_its_clips_category() -> None:
    """Animal captions point at their own clips, music captions at the wrong ones: R@1 is
    1 for animals and 0 for music, each over its own queries, with chance 1/4."""
    from audiotext_cli.data.manifest import ClipRecord
    from audiotext_cli.embedder import Embeddings
    from audiotext_cli.evaluate.run import per_category_recall

    def clip(name: str, category: str) -> ClipRecord:
        captions = [{"level": lv, "text": f"{name} {lv}"} for lv in (1, 2, 3, 4)]
        labels = [category, f"{category} kind", name]
        return ClipRecord(name, f"/x/{name}.flac", 1.0, 44100, "s", "eval", captions, labels, "")

    records = [clip("a1", "animal"), clip("a2", "animal"), clip("m1", "music"), clip("m2", "music")]
    eye = np.eye(4, dtype=np.float32)
    points_at = {"a1 4": 0, "a2 4": 1, "m1 4": 1, "m2 4": 0}

    class Stub:
        def embed_texts(self, texts):
            return Embeddings(eye[[points_at[t] for t in texts]])

    out = per_category_recall(Stub(), records, Embeddings(eye))
    assert set(out) == {"animal", "music"}
    assert out["animal"]["R@1"] == 1.0 and out["music"]["R@1"] == 0.0
    assert out["animal"]["n_queries"] == out["music"]["n_clips"] == 2
    assert out["music"]["chance"]["R@1"] == pytest.approx(0.25)
