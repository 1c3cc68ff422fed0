"""Embedding jobs that fill an EmbeddingStore: audio folders and caption lists.

Audio is decoded in worker processes (decoding only, so the model is loaded once, in this
process) and embedded in batches. Work is committed every `commit_every` files, so a killed
job loses at most that many files of work and a re-run embeds exactly what is missing or
changed: a file is skipped when its (size, mtime) or its sha256 matches the stored row.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.embedder import Embedder, Embeddings
from audiotext_cli.errors import AudiotextError, EmbeddingFileError
from audiotext_cli.index.store import EmbeddingStore

# Spawned decoders take 1-3 s to start on a busy 2-core box; below this, decode inline.
MIN_FILES_FOR_WORKERS = 16
AUDIO_GLOBS = ("*.wav", "*.flac", "*.ogg", "*.mp3", "*.opus", "*.aif", "*.aiff")


@dataclass(frozen=True)
class EmbedProgress:
    done: int  # files finished (embedded, skipped or failed)
    total: int
    files_per_s: float
    audio_hours_per_s: float


@dataclass
class EmbedReport:
    embedded: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # metadata problems


ProgressFn = Callable[[EmbedProgress], None]


def list_files(
    root: str | Path,
    include: Sequence[str] = AUDIO_GLOBS,
    exclude: Sequence[str] = (),
    shard: tuple[int, int] | None = None,
    skip_dirs: Sequence[Path] = (),
) -> list[Path]:
    """Files under `root` in sorted order, filtered by globs (matched against the relative
    path and the file name) and by `shard=(i, n)`: a stable hash of the relative path."""
    root = Path(root)
    if not root.is_dir():
        raise EmbeddingFileError("not a folder", root)
    skip = [d.resolve() for d in skip_dirs]
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or any(d in path.resolve().parents for d in skip):
            continue
        if _matches(rel, include) and not _matches(rel, exclude) and _in_shard(rel, shard):
            files.append(path)
    return files


def _matches(rel: str, globs: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in globs)


def _in_shard(rel: str, shard: tuple[int, int] | None) -> bool:
    if shard is None:
        return True
    index, count = shard
    return int.from_bytes(hashlib.sha1(rel.encode()).digest()[:8], "big") % count == index


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' -> (i, n) with 0 <= i < n."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise EmbeddingFileError(f"shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if not 0 <= index < count:
        raise EmbeddingFileError(f"shard {text!r}: need 0 <= i < n")
    return index, count


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _decode(path: str, sr: int, known_sha: str | None) -> dict[str, Any]:
    """Worker: hash, and decode unless the content is unchanged. Never raises for bad audio."""
    from audiotext_cli.audio.io import load_audio, probe
    from audiotext_cli.library.metadata import read_metadata

    result: dict[str, Any] = {"path": path}
    try:
        result["sha256"] = sha256_file(path)
        if result["sha256"] == known_sha:
            return result | {"status": "unchanged"}
        wave = load_audio(path, sr)
        info = probe(path)
    except (AudiotextError, OSError) as exc:
        reason = exc.reason if isinstance(exc, AudiotextError) else str(exc)
        return result | {"status": "failed", "reason": reason}
    metadata, warnings = read_metadata(path)
    return result | {
        "status": "ok",
        "wave": wave,
        "duration": len(wave) / sr,
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "format": info.format,
        "metadata": metadata,
        "warnings": warnings,
    }


class _InlineExecutor(Executor):
    """workers=0: decode in this process (debugging, tiny folders)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def store_meta(embedder: Embedder, kind: str) -> dict[str, Any]:
    """What a store records about the model that filled it."""
    return {
        "model_id": embedder.model_id,
        "model_source": str(getattr(embedder, "source", "")),
        "dim": int(embedder.dim),
        "probabilistic": bool(embedder.probabilistic),
        "sample_rate": int(embedder.sample_rate),
        "kind": kind,
    }


def embed_folder(
    embedder: Embedder,
    root: str | Path,
    out: str | Path,
    include: Sequence[str] = AUDIO_GLOBS,
    exclude: Sequence[str] = (),
    batch_size: int = 16,
    workers: int = 2,
    shard: tuple[int, int] | None = None,
    progress: ProgressFn | None = None,
    commit_every: int = 256,
) -> EmbedReport:
    """Embed every matching audio file under `root` into the store at `out`, resumably."""
    root, out = Path(root).resolve(), Path(out)
    files = list_files(root, include, exclude, shard, skip_dirs=[out])
    store = EmbeddingStore.create(out, store_meta(embedder, "audio"))
    done = store.done_keys()
    report = EmbedReport()
    todo: list[tuple[Path, os.stat_result, str | None]] = []
    for path in files:
        stat = path.stat()
        size, mtime, sha = done.get(str(path), (None, None, None))
        if (size, mtime) == (stat.st_size, stat.st_mtime):
            report.skipped += 1
        else:
            todo.append((path, stat, sha))
    meter = _Meter(len(files), progress)
    meter.tick(report.skipped, 0.0)

    pending: list[dict[str, Any]] = []  # decoded, not yet embedded
    rows: list[dict[str, Any]] = []  # embedded, not yet committed
    vectors: list[Embeddings] = []
    failed: list[dict[str, Any]] = []

    def embed_pending() -> None:
        if pending:
            vectors.append(embedder.embed_waveforms([item.pop("wave") for item in pending]))
            rows.extend(pending)
            report.embedded += len(pending)
            meter.tick(len(pending), sum(item["duration"] for item in pending))
            pending.clear()

    def commit() -> None:
        embed_pending()
        store.append([_row(item, root, embedder.model_id) for item in rows], _concat(vectors))
        warned = [_warning(item) for item in rows if item["warnings"]]
        store.record_errors(failed + warned, cleared=[item["path"] for item in rows])
        report.errors.extend(failed)
        report.warnings.extend(warned)
        rows.clear()
        vectors.clear()
        failed.clear()

    stats = {str(path): stat for path, stat, _ in todo}
    for result in _decoded(todo, embedder.sample_rate, workers, batch_size):
        stat = stats[result["path"]]
        result |= {"size": stat.st_size, "mtime": stat.st_mtime}
        if result["status"] == "failed":
            failed.append({k: result[k] for k in ("path", "reason", "size", "mtime")})
            report.failed += 1
            meter.tick(1, 0.0)
            continue
        if result["status"] == "unchanged":  # touched, same bytes (re-hashed on each run)
            report.skipped += 1
            meter.tick(1, 0.0)
            continue
        pending.append(result)
        if len(pending) >= batch_size:
            embed_pending()
        if len(rows) + len(pending) >= commit_every:
            commit()
    commit()
    return report


def _decoded(
    todo: list[tuple[Path, os.stat_result, str | None]], sr: int, workers: int, batch_size: int
) -> Iterator[dict[str, Any]]:
    """Decode results in input order, with a bounded number of files in flight."""
    if not todo:
        return
    if workers > 0 and len(todo) >= MIN_FILES_FOR_WORKERS:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        executor: Executor = ProcessPoolExecutor(workers, mp_context=context)
    else:
        executor = _InlineExecutor()
    window = max(2 * batch_size, 4 * max(workers, 1))
    with executor:
        queue: list[Future] = []
        for path, _, sha in todo:
            queue.append(executor.submit(_decode, str(path), sr, sha))
            if len(queue) >= window:
                yield queue.pop(0).result()
        for future in queue:
            yield future.result()


def _row(item: dict[str, Any], root: Path, model_id: str) -> dict[str, Any]:
    return {
        "id": Path(item["path"]).relative_to(root).as_posix(),
        "path": item["path"],
        "duration": item["duration"],
        "size": item["size"],
        "mtime": item["mtime"],
        "sha256": item["sha256"],
        "model_id": model_id,
        "sample_rate": item["sample_rate"],
        "channels": item["channels"],
        "format": item["format"],
        "metadata": item["metadata"],
    }


def _warning(item: dict[str, Any]) -> dict[str, Any]:
    """errors.jsonl row for a file that embedded but whose metadata was partly unreadable."""
    reason = "; ".join(item["warnings"])
    keys = ("path", "size", "mtime")
    return {k: item[k] for k in keys} | {"reason": reason, "level": "warning"}


def _concat(parts: list[Embeddings]) -> Embeddings:
    if not parts:
        return Embeddings(np.zeros((0, 0), np.float32))
    mean = np.concatenate([p.mean for p in parts])
    logvar = None if parts[0].logvar is None else np.concatenate([p.logvar for p in parts])
    return Embeddings(mean, logvar)


class _Meter:
    """Files/s and audio-hours/s since the start, reported through the progress callback."""

    def __init__(self, total: int, callback: ProgressFn | None) -> None:
        self.total, self.callback = total, callback
        self.done, self.seconds, self.start = 0, 0.0, time.perf_counter()

    def tick(self, files: int, audio_seconds: float) -> None:
        self.done += files
        self.seconds += audio_seconds
        if self.callback is not None:
            elapsed = max(time.perf_counter() - self.start, 1e-9)
            self.callback(
                EmbedProgress(
                    self.done, self.total, self.done / elapsed, self.seconds / 3600 / elapsed
                )
            )


# -- captions ------------------------------------------------------------------------------


def read_captions(path: str | Path) -> list[tuple[str, str]]:
    """(id, text) pairs from a .txt (one caption per line, id = line number) or a .jsonl
    with "text" and optional "id" (alias "caption")."""
    path = Path(path)
    if not path.is_file():
        raise EmbeddingFileError("no such captions file", path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        return [(f"line-{n:06d}", t.strip()) for n, t in enumerate(lines, 1) if t.strip()]
    pairs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row.get("text", row.get("caption"))
        except (json.JSONDecodeError, AttributeError):
            raise EmbeddingFileError(f"line {number} is not a JSON object", path) from None
        if not isinstance(text, str) or not text.strip():
            raise EmbeddingFileError(f'line {number} has no "text"', path)
        pairs.append((str(row.get("id", f"line-{number:06d}")), text.strip()))
    return pairs


def embed_captions(
    embedder: Embedder,
    captions: str | Path,
    out: str | Path,
    batch_size: int = 64,
    progress: ProgressFn | None = None,
) -> EmbedReport:
    """Embed a caption list into a store of kind "text"; unchanged captions are skipped."""
    store = EmbeddingStore.create(out, store_meta(embedder, "text"))
    pairs = read_captions(captions)
    ids = [cid for cid, _ in pairs]
    if len(set(ids)) != len(ids):
        raise EmbeddingFileError("caption ids are not unique", captions)
    done = store.done_keys()
    todo = [(cid, text) for cid, text in pairs if done.get(cid, (0, 0, ""))[2] != _text_sha(text)]
    report = EmbedReport(skipped=len(pairs) - len(todo))
    meter = _Meter(len(pairs), progress)
    meter.tick(report.skipped, 0.0)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        emb = embedder.embed_texts([text for _, text in chunk])
        rows = [
            {"id": cid, "text": text, "sha256": _text_sha(text), "model_id": embedder.model_id}
            for cid, text in chunk
        ]
        store.append(rows, emb)
        report.embedded += len(chunk)
        meter.tick(len(chunk), 0.0)
    return report


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
