"""ProLAP's mask repulsive loss, which the paper names but gives no formula for: our design,
documented in docs/losses.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.losses.ppcl import ppcl_logits
from audiotext_cli.losses.registry import Loss, LossBatch, LossConfig, Needs, gaussian

if TYPE_CHECKING:
    from audiotext_cli.models.output import ModelOutput


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


@dataclass
class RepulsiveConfig(LossConfig):
    """The mask repulsive term's weight (ProLIP has none: 0)."""

    weight: float = 1e-3


class RepulsiveLoss(Loss):
    """`repulsive_loss`: `mask_repulsive_loss` summed over every masked level of either
    modality (none when the batch carries no masked levels)."""

    Config = RepulsiveConfig
    cfg: RepulsiveConfig

    @property
    def needs(self) -> Needs:
        return Needs(bias=True, probabilistic=True)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        levels = (*out.audio_levels, *out.text_levels)
        if not (self.cfg.weight and levels):
            return {"repulsive_loss": out.audio.mean.new_zeros(())}
        scale, bias = out.logit_scale, out.logit_bias
        total = sum(mask_repulsive_loss(*gaussian(lv), scale, bias) for lv in levels)
        return {"repulsive_loss": self.cfg.weight * total}
