"""ProLAP's objective, carried over from ProLIP: PPCL + inclusion + VIB + mask repulsion.

Each embedding is a diagonal Gaussian N(mu, diag(exp(logvar))) with a unit-norm mean. The
terms are losses of their own, one per module with its own config (`ppcl.py`,
`inclusion.py`, `vib.py`, `repulsive.py`); this one sums them as the registered loss
"prolap", owns the masking they share, and re-exports them. What ProLAP adds and never
published in formulas (hierarchical inclusion over recursive masking, the mask repulsive
loss) is our reading, documented in docs/losses.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import Tensor, nn

from audiotext_cli.losses.inclusion import (
    INCLUSION_LOSS_LIMIT,
    InclusionConfig,
    InclusionLoss,
    inclusion_logit,
    inclusion_loss,
    inclusion_score,
)
from audiotext_cli.losses.ppcl import PPCLConfig, PPCLLoss, csd, ppcl_logits, ppcl_loss
from audiotext_cli.losses.registry import (
    Loss,
    LossBatch,
    LossConfig,
    Masking,
    Needs,
    register_loss,
)
from audiotext_cli.losses.repulsive import RepulsiveConfig, RepulsiveLoss, mask_repulsive_loss
from audiotext_cli.losses.vib import VIB_LOSS_LIMIT, VIBConfig, VIBLoss, vib_kl

if TYPE_CHECKING:
    from audiotext_cli.models.output import ModelOutput

__all__ = [
    "INCLUSION_LOSS_LIMIT",
    "VIB_LOSS_LIMIT",
    "InclusionConfig",
    "InclusionLoss",
    "PPCLConfig",
    "PPCLLoss",
    "ProLAPConfig",
    "ProLAPLoss",
    "RepulsiveConfig",
    "RepulsiveLoss",
    "VIBConfig",
    "VIBLoss",
    "csd",
    "inclusion_logit",
    "inclusion_loss",
    "inclusion_score",
    "mask_repulsive_loss",
    "ppcl_logits",
    "ppcl_loss",
    "vib_kl",
]


# Each term's section of ProLAPConfig and the loss it configures, in the order summed.
TERMS: dict[str, type[Loss]] = {
    "ppcl": PPCLLoss,
    "inclusion": InclusionLoss,
    "vib": VIBLoss,
    "repulsive": RepulsiveLoss,
}

# ProLAPConfig's flat fields before each term had its own config: old key -> (section, key).
_FLAT_KEYS = {
    "w_ppcl": ("ppcl", "weight"),
    "w_inclusion_cross": ("inclusion", "cross_weight"),
    "w_inclusion_hier": ("inclusion", "hier_weight"),
    "kappa": ("inclusion", "kappa"),
    "eps": ("inclusion", "eps"),
    "w_vib": ("vib", "weight"),
    "vib_variant": ("vib", "variant"),
    "w_repulsive": ("repulsive", "weight"),
    "mask_fraction": ("masking", "fraction"),
    "mask_prob": ("masking", "prob"),
    "audio_mask_depth": ("masking", "audio_depth"),
    "text_mask_depth": ("masking", "text_depth"),
    "text_mask_variants": ("masking", "text_variants"),
}


@dataclass
class ProLAPConfig(LossConfig):
    """One section per term (`train.loss.vib.weight=0`, ...) and the masked levels the
    hierarchical inclusion and mask repulsive terms read (`train.loss.masking.*`).
    ProLIP's weights: inclusion cross 1e-7, hier 1e-3, VIB 1e-4, repulsive none."""

    ppcl: PPCLConfig = field(default_factory=PPCLConfig)
    inclusion: InclusionConfig = field(default_factory=InclusionConfig)
    vib: VIBConfig = field(default_factory=VIBConfig)
    repulsive: RepulsiveConfig = field(default_factory=RepulsiveConfig)
    masking: Masking = field(default_factory=Masking)

    @classmethod
    def upgrade(cls, data: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in data.items() if k not in _FLAT_KEYS}
        for old, (section, key) in _FLAT_KEYS.items():
            if old in data and isinstance(out.get(section, {}), dict):
                out[section] = {**out.get(section, {}), key: data[old]}
        return out

    def validate(self) -> None:
        for key in TERMS:  # a term's fields may be set after construction
            getattr(self, key).validate()


@register_loss("prolap", ProLAPConfig)
class ProLAPLoss(Loss):
    """The ProLAP objective: the sum of its terms (PPCL, cross-modal and hierarchical
    inclusion, VIB, mask repulsion), each already multiplied by its weight. It asks the
    trainer for the masked levels of its `masking` section."""

    cfg: ProLAPConfig

    def __init__(self, cfg: ProLAPConfig | None = None) -> None:
        super().__init__(cfg)
        self.terms = nn.ModuleDict({k: term(getattr(self.cfg, k)) for k, term in TERMS.items()})

    @property
    def needs(self) -> Needs:
        each = [term.needs for term in self.terms.values()]
        return Needs(bias=any(n.bias for n in each), probabilistic=True, masking=self.cfg.masking)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        """out.audio, out.text: Gaussians of the full inputs, (B, D) each; out.*_levels:
        Gaussians of the masked levels 1, 2, ... of the first n samples, (n, D) each; may
        be empty."""
        return {k: v for term in self.terms.values() for k, v in term(out, batch).items()}
