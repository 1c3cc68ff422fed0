"""The distilled student tower: a small 16 kHz CNN that reproduces aisfx's block embeddings.

Why this shape (docs/models.md, "Distilled student"): the teacher spends a few GFLOP per
second of audio on 44.1 kHz 96-band blocks that overlap by half. The student reads a cheap
16 kHz log-mel (64 bands, hop 20 ms, `audio.features.LogMel` with a 512-point FFT), runs its
trunk (a strided stem and depthwise-separable blocks, channels-last) **once over the whole
file**, and pools each teacher block's time span out of the trunk's 80 ms steps (mean and
max), so overlapping blocks cost nothing extra. A small MLP maps each pooled block into
the teacher's 512-d space (un-standardised with the teacher's per-dimension mean and
spread, stored in the weights), so the block layout, `BlockPool` heads, the feature cache
and the block bank work unchanged.

Padding never changes a result: after every layer the steps past a clip's end are zeroed,
which is exactly what a clip run alone sees through its convolutions' zero padding. So a
padded training batch computes the same function as inference, which runs short clips in
fixed-shape bucket passes and long ones alone (`student_passes.py`: a clip's rows cannot
depend on what else is embedded; tested bit for bit).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from audiotext_cli.audio.features import FrontendConfig, LogMel
from audiotext_cli.audio.sfx_frontend import BLOCK_FRAMES, block_starts, n_frames
from audiotext_cli.audio.sfx_frontend import HOP as TEACHER_HOP
from audiotext_cli.audio.sfx_frontend import SAMPLE_RATE as TEACHER_RATE
from audiotext_cli.errors import CheckpointError, ConfigUsageError
from audiotext_cli.towers.passes import DEFAULT_PRECISION, PRECISIONS, autocast

SAMPLE_RATE = 16000
KIND = "student"  # config.json "kind" of a saved student
PREFIX = "student:"  # --audio-tower student:DIR
FRONTEND = FrontendConfig(n_fft=512, win_length=512, hop_length=320, n_mels=64)
STEP_FRAMES = 4  # the trunk's time stride: one step = 4 frames = 80 ms


@dataclass
class StudentConfig:
    """Widths of the stem, the depthwise-separable stages and the block head."""

    stem: int = 32
    # (out channels, frequency stride) per stage; the time stride is 2 in the stem and in
    # the first stage only (STEP_FRAMES = 4)
    stages: tuple[tuple[int, int], ...] = ((64, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1))
    context: int = 256  # width of the temporal conv over steps (kernel 3)
    head_hidden: int = 512
    dim: int = 512  # the teacher's block width
    teacher: str = "aisfx"

    def __post_init__(self) -> None:
        self.stages = tuple((int(c), int(s)) for c, s in self.stages)
        sizes = [self.stem, self.context, self.head_hidden, self.dim, *(c for c, _ in self.stages)]
        if not all(v > 0 for v in sizes) or not all(s in (1, 2) for _, s in self.stages):
            raise ConfigUsageError(f"student: widths must be > 0 and strides 1 or 2 ({self})")


def _bn_relu(c: int) -> list[nn.Module]:
    return [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]


class _Separable(nn.Module):
    """Depthwise 3x3 (with the stride) then pointwise 1x1, each followed by BN + ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: tuple[int, int]) -> None:
        super().__init__()
        self.stride = stride
        self.dw = nn.Sequential(
            nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False), *_bn_relu(c_in)
        )
        self.pw = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), *_bn_relu(c_out))

    def forward(self, x: Tensor) -> Tensor:
        return self.pw(self.dw(x))


def _masked(x: Tensor, steps: Tensor | None) -> Tensor:
    """Zero the time steps (dim 2) at or past each row's `steps`: what a clip alone sees."""
    if steps is None:
        return x
    keep = torch.arange(x.shape[2], device=x.device)[None, :] < steps[:, None]
    return x * keep[:, None, :, None].to(x.dtype)


class StudentNet(nn.Module):
    """(B, T, 64) log-mel frames -> (B, ceil(T / 4), context) step features; `block_head`
    maps a block's pooled steps to the teacher's 512-d space."""

    def __init__(self, cfg: StudentConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("in_stats", torch.tensor([0.0, 1.0]))  # log-mel mean, std
        self.register_buffer("out_mean", torch.zeros(cfg.dim))  # the teacher's block stats
        self.register_buffer("out_std", torch.ones(cfg.dim))
        self.stem = nn.Sequential(nn.Conv2d(1, cfg.stem, 3, 2, 1, bias=False), *_bn_relu(cfg.stem))
        layers, c = [], cfg.stem
        for i, (c_out, f_stride) in enumerate(cfg.stages):
            layers.append(_Separable(c, c_out, (2 if i == 0 else 1, f_stride)))
            c = c_out
        self.stages = nn.ModuleList(layers)
        self.context = nn.Sequential(
            nn.Conv1d(c, cfg.context, 3, padding=1, bias=False), nn.BatchNorm1d(cfg.context)
        )
        self.head = nn.Sequential(
            nn.Linear(2 * cfg.context, cfg.head_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(cfg.head_hidden, cfg.dim),
        )

    def steps(self, logmel: Tensor, frames: Tensor | None = None) -> Tensor:
        """(B, T, 64) frames (valid counts `frames`, None: all) -> (B, S, context)."""
        mean, std = self.in_stats[0], self.in_stats[1]
        x = ((logmel - mean) / std).unsqueeze(1)  # (B, 1, T, F)
        lengths = frames
        x = _masked(x, lengths)
        for layer in (self.stem, *self.stages):
            stride = 2 if layer is self.stem else layer.stride[0]
            x = layer(x.contiguous(memory_format=torch.channels_last))
            lengths = None if lengths is None else (lengths + stride - 1) // stride
            x = _masked(x, lengths)
        x = x.mean(dim=3)  # (B, C, S): mean over the remaining bands
        x = torch.relu(self.context(x) + x if x.shape[1] == self.cfg.context else self.context(x))
        if lengths is not None:
            x = x * (torch.arange(x.shape[2], device=x.device)[None] < lengths[:, None])[:, None]
        return x.transpose(1, 2)

    def block_head(self, pooled: Tensor) -> Tensor:
        """(N, 2 * context) pooled blocks -> standardised (N, dim) teacher-space predictions."""
        return self.head(pooled)

    def to_teacher(self, z: Tensor) -> Tensor:
        return z * self.out_std + self.out_mean


def n_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def block_ranges(n_samples: int) -> list[tuple[int, int]]:
    """The teacher's blocks of a 16 kHz clip of `n_samples` as half-open ranges of the
    student's 80 ms steps: the steps whose centre lies in the block's frame span, at least
    one. The block count is the teacher's for the same duration (`block_starts`)."""
    seconds = n_samples / SAMPLE_RATE
    t_frames = n_frames(max(1, round(seconds * TEACHER_RATE)))
    n_steps = -(-num_student_frames(n_samples) // STEP_FRAMES)
    step = STEP_FRAMES * FRONTEND.hop_length / SAMPLE_RATE
    centre0 = (STEP_FRAMES - 1) / 2 * FRONTEND.hop_length / SAMPLE_RATE
    ranges = []
    for s in block_starts(t_frames):
        t0 = s * TEACHER_HOP / TEACHER_RATE
        t1 = (min(s + BLOCK_FRAMES, t_frames) - 1) * TEACHER_HOP / TEACHER_RATE
        lo = min(max(0, math.ceil((t0 - centre0) / step)), n_steps - 1)
        hi = min(max(lo + 1, math.floor((t1 - centre0) / step) + 1), n_steps)
        ranges.append((lo, hi))
    return ranges


def num_student_frames(n_samples: int) -> int:
    """Log-mel frames of a clip (short clips are zero-padded to one FFT first)."""
    return 1 + max(n_samples, FRONTEND.n_fft) // FRONTEND.hop_length


def pool_steps(steps: Tensor, ranges: Sequence[tuple[int, int]]) -> Tensor:
    """(S, C) one clip's steps -> (n_blocks, 2C): each block's mean and max over its range."""
    return torch.stack([torch.cat([steps[a:b].mean(0), steps[a:b].amax(0)]) for a, b in ranges])


FRAME_PASS = 1024  # log-mel frames per front-end pass (20 s of audio)


def clip_frames(wave: np.ndarray) -> np.ndarray:
    """(T, n_fft) view of a clip's centred, reflect-padded FFT frames (a clip shorter than
    one FFT is zero-padded to it first); T = `num_student_frames(len(wave))`."""
    n_fft, half = FRONTEND.n_fft, FRONTEND.n_fft // 2
    wave = np.asarray(wave, dtype=np.float32)
    if wave.shape[-1] < n_fft:
        wave = np.concatenate([wave, np.zeros(n_fft - wave.shape[-1], np.float32)])
    # reflect padding (np.pad's "reflect", at a tenth of its cost per call)
    padded = np.concatenate([wave[half:0:-1], wave, wave[-2 : -half - 2 : -1]])
    return np.lib.stride_tricks.sliding_window_view(padded, n_fft)[:: FRONTEND.hop_length]


def _frame_passes(views: Sequence[np.ndarray]) -> Iterator[np.ndarray]:
    """The frames of all clips, concatenated, in buffers of exactly FRAME_PASS rows (the
    last one zero-filled); each buffer is reused, so it must be consumed before the next."""
    buffer = np.zeros((FRAME_PASS, FRONTEND.n_fft), np.float32)
    filled = 0
    for view in views:
        start = 0
        while start < len(view):
            take = min(FRAME_PASS - filled, len(view) - start)
            buffer[filled : filled + take] = view[start : start + take]
            filled, start = filled + take, start + take
            if filled == FRAME_PASS:
                yield buffer
                filled = 0
    if filled:
        buffer[filled:] = 0
        yield buffer


class StudentFrontend(nn.Module):
    """Mono 16 kHz waveforms -> (T, 64) log-mel each, any length (short ones zero-padded):
    `audio.features.LogMel`'s transform (centred, reflect-padded Hann frames, HTK mel,
    log(x + 1e-6)), computed as framed `rfft` with the power from the real and imaginary
    parts: 4x faster here than `torch.stft` + complex `abs`, equal to 1e-6 (tested).

    The frames of all clips of a call go through the transform together, in passes of
    exactly FRAME_PASS rows: a frame's row depends only on its samples (alone or in any
    batch, bit for bit), and a call of 400 short clips is a few passes, not 400 sets of
    ops (each about as slow as a pass on 2 busy cores)."""

    def __init__(self) -> None:
        super().__init__()
        self.logmel = LogMel(FRONTEND)

    def forward(self, wave: Tensor) -> Tensor:
        """One clip: `many` of it alone."""
        return self.many([wave.detach().cpu().numpy()])[0].to(wave.device)

    def many(self, waves: Sequence[np.ndarray]) -> list[Tensor]:
        views = [clip_frames(w) for w in waves]
        device = self.logmel.window.device
        rows = [self._transform(torch.from_numpy(b).to(device)) for b in _frame_passes(views)]
        mel = torch.cat(rows)[: sum(len(v) for v in views)]
        return list(mel.split([len(v) for v in views]))

    def _transform(self, frames: Tensor) -> Tensor:
        spec = torch.fft.rfft(frames * self.logmel.window)  # (FRAME_PASS, n_freqs)
        power = spec.real.square() + spec.imag.square()
        return torch.log(power @ self.logmel.fb + FRONTEND.log_offset)


@dataclass
class SavedStudent:
    cfg: StudentConfig
    net: StudentNet
    sha256: str
    meta: dict[str, Any] = field(default_factory=dict)


def save_student(path: Path, net: StudentNet, meta: dict[str, Any]) -> Path:
    """A student checkpoint: model.safetensors + config.json (kind "student", weights hash)."""
    from audiotext_cli.models.checkpoint import write_checkpoint

    weights = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    cfg = asdict(net.cfg)
    return write_checkpoint(path, {"model": weights}, {"kind": KIND, "student": cfg, **meta})


def load_student(path: str | Path) -> SavedStudent:
    """A saved student, its weights verified against the sha256 in its config.json."""
    from audiotext_cli.models.checkpoint import load_state, read_config, read_weights

    root, meta = read_config(path, kind=KIND)
    try:
        cfg = StudentConfig(**meta["student"])
    except (KeyError, TypeError, ConfigUsageError) as exc:
        raise CheckpointError(f"bad student config in config.json ({exc})", root) from None
    net = StudentNet(cfg)
    load_state(net, read_weights(root, meta), root / "model.safetensors")
    return SavedStudent(cfg, net.eval(), meta["weights_sha256"], meta)


def student_dir(name: str) -> Path | None:
    """The folder of an `--audio-tower student:DIR` name (None: not a student name)."""
    return Path(name[len(PREFIX) :]) if name.startswith(PREFIX) else None


def read_student_config(folder: Path) -> dict[str, Any]:
    """A saved student's config.json (no weights, no torch work): for config validation."""
    try:
        meta = json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigUsageError(f"model.audio_tower: no student checkpoint in {folder}") from None
    if not isinstance(meta, dict) or meta.get("kind") != KIND:
        raise ConfigUsageError(f"model.audio_tower: {folder} is not a student checkpoint")
    return meta


class StudentTower:
    """A saved student as a `towers.Tower`: waveforms at 16 kHz -> teacher-like blocks.

    `fused` (the default) folds BatchNorm into the convolutions and `precision` "bf16"
    (the default, as aisfx's) runs trunk and head under bf16 autocast (oneDNN; AMX where
    the CPU has it), the front end in fp32; either way short clips run in fixed-shape
    bucket passes (`towers.student_passes`), so a clip's rows are the same alone or in any
    batch (tested bit for bit). Both keep cosine >= 0.999 to the plain fp32 network
    (tested); the feature cache key names both."""

    name = "student"
    sample_rate = SAMPLE_RATE
    # at ~5,000x real time its blocks cost about what their cache entries do: `embed
    # folder` of 400 short files ran 10 % faster without the 400 cache writes
    caches_jobs = False

    def __init__(
        self,
        path: str | Path,
        device: str = "cpu",
        fused: bool = True,
        precision: str = DEFAULT_PRECISION,
    ) -> None:
        from audiotext_cli.towers.student_passes import fold_batchnorm

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.precision = precision
        saved = load_student(path)
        self.path = Path(path)
        self.device = torch.device(device)
        self.dim = saved.cfg.dim
        net = fold_batchnorm(saved.net) if fused else saved.net
        self.net = net.to(self.device).eval().to(memory_format=torch.channels_last)
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.frontend = StudentFrontend().to(self.device)
        self.tower_id = f"student-{saved.sha256[:12]}-{precision}" + ("-fused" if fused else "")

    @torch.inference_mode()
    def embed_blocks(self, waves: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each clip's (n_blocks, dim) float32 teacher-space block embeddings."""
        from audiotext_cli.towers.student_passes import head_in_passes, trunk_steps

        if not waves:
            return []
        mels = self.frontend.many(waves)
        ranges = [block_ranges(len(w)) for w in waves]
        with autocast(self.precision):
            steps = trunk_steps(self.net, mels, STEP_FRAMES)
            pooled = [pool_steps(s, r) for s, r in zip(steps, ranges, strict=True)]
            rows = head_in_passes(self.net, torch.cat(pooled))
        bounds = np.cumsum([0, *[len(r) for r in ranges]])
        return [rows[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
