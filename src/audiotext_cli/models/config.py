"""Model configuration: one dataclass per component, stored inside every checkpoint.

On resume or load the architecture comes from the checkpoint's config, never from the
command line, so a shape mismatch cannot get in through an option (nanoGPT's rule).
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audiotext_cli.errors import ConfigError, ConfigUsageError
from audiotext_cli.losses import DOCUMENT_LOSSES, LossConfig, loss_class
from audiotext_cli.towers import TOWERS, tower_spec


def check_ranges(
    cfg: Any,
    section: str,
    positive: tuple[str, ...] = (),
    non_negative: tuple[str, ...] = (),
) -> None:
    """Raise `ConfigUsageError` naming `section.key` for a non-finite float field, or a
    field of `positive` that is not > 0 / of `non_negative` that is < 0 (sizes, rates)."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigUsageError(f"{section}.{f.name}: must be finite, got {value}")
    for names, ok, rule in (
        (positive, lambda v: v > 0, "> 0"),
        (non_negative, lambda v: v >= 0, ">= 0"),
    ):
        for name in names:
            value = getattr(cfg, name)
            if not ok(value):
                raise ConfigUsageError(f"{section}.{name}: must be {rule}, got {value}")


@dataclass
class AudioEncoderConfig:
    """Log-mel CNN: `channels` per stage, each stage = 2 convs + 2x2 average pool.

    Four stages downsample time by 16, so each output token covers one 16-frame patch
    (0.32 s at hop 20 ms): the unit ProLAP's audio masking works on.
    """

    channels: tuple[int, ...] = (32, 64, 128, 256)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        self.channels = tuple(self.channels)
        if not self.channels or not all(isinstance(c, int) and c > 0 for c in self.channels):
            raise ConfigUsageError(
                f"model.audio.channels: must be positive integers, got {self.channels}"
            )
        check_ranges(self, "model.audio", non_negative=("dropout",))
        if not self.dropout < 1:
            raise ConfigUsageError(f"model.audio.dropout: must be < 1, got {self.dropout}")


@dataclass
class ModelConfig:
    name: str = "clap-small"
    # "cnn": the log-mel CNN below, trained from scratch at `sample_rate`; or a frozen
    # pretrained tower (`towers.TOWERS`, e.g. "aisfx") whose cached block embeddings the
    # model pools, at the tower's own rate. Checkpoints from before towers read as "cnn".
    audio_tower: str = "cnn"
    # A pretrained tower's blocks that train with the heads: "none" (frozen, on cached
    # features), "last1".."last3" or "all" (`models.tower_tail`; needs a tower).
    tower_trainable: str = "none"
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

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        spec = None if self.audio_tower == "cnn" else tower_spec(self.audio_tower)
        if self.audio_tower != "cnn" and spec is None:
            raise ConfigUsageError(
                f"model.audio_tower: must be cnn, student:DIR or one of {', '.join(TOWERS)}, "
                f"got {self.audio_tower!r}"
            )
        if spec is not None and self.sample_rate != spec.sample_rate:
            raise ConfigUsageError(
                f"model.sample_rate: the {self.audio_tower} tower runs at "
                f"{spec.sample_rate} Hz, got {self.sample_rate}"
            )
        self.trainable_blocks()  # checks the value
        self.audio.validate()
        check_ranges(
            self,
            "model",
            positive=(
                "embed_dim",
                "head_hidden",
                "text_dim",
                "sample_rate",
                "n_fft",
                "hop_length",
                "n_mels",
                "f_max",
                "window_seconds",
            ),
        )

    def trainable_blocks(self) -> int:
        """How many of the tower's last blocks `tower_trainable` unfreezes (0: frozen)."""
        value = self.tower_trainable
        if value == "none":
            return 0
        if self.audio_tower not in TOWERS:
            raise ConfigUsageError(
                f"model.tower_trainable: only a pretrained tower can be unfrozen "
                f"(model.audio_tower is {self.audio_tower!r}, trained whole), got {value!r}"
            )
        n = TOWERS[self.audio_tower].blocks
        names = {f"last{k}": k for k in range(1, n)} | {"all": n}
        if value not in names:
            raise ConfigUsageError(
                f"model.tower_trainable: must be none, {', '.join(names)}, got {value!r}"
            )
        return names[value]


def _default_loss() -> LossConfig:
    return loss_class("clip").Config()


POSITIVES = ("caption", "described")


@dataclass
class TrainConfig:
    loss: LossConfig = field(default_factory=_default_loss)  # a registered loss's config
    epochs: int = 12
    batch_size: int = 64
    lr: float = 2e-3
    scalar_lr: float = 1e-2  # logit scale / bias learn faster (REFERENCE.md section 8)
    tower_lr: float = 1e-4  # an unfrozen tower's blocks (model.tower_trainable) move slowly
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    grad_clip: float = 1.0
    seed: int = 0
    spec_augment: bool = True  # time/frequency masking on training windows only
    crop_frames: int = 128  # random training crop of each window (0 = whole window)
    multi_positive: bool = True  # other pairs in a batch may be positives (see `positives`)
    # "caption": a pair is positive when the two captions are the same string (CLIP's
    # multi-positive reading); "described": when the text is any caption of the clip, so
    # "music" is a positive of every music clip whichever caption it was sampled with.
    positives: str = "caption"
    source_alpha: float = 1.0  # source s sampled in proportion to n_s**alpha (1: every clip once)
    checkpoint_every: int = 200  # steps between resumable checkpoints

    def __post_init__(self) -> None:
        self.loss = loss_config_from(self.loss)  # a name (e.g. from `replace`) -> its config
        self.validate()

    def validate(self) -> None:
        """Also called by `train`, since fields may be set after construction."""
        self.loss.validate()
        if self.positives not in POSITIVES:
            raise ConfigUsageError(
                f"train.positives: must be one of {', '.join(POSITIVES)}, not {self.positives!r}"
            )
        check_ranges(
            self,
            "train",
            positive=("epochs", "batch_size", "lr", "tower_lr", "grad_clip", "checkpoint_every"),
            non_negative=(
                "scalar_lr",
                "weight_decay",
                "warmup_epochs",
                "crop_frames",
                "source_alpha",
            ),
        )


# Loss options that lived flat in TrainConfig before losses had their own configs; a
# checkpoint written then still reads (they move into its loss's config).
_LEGACY_LOSS_KEYS = {
    "prolap": {
        k: k
        for k in (
            "mask_fraction",
            "mask_prob",
            "text_mask_depth",
            "audio_mask_depth",
            "w_inclusion_cross",
            "w_inclusion_hier",
            "w_vib",
            "w_repulsive",
        )
    },
    "soft-clip": {"soft_beta": "beta"},
}


def loss_config_from(value: Any) -> LossConfig:
    """A loss config from its registered name or `{"name": ..., field: value, ...}`."""
    if isinstance(value, LossConfig):
        return value
    if isinstance(value, str):
        return loss_class(value).Config()
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ConfigUsageError(
            f'train.loss: expected a loss name or {{"name": ...}}, got {value!r}'
        )
    config = loss_class(value["name"]).Config
    options = config.upgrade({k: v for k, v in value.items() if k != "name"})
    return _from_dict(config, options, "train.loss")


DocumentLosses = dict[str, LossConfig]  # HILBERT's: every registered document loss, by name


def document_losses_from(value: Any, where: str = "train.losses") -> DocumentLosses:
    """Every document loss's config, in registration order (the order they are summed):
    those `value` names (configs, or JSON dicts of their fields) and the defaults of the
    rest, so a preset lists only what it changes."""
    if not isinstance(value, dict):
        raise ConfigUsageError(f"{where}: expected a section (JSON object), got {value!r}")
    for name in value:
        if name not in DOCUMENT_LOSSES:
            raise ConfigUsageError(
                f"unknown key {where}.{name}; losses are {', '.join(DOCUMENT_LOSSES)}"
            )
    losses = {}
    for name, cls in DOCUMENT_LOSSES.items():
        given = value.get(name, {})
        is_config = isinstance(given, LossConfig)
        losses[name] = given if is_config else _coerce(f"{where}.{name}", given, cls.Config)
    return losses


def _legacy_train(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "loss" in data and isinstance(data["loss"], str):
        moved = _LEGACY_LOSS_KEYS.get(data["loss"], {})
        loss = {"name": data["loss"]}
        for old_keys in _LEGACY_LOSS_KEYS.values():
            for old, new in old_keys.items():
                if old in data:
                    value = data.pop(old)
                    if old in moved:
                        loss[new] = value
        data["loss"] = loss
    return data


def _from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        keys = ", ".join(f"{where}.{k}" for k in sorted(unknown))
        raise ConfigUsageError(f"unknown key(s) {keys}")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(f"{where}.{name}", value, hints[name]) for name, value in data.items()}
    return cls(**kwargs)


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """`value` checked against the field type `tp`: ints stay ints, floats are finite,
    nested sections are dicts, a loss is a name or a dict."""
    if tp is LossConfig:
        return loss_config_from(value)
    if tp == DocumentLosses:
        return document_losses_from(value, key)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigUsageError(f"{key}: expected a section (JSON object), got {value!r}")
        return _from_dict(tp, value, key)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(key, value, inner)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigUsageError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(f"{key}[{i}]", v, args[0]) for i, v in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigUsageError(f"{key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigUsageError(f"{key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigUsageError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigUsageError(f"{key}: must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigUsageError(f"{key}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{key}: unsupported config field type {tp!r}")


def config_from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    """A config dataclass from its JSON dict, each value checked against its field type and
    every unknown key refused (`ConfigUsageError` naming `where.key`)."""
    if cls is TrainConfig:
        return train_config_from_dict(data)
    return _from_dict(cls, data, where)


def model_config_from_dict(data: dict[str, Any]) -> ModelConfig:
    return _from_dict(ModelConfig, data, "model")


def train_config_from_dict(data: dict[str, Any]) -> TrainConfig:
    return _from_dict(TrainConfig, _legacy_train(data), "train")


def to_dict(cfg: Any) -> dict[str, Any]:
    """A config as JSON-ready nested dicts; a loss config carries its `name`, except in a
    section of loss configs keyed by name (HILBERT's `train.losses`)."""
    named = isinstance(cfg, LossConfig) and cfg.name  # a term's section has no name
    out: dict[str, Any] = {"name": cfg.name} if named else {}
    return out | _fields(cfg)


def _fields(cfg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            value = to_dict(value)
        elif isinstance(value, dict):
            value = {k: _fields(v) for k, v in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def differing_keys(a: Any, b: Any, prefix: str) -> list[str]:
    """Dotted keys whose values differ between two configs (dataclasses or their dicts)."""
    a = to_dict(a) if dataclasses.is_dataclass(a) else a
    b = to_dict(b) if dataclasses.is_dataclass(b) else b
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [] if a == b else [prefix]
    keys = sorted(set(a) | set(b))
    return [d for k in keys for d in differing_keys(a.get(k), b.get(k), f"{prefix}.{k}")]


PRESETS = Path(__file__).resolve().parent.parent / "presets"


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.json"))


def read_preset(name_or_path: str, kind: str = "audiotext") -> dict[str, Any]:
    """A preset's JSON {"kind": ..., "model": {...}, "train": {...}}: a name in presets/ or a
    file path. `kind` is the model family, as in checkpoints ("audiotext" when absent, or
    "hilbert"), so a preset for the other family is refused with one line."""
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
    if not isinstance(data, dict) or set(data) - {"kind", "model", "train"}:
        raise ConfigUsageError('a preset is {"model": {...}, "train": {...}}', path)
    if data.get("kind", "audiotext") != kind:
        got = data.get("kind", "audiotext")
        raise ConfigUsageError(f"preset kind is {got!r}, expected {kind!r}", path)
    return data


def load_preset(name_or_path: str) -> tuple[ModelConfig, TrainConfig]:
    """The two-tower model's preset (see `read_preset`) as checked configs."""
    data = read_preset(name_or_path)
    return model_config_from_dict(data.get("model", {})), train_config_from_dict(
        data.get("train", {})
    )


def apply_overrides(model: Any, train: Any, overrides: list[str]) -> tuple[Any, Any]:
    """`--set train.lr=1e-3 --set model.embed_dim=128 --set train.loss.vib.weight=0`: values
    parse as JSON (else as a string), applied in order, then the whole config is checked
    again, so a bad value fails with one line naming its key. `train.loss=NAME` picks a
    loss (its default config, or the current one if it is already that loss).
    Any pair of config dataclasses works (HILBERT's too). Returns new configs of the same
    types; the inputs are not changed."""
    data = {"model": to_dict(model), "train": to_dict(train)}
    for item in overrides:
        key, sep, raw = item.partition("=")
        path = key.split(".")
        if not sep or path[0] not in data or len(path) < 2 or not all(path):
            raise ConfigUsageError(
                f"bad override {item!r}: expected model.FIELD=VALUE or train.FIELD=VALUE"
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = data[path[0]]
        for i, part in enumerate(path[1:-1], start=1):
            if not isinstance(node.get(part), dict):
                raise ConfigUsageError(f"unknown key {'.'.join(path[: i + 1])}")
            node = node[part]
        name = path[-1]
        if name not in node or (key == "train.loss.name"):
            raise ConfigUsageError(f"unknown key {key}")
        if isinstance(node[name], dict) and key != "train.loss":
            raise ConfigUsageError(f"{key}: is a section; set its fields ({key}.FIELD=VALUE)")
        if key == "train.loss":
            if not isinstance(value, str):
                raise ConfigUsageError(f"{key}: expected a loss name, got {value!r}")
            if value != node[name]["name"]:
                node[name] = to_dict(loss_config_from(value))
            continue
        node[name] = value
    return (
        config_from_dict(type(model), data["model"], "model"),
        config_from_dict(type(train), data["train"], "train"),
    )
