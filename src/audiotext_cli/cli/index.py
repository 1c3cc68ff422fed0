"""`audiotext index build|add|merge|info`: FAISS indexes over embedding stores (docs/index.md)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from audiotext_cli.cli import _output
from audiotext_cli.cli._options import (
    FormatOpt,
    IndexKind,
    JsonOpt,
    checked,
    group,
    output_format,
)
from audiotext_cli.errors import ConfigError

app = group("Build, extend, merge and describe FAISS indexes.")

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


_BYTES = checked(parse_bytes)


@app.command("build")
def index_build_cmd(
    store: Path = typer.Argument(..., help="Embedding store (from `embed folder|text`)."),
    out: Path = typer.Option(..., "--out", "-o", help="Index folder."),
    kind: IndexKind = typer.Option(IndexKind.auto, "--kind", help="Index type."),
    memory_budget: str = typer.Option(
        "4GB", "--memory-budget", help="For the auto rule.", callback=_BYTES
    ),
    param: list[str] = typer.Option(
        None,
        "--param",
        help="Index parameter KEY=VALUE (nlist, nprobe, M, ef_search, ...).",
        callback=checked(_parse_params),
    ),
    like: Path = typer.Option(
        None, "--like", help="Reuse this index's trained IVF centroids (mergeable shards)."
    ),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Build a FAISS index over a store; `auto` picks the kind by count and memory."""
    from audiotext_cli.index.faiss_index import build_index, choose_index, info
    from audiotext_cli.index.store import EmbeddingStore

    fmt = output_format(fmt, as_json)
    if like is not None and (kind is not IndexKind.auto or param):
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
            kind.value,
            **_parse_params(param or []),
        )
        _output.info(f"index: {spec.kind} ({spec.reason})")
    build_index(source, spec, out, memory_budget_bytes=budget, trained_from=like)
    _show_info(info(out), fmt)


@app.command("add")
def index_add_cmd(
    index: Path = typer.Argument(..., help="Index folder to extend."),
    store: Path = typer.Argument(..., help="Embedding store holding the new vectors."),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Add the store's vectors the index does not have yet, without rebuilding."""
    from audiotext_cli.index.faiss_index import add

    fmt = output_format(fmt, as_json)
    counts = add(index, store)
    if counts["stale"]:
        _output.warn(f"{counts['stale']} ids changed since indexing; rebuild to refresh them")
    _output.emit(fmt, counts, _output.Table(list(counts), [list(counts.values())]))


@app.command("merge")
def index_merge_cmd(
    indexes: list[Path] = typer.Argument(..., help="Index folders of one model."),
    out: Path = typer.Option(..., "--out", "-o", help="Merged index folder."),
    memory_budget: str = typer.Option("4GB", "--memory-budget", callback=_BYTES),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Join index shards (merge_from for IVF shards built --like one index; else rebuild)."""
    from audiotext_cli.index.faiss_index import info, merge

    fmt = output_format(fmt, as_json)
    merge(list(indexes), out, memory_budget_bytes=parse_bytes(memory_budget))
    _show_info(info(out), fmt)


@app.command("info")
def index_info_cmd(
    index: Path = typer.Argument(..., help="Index folder."),
    fmt: FormatOpt = _output.Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Describe an index (verifies its checksum)."""
    from audiotext_cli.index.faiss_index import info

    _show_info(info(index), output_format(fmt, as_json))


def _show_info(details: dict, fmt: _output.Format) -> None:
    """Field/value rows on a table; one row of every field in jsonl/csv."""
    table = _output.Table(["field", "value"], [[k, v] for k, v in details.items()])
    _output.emit(fmt, details, table, records=[details])


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="index")
