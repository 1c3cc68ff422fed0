"""`audiotext eval-docs`: cross-validated HILBERT document classification (docs/hilbert.md).

The other HILBERT commands live with their groups: `data build-docs` (data.py), `embed docs`
(embed.py) and `train --model hilbert` (train.py).
"""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import FormatOpt, JsonOpt, Vad, checked, output_format
from audiotext_cli.errors import ConfigError

AUDIO_HELP = "Audio segment encoders, comma-separated: oww (openWakeWord), prosody."


def _variants(names: list[str]) -> list[str]:
    """--ablation names: variants of `ABLATION`, or 'all' for every one."""
    from audiotext_cli.hilbert.crossval import ABLATION

    unknown = [n for n in names if n != "all" and n not in ABLATION]
    if unknown:
        raise ConfigError(f"unknown variant {unknown[0]!r}: all, {', '.join(ABLATION)}")
    return list(ABLATION) if "all" in names else names


def eval_docs(
    source: Path = typer.Argument(..., help="Corpus folder, recordings folder or features .npz."),
    folds: int = typer.Option(5, "--folds", min=2, help="Stratified folds (the paper uses 25)."),
    shuffles: int = typer.Option(3, "--shuffles", min=1, help="Repeats with other fold splits."),
    label: str = typer.Option(
        "binary", "--label", help="binary | multiclass | a labels.csv column."
    ),
    ablation: list[str] = typer.Option(
        ["full"],
        "--ablation",
        help="Variant(s) to score; 'all' = the ablation table.",
        callback=checked(_variants),
    ),
    epochs: int = typer.Option(10, "--epochs", min=1, help="Training epochs per fold."),
    audio: str = typer.Option("oww,prosody", "--audio", help=AUDIO_HELP),
    audio_checkpoint: Path = typer.Option(
        None, "--audio-checkpoint", help="Add our trained audio encoder as a segment encoder."
    ),
    vad: Vad = typer.Option(
        Vad.silero, "--vad", help="Voice activity detector for untranscribed audio."
    ),
    save_features: Path = typer.Option(None, "--save-features", help="Also write features .npz."),
    seed: int = typer.Option(0, "--seed"),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Cross-validated AUC (mean +- sd over shuffles) of HILBERT and its ablations."""
    from audiotext_cli.hilbert.crossval import cross_validate
    from audiotext_cli.hilbert.features import features_for
    from audiotext_cli.hilbert.train import FitConfig, pick_label

    fmt = output_format(fmt, as_json)
    with _output.progress() as bar:
        task = bar.add_task("segment features (cached)", total=None)
        feats = features_for(
            source,
            tuple(audio.split(",")),
            audio_checkpoint,
            vad.value,
            lambda _: bar.advance(task),
        )
    if save_features:
        feats.save(save_features)
    y = pick_label(feats, label)
    variants = _variants(ablation)
    results = []
    with _output.progress() as bar:
        task = bar.add_task("folds", total=len(variants) * folds * shuffles)
        for variant in variants:
            results.append(
                cross_validate(
                    feats,
                    y,
                    variant,
                    folds,
                    shuffles,
                    seed,
                    FitConfig(epochs=epochs),
                    on_fold=lambda: bar.advance(task),
                )
            )
    table = _output.Table(
        ("variant", "AUC mean", "AUC sd", "folds x shuffles", "seconds"),
        [
            (r["variant"], r["auc_mean"], r["auc_sd"], f"{folds}x{shuffles}", r["seconds"])
            for r in results
        ],
        title=f"{source} ({label}, {results[0]['documents']} documents)",
    )
    _output.emit(fmt, {"source": source, "label": label, "results": results}, table)


def register(app: typer.Typer) -> None:
    app.command("eval-docs")(eval_docs)
