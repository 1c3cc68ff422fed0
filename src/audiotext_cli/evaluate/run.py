"""The evaluation table of a model on a manifest: retrieval both ways and zero-shot per level."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from audiotext_cli.embedder import Embedder, Embeddings
from audiotext_cli.evaluate.retrieval import (
    caption_relevance,
    chance_metrics,
    rank_metrics,
    similarity,
)
from audiotext_cli.evaluate.zeroshot import (
    DEFAULT_TEMPLATES,
    accuracy_report,
    class_embeddings,
    classify,
)

LABEL_LEVELS = (1, 2, 3)


def embed_records(
    embedder: Embedder,
    records: Sequence,
    batch: int = 32,
    progress: Callable[[int], None] | None = None,
) -> Embeddings:
    """Embed every record's audio file, in manifest order (through the embedder's own
    `embed_files` where it has one: a tower model's feature cache)."""
    from audiotext_cli.audio.io import load_audio

    def embed(paths: list[str]) -> Embeddings:
        if hasattr(embedder, "embed_files"):
            return embedder.embed_files(paths)
        return embedder.embed_waveforms([load_audio(p, embedder.sample_rate) for p in paths])

    means, logvars = [], []
    for i in range(0, len(records), batch):
        chunk = records[i : i + batch]
        emb = embed([r.audio for r in chunk])
        means.append(emb.mean)
        if emb.logvar is not None:
            logvars.append(emb.logvar)
        if progress:
            progress(len(chunk))
    return Embeddings(np.concatenate(means), np.concatenate(logvars) if logvars else None)


def evaluate(
    embedder: Embedder,
    records: Sequence,
    audio: Embeddings | None = None,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    use_variance: bool = True,
) -> dict:
    """Metrics dict: {"text_to_audio": {...}, "audio_to_text": {...}, "zeroshot": {level: {...}}},
    each with a "chance" entry. Retrieval uses level-4 captions; equal captions are all relevant.
    A probabilistic model ranks by CSD unless `use_variance` is False (means only: the
    ablation that asks what the variances add)."""
    if audio is None:
        audio = embed_records(embedder, records)
    queries, relevant, sim = _caption_queries(embedder, records, audio, use_variance)
    result = {
        "n_audio": len(records),
        "n_captions": len(queries),
        "text_to_audio": {**rank_metrics(sim, relevant), "chance": chance_metrics(relevant)},
        "audio_to_text": {**rank_metrics(sim.T, relevant.T), "chance": chance_metrics(relevant.T)},
        "zeroshot": {},
    }

    def embed_prompts(prompts: list[str]) -> np.ndarray:
        return embedder.embed_texts(prompts).mean

    for level in LABEL_LEVELS:
        names = sorted({r.labels[level - 1] for r in records})
        if len(names) < 2:
            continue
        truth = np.array([names.index(r.labels[level - 1]) for r in records])
        pred = classify(audio.mean, class_embeddings(names, embed_prompts, templates))
        result["zeroshot"][str(level)] = accuracy_report(pred, truth, len(names))
    return result


def _caption_queries(
    embedder, records: Sequence, audio: Embeddings, use_variance: bool = True
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The level-4 captions as queries (sorted), their relevance to every clip (equal
    captions all count) and their similarity to the clips' audio (CSD unless told not to)."""
    from audiotext_cli.data.manifest import captions_at

    item_caps = [set(captions_at(r, 4)) for r in records]
    queries = sorted({captions_at(r, 4)[0] for r in records})
    text = embedder.embed_texts(queries)
    logvars = (text.logvar, audio.logvar) if use_variance else (None, None)
    return (
        queries,
        caption_relevance(queries, item_caps),
        similarity(text.mean, audio.mean, *logvars),
    )


def per_category_recall(
    embedder, records: Sequence, audio: Embeddings | None = None
) -> dict[str, dict]:
    """Text->audio recall by level-1 category: each level-4 caption is a query against the
    whole gallery, filed under the category of the clips it describes, with its chance."""
    from audiotext_cli.data.manifest import captions_at

    if audio is None:
        audio = embed_records(embedder, records)
    queries, relevant, sim = _caption_queries(embedder, records, audio)
    category = {}
    for r in records:
        category.setdefault(captions_at(r, 4)[0], r.labels[0])
    out = {}
    for name in sorted(set(category.values())):
        rows = np.array([category[q] == name for q in queries])
        out[name] = {
            "n_queries": int(rows.sum()),
            "n_clips": sum(r.labels[0] == name for r in records),
            **rank_metrics(sim[rows], relevant[rows]),
            "chance": chance_metrics(relevant[rows]),
        }
    return out


def summary_rows(result: dict) -> list[tuple[str, float, float]]:
    """(metric, value, chance) rows for a table."""
    rows = []
    for direction in ("text_to_audio", "audio_to_text"):
        block = result[direction]
        for k in ("R@1", "R@5", "R@10"):
            rows.append((f"{direction} {k}", block[k], block["chance"][k]))
        rows.append((f"{direction} mAP@10", block["mAP@10"], None))
    for level, rep in result["zeroshot"].items():
        rows.append(
            (
                f"zero-shot level {level} accuracy ({rep['n_classes']} classes)",
                rep["accuracy"],
                rep["chance"],
            )
        )
        rows.append(
            (f"zero-shot level {level} balanced accuracy", rep["balanced_accuracy"], rep["chance"])
        )
    return rows
