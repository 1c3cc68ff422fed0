"""ProLIP's inclusion loss: a closed-form score that one Gaussian embedding is included in
another, the antisymmetric logit of it, and the softplus loss ProLAP applies across
modalities (audio in text) and across masking levels.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.losses.registry import Loss, LossBatch, LossConfig, Needs, gaussian

if TYPE_CHECKING:
    from audiotext_cli.models.output import Embedding, ModelOutput

INCLUSION_LOSS_LIMIT = 1e5  # ProLIP drops an inclusion loss this large (an exploding step)
_LOG2 = math.log(2.0)


def inclusion_score(
    mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor, eps: float = -20.0
) -> Tensor:
    """ProLIP's per-dimension score that Z1 is included in Z2 (elementwise, shape of mu1).

    S = -2 l1 - l2 - 1/2 log(k (1/v1 + 1/(2 v2))) - k (mu1 - mu2)^2 / (v1 + 2 v2), k = e^eps.
    At eps = 0 it is log of the integral of p1^2 p2, shifted by -log v1 - log v2 / 2 +
    3/2 log 2pi - 1/2 log pi. Written with log(v1 + 2 v2) = logaddexp(l1, l2 + log 2) so
    it stays finite for log-variances far from 0.
    """
    log_v1_2v2 = torch.logaddexp(logvar1, logvar2 + _LOG2)
    return (
        -1.5 * logvar1
        - 0.5 * logvar2
        - 0.5 * (eps + log_v1_2v2 - _LOG2)
        - (mu1 - mu2).pow(2) * torch.exp(eps - log_v1_2v2)
    )


def inclusion_logit(
    mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor, eps: float = -20.0
) -> Tensor:
    """Antisymmetric inclusion logit g = S(1 in 2) - S(2 in 1), per dimension, closed form:

    g = (l2 - l1) - 1/2 log((v1 + 2 v2) / (2 v1 + v2)) - k d^2 (v1 - v2) / ((v1 + 2 v2)(2 v1 + v2)).

    The log k terms cancel, and at eps = -20 the mean term is negligible, so in training
    the logit compares variances dimension by dimension (g > 0 iff v2 > v1 for equal means).
    """
    log_v1_2v2 = torch.logaddexp(logvar1, logvar2 + _LOG2)
    log_2v1_v2 = torch.logaddexp(logvar1 + _LOG2, logvar2)
    return (
        (logvar2 - logvar1)
        - 0.5 * (log_v1_2v2 - log_2v1_v2)
        - (mu1 - mu2).pow(2)
        * (logvar1.exp() - logvar2.exp())
        * torch.exp(eps - log_v1_2v2 - log_2v1_v2)
    )


def inclusion_loss(
    mu1: Tensor,
    logvar1: Tensor,
    mu2: Tensor,
    logvar2: Tensor,
    kappa: float = 1000.0,
    eps: float = -20.0,
) -> Tensor:
    """Loss for "row n of 1 is included in row n of 2": mean over batch *and* dimensions of
    softplus(-kappa * g). Like ProLIP, a loss above 1e5 in size is dropped (a detached 0 is
    returned) rather than allowed to blow up one step."""
    loss = F.softplus(-kappa * inclusion_logit(mu1, logvar1, mu2, logvar2, eps)).mean()
    if loss.abs() > INCLUSION_LOSS_LIMIT:
        warnings.warn(
            f"inclusion loss {loss.item():.3g} > {INCLUSION_LOSS_LIMIT:g}; dropped", stacklevel=2
        )
        return loss.new_zeros(()).detach()
    return loss


@dataclass
class InclusionConfig(LossConfig):
    """Weights of the two inclusion terms and the loss's sharpness: `cross_weight` for audio
    in its text, `hier_weight` for each input in its masked versions (ProLIP: 1e-7 and
    1e-3); `kappa` scales the logit, `eps` is log k of the score."""

    cross_weight: float = 5e-7
    hier_weight: float = 5e-3
    kappa: float = 1000.0
    eps: float = -20.0


class InclusionLoss(Loss):
    """ProLAP's inclusion terms: `inclusion_cross_loss` (audio included in its caption) and
    `inclusion_hier_loss` (level l in level l + 1 of the masked chains, level 0 being the
    full inputs the masks were drawn for). A zero weight gives an exact, uncomputed 0."""

    Config = InclusionConfig
    cfg: InclusionConfig

    @property
    def needs(self) -> Needs:
        return Needs(probabilistic=True)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        c, zero = self.cfg, out.audio.mean.new_zeros(())
        terms = {"inclusion_cross_loss": zero, "inclusion_hier_loss": zero}
        if c.cross_weight:
            cross = inclusion_loss(*gaussian(out.audio), *gaussian(out.text), c.kappa, c.eps)
            terms["inclusion_cross_loss"] = c.cross_weight * cross
        if c.hier_weight and (out.audio_levels or out.text_levels):
            hier = self._chain(out.audio, out.audio_levels) + self._chain(out.text, out.text_levels)
            terms["inclusion_hier_loss"] = c.hier_weight * hier
        return terms

    def _chain(self, full: Embedding, levels: Sequence[Embedding]) -> Tensor:
        """Sum over consecutive pairs of L_inc(level l in level l + 1): a partial input is
        more general, so it should contain the fuller one."""
        if not levels:
            return full.mean.new_zeros(())
        chain = [full[: len(levels[0])], *levels]
        return sum(
            inclusion_loss(*gaussian(inner), *gaussian(outer), self.cfg.kappa, self.cfg.eps)
            for inner, outer in pairwise(chain)
        )
