"""What one training step optimises: the configured loss on a sampled batch.

Every loss sees the full batch's embeddings. What else it gets follows its declared
`needs`: masked levels of the first `masking.fraction` of the batch (audio: 16-frame
log-mel patches replaced by a learnable mask patch, or a tower's blocks left out of the
pooling; text: precomputed chains of word-masked captions, train/masked_texts.py), or
teacher similarities of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses import LOSSES, LossBatch, create_loss
from audiotext_cli.losses.distributed import gather_features
from audiotext_cli.models.config import TrainConfig
from audiotext_cli.models.model import AudioTextModel
from audiotext_cli.train.masked_texts import MaskedTextBank


def recursive_patch_masks(
    n: int, patches: int, depth: int, prob: float, g: torch.Generator
) -> list[Tensor]:
    """Levels 1..depth of patch masks (n, patches), True = masked; each level masks the
    previous level's visible patches with probability `prob`."""
    masks, current = [], torch.zeros(n, patches, dtype=torch.bool)
    for _ in range(depth):
        current = current | (torch.rand(n, patches, generator=g) < prob)
        masks.append(current.clone())
    return masks


def positives_mask(batch: dict, rule: str, device: torch.device) -> Tensor | tuple[Tensor, Tensor]:
    """Which (this rank's row, gathered column) pairs are positives, besides the aligned ones.

    "caption": the two sampled captions are one string, a symmetric relation (B, N).
    "described": the column's text is one of the row clip's captions (audio -> text), and
    the row's text one of the column clip's (text -> audio): (a2t, t2a), each (B, N).
    """
    cap_ids, cap_all = batch["caption_ids"], batch["caption_ids_all"]
    if rule == "caption":
        return (cap_ids[:, None] == cap_all[None, :]).to(device)
    a2t = (batch["caption_sets"][:, :, None] == cap_all[None, None, :]).any(1)
    t2a = (cap_ids[:, None, None] == batch["caption_sets_all"][None, :, :]).any(2)
    return a2t.to(device), t2a.to(device)


class Objective:
    """The configured loss on a sampled batch, given exactly what the loss says it needs."""

    def __init__(
        self,
        model: AudioTextModel,
        cfg: TrainConfig,
        table,
        teacher: tuple[np.ndarray, np.ndarray] | None = None,
        train_captions: Sequence[int] = (),
    ) -> None:
        """`train_captions`: the caption ids batches draw from (their masked chains are
        precomputed when the loss masks text)."""
        self.model = model
        self.forward_model: torch.nn.Module = model
        self.cfg = cfg
        self.table = table
        self.teacher = teacher  # (audio per clip (n, d), text per caption id (S, d)), unit-norm
        self.loss = create_loss(cfg.loss)
        self.needs = self.loss.needs
        name = cfg.loss.name
        if self.needs.probabilistic and not model.cfg.probabilistic:
            raise ConfigError(
                f"loss {name!r} needs a probabilistic model (model.probabilistic=true)"
            )
        if model.cfg.probabilistic and not self.needs.probabilistic:
            raise ConfigError(
                f"loss {name!r} is for deterministic models; use a probabilistic loss "
                f"({', '.join(n for n, c in LOSSES.items() if c().needs.probabilistic)})"
            )
        if self.needs.teacher and teacher is None:
            raise ConfigError(f"loss {name!r} needs a teacher checkpoint (--teacher)")
        self.masked_texts = None
        masking = self.needs.masking
        if masking is not None and masking.text_depth > 0:
            self.masked_texts = MaskedTextBank(
                table.encoder,
                table.texts,
                train_captions,
                masking.prob,
                masking.text_depth,
                masking.text_variants,
            )

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def __call__(self, batch: dict, g: torch.Generator) -> dict[str, Tensor]:
        dev = self.device
        cap_ids = batch["caption_ids"]
        text_feats = self.table.features[cap_ids].to(dev)
        audio = batch["audio"].to(dev)
        valid = batch["audio_valid"].to(dev)
        audio_masks: list[Tensor] = []
        text_levels: list[Tensor] = []
        masking = self.needs.masking
        if masking is not None:
            n = max(1, int(masking.fraction * len(cap_ids)))
            units = self.model.mask_units(audio)
            audio_masks = [
                m.to(dev)
                for m in recursive_patch_masks(n, units, masking.audio_depth, masking.prob, g)
            ]
            if self.masked_texts is not None:
                text_levels = [t.to(dev) for t in self.masked_texts.sample(cap_ids[:n], g)]
        out = self.forward_model(audio, valid, text_feats, tuple(audio_masks), tuple(text_levels))
        extras = LossBatch()
        if self.cfg.multi_positive:
            extras.pos_mask = positives_mask(batch, self.cfg.positives, dev)
        if self.needs.teacher:
            t_audio = torch.from_numpy(self.teacher[0][batch["clips"]]).to(dev)
            t_text = torch.from_numpy(self.teacher[1][cap_ids]).to(dev)
            extras.teacher_audio_sim = t_audio @ gather_features(t_audio).T
            extras.teacher_text_sim = t_text @ gather_features(t_text).T
        return self.loss(out, extras)
