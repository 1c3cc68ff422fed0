"""A tiny generated corpus in the manifest format: three 'instruments' at several pitches.

Sine, square and noise bursts are easy enough that a tiny model learns them in seconds,
and their captions follow the real 4-level scheme (general -> specific).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from audiotext_cli.data.manifest import ClipRecord, write_manifest

SR = 16000
KINDS = {
    "sine": ("music", "tonal", "a sine tone"),
    "square": ("music", "tonal", "a square wave"),
    "noise": ("noise", "broadband", "a noise burst"),
}


def _wave(kind: str, freq: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    if kind == "sine":
        x = np.sin(2 * np.pi * freq * t)
    elif kind == "square":
        x = np.sign(np.sin(2 * np.pi * freq * t))
    else:
        x = rng.standard_normal(t.size)
    env = np.minimum(1, np.minimum(t, t[::-1]) * 50)
    return (0.3 * x * env).astype(np.float32)


def make_corpus(
    root: Path, pitches: tuple[float, ...] = (220, 330, 440, 550, 660, 880), seed: int = 0
) -> dict[str, Path]:
    """Write audio and train/val/eval manifests under `root`; returns the manifest paths."""
    rng = np.random.default_rng(seed)
    audio = root / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    splits: dict[str, list[ClipRecord]] = {"train": [], "val": [], "eval": []}
    for kind, (l1, l2, l3) in KINDS.items():
        for i, freq in enumerate(pitches):
            for rep, seconds in enumerate((0.6, 1.3, 5.0)):
                split = (
                    "eval" if i == len(pitches) - 1 else ("val" if rep == 2 and i == 0 else "train")
                )
                cid = f"{kind}-{int(freq)}-{rep}"
                path = audio / f"{cid}.flac"
                sf.write(path, _wave(kind, freq, seconds, rng), SR)
                detail = (
                    f"{l3} at {int(freq)} Hz"
                    if kind != "noise"
                    else f"{l3} lasting {seconds} seconds"
                )
                captions = [
                    {"level": 1, "text": l1},
                    {"level": 1, "text": f"the sound of {l1}"},
                    {"level": 2, "text": f"a {l2} sound"},
                    {"level": 3, "text": l3},
                    {"level": 4, "text": detail},
                ]
                splits[split].append(
                    ClipRecord(
                        cid,
                        str(path),
                        seconds,
                        SR,
                        "synthetic",
                        split,
                        captions,
                        [l1, l2, l3],
                        "CC0",
                    )
                )
    out = {}
    for split, records in splits.items():
        out[split] = root / f"{split}.jsonl"
        write_manifest(out[split], records)
    return out


def tiny_train_args(corpus: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """`audiotext train` arguments for the tiny preset on a generated corpus."""
    return [
        "train",
        "--preset",
        "tiny",
        "--train",
        str(corpus["train"]),
        "--val",
        str(corpus["val"]),
        "--out",
        str(out),
        *extra,
    ]
