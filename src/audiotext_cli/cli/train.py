"""`audiotext train`: train a model on a manifest (single process, or DDP under torchrun)."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import (
    AudioTower,
    DeviceOpt,
    FormatOpt,
    JsonOpt,
    ModelKind,
    TrainManifestOpt,
    ValManifestOpt,
    checked,
    output_format,
    usage_errors,
)
from audiotext_cli.errors import ConfigError, UsageError
from audiotext_cli.paths import home

# The preset each --model / --audio-tower pair starts from.
MODEL_PRESETS = {
    ("clap", "aisfx"): "clap-aisfx",
    ("prolap", "aisfx"): "prolap-aisfx",
    ("clap", "cnn"): "demo",
    ("prolap", "cnn"): "prolap-demo",
}


def _default(name: str) -> Path:
    return home() / "corpus" / name


def _loss(name: str) -> str:
    """--loss must name a registered loss (checked when given, so --help imports no torch)."""
    from audiotext_cli.losses import LOSSES

    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return name


def _audio_tower(value: str) -> str:
    """--audio-tower: a named tower or `student:DIR` (a saved student, made absolute so the
    checkpoint finds it from anywhere)."""
    if value in {t.value for t in AudioTower}:
        return value
    if not value.startswith("student:"):
        choices = ", ".join(t.value for t in AudioTower)
        raise ConfigError(f"unknown audio tower {value!r}; choose {choices} or student:DIR")
    from audiotext_cli.towers import tower_spec

    name = "student:" + str(Path(value.removeprefix("student:")).expanduser().resolve())
    tower_spec(name)  # a folder that is not a saved student is refused here
    return name


def train_command(
    out: Path = typer.Option(
        ..., "--out", "-o", help="Run folder: best/ and last/ checkpoints, log.jsonl."
    ),
    train_manifest: TrainManifestOpt = None,
    val_manifest: ValManifestOpt = None,
    model: ModelKind = typer.Option(
        ModelKind.clap,
        "--model",
        help="clap (contrastive baseline), prolap (probabilistic) or hilbert (documents).",
    ),
    audio_tower: str = typer.Option(
        None,
        "--audio-tower",
        help="aisfx (frozen pretrained sound-effects CNN, 44.1 kHz; the default), cnn "
        "(small log-mel CNN trained from scratch, 16 kHz) or student:DIR (a tower distilled "
        "by `audiotext distill`, 16 kHz). With --preset: overrides it.",
        callback=checked(_audio_tower),
    ),
    preset: str = typer.Option(
        None,
        "--preset",
        help="Preset name or JSON file (default: by --model and --audio-tower; hilbert).",
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Override a field: train.lr=1e-3, model.embed_dim=128 (repeatable)."
    ),
    loss: str = typer.Option(
        None,
        "--loss",
        help="clip | siglip | soft-clip | prolap (overrides the preset).",
        callback=checked(_loss),
    ),
    epochs: int = typer.Option(None, "--epochs", help="Number of epochs (overrides the preset)."),
    seed: int = typer.Option(None, "--seed", help="Random seed (overrides the preset)."),
    init_from: Path = typer.Option(
        None,
        "--init-from",
        help="Start from this checkpoint's weights (e.g. ProLAP from the baseline).",
    ),
    teacher: Path = typer.Option(
        None, "--teacher", help="Teacher checkpoint for --loss soft-clip."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue a killed run from OUT/last, bit for bit."
    ),
    device: DeviceOpt = "cpu",
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
) -> None:
    """Train an audio-text model; evaluation each epoch on the validation split picks OUT/best.

    Prints the best epoch's validation metrics (json: the whole run state and history)."""
    fmt = output_format(fmt, json_out)
    if model is ModelKind.hilbert:
        refused = {
            "--loss": loss is not None,
            "--resume": resume,
            "--val": val_manifest is not None,
            "--init-from": init_from is not None,
            "--teacher": teacher is not None,
            "--audio-tower": audio_tower is not None,
        }
        _train_hilbert(train_manifest, out, preset, overrides, epochs, seed, device, fmt, refused)
        return
    from audiotext_cli.cli._train_progress import train_with_progress
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.models.config import ModelConfig, apply_overrides, load_preset

    with usage_errors():  # a bad --preset or --set is the caller's mistake: exit 2
        tower = _audio_tower(audio_tower) if audio_tower else AudioTower.aisfx.value
        student = tower.startswith("student:")  # trains as the aisfx recipe, on the student
        model_cfg, train_cfg = load_preset(
            preset or MODEL_PRESETS[(model, AudioTower.aisfx if student else tower)]
        )
        # --audio-tower and --loss come before --set tunes them; --epochs / --seed win
        towers = []
        if (preset is not None or student) and audio_tower is not None:
            from audiotext_cli.towers import tower_spec

            spec = tower_spec(tower)
            rate = spec.sample_rate if spec is not None else ModelConfig.sample_rate
            towers = [f"model.audio_tower={tower}", f"model.sample_rate={rate}"]
            if student and preset is None:
                towers.append(f"model.name={model_cfg.name.replace('aisfx', 'student')}")
        given = [("loss", loss)] * (loss is not None)
        tail = [(k, v) for k, v in (("epochs", epochs), ("seed", seed)) if v is not None]
        model_cfg, train_cfg = apply_overrides(
            model_cfg,
            train_cfg,
            towers
            + [f"train.{k}={v}" for k, v in given]
            + list(overrides)
            + [f"train.{k}={v}" for k, v in tail],
        )
        if teacher is not None:
            from audiotext_cli.losses import create_loss

            if not create_loss(train_cfg.loss).needs.teacher:
                raise typer.BadParameter(
                    f"loss {train_cfg.loss.name!r} does not use a teacher "
                    "(--teacher is for --loss soft-clip)",
                    param_hint="--teacher",
                )
    records_train = read_manifest(train_manifest or _default("train.jsonl"))
    records_val = read_manifest(val_manifest or _default("val.jsonl"))
    state = train_with_progress(
        records_train,
        records_val,
        out,
        model_cfg,
        train_cfg,
        resume=resume,
        device=device,
        init_from=init_from,
        teacher=teacher,
    )
    doc = {k: v for k, v in state.items() if k != "history"} | {"history": state["history"]}
    tables = []
    if state["history"]:
        from audiotext_cli.evaluate.run import summary_rows

        best = state["history"][state["best_epoch"] - 1]["val"]
        tables.append(
            _output.Table(
                ["metric (validation)", "value", "chance"],
                list(summary_rows(best)),
                title=f"best epoch {state['best_epoch']} -> {out / 'best'}",
            )
        )
    _output.emit(fmt, doc, tables)


# Why `train --model hilbert` refuses an option the two-tower models take.
HILBERT_REFUSES = {
    "--loss": "it sums all its losses; weigh them with --set train.losses.NAME.weight=W",
    "--resume": "a fit takes seconds and keeps no resumable state; train again",
    "--val": "it fits on every labelled document of --train; score it with eval-docs",
    "--init-from": "it always starts from its seed",
    "--teacher": "no HILBERT loss uses a teacher",
    "--audio-tower": "its audio features are segment encoders (eval-docs --audio)",
}


def _train_hilbert(
    corpus: Path | None,
    out: Path,
    preset: str | None,
    overrides: list[str],
    epochs: int | None,
    seed: int | None,
    device: str,
    fmt: _output.Format,
    given: dict[str, bool],
) -> None:
    """`train --model hilbert`: the preset (default presets/hilbert.json) and --set apply
    as for the other models; an option it cannot use is a usage error naming why."""
    from audiotext_cli.hilbert.config import PRESET, hilbert_config
    from audiotext_cli.hilbert.train import train_from_cli

    for name, used in given.items():
        if used:
            raise UsageError(f"{name} is not used with --model hilbert: {HILBERT_REFUSES[name]}")
    with usage_errors():  # a bad --preset or --set: exit 2 before any features are computed
        hilbert_config(preset or PRESET, overrides)
    result = train_from_cli(
        corpus or home() / "docs",
        out,
        preset=preset or PRESET,
        overrides=overrides,
        seed=seed,
        epochs=epochs,
        device=device,
    )
    table = _output.Table(("key", "value"), list(result.items()), title="HILBERT checkpoint")
    _output.emit(fmt, result, table, records=[result])


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
