"""Embedding-space comparison: NNGS, the CKA family, mutual kNN and CKNNA.

Every metric is a pure function of two row-aligned arrays X (n, d1), Y (n, d2); `METRICS`
names them, and `compare_spaces` computes a selection in one pass, sharing the kNN graphs:
each space's graph is searched once at the largest k, and since neighbours are sorted by
distance its first k columns are the k-NN graph for every smaller k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from audiotext_cli.errors import ConfigError
from audiotext_cli.metrics.approx import ApproxParams, approx_knn_graph, graph_quality
from audiotext_cli.metrics.cka import RBF_MAX_N, linear_cka, rbf_cka
from audiotext_cli.metrics.knn import Metric, knn_graph, knn_graph_scored, resolve_k
from audiotext_cli.metrics.mutual import (
    cknna,
    cknna_from_graphs,
    mutual_knn,
    mutual_knn_from_graphs,
)
from audiotext_cli.metrics.nngs import (
    jaccard_per_item,
    nngs,
    nngs_chance,
    nngs_chance_exact,
    nngs_normalised,
)

METRICS: dict[str, Callable[..., float]] = {
    "nngs": nngs,
    "cka": linear_cka,
    "cka_debiased": partial(linear_cka, debiased=True),
    "rbf_cka": rbf_cka,
    "mutual_knn": mutual_knn,
    "cknna": cknna,
}
"""name -> metric(X, Y, ...); the k-metrics (`K_METRICS`) take k as their third argument."""

K_METRICS = ("nngs", "mutual_knn", "cknna")

APPROX_SAMPLE = 1000
"""Rows searched exactly to measure an approximate graph's recall and NNGS error."""

__all__ = [
    "ApproxParams",
    "K_METRICS",
    "METRICS",
    "cknna",
    "compare_spaces",
    "knn_graph",
    "linear_cka",
    "mutual_knn",
    "nngs",
    "nngs_chance",
    "nngs_chance_exact",
    "nngs_normalised",
    "rbf_cka",
    "resolve_k",
]


def _curve_ks(kmax: int, points: int, ks: Sequence[int]) -> list[int]:
    grid = np.unique(np.round(np.geomspace(1, kmax, points)).astype(int)) if points else []
    return sorted({*map(int, grid), *ks})


def compare_spaces(
    X: np.ndarray,
    Y: np.ndarray,
    ks: Sequence[int | float] = (10,),
    metric: Metric = "cosine",
    metrics: Sequence[str] | None = None,
    curve_points: int = 0,
    log: Callable[[str], None] | None = None,
    approx: ApproxParams | None = None,
) -> dict:
    """All selected metrics of two row-aligned spaces, as a JSON-ready dict.

    `ks`: ints are counts, floats fractions of n (`resolve_k`). NNGS and mutual kNN use
    `metric` neighbours; CKNNA follows platonic-rep's pipeline (linear kernel on
    l2-normalised rows, so cosine neighbours). RBF CKA uses the median bandwidth and a
    subsample of `RBF_MAX_N` rows above that size. `curve_points` > 0 adds NNGS on a
    log-spaced grid of k up to the largest k (for plots). Per-item NNGS for each k is under
    "per_item" as numpy arrays (drop it before JSON).

    `approx` builds NNGS / mutual-kNN graphs with the IVF join (`metrics.approx`) instead of
    exact search and adds result["approx"]: its parameters and the measured recall of the
    neighbour lists and NNGS error on a sample of rows computed exactly.
    """
    names = list(metrics) if metrics else list(METRICS)
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise ConfigError(
            f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(METRICS)}"
        )
    say = log or (lambda _msg: None)
    n = len(X)
    resolved = [(spec, resolve_k(spec, n)) for spec in ks]
    result: dict = {"n": n, "dim_a": X.shape[1], "dim_b": Y.shape[1], "metric": metric}
    result["global"] = _global_metrics(X, Y, names, say)
    if "rbf_cka" in names:
        result["rbf_cka_n"] = min(n, RBF_MAX_N)
    if not any(m in names for m in K_METRICS) or not resolved:
        result["per_k"] = []
        return result

    kmax = max(k for _, k in resolved)
    graphs, scored = _graphs(X, Y, kmax, metric, names, say, approx)
    if approx is not None and graphs is not None:
        say(f"checking the approximate graphs against exact search on {APPROX_SAMPLE} rows")
        quality = graph_quality(X, Y, graphs[0], graphs[1], metric, APPROX_SAMPLE, approx.seed)
        cells = approx.cells(n)
        result["approx"] = {"nlist": cells, "nprobe": min(approx.nprobe, cells), **quality}
    rows, per_item = [], {}
    for spec, k in resolved:
        row: dict = {"k_spec": spec, "k": k}
        if "nngs" in names:
            per_item[k] = jaccard_per_item(graphs[0][:, :k], graphs[1][:, :k])
            row.update(_nngs_summary(float(per_item[k].mean()), n, k))
        if "mutual_knn" in names:
            row["mutual_knn"] = mutual_knn_from_graphs(graphs[0][:, :k], graphs[1][:, :k])
        if "cknna" in names:
            (gx, kx), (gy, ly) = scored
            row["cknna"] = cknna_from_graphs(gx[:, :k], kx[:, :k], gy[:, :k], ly[:, :k])
        rows.append(row)
    result["per_k"] = rows
    if "nngs" in names:
        result["per_item"] = per_item
        if curve_points:
            curve_ks = _curve_ks(kmax, curve_points, [k for _, k in resolved])
            result["curve"] = [
                {"k": k, **_nngs_summary(_mean_jaccard(graphs, k), n, k)} for k in curve_ks
            ]
    return result


def _graphs(X, Y, kmax: int, metric: str, names: list[str], say, approx=None):
    """The kNN graphs the selected k-metrics need, each searched once at `kmax`.

    Returns ((GX, GY) in `metric` or None, ((GX, KX), (GY, KY)) cosine with scores or None);
    with metric="cosine" and CKNNA selected one search serves both. With `approx`, the
    plain graphs are approximate (CKNNA's scored graphs stay exact).
    """
    scored = plain = None
    n = len(X)
    if "cknna" in names:
        say(f"kNN graphs (cosine, k={kmax}, n={n})")
        scored = (knn_graph_scored(X, kmax, "cosine"), knn_graph_scored(Y, kmax, "cosine"))
    if "nngs" in names or "mutual_knn" in names:
        if approx is not None:
            say(f"approximate kNN graphs ({metric}, k={kmax}, n={n}, nprobe={approx.nprobe})")
            plain = (
                approx_knn_graph(X, kmax, metric, approx),
                approx_knn_graph(Y, kmax, metric, approx),
            )
        elif metric == "cosine" and scored is not None:
            plain = (scored[0][0], scored[1][0])
        else:
            say(f"kNN graphs ({metric}, k={kmax}, n={n})")
            plain = (knn_graph(X, kmax, metric), knn_graph(Y, kmax, metric))
    return plain, scored


def _mean_jaccard(graphs: tuple[np.ndarray, np.ndarray], k: int) -> float:
    return float(jaccard_per_item(graphs[0][:, :k], graphs[1][:, :k]).mean())


def _nngs_summary(score: float, n: int, k: int) -> dict:
    chance, exact = nngs_chance(n, k), nngs_chance_exact(n, k)
    return {
        "nngs": score,
        "chance": chance,
        "chance_exact": exact,
        "nngs_normalised": nngs_normalised(score, chance),
        "nngs_normalised_exact": nngs_normalised(score, exact),
    }


def _global_metrics(X: np.ndarray, Y: np.ndarray, names: list[str], say) -> dict:
    out = {}
    for name in names:
        if name not in K_METRICS:
            say(f"{name} (n={len(X)})")
            out[name] = METRICS[name](X, Y)
    return out
