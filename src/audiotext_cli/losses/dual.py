"""HILBERT's reciprocal dual contrast, InfoNCE(z_a, z_j) + InfoNCE(z_t, z_j), anchored on
the joint vector (or InfoNCE(z_a, z_t) directly, for the ablation), and the balance
between its two branches (balance.py), registered as the document loss "dual".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.balance import balance_loss
from audiotext_cli.losses.contrastive import info_nce
from audiotext_cli.losses.document import (
    MIN_DOCUMENTS,
    DocumentBatch,
    DocumentLoss,
    WeightedConfig,
    register_document_loss,
)


def symmetric_info_nce(x: Tensor, y: Tensor, temperature: float) -> Tensor:
    """CLIP's loss between row-aligned L2-normalised (B, D) batches; symmetric in x and y."""
    targets = torch.arange(x.shape[0], device=x.device)
    return info_nce(x, y, torch.tensor(1.0 / temperature, device=x.device), targets, targets)


def dual_losses(
    g_a: Tensor, g_t: Tensor, g_j: Tensor, temperature: float, direct: bool = False
) -> dict[str, Tensor]:
    """Inputs: (B, D) L2-normalised projections. `dual_loss` is aj + tj (a<->t for
    `direct`); the two branch losses come back too, as `aj` and `tj` (not ending in
    `_loss`, so callers summing `*_loss` do not count them twice)."""
    if direct:
        loss = symmetric_info_nce(g_a, g_t, temperature)
        return {"dual_loss": loss, "aj": loss, "tj": loss}
    aj = symmetric_info_nce(g_a, g_j, temperature)
    tj = symmetric_info_nce(g_t, g_j, temperature)
    return {"dual_loss": aj + tj, "aj": aj, "tj": tj}


@dataclass
class DualConfig(WeightedConfig):
    """`weight` of the dual contrast, `balance` of its branches' squared gap, the
    InfoNCE `temperature`, and `direct`: contrast a<->t instead (the ablation)."""

    weight: float = 0.1
    balance: float = 0.1
    temperature: float = 0.1
    direct: bool = False

    def validate(self) -> None:
        super().validate()
        if not self.balance >= 0:
            raise ConfigUsageError("train.losses.dual.balance: must be >= 0")
        if not self.temperature > 0:
            raise ConfigUsageError("train.losses.dual.temperature: must be > 0")


@register_document_loss("dual", DualConfig)
class DualLoss(DocumentLoss):
    """`dual_losses` on the contrastive projections g_a, g_t, g_j, plus their balance."""

    cfg: DualConfig

    def forward(self, out: dict[str, Tensor], batch: DocumentBatch) -> dict[str, Tensor]:
        c = self.cfg
        if len(batch.labels) < MIN_DOCUMENTS or not (c.weight > 0 or c.balance > 0):
            return {}
        terms = dual_losses(out["g_a"], out["g_t"], out["g_j"], c.temperature, c.direct)
        return {
            "dual_loss": c.weight * terms["dual_loss"],
            "balance_loss": c.balance * balance_loss(terms["aj"], terms["tj"]),
        }
