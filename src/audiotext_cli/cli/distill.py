"""`audiotext distill`: a small fast student tower trained to reproduce a teacher's blocks."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import FormatOpt, JsonOpt, output_format
from audiotext_cli.errors import UsageError
from audiotext_cli.paths import home

TEACHERS = ("aisfx",)  # towers a student can learn from (cached block embeddings)


def distill_command(
    out: Path = typer.Option(..., "--out", "-o", help="Student checkpoint folder."),
    teacher: str = typer.Option("aisfx", "--teacher", help="Tower to distil: aisfx."),
    data: Path = typer.Option(
        None,
        "--data",
        help="Corpus folder or training manifest [default: corpus/ under $AUDIOTEXT_HOME].",
    ),
    folder: Path = typer.Option(
        None, "--folder", help="Or a folder of audio, labelled or not (every 10th: validation)."
    ),
    epochs: int = typer.Option(16, "--epochs", min=1),
    batch_size: int = typer.Option(64, "--batch-size", min=2, help="Clips per step."),
    seed: int = typer.Option(0, "--seed"),
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
) -> None:
    """Distil TEACHER's per-block embeddings into a 16 kHz student (about 0.9 M parameters);
    use it with `train --audio-tower student:OUT`. Teacher blocks come from the feature
    cache (computed for files not cached yet)."""
    fmt = output_format(fmt, json_out)
    if teacher not in TEACHERS:
        raise UsageError(f"--teacher: unknown tower {teacher!r}; choose {', '.join(TEACHERS)}")
    if data is not None and folder is not None:
        raise UsageError("--data and --folder: give one source of audio")
    from audiotext_cli.towers import load_tower
    from audiotext_cli.train.distill import DistillConfig, distill, distill_data, distill_sources

    train_paths, val_paths = distill_sources(data, folder, home() / "corpus")
    tower = load_tower(teacher)
    with _output.progress(transient=True) as bar:
        task = bar.add_task("teacher blocks + decode", total=len(train_paths) + len(val_paths))
        advance = lambda k: bar.advance(task, k)  # noqa: E731
        train_data = distill_data(train_paths, tower, advance)
        val_data = distill_data(val_paths, tower, advance) if val_paths else None
    cfg = DistillConfig(epochs=epochs, batch_files=batch_size, seed=seed)
    rows = []

    def on_epoch(r: dict) -> None:
        v = r["val"] or {}
        rows.append([r["epoch"], r["train"]["mse"], v.get("mse"), v.get("cosine"), r["seconds"]])
        _output.info(f"epoch {r['epoch']}/{epochs}: train mse {r['train']['mse']:.4f}")

    result = distill(train_data, val_data, out, cfg, teacher_id=tower.tower_id, on_epoch=on_epoch)
    doc = {
        "student": str(out),
        "teacher": tower.tower_id,
        "params": result.params,
        "train_clips": len(train_data),
        "val_clips": 0 if val_data is None else len(val_data),
        "skipped": train_data.skipped + (0 if val_data is None else val_data.skipped),
        "best_epoch": result.best_epoch,
        "history": result.history,
    }
    table = _output.Table(
        ["epoch", "train mse", "val mse", "val cosine", "seconds"],
        rows,
        title=f"student {out} (best epoch {result.best_epoch}; train --audio-tower student:{out})",
    )
    _output.emit(fmt, doc, table)


def register(app: typer.Typer) -> None:
    app.command("distill")(distill_command)
