"""`audiotext embed folder|text|merge|docs`: embedding stores from audio, captions or
documents (docs/index.md, docs/hilbert.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import group

app = group("Embed audio folders, caption lists or documents.")


def _progress_callback(bar, task):
    """Feed EmbedProgress into a rich task: files/s, and audio-hours/s when there is audio."""

    def update(p) -> None:
        hours = p.audio_hours_per_s
        audio = f"{hours:.3g} audio-h/s ({hours * 3600:.0f}x real time)" if hours else ""
        bar.update(
            task, completed=p.done, total=p.total, rate=f"{p.files_per_s:.1f}/s", hours=audio
        )

    return update


def _print_report(report, out: Path, as_json: bool) -> None:
    summary = {
        "store": str(out),
        "embedded": report.embedded,
        "skipped": report.skipped,
        "failed": report.failed,
        "errors": report.errors,
    }
    if as_json:
        _output.print_json(summary)
        return
    _output.print_table(
        ["store", "embedded", "skipped", "failed"],
        [[str(out), report.embedded, report.skipped, report.failed]],
    )
    for row in report.errors:
        _output.warn(f"{row['path']}: {row['reason']}")


@app.command("folder")
def embed_folder_cmd(
    folder: Path = typer.Argument(..., help="Folder of audio files (searched recursively)."),
    model: str = typer.Option(..., "--model", "-m", help="Model checkpoint."),
    out: Path = typer.Option(..., "--out", "-o", help="Embedding store folder (resumes)."),
    include: list[str] = typer.Option(
        None, "--include", help="Glob on the relative path or name (repeat); default audio."
    ),
    exclude: list[str] = typer.Option(None, "--exclude", help="Glob to skip (repeat)."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    workers: int = typer.Option(2, "--workers", min=0, help="Decoder processes (0: inline)."),
    shard: str = typer.Option(None, "--shard", help="Embed only part i of n, e.g. 0/4."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Embed every audio file under FOLDER; re-runs embed only new or changed files."""
    from audiotext_cli.index.folder import AUDIO_GLOBS, embed_folder, parse_shard
    from audiotext_cli.index.search import load_model

    part = parse_shard(shard) if shard else None
    embedder = load_model(model)
    with _output.progress("rate", "hours") as bar:
        task = bar.add_task("embedding", total=None, rate="", hours="")
        report = embed_folder(
            embedder,
            folder,
            out,
            include=tuple(include or AUDIO_GLOBS),
            exclude=tuple(exclude or ()),
            batch_size=batch_size,
            workers=workers,
            shard=part,
            progress=_progress_callback(bar, task),
        )
    _print_report(report, out, as_json)


@app.command("text")
def embed_text_cmd(
    captions: Path = typer.Argument(
        ..., help="Captions: .txt (one per line) or .jsonl (id, text)."
    ),
    model: str = typer.Option(..., "--model", "-m", help="Model checkpoint."),
    out: Path = typer.Option(..., "--out", "-o", help="Embedding store folder (resumes)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Embed a caption list into a text store (index it for audio -> text search)."""
    from audiotext_cli.index.folder import embed_captions
    from audiotext_cli.index.search import load_model

    embedder = load_model(model)
    with _output.progress("rate", "hours") as bar:
        task = bar.add_task("embedding captions", total=None, rate="", hours="")
        report = embed_captions(
            embedder, captions, out, batch_size, progress=_progress_callback(bar, task)
        )
    _print_report(report, out, as_json)


@app.command("merge")
def embed_merge_cmd(
    stores: list[Path] = typer.Argument(..., help="Stores of one model (e.g. --shard outputs)."),
    out: Path = typer.Option(..., "--out", "-o", help="Merged store folder."),
) -> None:
    """Join embedding stores of the same model into one."""
    from audiotext_cli.index.store import merge_stores

    merged = merge_stores(stores, out)
    _output.print_table(["store", "vectors"], [[str(out), len(merged)]])


@app.command("docs")
def embed_docs(
    source: Path = typer.Argument(..., help="Corpus folder, recordings folder or features .npz."),
    model: Path = typer.Option(..., "--model", help="HILBERT checkpoint folder."),
    out: Path = typer.Option(..., "--out", help="Output folder: joint/, audio/, text/ stores."),
    device: str = typer.Option("cpu", "--device"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write document embeddings (z_joint, z_audio, z_text) as embedding stores."""
    from audiotext_cli.hilbert.embed import embed_documents

    info = embed_documents(source, model, out, device)
    if as_json:
        _output.print_json(info)
        return
    _output.print_table(
        ("space", "store"),
        info["stores"].items(),
        title=f"{info['documents']} documents, dim {info['dim']}",
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="embed")
