"""`audiotext dedup`, `export` and `tag`: the sound-library commands (docs/library.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import FormatOpt, JsonOpt, output_format
from audiotext_cli.library.dedup import DEFAULT_THRESHOLD, MEMBER_FIELDS


def dedup_cmd(
    source: Path = typer.Argument(..., help="Embedding store or index folder."),
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD,
        "--threshold",
        min=-1.0,
        max=1.0,
        help="Cosine at or above which clips merge.",
    ),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Group exact (same content hash) and near duplicates, with a suggested keeper."""
    from audiotext_cli.library.dedup import find_duplicates

    fmt = output_format(fmt, as_json)
    groups = find_duplicates(source, threshold)
    records = [{"group": g["group"], "kind": g["kind"]} | m for g in groups for m in g["members"]]
    table = _output.Table(
        [
            "group",
            "kind",
            "keep",
            "similarity",
            "path",
            "format",
            "rate",
            "duration",
            "size",
            "sha256",
        ],
        [
            [
                r["group"],
                r["kind"],
                "keep" if r["keeper"] else "",
                r["similarity"],
                r["path"],
                r["format"],
                r["sample_rate"],
                r["duration"],
                r["size"],
                (r["sha256"] or "")[:12],  # the table's short form; other formats: all 64
            ]
            for r in records
        ],  # fmt: skip
        title=f"{len(groups)} duplicate groups (threshold {threshold})",
    )
    _output.emit(fmt, groups, table, records=records, header=["group", "kind", *MEMBER_FIELDS])


def export_cmd(
    store: Path = typer.Argument(..., help="Embedding store."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.csv or .parquet)."),
    fmt: str = typer.Option(
        None, "--format", help="csv or parquet [default: by the --out suffix, else csv]."
    ),
    vectors: bool = typer.Option(False, "--vectors", help="Include the embedding vectors."),
) -> None:
    """Write a store's ids, paths and metadata (and vectors) for pandas or a spreadsheet."""
    from audiotext_cli.library.export import export_store

    result = export_store(store, out, fmt, vectors)
    _output.info(
        f"{result['rows']} rows -> {result['out']} ({result['format']})"
        + (f" (vectors: {result['vectors_file']})" if result["vectors_file"] else "")
    )


def tag_cmd(
    store: Path = typer.Argument(..., help="Audio embedding store."),
    labels: Path = typer.Option(
        None, "--labels", help="Labels, one a line (default: the UCS 8.2.1 categories)."
    ),
    top: int = typer.Option(3, "--top", min=1, help="Labels kept per file."),
    write: bool = typer.Option(False, "--write", help="Store the tags in the store rows."),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Zero-shot tags per file from the store model's text embeddings of the labels."""
    from audiotext_cli.library.tag import read_labels, tag_records, tag_store

    fmt = output_format(fmt, as_json)
    tagged = tag_store(store, read_labels(labels), top, write)
    records = tag_records(tagged)
    table = _output.Table(
        ["id", "tags"],
        [
            [t["id"], ", ".join(f"{x['label']} ({x['score']:.2f})" for x in t["tags"])]
            for t in tagged
        ],  # fmt: skip
    )
    _output.emit(fmt, tagged, table, records, header=["id", "path", "rank", "label", "score"])
    if write:
        _output.info(f"tags written to {store}; rebuild its index for filters to see them")


def register(app: typer.Typer) -> None:
    app.command("dedup")(dedup_cmd)
    app.command("export")(export_cmd)
    app.command("tag")(tag_cmd)
