"""`audiotext embed folder|text|merge|docs`: embedding stores from audio, captions or
documents (docs/index.md, docs/hilbert.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import (
    DeviceOpt,
    FormatOpt,
    JsonOpt,
    ModelOpt,
    checked,
    group,
    output_format,
)

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


def _print_report(report, out: Path, fmt: _output.Format) -> None:
    """One row of counts; the files that failed are warnings (in the document for json)."""
    summary = {
        "store": str(out),
        "embedded": report.embedded,
        "skipped": report.skipped,
        "failed": report.failed,
        "errors": report.errors,
        "warnings": report.warnings,  # embedded, but some metadata was unreadable
    }
    columns = ["store", "embedded", "skipped", "failed"]
    _output.emit(fmt, summary, _output.Table(columns, [[summary[c] for c in columns]]))
    if fmt is not _output.Format.json:
        for row in report.errors + report.warnings:
            _output.warn(f"{row['path']}: {row['reason']}")


def _print_problems(out: Path, fmt: _output.Format) -> None:
    """`--report`: every file the store has a problem with, from any run (a resumed run
    skips the files embedded with warnings before, so its own report would not list them)."""
    from audiotext_cli.index.store import EmbeddingStore

    problems = [
        {"level": e.get("level", "error"), "path": e["path"], "reason": e["reason"]}
        for e in EmbeddingStore.open(out).errors()
    ]
    title = f"files with problems in {out}: {len(problems)}"
    columns = ["level", "path", "reason"]
    table = _output.Table(columns, [[p[c] for c in columns] for p in problems], title)
    _output.emit(fmt, problems, table)


def _shard(text: str) -> tuple[int, int]:
    from audiotext_cli.index.folder import parse_shard

    return parse_shard(text)


@app.command("folder")
def embed_folder_cmd(
    folder: Path = typer.Argument(..., help="Folder of audio files (searched recursively)."),
    model: ModelOpt = ...,
    out: Path = typer.Option(..., "--out", "-o", help="Embedding store folder (resumes)."),
    include: list[str] = typer.Option(
        None, "--include", help="Glob on the relative path or name (repeat); default audio."
    ),
    exclude: list[str] = typer.Option(None, "--exclude", help="Glob to skip (repeat)."),
    batch_size: int = typer.Option(16, "--batch-size", min=1),
    workers: int = typer.Option(2, "--workers", min=0, help="Decoder processes (0: inline)."),
    shard: str = typer.Option(
        None, "--shard", help="Embed only part i of n, e.g. 0/4.", callback=checked(_shard)
    ),
    report_only: bool = typer.Option(
        False,
        "--report",
        help="Print, instead of the counts, one row per file of the store that failed or "
        "embedded with a metadata warning: level, path, reason.",
    ),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Embed every audio file under FOLDER; re-runs embed only new or changed files."""
    from audiotext_cli.index.folder import AUDIO_GLOBS, embed_folder
    from audiotext_cli.index.search import load_model

    fmt = output_format(fmt, as_json)
    embedder = load_model(model)
    with _output.progress("rate", "hours") as bar:
        task = bar.add_task("embedding", total=None, rate="", hours="")
        summary = embed_folder(
            embedder,
            folder,
            out,
            include=tuple(include or AUDIO_GLOBS),
            exclude=tuple(exclude or ()),
            batch_size=batch_size,
            workers=workers,
            shard=_shard(shard) if shard else None,
            progress=_progress_callback(bar, task),
        )
    if report_only:
        _print_problems(out, fmt)
    else:
        _print_report(summary, out, fmt)


@app.command("text")
def embed_text_cmd(
    captions: Path = typer.Argument(
        ..., help="Captions: .txt (one per line) or .jsonl (id, text)."
    ),
    model: ModelOpt = ...,
    out: Path = typer.Option(..., "--out", "-o", help="Embedding store folder (resumes)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Embed a caption list into a text store (index it for audio -> text search)."""
    from audiotext_cli.index.folder import embed_captions
    from audiotext_cli.index.search import load_model

    fmt = output_format(fmt, as_json)
    embedder = load_model(model)
    with _output.progress("rate", "hours") as bar:
        task = bar.add_task("embedding captions", total=None, rate="", hours="")
        report = embed_captions(
            embedder, captions, out, batch_size, progress=_progress_callback(bar, task)
        )
    _print_report(report, out, fmt)


@app.command("merge")
def embed_merge_cmd(
    stores: list[Path] = typer.Argument(..., help="Stores of one model (e.g. --shard outputs)."),
    out: Path = typer.Option(..., "--out", "-o", help="Merged store folder."),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Join embedding stores of the same model into one."""
    from audiotext_cli.index.store import merge_stores

    fmt = output_format(fmt, as_json)
    merged = merge_stores(stores, out)
    summary = {"store": str(out), "vectors": len(merged)}
    _output.emit(fmt, summary, _output.Table(list(summary), [list(summary.values())]))


@app.command("docs")
def embed_docs(
    source: Path = typer.Argument(..., help="Corpus folder, recordings folder or features .npz."),
    model: ModelOpt = ...,
    out: Path = typer.Option(..., "--out", help="Output folder: joint/, audio/, text/ stores."),
    device: DeviceOpt = "cpu",
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Write document embeddings (z_joint, z_audio, z_text) of a HILBERT checkpoint as
    embedding stores."""
    from audiotext_cli.hilbert.embed import embed_documents

    fmt = output_format(fmt, as_json)
    info = embed_documents(source, model, out, device)
    title = f"{info['documents']} documents, dim {info['dim']}"
    _output.emit(fmt, info, _output.Table(("space", "store"), info["stores"].items(), title))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="embed")
