"""ProLAP's mask repulsive loss, which the paper names but gives no formula for: two
readings of its words ("prevents collapse", "makes learning the hierarchical inclusion
efficient"), both ours and both documented in docs/losses.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.inclusion import inclusion_logit
from audiotext_cli.losses.ppcl import ppcl_logits
from audiotext_cli.losses.registry import Loss, LossBatch, LossConfig, Needs, gaussian

if TYPE_CHECKING:
    from audiotext_cli.models.output import Embedding, ModelOutput

REPULSIVE_FORMS = ("sigmoid", "inclusion")


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


def negative_inclusion_loss(
    full_mu: Tensor,
    full_logvar: Tensor,
    masked_mu: Tensor,
    masked_logvar: Tensor,
    kappa: float = 1000.0,
    eps: float = -20.0,
) -> Tensor:
    """The other reading: ProLIP's inclusion loss with the label flipped (y = -1) for
    "x_j is included in the masked x~_i", i != j: mean over pairs and dimensions of
    softplus(kappa * g(x_j in x~_i)), so a masked input includes its own sample (the
    hierarchical term) but not the others'. Rows (n, D) each, row i of both the same sample."""
    n = full_mu.shape[0]
    g = inclusion_logit(  # (n masked, n full, D): g[i, j] = g(x_j in x~_i)
        full_mu[None], full_logvar[None], masked_mu[:, None], masked_logvar[:, None], eps
    )
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=full_mu.device)
    return F.softplus(kappa * g[off_diagonal]).mean()


@dataclass
class RepulsiveConfig(LossConfig):
    """The mask repulsive term's weight (ProLIP has none: 0), its `form` ("sigmoid":
    `mask_repulsive_loss`; "inclusion": `negative_inclusion_loss`) and the latter's kappa."""

    weight: float = 1e-3
    form: str = "sigmoid"
    kappa: float = 1000.0

    def validate(self) -> None:
        if self.form not in REPULSIVE_FORMS:
            raise ConfigUsageError(
                f"train.loss.repulsive.form: must be one of {', '.join(REPULSIVE_FORMS)}, "
                f"not {self.form!r}"
            )


class RepulsiveLoss(Loss):
    """`repulsive_loss`: the chosen form summed over every masked level of either modality
    (none when the batch carries no masked levels)."""

    Config = RepulsiveConfig
    cfg: RepulsiveConfig

    @property
    def needs(self) -> Needs:
        return Needs(bias=True, probabilistic=True)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        levels = (*out.audio_levels, *out.text_levels)
        if not (self.cfg.weight and levels):
            return {"repulsive_loss": out.audio.mean.new_zeros(())}
        if self.cfg.form == "inclusion":
            total = self._negative(out.audio, out.audio_levels) + self._negative(
                out.text, out.text_levels
            )
        else:
            scale, bias = out.logit_scale, out.logit_bias
            total = sum(mask_repulsive_loss(*gaussian(lv), scale, bias) for lv in levels)
        return {"repulsive_loss": self.cfg.weight * total}

    def _negative(self, full: Embedding, levels: list[Embedding]) -> Tensor:
        """`negative_inclusion_loss` of each masked level against the full inputs it was
        drawn from (the first n of the batch)."""
        total = full.mean.new_zeros(())
        for level in levels:
            rows = gaussian(full[: len(level.mean)])
            total = total + negative_inclusion_loss(*rows, *gaussian(level), self.cfg.kappa)
        return total
