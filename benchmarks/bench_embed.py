"""Throughput of `embed folder` (decode workers + batched model + store commits) against
decode + log-mel alone, in files/s and seconds of audio per wall second.

Without --model the fake embedder from tests/ stands in for the model, so the row measures
the job's own overhead (walk, hashing, process pool, store writes); with --model CKPT it
is the real end-to-end number. For a pretrained-tower model (aisfx, student) each
end-to-end run gets its own empty feature cache in the temporary folder (the shared cache
is never touched), so it pays for the tower; a last run into a new store shows what a warm
cache (features from training or an earlier job) costs. The summary table's
embed_audio_<tower> rows are bench_towers.py's; this script writes only its own section.

    .venv/bin/python benchmarks/bench_embed.py [--files 32] [--seconds 10] [--workers 2]
        [--model CKPT]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "tests"))
from _report import markdown_table, write_section  # noqa: E402

from audiotext_cli.audio.io import TARGET_SR, load_audio  # noqa: E402
from audiotext_cli.index.folder import embed_folder  # noqa: E402

SR_IN = 44100


def make_files(folder: Path, n: int, seconds: float) -> list[Path]:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * SR_IN)) / SR_IN
    paths = []
    for i in range(n):
        wave = 0.3 * np.sin(2 * np.pi * (220 + 40 * i) * t) + 0.05 * rng.standard_normal(t.size)
        paths.append(folder / f"clip{i:03d}.wav")
        sf.write(paths[-1], wave.astype(np.float32), SR_IN, subtype="PCM_16")
    return paths


def frontend_only(files: list[Path]) -> float:
    """Decode + resample + log-mel in this process, one file at a time. (torch is imported
    here, not at the top, so spawned decoder processes do not pay for it.)"""
    import torch

    from audiotext_cli.audio.features import LogMel

    logmel = LogMel()
    start = time.perf_counter()
    with torch.inference_mode():
        for path in files:
            logmel(torch.from_numpy(load_audio(path, TARGET_SR))[None])
    return time.perf_counter() - start


def tower_only(files: list[Path], tower) -> float:
    """The frozen tower's front end + network on decoded waveforms (decode not timed)."""
    waves = [load_audio(p, tower.sample_rate) for p in files]
    start = time.perf_counter()
    for i in range(0, len(waves), 16):
        tower.embed_blocks(waves[i : i + 16])
    return time.perf_counter() - start


def fresh_cache(embedder, root: Path) -> None:
    """Point a tower model's feature cache at an empty private folder (never the shared one)."""
    tower = getattr(embedder, "tower", None)
    if tower is not None:
        from audiotext_cli.towers.cache import FeatureCache

        embedder.features = FeatureCache(tower, root=root)


def folder_job(folder: Path, embedder, out: Path, workers: int, batch: int, cold: bool = True):
    """Wall seconds and report of one `embed_folder` run (a cold private cache by default)."""
    if cold:
        fresh_cache(embedder, out.with_name(out.name + ".features"))
    start = time.perf_counter()
    report = embed_folder(embedder, folder, out, workers=workers, batch_size=batch)
    return time.perf_counter() - start, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model", help="checkpoint; default: the fake embedder from tests/")
    args = parser.parse_args()

    if args.model:
        from audiotext_cli.index.search import load_model

        embedder, label = load_model(args.model), f"embed folder, model {args.model}"
    else:
        from fake_embedder import FakeEmbedder

        embedder, label = FakeEmbedder(), "embed folder, fake embedder (job overhead)"

    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp) / "audio", args.files, args.seconds)
        audio_s = args.files * args.seconds
        frontend_only(files[:2])  # warm page cache and torch kernels
        rows = [["decode + resample + 16 kHz log-mel (1 process)", frontend_only(files)]]
        tower = getattr(embedder, "tower", None)
        if tower is not None:
            rows.append(
                [f"{tower.name} tower alone (front end + network)", tower_only(files, tower)]
            )
        for workers in sorted({0, args.workers}):
            out = Path(tmp) / f"emb{workers}"
            seconds, report = folder_job(files[0].parent, embedder, out, workers, args.batch_size)
            assert report.embedded == args.files, report
            rows.append([f"{label}, workers={workers}", seconds])
        if tower is not None:
            start = time.perf_counter()
            report = embed_folder(
                embedder, files[0].parent, Path(tmp) / "warm", workers=args.workers
            )
            rows.append(["same files, new store, features cached", time.perf_counter() - start])
        rerun, report = folder_job(
            files[0].parent, embedder, out, args.workers, args.batch_size, cold=False
        )
        assert report.skipped == args.files, report
    table = markdown_table(
        ["stage", "wall (s)", "files/s", "x real time"],
        [[name, s, args.files / s, audio_s / s] for name, s in rows]
        + [["re-run, nothing changed (all skipped)", rerun, args.files / rerun, "-"]],
    )
    body = (
        f"## Folder embedding ({args.files} x {args.seconds:g} s 44.1 kHz WAV, "
        f"batch {args.batch_size})\n\n{table}\n\n"
        f"Load average at the end: {os.getloadavg()[0]:.1f} (shared box: compare rows, not runs).\n"
    )
    print(body)
    tower_name = getattr(getattr(embedder, "tower", None), "name", "cnn")
    write_section(f"embed_folder_{tower_name}" if args.model else "embed_folder", body)


if __name__ == "__main__":
    main()
