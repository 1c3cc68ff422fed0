"""Search an index by text or by audio; the index names its model, so only its path is needed.

index.json records `model_source` (the checkpoint path) and `model_id` (name + weights
hash): the checkpoint is loaded once per process and must still have that id, so a
checkpoint retrained in place cannot silently answer queries for an index it did not build.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from audiotext_cli.embedder import Embedder, embed_audio_query
from audiotext_cli.errors import ConfigError, IndexFileError
from audiotext_cli.index.faiss_index import FaissIndex, Hit

if TYPE_CHECKING:
    from audiotext_cli.index.columns import RowTable


def resolve_embedder(source: str) -> Embedder:
    """Checkpoint path -> Embedder. The one place the model loader is reached (tests
    replace this function with a fake)."""
    from audiotext_cli.models import load_embedder

    return load_embedder(source)


_models: dict[str, Embedder] = {}


def load_model(source: str | Path) -> Embedder:
    """`resolve_embedder`, cached per process."""
    key = str(source)
    if key not in _models:
        _models[key] = resolve_embedder(key)
    return _models[key]


@lru_cache(maxsize=8)
def _cached_index(folder: str, stamp: float) -> FaissIndex:
    return FaissIndex.load(folder)


def open_index(index_dir: str | Path) -> FaissIndex:
    """Load (and verify) an index once per process, again only if index.json changed."""
    folder = Path(index_dir).resolve()
    meta = folder / "index.json"
    if not meta.exists():
        hint = ""
        if (folder / "meta.json").exists():  # `embed folder`'s output, one step short
            hint = f"; it is an embedding store: `audiotext index build {index_dir} --out IDX`"
        raise IndexFileError(f"not an index folder (no index.json){hint}", folder)
    return _cached_index(str(folder), meta.stat().st_mtime_ns)


def model_for(index: FaissIndex) -> Embedder:
    """The embedder that built `index`, checked by model_id."""
    source = index.meta.get("model_source")
    if not source:
        raise IndexFileError("index.json names no model_source; cannot embed queries")
    model = load_model(source)
    if model.model_id != index.meta["model_id"]:
        raise IndexFileError(
            f"model at {source} is {model.model_id!r}, the index was built with "
            f"{index.meta['model_id']!r}; rebuild the index or restore that checkpoint"
        )
    return model


def search_text(index_dir: str | Path, query: str, k: int = 10) -> list[Hit]:
    """Text -> the nearest audio clips (or captions, in a caption index)."""
    if not query.strip():
        raise ConfigError("the query is empty")
    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    index = open_index(index_dir)
    return index.search(model_for(index).embed_texts([query]), k)[0]


def search_audio(index_dir: str | Path, audio_path: str | Path, k: int = 10) -> list[Hit]:
    """Audio file -> nearest clips in an audio index, or nearest captions in a caption index."""
    from audiotext_cli.audio.io import load_audio

    if k < 1:
        raise ConfigError(f"k must be >= 1, got {k}")
    index = open_index(index_dir)
    model = model_for(index)
    wave = load_audio(audio_path, model.sample_rate)
    return index.search(embed_audio_query(model, wave, audio_path), k)[0]


def search_captions(
    caption_index_dir: str | Path, audio_path: str | Path, k: int = 10
) -> list[Hit]:
    """Audio -> text: captions from an index built with `embed text`."""
    kind = open_index(caption_index_dir).meta["kind"]
    if kind != "text":
        raise IndexFileError(f"not a caption index (it holds {kind} embeddings)", caption_index_dir)
    return search_audio(caption_index_dir, audio_path, k)


# -- hybrid search: filters before top-k, optional BM25 re-ranking, JSON-ready rows -------

RERANK_WEIGHT = 0.3
RERANK_POOL = 50  # candidates from each side (embedding, BM25) before blending, at least


@lru_cache(maxsize=8)
def _positions(index: FaissIndex) -> dict[str, int]:
    return {row["id"]: i for i, row in enumerate(index.rows)}


@lru_cache(maxsize=8)
def row_table(index: FaissIndex) -> RowTable:
    """The index rows' filter columns and tokens, kept for the index's lifetime."""
    from audiotext_cli.index.columns import RowTable

    return RowTable(index.rows)


def result_row(row: dict, rank: int, score: float) -> dict:
    """The row shape `search --format json|jsonl|csv` and the web API return (docs/index.md)."""
    from audiotext_cli.index.query import field_value

    out = {
        "id": row["id"],
        "rank": rank,
        "score": score,
        "path": row.get("path"),
        "folder": field_value(row, "folder"),
        "name": field_value(row, "name"),
        "duration": row.get("duration"),
        "sample_rate": row.get("sample_rate"),
        "channels": row.get("channels"),
        "format": row.get("format"),
        "size": row.get("size"),
        "sha256": row.get("sha256"),
        "metadata": row.get("metadata") or {},
        "tags": row.get("tags") or [],
    }
    if row.get("text") is not None:
        out["text"] = row["text"]
    return out


def search_rows(
    index_dir: str | Path,
    query: str | None = None,
    *,
    audio: str | Path | None = None,
    k: int = 10,
    where: str | None = None,
    text_filter: str | None = None,
    rerank: bool = False,
    rerank_weight: float = RERANK_WEIGHT,
) -> list[dict]:
    """Text (or `audio`) query -> top-k row dicts, within the rows matching `where` and
    `text_filter` (index/query.py), optionally re-ranked by BM25 (index/rerank.py)."""
    from audiotext_cli.errors import QueryError
    from audiotext_cli.index.query import select_rows

    if (query is None) == (audio is None):
        raise QueryError("give either a text query or an audio file")
    if rerank and query is None:
        raise QueryError("--rerank needs a text query (BM25 matches its words)")
    index = open_index(index_dir)
    model = model_for(index)
    if audio is not None:
        from audiotext_cli.audio.io import load_audio

        q = embed_audio_query(model, load_audio(audio, model.sample_rate), audio)
    else:
        q = model.embed_texts([query])
    subset = None
    if where or text_filter:
        subset = select_rows(index.rows, where, text_filter, table=row_table(index))
    if not rerank:
        hits = index.search(q, k, subset=subset)[0]
        pos = _positions(index)
        return [result_row(index.rows[pos[h.id]], h.rank, h.score) for h in hits]
    from audiotext_cli.index.rerank import blend

    return blend(index, q, query, k, subset, rerank_weight, RERANK_POOL)
