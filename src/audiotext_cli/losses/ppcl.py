"""ProLIP's probabilistic pairwise contrastive loss (PPCL) and its closed-form sampled
distance (CSD), on diagonal Gaussians N(mu, diag(exp(logvar))) with unit-norm means.
Formulas and golden values: the project's reference notes on ProLIP's loss.py
(naver-ai/prolip), reproduced here to 1e-9.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor

from audiotext_cli.losses.contrastive import check_pair, sigmoid_loss
from audiotext_cli.losses.distributed import PosMask, gather_features, global_pos_mask
from audiotext_cli.losses.registry import Loss, LossBatch, LossConfig, Needs, gaussian

if TYPE_CHECKING:
    from audiotext_cli.models.output import ModelOutput


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
class PPCLConfig(LossConfig):
    """PPCL's weight in ProLAP's sum (`train.loss.ppcl.weight`)."""

    weight: float = 1.0


class PPCLLoss(Loss):
    """PPCL between the audio and text Gaussians of a batch, as ProLAP's `contrastive_loss`
    term; a zero weight gives an exact, uncomputed 0."""

    Config = PPCLConfig
    cfg: PPCLConfig

    @property
    def needs(self) -> Needs:
        return Needs(bias=True, probabilistic=True)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        if not self.cfg.weight:
            return {"contrastive_loss": out.audio.mean.new_zeros(())}
        args = (*gaussian(out.audio), *gaussian(out.text), out.logit_scale, out.logit_bias)
        return {"contrastive_loss": self.cfg.weight * ppcl_loss(*args, batch.pos_mask)}
