"""Model configuration: one dataclass per component, stored inside every checkpoint.

On resume or load the architecture comes from the checkpoint's config, never from the
command line, so a shape mismatch cannot get in through an option (nanoGPT's rule).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiotext_cli.errors import ConfigError


@dataclass
class AudioEncoderConfig:
    """Log-mel CNN: `channels` per stage, each stage = 2 convs + 2x2 average pool.

    Four stages downsample time by 16, so each output token covers one 16-frame patch
    (0.32 s at hop 20 ms): the unit ProLAP's audio masking works on.
    """

    channels: tuple[int, ...] = (32, 64, 128, 256)
    dropout: float = 0.1


@dataclass
class ModelConfig:
    name: str = "clap-small"
    probabilistic: bool = False  # True: both heads output a diagonal Gaussian (ProLAP)
    embed_dim: int = 256  # shared audio-text space
    head_hidden: int = 512
    text_dim: int = 384  # frozen MiniLM features
    audio: AudioEncoderConfig = field(default_factory=AudioEncoderConfig)
    sample_rate: int = 16000
    n_fft: int = 1024
    hop_length: int = 320
    n_mels: int = 64
    f_max: float = 8000.0
    window_seconds: float = 4.0
    init_logit_scale: float = math.log(1 / 0.07)
    init_logit_bias: float = -4.0  # SigLIP/PPCL bias; near -log(B) for small batches
    logvar_bias_init: float = -5.0  # Gaussian head bias (ProLIP: -10)


@dataclass
class TrainConfig:
    loss: str = "clip"  # clip | siglip | soft-clip | prolap
    epochs: int = 12
    batch_size: int = 64
    lr: float = 2e-3
    scalar_lr: float = 1e-2  # logit scale / bias learn faster (REFERENCE.md section 8)
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    grad_clip: float = 1.0
    seed: int = 0
    spec_augment: bool = True  # time/frequency masking on training windows only
    crop_frames: int = 128  # random training crop of each window (0 = whole window)
    multi_positive: bool = True  # equal caption strings in a batch are positives
    source_alpha: float = 1.0  # source s sampled in proportion to n_s**alpha (1: every clip once)
    checkpoint_every: int = 200  # steps between resumable checkpoints
    # ProLAP (ignored by deterministic losses)
    mask_fraction: float = 0.125
    mask_prob: float = 0.75
    text_mask_depth: int = 2
    audio_mask_depth: int = 1
    w_inclusion_cross: float = 5e-7
    w_inclusion_hier: float = 5e-3
    w_vib: float = 1e-5
    w_repulsive: float = 1e-3
    # soft-clip
    soft_beta: float = 0.3


def _from_dict(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"unknown {cls.__name__} field(s): {', '.join(sorted(unknown))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if name == "audio" and isinstance(value, dict):
            value = _from_dict(AudioEncoderConfig, value)
        elif name == "channels":
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def model_config_from_dict(data: dict[str, Any]) -> ModelConfig:
    return _from_dict(ModelConfig, data)


def train_config_from_dict(data: dict[str, Any]) -> TrainConfig:
    return _from_dict(TrainConfig, data)


def to_dict(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


PRESETS = Path(__file__).resolve().parent.parent / "presets"


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.json"))


def load_preset(name_or_path: str) -> tuple[ModelConfig, TrainConfig]:
    """A preset is JSON {"model": {...}, "train": {...}}: a name in presets/ or a file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PRESETS / f"{name_or_path}.json"
    if not path.is_file():
        raise ConfigError(
            f"no preset {name_or_path!r} (known: {', '.join(list_presets())}, or a JSON file path)"
        )
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc}", path) from None
    return model_config_from_dict(data.get("model", {})), train_config_from_dict(
        data.get("train", {})
    )


def apply_overrides(model: ModelConfig, train: TrainConfig, overrides: list[str]) -> None:
    """`--set train.lr=1e-3 --set model.embed_dim=128`: values parse as JSON, checked by type."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        section, _, name = key.partition(".")
        target = {"model": model, "train": train}.get(section)
        if not sep or target is None or not name or not hasattr(target, name):
            raise ConfigError(
                f"bad override {item!r}: expected model.FIELD=VALUE or train.FIELD=VALUE"
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        current = getattr(target, name)
        if isinstance(current, bool) != isinstance(value, bool) or (
            isinstance(current, int | float) and not isinstance(value, int | float)
        ):
            raise ConfigError(f"bad override {item!r}: {name} expects {type(current).__name__}")
        if isinstance(current, float):
            value = float(value)
        if isinstance(current, str) and not isinstance(value, str):
            value = str(value)
        setattr(target, name, value)
