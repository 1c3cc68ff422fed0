"""Training throughput (clips/s) of the demo preset, against computing log-mel every step.

    python benchmarks/bench_train.py [--steps 6] [--batch 64]

Rows: our step (log-mel windows cached once, random 128-frame training crop), the same on
whole 4 s windows, and the naive way (waveform -> log-mel inside every step). Random data:
the cost of a step does not depend on the content.
"""

from __future__ import annotations

import argparse
import time

import torch
from _report import markdown_table, write_section

from audiotext_cli.models.config import load_preset
from audiotext_cli.models.model import AudioTextModel


def clips_per_second(step, batch: int, steps: int) -> float:
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=6)
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
            scale = out["logit_scale"]
            loss = (scale * out["audio"][0] @ out["text"][0].T).logsumexp(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        return step

    rows = []
    ours = clips_per_second(step_on(lambda: crop), b, args.steps)
    whole = clips_per_second(step_on(lambda: full), b, args.steps)
    naive = clips_per_second(step_on(lambda: model.logmel(waves)), b, args.steps)
    for name, v in (
        (f"ours: cached log-mel, {train_cfg.crop_frames}-frame crop", ours),
        ("cached log-mel, whole 4 s windows", whole),
        ("naive: log-mel from the waveform every step, whole windows", naive),
    ):
        rows.append([name, f"{v:.1f}", f"{v / naive:.2f}x"])
    table = markdown_table([f"training step (demo preset, batch {b})", "clips/s", "vs naive"], rows)
    epoch = 3024 / ours
    body = (
        "### Training throughput\n\n" + table + f"\n\nAt this speed one epoch of the default "
        f"corpus (3,024 clips) takes {epoch:.0f} s; the demo's "
        f"{train_cfg.epochs} epochs about {train_cfg.epochs * epoch / 60:.1f} min plus evaluation."
    )
    print(body)
    write_section("train", body)


if __name__ == "__main__":
    main()
