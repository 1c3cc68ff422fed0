"""`audiotext zeroshot`, `leakage` and `curate`: classification in detail, where its accuracy
comes from, and training pairs curated by a teacher."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import (
    CurateMode,
    DeviceOpt,
    FormatOpt,
    JsonOpt,
    ManifestOpt,
    TrainManifestOpt,
    ValManifestOpt,
    output_format,
)
from audiotext_cli.paths import home

PromptsOpt = typer.Option(
    None, "--prompts", help="Prompt templates, one per line, each with {} for the class name."
)


def _corpus(name: str) -> Path:
    return home() / "corpus" / name


def _templates(prompts: Path | None) -> tuple[str, ...]:
    from audiotext_cli.evaluate.perclass import read_templates
    from audiotext_cli.evaluate.zeroshot import DEFAULT_TEMPLATES

    return read_templates(prompts) if prompts else DEFAULT_TEMPLATES


def _levels(level: int | None) -> tuple[int, ...]:
    return (level,) if level else (1, 2, 3)


def zeroshot_command(
    checkpoint: Path = typer.Argument(..., help="Checkpoint folder (e.g. RUN/best)."),
    manifest: ManifestOpt = None,
    prompts: Path = PromptsOpt,
    level: int = typer.Option(
        None, "--level", min=1, max=3, help="Label level 1, 2 or 3 [default: all]."
    ),
    confusion: Path = typer.Option(
        None,
        "--confusion",
        help="Write the confusion matrix as PNG (LEVEL is appended when several levels).",
    ),
    device: DeviceOpt = "cpu",
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
) -> None:
    """Zero-shot classification: accuracy, balanced accuracy, chance levels, and per class
    its recall and the class it is most often mistaken for."""
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.evaluate.perclass import plot_confusion, zeroshot_report
    from audiotext_cli.evaluate.run import embed_records
    from audiotext_cli.models import load_embedder

    fmt = output_format(fmt, json_out)
    levels, templates = _levels(level), _templates(prompts)
    manifest = manifest or _corpus("eval.jsonl")
    records = read_manifest(manifest)
    embedder = load_embedder(checkpoint, device)
    with _output.progress(transient=True) as bar:
        task = bar.add_task("embedding audio", total=len(records))
        audio = embed_records(embedder, records, progress=lambda k: bar.advance(task, k))
    report = zeroshot_report(embedder, records, audio, templates, levels)
    report |= {
        "checkpoint": str(checkpoint),
        "manifest": str(manifest),
        "model_id": embedder.model_id,
    }
    if not report["levels"]:
        _output.warn("fewer than two classes at every requested level: nothing to classify")
    for lv, rep in report["levels"].items():
        if confusion:
            path = (
                confusion
                if len(report["levels"]) == 1
                else confusion.with_name(f"{confusion.stem}-level{lv}{confusion.suffix}")
            )
            rep["confusion_png"] = str(
                plot_confusion(
                    rep["confusion"],
                    rep["classes"],
                    path,
                    f"{embedder.model_id}: level {lv}, accuracy {rep['accuracy']:.3f}",
                )
            )
    tables = [
        _output.Table(
            ["class", "n", "recall", "predicted", "most confused with", "share"],
            [
                (
                    r["class"],
                    r["n"],
                    r["recall"],
                    r["predicted"],
                    r["most_confused_with"],
                    r["confused_share"],
                )
                for r in rep["per_class"]
            ],
            title=(
                f"level {lv}: accuracy {rep['accuracy']:.3f}, "
                f"balanced {rep['balanced_accuracy']:.3f}, "
                f"chance {rep['chance']:.3f} uniform / {rep['majority']:.3f} majority "
                f"({rep['n_classes']} classes, {rep['n']} clips)"
            ),
            key={"level": int(lv)},  # the report keys levels by string (JSON)
        )
        for lv, rep in report["levels"].items()
    ]
    records = [
        {"level": int(lv)} | r for lv, rep in report["levels"].items() for r in rep["per_class"]
    ]
    header = ["level", "class", "n", "recall", "predicted", "most_confused_with", "confused_share"]
    _output.emit(fmt, report, tables, records, header)  # rows keyed as in the JSON document
    for rep in report["levels"].values():
        if "confusion_png" in rep and fmt is not _output.Format.json:
            _output.info(f"confusion matrix: {rep['confusion_png']}")


def leakage_command(
    checkpoint: Path = typer.Argument(..., help="Checkpoint folder of the model to analyse."),
    train_manifest: TrainManifestOpt = None,
    val_manifest: ValManifestOpt = None,
    eval_manifest: Path = typer.Option(
        None,
        "--eval",
        help="Evaluation manifest [default: corpus/eval.jsonl under $AUDIOTEXT_HOME].",
    ),
    work: Path = typer.Option(
        ..., "--work", help="Folder for the retrained models (reused when run again)."
    ),
    retrain_preset: str = typer.Option(
        None,
        "--retrain-preset",
        help="Retrain with this preset (tiny, demo, ...) instead of the checkpoint's config; "
        "adds an unstripped control.",
    ),
    epochs: int = typer.Option(
        None, "--epochs", help="Epochs for the retrained models [default: the checkpoint's]."
    ),
    level: int = typer.Option(
        None, "--level", min=1, max=3, help="Label level 1, 2 or 3 [default: all]."
    ),
    prompts: Path = PromptsOpt,
    n_boot: int = typer.Option(
        1000, "--bootstrap", help="Bootstrap resamples for the 95% intervals."
    ),
    folds: int = typer.Option(5, "--folds", help="Stratified CV folds for the backbone probes."),
    device: DeviceOpt = "cpu",
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
) -> None:
    """Where zero-shot accuracy comes from: the trained model vs one retrained without the
    evaluation class words, random projection heads on the same backbones, probes on the
    audio CNN, and MiniLM alone; each with a 95% bootstrap interval (see docs/zeroshot.md)."""
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.train.leakage import leakage_analysis, table_rows

    fmt = output_format(fmt, json_out)
    result = leakage_analysis(
        checkpoint,
        read_manifest(train_manifest or _corpus("train.jsonl")),
        read_manifest(val_manifest or _corpus("val.jsonl")),
        read_manifest(eval_manifest or _corpus("eval.jsonl")),
        work,
        levels=_levels(level),
        templates=_templates(prompts),
        retrain_preset=retrain_preset,
        epochs=epochs,
        n_boot=n_boot,
        folds=folds,
        device=device,
        log=_output.info,
    )
    columns = [
        "condition",
        "accuracy",
        "acc. 95% CI",
        "balanced acc.",
        "bal. 95% CI",
        "share",
        "share 95% CI",
    ]
    tables = [
        _output.Table(
            columns,
            list(table_rows(block)),
            title=(
                f"level {lv}: {block['n_classes']} classes, {result['n_eval']} clips, "
                f"seed {result['retrain']['seed']}; "
                "share = part of the reference's above-chance balanced accuracy"
            ),
            key={"level": int(lv)},  # the report keys levels by string (JSON)
        )
        for lv, block in result["levels"].items()
    ]
    _output.emit(fmt, result, tables)


def curate_command(
    audio: Path = typer.Option(
        ..., "--audio", help="Folder of unlabelled audio (searched recursively)."
    ),
    texts: Path = typer.Option(..., "--texts", help="Text pool: one caption per line."),
    teacher: Path = typer.Option(
        ..., "--teacher", help="Teacher checkpoint that scores audio-text pairs."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Manifest to write (accepted by `audiotext train`)."
    ),
    mode: CurateMode = typer.Option(
        CurateMode.unspecific,
        "--mode",
        help="unspecific: any caption; specific: only captions near a --labels label.",
    ),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Keep pairs with teacher cosine >= this [default: the --keep quantile].",
    ),
    keep: float = typer.Option(
        0.5, "--keep", help="Without --threshold, keep this top fraction of audio files."
    ),
    labels: Path = typer.Option(
        None,
        "--labels",
        help="Downstream labels, one per line (a path L1/L2/L3 fills caption levels 1-3).",
    ),
    label_threshold: float = typer.Option(
        None,
        "--label-threshold",
        help="specific: keep captions with cosine >= this to a prompted label "
        "[default: the --label-keep quantile].",
    ),
    label_keep: float = typer.Option(
        0.5, "--label-keep", help="Without --label-threshold, keep this top fraction of captions."
    ),
    prompts: Path = PromptsOpt,
    histogram: Path = typer.Option(
        None, "--histogram", help="Score histogram PNG [default: OUT with .scores.png]."
    ),
    device: DeviceOpt = "cpu",
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
) -> None:
    """Pair unlabelled audio with captions from a text pool where a teacher model agrees,
    and write a training manifest plus a histogram of the teacher scores."""
    from audiotext_cli.curate import curate, plot_scores, read_lines
    from audiotext_cli.data.manifest import write_manifest
    from audiotext_cli.index.folder import scan_files
    from audiotext_cli.models import load_embedder

    fmt = output_format(fmt, json_out)
    embedder = load_embedder(teacher, device)
    regular, unusable = scan_files(audio)
    # FIFOs, broken links, unreadable files...: `curate` reports each as skipped, with why
    files = sorted([*regular, *(path for path, _ in unusable)])
    with _output.progress(transient=True) as bar:
        task = bar.add_task("embedding audio", total=len(files))
        result = curate(
            embedder,
            files,
            read_lines(texts, "text pool"),
            mode=mode.value,
            threshold=threshold,
            keep=keep,
            labels=read_lines(labels, "labels") if labels else None,
            label_threshold=label_threshold,
            label_keep=label_keep,
            templates=_templates(prompts),
            progress=lambda k: bar.advance(task, k),
        )
    write_manifest(out, result.records)
    png = plot_scores(result, histogram or out.with_suffix(".scores.png"))
    summary = result.summary() | {"manifest": str(out), "histogram": str(png), "mode": mode.value}
    for item in result.skipped:
        _output.warn(f"{item['path']}: {item['reason']}")
    rows = [
        (k, summary[k])
        for k in (
            "audio",
            "audio_unreadable",
            "kept",
            "dropped",
            "threshold",
            "texts",
            "texts_in_domain",
            "label_threshold",
        )
    ]
    rows += [(f"score {k}", v) for k, v in summary["score_quantiles"].items()]
    title = f"curated {summary['kept']} pairs -> {out}"
    _output.emit(fmt, summary, _output.Table(["statistic", "value"], rows, title))
    if fmt is not _output.Format.json:
        _output.info(f"score histogram: {png}")


def register(app: typer.Typer) -> None:
    """Add `zeroshot`, `leakage` and `curate` as top-level commands."""
    app.command("zeroshot")(zeroshot_command)
    app.command("leakage")(leakage_command)
    app.command("curate")(curate_command)
