"""Log-mel front end in plain torch.

Reproduces `torchaudio.transforms.MelSpectrogram(sample_rate=16000, n_fft=1024,
hop_length=320, n_mels=64, f_max=8000, mel_scale="htk")` followed by `log(x + 1e-6)`, op for
op, so weights trained with either front end transfer. torchaudio itself is not used: its
wheels here are CUDA builds that do not import beside the CPU torch (docs/audio.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

Counts = TypeVar("Counts", torch.Tensor, np.ndarray)


@dataclass(frozen=True)
class FrontendConfig:
    """Log-mel parameters; defaults give 50 frames per second of 16 kHz audio."""

    sample_rate: int = 16000
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 320  # 20 ms
    n_mels: int = 64
    f_min: float = 0.0
    f_max: float = 8000.0
    log_offset: float = 1e-6  # keeps log finite on digital silence (padding)


def _hz_to_mel(freq: float) -> float:
    return 2595.0 * math.log10(1.0 + freq / 700.0)


def _mel_to_hz(mels: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)


def mel_filterbank(
    n_freqs: int, f_min: float, f_max: float, n_mels: int, sample_rate: int
) -> torch.Tensor:
    """(n_freqs, n_mels) triangular HTK filters, unnormalised: the same float32 arithmetic as
    torchaudio.functional.melscale_fbanks(norm=None, mel_scale="htk")."""
    all_freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    m_pts = torch.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2)
    f_pts = _mel_to_hz(m_pts)
    f_diff = f_pts[1:] - f_pts[:-1]  # (n_mels + 1,)
    slopes = f_pts.unsqueeze(0) - all_freqs.unsqueeze(1)  # (n_freqs, n_mels + 2)
    down_slopes = (-1.0 * slopes[:, :-2]) / f_diff[:-1]
    up_slopes = slopes[:, 2:] / f_diff[1:]
    return torch.max(torch.zeros(1), torch.min(down_slopes, up_slopes))


class LogMel(torch.nn.Module):
    """(B, N) waveforms -> (B, n_mels, T) log-mel, T = num_frames(N)."""

    def __init__(self, cfg: FrontendConfig = FrontendConfig()) -> None:
        super().__init__()
        if cfg.win_length > cfg.n_fft:
            raise ValueError(f"win_length {cfg.win_length} > n_fft {cfg.n_fft}")
        if cfg.f_max > cfg.sample_rate / 2:
            raise ValueError(f"f_max {cfg.f_max} is above Nyquist ({cfg.sample_rate / 2})")
        self.cfg = cfg
        # Derived from cfg, so not saved in state dicts; buffers so .to(device) moves them.
        self.register_buffer("window", torch.hann_window(cfg.win_length), persistent=False)
        fb = mel_filterbank(cfg.n_fft // 2 + 1, cfg.f_min, cfg.f_max, cfg.n_mels, cfg.sample_rate)
        self.register_buffer("fb", fb, persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.ndim != 2:
            raise ValueError(f"LogMel expects (batch, samples), got shape {tuple(wave.shape)}")
        if wave.shape[-1] <= self.cfg.n_fft // 2:
            raise ValueError(
                f"waveform of {wave.shape[-1]} samples is too short for reflect padding "
                f"(needs > {self.cfg.n_fft // 2}); pad it to a window first"
            )
        spec = torch.stft(
            wave,
            n_fft=self.cfg.n_fft,
            hop_length=self.cfg.hop_length,
            win_length=self.cfg.win_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        power = spec.abs().pow(2.0)  # (B, n_freqs, T)
        mel = torch.matmul(power.transpose(-1, -2), self.fb).transpose(-1, -2)  # (B, n_mels, T)
        return torch.log(mel + self.cfg.log_offset)


def num_frames(n_samples: int, cfg: FrontendConfig = FrontendConfig()) -> int:
    """Frames LogMel gives for `n_samples` (centred STFT: one frame per hop, plus one)."""
    return 1 + n_samples // cfg.hop_length


def valid_frames(valid_samples: Counts, cfg: FrontendConfig = FrontendConfig()) -> Counts:
    """Frames whose centre (sample t * hop) lies inside the first `valid_samples` samples,
    at least 1: the frames a model should pool over when a window is zero-padded."""
    hop = cfg.hop_length
    if isinstance(valid_samples, torch.Tensor):
        return torch.clamp((valid_samples + hop - 1) // hop, min=1)
    return np.maximum((np.asarray(valid_samples) + hop - 1) // hop, 1)
