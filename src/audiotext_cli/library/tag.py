"""Zero-shot tags (`audiotext tag`): each clip's top labels by cosine between its audio
embedding and the store model's text embedding of each label; UCS categories by default.

With `write=True` the tags go into the store rows (`tags`: label list, `tag_scores`) as a
new shard that supersedes the old rows (vectors unchanged), so `--filter` and
`--where "tag=..."` see them once the index is rebuilt from the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.errors import UsageError
from audiotext_cli.index.store import EmbeddingStore


def read_labels(path: str | Path | None) -> list[str]:
    """One label per line (blank lines and '#' comments skipped); None: the UCS list."""
    if path is None:
        from audiotext_cli.library.ucs import ucs_labels

        return list(dict.fromkeys(ucs_labels()))
    labels = clean_labels(Path(path).read_text(encoding="utf-8").splitlines())
    if not labels:
        raise UsageError("no labels in the file", path)
    return labels


def clean_labels(lines: list[str]) -> list[str]:
    """Labels stripped, in order, without blanks, '#' comments and repeats (a file's lines,
    or the labels a web client sends)."""
    return list(dict.fromkeys(s.strip() for s in lines if s.strip() and not s.startswith("#")))


def tag_store(
    store_dir: str | Path,
    labels: list[str] | None = None,
    top: int = 3,
    write: bool = False,
) -> list[dict[str, Any]]:
    """[{id, path, tags: [{label, score}]}] per row; optionally written into the store.
    `labels` default to the UCS categories, as for `audiotext tag` without `--labels`."""
    from audiotext_cli.index.search import load_model

    labels = read_labels(None) if labels is None else labels

    store = EmbeddingStore.open(store_dir)
    if store.meta["kind"] != "audio":
        raise UsageError("tag needs an audio store", store_dir)
    model = load_model(store.meta["model_source"])
    store.check_same_model({"model_id": model.model_id})
    ids, emb, rows = store.load()
    out = top_labels(rows, emb.mean, model.embed_texts(labels).mean, labels, top)
    if write and rows:
        tagged = [
            row | {"tags": [t["label"] for t in o["tags"]],
                   "tag_scores": [t["score"] for t in o["tags"]]}
            for row, o in zip(rows, out, strict=True)
        ]  # fmt: skip
        store.append(tagged, emb)  # every array, the tower's too: the store keeps its width
    return out


def top_labels(
    rows: list[dict[str, Any]],
    audio: np.ndarray,
    text: np.ndarray,
    labels: list[str],
    top: int,
) -> list[dict[str, Any]]:
    """Each row's `top` labels by cosine between its audio vector (a row of `audio`) and
    the labels' text vectors (rows of `text`): `tag_store`'s result, and the web API's."""
    scores = np.asarray(audio, np.float32) @ np.asarray(text, np.float32).T
    top = min(top, len(labels))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
    return [
        {
            "id": row["id"],
            "path": row.get("path"),
            "tags": [{"label": labels[j], "score": float(scores[i, j])} for j in order[i]],
        }
        for i, row in enumerate(rows)
    ]


def tag_records(tagged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One {id, path, rank, label, score} per file and kept label: the rows of
    `tag --format jsonl|csv` and of the web API's `POST /api/tag`."""
    return [
        {"id": t["id"], "path": t["path"], "rank": n, "label": x["label"], "score": x["score"]}
        for t in tagged
        for n, x in enumerate(t["tags"], 1)
    ]
