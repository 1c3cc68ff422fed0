"""EmbeddingStore: a folder of safetensors shards + JSONL metadata that survives kill -9.

Layout:
    meta.json              model_id, model_source, dim, probabilistic, sample_rate, kind, ...
    part-00000.safetensors tensors "mean" (n, d), for probabilistic models "logvar", and
                           for pretrained-tower models "tower" (n, tower_dim): the tower's
                           own clip embedding (kept for exports; search uses "mean")
    part-00000.jsonl       one metadata row per vector (id, path, duration, size, mtime, sha256,
                           model_id), readable by pandas.read_json(lines=True)
    manifest.json          the committed shards, in order: the only commit point
    errors.jsonl           files that could not be embedded, with a one-line reason

`append` writes a shard's two files atomically and then rewrites `manifest.json`
atomically. A kill before the manifest rename leaves files the manifest does not name;
readers ignore them and the next writer deletes them, so the rows are neither lost twice
nor duplicated: the job that re-runs embeds exactly the files that were not committed.

Writers are serialised by an OS file lock (`locks.writer_lock`): `append` waits for it,
a whole `embed folder` job holds it and a second job is refused. Integrity: the manifest
records each shard's row count and the sha256 of its two files; `load` verifies the shards
it reads, `rows()` the JSONL, and `verify()` (run when a writer reopens the store) all of
them, so a deleted line, a truncated shard or a flipped byte is one clear error naming the
file instead of misaligned ids and vectors. Non-finite vectors are refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.atomic import (
    remove_temp_files,
    utf8_json,
    write_atomic,
    write_json_atomic,
    write_text_atomic,
)
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import EmbeddingFileError
from audiotext_cli.hashing import file_sha256
from audiotext_cli.locks import WRITE_LOCK, writer_lock

FORMAT_VERSION = 1
KINDS = ("audio", "text")
_META_KEYS = ("model_id", "model_source", "dim", "probabilistic", "sample_rate", "kind")
_SAME_MODEL_KEYS = ("model_id", "dim", "probabilistic", "kind")


def check_same_model(
    meta: dict[str, Any],
    other: dict[str, Any],
    where: str | Path | None,
    error: type[Exception] = EmbeddingFileError,
    holder: str = "store",
) -> None:
    """Raise `error` unless `other` (another store's or index's meta, or an embedder's
    facts) describes the model of `meta`: the one rule for stores and indexes alike.
    Keys absent from `other` are not compared (an embedder knows no `kind`), except
    `model_id`, which must always match."""
    for key in _SAME_MODEL_KEYS:
        if (key in other or key == "model_id") and other.get(key) != meta.get(key):
            raise error(
                f"{key} mismatch: {holder} has {meta.get(key)!r}, got {other.get(key)!r}", where
            )


DoneKey = tuple[int | None, float | None, str | None]


class EmbeddingStore:
    """Append-only embedding shards under one model; the latest row per id wins."""

    def __init__(self, path: Path, meta: dict[str, Any]) -> None:
        self.path = path
        self.meta = meta

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, meta: dict[str, Any]) -> EmbeddingStore:
        """Start a store, or reopen it to resume when it already holds the same model."""
        path = Path(path)
        missing = [k for k in _META_KEYS if k not in meta]
        if missing:
            raise EmbeddingFileError(f"store metadata lacks {', '.join(missing)}", path)
        if meta["kind"] not in KINDS:
            raise EmbeddingFileError(f"kind must be one of {KINDS}, got {meta['kind']!r}", path)
        if (path / "meta.json").exists():
            store = cls.open(path)
            store.check_same_model(meta)
            store.verify()
            return store
        if path.exists() and any(p.name != WRITE_LOCK for p in path.iterdir()):
            raise EmbeddingFileError("folder exists, is not empty and is not a store", path)
        with writer_lock(path, wait=True, what="embedding store"):
            if (path / "meta.json").exists():  # another process created it meanwhile
                return cls.create(path, meta)
            full = {k: meta[k] for k in _META_KEYS} | {"tower_dim": int(meta.get("tower_dim", 0))}
            full |= {
                "format_version": FORMAT_VERSION,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            write_json_atomic(path / "manifest.json", {"shards": []})
            write_json_atomic(path / "meta.json", full)  # last: the store exists from here
        return cls(path, full)

    @classmethod
    def open(cls, path: str | Path) -> EmbeddingStore:
        path = Path(path)
        meta = _read_json(path / "meta.json", "not an embedding store (no meta.json)")
        if meta.get("format_version") != FORMAT_VERSION:
            raise EmbeddingFileError(
                f"store format {meta.get('format_version')!r}, this version reads {FORMAT_VERSION}",
                path,
            )
        return cls(path, meta)

    def check_same_model(self, other: dict[str, Any]) -> None:
        """Raise unless `other` (store meta or embedder facts) matches this store's model."""
        check_same_model(self.meta, other, self.path)

    # -- reading -------------------------------------------------------------------------

    def shards(self) -> list[str]:
        """Committed shard names, in commit order."""
        return list(self._manifest()["shards"])

    def _manifest(self) -> dict[str, Any]:
        manifest = _read_json(self.path / "manifest.json", "store has no manifest.json")
        if not isinstance(manifest.get("shards"), list):
            raise EmbeddingFileError("manifest.json has no shard list", self.path)
        return manifest

    def verify(self) -> None:
        """Check every committed shard against the manifest (row counts and checksums)."""
        manifest = self._manifest()
        for name in manifest["shards"]:
            self._shard_rows(name, manifest)
            self._shard_tensors(name, manifest)

    def rows(self) -> list[dict[str, Any]]:
        """Current metadata rows (latest per id), without reading any tensor."""
        return [row for _, _, row in self._latest()]

    def load(self) -> tuple[list[str], Embeddings, list[dict[str, Any]]]:
        """(ids, embeddings, rows), row-aligned, latest row per id, in commit order."""
        latest = self._latest()
        dim = int(self.meta["dim"])
        by_shard: dict[str, list[int]] = {}
        for name, index, _ in latest:
            by_shard.setdefault(name, []).append(index)
        manifest = self._manifest()
        tensors = {name: self._shard_tensors(name, manifest) for name in by_shard}
        mean = np.empty((len(latest), dim), np.float32)
        logvar = np.empty((len(latest), dim), np.float32) if self.meta["probabilistic"] else None
        tower_dim = self.tower_dim
        tower = np.empty((len(latest), tower_dim), np.float32) if tower_dim else None
        for out, (name, index, _) in enumerate(latest):
            mean[out] = tensors[name]["mean"][index]
            if logvar is not None:
                logvar[out] = tensors[name]["logvar"][index]
            if tower is not None:
                tower[out] = tensors[name]["tower"][index]
        rows = [row for _, _, row in latest]
        return [r["id"] for r in rows], Embeddings(mean, logvar, tower), rows

    @property
    def tower_dim(self) -> int:
        """Width of the stored tower vectors; 0 when the model has no pretrained tower."""
        return int(self.meta.get("tower_dim", 0))

    def done_keys(self) -> dict[str, DoneKey]:
        """path (or id for captions) -> (size, mtime, sha256) of what is embedded now."""
        return {
            row.get("path") or row["id"]: (row.get("size"), row.get("mtime"), row.get("sha256"))
            for row in self.rows()
        }

    def __len__(self) -> int:
        return len(self._latest())

    def _latest(self) -> list[tuple[str, int, dict[str, Any]]]:
        """(shard, row index, row) for the latest row of each id, ordered by that row."""
        latest: dict[str, tuple[str, int, dict[str, Any]]] = {}
        manifest = self._manifest()
        for name in manifest["shards"]:
            for index, row in enumerate(self._shard_rows(name, manifest)):
                latest.pop(row["id"], None)  # re-insert so order follows the newest row
                latest[row["id"]] = (name, index, row)
        return list(latest.values())

    def _shard_rows(self, name: str, manifest: dict[str, Any]) -> list[dict[str, Any]]:
        file = self.path / f"{name}.jsonl"
        _check_file(file, manifest.get("sha256", {}).get(f"{name}.jsonl"))
        rows = _read_jsonl(file)
        _check_count(file, len(rows), manifest)
        return rows

    def _shard_tensors(self, name: str, manifest: dict[str, Any]) -> dict[str, np.ndarray]:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        file = self.path / f"{name}.safetensors"
        _check_file(file, manifest.get("sha256", {}).get(file.name))
        try:
            tensors = load_file(str(file))
        except (SafetensorError, OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())
            raise EmbeddingFileError(f"truncated or corrupt shard ({reason})", file) from None
        if "mean" not in tensors or tensors["mean"].ndim != 2:
            raise EmbeddingFileError("shard has no (n, d) 'mean' tensor", file)
        if self.tower_dim and tensors.get("tower", np.zeros((0, 0))).shape[1:] != (self.tower_dim,):
            raise EmbeddingFileError(f"shard has no (n, {self.tower_dim}) 'tower' tensor", file)
        _check_count(file, len(tensors["mean"]), manifest)
        return tensors

    # -- writing -------------------------------------------------------------------------

    def append(self, rows: list[dict[str, Any]], emb: Embeddings) -> str | None:
        """Commit one shard holding `rows` and their embeddings; returns its name."""
        if not rows:
            return None
        self._check_batch(rows, emb)
        from safetensors.numpy import save_file

        with writer_lock(self.path, wait=True, what="embedding store"):
            self._clean_uncommitted()
            manifest = self._manifest()  # re-read under the lock: another writer may have added
            name = f"part-{_next_number(self.path):05d}"
            tensors = {"mean": np.ascontiguousarray(emb.mean, np.float32)}
            if emb.logvar is not None:
                tensors["logvar"] = np.ascontiguousarray(emb.logvar, np.float32)
            if emb.tower is not None:
                tensors["tower"] = np.ascontiguousarray(emb.tower, np.float32)
            weights, lines = self.path / f"{name}.safetensors", self.path / f"{name}.jsonl"
            write_atomic(weights, lambda p: save_file(tensors, str(p)))
            write_text_atomic(lines, "".join(jsonl_line(r) for r in rows))
            counts = manifest.get("counts", {}) | {name: len(rows)}
            sums = manifest.get("sha256", {})
            sums |= {weights.name: file_sha256(weights), lines.name: file_sha256(lines)}
            shards = [*manifest["shards"], name]
            write_json_atomic(
                self.path / "manifest.json", {"shards": shards, "counts": counts, "sha256": sums}
            )
        return name

    def _check_batch(self, rows: list[dict[str, Any]], emb: Embeddings) -> None:
        if len(rows) != len(emb):
            raise EmbeddingFileError(f"{len(rows)} rows for {len(emb)} vectors", self.path)
        if emb.mean.shape[1] != self.meta["dim"]:
            raise EmbeddingFileError(
                f"vectors have dim {emb.mean.shape[1]}, store has {self.meta['dim']}", self.path
            )
        arrays = [a for a in (emb.mean, emb.logvar, emb.tower) if a is not None]
        if not all(np.isfinite(a).all() for a in arrays):
            raise EmbeddingFileError("refusing to store NaN or infinite vectors", self.path)
        width = 0 if emb.tower is None else emb.tower.shape[1]
        if width != self.tower_dim:
            raise EmbeddingFileError(
                f"tower vectors of width {width} in a store with tower_dim {self.tower_dim}",
                self.path,
            )
        if emb.probabilistic != self.meta["probabilistic"]:
            raise EmbeddingFileError(
                f"probabilistic={emb.probabilistic} vectors in a store with "
                f"probabilistic={self.meta['probabilistic']}",
                self.path,
            )
        for row in rows:
            if "id" not in row:
                raise EmbeddingFileError("a metadata row has no id", self.path)
            if row.get("model_id", self.meta["model_id"]) != self.meta["model_id"]:
                raise EmbeddingFileError(
                    f"model_id mismatch: store has {self.meta['model_id']!r}, "
                    f"row {row['id']!r} has {row['model_id']!r}",
                    self.path,
                )

    def _clean_uncommitted(self) -> None:
        """Delete shard files a killed writer left behind (not named in the manifest).
        Called under the writer lock, so no live writer's files are touched."""
        committed = set(self.shards())
        for file in self.path.glob("part-*.*"):
            if file.name.split(".", 1)[0] not in committed:
                file.unlink(missing_ok=True)
        remove_temp_files(self.path)

    # -- errors --------------------------------------------------------------------------

    def errors(self) -> list[dict[str, Any]]:
        """Files that failed in the latest attempt and have not been embedded since."""
        file = self.path / "errors.jsonl"
        return _read_jsonl(file, key="path") if file.exists() else []

    def record_errors(self, failed: Iterable[dict[str, Any]], cleared: Iterable[str] = ()) -> None:
        """Merge `failed` rows (keyed by path) into errors.jsonl and drop `cleared` paths."""
        with writer_lock(self.path, wait=True, what="embedding store"):
            current = {row["path"]: row for row in self.errors()}
            for path in cleared:
                current.pop(path, None)
            for row in failed:
                current[row["path"]] = row
            text = "".join(jsonl_line(r) for r in current.values())
            write_text_atomic(self.path / "errors.jsonl", text)


def _next_number(folder: Path) -> int:
    numbers = [int(f.name[5:10]) for f in folder.glob("part-*.*") if f.name[5:10].isdigit()]
    return max(numbers, default=-1) + 1


def jsonl_line(row: dict[str, Any]) -> str:
    """One JSON line, keys sorted (`atomic.utf8_json`: undecodable file names escaped)."""
    return utf8_json(row, sort_keys=True) + "\n"


def _check_file(file: Path, sha256: str | None) -> None:
    if not file.is_file():
        raise EmbeddingFileError("committed shard file is missing", file)
    if sha256 is not None and file_sha256(file) != sha256:
        raise EmbeddingFileError(
            "checksum mismatch with manifest.json: the shard is corrupt or was modified", file
        )


def _check_count(file: Path, rows: int, manifest: dict[str, Any]) -> None:
    expected = manifest.get("counts", {}).get(file.name.split(".", 1)[0])
    if expected is not None and rows != expected:
        raise EmbeddingFileError(f"holds {rows} rows, manifest.json says {expected}", file)


def _read_json(path: Path, missing: str) -> dict[str, Any]:
    if not path.exists():
        raise EmbeddingFileError(missing, path.parent)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EmbeddingFileError(f"{path.name} is not valid JSON ({exc})", path.parent) from None


def _read_jsonl(path: Path, key: str = "id") -> list[dict[str, Any]]:
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise EmbeddingFileError("not UTF-8 text (corrupt?)", path) from None
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise EmbeddingFileError(f"line {number} is not valid JSON", path) from None
            if not isinstance(row, dict) or key not in row:
                raise EmbeddingFileError(f"line {number} is not a row with an {key!r}", path)
            rows.append(row)
    return rows


def merge_stores(stores: Iterable[str | Path | EmbeddingStore], out: str | Path) -> EmbeddingStore:
    """Join stores of one model (e.g. the shards of `embed folder --shard i/n`) into `out`."""
    sources = [s if isinstance(s, EmbeddingStore) else EmbeddingStore.open(s) for s in stores]
    if not sources:
        raise EmbeddingFileError("nothing to merge")
    first = sources[0]
    for other in sources[1:]:
        first.check_same_model(other.meta)
    target = EmbeddingStore.create(out, first.meta)
    for source in sources:
        ids, emb, rows = source.load()
        target.append(rows, emb)
        target.record_errors(source.errors())
    return target
