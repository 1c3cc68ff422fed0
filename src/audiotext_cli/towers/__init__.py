"""Frozen pretrained audio towers: front end + network, and their per-file feature cache.

A tower turns a waveform at its own rate into block embeddings (`embed_blocks`); the
trainable audio head sits on top of them in `models/` (`models.block_pool.BlockPool`).
Features are cached per (file content, tower) in `cache.py`, so training, evaluation and
library indexing compute each file once. `TOWERS` is what `--audio-tower` accepts besides
`cnn` (the 16 kHz log-mel CNN trained from scratch, which lives inside the model) and
`student:DIR`, a student distilled from a tower (`student.py`, `audiotext distill`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Tower(Protocol):
    name: str
    tower_id: str  # names weights and precision: the feature cache's key
    sample_rate: int
    dim: int
    # whether `embed folder` fills the feature cache: worth it for a slow tower, whose
    # features a re-embedding with other heads reuses; not where a cache write costs
    # about what recomputing does (the student)
    caches_jobs: bool

    def embed_blocks(self, waves: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Mono float32 waveforms at `sample_rate` -> one (n_blocks_i, dim) array each."""
        ...


def pool_blocks(blocks: np.ndarray) -> np.ndarray:
    """A clip's tower feature: the mean of its block embeddings (each block counts once)."""
    return blocks.mean(axis=0).astype(np.float32)


@dataclass(frozen=True)
class TowerSpec:
    """What a model needs to know about a tower without loading its weights."""

    dim: int
    sample_rate: int
    blocks: int  # conv blocks: `model.tower_trainable` unfreezes the last 1..blocks


TOWERS = {"aisfx": TowerSpec(dim=512, sample_rate=44100, blocks=4)}


def tower_spec(name: str) -> TowerSpec | None:
    """The spec of a named tower or of a saved student (`student:DIR`, read from its
    config.json without loading weights); None for `cnn` or an unknown name."""
    if name in TOWERS:
        return TOWERS[name]
    from audiotext_cli.towers.student import SAMPLE_RATE, read_student_config, student_dir

    folder = student_dir(name)
    if folder is None:
        return None
    meta = read_student_config(folder)
    return TowerSpec(dim=int(meta["student"]["dim"]), sample_rate=SAMPLE_RATE, blocks=0)


def load_tower(name: str, device: str = "cpu", tail=None) -> Tower:
    """The named tower with its (hash-checked) weights, frozen, in eval mode; with `tail`
    (a fine-tuned checkpoint's `models.tower_tail.TowerTail`) its last blocks are those."""
    if name == "aisfx":
        from audiotext_cli.towers.aisfx import AisfxTower

        return AisfxTower(device=device, tail=tail)
    if name.startswith("student:") and tail is None:
        from audiotext_cli.towers.student import StudentTower, student_dir

        return StudentTower(student_dir(name), device=device)
    raise ValueError(f"unknown audio tower {name!r} (known: cnn, {', '.join(TOWERS)})")
