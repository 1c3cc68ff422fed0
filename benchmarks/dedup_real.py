"""Dedup precision/recall with a real model on real recordings: planted copies of real dog
barks against other real dog barks that merely sound alike (docs/library.md).

    .venv/bin/python benchmarks/dedup_real.py [--model CKPT] [--corpus DIR]

From the corpus (`data build`; its manifests name each clip's animal), four dog barks are
each planted as a group of six: the clip upsampled to a 48 kHz WAV (the "original"), and
from it FLAC, MP3, resampled 48k -> 44.1 kHz, -6 dB, +100 ms of silence. The distractors are
every other dog, wolf and fox recording of the corpus, as stored (different barks, several
from the same library or the same recording session). Everything is embedded with the
model (default: the demo's), and `find_duplicates` is scored pair by pair against the
planted groups, at a sweep of thresholds.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from audiotext_cli.index.folder import embed_folder
from audiotext_cli.index.store import EmbeddingStore
from audiotext_cli.library.dedup import DEFAULT_THRESHOLD, find_duplicates, pair_scores
from audiotext_cli.paths import home

PLANTED = ["scratch/animal/Dog1", "gcompris/farm_animals/dog", "gamesfx/xemacs21/bark",
           "zeroad/voice/global/civ_dog_bark"]  # fmt: skip
DISTRACTORS = [
    "scratch/animal/Dog2", "ovos/animals/dog", "gcompris/memory_sound/LRBark_1_LA_cut",
    "gcompris/memory_sound/LRBark_3_LA_cut", "qabcs/noises/dog", "gamesfx/mate/bark",
    "gamesfx/etw/dog", "gamesfx/trophy/dog", "gamesfx/scorched3d/dog", "gamesfx/scorched3d/dog2",
    "gamesfx/scorched3d/dog3", "tuxpaint/animals/mammals/dogs/dog", "gamesfx/lugaru/Bark",
    "gamesfx/lugaru/Bark2", "gamesfx/lugaru/Bark3", "gamesfx/lugaru/BarkGrowl",
    "tuxpaint/animals/mammals/dogs/fox",
]  # fmt: skip
THRESHOLDS = (0.9, 0.95, 0.97, 0.98, 0.99, 0.995)


def plant(wave: np.ndarray, sr: int, folder: Path) -> list[Path]:
    """The clip as a 48 kHz WAV and its five re-exports."""
    folder.mkdir(parents=True)
    wave48 = soxr.resample(wave, sr, 48000).astype(np.float32)
    wave48 *= min(1.0, 0.7 / max(1e-9, float(np.abs(wave48).max())))  # headroom for MP3
    pad = np.concatenate([wave48, np.zeros(4800, np.float32)])
    files = {
        "original.wav": (wave48, 48000),
        "copy.flac": (wave48, 48000),
        "copy.mp3": (wave48, 48000),
        "resampled_44k.wav": (soxr.resample(wave48, 48000, 44100), 44100),
        "minus6db.wav": (wave48 * 10 ** (-6 / 20), 48000),
        "padded_100ms.wav": (pad, 48000),
    }
    for name, (data, rate) in files.items():
        sf.write(folder / name, data, rate)
    return [folder / name for name in files]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(home() / "demo" / "v5" / "clap" / "best"))
    parser.add_argument("--corpus", default=str(home() / "corpus"))
    args = parser.parse_args()
    from audiotext_cli.models import load_embedder

    embedder = load_embedder(args.model)
    audio = Path(args.corpus) / "audio"
    with tempfile.TemporaryDirectory() as tmp:
        lib = Path(tmp) / "library"
        truth = []
        for clip in PLANTED:
            wave, sr = sf.read(audio / f"{clip}.flac", dtype="float32", always_2d=True)
            folder = lib / "planted" / clip.replace("/", "_")
            truth.append({str(p.relative_to(lib)) for p in plant(wave.mean(1), sr, folder)})
        for clip in DISTRACTORS:
            target = lib / "other" / f"{clip.replace('/', '_')}.flac"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((audio / f"{clip}.flac").read_bytes())
        store = Path(tmp) / "emb"
        embed_folder(embedder, lib, store, workers=0)
        ids, emb, _ = EmbeddingStore.open(store).load()
        report(ids, emb.mean, truth, store, embedder.model_id, args.model)


def report(ids, mean, truth, store, model_id, model) -> None:
    sims = mean @ mean.T
    group_of = {x: g for g, members in enumerate(truth) for x in members}
    inside = [sims[i, j] for i, a in enumerate(ids) for j, b in enumerate(ids)
              if i < j and a in group_of and group_of.get(b) == group_of[a]]  # fmt: skip
    across = [(sims[i, j], a, b) for i, a in enumerate(ids) for j, b in enumerate(ids)
              if i < j and group_of.get(a, -1 - i) != group_of.get(b, -1 - j)]  # fmt: skip
    top = sorted(across, reverse=True)[:3]
    print(f"model {model_id} ({model}); {len(ids)} clips, {len(truth)} planted groups of 6")
    print(f"cosine inside planted groups: min {min(inside):.4f}, median {np.median(inside):.4f}")
    print("highest cosine between different recordings: "
          + "; ".join(f"{s:.4f} ({a} ~ {b})" for s, a, b in top))  # fmt: skip
    variants = sorted({Path(x).name for x in group_of if not x.endswith("original.wav")})
    worst = {v: min(sims[ids.index(str(Path(x).with_name("original.wav"))), ids.index(x)]
                    for x in group_of if Path(x).name == v) for v in variants}  # fmt: skip
    print("lowest cosine to the original, per variant: "
          + ", ".join(f"{v} {c:.4f}" for v, c in worst.items()))  # fmt: skip
    print("\n| threshold | pairs found | precision | recall |\n|---|---|---|---|")
    for threshold in sorted({*THRESHOLDS, DEFAULT_THRESHOLD}):
        s = pair_scores(find_duplicates(store, threshold), truth)
        mark = " (default)" if threshold == DEFAULT_THRESHOLD else ""
        print(f"| {threshold}{mark} | {s['pairs_found']} | {s['precision']:.2f} | "
              f"{s['recall']:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
