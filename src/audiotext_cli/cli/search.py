"""CLI: `embed folder|text|merge`, `index build|add|merge|info` and `search` (docs/index.md)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import typer

from audiotext_cli.cli import _groups, _output
from audiotext_cli.errors import ConfigError

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40}


def parse_bytes(text: str) -> int:
    """'4GB', '512MiB', '1e9' -> bytes."""
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).upper() if match else None
    if match is None or unit not in _UNITS:
        raise ConfigError(f"not a memory size: {text!r} (e.g. 4GB, 512MiB)")
    return int(float(match.group(1)) * _UNITS[unit])


def _parse_params(pairs: list[str]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param wants KEY=VALUE, got {pair!r}")
        params[key] = int(value) if value.lstrip("-").isdigit() else value
    return params


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


@_groups.embed_app.command("folder")
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


@_groups.embed_app.command("text")
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


@_groups.embed_app.command("merge")
def embed_merge_cmd(
    stores: list[Path] = typer.Argument(..., help="Stores of one model (e.g. --shard outputs)."),
    out: Path = typer.Option(..., "--out", "-o", help="Merged store folder."),
) -> None:
    """Join embedding stores of the same model into one."""
    from audiotext_cli.index.store import merge_stores

    merged = merge_stores(stores, out)
    _output.print_table(["store", "vectors"], [[str(out), len(merged)]])


@_groups.index_app.command("build")
def index_build_cmd(
    store: Path = typer.Argument(..., help="Embedding store (from `embed folder|text`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Index folder."),
    kind: str = typer.Option("auto", "--kind", help="auto, flat, hnsw, ivf or ivfpq."),
    memory_budget: str = typer.Option("4GB", "--memory-budget", help="For the auto rule."),
    param: list[str] = typer.Option(
        None, "--param", help="Index parameter KEY=VALUE (nlist, nprobe, M, ef_search, ...)."
    ),
    like: Path = typer.Option(
        None, "--like", help="Reuse this index's trained IVF centroids (mergeable shards)."
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Build a FAISS index over a store; `auto` picks the kind by count and memory."""
    from audiotext_cli.index.faiss_index import build_index, choose_index, info
    from audiotext_cli.index.store import EmbeddingStore

    if like is not None and (kind != "auto" or param):
        raise typer.BadParameter("--like takes the kind and parameters of that index")
    source = EmbeddingStore.open(store)
    budget = parse_bytes(memory_budget)
    spec = None
    if like is None:
        meta = source.meta
        spec = choose_index(
            len(source),
            meta["dim"],
            budget,
            meta["probabilistic"],
            kind,
            **_parse_params(param or []),
        )
        _output.info(f"index: {spec.kind} ({spec.reason})")
    build_index(source, spec, out, memory_budget_bytes=budget, trained_from=like)
    _show_info(info(out), as_json)


@_groups.index_app.command("add")
def index_add_cmd(
    index: Path = typer.Argument(..., help="Index folder to extend."),
    store: Path = typer.Argument(..., help="Embedding store holding the new vectors."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add the store's vectors the index does not have yet, without rebuilding."""
    from audiotext_cli.index.faiss_index import add

    counts = add(index, store)
    if counts["stale"]:
        _output.warn(f"{counts['stale']} ids changed since indexing; rebuild to refresh them")
    if as_json:
        _output.print_json(counts)
    else:
        _output.print_table(list(counts), [list(counts.values())])


@_groups.index_app.command("merge")
def index_merge_cmd(
    indexes: list[Path] = typer.Argument(..., help="Index folders of one model."),
    out: Path = typer.Option(..., "--out", "-o", help="Merged index folder."),
    memory_budget: str = typer.Option("4GB", "--memory-budget"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Join index shards (merge_from for IVF shards built --like one index; else rebuild)."""
    from audiotext_cli.index.faiss_index import info, merge

    merge(list(indexes), out, memory_budget_bytes=parse_bytes(memory_budget))
    _show_info(info(out), as_json)


@_groups.index_app.command("info")
def index_info_cmd(
    index: Path = typer.Argument(..., help="Index folder."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Describe an index (verifies its checksum)."""
    from audiotext_cli.index.faiss_index import info

    _show_info(info(index), as_json)


def _show_info(details: dict, as_json: bool) -> None:
    if as_json:
        _output.print_json(details)
    else:
        _output.print_table(["field", "value"], [[k, v] for k, v in details.items()])


def search_cmd(
    query: str = typer.Argument(None, help='Text query, e.g. "dog barking".'),
    index: Path = typer.Option(..., "--index", "-i", help="Index folder."),
    audio: Path = typer.Option(None, "--audio", help="Query by this audio file instead."),
    k: int = typer.Option(10, "-k", "--top-k", min=1, help="Number of hits."),
    as_json: bool = typer.Option(False, "--json", help="Print hits as JSON."),
) -> None:
    """Search an index by text or by audio, with the model the index names.

    Audio against a caption index (from `embed text`) searches audio -> text.
    """
    from audiotext_cli.index.search import search_audio, search_text

    if (query is None) == (audio is None):
        raise typer.BadParameter("give either a text QUERY or --audio FILE")
    hits = search_text(index, query, k) if audio is None else search_audio(index, audio, k)
    if as_json:
        _output.print_json(hits)
        return
    captions = any(hit.text is not None for hit in hits)
    title = f'"{query}"' if audio is None else f"like {audio}"
    shown = [h.text for h in hits]
    if not captions:  # paths under their common folder, named once in the title: no wrapping
        root = os.path.commonpath([os.path.dirname(h.path) for h in hits]) if hits else ""
        shown = [os.path.relpath(h.path, root) if root else h.path for h in hits]
        title += f" in {root}" if root else ""
    _output.print_table(
        ["rank", "score", "caption" if captions else "path", "duration"],
        [[h.rank, h.score, text, h.duration] for h, text in zip(hits, shown, strict=True)],
        title=title,
    )


def register(app: typer.Typer) -> None:
    """`embed` and `index` commands register on the shared groups at import; `search` here."""
    app.command("search")(search_cmd)
