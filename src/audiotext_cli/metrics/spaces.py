"""The two spaces to compare: loaded from files or a model, checked, and row-aligned by id.

Every metric assumes row i of A and row i of B describe the same item, so this module is
where mismatches are caught, with the file named, instead of giving a quiet wrong number.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audiotext_cli.errors import EmbeddingFileError

MIN_POINTS = 4
"""Debiased HSIC divides by n(n-3) and a kNN graph needs k+1 points, so fewer is an error."""

_TENSOR_NAMES = ("mean", "embeddings")


def ids_sidecar(path: str | Path) -> Path:
    """`<stem>.ids.txt` next to an array file: one id per line, row order."""
    path = Path(path)
    return path.with_name(path.stem + ".ids.txt")


def load_space(path: str | Path) -> tuple[list[str] | None, np.ndarray]:
    """(ids or None, (n, d) array) from a .npy, a .safetensors or an embedding-store folder.

    A safetensors file gives its tensor "mean", else "embeddings", else its only tensor.
    Array files take ids from an optional `<stem>.ids.txt` sidecar.
    """
    path = Path(path)
    if path.is_dir():
        return _load_store(path)
    if not path.exists():
        raise EmbeddingFileError("no such file or directory", path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        array = _load_npy(path)
    elif suffix == ".safetensors":
        array = _load_safetensors(path)
    else:
        raise EmbeddingFileError(
            f"unknown embedding format {suffix or '(none)'!r}: use .npy, .safetensors or an "
            "embedding-store folder",
            path,
        )
    return _read_ids(path, len(array)), array


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise EmbeddingFileError(f"not a readable .npy array ({exc})", path) from None


def _load_safetensors(path: Path) -> np.ndarray:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        tensors = load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise EmbeddingFileError(f"not a readable safetensors file ({exc})", path) from None
    for name in _TENSOR_NAMES:
        if name in tensors:
            return tensors[name]
    if len(tensors) == 1:
        return next(iter(tensors.values()))
    raise EmbeddingFileError(
        f"no tensor named {' or '.join(_TENSOR_NAMES)} and not exactly one tensor "
        f"(found {', '.join(sorted(tensors)) or 'none'})",
        path,
    )


def _read_ids(path: Path, n: int) -> list[str] | None:
    sidecar = ids_sidecar(path)
    if not sidecar.exists():
        return None
    ids = sidecar.read_text(encoding="utf-8").splitlines()
    if len(ids) != n:
        raise EmbeddingFileError(f"{len(ids)} ids for {n} rows of {path.name}", sidecar)
    return ids


def _load_store(path: Path) -> tuple[list[str], np.ndarray]:
    try:
        from audiotext_cli.index.store import EmbeddingStore
    except ImportError:
        raise EmbeddingFileError(
            "reading embedding-store folders needs audiotext_cli.index.store", path
        ) from None
    ids, embeddings, _ = EmbeddingStore.open(path).load()
    return list(ids), embeddings.mean


def align(
    ids_a: Sequence[str] | None,
    A: np.ndarray,
    ids_b: Sequence[str] | None,
    B: np.ndarray,
    names: tuple[str, str] = ("A", "B"),
    min_points: int = MIN_POINTS,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Check both spaces and order B's rows like A's by id: (ids, A, B).

    Without ids on either side rows are taken as aligned (same count required) and ids are
    row numbers. With ids on one side only, that side's ids name the rows of both. Raises
    `EmbeddingFileError` (path = the space's name) for a wrong ndim, NaN/inf rows, duplicate
    ids, ids present in only one space, or fewer than `min_points` rows.
    """
    for name, ids, X in ((names[0], ids_a, A), (names[1], ids_b, B)):
        _check_array(name, ids, X)
    if ids_a is not None and ids_b is not None:
        order = _match(ids_a, ids_b, names)
        ids, B = list(ids_a), B[order]
    else:
        if len(A) != len(B):
            raise EmbeddingFileError(
                f"{len(A)} rows in {names[0]} but {len(B)} in {names[1]}, and no ids to match "
                "them by (add <stem>.ids.txt sidecars)"
            )
        ids = list(ids_a or ids_b or (str(i) for i in range(len(A))))
    if len(ids) < min_points:
        raise EmbeddingFileError(f"too few points to compare: {len(ids)} < {min_points}")
    return ids, A, B


def _check_array(name: str, ids: Sequence[str] | None, X: np.ndarray) -> None:
    if X.ndim != 2:
        raise EmbeddingFileError(f"expected a 2-D (n, d) array, got shape {X.shape}", name)
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise EmbeddingFileError(f"expected a numeric array, got dtype {X.dtype}", name)
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        where = f"id {ids[first]!r}" if ids is not None else f"row {first}"
        raise EmbeddingFileError(
            f"{int(bad.sum())} row(s) contain NaN or inf (first: {where})", name
        )
    if ids is not None and len(set(ids)) != len(ids):
        seen: set[str] = set()
        for item in ids:
            if item in seen:
                raise EmbeddingFileError(f"duplicate id {item!r}", name)
            seen.add(item)


def _match(ids_a: Sequence[str], ids_b: Sequence[str], names: tuple[str, str]) -> np.ndarray:
    """Row index into B for each id of A; every id must be in both."""
    pos_b = {item: row for row, item in enumerate(ids_b)}
    only_a = [i for i in ids_a if i not in pos_b]
    only_b = sorted(set(ids_b).difference(ids_a))
    if only_a or only_b:
        parts = [
            f"{len(x)} only in {n} (e.g. {x[0]!r})"
            for n, x in zip(names, (only_a, only_b), strict=True)
            if x
        ]
        raise EmbeddingFileError("ids differ: " + "; ".join(parts))
    return np.fromiter((pos_b[i] for i in ids_a), dtype=np.int64, count=len(ids_a))


def spaces_from_model(
    ckpt: str | Path, manifest: str | Path, level: int = 4, batch_size: int = 32
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ids, audio embeddings, text embeddings) of a manifest's clips under one model.

    Text is each clip's first caption at `level` (4 = the specific sentence). The model,
    manifest and audio loaders live in other packages and are imported here, on use.
    """
    from audiotext_cli.audio.io import load_audio
    from audiotext_cli.data.manifest import captions_at, read_manifest
    from audiotext_cli.models import load_embedder

    embedder = load_embedder(ckpt)
    records = read_manifest(manifest)
    if not records:
        raise EmbeddingFileError("manifest has no clips", manifest)
    texts = []
    for record in records:
        captions = captions_at(record, level)
        if not captions:
            raise EmbeddingFileError(f"clip {record.id!r} has no level-{level} caption", manifest)
        texts.append(captions[0])
    audio = []
    for start in range(0, len(records), batch_size):
        waves = [
            load_audio(r.audio, embedder.sample_rate) for r in records[start : start + batch_size]
        ]
        audio.append(embedder.embed_waveforms(waves).mean)
    text = [
        embedder.embed_texts(texts[start : start + batch_size]).mean
        for start in range(0, len(texts), batch_size)
    ]
    return [r.id for r in records], np.concatenate(audio), np.concatenate(text)
