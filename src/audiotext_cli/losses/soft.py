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

import torch
from torch import Tensor, nn

from audiotext_cli.losses.contrastive import check_pair, info_nce, row_normalise
from audiotext_cli.losses.distributed import global_pos_mask


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


class SoftClipLoss(nn.Module):
    """Symmetric InfoNCE against teacher-softened targets; beta=0 is exactly `ClipLoss`."""

    def __init__(self, beta: float = 0.3, teacher_temperature: float | None = 0.1) -> None:
        super().__init__()
        if not 0 <= beta <= 1:
            raise ValueError(f"beta must be in [0, 1], got {beta}")
        self.beta = beta
        self.teacher_temperature = teacher_temperature

    def forward(
        self,
        audio: Tensor,
        text: Tensor,
        logit_scale: Tensor,
        teacher_audio_sim: Tensor,
        teacher_text_sim: Tensor,
        pos_mask: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """audio, text: (B, D) L2-normalised; teacher_*_sim: (B, N) similarities of this
        rank's items to the gathered batch (N = B on one process), from a frozen teacher."""
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
        # the hard part is the same multi-positive target ClipLoss uses, so beta=0 is ClipLoss
        hard_a2t, hard_t2a = (
            row_normalise(hard_a2t, audio.dtype),
            row_normalise(hard_t2a, audio.dtype),
        )
        targets_a2t = soft_targets(teacher_audio_sim, hard_a2t, self.beta, self.teacher_temperature)
        targets_t2a = soft_targets(teacher_text_sim, hard_t2a, self.beta, self.teacher_temperature)
        loss = info_nce(
            audio, text, logit_scale, targets_a2t.to(audio.dtype), targets_t2a.to(audio.dtype)
        )
        return {"contrastive_loss": loss}
