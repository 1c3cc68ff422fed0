"""HILBERT's CKA loss, (1 - CKA(z_a, z_j)) + (1 - CKA(z_t, z_j)), which keeps each
modality's batch geometry in the joint space. CKA is *debiased* linear CKA: at document
batch sizes the biased estimator reads ~0.45 between independent noise, so it would reward
nothing. The HSIC formula is the one of `metrics/cka.py` (tested to agree).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from audiotext_cli.losses.document import (
    MIN_DOCUMENTS,
    DocumentBatch,
    DocumentLoss,
    WeightedConfig,
    register_document_loss,
)
from audiotext_cli.metrics.cka import debiased_hsic_terms


def _hsic(k: Tensor, l: Tensor, debiased: bool) -> Tensor:  # noqa: E741  (HSIC's K, L)
    n = k.shape[0]
    if not debiased:
        h = torch.eye(n, dtype=k.dtype, device=k.device) - 1.0 / n
        return torch.sum((h @ k @ h) * l) / (n - 1) ** 2
    # Song et al. 2012, unbiased HSIC: zero diagonals and correct the mean terms.
    k = k - torch.diag(torch.diagonal(k))
    l = l - torch.diag(torch.diagonal(l))  # noqa: E741
    ones = torch.ones(n, 1, dtype=k.dtype, device=k.device)
    return debiased_hsic_terms(
        torch.sum(k * l), ones.T @ k @ ones, ones.T @ l @ ones, ones.T @ k @ l @ ones, n
    ).squeeze()


def linear_cka(x: Tensor, y: Tensor, debiased: bool = True) -> Tensor:
    """Linear CKA between (B, Dx) and (B, Dy); widths may differ. Debiased needs B >= 4."""
    if x.shape[0] != y.shape[0] or (debiased and x.shape[0] < 4):
        raise ValueError(f"CKA needs row-aligned batches (debiased: >= 4 rows), got {x.shape[0]}")
    x = x - x.mean(dim=0, keepdim=True)
    y = y - y.mean(dim=0, keepdim=True)
    k, l = x @ x.T, y @ y.T  # noqa: E741
    kl = _hsic(k, l, debiased)
    kk, ll = _hsic(k, k, debiased), _hsic(l, l, debiased)
    return kl / torch.sqrt(torch.clamp(kk * ll, min=1e-12))


def cka_loss(z_a: Tensor, z_t: Tensor, z_j: Tensor, debiased: bool = True) -> Tensor:
    """(1 - CKA(z_a, z_j)) + (1 - CKA(z_t, z_j)): 0 when both share the joint's geometry."""
    return (1 - linear_cka(z_a, z_j, debiased)) + (1 - linear_cka(z_t, z_j, debiased))


@dataclass
class CKAConfig(WeightedConfig):
    """`weight` of the CKA term."""

    weight: float = 0.1


@register_document_loss("cka", CKAConfig)
class CKALoss(DocumentLoss):
    """`cka_loss` on the document embeddings z_a, z_t, z_j."""

    cfg: CKAConfig

    def forward(self, out: dict[str, Tensor], batch: DocumentBatch) -> dict[str, Tensor]:
        if len(batch.labels) < MIN_DOCUMENTS or not self.cfg.weight > 0:
            return {}
        return {"cka_loss": self.cfg.weight * cka_loss(out["z_a"], out["z_t"], out["z_j"])}
