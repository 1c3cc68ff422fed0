"""`audiotext data build|validate|stats|build-docs`: build a corpus from packages, check and
describe it, or render the HILBERT documents corpus."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import (
    CorpusSize,
    DocsSize,
    FormatOpt,
    JsonOpt,
    group,
    output_format,
)

app = group("Build and check corpora.")


def build(
    out: Path = typer.Option(None, "--out", help="Corpus folder [default: <home>/corpus]."),
    size: CorpusSize = typer.Option(CorpusSize.default, "--size", help="Corpus size."),
    seed: int = typer.Option(0, "--seed", help="Seed for note lengths, subsets and the val split."),
    workers: int = typer.Option(2, "--workers", min=1, help="Rendering processes."),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Download the packages (cached), render and decode every clip, write the manifests.

    --format json prints build.json; the rows are clips per split/source."""
    from audiotext_cli import paths
    from audiotext_cli.data.build import build_corpus

    fmt = output_format(fmt, as_json)
    out = out or paths.home() / "corpus"
    with _output.progress() as bar:
        task = bar.add_task(f"building {size} corpus", total=None)
        info = build_corpus(
            out,
            size.value,
            seed,
            workers=workers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    rows = list(info["counts"]["split_source"].items())
    _output.emit(fmt, info, _output.Table(("split/source", "clips"), rows, title=f"{out}"))
    if fmt is _output.Format.json:
        return
    _output.info(
        f"{info['rendered_clips']} clips made, {info['reused_clips']} reused, "
        f"{len(info['dropped'])} dropped, {info['hours']} h, {info['seconds']} s"
    )


def validate(
    manifest: Path = typer.Argument(..., help="A manifest (JSONL)."),
    check_audio: bool = typer.Option(
        True,
        "--check-audio/--no-check-audio",
        help="Check that every audio file exists and decodes (as `info` does).",
    ),
    header_only: bool = typer.Option(
        False,
        "--header-only",
        help="Read audio headers only: fast, but misses NaN, silence and truncated FLAC/MP3.",
    ),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Report every problem in a manifest with its line number; exit 1 if there is any.

    The table format reports them on stderr; json, jsonl and csv print them on stdout."""
    from audiotext_cli.audio.io import probe, verify
    from audiotext_cli.data.manifest import validate_manifest

    fmt = output_format(fmt, as_json)
    check = probe if header_only else verify
    problems = validate_manifest(manifest, check_audio=check_audio, audio_check=check)
    if fmt is _output.Format.table:
        for line in problems:
            _output.error(line)
    else:
        doc = {"manifest": manifest, "ok": not problems, "problems": problems}
        _output.emit(fmt, doc, _output.Table(("problem",), [(p,) for p in problems]))
    if problems:
        raise typer.Exit(1)
    _output.info(f"{manifest}: ok")


def stats(
    manifest: Path = typer.Argument(..., help="A manifest (JSONL)."),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Clips, hours, counts per split/source/level, and the chance level of each task."""
    from audiotext_cli.data.manifest import manifest_stats, read_manifest

    fmt = output_format(fmt, as_json)
    result = manifest_stats(read_manifest(manifest, check_audio=False))
    rows = [("clips", result["clips"]), ("hours", result["hours"])]
    rows += [(f"split {k}", v) for k, v in result["split"].items()]
    rows += [(f"source {k}", v) for k, v in result["source"].items()]
    rows += [(f"captions at level {k}", v) for k, v in result["captions_per_level"].items()]
    for name, lv in result["labels"].items():
        rows.append(
            (
                f"{name} classes / chance / majority",
                f"{lv['classes']} / {lv['chance']:.4f} / {lv['majority']:.4f}",
            )
        )
    rows.append(("retrieval chance R@1", f"{1 / max(result['clips'], 1):.5f}"))
    _output.emit(fmt, result, _output.Table(("statistic", "value"), rows, title=str(manifest)))


def build_docs(
    out: Path = typer.Option(None, "--out", help="Corpus folder [default: <home>/corpora/...]."),
    size: DocsSize = typer.Option(
        DocsSize.default, "--size", help="small (24 docs) or default (480 docs)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of every per-document draw."),
    workers: int = typer.Option(2, "--workers", min=1, help="Rendering processes."),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Render the "fortune interviews" corpus: espeak-ng monologues of Debian fortunes.

    Prints the corpus folder (json: with its document count and seconds)."""
    import time

    from audiotext_cli import paths
    from audiotext_cli.hilbert.docs_corpus import SIZES, build_docs

    fmt = output_format(fmt, as_json)
    n_docs, seg_range = SIZES[size.value]
    out = out or paths.home() / "corpora" / f"fortune-interviews-{size.value}-s{seed}"
    start = time.perf_counter()
    with _output.progress() as bar:
        task = bar.add_task("rendering documents", total=n_docs)
        build_docs(out, n_docs, seg_range, seed, workers, on_done=lambda _: bar.advance(task))
    seconds = round(time.perf_counter() - start, 1)
    _output.info(f"{out}: {n_docs} documents in {seconds} s")
    if fmt is _output.Format.table:
        typer.echo(str(out))  # the folder alone, for $(audiotext data build-docs)
    else:
        doc = {"corpus": out, "documents": n_docs, "seconds": seconds}
        _output.emit(fmt, doc, _output.Table(tuple(doc), [tuple(doc.values())]))


def register(root: typer.Typer) -> None:
    app.command("build")(build)
    app.command("validate")(validate)
    app.command("stats")(stats)
    app.command("build-docs")(build_docs)
    root.add_typer(app, name="data")
