"""Cross-rank plumbing shared by every loss.

Losses use open_clip's *local loss* convention: each rank scores its own B rows against
the columns gathered from all ranks (N = world * B). Averaging the per-rank losses (what
DDP does to the gradients) then equals the loss on the whole global batch, and the
gather only moves (B, D) features, so it works with gloo on CPU as well as NCCL.
All ranks must hold the same batch size, as in open_clip.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor


def rank_and_world() -> tuple[int, int]:
    """This process's rank and the world size; (0, 1) when torch.distributed is not in use."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def gather_features(x: Tensor) -> Tensor:
    """Concatenate `x` from all ranks along dim 0, keeping the gradient.

    With gradients flowing through the gather, each rank's features also receive the
    gradient of the other ranks' losses, so no rank's negatives are treated as constants.
    """
    _, world = rank_and_world()
    if world == 1:
        return x
    import torch.distributed.nn.functional as dist_fn  # only importable where dist exists

    # torch 2.13 deprecates this in favour of a private API (_functional_collectives); the
    # public op still works with gloo and NCCL, so keep it and keep the logs quiet.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "torch.distributed.nn.functional.all_gather", FutureWarning
        )
        return torch.cat(dist_fn.all_gather(x), dim=0)


PosMask = Tensor | tuple[Tensor, Tensor] | None  # see `global_pos_mask`


def global_pos_mask(pos_mask: PosMask, batch: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Positives of this rank's rows among the gathered columns: (B, N) bool masks for the
    audio->text and the text->audio rows.

    `pos_mask` may be None (only aligned pairs are positive), (B, B) over the local batch
    (entry [i, j]: audio i and text j are a positive pair; columns of other ranks are
    negatives), or (B, N) over the global batch, read as a symmetric relation between
    samples (e.g. equal caption strings) and used for both directions, or a pair of
    (B, N) masks (a2t, t2a) for a relation that is not symmetric (a text describing a
    clip). The aligned pair is always a positive, so no row is left without one.
    """
    rank, world = rank_and_world()
    n = batch * world
    block = slice(rank * batch, (rank + 1) * batch)
    eye = torch.zeros(batch, n, dtype=torch.bool, device=device)
    eye[:, block] = torch.eye(batch, dtype=torch.bool, device=device)
    if pos_mask is None:
        return eye, eye
    if isinstance(pos_mask, tuple):
        a2t, t2a = (m.to(device=device, dtype=torch.bool) for m in pos_mask)
        if a2t.shape != (batch, n) or t2a.shape != (batch, n):
            raise ValueError(f"pos_mask pair must be ({batch}, {n}) each")
        return a2t | eye, t2a | eye
    pos_mask = pos_mask.to(device=device, dtype=torch.bool)
    if pos_mask.shape == (batch, batch):
        a2t, t2a = torch.zeros_like(eye), torch.zeros_like(eye)
        a2t[:, block] = pos_mask
        t2a[:, block] = pos_mask.T
    elif pos_mask.shape == (batch, n):
        a2t = t2a = pos_mask
    else:
        raise ValueError(
            f"pos_mask has shape {tuple(pos_mask.shape)}, expected ({batch}, {batch}) "
            f"or ({batch}, {n})"
        )
    return a2t | eye, t2a | eye
