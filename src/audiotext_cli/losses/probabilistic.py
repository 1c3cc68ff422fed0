"""ProLAP's objective, carried over from ProLIP: PPCL + inclusion + VIB + mask repulsion.

Each embedding is a diagonal Gaussian N(mu, diag(exp(logvar))) with a unit-norm mean. The
terms live one per module (`ppcl.py`, `inclusion.py`, `vib.py`, `repulsive.py`); this one
weighs and sums them as the registered loss "prolap" and re-exports them. What ProLAP adds
and never published in formulas (hierarchical inclusion over recursive masking, the mask
repulsive loss) is our reading, documented in docs/losses.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from torch import Tensor

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.inclusion import (
    INCLUSION_LOSS_LIMIT,
    inclusion_logit,
    inclusion_loss,
    inclusion_score,
)
from audiotext_cli.losses.ppcl import csd, ppcl_logits, ppcl_loss
from audiotext_cli.losses.registry import (
    Loss,
    LossBatch,
    LossConfig,
    Masking,
    Needs,
    register_loss,
)
from audiotext_cli.losses.repulsive import mask_repulsive_loss
from audiotext_cli.losses.vib import VIB_LOSS_LIMIT, vib_kl

if TYPE_CHECKING:
    from audiotext_cli.models.output import Embedding, ModelOutput

__all__ = [
    "INCLUSION_LOSS_LIMIT",
    "VIB_LOSS_LIMIT",
    "ProLAPConfig",
    "ProLAPLoss",
    "csd",
    "inclusion_logit",
    "inclusion_loss",
    "inclusion_score",
    "mask_repulsive_loss",
    "ppcl_logits",
    "ppcl_loss",
    "vib_kl",
]


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
