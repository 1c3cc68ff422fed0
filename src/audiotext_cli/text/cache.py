"""A persistent text -> feature map, so a frozen text tower encodes each caption once.

Layout of `<path>/`: `meta.json` (model_id, dim), `features.npy` (n, dim) float32 and
`texts.jsonl` (one JSON string per line; line i is row i).

Crash safety: each commit rewrites `features.npy` then `texts.jsonl`, each through a temp file
and a rename (`atomic.py`). `texts.jsonl` is the commit record: a kill -9 between the two
renames leaves extra rows in `features.npy`, which are ignored because rows are only ever
appended. Rewriting costs O(n) per commit, so `get_many` commits per chunk, not per text.
Commits take an exclusive lock and re-read the files first, so concurrent writers (e.g. DDP
ranks) merge their rows instead of overwriting each other's.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from audiotext_cli.atomic import write_atomic, write_json_atomic
from audiotext_cli.errors import EmbeddingFileError


class TextEncoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray:
        """Texts -> (n, dim) features, row i for texts[i]."""
        ...


class TextFeatureCache:
    """Features of one text encoder (`model_id`), kept on disk across runs."""

    def __init__(self, path: str | Path, model_id: str, dim: int = 384) -> None:
        self.path = Path(path)
        self.model_id = model_id
        self.dim = dim
        self.path.mkdir(parents=True, exist_ok=True)
        self._check_meta()
        self._load()

    @property
    def _features_path(self) -> Path:
        return self.path / "features.npy"

    @property
    def _texts_path(self) -> Path:
        return self.path / "texts.jsonl"

    def __len__(self) -> int:
        return len(self._texts)

    def __contains__(self, text: object) -> bool:
        return text in self._row

    def get_many(
        self, texts: Sequence[str], encoder: TextEncoder, chunk_size: int = 4096
    ) -> np.ndarray:
        """Features for `texts` in order, encoding (and committing) only the unseen ones."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._row))
        for start in range(0, len(missing), chunk_size):
            chunk = missing[start : start + chunk_size]
            vectors = np.asarray(encoder.encode(chunk), dtype=np.float32)
            if vectors.shape != (len(chunk), self.dim):
                raise EmbeddingFileError(
                    f"encoder returned shape {vectors.shape} for {len(chunk)} texts, "
                    f"expected ({len(chunk)}, {self.dim})",
                    self.path,
                )
            self._commit(chunk, vectors)
        return self._features[[self._row[t] for t in texts]].reshape(len(texts), self.dim)

    def _check_meta(self) -> None:
        meta_path = self.path / "meta.json"
        if not meta_path.exists():
            if self._texts_path.exists() or self._features_path.exists():
                raise EmbeddingFileError("feature cache has no meta.json", self.path)
            write_json_atomic(meta_path, {"model_id": self.model_id, "dim": self.dim})
            return
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise EmbeddingFileError(f"unreadable meta.json ({e})", meta_path) from e
        if meta.get("model_id") != self.model_id or meta.get("dim") != self.dim:
            raise EmbeddingFileError(
                f"feature cache is for {meta.get('model_id')} (dim {meta.get('dim')}), "
                f"not {self.model_id} (dim {self.dim})",
                self.path,
            )

    def _load(self) -> None:
        texts: list[str] = []
        features = np.zeros((0, self.dim), dtype=np.float32)
        if self._texts_path.exists():
            lines = self._texts_path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, 1):
                try:
                    texts.append(json.loads(line))
                except ValueError as e:
                    raise EmbeddingFileError(f"line {number}: {e}", self._texts_path) from e
        if texts:
            try:
                features = np.load(self._features_path)
            except (OSError, ValueError) as e:
                raise EmbeddingFileError(f"unreadable features ({e})", self._features_path) from e
            if features.ndim != 2 or features.shape[1] != self.dim or len(features) < len(texts):
                raise EmbeddingFileError(
                    f"features shape {features.shape} does not fit {len(texts)} texts "
                    f"of dim {self.dim}",
                    self._features_path,
                )
            features = features[: len(texts)].astype(np.float32, copy=False)
        self._texts, self._features = texts, features
        self._row = {t: i for i, t in enumerate(texts)}

    @contextmanager
    def _lock(self) -> Iterator[None]:
        with (self.path / ".lock").open("w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _commit(self, texts: list[str], vectors: np.ndarray) -> None:
        with self._lock():
            self._load()  # another writer may have committed since we last read
            new = [i for i, t in enumerate(texts) if t not in self._row]
            if not new:
                return
            features = np.concatenate([self._features, vectors[new]])
            all_texts = self._texts + [texts[i] for i in new]

            def save_features(tmp: Path) -> None:
                with tmp.open("wb") as f:  # a file object: np.save would append ".npy" to a path
                    np.save(f, features)

            write_atomic(self._features_path, save_features)
            lines = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in all_texts)
            write_atomic(self._texts_path, lambda tmp: tmp.write_text(lines, encoding="utf-8"))
            self._texts, self._features = all_texts, features
            self._row.update(
                (all_texts[i], i) for i in range(len(all_texts) - len(new), len(all_texts))
            )
