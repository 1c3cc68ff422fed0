"""A manifest's tower inputs for training: cached block embeddings, or a frozen prefix.

Frozen-tower training (LiT-style) never runs the tower in the loop: each clip's block
embeddings come from `towers.cache.FeatureCache` (computed once per file content), so an
epoch over a few thousand clips is a few hundred small matrix products (`TowerBank`).

A tower whose last blocks train (`model.tower_trainable`) cannot use those embeddings; its
frozen first blocks are still deterministic, so their activations are computed once per run
and kept in memory (`PrefixBank`, never cached on disk): per 2.32 s block, in bf16, 74 KB
before the last block, 154 KB before the last two, 307 KB before the last three, and 19 KB
of log-mel for the whole network (the default corpus's 4,450 training blocks: 0.33, 0.68,
1.4 and 0.09 GB).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from audiotext_cli.audio.io import load_audio
from audiotext_cli.models.block_pool import pad_blocks
from audiotext_cli.towers import Tower
from audiotext_cli.towers.aisfx import AisfxTower
from audiotext_cli.towers.cache import FILES_PER_CALL, FeatureCache


@dataclass
class _Blocks:
    blocks: torch.Tensor  # (N_blocks, ...) clips back to back
    offsets: torch.Tensor  # (n_clips + 1,) block ranges per clip

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def rows(self, idx: Sequence[int] | torch.Tensor) -> list[torch.Tensor]:
        """Each clip's blocks."""
        return [
            self.blocks[int(self.offsets[i]) : int(self.offsets[i + 1])]
            for i in torch.as_tensor(idx).tolist()
        ]

    def counts(self, idx: Sequence[int] | torch.Tensor) -> torch.Tensor:
        idx = torch.as_tensor(idx)
        return self.offsets[idx + 1] - self.offsets[idx]


class TowerBank(_Blocks):
    """Cached (N_blocks, C) float32 block embeddings."""

    def clips(self, idx: Sequence[int] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K, C) zero-padded blocks of these clips and their (B,) block counts."""
        return pad_blocks(self.rows(idx))


class PrefixBank(_Blocks):
    """(N_blocks, C, T, F) activations of the tower's frozen first blocks."""

    def clips(self, idx: Sequence[int] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """These clips' blocks packed back to back, and their (B,) block counts."""
        return torch.cat(self.rows(idx)), self.counts(idx)


def _bank(cls: type[_Blocks], per_clip: list[torch.Tensor]) -> _Blocks:
    """Clips' blocks back to back (`cat` outside inference mode: a tensor autograd takes)."""
    offsets = np.cumsum([0, *[len(b) for b in per_clip]])
    return cls(torch.cat(per_clip), torch.from_numpy(offsets))


def build_tower_bank(
    paths: Sequence[str], tower: Tower, progress: Callable[[int], None] | None = None
) -> TowerBank:
    per_clip = FeatureCache(tower).blocks_for(paths, progress)
    if not per_clip:
        return TowerBank(torch.zeros(0, tower.dim), torch.zeros(1, dtype=torch.long))
    return _bank(TowerBank, [torch.from_numpy(b) for b in per_clip])


def build_prefix_bank(
    paths: Sequence[str],
    tower: AisfxTower,
    stop: int,
    progress: Callable[[int], None] | None = None,
) -> PrefixBank:
    """Decode each file and run the frozen blocks 0..stop-1 on its blocks, FILES_PER_CALL
    files a pass (the feature cache is neither read nor written)."""
    per_clip: list[torch.Tensor] = []
    for start in range(0, len(paths), FILES_PER_CALL):
        batch = paths[start : start + FILES_PER_CALL]
        logmel = [tower.logmel_blocks(load_audio(p, tower.sample_rate)) for p in batch]
        acts = tower.prefix(torch.cat(logmel), stop)
        per_clip += list(acts.split([len(b) for b in logmel]))
        if progress:
            progress(len(batch))
    return _bank(PrefixBank, per_clip)
