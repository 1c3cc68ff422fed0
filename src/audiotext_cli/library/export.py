"""`audiotext export STORE --out FILE [--format csv|parquet] [--vectors]`: ids, paths,
metadata (and the vectors) of a store for pandas; the format defaults to the suffix.
CSV: nested metadata as `metadata.KEY` columns (lists joined by "; "), vectors in a
`.npy` beside it (row-aligned). Parquet (pyarrow): metadata as its own columns too,
vectors as a fixed-size list column.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.errors import UsageError
from audiotext_cli.index.store import EmbeddingStore

FORMATS = ("csv", "parquet")
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet"}  # anything else: csv


def format_for(out: str | Path, fmt: str | None) -> str:
    """The export format: `fmt` when given, else from the file name (a `.parquet` file
    written as CSV would only fail later, in pandas)."""
    fmt = fmt or _SUFFIXES.get(Path(out).suffix.lower(), "csv")
    if fmt not in FORMATS:
        raise UsageError(f"export format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt


def columns_of(records: list[dict[str, Any]]) -> list[str]:
    """id and path first, the other row fields as first seen, then `metadata.*` sorted (a
    key first met on a later row would otherwise land between unrelated columns)."""
    seen = list(dict.fromkeys(k for r in records for k in r))
    meta = sorted(c for c in seen if c.startswith("metadata."))
    head = [c for c in ("id", "path") if c in seen]
    return head + [c for c in seen if c not in meta and c not in head] + meta


def flat_record(row: dict[str, Any]) -> dict[str, Any]:
    """A row with `metadata` spread into `metadata.KEY` and lists joined by '; '."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "metadata" and isinstance(value, dict):
            for mkey, mvalue in value.items():
                out[f"metadata.{mkey}"] = _scalar(mvalue)
        else:
            out[key] = _scalar(value)
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def export_store(
    store: str | Path, out: str | Path, fmt: str | None = None, vectors: bool = False
) -> dict[str, Any]:
    """Write the store's rows to `out` (format: `fmt`, else by the suffix of `out`);
    returns {rows, out, format, vectors_file}."""
    fmt = format_for(out, fmt)
    ids, emb, rows = EmbeddingStore.open(store).load()
    records = [flat_record(r) for r in rows]
    columns = columns_of(records)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "rows": len(rows),
        "out": str(out),
        "format": fmt,
        "vectors_file": None,
    }
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({c: [r.get(c) for r in records] for c in columns})
        if vectors:
            flat = pa.array(emb.mean.reshape(-1), pa.float32())
            table = table.append_column(
                "vector", pa.FixedSizeListArray.from_arrays(flat, emb.mean.shape[1])
            )
        pq.write_table(table, out)
        return result
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(records)
    if vectors:
        npy = out.with_suffix(".npy")
        np.save(npy, emb.mean)
        result["vectors_file"] = str(npy)
    return result
