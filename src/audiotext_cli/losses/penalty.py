"""The structured self-attention penalty ||S S^T - I||^2 (Lin et al. 2017) that keeps
HILBERT's attention hops apart; the model computes it, this weighs it ("penalty")."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from audiotext_cli.losses.document import (
    DocumentBatch,
    DocumentLoss,
    WeightedConfig,
    register_document_loss,
)


@dataclass
class PenaltyConfig(WeightedConfig):
    """`weight` of the attention penalty."""

    weight: float = 0.001


@register_document_loss("penalty", PenaltyConfig)
class AttentionPenaltyLoss(DocumentLoss):
    """The model's `penalty`, weighted."""

    cfg: PenaltyConfig

    def forward(self, out: dict[str, Tensor], batch: DocumentBatch) -> dict[str, Tensor]:
        return {"penalty_loss": self.cfg.weight * out["penalty"]}
