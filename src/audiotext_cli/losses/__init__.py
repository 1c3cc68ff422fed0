"""Training losses as modules that take features and scalars and return `{"*_loss": ...}`.

The caller sums every value; each loss gathers across ranks itself when torch.distributed
is initialised (local rows against gathered columns, see `distributed.py`).
"""

from __future__ import annotations

from torch import nn

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses.contrastive import ClipLoss, SigLipLoss
from audiotext_cli.losses.distributed import gather_features, rank_and_world
from audiotext_cli.losses.probabilistic import (
    PPCLLoss,
    ProLAPLoss,
    csd,
    inclusion_logit,
    inclusion_loss,
    inclusion_score,
    mask_repulsive_loss,
    ppcl_logits,
    vib_kl,
)
from audiotext_cli.losses.soft import SoftClipLoss

LOSSES: dict[str, type[nn.Module]] = {
    "clip": ClipLoss,
    "siglip": SigLipLoss,
    "soft-clip": SoftClipLoss,
    "prolap": ProLAPLoss,
}


def create_loss(name: str, **kwargs) -> nn.Module:
    """The loss registered under `name`, built with `kwargs` (e.g. beta=0.3 for soft-clip)."""
    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    try:
        return LOSSES[name](**kwargs)
    except TypeError as err:  # an option this loss does not take
        raise ConfigError(f"loss {name!r}: {err}") from err


__all__ = [
    "LOSSES",
    "ClipLoss",
    "PPCLLoss",
    "ProLAPLoss",
    "SigLipLoss",
    "SoftClipLoss",
    "create_loss",
    "csd",
    "gather_features",
    "inclusion_logit",
    "inclusion_loss",
    "inclusion_score",
    "mask_repulsive_loss",
    "ppcl_logits",
    "rank_and_world",
    "vib_kl",
]
