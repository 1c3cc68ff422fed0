"""The aisfx sound-effects CNN (Ma & Lerch, ISMIR 2022), written from the paper's layout.

DCASE's cross-task "Cnn_9layers": four blocks of conv3x3 (no bias) -> BN -> ReLU, twice,
with 64, 128, 256, 512 channels; 2x2 max-pooling after blocks 1-3 (none after block 4);
then the mean over frequency and the max over time give one 512-d embedding per
100-frame block. The checkpoint also holds nine per-dataset classifier heads
(512 -> 256 -> 128 -> classes), kept so tests can check our embedding reproduces them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

CHANNELS = (64, 128, 256, 512)


class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, pool: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.pool(x)


class SfxCNN(nn.Module):
    """(B, 100, 96) normalised log-mel blocks -> (B, 512) block embeddings.

    `first` > 0 builds only blocks `first`.. (a fine-tuned tail, `models.tower_tail`),
    which take block `first - 1`'s activations (B, C, T, F) instead of log-mel blocks.
    """

    out_dim = CHANNELS[-1]
    n_blocks = len(CHANNELS)

    def __init__(self, first: int = 0) -> None:
        super().__init__()
        chans = (1, *CHANNELS)
        self.first = first
        self.blocks = nn.ModuleList(
            _Block(chans[i], chans[i + 1], pool=i < len(CHANNELS) - 1)
            for i in range(first, len(CHANNELS))
        )

    def prefix(self, logmel: Tensor, stop: int) -> Tensor:
        """Blocks 0..stop-1 of the whole network: what a tail starting at `stop` takes
        (`stop` 0: the log-mel blocks themselves)."""
        if stop == 0:
            return logmel
        x = logmel.unsqueeze(1)
        for block in self.blocks[:stop]:
            x = block(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        if self.first == 0:
            x = x.unsqueeze(1)  # (B, 1, T, F)
        for block in self.blocks:
            x = block(x)
        return x.mean(dim=3).amax(dim=2)  # mean over frequency, max over time


class SfxClassifiers(nn.Module):
    """The checkpoint's per-dataset heads: 512 -> 256 -> 128 -> n_classes, ReLU between."""

    def __init__(self, n_classes: list[int]) -> None:
        super().__init__()
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, n)
            )
            for n in n_classes
        )

    def forward(self, embedding: Tensor, head: int) -> Tensor:
        return self.heads[head](embedding)


def remap_state(state: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The wheel's key names -> ours: (network, classifier heads).

    `embedding_net.conv_block{k}.{conv,bn}{j}.*` -> `blocks.{k-1}.{conv,bn}{j}.*`;
    `fc.{i}.{0,2,4}.*` -> `heads.{i}.{0,2,4}.*`. Any other key is an error.
    """
    net, heads = {}, {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "embedding_net" and parts[1].startswith("conv_block"):
            k = int(parts[1].removeprefix("conv_block")) - 1
            net[".".join(["blocks", str(k), *parts[2:]])] = value
        elif parts[0] == "fc":
            heads[".".join(["heads", *parts[1:]])] = value
        else:
            raise KeyError(key)
    return net, heads
