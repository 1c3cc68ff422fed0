"""`audiotext eval`: retrieval and zero-shot accuracy of a checkpoint on a held-out manifest."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.paths import home


def eval_command(
    checkpoint: Path = typer.Argument(..., help="Checkpoint folder (e.g. RUN/best)."),
    manifest: Path = typer.Option(
        None,
        "--manifest",
        "-m",
        help="Manifest (default: $AUDIOTEXT_HOME/corpus/eval.jsonl, the cross-source split).",
    ),
    json_out: bool = typer.Option(False, "--json", help="Print all metrics as JSON."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
) -> None:
    """Text->audio and audio->text R@1/5/10 and mAP@10, zero-shot accuracy per label level,
    each next to its chance level."""
    from audiotext_cli.data.manifest import read_manifest
    from audiotext_cli.evaluate.run import embed_records, evaluate, summary_rows
    from audiotext_cli.models import load_embedder

    manifest = manifest or home() / "corpus" / "eval.jsonl"
    records = read_manifest(manifest)
    embedder = load_embedder(checkpoint, device)
    with _output.progress(transient=True) as bar:
        task = bar.add_task("embedding audio", total=len(records))
        audio = embed_records(embedder, records, progress=lambda k: bar.advance(task, k))
    result = evaluate(embedder, records, audio=audio)
    result["checkpoint"], result["manifest"] = str(checkpoint), str(manifest)
    if json_out:
        _output.print_json(result)
        return
    _output.print_table(
        ["metric", "value", "chance"],
        summary_rows(result),
        title=f"{embedder.model_id} on {manifest.name} "
        f"({result['n_audio']} clips, {result['n_captions']} captions)",
    )


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
