"""Training throughput (clips/s): the default heads on cached aisfx tower blocks against
running the frozen tower in every step, and the from-scratch CNN (demo preset) against
computing log-mel every step.

    python benchmarks/bench_train.py [--steps 3] [--rounds 3] [--batch 64]

Rows: heads on cached tower blocks (batch 512, 1-3 blocks per clip as in the corpus) and
the tower's own forward per clip (what a step would cost without the cache); our CNN step
(log-mel windows cached once, random 128-frame training crop), the same on whole 4 s
windows, and the naive way (waveform -> log-mel inside every step). Random data: the cost
of a step does not depend on the content.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from _report import markdown_table, summary_row, write_section
from bench_towers import gemm_gflops

from audiotext_cli.models.config import load_preset
from audiotext_cli.models.model import AudioTextModel


def clips_per_second(steps: dict, batch: int, n: int, rounds: int) -> dict[str, float]:
    """Median over `rounds` interleaved rounds (the machine's load drifts; interleaving
    exposes every variant to the same drift)."""
    for step in steps.values():
        step()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            times[name].append(batch * n / (time.perf_counter() - t0))
    return {name: float(np.median(v)) for name, v in times.items()}


TRAIN_CLIPS = 5720  # training split of the default corpus (docs/data.md)


def step_flops(step) -> int:
    """FLOPs of one training step, forward and backward (torch's FlopCounterMode: matmuls
    and convolutions; elementwise work and the optimizer are not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def tower_rows(steps: int, rounds: int) -> tuple[list[list[str]], float, float, float]:
    """(table rows, our clips/s, clips/s with the tower in the loop, the FLOP floor's
    clips/s: one step's FLOPs at the fp32 GEMM rate measured now) for preset clap-aisfx."""
    from audiotext_cli.towers import load_tower

    model_cfg, train_cfg = load_preset("clap-aisfx")
    model = AudioTextModel(model_cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    b = train_cfg.batch_size
    g = torch.Generator().manual_seed(0)
    counts = torch.randint(1, 4, (b,), generator=g)
    blocks = torch.relu(torch.randn(b, int(counts.max()), 512, generator=g))
    text = torch.randn(b, model_cfg.text_dim, generator=g)

    def step() -> None:
        out = model(blocks, counts, text)
        loss = (out.logit_scale * out.audio.mean @ out.text.mean.T).logsumexp(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    ours = clips_per_second({"heads": step}, b, steps, rounds)["heads"]
    floor = b / (step_flops(step) / (gemm_gflops("float32", 1024) * 1e9))
    tower = load_tower("aisfx")
    logmel = torch.rand(32, 100, 96)
    tower.embed_logmel_blocks(logmel)  # warm-up
    t0 = time.perf_counter()
    tower.embed_logmel_blocks(logmel)
    blocks_per_s = 32 / (time.perf_counter() - t0)
    in_loop = blocks_per_s / float(counts.float().mean())  # clips/s, front end not counted
    rows = [
        [
            f"ours: clap-aisfx heads on cached blocks, batch {b}",
            f"{ours:.1f}",
            f"{ours / in_loop:.0f}x",
        ],
        ["tower forward in every step (frozen, bf16, no front end)", f"{in_loop:.1f}", "1.00x"],
    ]
    return rows, ours, in_loop, floor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()
    model_cfg, train_cfg = load_preset("demo")
    model = AudioTextModel(model_cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    b, w = args.batch, model.window_samples
    waves = 0.1 * torch.randn(b, w)
    text = torch.randn(b, model_cfg.text_dim)
    with torch.no_grad():
        full = model.logmel(waves)
    crop = full[..., : train_cfg.crop_frames].contiguous()

    def step_on(get_logmel):
        def step() -> None:
            logmel = get_logmel()
            valid = torch.full((b,), logmel.shape[-1])
            out = model(logmel, valid, text)
            loss = (out.logit_scale * out.audio.mean @ out.text.mean.T).logsumexp(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        return step

    speed = clips_per_second(
        {
            f"ours: cached log-mel, {train_cfg.crop_frames}-frame crop": step_on(lambda: crop),
            "cached log-mel, whole 4 s windows": step_on(lambda: full),
            "naive: log-mel from the waveform every step, whole windows": step_on(
                lambda: model.logmel(waves)
            ),
        },
        b,
        args.steps,
        args.rounds,
    )
    naive = list(speed.values())[-1]
    ours = list(speed.values())[0]
    rows = [[name, f"{v:.1f}", f"{v / naive:.2f}x"] for name, v in speed.items()]
    table = markdown_table([f"training step (demo preset, batch {b})", "clips/s", "vs naive"], rows)
    epoch = TRAIN_CLIPS / ours
    body = (
        "### Training throughput\n\n" + table + f"\n\nAt this speed one epoch of the default "
        f"corpus ({TRAIN_CLIPS:,} clips) takes {epoch:.0f} s; the demo's "
        f"{train_cfg.epochs} epochs about {train_cfg.epochs * epoch / 60:.1f} min plus evaluation. "
        f"1-min load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        "(other jobs running: compare the rows, not the absolute speed; the seed-1 "
        "baseline reached 92 clips/s in its first 150 steps while the machine was idle)."
    )
    tower, ours_tower, in_loop, floor = tower_rows(args.steps, args.rounds)
    body += "\n\n" + markdown_table(
        ["training step (default model)", "clips/s", "vs in-loop"], tower
    )
    body += (
        f"\n\nFloor for the heads: one step's matmul FLOPs (forward + backward, "
        f"FlopCounterMode) at the fp32 GEMM rate measured in this run = {floor:.0f} clips/s; "
        f"ours reaches {ours_tower / floor:.2f} of it (the rest: elementwise work, the "
        "optimizer and Python per step)."
    )
    print(body)
    write_section("train", body)
    summary_row(
        "train_epoch",
        f"{TRAIN_CLIPS / ours_tower:.2f} s ({TRAIN_CLIPS:,} clips, aisfx heads on cached "
        "blocks, batch 512)",
        f"tower in the loop: {TRAIN_CLIPS / in_loop:.0f} s",
        f"{TRAIN_CLIPS / floor:.3f} s (step FLOPs at the fp32 GEMM rate)",
        f"{ours_tower / in_loop:.0f}x faster than in-loop, {floor / ours_tower:.1f}x the floor; "
        f"the CNN's cached-crop epoch: {epoch:.0f} s",
    )


if __name__ == "__main__":
    main()
