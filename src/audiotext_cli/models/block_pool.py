"""The audio encoder of a frozen-tower model: pool a clip's tower block embeddings.

The pretrained tower itself lives outside the trainable module (like MiniLM for text):
its block embeddings are cached per file (`towers/cache.py`), and the model starts from
them. Pooling is the mean over a clip's blocks, each counted once; ProLAP's audio masks act
on blocks: masked blocks are left out of the mean (the paper's "pooling averages unmasked
tokens only"), and a clip whose every block is masked keeps them all. A LayerNorm then
puts the tower's post-ReLU maxima on the scale the head expects.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class BlockPool(nn.Module):
    """(B, K, C) zero-padded block embeddings + (B,) block counts -> (B, C) features."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.out_dim = dim
        self.norm = nn.LayerNorm(dim)

    def forward(self, blocks: Tensor, n_blocks: Tensor, block_mask: Tensor | None = None) -> Tensor:
        k = blocks.shape[1]
        keep = torch.arange(k, device=blocks.device)[None, :] < n_blocks[:, None]  # (B, K)
        if block_mask is not None:
            visible = keep & ~block_mask[:, :k]
            keep = torch.where(visible.any(dim=1, keepdim=True), visible, keep)
        w = keep.to(blocks.dtype)
        pooled = (blocks * w[:, :, None]).sum(1) / w.sum(1, keepdim=True)
        return self.norm(pooled)


def pad_blocks(per_clip: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Clips' (n_i, C) block embeddings -> (B, max n_i, C) zero-padded and (B,) counts."""
    counts = torch.tensor([len(b) for b in per_clip])
    return nn.utils.rnn.pad_sequence(per_clip, batch_first=True), counts
