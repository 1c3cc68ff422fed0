"""The trainable tail of the aisfx tower: its last blocks, fine-tuned together with the heads.

`model.tower_trainable` names how many of the network's four conv blocks train ("last1" ..
"last3", "all"; the default "none" is the frozen tower on cached features). The frozen
blocks before the tail run once per clip (`train.tower_bank.PrefixBank`), the tail in every
step, and the checkpoint carries the tail's weights (`tower_tail.*`); the frozen prefix is
always read from the hash-checked aisfx weights.

BatchNorm keeps the pretrained running statistics and never updates them (`train()` leaves
the tail in eval mode; BN's affine weights still train): batches of a few hundred clips from
a dozen sources would otherwise move the statistics every step, and inference would then
normalise with numbers no step trained on. The tail runs in the tower's precision (bf16
autocast), so training sees the numbers that inference computes.
"""

from __future__ import annotations

import hashlib

import torch
from torch import Tensor, nn

from audiotext_cli.models.block_pool import pad_blocks
from audiotext_cli.models.sfx_cnn import SfxCNN
from audiotext_cli.models.sfx_weights import load_aisfx
from audiotext_cli.towers.passes import DEFAULT_PRECISION, autocast


class TowerTail(nn.Module):
    """The last `n_blocks` aisfx blocks: (N, C, T, F) prefix activations -> (N, 512)."""

    def __init__(self, n_blocks: int, precision: str = DEFAULT_PRECISION) -> None:
        super().__init__()
        self.first = SfxCNN.n_blocks - n_blocks
        self.precision = precision
        self.net = SfxCNN(self.first).to(memory_format=torch.channels_last)
        self.train()

    def load_pretrained(self) -> None:
        """Start from the aisfx checkpoint's weights for these blocks."""
        state = {}
        for key, value in load_aisfx()[0].items():  # keys "blocks.{i}.{conv,bn}{j}.*"
            _, i, rest = key.split(".", 2)
            if int(i) >= self.first:
                state[f"blocks.{int(i) - self.first}.{rest}"] = value
        self.net.load_state_dict(state)

    def train(self, mode: bool = True) -> TowerTail:
        """Always eval mode: BatchNorm statistics stay frozen (module docstring)."""
        return super().train(False)

    def forward(self, acts: Tensor) -> Tensor:
        with autocast(self.precision):
            return self.net(acts).float()

    def clip_blocks(self, acts: Tensor, counts: Tensor) -> Tensor:
        """Packed prefix activations of clips with `counts` blocks each -> (B, K, 512)
        zero-padded block embeddings, as `BlockPool` takes them."""
        return pad_blocks(list(self(acts).split(counts.tolist())))[0]

    def digest(self) -> str:
        """Names these weights (the tuned tower's id, so its features get their own cache)."""
        h = hashlib.sha256()
        for key, value in sorted(self.state_dict().items()):
            h.update(key.encode())
            h.update(value.detach().cpu().contiguous().flatten().view(torch.uint8).numpy())
        return h.hexdigest()[:12]
