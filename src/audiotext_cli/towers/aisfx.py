"""The aisfx tower: Essentia-equivalent log-mel -> 100-frame blocks -> SfxCNN -> 512-d each.

Blocks of all waveforms in a call are batched together and run in passes of exactly
`PASS_BLOCKS` rows (the last one zero-padded): oneDNN picks its convolution algorithm by
shape, and a batch of one took another path than larger ones (differences of 1e-5), so a
fixed pass shape is what makes a file's embeddings bit-identical alone or in any batch.
Rows never mix (BatchNorm in eval mode). `precision="bf16"` (the default) runs the
convolutions in bfloat16 through oneDNN: about twice fp32's speed on this AVX-512 CPU,
cosine to fp32 above 0.9999 (tested; docs/benchmarks.md).

A fine-tuned tower (`tail`, `models.tower_tail.TowerTail`) runs the frozen first blocks and
then the checkpoint's tail, pass by pass as the frozen one; its `tower_id` names the tail's
weights, so its features never mix with the frozen tower's in the feature cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from audiotext_cli.audio.sfx_frontend import SAMPLE_RATE, SfxLogMel, blocks_of
from audiotext_cli.models.sfx_cnn import SfxCNN
from audiotext_cli.models.sfx_weights import AISFX_SHA256, load_aisfx
from audiotext_cli.towers.passes import DEFAULT_PRECISION, PRECISIONS, autocast, in_passes

if TYPE_CHECKING:
    from audiotext_cli.models.tower_tail import TowerTail


class AisfxTower:
    """Frozen aisfx network with its front end; `tower_id` names weights and precision."""

    name = "aisfx"
    sample_rate = SAMPLE_RATE
    dim = SfxCNN.out_dim
    caches_jobs = True

    def __init__(
        self,
        precision: str = DEFAULT_PRECISION,
        device: str = "cpu",
        tail: TowerTail | None = None,
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.precision = precision
        self.device = torch.device(device)
        self.frontend = SfxLogMel().to(self.device)
        self.net = SfxCNN()
        net_state, _, _ = load_aisfx()
        self.net.load_state_dict(net_state)
        self.net = self.net.to(self.device).eval().to(memory_format=torch.channels_last)
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.tower_id = f"aisfx-{AISFX_SHA256[:12]}-{precision}"
        self.tail = tail
        if tail is not None:
            if tail.precision != precision:
                raise ValueError(f"a {tail.precision} tail in a {precision} tower")
            self.tower_id += f"-tuned{SfxCNN.n_blocks - tail.first}-{tail.digest()}"

    @torch.inference_mode()
    def logmel_blocks(self, wave: np.ndarray) -> torch.Tensor:
        """(n,) mono float32 at 44.1 kHz -> (n_blocks, 100, 96)."""
        x = torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)).to(self.device)
        return blocks_of(self.frontend(x[None])[0])

    @torch.inference_mode()
    def prefix(self, blocks: torch.Tensor, stop: int) -> torch.Tensor:
        """(N, 100, 96) log-mel blocks -> the frozen blocks 0..stop-1's activations, in the
        tower's precision: what a tail starting at `stop` takes."""
        with autocast(self.precision):
            return in_passes(lambda c: self.net.prefix(c, stop), blocks.to(self.device))

    @torch.inference_mode()
    def embed_logmel_blocks(self, blocks: torch.Tensor) -> torch.Tensor:
        """(N, 100, 96) -> (N, 512) float32, in passes of exactly PASS_BLOCKS rows."""
        if len(blocks) == 0:
            return torch.zeros(0, self.dim)
        if self.tail is not None:
            return in_passes(self.tail, self.prefix(blocks, self.tail.first))
        with autocast(self.precision):
            return in_passes(lambda c: self.net(c).float(), blocks.to(self.device))

    def embed_blocks(self, waves: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Waveforms at 44.1 kHz -> one (n_blocks_i, 512) float32 array each."""
        per_wave = [self.logmel_blocks(w) for w in waves]
        if not per_wave:
            return []
        emb = self.embed_logmel_blocks(torch.cat(per_wave)).cpu().numpy()
        bounds = np.cumsum([0, *[len(b) for b in per_wave]])
        return [emb[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
