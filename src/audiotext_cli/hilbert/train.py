"""Fit a HILBERT model on cached segment features; save and load it (safetensors + JSON).

Segment features are z-scored with statistics of the *training* documents only (they are
part of the fitted model and saved in the checkpoint), so cross-validation never sees
test-fold statistics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from audiotext_cli.errors import CheckpointError, ConfigError
from audiotext_cli.hilbert.config import PRESET, FitConfig, hilbert_config
from audiotext_cli.hilbert.features import DocFeatures, features_for
from audiotext_cli.hilbert.model import LEGACY_LOSS_KEYS, Hilbert, HilbertConfig
from audiotext_cli.losses import DOCUMENT_LOSSES, loss_class
from audiotext_cli.losses.document import DocumentBatch, DocumentLoss, class_weights
from audiotext_cli.models import checkpoint
from audiotext_cli.models.config import to_dict

LEGACY_FORMAT = "audiotext-hilbert-1"  # before HILBERT shared the checkpoint format


@dataclass
class Fitted:
    model: Hilbert
    stats: dict[str, torch.Tensor]  # audio_mean, audio_std, text_mean, text_std

    def batch(self, feats: DocFeatures, idx: np.ndarray) -> tuple[torch.Tensor, ...]:
        return padded(feats, idx, self.stats, next(self.model.parameters()).device)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run on one intra-op thread: the matrices are tiny, and on a busy 2-core machine two
    spinning threads made a fit 10x slower (52 s vs 5.8 s measured)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit_stats(feats: DocFeatures, idx: np.ndarray) -> dict[str, torch.Tensor]:
    rows = np.concatenate([np.arange(feats.offsets[i], feats.offsets[i + 1]) for i in idx])
    stats = {}
    for name in ("audio", "text"):
        x = getattr(feats, name)[rows]
        stats[f"{name}_mean"] = torch.from_numpy(x.mean(axis=0))
        stats[f"{name}_std"] = torch.from_numpy(x.std(axis=0) + 1e-6)
    return stats


def padded(
    feats: DocFeatures, idx: np.ndarray, stats: dict[str, torch.Tensor], device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Documents idx -> standardised audio (B, N, D_a), text (B, N, D_t), mask (B, N)."""
    lengths = feats.offsets[idx + 1] - feats.offsets[idx]
    n = int(lengths.max())
    audio = torch.zeros(len(idx), n, feats.audio.shape[1])
    text = torch.zeros(len(idx), n, feats.text.shape[1])
    mask = torch.zeros(len(idx), n, dtype=torch.bool)
    for row, i in enumerate(idx):
        a, t = feats.doc(int(i))
        audio[row, : len(a)] = (torch.from_numpy(a) - stats["audio_mean"]) / stats["audio_std"]
        text[row, : len(t)] = (torch.from_numpy(t) - stats["text_mean"]) / stats["text_std"]
        mask[row, : len(a)] = True
    return audio.to(device), text.to(device), mask.to(device)


def objective(
    out: dict[str, torch.Tensor], batch: DocumentBatch, terms: list[DocumentLoss]
) -> dict[str, torch.Tensor]:
    """Every registered document loss's weighted terms as `{"*_loss": ...}`, in
    registration order (the caller sums them)."""
    losses: dict[str, torch.Tensor] = {}
    for term in terms:
        losses |= term(out, batch)
    return losses


def fit(
    feats: DocFeatures,
    labels: np.ndarray,
    idx: np.ndarray,
    cfg: HilbertConfig,
    run: FitConfig | None = None,
) -> Fitted:
    """Train on documents `idx` (labels >= 0) with AdamW; deterministic for a given seed."""
    run = run or FitConfig()
    torch.manual_seed(run.seed)
    rng = np.random.default_rng(run.seed)
    stats = fit_stats(feats, idx)
    model = Hilbert(cfg).to(run.device)
    audio, text, mask = padded(feats, idx, stats, run.device)
    y = torch.as_tensor(labels[idx], device=run.device)
    weights = class_weights(y, cfg.n_classes).to(run.device)
    opt = torch.optim.AdamW(model.parameters(), lr=run.lr, weight_decay=run.weight_decay)
    terms = [loss_class(name, DOCUMENT_LOSSES)(c) for name, c in run.losses.items()]
    n_batches = max(1, round(len(idx) / run.batch_size))
    model.train()
    with one_thread():
        for _ in range(run.epochs):
            for b in np.array_split(rng.permutation(len(idx)), n_batches):
                out = model(audio[b], text[b], mask[b])
                loss = sum(objective(out, DocumentBatch(y[b], weights), terms).values())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
    model.eval()
    return Fitted(model, stats)


@torch.no_grad()
@one_thread()
def infer(fitted: Fitted, feats: DocFeatures, idx: np.ndarray, batch: int = 256) -> dict:
    """Class probabilities and document embeddings (z_a, z_t, z_j) for documents idx."""
    fitted.model.eval()
    parts: dict[str, list[np.ndarray]] = {}
    for chunk in np.array_split(idx, max(1, -(-len(idx) // batch))):
        out = fitted.model(*fitted.batch(feats, chunk))
        out["probs"] = out["log_probs"].exp()
        for key in ("probs", "z_a", "z_t", "z_j"):
            parts.setdefault(key, []).append(out[key].cpu().numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def save_checkpoint(fitted: Fitted, out: Path, extra: dict) -> dict[str, Path]:
    """out/model.safetensors (weights + feature statistics) and out/config.json, written
    like every audiotext checkpoint (`checkpoint.write_checkpoint`), kind "hilbert"."""
    tensors = {
        f"model.{k}": v.detach().cpu().contiguous() for k, v in fitted.model.state_dict().items()
    }
    tensors.update({f"stats.{k}": v.contiguous() for k, v in fitted.stats.items()})
    meta = {"kind": "hilbert", "model": fitted.model.cfg.to_dict(), **extra}
    folder = checkpoint.write_checkpoint(Path(out), {"model": tensors}, meta)
    return {"weights": folder / "model.safetensors", "config": folder / "config.json"}


def _read_meta(folder: Path) -> dict:
    try:
        meta = json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"not a HILBERT checkpoint: {exc}", folder) from None
    if isinstance(meta, dict) and meta.get("format") == LEGACY_FORMAT:
        return meta
    return checkpoint.read_config(folder, kind="hilbert")[1]


def load_checkpoint(path: Path, device: str = "cpu") -> tuple[Fitted, dict]:
    """A checkpoint folder (or its model.safetensors) -> (Fitted, config dict); the
    weights are verified against the sha256 in config.json, as for every checkpoint."""
    folder = Path(path).parent if Path(path).is_file() else Path(path)
    config = _read_meta(folder)
    tensors = checkpoint.read_weights(folder, config)
    try:
        options = {k: v for k, v in config["model"].items() if k not in LEGACY_LOSS_KEYS}
        model = Hilbert(HilbertConfig(**options)).to(device)
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    except (RuntimeError, TypeError, KeyError, ValueError, ConfigError) as exc:
        raise CheckpointError(f"weights do not match config: {str(exc)[:200]}", folder) from None
    stats = {k[6:]: v for k, v in tensors.items() if k.startswith("stats.")}
    model.eval()
    return Fitted(model, stats), config


def pick_label(feats: DocFeatures, label: str) -> np.ndarray:
    """The named label column; a single-label collection answers to any name."""
    if label not in feats.labels and len(feats.labels) == 1:
        label = next(iter(feats.labels))
    if label not in feats.labels:
        raise ConfigError(f"no label {label!r}; have {sorted(feats.labels) or 'none'}")
    return feats.labels[label]


def train_from_cli(
    corpus: Path,
    out: Path,
    *,
    preset: str = PRESET,
    overrides: list[str] | tuple[str, ...] = (),
    seed: int | None = None,
    epochs: int | None = None,
    device: str = "cpu",
    label: str = "binary",
    audio: tuple[str, ...] = ("oww", "prosody"),
    audio_checkpoint: Path | None = None,
) -> dict:
    """Train on every labelled document of `corpus` (folder or features .npz) and save.
    The configs come from `preset` and `overrides` (`hilbert_config`); `seed` and
    `epochs`, when given, win over both, as --seed and --epochs do for the other models."""
    start = time.perf_counter()
    tail = [f"train.{k}={v}" for k, v in (("seed", seed), ("epochs", epochs)) if v is not None]
    options, run = hilbert_config(preset, [*overrides, *tail])
    feats = features_for(Path(corpus), audio, audio_checkpoint)
    y = pick_label(feats, label)
    idx = np.flatnonzero(y >= 0)
    if len(np.unique(y[idx])) < 2:
        raise ConfigError(f"label {label!r} needs at least two classes among labelled documents")
    dims = {"audio_dim": feats.audio.shape[1], "text_dim": feats.text.shape[1]}
    cfg = replace(options, **dims, n_classes=int(y.max()) + 1)
    fitted = fit(feats, y, idx, cfg, replace(run, device=device))
    files = save_checkpoint(
        fitted,
        Path(out),
        {
            "train": to_dict(run),
            "label": label,
            "features": feats.info,
            "audio": list(audio),
            "seed": run.seed,
            "epochs": run.epochs,
        },
    )
    return {
        "checkpoint": str(files["weights"]),
        "config": str(files["config"]),
        "documents": len(idx),
        "label": label,
        "seconds": round(time.perf_counter() - start, 2),
    }
