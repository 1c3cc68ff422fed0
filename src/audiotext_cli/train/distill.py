"""Distil a teacher tower's block embeddings into the student (`towers/student.py`).

Targets are the teacher's per-block embeddings from the feature cache (`towers/cache.py`),
computed only for files not cached yet, so a corpus that trained heads distils without
running the teacher. Any audio works, labelled or not: only the waveform and the teacher's
blocks are used. Loss (docs/models.md, "Distilled student"), over the N blocks of a batch,
with teacher blocks y standardised per dimension (mean mu, spread sigma over the training
blocks, stored in the student so it predicts in the teacher's space) and student outputs z:

    L = mean_{i,d} (z_id - (y_id - mu_d) / sigma_d)^2
        + lam * 1/2 [CE(S, I) + CE(S^T, I)],   S_ij = <z_i, y~_j> / (|z_i| |y~_j| tau)

the standardised MSE (each teacher dimension counts the same, whatever its scale) plus a
symmetric InfoNCE between student and teacher blocks of the batch (a block must be nearer
its own teacher block than the other blocks': the relations retrieval uses).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.audio.io import load_audio
from audiotext_cli.errors import AudiotextError
from audiotext_cli.towers import Tower
from audiotext_cli.towers.cache import FeatureCache
from audiotext_cli.towers.student import (
    SAMPLE_RATE,
    StudentConfig,
    StudentFrontend,
    StudentNet,
    block_ranges,
    n_params,
    pool_steps,
    save_student,
)
from audiotext_cli.train.schedule import warmup_cosine


@dataclass
class DistillConfig:
    epochs: int = 20
    batch_files: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 0.5
    nce_weight: float = 0.1  # lam
    tau: float = 0.1
    seed: int = 0
    max_minutes: float = 0.0  # > 0: stop after the epoch that passes this wall time

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_files < 2 or not self.lr > 0 or not self.tau > 0:
            raise AudiotextError(f"distill: bad settings {self}")


@dataclass
class DistillData:
    """Clips' log-mel frames, the teacher's standardised-to-be blocks and block ranges."""

    logmel: list[Tensor]  # (T_i, 64)
    targets: list[Tensor]  # (n_blocks_i, dim) teacher blocks
    ranges: list[list[tuple[int, int]]]
    skipped: int = 0  # files whose teacher block count differs from the student's layout

    def __len__(self) -> int:
        return len(self.logmel)


TRIM_EVERY = 16  # files decoded between heap trims (`release_free_heap`)


def release_free_heap() -> None:
    """Hand glibc's free heap pages back to the system (malloc_trim; no-op elsewhere).

    Each file's decode and front end free MBs of temporaries between the small log-mel
    tensors kept for training; once glibc's dynamic mmap threshold has risen, those
    temporaries come from the heap and the kept tensors pin it, so RSS grew ~0.8 MB per
    file (18 GB for an 8,800-clip corpus, killed by the OOM killer) against 0.02 MB kept.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def distill_data(
    paths: Sequence[str | Path],
    teacher: Tower,
    progress: Callable[[int], None] | None = None,
) -> DistillData:
    """Decode every file at 16 kHz once and take its teacher blocks (cached or computed)."""
    targets = FeatureCache(teacher).blocks_for(paths, progress)
    frontend = StudentFrontend()
    data = DistillData([], [], [])
    with torch.inference_mode():
        for n, (path, blocks) in enumerate(zip(paths, targets, strict=True)):
            if n % TRIM_EVERY == TRIM_EVERY - 1:
                release_free_heap()
            wave = load_audio(path, SAMPLE_RATE)
            ranges = block_ranges(len(wave))
            if len(ranges) != len(blocks):
                data.skipped += 1
                continue
            data.logmel.append(frontend(torch.from_numpy(wave)).clone())
            data.targets.append(torch.from_numpy(np.ascontiguousarray(blocks, np.float32)))
            data.ranges.append(ranges)
    return data


def distill_loss(z: Tensor, y: Tensor, cfg: DistillConfig) -> dict[str, Tensor]:
    """Standardised MSE and symmetric student-teacher InfoNCE over a batch's blocks."""
    mse = (z - y).pow(2).mean()
    logits = F.normalize(z, dim=-1) @ F.normalize(y, dim=-1).T / cfg.tau
    labels = torch.arange(len(z), device=z.device)
    nce = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
    return {"mse": mse, "nce": nce, "loss": mse + cfg.nce_weight * nce}


def forward_blocks(net: StudentNet, data: DistillData, idx: Sequence[int]) -> Tensor:
    """The student's standardised block predictions for clips `idx`, as one padded batch
    (masked: the same function as each clip alone)."""
    mels = [data.logmel[i] for i in idx]
    frames = torch.tensor([len(m) for m in mels])
    batch = torch.nn.utils.rnn.pad_sequence(mels, batch_first=True)
    steps = net.steps(batch, frames)
    pooled = torch.cat([pool_steps(steps[j], data.ranges[i]) for j, i in enumerate(idx)])
    return net.block_head(pooled)


def standardise(net: StudentNet, data: DistillData) -> None:
    """Set the student's input and output statistics from the training clips."""
    frames = torch.cat(data.logmel)
    blocks = torch.cat(data.targets)
    net.in_stats.copy_(torch.stack([frames.mean(), frames.std()]))
    std = blocks.std(0)
    net.out_mean.copy_(blocks.mean(0))
    net.out_std.copy_(torch.clamp(std, min=max(1e-3, 0.01 * float(std.mean()))))


def _targets(net: StudentNet, data: DistillData, idx: Sequence[int]) -> Tensor:
    return (torch.cat([data.targets[i] for i in idx]) - net.out_mean) / net.out_std


def _batches(data: DistillData, batch: int, gen: torch.Generator) -> list[list[int]]:
    """Shuffled batches of clips of similar length (little padding): shuffle, sort each run
    of 16 batches by length, cut, shuffle the batches."""
    order = torch.randperm(len(data), generator=gen).tolist()
    out = []
    for start in range(0, len(order), 16 * batch):
        run = sorted(order[start : start + 16 * batch], key=lambda i: len(data.logmel[i]))
        out += [run[k : k + batch] for k in range(0, len(run), batch)]
    perm = torch.randperm(len(out), generator=gen).tolist()
    return [out[p] for p in perm if len(out[p]) > 1]


@torch.no_grad()
def evaluate_student(net: StudentNet, data: DistillData, cfg: DistillConfig) -> dict[str, float]:
    """Mean losses over fixed batches, and the mean cosine of student to teacher blocks in
    the teacher's own space (what the heads see)."""
    net.eval()
    sums = {"mse": 0.0, "nce": 0.0, "cosine": 0.0}
    n_batches, n_blocks = 0, 0
    for start in range(0, len(data), cfg.batch_files):
        idx = list(range(start, min(start + cfg.batch_files, len(data))))
        z, y = forward_blocks(net, data, idx), _targets(net, data, idx)
        losses = distill_loss(z, y, cfg)
        sums["mse"] += float(losses["mse"]) * len(z)
        sums["nce"] += float(losses["nce"])
        teacher = torch.cat([data.targets[i] for i in idx])
        sums["cosine"] += float(F.cosine_similarity(net.to_teacher(z), teacher).sum())
        n_batches, n_blocks = n_batches + 1, n_blocks + len(z)
    return {
        "mse": sums["mse"] / max(1, n_blocks),
        "nce": sums["nce"] / max(1, n_batches),
        "cosine": sums["cosine"] / max(1, n_blocks),
    }


@dataclass
class DistillResult:
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    params: int = 0


def distill(
    train: DistillData,
    val: DistillData | None,
    out: Path,
    cfg: DistillConfig,
    student: StudentConfig | None = None,
    teacher_id: str = "",
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> DistillResult:
    """Train a student on `train`; the epoch with the lowest validation MSE (training MSE
    without `val`) is saved to `out` as a student checkpoint."""
    if len(train) < 2:
        raise AudiotextError("distill: need at least 2 usable training clips")
    torch.manual_seed(cfg.seed)
    net = StudentNet(student or StudentConfig())
    standardise(net, train)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_files)
    total, warmup = cfg.epochs * steps_per_epoch, int(cfg.warmup_epochs * steps_per_epoch)
    result, best, step, started = DistillResult(params=n_params(net)), math.inf, 0, time.time()
    for epoch in range(1, cfg.epochs + 1):
        net.train()
        seen = {"mse": 0.0, "nce": 0.0}
        batches = _batches(train, cfg.batch_files, gen)
        for idx in batches:
            for group in opt.param_groups:
                group["lr"] = warmup_cosine(step, total, max(1, warmup), cfg.lr)
            losses = distill_loss(forward_blocks(net, train, idx), _targets(net, train, idx), cfg)
            opt.zero_grad(set_to_none=True)
            losses["loss"].backward()
            opt.step()
            step += 1
            for k in seen:
                seen[k] += float(losses[k].detach()) / len(batches)
        scores = evaluate_student(net, val, cfg) if val is not None and len(val) else None
        record = {"epoch": epoch, "train": seen, "val": scores, "seconds": time.time() - started}
        result.history.append(record)
        score = scores["mse"] if scores else seen["mse"]
        if score < best:
            best, result.best_epoch = score, epoch
            meta = {"teacher": teacher_id, "distill": asdict(cfg), "best": record}
            save_student(out, net, meta | {"params": result.params})
        if on_epoch:
            on_epoch(record)
        if cfg.max_minutes and time.time() - started > 60 * cfg.max_minutes:
            break
    return result


VAL_EVERY = 10  # a folder's validation files: every 10th in sorted order


def distill_sources(
    data: Path | None, folder: Path | None, default_corpus: Path
) -> tuple[list[str], list[str]]:
    """(training, validation) audio paths: a manifest (validation: the val.jsonl beside it,
    if any), a corpus folder (its train.jsonl and val.jsonl), or a folder of audio (every
    VAL_EVERY-th file held out). Captions are never read: unlabelled audio is enough."""
    from audiotext_cli.data.manifest import read_manifest

    if folder is not None:
        from audiotext_cli.index.folder import list_files

        files = [str(p) for p in list_files(folder)]
        if len(files) < 2:
            raise AudiotextError(f"distill: found {len(files)} audio files in {folder}")
        held = set(range(VAL_EVERY - 1, len(files), VAL_EVERY))
        return [f for i, f in enumerate(files) if i not in held], [files[i] for i in held]
    source = data if data is not None else default_corpus
    train_manifest = source / "train.jsonl" if source.is_dir() else source
    val_manifest = train_manifest.with_name("val.jsonl")
    train = [r.audio for r in read_manifest(train_manifest)]
    val = [r.audio for r in read_manifest(val_manifest)] if val_manifest.is_file() else []
    return train, val if val_manifest != train_manifest else []
