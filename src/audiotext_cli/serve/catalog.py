"""The index as the server sees it: rows by id, files that may be served, and searches.

Loaded once at start (index verified, model loaded and checked against the index), so a
request never pays for either. Files are reached only through a row of the index, by its
id: a client-supplied path is never opened, and a row whose file resolves outside its
library root (a symlink pointing out) is refused like an unknown id.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.embedder import Embedder, Embeddings, embed_audio_query
from audiotext_cli.errors import AudiotextError
from audiotext_cli.index.faiss_index import FaissIndex
from audiotext_cli.index.search import RERANK_WEIGHT, model_for, open_index, row_table

MAX_K = 200  # results one request may ask for
MAX_DEPTH = 2000  # offset + k: paging stops here (a listener never scrolls further)


class NotServable(AudiotextError):
    """An id that is not a row of the index, or whose file may not or cannot be served."""


@dataclass(frozen=True)
class Criteria:
    """Which rows a search may return: a `--where` condition, a `--filter` text filter
    (index/query.py's languages) and a folder prefix of the relative path."""

    where: str | None = None
    text: str | None = None
    folder: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.where or self.text or (self.folder or "").strip("/"))


class Catalog:
    """One loaded index and its model, shared by every request (searches serialised)."""

    def __init__(self, index_dir: str | Path) -> None:
        self.index_dir = Path(index_dir).resolve()
        self.index: FaissIndex = open_index(self.index_dir)
        self.model: Embedder = model_for(self.index)
        self.row_of = {row["id"]: number for number, row in enumerate(self.index.rows)}
        self._warm()
        self._lock = threading.Lock()

    def _warm(self) -> None:
        """Run the text tower once and read the page's filter columns and the filter
        tokens now, not on the first request (0.5 s of lazy set-up for the first text
        query; seconds of column reading for 100k rows)."""
        self.model.embed_texts(["warm up"])
        table = row_table(self.index)
        table.known_fields()
        for field in ("duration", "sample_rate"):
            table.column(field)
        table.token_index  # noqa: B018 (built on first access)

    # -- files -------------------------------------------------------------------------

    def row(self, item_id: str) -> dict[str, Any]:
        number = self.row_of.get(item_id)
        if number is None:
            raise NotServable("not in the index", item_id)
        return self.index.rows[number]

    def file(self, item_id: str) -> Path:
        """The real path of an indexed file, if it is still inside its library root.

        The root is the folder that was embedded: the row's path minus its relative id."""
        row = self.row(item_id)
        path = row.get("path")
        if not path or not path.endswith(item_id) or item_id.startswith("/"):
            raise NotServable("no audio file for this row", item_id)
        root = Path(path[: len(path) - len(item_id)])
        try:
            real = Path(path).resolve(strict=True)
        except (FileNotFoundError, RuntimeError):
            raise NotServable("file is missing on disk", item_id) from None
        if not real.is_relative_to(root.resolve()) or not real.is_file():
            raise NotServable("file is outside the library root", item_id)
        return real

    # -- searches ----------------------------------------------------------------------

    def embed_text(self, query: str) -> Embeddings:
        with self._lock:
            return self.model.embed_texts([query])

    def embed_wave(self, wave: np.ndarray) -> Embeddings:
        with self._lock:
            return embed_audio_query(self.model, wave)

    def stored(self, item_id: str) -> Embeddings:
        """The query embedding of an indexed row, from the vector the index holds.

        Probabilistic indexes store [mu, -s/2] (docs/index.md); a query needs mu and its
        variance, and the score only depends on s = sum(exp(logvar)), so a flat logvar
        of log(s/d) reproduces it exactly."""
        number = self.row_of.get(item_id)
        if number is None:
            raise NotServable("not in the index", item_id)
        from audiotext_cli.index.filtered import _reconstruct  # IVF: builds its direct map

        with self._lock:
            vector = np.asarray(_reconstruct(self.index.index, np.array([number]))[0], np.float32)
        dim = int(self.index.meta["dim"])
        mean = vector[None, :dim]
        if not self.index.probabilistic:
            return Embeddings(mean)
        s = max(-2.0 * float(vector[dim]), 1e-30)
        return Embeddings(mean, np.full((1, dim), math.log(s / dim), np.float32))

    def ranked(
        self,
        query: Embeddings,
        k: int,
        offset: int = 0,
        criteria: Criteria | None = None,
        rerank_text: str | None = None,
        rerank_weight: float = RERANK_WEIGHT,
    ) -> list[dict[str, Any]]:
        """Hits offset+1 .. offset+k as `search --format json` rows, among the rows
        `criteria` selects (applied before top-k, so k come back when k match);
        `rerank_text`: blend in BM25 on these words with `rerank_weight`, as
        `search --rerank [--rerank-weight W]` does."""
        from audiotext_cli.index.search import RERANK_POOL, result_row

        subset = self.subset(criteria) if criteria and criteria.active else None
        depth = offset + k
        with self._lock:
            if rerank_text:
                from audiotext_cli.index.rerank import blend

                index = self.index
                rows = blend(index, query, rerank_text, depth, subset, rerank_weight, RERANK_POOL)
                return rows[offset:depth]
            hits = self.index.search(query, depth, subset=subset)[0]
        return [
            result_row(self.index.rows[self.row_of[h.id]], h.rank, h.score)
            for h in hits[offset:depth]
        ]

    def tagged(self, labels: tuple[str, ...], top: int, positions: np.ndarray) -> list[dict]:
        """`tag --format jsonl` rows for the rows at `positions`: their `top` labels by
        cosine between the index's stored vector and the model's text vector of each
        label (the store's vectors for flat/HNSW/IVF-Flat indexes; IVF-PQ without a flat
        copy: its reconstructions)."""
        from audiotext_cli.index.filtered import _reconstruct
        from audiotext_cli.library.tag import tag_records, top_labels

        if self.index.meta["kind"] != "audio":
            raise AudiotextError("tags need an audio index; this one holds captions")
        dim = int(self.index.meta["dim"])
        with self._lock:
            text = self._label_vectors(labels)
            audio = np.zeros((0, dim), np.float32)
            if len(positions):
                audio = _reconstruct(self.index.index, positions)[:, :dim]
        rows = [self.index.rows[i] for i in positions]
        return tag_records(top_labels(rows, audio, text, list(labels), top))

    @lru_cache(maxsize=4)  # noqa: B019 (the UCS default list: embedded once, not per page)
    def _label_vectors(self, labels: tuple[str, ...]) -> np.ndarray:
        return self.model.embed_texts(list(labels)).mean

    def subset(self, criteria: Criteria) -> np.ndarray:
        """Row positions matching `criteria` (cached: paging through one filtered search
        evaluates its filter once)."""
        return self._subset(criteria)

    @lru_cache(maxsize=32)  # noqa: B019 (one Catalog per process, kept for its lifetime)
    def _subset(self, criteria: Criteria) -> np.ndarray:
        from audiotext_cli.index.query import select_rows

        table = row_table(self.index)
        keep = select_rows(self.index.rows, criteria.where, criteria.text, table=table)
        if criteria.folder:
            prefix = criteria.folder.strip("/") + "/"
            keep = keep[table.prefix_mask(prefix)[keep]]
        return keep

    def info(self) -> dict[str, Any]:
        meta = self.index.meta
        return {
            "index": str(self.index_dir),
            "count": len(self.index),
            "content": meta["kind"],
            "index_kind": self.index.spec.kind,
            "metric": meta["metric"],
            "dim": meta["dim"],
            "probabilistic": meta["probabilistic"],
            "model_id": meta["model_id"],
            "model_source": meta["model_source"],
            "sample_rate": self.model.sample_rate,
            "folders": self.folders(),
        }

    def folders(self, limit: int = 500) -> list[str]:
        """Sorted folders (relative to the library root) holding indexed files, for the
        page's folder filter suggestions."""
        found = {os.path.dirname(i) for i in self.row_of if "/" in i}
        return sorted(found)[:limit]
