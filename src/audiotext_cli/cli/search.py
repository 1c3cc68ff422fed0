"""`audiotext search`: text or audio queries against an index (docs/index.md)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import FormatOpt, JsonOpt, output_format


def search_cmd(
    query: str = typer.Argument(None, help='Text query, e.g. "dog barking".'),
    index: Path = typer.Option(..., "--index", "-i", help="Index folder."),
    audio: Path = typer.Option(None, "--audio", help="Query by this audio file instead."),
    k: int = typer.Option(10, "-k", "--top-k", min=1, help="Number of hits."),
    where: str = typer.Option(
        None, "--where", help='Row conditions, e.g. "duration<5 and rate>=44100".'
    ),
    text_filter: str = typer.Option(
        None, "--filter", help='Terms over name + metadata: space AND, "," OR, "-" NOT.'
    ),
    rerank: bool = typer.Option(False, "--rerank", help="Blend in a BM25 match of the query."),
    rerank_weight: float = typer.Option(0.3, "--rerank-weight", min=0.0, max=1.0),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Search an index by text or by audio, with the model the index names.

    Audio against a caption index (from `embed text`) searches audio -> text. `--where`
    and `--filter` select rows before the top-k (docs/index.md, hybrid search).
    """
    from audiotext_cli.index.search import open_index, result_row, search_rows

    fmt = output_format(fmt, as_json)
    if (query is None) == (audio is None):
        raise typer.BadParameter("give either a text QUERY or --audio FILE")
    if query is not None and not query.strip():
        raise typer.BadParameter("the query is empty; give some words to search for")
    hits = search_rows(
        index,
        query,
        audio=audio,
        k=k,
        where=where,
        text_filter=text_filter,
        rerank=rerank,
        rerank_weight=rerank_weight,
    )
    size = len(open_index(index))
    if k > size:
        _output.info(f"note: -k {k} is more than the {size} items in the index; showing {size}")
    if fmt is not _output.Format.table:  # every field, full paths: the web API's rows
        empty_header = list(result_row({"id": ""}, 0, 0.0))  # a row's fields, for no hits
        _output.emit(fmt, hits, [], records=hits, header=empty_header)
        return
    captions = any(hit.get("text") is not None for hit in hits)
    title = f'"{query}"' if audio is None else f"like {audio}"
    shown = [h.get("text") for h in hits]
    if not captions:  # paths under their common folder, named once in the title: no wrapping
        root = os.path.commonpath([os.path.dirname(h["path"]) for h in hits]) if hits else ""
        shown = [os.path.relpath(h["path"], root) if root else h["path"] for h in hits]
        title += f" in {root}" if root else ""
    _output.print_table(
        ["rank", "score", "caption" if captions else "path", "duration", "about"],
        [
            [h["rank"], h["score"], text, h["duration"], _about(h)]
            for h, text in zip(hits, shown, strict=True)
        ],
        title=title,
    )


def _about(hit: dict) -> str:
    """A short line of what the file says about itself (UCS category, title, description)."""
    meta = hit.get("metadata") or {}
    keys = ("category_full", "title", "description", "comment", "note")
    parts = [str(meta[k]) for k in keys if meta.get(k)] + list(hit.get("tags") or [])
    return "; ".join(parts)[:80]


def register(app: typer.Typer) -> None:
    app.command("search")(search_cmd)
