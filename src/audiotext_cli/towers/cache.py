"""Tower features cached per (file content, tower): each file is run through a tower once.

`$AUDIOTEXT_HOME/features/<tower_id>/<sha[:2]>/<sha256 of the file's bytes>.safetensors`
holds that file's (n_blocks, dim) block embeddings, with the tower id and the content hash
in its metadata (checked on read: a file from another tower or a damaged one is
recomputed, never used). Content addressing means a renamed or copied file is a hit, an
edited one a miss, and training, evaluation and `embed folder` share the work. Each entry
is written atomically, so a killed job keeps what it finished and resumes from there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from audiotext_cli.atomic import write_bytes_atomic
from audiotext_cli.audio.io import load_audio
from audiotext_cli.hashing import file_sha256
from audiotext_cli.paths import cache_dir
from audiotext_cli.towers import Tower

FILES_PER_CALL = 16  # files decoded and embedded together (blocks batched across them)


class FeatureCache:
    def __init__(self, tower: Tower, root: Path | None = None) -> None:
        self.tower = tower
        self.root = root if root is not None else cache_dir("features", tower.tower_id)

    def _entry(self, sha: str) -> Path:
        return self.root / sha[:2] / f"{sha}.safetensors"

    def read(self, sha: str) -> np.ndarray | None:
        path = self._entry(sha)
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = f.metadata() or {}
                blocks = f.get_tensor("blocks").numpy()
        except (SafetensorError, OSError, KeyError):
            return None
        ok = meta.get("tower") == self.tower.tower_id and meta.get("sha256") == sha
        if not ok or blocks.ndim != 2 or blocks.shape[1] != self.tower.dim:
            return None
        return blocks

    def write(self, sha: str, blocks: np.ndarray) -> None:
        tensors = {"blocks": torch.from_numpy(np.ascontiguousarray(blocks, np.float32))}
        meta = {"tower": self.tower.tower_id, "sha256": sha}
        write_bytes_atomic(self._entry(sha), save(tensors, metadata=meta))

    def blocks_for(
        self,
        paths: Sequence[str | Path],
        progress: Callable[[int], None] | None = None,
        shas: Sequence[str] | None = None,
    ) -> list[np.ndarray]:
        """Block embeddings of every file, computing (and caching) only the missing ones."""
        shas = list(shas) if shas is not None else [file_sha256(p) for p in paths]
        sr = self.tower.sample_rate
        return self._complete(shas, lambda idx: [load_audio(paths[i], sr) for i in idx], progress)

    def blocks_of_waves(self, waves: Sequence[np.ndarray], shas: Sequence[str]) -> list[np.ndarray]:
        """Block embeddings of already decoded files whose content hashes are known (e.g.
        by `embed folder`'s workers): hits are read, misses computed from `waves` in one
        tower call (they are in memory already, and a tower that batches short clips, the
        student, fills its passes better from more files; rows never depend on the call)."""
        return self._complete(list(shas), lambda idx: [waves[i] for i in idx], per_call=len(shas))

    def _complete(
        self,
        shas: list[str],
        waves_of: Callable[[list[int]], list[np.ndarray]],
        progress: Callable[[int], None] | None = None,
        per_call: int = FILES_PER_CALL,
    ) -> list[np.ndarray]:
        """Read every entry; run the tower on the missing ones, `per_call` at a time,
        taking their waveforms from `waves_of(indices)`, and cache each result."""
        out: list[np.ndarray | None] = [self.read(s) for s in shas]
        hits = sum(x is not None for x in out)
        if progress and hits:
            progress(hits)
        todo = [i for i, x in enumerate(out) if x is None]
        for start in range(0, len(todo), max(1, per_call)):
            batch = todo[start : start + max(1, per_call)]
            for i, blocks in zip(batch, self.tower.embed_blocks(waves_of(batch)), strict=True):
                self.write(shas[i], blocks)
                out[i] = blocks
            if progress:
                progress(len(batch))
        return out  # type: ignore[return-value]
