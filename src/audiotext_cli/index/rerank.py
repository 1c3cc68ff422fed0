"""`search --rerank`: blend the embedding score with a BM25 text-match score.

Candidates: the top `max(pool, 5k)` rows by embedding score and the top as many rows by
BM25 (score > 0), both within the filtered rows; every candidate gets its exact embedding
score (a search restricted to the candidates). Then, over the candidates,

    blended = (1 - w) * (e - e_min) / (e_max - e_min) + w * b / b_max

with e the embedding score, b the BM25 score of the row's searchable text (relative path,
metadata, tags, caption; `query.row_text`, tokenised by `query.tokens`) for the query's
words, and w the weight (`--rerank-weight`, default 0.3). Both terms lie in [0, 1] whatever
the metric (cosine, or 1 - CSD/2). BM25 is bm25s (Lucene variant, k1 = 1.5, b = 0.75).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from audiotext_cli.index.faiss_index import FaissIndex
from audiotext_cli.index.query import tokens


@lru_cache(maxsize=8)
def _bm25(index: FaissIndex) -> Any:
    import bm25s

    from audiotext_cli.index.search import row_table

    retriever = bm25s.BM25()
    row_tokens = row_table(index).token_index.row_tokens  # shared with --filter
    retriever.index([list(toks) or [""] for toks in row_tokens], show_progress=False)
    return retriever


def bm25_scores(index: FaissIndex, query: str) -> np.ndarray:
    """BM25 score of every index row for the query's tokens."""
    words = tokens(query)
    if not words or not index.rows:
        return np.zeros(len(index.rows), np.float32)
    return np.asarray(_bm25(index).get_scores(words), np.float32)


def blend(
    index: FaissIndex,
    q: Any,
    query: str,
    k: int,
    subset: np.ndarray | None,
    weight: float,
    pool: int,
) -> list[dict]:
    from audiotext_cli.index.search import _positions, result_row

    allowed = np.arange(len(index)) if subset is None else np.asarray(subset, np.int64)
    n = max(pool, 5 * k)
    pos = _positions(index)
    by_embedding = [pos[h.id] for h in index.search(q, n, subset=allowed)[0]]
    text = bm25_scores(index, query)
    ranked = allowed[np.argsort(-text[allowed], kind="stable")][:n]
    by_text = [int(r) for r in ranked if text[r] > 0]
    candidates = np.unique(np.asarray(by_embedding + by_text, np.int64))
    if len(candidates) == 0:
        return []
    hits = index.search(q, len(candidates), subset=candidates)[0]
    rows = np.asarray([pos[h.id] for h in hits], np.int64)
    e = np.asarray([h.score for h in hits], np.float64)
    b = text[rows].astype(np.float64)
    e_norm = (e - e.min()) / (e.max() - e.min()) if e.max() > e.min() else np.ones_like(e)
    b_norm = b / b.max() if b.max() > 0 else np.zeros_like(b)
    blended = (1 - weight) * e_norm + weight * b_norm
    order = np.argsort(-blended, kind="stable")[:k]
    out = []
    for rank, i in enumerate(order, 1):
        row = result_row(index.rows[rows[i]], rank, float(blended[i]))
        out.append(row | {"embedding_score": float(e[i]), "text_score": float(b[i])})
    return out
