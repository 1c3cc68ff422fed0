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
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Search an index by text or by audio, with the model the index names.

    Audio against a caption index (from `embed text`) searches audio -> text.
    """
    from audiotext_cli.index.search import search_audio, search_text

    fmt = output_format(fmt, as_json)
    if (query is None) == (audio is None):
        raise typer.BadParameter("give either a text QUERY or --audio FILE")
    hits = search_text(index, query, k) if audio is None else search_audio(index, audio, k)
    if fmt is not _output.Format.table:  # every field, full paths
        _output.emit(fmt, hits, [], records=hits)
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
    app.command("search")(search_cmd)
