"""Log-mel windows of a whole manifest, computed once and cached.

Training windows are exactly the windows inference makes (`audio.io.frame_windows`), so
what the model sees in training and what it embeds later match; validation on the bank
gives the same numbers as embedding the files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from audiotext_cli.atomic import write_atomic
from audiotext_cli.audio.features import LogMel, valid_frames
from audiotext_cli.audio.io import frame_windows, load_audio
from audiotext_cli.models.config import ModelConfig
from audiotext_cli.models.model import frontend_config

MAX_WINDOWS = 4  # per clip in training banks: 16 s is plenty for one-shot sounds


@dataclass
class LogmelBank:
    logmel: torch.Tensor  # (N_windows, n_mels, T) float16
    valid_frames: torch.Tensor  # (N_windows,) int64
    valid_samples: torch.Tensor  # (N_windows,) int64, weights for pooling
    offsets: torch.Tensor  # (n_clips + 1,) window ranges per clip

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def windows_of(self, clip: int) -> range:
        return range(int(self.offsets[clip]), int(self.offsets[clip + 1]))


def _key(cfg: ModelConfig, paths: Sequence[str]) -> str:
    fe = frontend_config(cfg)
    blob = json.dumps([fe.__dict__, cfg.window_seconds, MAX_WINDOWS, list(paths)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def build_bank(
    paths: Sequence[str],
    cfg: ModelConfig,
    cache_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> LogmelBank:
    """Decode, window and log-mel every file; reuse `cache_dir/<hash>.safetensors` if present."""
    cache = None if cache_dir is None else cache_dir / f"bank-{_key(cfg, paths)}.safetensors"
    if cache is not None and cache.is_file():
        t = load_file(str(cache))
        if progress:
            progress(len(paths))
        return LogmelBank(t["logmel"], t["valid_frames"], t["valid_samples"], t["offsets"])
    fe = frontend_config(cfg)
    logmel = LogMel(fe)
    mels, vs, offsets = [], [], [0]
    with torch.inference_mode():
        for path in paths:
            win, valid = frame_windows(
                load_audio(path, cfg.sample_rate), cfg.sample_rate, cfg.window_seconds
            )
            win, valid = win[:MAX_WINDOWS], valid[:MAX_WINDOWS]
            mels.append(logmel(torch.from_numpy(win)).to(torch.float16))
            vs.append(torch.from_numpy(valid.astype(np.int64)))
            offsets.append(offsets[-1] + len(win))
            if progress:
                progress(1)
    samples = torch.cat(vs)
    bank = LogmelBank(
        torch.cat(mels), torch.as_tensor(valid_frames(samples, fe)), samples, torch.tensor(offsets)
    )
    if cache is not None:
        tensors = {
            "logmel": bank.logmel.contiguous(),
            "valid_frames": bank.valid_frames.contiguous(),
            "valid_samples": bank.valid_samples,
            "offsets": bank.offsets,
        }
        write_atomic(cache, lambda p: save_file(tensors, str(p)))
    return bank
