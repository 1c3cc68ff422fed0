"""Deterministic contrastive losses: CLIP's symmetric InfoNCE and SigLIP's pairwise sigmoid.

`clip_loss` / `siglip_loss` are the math on (B, D) tensors; `ClipLoss` / `SigLipLoss` are
the registered training losses ("clip", "siglip") that apply it to a `ModelOutput`.
Both reproduce open_clip's ClipLoss / SigLipLoss (same logits, same reductions) and add
multi-positive targets: general captions ("music") repeat within a batch, and scoring
equal captions as negatives teaches the model to push identical texts apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.losses.distributed import PosMask, gather_features, global_pos_mask
from audiotext_cli.losses.registry import Loss, LossBatch, LossConfig, Needs, register_loss

if TYPE_CHECKING:
    from audiotext_cli.models.output import ModelOutput


def check_pair(audio: Tensor, text: Tensor) -> None:
    """Raise unless audio and text are row-aligned (B, D) batches."""
    if audio.ndim != 2 or audio.shape != text.shape:
        raise ValueError(
            f"audio {tuple(audio.shape)} and text {tuple(text.shape)} must both be (B, D)"
        )


def row_normalise(mask: Tensor, dtype) -> Tensor:
    """A boolean positives mask as a row-stochastic target (uniform over each row's positives)."""
    targets = mask.to(dtype)
    return targets / targets.sum(dim=1, keepdim=True)


def info_nce(
    audio: Tensor, text: Tensor, logit_scale: Tensor, targets_a2t: Tensor, targets_t2a: Tensor
) -> Tensor:
    """Symmetric cross-entropy of the scaled cosine logits against row-stochastic targets.

    Rows are this rank's samples, columns the gathered batch; targets are (B, N). With
    one-hot targets this is exactly CLIP's loss.
    """
    logits_a2t = logit_scale * audio @ gather_features(text).T  # (B, N)
    logits_t2a = logit_scale * text @ gather_features(audio).T  # (B, N)
    return (F.cross_entropy(logits_a2t, targets_a2t) + F.cross_entropy(logits_t2a, targets_t2a)) / 2


def sigmoid_loss(logits: Tensor, positives: Tensor) -> Tensor:
    """SigLIP's reduction: sum over all pairs of -log sigmoid(y * z), divided by the rows,
    with y = +1 on positives and -1 elsewhere."""
    labels = 2 * positives.to(logits.dtype) - 1
    return F.softplus(-labels * logits).sum() / logits.shape[0]


def clip_loss(audio: Tensor, text: Tensor, logit_scale: Tensor, pos_mask: PosMask = None) -> Tensor:
    """Symmetric InfoNCE (CLIP), with a uniform target over each row's positives.

    audio, text: (B, D) L2-normalised; logit_scale: exponentiated scalar; pos_mask:
    optional (B, B) or (B, N) bool, True on positives (see `global_pos_mask`)."""
    check_pair(audio, text)
    a2t, t2a = global_pos_mask(pos_mask, audio.shape[0], audio.device)
    return info_nce(
        audio, text, logit_scale, row_normalise(a2t, audio.dtype), row_normalise(t2a, audio.dtype)
    )


def siglip_loss(
    audio: Tensor,
    text: Tensor,
    logit_scale: Tensor,
    logit_bias: Tensor,
    pos_mask: PosMask = None,
) -> Tensor:
    """SigLIP's pairwise sigmoid loss: every (audio, text) pair is a binary decision, so the
    loss needs no softmax over the batch and multiple positives per row are natural.
    Inputs as in `clip_loss`, plus the learnable scalar `logit_bias`."""
    check_pair(audio, text)
    positives, _ = global_pos_mask(pos_mask, audio.shape[0], audio.device)
    logits = logit_scale * audio @ gather_features(text).T + logit_bias  # (B, N)
    return sigmoid_loss(logits, positives)


@dataclass
class ClipConfig(LossConfig):
    """CLIP's InfoNCE has no options of its own."""


@register_loss("clip", ClipConfig)
class ClipLoss(Loss):
    """`clip_loss` on the audio and text means."""

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        loss = clip_loss(out.audio.mean, out.text.mean, out.logit_scale, batch.pos_mask)
        return {"contrastive_loss": loss}


@dataclass
class SigLipConfig(LossConfig):
    """SigLIP's sigmoid loss has no options of its own (the bias is the model's)."""


@register_loss("siglip", SigLipConfig)
class SigLipLoss(Loss):
    """`siglip_loss` on the audio and text means, with the model's learnable bias."""

    @property
    def needs(self) -> Needs:
        return Needs(bias=True)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        loss = siglip_loss(
            out.audio.mean, out.text.mean, out.logit_scale, out.logit_bias, batch.pos_mask
        )
        return {"contrastive_loss": loss}
