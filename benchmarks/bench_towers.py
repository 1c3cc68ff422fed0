"""Audio embedding speed per tower (cnn, aisfx, student) against its FLOP floor.

For each tower, in one run, in x real time (seconds of audio per wall second):

- decode + front end alone: `load_audio` at the tower's rate and its log-mel, one process;
- the tower alone: front end + network on decoded waveforms (no decode, no job);
- `embed folder` end to end (walk, hash, decode workers, tower, heads, feature cache,
  store commits; the feature cache starts empty) over many short files and over one long
  file of the same total duration: the per-second cost of a library of short clips;
- the FLOP floor: the network's FLOPs per audio second (`FlopCounterMode`, on 60 s of
  audio so padded passes are amortised) against the GEMM rate torch reaches in the same
  run (fp32 sgemm, and bf16 for a tower that runs in bf16).

Weights do not change the work, so the CNN row uses an untrained model of the `demo`
preset when no CNN checkpoint is given (and the student row an untrained default-size
student when its default run is missing); the aisfx row needs a trained model (default:
its results run under $AUDIOTEXT_HOME). Feature caches go to a temporary folder, never the
shared one. torch is imported inside the functions, never at the top: spawned decoder
workers re-import this module, and must not pay for torch (as `audiotext` does not).

    .venv/bin/python benchmarks/bench_towers.py [--files 400] [--seconds 1.5] [--workers 2]
        [--cnn CKPT] [--aisfx CKPT] [--student CKPT] [--towers cnn aisfx student]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
from _report import markdown_table, summary_row, write_section  # noqa: E402
from bench_embed import fresh_cache  # noqa: E402

from audiotext_cli.audio.io import load_audio  # noqa: E402
from audiotext_cli.index.folder import embed_folder  # noqa: E402
from audiotext_cli.paths import cache_dir  # noqa: E402

SR_IN = 44100
RUNS = cache_dir("results-runs")


def write_wave(path: Path, seconds: float, seed: int) -> None:
    """A 44.1 kHz PCM_16 file: a tone with noise, its pitch and level set by `seed`."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR_IN)) / SR_IN
    tone = np.sin(2 * np.pi * (110 + 37 * (seed % 40)) * t) * (0.1 + 0.4 * rng.random())
    sf.write(path, (tone + 0.05 * rng.standard_normal(t.size)).astype(np.float32), SR_IN, "PCM_16")


def library_lengths(n: int, seconds: float) -> np.ndarray:
    """Short-file durations spread evenly over 0.4..1.6x their mean `seconds` (a sound
    library's clips are of many lengths, which is what batching short clips must handle)."""
    spread = 0.4 + 1.2 * (np.arange(n) + 0.5) / n
    return np.random.default_rng(1).permutation(seconds * spread)


def make_library(folder: Path, lengths: np.ndarray) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"clip{i:05d}.wav" for i in range(len(lengths))]
    for i, (path, seconds) in enumerate(zip(paths, lengths, strict=True)):
        write_wave(path, float(seconds), i)
    return paths


def gemm_gflops(dtype: str, n: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of an n x n x n matmul ("float32" or "bfloat16") at the current torch
    thread count."""
    import torch

    dtype = getattr(torch, dtype)
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def timed(fn: Callable[[], object], repeats: int = 2) -> float:
    """Best wall seconds of `fn` over `repeats` calls (after one warm-up call)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


class Subject:
    """One tower's embedder and the three pieces the benchmark times separately."""

    def __init__(self, name: str, embedder, note: str) -> None:
        self.name, self.embedder, self.note = name, embedder, note
        self.tower = getattr(embedder, "tower", None)
        self.sr = embedder.sample_rate

    def frontend(self, waves: list[np.ndarray]) -> None:
        import torch

        with torch.inference_mode():
            if self.tower is None:
                from audiotext_cli.audio.io import frame_windows

                for w in waves:
                    windows, _ = frame_windows(w, self.sr, self.embedder.model.cfg.window_seconds)
                    self.embedder.model.logmel(torch.from_numpy(windows))
            elif self.name == "aisfx":
                for w in waves:
                    self.tower.logmel_blocks(w)
            else:
                self.tower.frontend.many(waves)

    def network(self, waves: list[np.ndarray]) -> None:
        """Front end + network (the tower's blocks; the CNN's window embeddings)."""
        if self.tower is not None:
            self.tower.embed_blocks(waves)
        else:
            self.embedder.embed_waveforms(waves)

    def flops_per_second(self, seconds: float = 60.0) -> float:
        import torch
        from torch.utils.flop_counter import FlopCounterMode

        wave = np.random.default_rng(0).standard_normal(int(seconds * self.sr)).astype(np.float32)
        with FlopCounterMode(display=False) as counter, torch.inference_mode():
            self.network([0.1 * wave])
        return counter.get_total_flops() / seconds

    @property
    def bf16(self) -> bool:
        return getattr(self.tower, "precision", "fp32") == "bf16"

    def fresh_cache(self, root: Path) -> None:
        """Point the feature cache at an empty folder (end-to-end runs pay for the tower)."""
        fresh_cache(self.embedder, root)


def load_subject(name: str, ckpt: str | None, tmp: Path) -> Subject | str:
    """The tower's embedder, or why it is skipped. Without a checkpoint the CNN, and the
    student when its default run is missing, are untrained (the same work: speed only)."""
    from audiotext_cli.models.inference import load_embedder

    if name == "cnn" and ckpt is None:
        return untrained_subject(name, tmp)
    default = {"aisfx": "clap-aisfx-s0", "student": "clap-student-d8-s0"}.get(name)
    path = Path(ckpt) if ckpt else RUNS / str(default) / "best"
    if (path / "config.json").is_file():
        return Subject(name, load_embedder(path), str(path))
    if name == "student" and ckpt is None:
        return untrained_subject(name, tmp)
    return f"no checkpoint at {path}"


def untrained_subject(name: str, tmp: Path) -> Subject:
    """An untrained model of the `demo` preset (cnn), or with heads on an untrained
    default-size student saved under `tmp` (student)."""
    import torch

    from audiotext_cli.models.config import ModelConfig, load_preset
    from audiotext_cli.models.inference import TrainedEmbedder
    from audiotext_cli.models.model import AudioTextModel

    torch.manual_seed(0)
    if name == "cnn":
        model = AudioTextModel(load_preset("demo")[0])
        embedder = TrainedEmbedder(model, "cnn-untrained", "preset demo")
        return Subject(name, embedder, "preset demo, untrained weights (speed only)")
    from audiotext_cli.towers import load_tower
    from audiotext_cli.towers.student import StudentConfig, StudentNet, save_student

    folder = save_student(tmp / "student", StudentNet(StudentConfig()).eval(), {"teacher": "aisfx"})
    tower = f"student:{folder}"
    model = AudioTextModel(ModelConfig(audio_tower=tower, sample_rate=16000))
    embedder = TrainedEmbedder(model, "student-untrained", str(folder), tower=load_tower(tower))
    return Subject(name, embedder, "default student, untrained weights and heads (speed only)")


def folder_seconds(
    subject: Subject, folder: Path, out: Path, workers: int, batch_size: int = 16, repeats: int = 2
) -> float:
    """Best wall seconds of `embed folder` into a new store and a new feature cache, of
    `repeats` runs (one run alone puts the process's one-off costs on whichever job runs
    first)."""
    best = float("inf")
    for run in range(repeats):
        store = out.with_name(f"{out.name}-{run}")
        subject.fresh_cache(store.with_name(store.name + ".features"))
        start = time.perf_counter()
        report = embed_folder(
            subject.embedder, folder, store, workers=workers, batch_size=batch_size
        )
        best = min(best, time.perf_counter() - start)
        assert report.failed == 0 and report.embedded > 0, report
    return best


def measure(subject: Subject, small: list[Path], long: Path, tmp: Path, args, peak: dict) -> dict:
    sr = subject.sr
    small_s = args.files * args.seconds
    waves = [load_audio(p, sr) for p in small]
    long_wave = [load_audio(long, sr)]
    decode = timed(lambda: [load_audio(p, sr) for p in small], 1)
    front = timed(lambda: subject.frontend(waves), 1)
    net_small = timed(lambda: subject.network(waves), 1)
    net_long = timed(lambda: subject.network(long_wave), 1)
    flops = subject.flops_per_second()
    rate = peak["bf16"] if subject.bf16 else peak["fp32"]
    tag = f"{subject.name}-{os.getpid()}"
    e2e_small = folder_seconds(subject, small[0].parent, tmp / f"{tag}-small", args.workers)
    e2e_long = folder_seconds(subject, long.parent, tmp / f"{tag}-long", args.workers)
    e2e_batch = folder_seconds(
        subject, small[0].parent, tmp / f"{tag}-batch", args.workers, args.batch_size
    )
    return {
        "decode": small_s / decode,
        "decode_front": small_s / (decode + front),
        "net_small": small_s / net_small,
        "net_long": small_s / net_long,
        "e2e_small": small_s / e2e_small,
        "e2e_long": small_s / e2e_long,
        "e2e_batch": small_s / e2e_batch,
        "mflops": flops / 1e6,
        "rate": rate,
        "floor": rate * 1e9 / flops,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=400, help="short files in the library")
    parser.add_argument("--seconds", type=float, default=1.5, help="mean short-file length")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--batch-size", type=int, default=64, help="the extra short-files run's --batch-size"
    )
    parser.add_argument("--towers", nargs="+", default=["cnn", "aisfx", "student"])
    for name in ("cnn", "aisfx", "student"):
        parser.add_argument(f"--{name}", help=f"checkpoint of a model on the {name} tower")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    peak = {"fp32": gemm_gflops("float32"), "bf16": gemm_gflops("bfloat16")}
    results, skipped = {}, {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        small = make_library(tmp / "small", library_lengths(args.files, args.seconds))
        (tmp / "long").mkdir()
        long = tmp / "long" / "long.wav"
        write_wave(long, args.files * args.seconds, 0)
        for name in args.towers:
            subject = load_subject(name, getattr(args, name), tmp)
            if isinstance(subject, str):
                skipped[name] = subject
                continue
            results[name] = (subject, measure(subject, small, long, tmp, args, peak))
    load_after = os.getloadavg()[0]
    import torch

    audio = args.files * args.seconds
    rows = []
    for name, (subject, r) in results.items():
        rows.append(
            [
                name,
                f"{r['decode']:.0f} / {r['decode_front']:.0f}",
                f"{r['net_small']:.0f} / {r['net_long']:.0f}",
                f"{r['e2e_small']:.0f} / {r['e2e_long']:.0f}",
                f"{r['e2e_batch']:.0f}",
                f"{r['e2e_long'] / r['e2e_small']:.2f}x",
                f"{r['mflops']:.1f}",
                f"{r['floor']:.0f} ({'bf16' if subject.bf16 else 'fp32'} {r['rate']:.0f} GFLOP/s)",
                f"{r['floor'] / r['net_long']:.1f}x",
            ]
        )
        summary_row(
            f"embed_audio_{name}",
            f"{r['e2e_small']:.0f}x real time ({args.files} files, mean {args.seconds:g} s; "
            f"--batch-size {args.batch_size}: {r['e2e_batch']:.0f}x; one long file "
            f"{r['e2e_long']:.0f}x)",
            f"tower alone {r['net_small']:.0f}x; decode + front end {r['decode_front']:.0f}x",
            f"{r['floor']:.0f}x ({r['mflops']:.1f} MFLOP per audio s at "
            f"{r['rate']:.0f} GFLOP/s {'bf16' if subject.bf16 else 'fp32'})",
            f"{r['e2e_small'] / r['net_small']:.2f}x the tower alone, "
            f"{r['net_long'] / r['floor']:.2f} of floor; short / long files "
            f"{r['e2e_long'] / r['e2e_small']:.2f}x per audio s",
            question=f"embed folder, x real time, {name} tower",
        )
    notes = "".join(f"- {name}: {subject.note}\n" for name, (subject, _) in results.items())
    notes += "".join(f"- {name}: skipped, {why}\n" for name, why in skipped.items())
    body = (
        f"## Audio towers: end to end, alone, and the FLOP floor ({args.files} 44.1 kHz WAV "
        f"of {0.4 * args.seconds:g}-{1.6 * args.seconds:g} s, mean {args.seconds:g} s, and one "
        f"{audio:g} s WAV, workers={args.workers})\n\n"
        'x real time = seconds of audio per wall second; "short / long" pairs are the '
        f"{args.files} short files and the one long file of the same {audio:g} s.\n\n"
        + markdown_table(
            [
                "tower",
                "decode / decode + front end",
                "tower alone: short / long",
                "embed folder: short / long",
                f"short, --batch-size {args.batch_size}",
                "short files cost (per audio s)",
                "MFLOP per audio s",
                "FLOP floor (x real time)",
                "tower alone (long) / floor",
            ],
            rows,
        )
        + f"\n\nGEMM in the same run (2048^3, best of 5, {torch.get_num_threads()} torch "
        f"threads): fp32 "
        f"{peak['fp32']:.0f} GFLOP/s, bf16 {peak['bf16']:.0f} GFLOP/s. The floor counts the "
        "network's matmul and convolution FLOPs only (no FFT, no decode). 1-min load average "
        f"{load_before:.1f} before, {load_after:.1f} after (shared box: compare rows, not "
        "runs).\n\n" + notes
    )
    print(body)
    write_section("embed_towers", body)


if __name__ == "__main__":
    main()
