"""What one training step optimises: the configured loss on a sampled batch.

Every loss sees the full batch's embeddings. What else it gets follows its declared
`needs`: masked levels of the first `masking.fraction` of the batch (audio: 16-frame
log-mel patches replaced by a learnable mask patch, or a tower's blocks left out of the
pooling; text: words replaced by [MASK], each
level masking the previous one's visible tokens), or teacher similarities of the batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses import LOSSES, LossBatch, Masking, create_loss
from audiotext_cli.losses.distributed import gather_features
from audiotext_cli.models.config import TrainConfig
from audiotext_cli.models.model import AudioTextModel


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


class Objective:
    """The configured loss on a sampled batch, given exactly what the loss says it needs."""

    def __init__(
        self,
        model: AudioTextModel,
        cfg: TrainConfig,
        table,
        teacher: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
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
            text_levels = self._masked_text(cap_ids[:n], masking, g)
        out = self.forward_model(audio, valid, text_feats, tuple(audio_masks), tuple(text_levels))
        extras = LossBatch()
        if self.cfg.multi_positive:
            extras.pos_mask = (cap_ids[:, None] == batch["caption_ids_all"][None, :]).to(dev)
        if self.needs.teacher:
            t_audio = torch.from_numpy(self.teacher[0][batch["clips"]]).to(dev)
            t_text = torch.from_numpy(self.teacher[1][cap_ids]).to(dev)
            extras.teacher_audio_sim = t_audio @ gather_features(t_audio).T
            extras.teacher_text_sim = t_text @ gather_features(t_text).T
        return self.loss(out, extras)

    @torch.no_grad()
    def _masked_text(self, cap_ids: Tensor, masking: Masking, g: torch.Generator) -> list[Tensor]:
        """MiniLM features of recursively word-masked captions (frozen encoder, no gradient)."""
        from audiotext_cli.text import recursive_masks

        encoder = self.table.encoder
        ids, mask = encoder.tokenize([self.table.texts[i] for i in cap_ids.tolist()])
        levels = recursive_masks(
            ids,
            mask,
            masking.text_depth,
            masking.prob,
            g,
            encoder.mask_token_id,
            encoder.special_ids,
        )
        return [encoder(level, mask).to(self.device) for level in levels]
