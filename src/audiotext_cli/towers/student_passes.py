"""How a saved student runs at inference: BatchNorm folded into its convolutions, and short
clips batched in fixed-shape passes.

Why: a library is mostly short clips (the evaluation split's median is 1.3 s), and a 1.5 s
clip run alone costs about 50 small ops whose fixed overhead (~3 ms) dwarfs its FLOPs. So a
clip of up to `BUCKETS[-1]` frames is padded to the smallest bucket that holds it and run
with other clips of that bucket in a pass of exactly `pass_rows(bucket)` rows (unused
rows zero), through the masked trunk that training uses (`StudentNet.steps` with valid
frame counts: steps past a clip's end are zeroed after every layer, so padding never
reaches its steps). A clip's rows then depend only on its own samples: the pass shape is
fixed by its length, and rows never mix (convolutions, no batch statistics), which is the
same argument as aisfx's fixed passes (`towers/passes.py`); longer clips run alone, as
one pass of their own length. Buckets 1.5x apart and passes of up to 2,048 frames
(16 rows at most, so a call's last, part-empty pass per bucket stays small) run a library
of 0.6-2.4 s clips about as fast per second as one long file (measured: half the time of
4 buckets 2x apart in 512-frame passes); a clip's rows came out bit for bit the same in
either layout, so the cache key did not change. The block head runs over every block of
a call in passes of `PASS_BLOCKS` rows.

Folding is exact algebra (conv weight times the BN scale, BN shift as the conv's bias);
in float32 it moves outputs by about 1e-6 relative, so the folded student's feature cache
key is its own (`-fused`) and its cosine to the unfolded network is tested (>= 0.999).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from audiotext_cli.towers.passes import in_passes

BUCKETS = (32, 48, 64, 96, 128, 192, 256)  # padded lengths in log-mel frames (20 ms)
PASS_FRAMES = 2048  # frames per pass of short clips at most
PASS_ROWS = 16  # clips per pass at most: 16 rows of 32 .. 8 rows of 256


def fold_batchnorm(net: nn.Module) -> nn.Module:
    """A copy of `net` in eval mode with every (conv, BatchNorm) pair of a Sequential
    folded into the conv (its bias holds the BN shift) and the BN replaced by Identity."""
    folded = copy.deepcopy(net).eval()
    for seq in folded.modules():
        if not isinstance(seq, nn.Sequential):
            continue
        for i in range(len(seq) - 1):
            conv, bn = seq[i], seq[i + 1]
            if isinstance(conv, nn.Conv1d | nn.Conv2d) and isinstance(
                bn, nn.BatchNorm1d | nn.BatchNorm2d
            ):
                _fold_into(conv, bn)
                seq[i + 1] = nn.Identity()
    return folded


@torch.no_grad()
def _fold_into(conv: nn.Conv1d | nn.Conv2d, bn: nn.BatchNorm1d | nn.BatchNorm2d) -> None:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shape = (-1,) + (1,) * (conv.weight.ndim - 1)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.weight.copy_(conv.weight * scale.reshape(shape))
    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias, requires_grad=False)


def bucket_of(frames: int) -> int | None:
    """The padded length of a clip of `frames` log-mel frames (None: it runs alone)."""
    return next((b for b in BUCKETS if frames <= b), None)


def pass_rows(bucket: int) -> int:
    """Clips in a trunk pass of `bucket`-frame clips: a function of the bucket only."""
    return min(PASS_ROWS, PASS_FRAMES // bucket)


def trunk_steps(net, mels: Sequence[Tensor], step_frames: int) -> list[Tensor]:
    """Each clip's (n_steps, C) trunk output from its (T, 64) log-mel (a step is
    `step_frames` frames): short clips in fixed-shape bucket passes, long ones alone."""
    out: list[Tensor | None] = [None] * len(mels)
    by_bucket: dict[int, list[int]] = {}
    for i, mel in enumerate(mels):
        bucket = bucket_of(len(mel))
        if bucket is None:
            out[i] = net.steps(mel[None])[0]
        else:
            by_bucket.setdefault(bucket, []).append(i)
    for bucket, idx in sorted(by_bucket.items()):
        rows = pass_rows(bucket)
        for start in range(0, len(idx), rows):
            chunk = idx[start : start + rows]
            x = mels[chunk[0]].new_zeros(rows, bucket, mels[chunk[0]].shape[1])
            frames = torch.zeros(rows, dtype=torch.long)
            for j, i in enumerate(chunk):
                x[j, : len(mels[i])] = mels[i]
                frames[j] = len(mels[i])
            steps = net.steps(x, frames)
            for j, i in enumerate(chunk):
                out[i] = steps[j, : -(-len(mels[i]) // step_frames)]
    return out  # type: ignore[return-value]


def head_in_passes(net, pooled: Tensor) -> np.ndarray:
    """(N, 2C) pooled blocks of a call -> (N, dim) teacher-space rows, `PASS_BLOCKS` rows
    a pass, so a block's row does not depend on how many blocks the call has."""
    return in_passes(lambda c: net.to_teacher(net.block_head(c)), pooled).float().cpu().numpy()
