"""Probabilistic losses of ProLIP, carried over to audio as in ProLAP.

Each embedding is a diagonal Gaussian N(mu, diag(exp(logvar))) with a unit-norm mean.
Formulas and golden values: the project's reference notes on ProLIP's loss.py
(naver-ai/prolip), reproduced here to 1e-9. What ProLAP adds and never published in
formulas (hierarchical inclusion over recursive masking, the mask repulsive loss) is our
reading, documented in docs/losses.md.
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

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.contrastive import check_pair, sigmoid_loss
from audiotext_cli.losses.distributed import PosMask, gather_features, global_pos_mask
from audiotext_cli.losses.registry import (
    Loss,
    LossBatch,
    LossConfig,
    Masking,
    Needs,
    register_loss,
)

if TYPE_CHECKING:
    from audiotext_cli.models.output import Embedding, ModelOutput

INCLUSION_LOSS_LIMIT = 1e5  # ProLIP drops an inclusion loss this large (an exploding step)
VIB_LOSS_LIMIT = 1e4  # ... and a KL term this large
_LOG2 = math.log(2.0)


def csd(mu1: Tensor, logvar1: Tensor, mu2: Tensor, logvar2: Tensor) -> Tensor:
    """Closed-form sampled distance E||Z1 - Z2||^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2),
    for every pair of rows: (B1, D) x (B2, D) -> (B1, B2)."""
    sq1 = mu1.pow(2).sum(-1)[:, None]
    sq2 = mu2.pow(2).sum(-1)[None, :]
    tr1 = logvar1.exp().sum(-1)[:, None]
    tr2 = logvar2.exp().sum(-1)[None, :]
    return sq1 + sq2 - 2 * mu1 @ mu2.T + tr1 + tr2


def ppcl_logits(
    mu1: Tensor,
    logvar1: Tensor,
    mu2: Tensor,
    logvar2: Tensor,
    logit_scale: Tensor,
    logit_bias: Tensor,
) -> Tensor:
    """ProLIP's pairwise logit s * (mu1 . mu2 - (tr1 + tr2) / 2) + b, (B1, B2).

    For unit-norm means this is s * (1 - CSD / 2) + b: a larger distance or more
    uncertainty lowers the match score.
    """
    tr1 = logvar1.exp().sum(-1)[:, None]
    tr2 = logvar2.exp().sum(-1)[None, :]
    return logit_scale * (mu1 @ mu2.T - (tr1 + tr2) / 2) + logit_bias


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


def vib_kl(mu: Tensor, logvar: Tensor, variant: str = "prolip") -> Tensor:
    """KL-style regulariser towards N(0, I), averaged over batch and dimensions.

    "textbook": -1/2 (1 + l - mu^2 - e^l), the exact KL per dimension (PCME++).
    "prolip": ProLIP's "bug fix", the same expression with log sigma = l / 2 in place of l
    (so e^(l/2) = sigma in place of sigma^2). Both are minimal at l = 0; ProLIP's pulls a
    small log-variance up half as hard.
    A value above 1e4 is dropped, as in ProLIP.
    """
    if variant == "prolip":
        logvar = logvar / 2
    elif variant != "textbook":
        raise ValueError(f"vib variant must be 'prolip' or 'textbook', got {variant!r}")
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).mean()
    if kl > VIB_LOSS_LIMIT:
        warnings.warn(f"VIB loss {kl.item():.3g} > {VIB_LOSS_LIMIT:g}; dropped", stacklevel=2)
        return kl.new_zeros(()).detach()
    return kl


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


def ppcl_loss(
    audio_mu: Tensor,
    audio_logvar: Tensor,
    text_mu: Tensor,
    text_logvar: Tensor,
    logit_scale: Tensor,
    logit_bias: Tensor,
    pos_mask: PosMask = None,
) -> Tensor:
    """ProLIP's probabilistic pairwise contrastive loss: SigLIP's sigmoid loss on the
    CSD-based logits, summed over all pairs and divided by B. Means (B, D) unit-norm,
    log-variances (B, D); logit_scale exponentiated."""
    for mu, logvar in ((audio_mu, audio_logvar), (text_mu, text_logvar)):
        check_pair(mu, logvar)
    check_pair(audio_mu, text_mu)
    positives, _ = global_pos_mask(pos_mask, audio_mu.shape[0], audio_mu.device)
    logits = ppcl_logits(
        audio_mu,
        audio_logvar,
        gather_features(text_mu),
        gather_features(text_logvar),
        logit_scale,
        logit_bias,
    )
    return sigmoid_loss(logits, positives)


@dataclass
class ProLAPConfig(LossConfig):
    """ProLAP's weights (ProLIP's: w_inclusion_hier=1e-3, w_inclusion_cross=1e-7,
    w_vib=1e-4, w_repulsive=0) and its masking of the first `mask_fraction` of a batch."""

    w_ppcl: float = 1.0
    w_inclusion_cross: float = 5e-7
    w_inclusion_hier: float = 5e-3
    w_vib: float = 1e-5
    w_repulsive: float = 1e-3
    kappa: float = 1000.0
    eps: float = -20.0
    vib_variant: str = "prolip"  # or "textbook" (see `vib_kl`)
    mask_fraction: float = 0.125
    mask_prob: float = 0.75
    text_mask_depth: int = 2
    audio_mask_depth: int = 1
    text_mask_variants: int = 2

    def validate(self) -> None:
        if self.vib_variant not in ("prolip", "textbook"):
            raise ConfigUsageError(
                f"train.loss.vib_variant: must be 'prolip' or 'textbook', not {self.vib_variant!r}"
            )
        for key in ("mask_fraction", "mask_prob"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigUsageError(f"train.loss.{key}: must be in [0, 1]")
        for key in ("text_mask_depth", "audio_mask_depth"):
            if getattr(self, key) < 0:
                raise ConfigUsageError(f"train.loss.{key}: must be >= 0")
        if self.text_mask_variants < 1:
            raise ConfigUsageError("train.loss.text_mask_variants: must be >= 1")


@register_loss("prolap", ProLAPConfig)
class ProLAPLoss(Loss):
    """The ProLAP objective: PPCL + cross-modal inclusion (audio in text) + hierarchical
    inclusion (each input in its masked version, each masked level in the next) + VIB +
    mask repulsion. Each returned term is already multiplied by its weight; a zero weight
    makes the term an exact, uncomputed 0.
    """

    cfg: ProLAPConfig

    @property
    def needs(self) -> Needs:
        c = self.cfg
        masking = Masking(
            c.mask_fraction,
            c.mask_prob,
            c.audio_mask_depth,
            c.text_mask_depth,
            c.text_mask_variants,
        )
        return Needs(bias=True, probabilistic=True, masking=masking)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        """out.audio, out.text: Gaussians of the full inputs, (B, D) each; out.*_levels:
        Gaussians of the masked levels 1, 2, ... of the first n samples, (n, D) each; may
        be empty."""
        c, audio, text = self.cfg, out.audio, out.text
        scale, bias = out.logit_scale, out.logit_bias
        levels = (*out.audio_levels, *out.text_levels)
        keys = ("contrastive", "inclusion_cross", "inclusion_hier", "vib", "repulsive")
        losses = {f"{key}_loss": audio.mean.new_zeros(()) for key in keys}
        if c.w_ppcl:
            ppcl = ppcl_loss(*_pair(audio), *_pair(text), scale, bias, batch.pos_mask)
            losses["contrastive_loss"] = c.w_ppcl * ppcl
        if c.w_inclusion_cross:
            cross = inclusion_loss(*_pair(audio), *_pair(text), c.kappa, c.eps)
            losses["inclusion_cross_loss"] = c.w_inclusion_cross * cross
        if c.w_inclusion_hier and levels:
            hier = self._hierarchical(audio, out.audio_levels) + self._hierarchical(
                text, out.text_levels
            )
            losses["inclusion_hier_loss"] = c.w_inclusion_hier * hier
        if c.w_vib:
            kl = vib_kl(*_pair(audio), c.vib_variant) + vib_kl(*_pair(text), c.vib_variant)
            losses["vib_loss"] = c.w_vib * kl
        if c.w_repulsive and levels:
            repulsive = sum(mask_repulsive_loss(*_pair(lv), scale, bias) for lv in levels)
            losses["repulsive_loss"] = c.w_repulsive * repulsive
        return losses

    def _hierarchical(self, full: Embedding, levels: Sequence[Embedding]) -> Tensor:
        """Sum over consecutive pairs of L_inc(level l in level l + 1), level 0 being the
        first n full inputs: a partial input is more general, so it should contain them."""
        if not levels:
            return full.mean.new_zeros(())
        chain = [full[: len(levels[0])], *levels]
        return sum(
            inclusion_loss(*_pair(inner), *_pair(outer), self.cfg.kappa, self.cfg.eps)
            for inner, outer in pairwise(chain)
        )


def _pair(g: Embedding) -> tuple[Tensor, Tensor]:
    """(mean, logvar) of a Gaussian embedding; a point embedding is refused."""
    if g.logvar is None:
        raise ValueError("a probabilistic loss needs Gaussian embeddings (logvar is None)")
    return g.mean, g.logvar
