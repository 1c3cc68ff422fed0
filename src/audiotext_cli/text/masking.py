"""Random [MASK] replacement of word tokens, flat and hierarchical (ProLAP).

ProLAP trains "original caption ⊂ masked caption": a caption with words hidden should be a
more general (wider) embedding. Recursive masking builds a chain x(0) ⊂ x(1) ⊂ ... where each
level hides more, so each masked set contains the previous one (prolap-math.md §8; q = 0.75
and L = 2 for text in the paper, both assumptions the caller passes in).
"""

from __future__ import annotations

import torch
from torch import Tensor


def mask_tokens(
    ids: Tensor,
    attention_mask: Tensor,
    prob: float,
    generator: torch.Generator,
    mask_token_id: int,
    special_ids: set[int],
) -> Tensor:
    """Replace each real, non-special token by [MASK] independently with probability `prob`.

    [CLS], [SEP] and padding (anything in `special_ids` or where the mask is 0) never change,
    so sequence lengths and pooling weights stay the same. Returns a new (B, L) tensor.
    """
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"prob must be in [0, 1], got {prob}")
    special = torch.tensor(sorted(special_ids), dtype=ids.dtype, device=ids.device)
    maskable = attention_mask.bool() & ~torch.isin(ids, special)
    draw = torch.rand(ids.shape, generator=generator, device=generator.device).to(ids.device)
    return torch.where(maskable & (draw < prob), torch.full_like(ids, mask_token_id), ids)


def recursive_masks(
    ids: Tensor,
    attention_mask: Tensor,
    depth: int,
    prob: float,
    generator: torch.Generator,
    mask_token_id: int,
    special_ids: set[int],
) -> list[Tensor]:
    """Levels 1..depth of the masking chain (level 0 is `ids` itself).

    Level l+1 masks each token still visible at level l with probability `prob`, so its
    masked positions contain level l's, and a token is hidden at level l with probability
    1 - (1 - prob)^l.
    """
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    levels: list[Tensor] = []
    current = ids
    for _ in range(depth):
        current = mask_tokens(current, attention_mask, prob, generator, mask_token_id, special_ids)
        levels.append(current)
    return levels
