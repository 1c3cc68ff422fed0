"""Embedding jobs that fill an EmbeddingStore: audio folders and caption lists.

Audio is decoded in worker processes (decoding only, so the model is loaded once, in this
process) when the job has enough decoding to pay for starting them, else inline, and
embedded in batches. Work is committed every `commit_every` files, so a killed
job loses at most that many files of work and a re-run embeds exactly what is missing or
changed: a file is skipped when its (size, mtime) or its sha256 matches the stored row.

A job holds the store's writer lock from start to end (a second job into the same store is
refused with one line). Decoder workers die with the job: each asks the kernel for SIGKILL
when its parent dies (PR_SET_PDEATHSIG), so a kill -9 of the job leaves no orphans.
Entries that are not regular files (FIFOs, dangling links, symlink loops, unreadable files,
folders named like audio) are reported as bad files, not silently skipped; extensions match
case-insensitively (`UPPER.WAV`). A vector that comes out non-finite (e.g. samples near
3e38 overflow the front end) is a bad file, never a stored row.
"""

from __future__ import annotations

import ctypes
import errno
import fnmatch
import hashlib
import json
import os
import signal
import stat
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.embedder import NOT_FINITE, Embedder, Embeddings, embed_contents
from audiotext_cli.errors import AudiotextError, EmbeddingFileError
from audiotext_cli.hashing import file_sha256
from audiotext_cli.index.store import EmbeddingStore
from audiotext_cli.locks import writer_lock

# Decode inline while the rest of the job would take less than this to decode here: two
# spawned decoders cost ~0.25 s to start on an idle 2-core box (1-3 s on a busy one), CPU
# the model then lacks, and a short WAV decodes in ~0.6 ms (400 of them: ~0.25 s).
INLINE_DECODE_SECONDS = 2.0
CHUNK_FILES = 16  # files per decoder task (see `_chunks`)
CHUNK_BYTES = 4 << 20
# Audio per model call, at least (see `embed_folder`). A call ends in part-empty fixed
# passes (the student: one per length bucket, each up to 41 s of audio), so 400 clips of
# 1.5 s cost its tower 27 % more in calls of 120 s than in one call (measured); 600 s holds
# 38 MB of 16 kHz samples (106 MB at 44.1 kHz).
BATCH_SECONDS = 600.0
# Files a commit (each forces a model call, so it is larger than a call of short clips).
COMMIT_FILES = 1024
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
    return scan_files(root, include, exclude, shard, skip_dirs)[0]


def scan_files(
    root: str | Path,
    include: Sequence[str] = AUDIO_GLOBS,
    exclude: Sequence[str] = (),
    shard: tuple[int, int] | None = None,
    skip_dirs: Sequence[Path] = (),
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(regular files, unusable entries with a reason) that match the filters, sorted.

    Unusable: FIFOs, devices, dangling links, symlink loops, unreadable files and folders
    named like audio files (`x.wav/`). Nothing is opened, so a FIFO cannot block the scan."""
    root = Path(root)
    if not root.is_dir():
        raise EmbeddingFileError("not a folder", root)
    skip = [d.resolve() for d in skip_dirs]
    files: list[Path] = []
    unusable: list[tuple[Path, str]] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not (_matches(rel, include) and not _matches(rel, exclude) and _in_shard(rel, shard)):
            continue
        if any(d == path.absolute() or d in path.absolute().parents for d in skip):
            continue
        reason = _unusable(path)
        if reason is None:
            files.append(path)
        elif reason:
            unusable.append((path, reason))
    return files, unusable


def _unusable(path: Path) -> str | None:
    """None for a readable regular file, else why not ('' for an ordinary folder)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop"
        return "dangling symlink" if path.is_symlink() else f"cannot read ({exc.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory named like an audio file" if named_like_audio(path.name) else ""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a FIFO)" if stat.S_ISFIFO(st.st_mode) else "not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot read (permission denied)"
    return None


def named_like_audio(name: str) -> bool:
    """Whether a file name has one of the audio extensions, in any case."""
    return _matches(name, AUDIO_GLOBS)


def _matches(rel: str, globs: Sequence[str]) -> bool:
    """Case-insensitive glob match on the relative path or the file name."""
    rel = rel.lower()
    name = rel.rsplit("/", 1)[-1]
    return any(
        fnmatch.fnmatchcase(rel, g.lower()) or fnmatch.fnmatchcase(name, g.lower()) for g in globs
    )


def _in_shard(rel: str, shard: tuple[int, int] | None) -> bool:
    if shard is None:
        return True
    index, count = shard
    key = os.fsencode(rel)  # the name's own bytes, valid UTF-8 or not
    return int.from_bytes(hashlib.sha1(key).digest()[:8], "big") % count == index


def parse_shard(text: str) -> tuple[int, int]:
    """'i/n' -> (i, n) with 0 <= i < n."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise EmbeddingFileError(f"shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if not 0 <= index < count:
        raise EmbeddingFileError(f"shard {text!r}: need 0 <= i < n")
    return index, count


def _die_with_parent() -> None:
    """Worker initializer: the kernel kills this process when the job dies (Linux
    PR_SET_PDEATHSIG); if the parent is already gone, exit now. The worker's C stderr goes
    to /dev/null: what it has to say comes back in its results."""
    parent = int(os.environ.get("AUDIOTEXT_JOB_PID", "0"))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: rely on the executor's own checks
        pass
    if parent and os.getppid() != parent:
        os._exit(1)
    from audiotext_cli.audio.io import quiet_decoder_forever

    quiet_decoder_forever()  # libmpg123's notes on damaged MP3s; the job reports one line


def _decode_chunk(chunk: list[tuple[str, str | None]], sr: int) -> list[dict[str, Any]]:
    """Worker: `_decode` each (path, known sha256) of a chunk, in order. One task per chunk
    of short files, not per file: a 1.5 s clip decodes in about a millisecond, about what
    a process-pool round trip costs."""
    return [_decode(path, sr, sha) for path, sha in chunk]


def _decode(path: str, sr: int, known_sha: str | None) -> dict[str, Any]:
    """Hash, and decode unless the content is unchanged. Never raises for bad audio."""
    from audiotext_cli.audio.io import load_audio_info
    from audiotext_cli.library.metadata import read_metadata

    result: dict[str, Any] = {"path": path}
    try:
        result["sha256"] = file_sha256(path)
        if result["sha256"] == known_sha:
            return result | {"status": "unchanged"}
        wave, info = load_audio_info(path, sr)
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


def store_meta(embedder: Embedder, kind: str) -> dict[str, Any]:
    """What a store records about the model that filled it."""
    return {
        "model_id": embedder.model_id,
        "model_source": str(getattr(embedder, "source", "")),
        "dim": int(embedder.dim),
        "probabilistic": bool(embedder.probabilistic),
        "sample_rate": int(embedder.sample_rate),
        "kind": kind,
        "tower_dim": int(getattr(embedder, "tower_dim", 0)) if kind == "audio" else 0,
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
    commit_every: int = COMMIT_FILES,
    batch_seconds: float = BATCH_SECONDS,
) -> EmbedReport:
    """Embed every matching audio file under `root` into the store at `out`, resumably.

    A model call takes at least `batch_size` files, and more while they hold under
    `batch_seconds` of audio: short clips then fill the towers' fixed-shape passes (and
    share per-call costs) as one long file does, and memory stays at about that much
    audio (or `batch_size` long files)."""
    root, out = Path(root).resolve(), Path(out)
    files, unusable = scan_files(root, include, exclude, shard, skip_dirs=[out])
    store = EmbeddingStore.create(out, store_meta(embedder, "audio"))
    with writer_lock(out, what="embedding store"):
        return _embed_files(
            embedder,
            root,
            store,
            files,
            unusable,
            (batch_size, batch_seconds),
            workers,
            progress,
            commit_every,
        )


def _embed_files(
    embedder: Embedder,
    root: Path,
    store: EmbeddingStore,
    files: list[Path],
    unusable: list[tuple[Path, str]],
    batch: tuple[int, float],
    workers: int,
    progress: ProgressFn | None,
    commit_every: int,
) -> EmbedReport:
    batch_size, batch_seconds = batch
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
    meter = _Meter(len(files) + len(unusable), progress)
    meter.tick(report.skipped, 0.0)

    pending: list[dict[str, Any]] = []  # decoded, not yet embedded
    rows: list[dict[str, Any]] = []  # embedded, not yet committed
    vectors: list[Embeddings] = []
    failed: list[dict[str, Any]] = []
    for path, reason in unusable:
        failed.append({"path": str(path), "reason": reason, "size": None, "mtime": None})
        report.failed += 1
        meter.tick(1, 0.0)

    held = 0.0  # seconds of audio in `pending`

    def embed_pending() -> None:
        nonlocal held
        if pending:
            waves = [item.pop("wave") for item in pending]
            emb = embed_contents(embedder, waves, [item["sha256"] for item in pending])
            finite = emb.finite_rows()
            for item in (item for item, ok in zip(pending, finite, strict=True) if not ok):
                failed.append({"path": item["path"], "reason": NOT_FINITE} | _stat_of(item))
                report.failed += 1
            keep = np.flatnonzero(finite)
            good = [pending[i] for i in keep]
            vectors.append(emb.take(keep))
            rows.extend(good)
            report.embedded += len(good)
            meter.tick(len(pending), _seconds(good))
            pending.clear()
            held = 0.0

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
    for result in _decoded(todo, embedder.sample_rate, workers):
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
        held += result["duration"]
        if len(pending) >= batch_size and held >= batch_seconds:
            embed_pending()
        if len(rows) + len(pending) >= commit_every:
            commit()
    commit()
    return report


def _chunks(
    todo: list[tuple[Path, os.stat_result, str | None]],
) -> Iterator[tuple[list[tuple[str, str | None]], int]]:
    """Consecutive runs of `todo` as decoder tasks, with their file bytes: up to CHUNK_FILES
    files and CHUNK_BYTES of file bytes (a larger file goes alone), so short files share a
    round trip and long ones do not pile up in one worker's memory."""
    chunk: list[tuple[str, str | None]] = []
    held = 0
    for path, st, sha in todo:
        if chunk and (len(chunk) >= CHUNK_FILES or held + st.st_size > CHUNK_BYTES):
            yield chunk, held
            chunk, held = [], 0
        chunk.append((str(path), sha))
        held += st.st_size
    if chunk:
        yield chunk, held


def _decoded(
    todo: list[tuple[Path, os.stat_result, str | None]], sr: int, workers: int
) -> Iterator[dict[str, Any]]:
    """Decode results in input order. Chunks decode inline while what is left would take
    under INLINE_DECODE_SECONDS at the rate measured so far (files and bytes, whichever
    projects longer: a library of short clips, or a few long files); the rest goes to
    `workers` processes, which pay off only on a job that long."""
    chunks = list(_chunks(todo))
    files_left, bytes_left = len(todo), sum(held for _, held in chunks)
    files_done = bytes_done = 0
    spent = 0.0
    for start, (chunk, held) in enumerate(chunks):
        share = max(files_left / max(files_done, 1), bytes_left / max(bytes_done, 1))
        if workers > 0 and spent * share >= INLINE_DECODE_SECONDS:
            yield from _pooled([c for c, _ in chunks[start:]], sr, workers)
            return
        began = time.perf_counter()
        results = _decode_chunk(chunk, sr)
        spent += time.perf_counter() - began
        files_done, bytes_done = files_done + len(chunk), bytes_done + held
        files_left, bytes_left = files_left - len(chunk), bytes_left - held
        yield from results


def _pooled(
    chunks: list[list[tuple[str, str | None]]], sr: int, workers: int
) -> Iterator[dict[str, Any]]:
    """`_decode_chunk` of each chunk in `workers` spawned processes, results in input
    order, with about three chunks per worker in flight (one decoding, the next ones
    queued), so the workers keep decoding while this process runs the model."""
    import multiprocessing

    os.environ["AUDIOTEXT_JOB_PID"] = str(os.getpid())
    context = multiprocessing.get_context("spawn")
    executor = ProcessPoolExecutor(workers, mp_context=context, initializer=_die_with_parent)
    with executor:
        queue: deque[Future] = deque()
        for chunk in chunks:
            queue.append(executor.submit(_decode_chunk, chunk, sr))
            if len(queue) >= 3 * workers:
                yield from queue.popleft().result()
        while queue:
            yield from queue.popleft().result()


def _seconds(items: list[dict[str, Any]]) -> float:
    return sum(item["duration"] for item in items)


def _stat_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"size": item["size"], "mtime": item["mtime"]}


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
    return Embeddings.concat(parts) if parts else Embeddings(np.zeros((0, 0), np.float32))


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


def iter_captions(path: str | Path) -> Iterator[tuple[str, str]]:
    """(id, text) pairs from a .txt (one caption per line, id = line number) or a .jsonl
    with "text" and optional "id" (alias "caption"), read line by line (bounded memory)."""
    path = Path(path)
    if not path.is_file():
        raise EmbeddingFileError("no such captions file", path)
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EmbeddingFileError(
                    f"line {number} is not valid UTF-8 (byte {exc.start + 1}); "
                    "re-save the file as UTF-8",
                    path,
                ) from None
            if not line.strip():
                continue
            if not jsonl:
                yield f"line-{number:06d}", line.strip()
                continue
            try:
                row = json.loads(line)
                text = row.get("text", row.get("caption"))
            except (json.JSONDecodeError, AttributeError):
                raise EmbeddingFileError(f"line {number} is not a JSON object", path) from None
            if not isinstance(text, str) or not text.strip():
                raise EmbeddingFileError(f'line {number} has no "text"', path)
            yield str(row.get("id", f"line-{number:06d}")), text.strip()


def read_captions(path: str | Path) -> list[tuple[str, str]]:
    """Every (id, text) pair of a caption file (see `iter_captions`)."""
    return list(iter_captions(path))


CAPTION_COMMIT = 4096  # captions a shard: a 100k-line file is 25 shards, not 1,563


def embed_captions(
    embedder: Embedder,
    captions: str | Path,
    out: str | Path,
    batch_size: int = 64,
    progress: ProgressFn | None = None,
    commit_every: int = CAPTION_COMMIT,
) -> EmbedReport:
    """Embed a caption list into a store of kind "text"; unchanged captions are skipped.

    The file is streamed: memory holds the ids seen (for the uniqueness check) and one
    commit of vectors, so a 100k-line file needs no more than a 1k-line one per commit."""
    seen: set[str] = set()
    for cid, _ in iter_captions(captions):  # validate every line before writing anything
        if cid in seen:
            raise EmbeddingFileError(f"caption ids are not unique ({cid!r} repeats)", captions)
        seen.add(cid)
    total = len(seen)
    if total == 0:
        raise EmbeddingFileError("no captions in the file (empty or blank lines only)", captions)
    store = EmbeddingStore.create(out, store_meta(embedder, "text"))
    done = store.done_keys()
    report = EmbedReport()
    meter = _Meter(total, progress)
    rows: list[dict[str, Any]] = []
    vectors: list[Embeddings] = []
    batch: list[tuple[str, str]] = []

    def flush(final: bool = False) -> None:
        if batch:
            emb = embedder.embed_texts([text for _, text in batch])
            vectors.append(emb)
            rows.extend(
                {"id": cid, "text": text, "sha256": _text_sha(text), "model_id": embedder.model_id}
                for cid, text in batch
            )
            report.embedded += len(batch)
            meter.tick(len(batch), 0.0)
            batch.clear()
        if rows and (final or len(rows) >= commit_every):
            store.append(rows, _concat(vectors))
            rows.clear()
            vectors.clear()

    with writer_lock(out, what="embedding store"):
        for cid, text in iter_captions(captions):
            if done.get(cid, (0, 0, ""))[2] == _text_sha(text):
                report.skipped += 1
                meter.tick(1, 0.0)
                continue
            batch.append((cid, text))
            if len(batch) >= batch_size:
                flush()
        flush(final=True)
    return report


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
