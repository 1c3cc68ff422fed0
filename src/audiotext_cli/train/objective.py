"""What one training step optimises: the chosen loss on a sampled batch.

Deterministic losses (clip, siglip) see the full batch; ProLAP also builds the masked
levels of the first `mask_fraction` of the batch (audio: 16-frame log-mel patches replaced
by a learnable mask patch; text: words replaced by [MASK], each level masking the previous
one's visible tokens); soft-clip reads teacher similarities of the batch.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from audiotext_cli.errors import ConfigError
from audiotext_cli.losses import create_loss
from audiotext_cli.losses.distributed import gather_features
from audiotext_cli.models.audio_encoder import PATCH_FRAMES
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
        if cfg.loss == "prolap":
            if not model.cfg.probabilistic:
                raise ConfigError(
                    "loss 'prolap' needs a probabilistic model (model.probabilistic=true)"
                )
            self.loss = create_loss(
                "prolap",
                inclusion_cross=cfg.w_inclusion_cross,
                inclusion_hier=cfg.w_inclusion_hier,
                vib=cfg.w_vib,
                repulsive=cfg.w_repulsive,
            )
        elif cfg.loss == "soft-clip":
            if teacher is None:
                raise ConfigError("loss 'soft-clip' needs a teacher checkpoint (--teacher)")
            self.loss = create_loss("soft-clip", beta=cfg.soft_beta)
        else:
            self.loss = create_loss(cfg.loss)
            if model.cfg.probabilistic:
                raise ConfigError(f"loss {cfg.loss!r} is for deterministic models; use 'prolap'")

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def __call__(self, batch: dict, g: torch.Generator) -> dict[str, Tensor]:
        dev = self.device
        cap_ids = batch["caption_ids"]
        text_feats = self.table.features[cap_ids].to(dev)
        logmel = batch["logmel"].to(dev)
        valid = batch["valid_frames"].to(dev)
        audio_masks: list[Tensor] = []
        text_levels: list[Tensor] = []
        if self.cfg.loss == "prolap":
            n = max(1, int(self.cfg.mask_fraction * len(cap_ids)))
            patches = -(-logmel.shape[-1] // PATCH_FRAMES)
            audio_masks = [
                m.to(dev)
                for m in recursive_patch_masks(
                    n, patches, self.cfg.audio_mask_depth, self.cfg.mask_prob, g
                )
            ]
            text_levels = self._masked_text(cap_ids[:n], g)
        out = self.forward_model(logmel, valid, text_feats, tuple(audio_masks), tuple(text_levels))
        scale, bias = out["logit_scale"], out["logit_bias"]
        pos_mask = None
        if self.cfg.multi_positive:
            pos_mask = (cap_ids[:, None] == batch["caption_ids_all"][None, :]).to(dev)
        if self.cfg.loss == "prolap":
            return self.loss(
                out["audio"],
                out["text"],
                scale,
                bias,
                out["audio_levels"],
                out["text_levels"],
                pos_mask,
            )
        audio, text = out["audio"][0], out["text"][0]
        if self.cfg.loss == "siglip":
            return self.loss(audio, text, scale, bias, pos_mask)
        if self.cfg.loss == "soft-clip":
            t_audio = torch.from_numpy(self.teacher[0][batch["clips"]]).to(dev)
            t_text = torch.from_numpy(self.teacher[1][cap_ids]).to(dev)
            return self.loss(
                audio,
                text,
                scale,
                t_audio @ gather_features(t_audio).T,
                t_text @ gather_features(t_text).T,
                pos_mask,
            )
        return self.loss(audio, text, scale, pos_mask)

    @torch.no_grad()
    def _masked_text(self, cap_ids: Tensor, g: torch.Generator) -> list[Tensor]:
        """MiniLM features of recursively word-masked captions (frozen encoder, no gradient)."""
        from audiotext_cli.text import recursive_masks

        encoder = self.table.encoder
        ids, mask = encoder.tokenize([self.table.texts[i] for i in cap_ids.tolist()])
        levels = recursive_masks(
            ids,
            mask,
            self.cfg.text_mask_depth,
            self.cfg.mask_prob,
            g,
            encoder.mask_token_id,
            encoder.special_ids,
        )
        return [encoder(level, mask).to(self.device) for level in levels]
