"""A manifest's tower block embeddings, read from the per-file feature cache for training.

Frozen-tower training (LiT-style) never runs the tower in the loop: each clip's block
embeddings come from `towers.cache.FeatureCache` (computed once per file content), so an
epoch over a few thousand clips is a few hundred small matrix products.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from audiotext_cli.models.block_pool import pad_blocks
from audiotext_cli.towers import Tower
from audiotext_cli.towers.cache import FeatureCache


@dataclass
class TowerBank:
    blocks: torch.Tensor  # (N_blocks, C) float32, clips back to back
    offsets: torch.Tensor  # (n_clips + 1,) block ranges per clip

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def clips(self, idx: Sequence[int] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, K, C) zero-padded blocks of these clips and their (B,) block counts."""
        rows = [
            self.blocks[int(self.offsets[i]) : int(self.offsets[i + 1])]
            for i in torch.as_tensor(idx).tolist()
        ]
        return pad_blocks(rows)


def build_tower_bank(
    paths: Sequence[str], tower: Tower, progress: Callable[[int], None] | None = None
) -> TowerBank:
    per_clip = FeatureCache(tower).blocks_for(paths, progress)
    offsets = np.cumsum([0, *[len(b) for b in per_clip]])
    blocks = np.concatenate(per_clip) if per_clip else np.zeros((0, tower.dim), np.float32)
    return TowerBank(torch.from_numpy(blocks), torch.from_numpy(offsets))
