"""The two-tower audio-text model: an audio encoder + head, frozen MiniLM + head for text.

The audio encoder is the log-mel CNN trained from scratch (`audio_tower="cnn"`: the model
owns its front end and takes waveform windows), or a pooling of a frozen pretrained
tower's block embeddings (`audio_tower="aisfx"`: the tower lives outside the module, like
MiniLM, and its features are cached per file). Either way `encode_audio(x, n_valid, mask)`
is the seam: (log-mel windows, valid frames, patch mask) or (blocks, block counts, block
mask). A tower whose last blocks train (`model.tower_trainable`) puts them in the model
(`tower_tail`): the training forward then takes the frozen prefix's packed activations and
runs the tail first.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from audiotext_cli.audio.features import FrontendConfig, LogMel, valid_frames
from audiotext_cli.models.audio_encoder import PATCH_FRAMES, AudioCNN
from audiotext_cli.models.block_pool import BlockPool
from audiotext_cli.models.config import ModelConfig
from audiotext_cli.models.heads import ProjectionHead
from audiotext_cli.models.output import Embedding, ModelOutput
from audiotext_cli.models.tower_tail import TowerTail
from audiotext_cli.towers import tower_spec


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
        self.audio_encoder: AudioCNN | BlockPool
        if cfg.audio_tower == "cnn":
            self.frontend_cfg = frontend_config(cfg)
            self.logmel = LogMel(self.frontend_cfg)
            self.audio_encoder = AudioCNN(cfg.audio, cfg.n_mels)
        else:
            self.audio_encoder = BlockPool(tower_spec(cfg.audio_tower).dim)
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
        n_tail = cfg.trainable_blocks()
        self.tower_tail = TowerTail(n_tail) if n_tail else None

    @property
    def window_samples(self) -> int:
        return int(round(self.cfg.window_seconds * self.cfg.sample_rate))

    @property
    def uses_tower(self) -> bool:
        return self.cfg.audio_tower != "cnn"

    def encode_audio(self, x: Tensor, n_valid: Tensor, mask: Tensor | None = None) -> Embedding:
        """CNN: (B, n_mels, T) window log-mels + (B,) valid frames + (B, patches) mask ->
        window embeddings. Tower: (B, K, C) zero-padded blocks + (B,) block counts +
        (B, K) block mask -> clip embeddings. `audio_encoder` pools, `audio_head` projects."""
        return self.audio_head(self.audio_encoder(x, n_valid, mask))

    def mask_units(self, x: Tensor) -> int:
        """How many maskable units (CNN: 16-frame patches; tower: blocks) `x` holds."""
        return x.shape[1] if self.uses_tower else -(-x.shape[-1] // PATCH_FRAMES)

    def valid_units(self, n_valid: Tensor) -> Tensor:
        """How many of those units hold real audio, from `encode_audio`'s `n_valid`."""
        return n_valid if self.uses_tower else (n_valid + PATCH_FRAMES - 1) // PATCH_FRAMES

    def audio_features(
        self, windows: Tensor, valid_samples: Tensor, frames: int | None = None
    ) -> Tensor:
        """(B, W) zero-padded waveform windows -> (B, C) pooled audio-encoder features,
        before the head (what a linear probe of the audio backbone reads). `frames`: the
        front end and the CNN run on that many leading log-mel frames only
        (`audio_encoder.frames_needed` of the windows' valid frames: the same features for
        less work); those frames' samples end `n_fft / 2` past the last frame's centre."""
        if frames is None:
            logmel = self.logmel(windows)
        else:
            cfg = self.frontend_cfg
            samples = min(windows.shape[-1], (frames - 1) * cfg.hop_length + cfg.n_fft // 2)
            logmel = self.logmel(windows[:, :samples])[..., :frames]
        return self.audio_encoder(logmel, valid_frames(valid_samples, self.frontend_cfg))

    def encode_windows(
        self, windows: Tensor, valid_samples: Tensor, frames: int | None = None
    ) -> Embedding:
        """(B, W) zero-padded waveform windows -> window embeddings."""
        return self.audio_head(self.audio_features(windows, valid_samples, frames))

    def encode_text(self, text_features: Tensor) -> Embedding:
        """(B, text_dim) frozen MiniLM features -> text embeddings."""
        return self.text_head(text_features)

    def forward(
        self,
        audio: Tensor,
        n_valid: Tensor,
        text_features: Tensor,
        audio_patch_masks: tuple[Tensor, ...] = (),
        masked_text_features: tuple[Tensor, ...] = (),
    ) -> ModelOutput:
        """One training forward (what DDP wraps). Masked levels run on the first rows of
        the batch: each patch mask / masked-text tensor covers its first n samples. With a
        `tower_tail`, `audio` is the clips' packed prefix activations (`n_valid`: blocks)."""
        scale, bias = self.scalars()  # inside forward, for DDP
        if self.tower_tail is not None:
            audio = self.tower_tail.clip_blocks(audio, n_valid)
        return ModelOutput(
            audio=self.encode_audio(audio, n_valid),
            text=self.encode_text(text_features),
            logit_scale=scale,
            logit_bias=bias,
            audio_levels=[
                self.encode_audio(audio[: len(m)], n_valid[: len(m)], m) for m in audio_patch_masks
            ],
            text_levels=[self.encode_text(f) for f in masked_text_features],
        )

    def freeze_unused(self, uses_bias: bool, uses_masking: bool) -> None:
        """Parameters the loss never touches get no gradient (DDP needs every trainable
        parameter used in each step): the bias serves sigmoid losses, the mask patch the
        masked levels. The loss says which it uses (`losses.registry.Needs`)."""
        self.logit_bias.requires_grad_(uses_bias)
        if isinstance(self.audio_encoder, AudioCNN):  # block masks drop blocks: no patch
            self.audio_encoder.mask_patch.requires_grad_(uses_masking)

    def scalars(self) -> tuple[Tensor, Tensor]:
        """exp(logit_scale) clamped to [1, 100] as in CLIP/ProLIP, and the bias."""
        return self.logit_scale.clamp(0, math.log(100)).exp(), self.logit_bias
