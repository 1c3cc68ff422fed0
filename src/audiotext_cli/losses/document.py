"""HILBERT's document-level losses (reconstruction in docs/hilbert.md).

- `DualContrastiveLoss`: InfoNCE(z_a, z_j) + InfoNCE(z_t, z_j), anchored on the joint vector
  (or direct InfoNCE(z_a, z_t) for the ablation).
- `CKALoss`: (1 - CKA(z_a, z_j)) + (1 - CKA(z_t, z_j)) with *debiased* linear CKA: at document
  batch sizes the biased estimator reads ~0.45 between independent noise, so it would reward
  nothing.
- `balance_loss`: squared gap between the two InfoNCE losses (InfoNCE bound: I_m ~ log B - L_m).
- `log_mixture` / `load_balance_loss`: the mixture-of-experts classifier's stable log-likelihood
  and its Switch-style load-balance term.
- `class_weights`: inverse-frequency weights for imbalanced labels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from audiotext_cli.losses.contrastive import info_nce
from audiotext_cli.metrics.cka import debiased_hsic_terms


def symmetric_info_nce(x: Tensor, y: Tensor, temperature: float) -> Tensor:
    """CLIP's loss between row-aligned L2-normalised (B, D) batches; symmetric in x and y."""
    targets = torch.arange(x.shape[0], device=x.device)
    return info_nce(x, y, torch.tensor(1.0 / temperature, device=x.device), targets, targets)


class DualContrastiveLoss(nn.Module):
    """Reciprocal dual contrast a<->j and t<->j; `direct=True` contrasts a<->t instead."""

    def __init__(self, temperature: float = 0.1, direct: bool = False) -> None:
        super().__init__()
        self.temperature = temperature
        self.direct = direct

    def forward(self, z_a: Tensor, z_t: Tensor, z_j: Tensor) -> dict[str, Tensor]:
        """Inputs: (B, D) L2-normalised projections. Also returns the two branch losses
        (not ending in `_loss`, so callers summing `*_loss` do not count them twice)."""
        if self.direct:
            loss = symmetric_info_nce(z_a, z_t, self.temperature)
            return {"dual_loss": loss, "aj": loss, "tj": loss}
        aj = symmetric_info_nce(z_a, z_j, self.temperature)
        tj = symmetric_info_nce(z_t, z_j, self.temperature)
        return {"dual_loss": aj + tj, "aj": aj, "tj": tj}


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


class CKALoss(nn.Module):
    """Keep each modality's batch geometry in the joint space."""

    def __init__(self, debiased: bool = True) -> None:
        super().__init__()
        self.debiased = debiased

    def forward(self, z_a: Tensor, z_t: Tensor, z_j: Tensor) -> dict[str, Tensor]:
        cka_a = linear_cka(z_a, z_j, self.debiased)
        cka_t = linear_cka(z_t, z_j, self.debiased)
        return {"cka_loss": (1 - cka_a) + (1 - cka_t)}


def balance_loss(loss_aj: Tensor, loss_tj: Tensor) -> Tensor:
    """(L_aj - L_tj)^2 with the better-aligned (smaller-loss) side detached.

    With the InfoNCE bound, the gap is the MI gap. Detaching the leading side means the
    penalty only pulls the lagging modality up; it never trains the model to forget what the
    dominant modality already put into z_j (the undetached square would also push the
    leader's loss up, i.e. destroy information to balance).
    """
    if loss_aj >= loss_tj:
        return (loss_aj - loss_tj.detach()) ** 2
    return (loss_tj - loss_aj.detach()) ** 2


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


def class_weights(labels: Tensor, n_classes: int) -> Tensor:
    """n / (C * count_c) (sklearn's 'balanced'); absent classes get weight 0."""
    counts = torch.bincount(labels, minlength=n_classes).to(torch.float32)
    weights = labels.numel() / (n_classes * counts.clamp(min=1))
    return torch.where(counts > 0, weights, torch.zeros_like(weights))
