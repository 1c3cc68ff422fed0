"""`audiotext train`'s progress bars (loss, lr, clips/s) on the main process.

The library's `train.loop.train` only reports through callbacks; drawing them is the CLI's
business, so nothing under `train/` imports `cli/`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from audiotext_cli.cli._output import progress
from audiotext_cli.data.manifest import ClipRecord
from audiotext_cli.models.config import ModelConfig, TrainConfig


def train_with_progress(
    train_records: list[ClipRecord],
    val_records: list[ClipRecord],
    out: Path,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    **options: Any,
) -> dict:
    """`train.loop.train` (same `options`: resume, device, init_from, teacher) with progress
    bars for the log-mel preparation and the steps; other ranks of a DDP run stay quiet."""
    from audiotext_cli.train.loop import train

    quiet = int(os.environ.get("RANK", "0")) != 0
    with progress("loss", "lr", "speed", transient=False) as bar:
        task = bar.add_task("train", total=None, loss="", lr="", speed="", visible=not quiet)

        def on_prepare(name: str, n: int):
            sub = bar.add_task(name, total=n, loss="", lr="", speed="", visible=not quiet)
            return lambda k: bar.advance(sub, k)

        def on_step(info: dict) -> None:
            bar.update(
                task,
                completed=info["step"],
                total=info["total"],
                description=f"train epoch {info['epoch'] + 1}",
                loss=f"loss {info['loss']:.4f}",
                lr=f"lr {info['lr']:.2e}",
                speed=f"{info['clips_per_s']:.0f} clips/s",
            )

        return train(
            train_records,
            val_records,
            out,
            model_cfg,
            train_cfg,
            on_step=on_step,
            on_prepare=on_prepare,
            **options,
        )
