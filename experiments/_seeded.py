"""What the multi-seed experiment scripts share: their common arguments, the corpus splits,
and mean ± sd across seeds."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from audiotext_cli.data.manifest import read_manifest


def parser(doc: str, work: str) -> argparse.ArgumentParser:
    """--corpus, --seeds, --epochs, --preset, --work, --device and --results."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--corpus", type=Path, required=True, help="folder with train/val/eval.jsonl")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=12, help="baseline epochs")
    p.add_argument("--preset", default="demo")
    p.add_argument("--work", type=Path, default=Path(work))
    p.add_argument("--device", default="cpu")
    p.add_argument("--results", type=Path, help="also write the section into this markdown file")
    return p


def run_seeds(args: argparse.Namespace, run_seed: Callable) -> tuple[dict, list[dict]]:
    """The corpus splits, and `run_seed(args, seed, splits)` for seeds 0..args.seeds-1."""
    data = {s: read_manifest(args.corpus / f"{s}.jsonl") for s in ("train", "val", "eval")}
    return data, [run_seed(args, seed, data) for seed in range(args.seeds)]


def mean_sd(values: list[float]) -> str:
    """'m ± sd' over the finite values (one value: just it; none: n/a)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "n/a"
    return f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if v.size > 1 else f"{v[0]:.3f}"
