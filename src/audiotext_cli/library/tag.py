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
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    labels = list(dict.fromkeys(s.strip() for s in lines if s.strip() and not s.startswith("#")))
    if not labels:
        raise UsageError("no labels in the file", path)
    return labels


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
    text = model.embed_texts(labels).mean
    scores = emb.mean @ text.T
    top = min(top, len(labels))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :top]
    out = [
        {
            "id": row["id"],
            "path": row.get("path"),
            "tags": [{"label": labels[j], "score": float(scores[i, j])} for j in order[i]],
        }
        for i, row in enumerate(rows)
    ]
    if write and rows:
        tagged = [
            row | {"tags": [t["label"] for t in o["tags"]],
                   "tag_scores": [t["score"] for t in o["tags"]]}
            for row, o in zip(rows, out, strict=True)
        ]  # fmt: skip
        store.append(tagged, emb)  # every array, the tower's too: the store keeps its width
    return out
