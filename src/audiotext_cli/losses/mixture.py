"""The mixture-of-experts classifier's maths: its stable log-likelihood (`log_mixture`,
used by hilbert/model.py's head) and its Switch-style load-balance term, registered as
the document loss "load"."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.losses.document import (
    DocumentBatch,
    DocumentLoss,
    WeightedConfig,
    register_document_loss,
)


def log_mixture(gate_logits: Tensor, expert_logits: Tensor) -> Tensor:
    """log sum_e g_e softmax(f_e)_y, computed in log space.

    gate_logits: (B, E); expert_logits: (B, E, C) -> (B, C) log-probabilities, finite for
    any finite logits (a plain sum of products underflows to log(0) for confident experts).
    """
    log_gates = F.log_softmax(gate_logits, dim=-1).unsqueeze(-1)  # (B, E, 1)
    return torch.logsumexp(log_gates + F.log_softmax(expert_logits, dim=-1), dim=1)


def load_balance_loss(gates: Tensor) -> Tensor:
    """E * sum_e (mean_b g_e)^2: 1 when experts share the batch evenly, E when one takes all."""
    importance = gates.mean(dim=0)
    return gates.shape[1] * torch.sum(importance**2)


@dataclass
class LoadConfig(WeightedConfig):
    """`weight` of the load-balance term (used only by the mixture-of-experts head)."""

    weight: float = 0.01


@register_document_loss("load", LoadConfig)
class LoadBalanceLoss(DocumentLoss):
    """`load_balance_loss` of the head's gates; nothing for a head without experts."""

    cfg: LoadConfig

    def forward(self, out: dict[str, Tensor], batch: DocumentBatch) -> dict[str, Tensor]:
        if "gates" not in out:
            return {}
        return {"load_loss": self.cfg.weight * load_balance_loss(out["gates"])}
