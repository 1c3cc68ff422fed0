"""A compact log-mel CNN, trained from scratch (no pretrained audio encoder installs offline)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from audiotext_cli.models.config import AudioEncoderConfig

PATCH_FRAMES = 16  # time downsampling of four 2x2 pools: one output token per 16 frames
# Frames past a token's last frame that reach it: two 3x3 convs and a 2x2 pool per stage,
# 2 * (1 + 2 + 4 + 8) = 30 frames, i.e. 2 tokens (`frames_needed`).
REACH_TOKENS = 2


def frames_needed(valid_frames: int, total: int) -> int:
    """Leading log-mel frames of a window that determine its pooled features exactly: its
    valid tokens and the receptive field's reach past them, at most the whole window.

    A 1.5 s clip's 4 s window needs 112 of its 201 frames: cropped there, the CNN pools
    the same tokens from the same inputs (equal to float rounding, ~1e-9: other shapes,
    other kernels), at about half the work. The crop is a function of the window's own
    valid frames, so a window gives the same row alone or in any batch."""
    tokens = max(1, -(-valid_frames // PATCH_FRAMES))
    return min(total, (tokens + REACH_TOKENS) * PATCH_FRAMES)


class _Stage(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.AvgPool2d(2, ceil_mode=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class AudioCNN(nn.Module):
    """(B, n_mels, T) log-mel -> (B, C) pooled features.

    Pooling is a mean over the time tokens that hold real audio (`valid_frames`) and are
    not masked, so zero padding of the last window and ProLAP's masked patches never
    leak into the embedding.
    """

    def __init__(self, cfg: AudioEncoderConfig, n_mels: int) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        chans = (1, *cfg.channels)
        self.stages = nn.Sequential(
            *[_Stage(a, b) for a, b in zip(chans[:-1], chans[1:], strict=True)]
        )
        self.dropout = nn.Dropout(cfg.dropout)
        self.out_dim = cfg.channels[-1]
        # ProLAP: masked 16-frame patches are replaced by this learnable log-mel patch.
        self.mask_patch = nn.Parameter(torch.zeros(n_mels, PATCH_FRAMES))

    def apply_patch_mask(self, logmel: Tensor, patch_mask: Tensor) -> Tensor:
        """Replace masked patches ((B, P) bool, True = masked) by the learnable mask patch."""
        b, m, t = logmel.shape
        pad = (-t) % PATCH_FRAMES
        x = nn.functional.pad(logmel, (0, pad))
        x = x.view(b, m, -1, PATCH_FRAMES)  # (B, M, P, 16)
        keep = (~patch_mask)[:, None, :, None].to(x.dtype)
        x = x * keep + self.mask_patch[None, :, None, :] * (1 - keep)
        return x.view(b, m, -1)[:, :, :t]

    def forward(
        self, logmel: Tensor, valid_frames: Tensor, patch_mask: Tensor | None = None
    ) -> Tensor:
        if patch_mask is not None:
            logmel = self.apply_patch_mask(logmel, patch_mask)
        x = self.input_norm(logmel.unsqueeze(1))  # (B, 1, M, T)
        x = self.stages(x)  # (B, C, M/16, T/16)
        tokens = x.mean(dim=2)  # (B, C, P)
        p = tokens.shape[-1]
        n_valid = torch.clamp(
            torch.div(valid_frames + PATCH_FRAMES - 1, PATCH_FRAMES, rounding_mode="floor"), 1, p
        )
        keep = torch.arange(p, device=x.device)[None, :] < n_valid[:, None]  # (B, P)
        if patch_mask is not None:
            visible = keep & ~patch_mask[:, :p]
            keep = torch.where(visible.any(dim=1, keepdim=True), visible, keep)
        w = keep.to(tokens.dtype)
        pooled = (tokens * w[:, None, :]).sum(-1) / w.sum(-1, keepdim=True)
        return self.dropout(pooled)
