"""The aisfx tower's front end in plain torch: Essentia's mel pipeline, re-derived and tested.

Ma & Lerch (ISMIR 2022) computed their inputs with Essentia: `EasyLoader` at 44.1 kHz mono,
`FrameCutter(2048, 1024)`, a Hann window that is *not* normalised, the magnitude spectrum,
`MelBands(96, 0-22,050 Hz, htkMel, weighting="warping", unit_sum, type="power")`,
log10(1 + 1e4 x), then min-max with (0, 9.457798957824707). What each step does, checked
against Essentia 2.1b6 (tests/test_sfx_frontend.py, docs/audio.md):

- `EasyLoader`'s "replay gain -6 dB" is a fixed scale of 10^((-6 + 6) / 20) = 1: it does not
  measure loudness. So the waveform is used as decoded (mono = mean of channels).
- `FrameCutter` centres frame i on sample i * 1024 (zero-padded at both ends) and emits
  frames while a frame's start lies inside the signal: (n - 1) // 1024 + 2 frames.
- Essentia's Hann is the symmetric one (`torch.hann_window(periodic=False)`); its
  zero-phase rotation does not change a magnitude spectrum.
- "warping" triangles are linear in HTK mel, edges evenly spaced in mel, each filter
  divided by its sum; `type="power"` squares the magnitude before the filters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SAMPLE_RATE = 44100
N_FFT = 2048
HOP = 1024
N_MELS = 96
LOG_SCALE = 1e4
NORM_MIN, NORM_MAX = 0.0, 9.457798957824707  # the paper's cross-dataset min-max values
BLOCK_FRAMES = 100  # one embedding block: 100 frames = 2.32 s
BLOCK_HOP = 50  # blocks overlap by half (the paper's 1 s hop at inference)


def n_frames(n_samples: int) -> int:
    """Frames Essentia's FrameCutter gives for `n_samples` (>= 1)."""
    return (n_samples - 1) // HOP + 2


def htk_mel(freq: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + freq / 700.0)


def sfx_filterbank(n_freqs: int = N_FFT // 2 + 1, n_mels: int = N_MELS) -> torch.Tensor:
    """(n_freqs, n_mels) unit-sum triangles, linear in HTK mel over 0..Nyquist (float64 math)."""
    freqs = torch.arange(n_freqs, dtype=torch.float64) * SAMPLE_RATE / (2 * (n_freqs - 1))
    mel = htk_mel(freqs)
    edges = torch.linspace(0.0, float(htk_mel(torch.tensor(SAMPLE_RATE / 2.0))), n_mels + 2)
    lo, centre, hi = edges[:-2], edges[1:-1], edges[2:]
    up = (mel[:, None] - lo) / (centre - lo)
    down = (hi - mel[:, None]) / (hi - centre)
    tri = torch.clamp(torch.minimum(up, down), min=0.0)
    return (tri / tri.sum(0, keepdim=True)).float()


class SfxLogMel(torch.nn.Module):
    """(B, N) mono 44.1 kHz waveforms -> (B, n_frames(N), 96) normalised log-mel in [0, ~1]."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=False), persistent=False)
        self.register_buffer("fb", sfx_filterbank(), persistent=False)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.ndim != 2:
            raise ValueError(f"SfxLogMel expects (batch, samples), got shape {tuple(wave.shape)}")
        frames = n_frames(wave.shape[-1])
        # Frame i covers [i*HOP - N_FFT/2, i*HOP + N_FFT/2): pad N_FFT/2 left, enough right.
        right = (frames - 1) * HOP + N_FFT // 2 - wave.shape[-1]
        x = F.pad(wave, (N_FFT // 2, right))
        spec = torch.stft(
            x,
            n_fft=N_FFT,
            hop_length=HOP,
            window=self.window,
            center=False,
            onesided=True,
            return_complex=True,
        )  # (B, 1025, frames)
        power = spec.real.square() + spec.imag.square()
        mel = torch.matmul(power.transpose(-1, -2), self.fb)  # (B, frames, 96)
        logmel = torch.log10(1.0 + LOG_SCALE * mel)
        return (logmel - NORM_MIN) / (NORM_MAX - NORM_MIN)


def block_starts(frames: int) -> list[int]:
    """Start frames of a clip's 100-frame blocks, hop 50; the one rule for any length.

    Blocks start at 0, 50, 100, ... while they fit; if they leave the clip's last frames
    uncovered, one more block *ends* on the last frame (it overlaps its neighbour more,
    but every frame is seen and nothing is padded). A clip shorter than one block gives a
    single block, zero-padded at the end as in the paper (zero = silence after min-max).
    """
    if frames <= BLOCK_FRAMES:
        return [0]
    starts = list(range(0, frames - BLOCK_FRAMES + 1, BLOCK_HOP))
    if starts[-1] + BLOCK_FRAMES < frames:
        starts.append(frames - BLOCK_FRAMES)
    return starts


def blocks_of(logmel: torch.Tensor) -> torch.Tensor:
    """(T, 96) one clip's log-mel -> (n_blocks, 100, 96) blocks by `block_starts`."""
    t = logmel.shape[0]
    if t < BLOCK_FRAMES:
        logmel = F.pad(logmel, (0, 0, 0, BLOCK_FRAMES - t))
    return torch.stack([logmel[s : s + BLOCK_FRAMES] for s in block_starts(t)])


def block_times(frames: int) -> list[float]:
    """Centre of each block in seconds (HEAR timestamps)."""
    return [(s + BLOCK_FRAMES / 2) * HOP / SAMPLE_RATE for s in block_starts(frames)]
