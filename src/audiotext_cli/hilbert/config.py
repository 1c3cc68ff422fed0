"""HILBERT's configuration through the same presets and `--set` as the two-tower models'
(`models/config.py`): `presets/hilbert.json` holds a `HilbertConfig` ("model": the
architecture) and a `FitConfig` ("train": the optimiser and `losses`, the config of every
registered document loss, `losses/document.py`). The feature widths and the class count
come from the documents and the device from --device, so neither a preset nor --set
gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.hilbert.model import HilbertConfig
from audiotext_cli.models.config import (
    DocumentLosses,
    apply_overrides,
    check_ranges,
    config_from_dict,
    document_losses_from,
    read_preset,
)

PRESET = "hilbert"
NOT_CONFIGURABLE = {
    "model.audio_dim": "the features",
    "model.text_dim": "the features",
    "model.n_classes": "the labels",
    "train.device": "--device",
}


@dataclass
class FitConfig:
    epochs: int = 10
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-2
    seed: int = 0
    device: str = "cpu"
    losses: DocumentLosses = field(default_factory=dict)  # name -> config; defaults if absent

    def __post_init__(self) -> None:
        self.losses = document_losses_from(self.losses)
        check_ranges(
            self, "train", positive=("epochs", "batch_size", "lr"), non_negative=("weight_decay",)
        )


def hilbert_config(
    preset: str = PRESET, overrides: list[str] | tuple[str, ...] = ()
) -> tuple[HilbertConfig, FitConfig]:
    """A HILBERT preset with `--set` overrides applied, checked like any config; a preset
    of the two-tower family, or a key set by the data or --device, is a usage error."""
    data = read_preset(preset, kind="hilbert")
    given = [f"{s}.{k}" for s in ("model", "train") for k in data.get(s, {})]
    given += [item.partition("=")[0] for item in overrides]
    for key in given:
        if key in NOT_CONFIGURABLE:
            raise ConfigUsageError(f"{key}: set by {NOT_CONFIGURABLE[key]}, not configurable")
    model = config_from_dict(HilbertConfig, data.get("model", {}), "model")
    run = config_from_dict(FitConfig, data.get("train", {}), "train")
    return apply_overrides(model, run, list(overrides))
