"""Checkpoints: a folder with `config.json` + `model.safetensors` (+ optimizer state to resume).

Weights are only ever read with safetensors: nothing is unpickled, so a checkpoint from a
stranger cannot run code. Every failure is a one-line `CheckpointError`.

Integrity: `config.json` records the sha256 of `model.safetensors` (and of
`optimizer.safetensors`); loading verifies them, so flipped bytes or weights from another
save are refused. A save writes a whole new folder beside the old one (`.NAME.new`) and
swaps it in by two renames; `read_config` finishes a swap a kill interrupted, so a
checkpoint folder is always one complete save, never new weights under an old config.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from audiotext_cli.atomic import write_atomic, write_json_atomic
from audiotext_cli.errors import AudiotextError, CheckpointError
from audiotext_cli.hashing import file_sha256
from audiotext_cli.losses import create_loss
from audiotext_cli.models.config import (
    ModelConfig,
    TrainConfig,
    model_config_from_dict,
    to_dict,
    train_config_from_dict,
)
from audiotext_cli.models.model import AudioTextModel

FORMAT = "audiotext-checkpoint"
VERSION = 1


def save_checkpoint(
    path: Path,
    model: AudioTextModel,
    train_cfg: TrainConfig,
    state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
) -> Path:
    """A two-tower model's checkpoint: its weights, configs and trainer state, plus the
    optimizer's to resume from (see `write_checkpoint`)."""
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"model": to_dict(model.cfg), "train": to_dict(train_cfg), "state": state}
    files = {"model": weights}
    if optimizer is not None:
        files["optimizer"], groups = _flatten_optimizer(optimizer)
        meta["state"] = {**state, "optimizer_param_groups": groups}
    return write_checkpoint(path, files, meta)


# config.json key of each tensor file's sha256
SHA256_KEYS = {"model": "weights_sha256", "optimizer": "optimizer_sha256"}


def write_checkpoint(
    path: Path, files: dict[str, dict[str, torch.Tensor]], meta: dict[str, Any]
) -> Path:
    """Write a checkpoint folder as a whole, for every model family: each `files[NAME]` as
    NAME.safetensors with its sha256 in config.json, written last into `.NAME.new`, which
    is then swapped in for the old folder (see the module docstring). A folder that is
    there but is not a checkpoint is refused, not replaced."""
    path = Path(path)
    if path.is_dir() and any(path.iterdir()) and not checkpoint_exists(path):
        raise CheckpointError("exists and is not a checkpoint; not replacing it", path)
    staged, old = _staged(path), _old(path)
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    meta = {"format": FORMAT, "version": VERSION, **meta}
    for name, tensors in files.items():
        file = staged / f"{name}.safetensors"
        write_atomic(file, lambda p, t=tensors: save_file(t, str(p)))
        meta[SHA256_KEYS[name]] = file_sha256(file)
    write_json_atomic(staged / "config.json", meta)  # the staged folder is complete
    if path.exists():
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
    staged.rename(path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def _staged(path: Path) -> Path:
    return path.with_name(f".{path.name}.new")


def _old(path: Path) -> Path:
    return path.with_name(f".{path.name}.old")


def _recover(root: Path) -> None:
    """Finish a save killed between its two renames: install the complete staged folder,
    or put the old one back."""
    if root.exists():
        return
    staged, old = _staged(root), _old(root)
    if (staged / "config.json").is_file():
        staged.rename(root)
        shutil.rmtree(old, ignore_errors=True)
    elif (old / "config.json").is_file():
        old.rename(root)


def checkpoint_exists(path: str | Path) -> bool:
    """Whether `path` holds a complete checkpoint, after finishing a save a kill interrupted."""
    root = Path(path)
    _recover(root)
    return (root / "config.json").is_file()


def read_config(path: str | Path, kind: str = "audiotext") -> tuple[Path, dict[str, Any]]:
    """Resolve a checkpoint folder (or its model.safetensors) and read its config.json.
    `kind` is the model family ("audiotext", "hilbert"): one format, one hash, for all."""
    root = Path(path)
    if root.is_file() and root.suffix == ".safetensors":
        root = root.parent
    _recover(root)
    if not root.exists():
        raise CheckpointError("checkpoint not found", path)
    cfg_path = root / "config.json"
    if not cfg_path.is_file():
        raise CheckpointError("not an audiotext checkpoint (no config.json)", path)
    try:
        meta = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError("config.json is not valid JSON", cfg_path) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError("not an audiotext checkpoint (wrong format tag)", cfg_path)
    if meta.get("version") != VERSION:
        raise CheckpointError(f"unsupported checkpoint version {meta.get('version')}", cfg_path)
    if meta.get("kind", "audiotext") != kind:
        raise CheckpointError(
            f"checkpoint kind is {meta.get('kind')!r}, expected {kind!r}", cfg_path
        )
    return root, meta


def _read_tensors(path: Path, sha256: str | None = None) -> dict[str, torch.Tensor]:
    """Load a safetensors file; with `sha256` (recorded in config.json), verify it first."""
    if not path.is_file():
        raise CheckpointError("missing weights file", path)
    if sha256 is not None and file_sha256(path) != sha256:
        raise CheckpointError(
            "truncated or corrupt: checksum mismatch with config.json (damaged, modified, "
            "or from an interrupted save)",
            path,
        )
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        reason = " ".join(str(exc).split())
        raise CheckpointError(f"truncated or corrupt safetensors file ({reason})", path) from None


def read_weights(root: Path, meta: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The checkpoint's model.safetensors, verified against the sha256 in its config."""
    return _read_tensors(root / "model.safetensors", meta.get("weights_sha256"))


def load_model(path: str | Path, device: str = "cpu") -> tuple[AudioTextModel, dict[str, Any]]:
    """Build the model from the checkpoint's own config and load its weights strictly."""
    root, meta = read_config(path)
    try:
        cfg = model_config_from_dict(meta["model"])
    except (KeyError, TypeError, AudiotextError) as exc:
        raise CheckpointError(f"bad model config in config.json ({exc})", root) from None
    model = AudioTextModel(cfg)
    load_state(model, read_weights(root, meta), root / "model.safetensors")
    return model.to(device).eval(), meta


def load_state(
    module: torch.nn.Module,
    tensors: dict[str, torch.Tensor],
    where: Path,
    may_be_missing: tuple[str, ...] = (),
) -> None:
    """Strict load with a readable error: which keys are missing, unexpected or misshapen.
    Keys starting with a `may_be_missing` prefix keep their initial values when absent."""
    expected = module.state_dict()
    missing = sorted(k for k in set(expected) - set(tensors) if not k.startswith(may_be_missing))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = sorted(k for k in set(expected) & set(tensors) if expected[k].shape != tensors[k].shape)
    if missing or unexpected or wrong:
        parts = []
        for label, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("wrong shape", wrong),
        ):
            if keys:
                parts.append(f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}")
        raise CheckpointError("weights do not match the model (" + "; ".join(parts) + ")", where)
    module.load_state_dict(tensors, strict=not may_be_missing)


# A deterministic checkpoint initialises a probabilistic model: the variance heads start fresh;
# a frozen-tower one initialises an unfrozen model: the tail keeps the pretrained weights.
MAY_START_FRESH = ("audio_head.logvar.", "text_head.logvar.", "tower_tail.")


# Scalars that belong to a sigmoid loss: a checkpoint trained without a bias (InfoNCE) has
# a scale tuned for a softmax and a bias never trained, so the new loss keeps its own init.
SIGMOID_SCALARS = ("logit_scale", "logit_bias")


def init_from_checkpoint(model: AudioTextModel, path: str | Path, needs_bias: bool) -> None:
    """Start training from another checkpoint's weights (ProLAP from the CLAP baseline,
    fine-tuning the tower from heads trained on the frozen one).
    A loss that needs a bias (SigLIP, PPCL) started from one trained without keeps its own
    initial scale and bias: InfoNCE's scale (~38) with an untrained bias puts every pair's
    sigmoid logit far from where a sigmoid loss starts well (REFERENCE.md section 8)."""
    root, meta = read_config(path)
    tensors = read_weights(root, meta)
    source_bias = not meta.get("train") or create_loss(train_config_of(meta).loss).needs.bias
    if needs_bias and not source_bias:
        tensors = {k: v for k, v in tensors.items() if k not in SIGMOID_SCALARS}
        may_be_missing = (*MAY_START_FRESH, *SIGMOID_SCALARS)
    else:
        may_be_missing = MAY_START_FRESH
    load_state(model, tensors, root, may_be_missing=may_be_missing)


def load_training_state(
    path: str | Path, model: AudioTextModel, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restore weights and optimizer for `--resume`; returns the saved trainer state."""
    root, meta = read_config(path)
    load_state(model, read_weights(root, meta), root / "model.safetensors")
    state = dict(meta.get("state", {}))
    groups = state.pop("optimizer_param_groups", None)
    if groups is None:
        raise CheckpointError("checkpoint has no optimizer state to resume from", root)
    optimizer_file = root / "optimizer.safetensors"
    _restore_optimizer(
        optimizer, _read_tensors(optimizer_file, meta.get("optimizer_sha256")), groups
    )
    return state


def train_config_of(meta: dict[str, Any]) -> TrainConfig:
    return train_config_from_dict(meta.get("train", {}))


def model_config_of(meta: dict[str, Any]) -> ModelConfig:
    return model_config_from_dict(meta["model"])


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for pid, pstate in sd["state"].items():
        for name, value in pstate.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"{pid}.{name}"] = t.detach().cpu().contiguous()
    return tensors, sd["param_groups"]


def _restore_optimizer(
    opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict]
) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    try:
        opt.load_state_dict({"state": state, "param_groups": groups})
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"optimizer state does not match the model ({exc})") from None


_PREFIXES = ("module.", "model.", "audio_encoder.", "encoder.")


def load_audio_encoder_weights(model: AudioTextModel, path: str | Path) -> None:
    """Initialise the audio CNN from a local pretrained safetensors file.

    Common wrapper prefixes (`module.`, `model.`, `audio_encoder.`, `encoder.`) are stripped;
    pickled formats (.pt/.pth/.ckpt) are refused rather than unpickled.
    """
    path = Path(path)
    if path.suffix in {".pt", ".pth", ".ckpt", ".bin", ".pkl"}:
        raise CheckpointError("refusing to unpickle; convert the weights to .safetensors", path)
    tensors = _read_tensors(path)
    stripped: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        while key.startswith(_PREFIXES):
            key = key.split(".", 1)[1]
        stripped[key] = value
    load_state(model.audio_encoder, stripped, path)
