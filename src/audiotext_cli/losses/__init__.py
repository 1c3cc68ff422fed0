"""Training losses: a registry of modules, each with its own config (`registry.py`).

A registered loss takes `(ModelOutput, LossBatch)` and returns `{"*_loss": ...}` terms
that the caller sums; each loss gathers across ranks itself when torch.distributed is
initialised (local rows against gathered columns, see `distributed.py`). Importing this
package registers the built-in losses: clip, siglip, soft-clip, prolap; and HILBERT's
document losses (`DOCUMENT_LOSSES`, all summed, in the order imported here): ce, dual,
cka, load, penalty.
"""

from __future__ import annotations

from audiotext_cli.losses.contrastive import ClipLoss, SigLipLoss, clip_loss, siglip_loss
from audiotext_cli.losses.distributed import gather_features, rank_and_world

# The registration order of the document losses is the order HILBERT sums them.
# isort: off
from audiotext_cli.losses.document import DocumentBatch, DocumentLoss, class_weights
from audiotext_cli.losses.dual import DualConfig, DualLoss
from audiotext_cli.losses.cka import CKAConfig, CKALoss
from audiotext_cli.losses.mixture import LoadBalanceLoss, LoadConfig
from audiotext_cli.losses.penalty import AttentionPenaltyLoss, PenaltyConfig

# isort: on
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
    DOCUMENT_LOSSES,
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
    "DOCUMENT_LOSSES",
    "LOSSES",
    "AttentionPenaltyLoss",
    "CKAConfig",
    "CKALoss",
    "DocumentBatch",
    "DocumentLoss",
    "DualConfig",
    "DualLoss",
    "LoadBalanceLoss",
    "LoadConfig",
    "PenaltyConfig",
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
    "class_weights",
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
