"""Uncertainty as an output: which clips and captions a probabilistic model is most and least
sure of, measured by the total variance sum_d exp(logvar_d) (the trace that PPCL's logit
subtracts, so it is the quantity that actually lowers match scores)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audiotext_cli.embedder import Embedder, Embeddings
from audiotext_cli.errors import CheckpointError, ConfigError, EmbeddingFileError

KINDS = ("audio", "text")


def total_variance(logvar: np.ndarray) -> np.ndarray:
    """(n, d) log-variances -> (n,) traces sum_d sigma_d^2, in float64."""
    return np.exp(np.asarray(logvar, np.float64)).sum(-1)


def rank_uncertainty(
    ids: Sequence[str], logvar: np.ndarray, top: int = 10
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(most certain, least certain): the `top` ids with the smallest and the largest total
    variance, each as (id, total variance), most extreme first. Ties keep input order."""
    if len(ids) != len(logvar):
        raise ConfigError(f"{len(ids)} ids for {len(logvar)} log-variance rows")
    if top < 1:
        raise ConfigError(f"top must be >= 1, got {top}")
    tv = total_variance(logvar)
    order = np.argsort(tv, kind="stable")
    rows = [(ids[i], float(tv[i])) for i in order]
    return rows[:top], rows[::-1][:top]


def check_probabilistic(embedder: Embedder) -> None:
    """A one-line error, naming the checkpoint, for a model without variances."""
    if not embedder.probabilistic:
        source = getattr(embedder, "source", embedder.model_id)
        raise CheckpointError(
            "model has no variances (deterministic; train a prolap model)", source
        )


def manifest_items(
    embedder: Embedder, records: Sequence, kind: str
) -> tuple[list[str], Embeddings]:
    """What to rank from a manifest: audio files by path, or every distinct caption string
    (all levels, all paraphrases, first-seen order)."""
    if kind == "audio":
        from audiotext_cli.evaluate.run import embed_records

        return [r.audio for r in records], embed_records(embedder, records)
    if kind == "text":
        texts = list(dict.fromkeys(c["text"] for r in records for c in r.captions))
        return texts, embedder.embed_texts(texts)
    raise ConfigError(f"unknown kind {kind!r}: {', '.join(KINDS)}")


def store_items(path: str | Path, embedder: Embedder) -> tuple[str, list[str], Embeddings]:
    """(kind, labels, embeddings) of an embedding store made by `embedder`; labels are
    paths or caption texts."""
    from audiotext_cli.index.store import EmbeddingStore

    store = EmbeddingStore.open(path)
    store.check_same_model({"model_id": embedder.model_id})
    ids, emb, rows = store.load()
    if emb.logvar is None:
        raise EmbeddingFileError("store has no variances (made by a deterministic model)", path)
    labels = [row.get("path") or row.get("text") or i for i, row in zip(ids, rows, strict=True)]
    return store.meta["kind"], labels, emb


def variance_by_level(records: Sequence, texts: Sequence[str], logvar: np.ndarray) -> dict:
    """{level: total variances of the distinct captions at that level} (1 general .. 4
    specific; every paraphrase counts once per level), from `manifest_items`' texts."""
    from audiotext_cli.data.manifest import LEVELS, captions_at

    tv = dict(zip(texts, total_variance(logvar), strict=True))
    return {
        level: np.array(
            [tv[t] for t in dict.fromkeys(t for r in records for t in captions_at(r, level))]
        )
        for level in LEVELS
    }


def plot_variance_by_level(groups: dict, out_png: str | Path, title: str) -> Path:
    """PNG: a box per caption level of its captions' total variance, mean marked. ProLAP
    wants the boxes to fall from level 1 (general, wide) to level 4 (specific)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiotext_cli.atomic import write_atomic

    levels = [lv for lv, v in groups.items() if len(v)]
    if not levels:
        raise ConfigError("no captions with a level to plot")
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=100)
    ax.boxplot([groups[lv] for lv in levels], showmeans=True, showfliers=False)
    ax.set_xticks(
        range(1, len(levels) + 1), [f"level {lv}\n({len(groups[lv])} captions)" for lv in levels]
    )
    ax.set_ylabel("total variance  sum_d exp(logvar_d)")
    ax.set_xlabel("caption level (1 general .. 4 specific)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    try:
        return write_atomic(out_png, lambda tmp: fig.savefig(tmp, format="png"))
    finally:
        plt.close(fig)


def uncertainty_report(labels: Sequence[str], logvar: np.ndarray, top: int = 10) -> dict:
    """Summary of one kind: count, mean/median total variance and both ends of the ranking."""
    most, least = rank_uncertainty(labels, logvar, top)
    tv = total_variance(logvar)
    return {
        "n": len(labels),
        "mean_total_variance": float(tv.mean()),
        "median_total_variance": float(np.median(tv)),
        "most_certain": [{"id": i, "total_variance": v} for i, v in most],
        "least_certain": [{"id": i, "total_variance": v} for i, v in least],
    }
