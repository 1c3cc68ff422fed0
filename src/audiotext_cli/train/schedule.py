"""Learning-rate schedule: linear warm-up then cosine decay, a pure function of the step."""

from __future__ import annotations

import math


def warmup_cosine(
    step: int, total: int, warmup: int, base_lr: float, min_ratio: float = 0.02
) -> float:
    if total <= 0:
        return base_lr
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base_lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
