"""Training losses: a registry of modules, each with its own config (`registry.py`).

A registered loss takes `(ModelOutput, LossBatch)` and returns `{"*_loss": ...}` terms
that the caller sums; each loss gathers across ranks itself when torch.distributed is
initialised (local rows against gathered columns, see `distributed.py`). Importing this
package registers the built-in losses: clip, siglip, soft-clip, prolap.
"""

from __future__ import annotations

from audiotext_cli.losses.contrastive import ClipLoss, SigLipLoss, clip_loss, siglip_loss
from audiotext_cli.losses.distributed import gather_features, rank_and_world
from audiotext_cli.losses.probabilistic import (
    ProLAPConfig,
    ProLAPLoss,
    csd,
    inclusion_logit,
    inclusion_loss,
    inclusion_score,
    mask_repulsive_loss,
    ppcl_logits,
    ppcl_loss,
    vib_kl,
)
from audiotext_cli.losses.registry import (
    LOSSES,
    Loss,
    LossBatch,
    LossConfig,
    Masking,
    Needs,
    create_loss,
    loss_class,
    register_loss,
    unregister_loss,
)
from audiotext_cli.losses.soft import SoftClipConfig, SoftClipLoss, soft_clip_loss

__all__ = [
    "LOSSES",
    "ClipLoss",
    "Loss",
    "LossBatch",
    "LossConfig",
    "Masking",
    "Needs",
    "ProLAPConfig",
    "ProLAPLoss",
    "SigLipLoss",
    "SoftClipConfig",
    "SoftClipLoss",
    "clip_loss",
    "create_loss",
    "csd",
    "gather_features",
    "inclusion_logit",
    "inclusion_loss",
    "inclusion_score",
    "loss_class",
    "mask_repulsive_loss",
    "ppcl_logits",
    "ppcl_loss",
    "rank_and_world",
    "register_loss",
    "siglip_loss",
    "soft_clip_loss",
    "unregister_loss",
    "vib_kl",
]
