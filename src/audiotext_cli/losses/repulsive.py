"""ProLAP's mask repulsive loss, which the paper names but gives no formula for: our design,
documented in docs/losses.md."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.losses.ppcl import ppcl_logits


def mask_repulsive_loss(
    mu: Tensor, logvar: Tensor, logit_scale: Tensor, logit_bias: Tensor
) -> Tensor:
    """Our design for ProLAP's mask repulsive loss (the paper gives no formula): the
    negatives-only half of PPCL among masked embeddings of *different* samples,
    (1/n) sum_{i != j} softplus(z(x~_i, x~_j)), so that heavily masked inputs, which lose
    most of their content, do not all collapse onto one point."""
    n = mu.shape[0]
    logits = ppcl_logits(mu, logvar, mu, logvar, logit_scale, logit_bias)  # (n, n)
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=mu.device)
    return F.softplus(logits[off_diagonal]).sum() / n
