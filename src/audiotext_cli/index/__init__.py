"""Embedding stores, folder/caption embedding jobs, FAISS indexes and search (docs/index.md).

Importing this package does not import faiss or torch; they load on first use.
"""

from audiotext_cli.index.faiss_index import (
    FaissIndex,
    Hit,
    IndexSpec,
    add,
    build_index,
    choose_index,
    info,
    merge,
)
from audiotext_cli.index.folder import EmbedProgress, EmbedReport, embed_captions, embed_folder
from audiotext_cli.index.search import search_audio, search_captions, search_text
from audiotext_cli.index.store import EmbeddingStore, merge_stores

__all__ = [
    "EmbedProgress",
    "EmbedReport",
    "EmbeddingStore",
    "FaissIndex",
    "Hit",
    "IndexSpec",
    "add",
    "build_index",
    "choose_index",
    "embed_captions",
    "embed_folder",
    "info",
    "merge",
    "merge_stores",
    "search_audio",
    "search_captions",
    "search_text",
]
