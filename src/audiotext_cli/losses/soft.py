"""Soft-label InfoNCE from unsupervised CLAP curation (zhepeiw/clap_curation).

Curated pairs are noisy and semantically overlapping, so the one-hot target is blended
with a teacher's view of which batch items are alike: T = (1 - beta) I + beta S, with
audio-audio teacher similarities for the audio->text rows and text-text ones for the
text->audio rows.

The reference code blends raw cosine similarities, whose rows do not sum to 1 (so its KL
target is not a distribution). Here S is made row-stochastic first: by default a softmax
of the similarities at `teacher_temperature`; with `teacher_temperature=None`, negative
similarities are clamped to 0 and each row is divided by its sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.contrastive import check_pair, info_nce, row_normalise
from audiotext_cli.losses.distributed import PosMask, global_pos_mask
from audiotext_cli.losses.registry import Loss, LossBatch, LossConfig, Needs, register_loss

if TYPE_CHECKING:
    from audiotext_cli.models.output import ModelOutput


def soft_targets(
    teacher_sim: Tensor, identity: Tensor, beta: float, teacher_temperature: float | None
) -> Tensor:
    """(1 - beta) * identity + beta * S, with S the teacher similarities made row-stochastic."""
    teacher_sim = teacher_sim.detach()  # the teacher is frozen: targets carry no gradient
    if teacher_temperature is None:
        s = teacher_sim.clamp(min=0)
        s = s / s.sum(dim=1, keepdim=True).clamp(min=torch.finfo(s.dtype).tiny)
    else:
        s = (teacher_sim / teacher_temperature).softmax(dim=1)
    return (1 - beta) * identity.to(s.dtype) + beta * s


def soft_clip_loss(
    audio: Tensor,
    text: Tensor,
    logit_scale: Tensor,
    teacher_audio_sim: Tensor,
    teacher_text_sim: Tensor,
    pos_mask: PosMask = None,
    beta: float = 0.3,
    teacher_temperature: float | None = 0.1,
) -> Tensor:
    """Symmetric InfoNCE against teacher-softened targets; beta=0 is exactly `clip_loss`.

    audio, text: (B, D) L2-normalised; teacher_*_sim: (B, N) similarities of this rank's
    items to the gathered batch (N = B on one process), from a frozen teacher."""
    check_pair(audio, text)
    identity, _ = global_pos_mask(None, audio.shape[0], audio.device)
    hard_a2t, hard_t2a = global_pos_mask(pos_mask, audio.shape[0], audio.device)
    for name, sim in (
        ("teacher_audio_sim", teacher_audio_sim),
        ("teacher_text_sim", teacher_text_sim),
    ):
        if sim.shape != identity.shape:
            raise ValueError(
                f"{name} has shape {tuple(sim.shape)}, expected {tuple(identity.shape)}"
            )
    # the hard part is the same multi-positive target clip_loss uses, so beta=0 is clip_loss
    hard_a2t, hard_t2a = row_normalise(hard_a2t, audio.dtype), row_normalise(hard_t2a, audio.dtype)
    targets_a2t = soft_targets(teacher_audio_sim, hard_a2t, beta, teacher_temperature)
    targets_t2a = soft_targets(teacher_text_sim, hard_t2a, beta, teacher_temperature)
    return info_nce(
        audio, text, logit_scale, targets_a2t.to(audio.dtype), targets_t2a.to(audio.dtype)
    )


@dataclass
class SoftClipConfig(LossConfig):
    """`beta`: weight of the teacher's similarities in the targets; `teacher_temperature`:
    softmax temperature that makes them row-stochastic (None: clamp and renormalise)."""

    beta: float = 0.3
    teacher_temperature: float | None = 0.1

    def validate(self) -> None:
        if not 0 <= self.beta <= 1:
            raise ConfigUsageError(f"train.loss.beta: must be in [0, 1], got {self.beta}")
        if self.teacher_temperature is not None and not self.teacher_temperature > 0:
            raise ConfigUsageError("train.loss.teacher_temperature: must be > 0 (or null)")


@register_loss("soft-clip", SoftClipConfig)
class SoftClipLoss(Loss):
    """`soft_clip_loss` on the means, with the batch's teacher similarities."""

    cfg: SoftClipConfig

    @property
    def needs(self) -> Needs:
        return Needs(teacher=True)

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        if batch.teacher_audio_sim is None or batch.teacher_text_sim is None:
            raise ValueError("soft-clip needs the batch's teacher similarities")
        loss = soft_clip_loss(
            out.audio.mean,
            out.text.mean,
            out.logit_scale,
            batch.teacher_audio_sim,
            batch.teacher_text_sim,
            batch.pos_mask,
            self.cfg.beta,
            self.cfg.teacher_temperature,
        )
        return {"contrastive_loss": loss}
