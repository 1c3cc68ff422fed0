"""Exact and near duplicates in a store or an index (`audiotext dedup`).

Exact: rows with the same content sha256. Near: pairs whose embeddings have cosine >=
`threshold`, found by a FAISS range search (the index's own for flat/IVF/HNSW indexes of a
deterministic model; else an exact inner-product index over the unit means). Groups are
the connected components of both relations. The suggested keeper of a group is the first
by (lossless format, highest sample rate, longest duration, largest file): re-encodes to
MP3 and resamples go, and an MP3's decoder padding cannot make it win on length.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from audiotext_cli.errors import IndexFileError

if TYPE_CHECKING:  # numpy at run time only: the CLI imports DEFAULT_THRESHOLD
    import numpy as np

# Real model, real barks (benchmarks/dedup_real.py, docs/library.md): planted re-exports
# score >= 0.955 with their original (-6 dB is the lowest), distinct barks <= 0.933, so
# 0.95 finds every planted pair and merges nothing else; 0.97 missed the -6 dB copies.
DEFAULT_THRESHOLD = 0.95
LOSSLESS = frozenset({"WAV", "WAVEX", "FLAC", "AIFF", "RF64", "W64", "CAF"})
# the keys of a group member (the dedup CSV columns after group and kind)
MEMBER_FIELDS = ("id", "path", "keeper", "similarity", "same_content", "sha256", "duration",
                 "sample_rate", "format", "size")  # fmt: skip


def load_vectors(source: str | Path) -> tuple[list[dict[str, Any]], np.ndarray, Any]:
    """(rows, unit means, own faiss index or None) from a store or an index folder."""
    import numpy as np

    from audiotext_cli.index.faiss_index import FaissIndex
    from audiotext_cli.index.store import EmbeddingStore

    folder = Path(source)
    if (folder / "index.json").exists():
        loaded = FaissIndex.load(folder)
        dim = int(loaded.meta["dim"])
        vectors = loaded.index.reconstruct_n(0, len(loaded))[:, :dim]
        usable = not loaded.probabilistic and loaded.spec.kind in ("flat", "ivf", "hnsw")
        return (
            loaded.rows,
            np.ascontiguousarray(vectors, np.float32),
            (loaded.index if usable else None),
        )
    if (folder / "meta.json").exists():
        _, emb, rows = EmbeddingStore.open(folder).load()
        return rows, np.ascontiguousarray(emb.mean, np.float32), None
    raise IndexFileError("neither an embedding store nor an index folder", folder)


def near_pairs(vectors: np.ndarray, threshold: float, index: Any = None) -> list[tuple[int, int]]:
    """(i, j), i < j, with inner product >= threshold, by range search."""
    from audiotext_cli.blas import import_faiss

    faiss = import_faiss()

    if index is None:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
    if len(vectors) == 0:
        return []
    lims, scores, ids = index.range_search(vectors, float(threshold))
    pairs = []
    for i in range(len(vectors)):
        for j in ids[lims[i] : lims[i + 1]]:
            if int(j) > i:
                pairs.append((i, int(j)))
    return pairs


def _keeper_key(row: dict[str, Any]) -> tuple:
    lossless = str(row.get("format") or Path(str(row.get("path", ""))).suffix[1:]).upper()
    return (
        lossless in LOSSLESS,
        row.get("sample_rate") or 0,
        row.get("duration") or 0.0,
        row.get("size") or 0,
    )


def find_duplicates(
    source: str | Path, threshold: float = DEFAULT_THRESHOLD
) -> list[dict[str, Any]]:
    """Duplicate groups: {group, kind (exact|near), keeper, members: [row + similarity]}."""
    rows, vectors, own = load_vectors(source)
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    exact: set[tuple[int, int]] = set()
    first_by_hash: dict[str, int] = {}
    for i, row in enumerate(rows):
        sha = row.get("sha256")
        if sha in first_by_hash:
            exact.add((first_by_hash[sha], i))
        elif sha:
            first_by_hash[sha] = i
    for i, j in [*exact, *near_pairs(vectors, threshold, own)]:
        parent[find(i)] = find(j)
    members: dict[int, list[int]] = {}
    for i in range(len(rows)):
        members.setdefault(find(i), []).append(i)
    groups = []
    for group in sorted((g for g in members.values() if len(g) > 1), key=lambda g: g[0]):
        keeper = max(group, key=lambda i: (_keeper_key(rows[i]), -i))
        hashes = {rows[i].get("sha256") for i in group}
        groups.append(
            {
                "group": len(groups) + 1,
                "kind": "exact" if len(hashes) == 1 else "near",
                "keeper": rows[keeper]["id"],
                "members": [
                    {
                        "id": rows[i]["id"],
                        "path": rows[i].get("path"),
                        "keeper": i == keeper,
                        "similarity": float(vectors[i] @ vectors[keeper]),
                        "same_content": rows[i].get("sha256") == rows[keeper].get("sha256"),
                        "sha256": rows[i].get("sha256"),
                        "duration": rows[i].get("duration"),
                        "sample_rate": rows[i].get("sample_rate"),
                        "format": rows[i].get("format"),
                        "size": rows[i].get("size"),
                    }
                    for i in sorted(group, key=lambda i: (i != keeper, i))
                ],
            }
        )
    return groups


def pair_scores(groups: list[dict[str, Any]], truth: list[set[str]]) -> dict[str, float]:
    """Pairwise precision/recall of found groups against planted groups (sets of ids)."""
    found = {frozenset((a["id"], b["id"])) for g in groups for a in g["members"]
             for b in g["members"] if a["id"] < b["id"]}  # fmt: skip
    planted = {frozenset((a, b)) for g in truth for a in g for b in g if a < b}
    hit = len(found & planted)
    return {
        "pairs_found": len(found),
        "pairs_planted": len(planted),
        "precision": hit / len(found) if found else 1.0,
        "recall": hit / len(planted) if planted else 1.0,
    }
