"""The two-tower audio-text model: log-mel CNN + head for audio, frozen MiniLM + head for text."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from audiotext_cli.audio.features import FrontendConfig, LogMel, valid_frames
from audiotext_cli.models.audio_encoder import PATCH_FRAMES, AudioCNN
from audiotext_cli.models.config import ModelConfig
from audiotext_cli.models.heads import ProjectionHead
from audiotext_cli.models.output import Embedding, ModelOutput


def frontend_config(cfg: ModelConfig) -> FrontendConfig:
    return FrontendConfig(
        sample_rate=cfg.sample_rate,
        n_fft=cfg.n_fft,
        win_length=cfg.n_fft,
        hop_length=cfg.hop_length,
        n_mels=cfg.n_mels,
        f_max=cfg.f_max,
    )


class AudioTextModel(nn.Module):
    """Owns both heads and the contrastive scalars (`logit_scale`, `logit_bias`).

    The text tower's backbone (MiniLM) is frozen and lives outside the module: the model
    takes its 384-d features, so they can be cached once per caption string.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.frontend_cfg = frontend_config(cfg)
        self.logmel = LogMel(self.frontend_cfg)
        self.audio_encoder = AudioCNN(cfg.audio, cfg.n_mels)
        self.audio_head = ProjectionHead(
            self.audio_encoder.out_dim,
            cfg.head_hidden,
            cfg.embed_dim,
            cfg.probabilistic,
            cfg.logvar_bias_init,
        )
        self.text_head = ProjectionHead(
            cfg.text_dim, cfg.head_hidden, cfg.embed_dim, cfg.probabilistic, cfg.logvar_bias_init
        )
        self.logit_scale = nn.Parameter(torch.tensor(float(cfg.init_logit_scale)))
        self.logit_bias = nn.Parameter(torch.tensor(float(cfg.init_logit_bias)))

    @property
    def window_samples(self) -> int:
        return int(round(self.cfg.window_seconds * self.cfg.sample_rate))

    def encode_audio(
        self, logmel: Tensor, n_valid_frames: Tensor, patch_mask: Tensor | None = None
    ) -> Embedding:
        """(B, n_mels, T) window log-mels -> window embeddings (the audio tower's seam:
        `audio_encoder` pools features, `audio_head` projects them)."""
        return self.audio_head(self.audio_encoder(logmel, n_valid_frames, patch_mask))

    def audio_features(self, windows: Tensor, valid_samples: Tensor) -> Tensor:
        """(B, W) zero-padded waveform windows -> (B, C) pooled audio-encoder features,
        before the head (what a linear probe of the audio backbone reads)."""
        return self.audio_encoder(
            self.logmel(windows), valid_frames(valid_samples, self.frontend_cfg)
        )

    def encode_windows(self, windows: Tensor, valid_samples: Tensor) -> Embedding:
        """(B, W) zero-padded waveform windows -> window embeddings."""
        return self.audio_head(self.audio_features(windows, valid_samples))

    def encode_text(self, text_features: Tensor) -> Embedding:
        """(B, text_dim) frozen MiniLM features -> text embeddings."""
        return self.text_head(text_features)

    def forward(
        self,
        logmel: Tensor,
        n_valid_frames: Tensor,
        text_features: Tensor,
        audio_patch_masks: tuple[Tensor, ...] = (),
        masked_text_features: tuple[Tensor, ...] = (),
    ) -> ModelOutput:
        """One training forward (what DDP wraps). Masked levels run on the first rows of
        the batch: each patch mask / masked-text tensor covers its first n samples."""
        scale, bias = self.scalars()  # inside forward, for DDP
        return ModelOutput(
            audio=self.encode_audio(logmel, n_valid_frames),
            text=self.encode_text(text_features),
            logit_scale=scale,
            logit_bias=bias,
            audio_levels=[
                self.encode_audio(logmel[: len(m)], n_valid_frames[: len(m)], m)
                for m in audio_patch_masks
            ],
            text_levels=[self.encode_text(f) for f in masked_text_features],
        )

    def freeze_unused(self, uses_bias: bool, uses_masking: bool) -> None:
        """Parameters the loss never touches get no gradient (DDP needs every trainable
        parameter used in each step): the bias serves sigmoid losses, the mask patch the
        masked levels. The loss says which it uses (`losses.registry.Needs`)."""
        self.logit_bias.requires_grad_(uses_bias)
        self.audio_encoder.mask_patch.requires_grad_(uses_masking)

    def scalars(self) -> tuple[Tensor, Tensor]:
        """exp(logit_scale) clamped to [1, 100] as in CLIP/ProLIP, and the bias."""
        return self.logit_scale.clamp(0, math.log(100)).exp(), self.logit_bias

    def num_patches(self, n_frames: int) -> int:
        return -(-n_frames // PATCH_FRAMES)
