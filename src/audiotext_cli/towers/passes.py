"""How the aisfx network is run: its precision (bf16 autocast or fp32) and fixed-shape passes.

Kept apart from `aisfx.py` so that `models.tower_tail`, which the model imports, can use
them without importing the tower (whose network lives in `models`: a cycle otherwise).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

PRECISIONS = ("fp32", "bf16")
DEFAULT_PRECISION = "bf16"
PASS_BLOCKS = 16  # measured best for bf16 on 2 cores among 4..64 with a small waste


def autocast(precision: str) -> torch.autocast:
    """The tower's precision: bf16 convolutions through oneDNN, or plain fp32."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")


def in_passes(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """`fn` over the rows of `x` in passes of exactly PASS_BLOCKS rows (the last one
    zero-padded, the padding dropped): what makes rows independent of their batch."""
    n = len(x)
    padded = torch.nn.functional.pad(x, (0, 0) * (x.ndim - 1) + (0, (-n) % PASS_BLOCKS))
    if x.ndim == 4:  # activations: one memory layout, hence one oneDNN algorithm
        padded = padded.contiguous(memory_format=torch.channels_last)
    return torch.cat([fn(chunk) for chunk in padded.split(PASS_BLOCKS)])[:n]
