"""Retrieval metrics with multi-positive relevance (equal captions count as correct).

Held-out sources render the same instrument and pitch with different soundfonts, so one
caption can describe several clips: relevance is a boolean matrix, not a diagonal.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

KS = (1, 5, 10)


def similarity(
    q_mu: np.ndarray,
    db_mu: np.ndarray,
    q_logvar: np.ndarray | None = None,
    db_logvar: np.ndarray | None = None,
) -> np.ndarray:
    """Cosine of unit-norm means; for Gaussians mu.mu' - (tr_q + tr_db)/2 = 1 - CSD/2."""
    sim = q_mu.astype(np.float64) @ db_mu.astype(np.float64).T
    if q_logvar is not None and db_logvar is not None:
        tr_q = np.exp(q_logvar.astype(np.float64)).sum(1)
        tr_db = np.exp(db_logvar.astype(np.float64)).sum(1)
        sim -= 0.5 * (tr_q[:, None] + tr_db[None, :])
    return sim


def rank_metrics(
    sim: np.ndarray, relevant: np.ndarray, ks: tuple[int, ...] = KS
) -> dict[str, float]:
    """R@k (a relevant item in the top k), mAP@10 (AP truncated at 10, DCASE style), median rank
    of the first relevant item. Queries without any relevant item are an error."""
    if sim.shape != relevant.shape:
        raise ValueError(f"sim {sim.shape} and relevance {relevant.shape} differ")
    n_rel = relevant.sum(1)
    if (n_rel == 0).any():
        raise ValueError("every query needs at least one relevant item")
    order = np.argsort(-sim, axis=1, kind="stable")
    hits = np.take_along_axis(relevant, order, axis=1)
    first = hits.argmax(1) + 1
    out = {f"R@{k}": float((first <= k).mean()) for k in ks}
    top = hits[:, :10].astype(np.float64)
    precision = np.cumsum(top, 1) / np.arange(1, top.shape[1] + 1)
    ap = (precision * top).sum(1) / np.minimum(n_rel, 10)
    out["mAP@10"] = float(ap.mean())
    out["median_rank"] = float(np.median(first))
    return out


def chance_metrics(relevant: np.ndarray, ks: tuple[int, ...] = KS) -> dict[str, float]:
    """Expected R@k under a random ranking: 1 - C(n-m, k) / C(n, k), averaged over queries."""
    n = relevant.shape[1]
    m = relevant.sum(1).astype(np.float64)
    out = {}
    for k in ks:
        kk = min(k, n)
        log_ratio = (
            gammaln(n - m + 1) - gammaln(n - m - kk + 1) - gammaln(n + 1) + gammaln(n - kk + 1)
        )
        miss = np.where(n - m >= kk, np.exp(log_ratio), 0.0)
        out[f"R@{k}"] = float((1 - miss).mean())
    return out


def caption_relevance(query_captions: list[str], item_captions: list[set[str]]) -> np.ndarray:
    """relevant[i, j] = query caption i is one of item j's captions."""
    return np.array([[q in caps for caps in item_captions] for q in query_captions], dtype=bool)
