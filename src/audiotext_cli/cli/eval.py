"""`audiotext eval`: retrieval and zero-shot accuracy of a checkpoint on a held-out manifest."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import DeviceOpt, FormatOpt, JsonOpt, ManifestOpt, output_format
from audiotext_cli.paths import home


def eval_command(
    checkpoint: Path = typer.Argument(..., help="Checkpoint folder (e.g. RUN/best)."),
    manifest: ManifestOpt = None,
    fmt: FormatOpt = _output.Format.table,
    json_out: JsonOpt = False,
    device: DeviceOpt = "cpu",
) -> None:
    """Text->audio and audio->text R@1/5/10 and mAP@10, zero-shot accuracy per label level,
    each next to its chance level (default manifest: the cross-source split)."""
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.evaluate.run import embed_records, evaluate, summary_rows
    from audiotext_cli.models import load_embedder

    fmt = output_format(fmt, json_out)
    manifest = manifest or home() / "corpus" / "eval.jsonl"
    records = read_manifest(manifest)
    embedder = load_embedder(checkpoint, device)
    with _output.progress(transient=True) as bar:
        task = bar.add_task("embedding audio", total=len(records))
        audio = embed_records(embedder, records, progress=lambda k: bar.advance(task, k))
    result = evaluate(embedder, records, audio=audio)
    result["checkpoint"], result["manifest"] = str(checkpoint), str(manifest)
    title = (
        f"{embedder.model_id} on {manifest.name} "
        f"({result['n_audio']} clips, {result['n_captions']} captions)"
    )
    rows = list(summary_rows(result))
    _output.emit(fmt, result, _output.Table(["metric", "value", "chance"], rows, title))


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
