"""ProLIP's variational-information-bottleneck regulariser of Gaussian embeddings."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.registry import Loss, LossBatch, LossConfig, Needs, gaussian

if TYPE_CHECKING:
    from audiotext_cli.models.output import ModelOutput

VIB_LOSS_LIMIT = 1e4  # ProLIP drops a KL term this large


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


VIB_VARIANTS = ("prolip", "textbook")


@dataclass
class VIBConfig(LossConfig):
    """The VIB term's weight (ProLIP: 1e-4) and which KL expression it uses."""

    weight: float = 1e-5
    variant: str = "prolip"

    def validate(self) -> None:
        if self.variant not in VIB_VARIANTS:
            raise ConfigUsageError(
                f"train.loss.vib.variant: must be 'prolip' or 'textbook', not {self.variant!r}"
            )


class VIBLoss(Loss):
    """`vib_loss`: the KL regulariser of the audio and the text Gaussians of a batch."""

    Config = VIBConfig
    cfg: VIBConfig

    @property
    def needs(self) -> Needs:
        return Needs(probabilistic=True)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        c = self.cfg
        if not c.weight:
            return {"vib_loss": out.audio.mean.new_zeros(())}
        kl = vib_kl(*gaussian(out.audio), c.variant) + vib_kl(*gaussian(out.text), c.variant)
        return {"vib_loss": c.weight * kl}
