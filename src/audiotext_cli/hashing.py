"""Content hashes of files: checkpoints, indexes, downloaded packages, embedded audio."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: str | Path, block: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in `block`-byte pieces (constant memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for piece in iter(lambda: fh.read(block), b""):
            digest.update(piece)
    return digest.hexdigest()
