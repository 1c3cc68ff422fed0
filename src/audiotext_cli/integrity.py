"""Checked files: a checksum and a format version travel with the data, verified on load.

safetensors files carry their own check in the header's `__metadata__`: the sha256 of the
tensors' bytes (sorted by name, with dtype and shape), the writer's `format` and `version`.
The header cannot hold a hash of the whole file (it is part of it), so the hash covers the
tensor contents, which is what a flipped byte or a truncation damages; a damaged header
fails to parse. Reusable for any cache of tensors (checkpoints, store shards, feature
caches): `save_checked(path, tensors, format=...)` / `load_checked(path, format=...)`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.atomic import write_atomic
from audiotext_cli.errors import AudiotextError

CHECK_KEY = "content_sha256"


class IntegrityError(AudiotextError):
    """A checked file that is truncated, corrupt, or from another format or version."""


def tensors_sha256(tensors: Mapping[str, Any]) -> str:
    """sha256 over (name, dtype, shape, bytes) of each tensor in name order; numpy or torch."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        array = _as_numpy(tensors[name])
        digest.update(f"{name}\x1f{array.dtype.str}\x1f{array.shape}\x1e".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _as_numpy(value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    import torch

    if value.dtype == torch.bfloat16:  # numpy has no bfloat16: hash the raw bits
        value = value.view(torch.int16)
    return value.detach().cpu().contiguous().numpy()


def save_checked(
    path: str | Path, tensors: Mapping[str, Any], *, format: str, version: int = 1
) -> str:
    """Write `tensors` (all numpy or all torch) atomically with their checksum; return it."""
    checksum = tensors_sha256(tensors)
    metadata = {CHECK_KEY: checksum, "format": format, "version": str(version)}
    first = next(iter(tensors.values()), None)
    if first is not None and not isinstance(first, np.ndarray):
        from safetensors.torch import save_file
    else:
        from safetensors.numpy import save_file
    write_atomic(path, lambda p: save_file(dict(tensors), str(p), metadata=metadata))
    return checksum


def load_checked(
    path: str | Path,
    *,
    format: str,
    version: int = 1,
    framework: str = "numpy",
    expect_sha256: str | None = None,
) -> dict[str, Any]:
    """Read a file written by `save_checked` and verify it; raise IntegrityError naming it.

    A file without a recorded checksum (written before checks existed) is read unchecked
    unless `expect_sha256` is given; one from another `format` or `version` is refused."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise IntegrityError("file is missing", path)
    try:
        with safe_open(str(path), framework=framework) as fh:
            metadata = fh.metadata() or {}
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())
        raise IntegrityError(f"truncated or corrupt safetensors file ({reason})", path) from None
    if metadata.get("format", format) != format:
        raise IntegrityError(f"a {metadata['format']!r} file, expected {format!r}", path)
    if metadata.get("version", str(version)) != str(version):
        raise IntegrityError(
            f"format version {metadata['version']}, this version reads {version}", path
        )
    recorded = expect_sha256 or metadata.get(CHECK_KEY)
    if recorded is not None and tensors_sha256(tensors) != recorded:
        raise IntegrityError("checksum mismatch: the file is corrupt or was modified", path)
    return tensors
