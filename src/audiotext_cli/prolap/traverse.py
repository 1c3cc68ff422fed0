"""Audio traversal (ProLAP; ProLIP's HierarCaps protocol, prolap-math.md section 7).

Walk from the caption nearest an input towards a "root" (the embedding of the empty string,
the most general text) and retrieve the top-1 caption at each step. A model that learned the
hierarchy passes through ever more general captions of the same chain on the way.

Only means are interpolated and compared; variances only pick the root in the
"inclusion" modes. The root itself is never queried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiotext_cli.embedder import Embedder, Embeddings
from audiotext_cli.errors import ConfigError

ROOT_MODES = ("empty", "inclusion", "inclusion+empty")
"""empty: r = mu(""); inclusion: the caption that best includes the input (sum of S at
eps = 0); inclusion+empty: normalize(that caption + mu("")), ProLIP's Table 2 setting."""

N_LEVELS = 4


@dataclass(frozen=True)
class Step:
    """One query of a traversal: q = normalize(start - alpha (start - root)), alpha = step / n."""

    step: int
    alpha: float
    index: int  # row of the top-1 caption in the gallery
    text: str
    score: float  # cosine of that caption's mean to the query


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def traversal_queries(start_mu: np.ndarray, root_mu: np.ndarray, steps: int = 50) -> np.ndarray:
    """(steps, d) queries q_s = normalize(start - s/n (start - root)), s = 0..n-1."""
    if steps < 1:
        raise ConfigError(f"steps must be >= 1, got {steps}")
    start, root = np.asarray(start_mu, np.float64), np.asarray(root_mu, np.float64)
    alpha = np.arange(steps)[:, None] / steps
    return _normalize(start[None] - alpha * (start - root)[None])


def traverse(
    start_mu: np.ndarray,
    root_mu: np.ndarray,
    gallery_mu: np.ndarray,
    gallery_texts: Sequence[str],
    steps: int = 50,
) -> list[Step]:
    """Top-1 gallery caption (by mean cosine) for each of the `steps` queries."""
    if len(gallery_texts) != len(gallery_mu) or not len(gallery_texts):
        n_mu, n_text = len(gallery_mu), len(gallery_texts)
        raise ConfigError(f"gallery has {n_mu} vectors and {n_text} captions (need >= 1, equal)")
    queries = traversal_queries(start_mu, root_mu, steps)
    scores = queries @ _normalize(gallery_mu).T  # (steps, G)
    best = scores.argmax(1)
    return [
        Step(s, s / steps, int(j), gallery_texts[j], float(scores[s, j]))
        for s, j in enumerate(best)
    ]


def nearest(query_mu: np.ndarray, gallery_mu: np.ndarray) -> int:
    """Row of the gallery mean closest (cosine) to the query mean: the traversal's start."""
    return int((_normalize(gallery_mu) @ _normalize(query_mu)).argmax())


def inclusion_root(
    x_mu: np.ndarray, x_logvar: np.ndarray, gallery_mu: np.ndarray, gallery_logvar: np.ndarray
) -> int:
    """Gallery row j maximising sum_d S(x in t_j) at eps = 0 (ProLIP's uncertainty root).

    Pitfall (prolap-math.md Example C): S is not normalised, so it rewards a small container
    variance when means coincide and often picks the *finest* caption, not a general one.
    """
    import torch

    from audiotext_cli.losses.probabilistic import inclusion_score

    g_mu = torch.from_numpy(np.asarray(gallery_mu, np.float64))
    g_lv = torch.from_numpy(np.asarray(gallery_logvar, np.float64))
    x_mu_t = torch.from_numpy(np.asarray(x_mu, np.float64))[None].expand_as(g_mu)
    x_lv_t = torch.from_numpy(np.asarray(x_logvar, np.float64))[None].expand_as(g_lv)
    return int(inclusion_score(x_mu_t, x_lv_t, g_mu, g_lv, eps=0.0).sum(-1).argmax())


def root_vector(
    mode: str,
    x: Embeddings,
    gallery: Embeddings,
    empty_mu: np.ndarray,
) -> np.ndarray:
    """The traversal's end point for input `x` (one row) in one of `ROOT_MODES`."""
    if mode not in ROOT_MODES:
        raise ConfigError(f"unknown root mode {mode!r}: {', '.join(ROOT_MODES)}")
    if mode == "empty":
        return np.asarray(empty_mu, np.float64)
    if x.logvar is None or gallery.logvar is None:
        raise ConfigError(f"root mode {mode!r} needs variances: the model is deterministic")
    j = inclusion_root(x.mean[0], x.logvar[0], gallery.mean, gallery.logvar)
    if mode == "inclusion":
        return np.asarray(gallery.mean[j], np.float64)
    return _normalize(gallery.mean[j].astype(np.float64) + empty_mu)


def _walk(
    x: Embeddings,
    start: np.ndarray,
    gallery: Embeddings,
    gallery_texts: Sequence[str],
    empty_mu: np.ndarray,
    steps: int,
    root: str,
) -> list[Step]:
    r = root_vector(root, x, gallery, empty_mu)
    return traverse(start, r, gallery.mean, gallery_texts, steps)


def _empty_mu(embedder: Embedder) -> np.ndarray:
    """The root of the hierarchy: the embedding of the empty caption (section 6)."""
    return embedder.embed_texts([""]).mean[0]


def traverse_from_audio(
    embedder: Embedder,
    wave: np.ndarray,
    gallery_texts: Sequence[str],
    steps: int = 50,
    root: str = "empty",
) -> list[Step]:
    """Start at the gallery caption nearest the audio (means), walk to the root."""
    x = embedder.embed_waveforms([wave])
    gallery = embedder.embed_texts(list(gallery_texts))
    start = gallery.mean[nearest(x.mean[0], gallery.mean)]
    return _walk(x, start, gallery, gallery_texts, _empty_mu(embedder), steps, root)


def traverse_from_text(
    embedder: Embedder,
    text: str,
    gallery_texts: Sequence[str],
    steps: int = 50,
    root: str = "empty",
) -> list[Step]:
    """Start at the query text's own embedding, walk to the root."""
    x = embedder.embed_texts([text])
    gallery = embedder.embed_texts(list(gallery_texts))
    return _walk(x, x.mean[0], gallery, gallery_texts, _empty_mu(embedder), steps, root)


def traversal_metrics(
    retrieved_sets: Sequence[set[str]], gt_chains: Sequence[Sequence[str]]
) -> dict:
    """Section 7 step 5, by string match, averaged over inputs, x100:
    precision |P & G| / max(1, |P|), recall mean_l [G_l in P], per-level recall [G_l in P]
    (level 1 = most general first), any-recall [|P & G| > 0]."""
    if len(retrieved_sets) != len(gt_chains) or not gt_chains:
        raise ConfigError(f"{len(retrieved_sets)} retrieved sets for {len(gt_chains)} chains")
    pairs = list(zip(retrieved_sets, gt_chains, strict=True))
    found = np.array([[g in p for g in chain] for p, chain in pairs], dtype=bool)
    hits = np.array([len(set(p) & set(chain)) for p, chain in pairs])
    sizes = np.array([max(1, len(p)) for p in retrieved_sets])
    return {
        "precision": float(100 * (hits / sizes).mean()),
        "recall": float(100 * found.mean()),
        "per_level_recall": [float(v) for v in 100 * found.mean(0)],
        "any_recall": float(100 * (hits > 0).mean()),
    }


def gallery_and_chains(records: Sequence) -> tuple[list[str], list[list[str]]]:
    """All first-paraphrase captions at levels 1..4 (deduplicated strings, first-seen order)
    and each clip's chain of those 4 captions, general to specific."""
    from audiotext_cli.data.manifest import captions_at

    chains = [[captions_at(r, level)[0] for level in range(1, N_LEVELS + 1)] for r in records]
    gallery = list(dict.fromkeys(text for chain in chains for text in chain))
    return gallery, chains


def evaluate_traversal(
    embedder: Embedder,
    records: Sequence,
    steps: int = 50,
    root: str = "empty",
    audio: Embeddings | None = None,
) -> dict:
    """Traversal metrics of a model on a manifest: per clip, start at the gallery caption
    nearest its audio and walk to the root; the clip's 4 captions are the ground truth."""
    from audiotext_cli.evaluate.run import embed_records

    gallery_texts, chains = gallery_and_chains(records)
    gallery = embedder.embed_texts(gallery_texts)
    empty = _empty_mu(embedder)
    if audio is None:
        audio = embed_records(embedder, records)
    retrieved, lv = [], audio.logvar
    for i in range(len(records)):
        x = Embeddings(audio.mean[i : i + 1], None if lv is None else lv[i : i + 1])
        start = gallery.mean[nearest(x.mean[0], gallery.mean)]
        path = _walk(x, start, gallery, gallery_texts, empty, steps, root)
        retrieved.append({s.text for s in path})
    result = traversal_metrics(retrieved, chains)
    return result | {
        "n_clips": len(records),
        "n_gallery": len(gallery_texts),
        "steps": steps,
        "root": root,
        "mean_path_length": float(np.mean([len(p) for p in retrieved])),
    }


def collapse(path: Sequence[Step]) -> list[tuple[Step, int]]:
    """Runs of the same caption: (first step of the run, run length), in path order."""
    runs: list[tuple[Step, int]] = []
    for step in path:
        if runs and runs[-1][0].index == step.index:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((step, 1))
    return runs


def plot_traversal(path: Sequence[Step], out_png: str | Path, title: str = "traversal") -> Path:
    """PNG of a path: top-1 score per step, each caption labelled where the path reaches it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiotext_cli.atomic import write_atomic

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.plot([s.alpha for s in path], [s.score for s in path], "o-", ms=3, color="tab:blue")
    for k, (step, length) in enumerate(collapse(path)):
        ax.axvspan(step.alpha, step.alpha + length / len(path), color=f"C{k % 10}", alpha=0.12)
        ax.annotate(
            step.text[:40],
            (step.alpha, step.score),
            xytext=(2, 8 + 10 * (k % 3)),
            textcoords="offset points",
            fontsize=8,
            rotation=15,
        )
    ax.set_xlabel("alpha = step / n  (0: start caption, 1: root)")
    ax.set_ylabel("cosine of top-1 caption to query")
    ax.set_xlim(0, 1)
    ax.set_title(title)
    fig.tight_layout()
    try:
        return write_atomic(out_png, lambda tmp: fig.savefig(tmp, format="png"))
    finally:
        plt.close(fig)
