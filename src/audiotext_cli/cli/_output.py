"""All terminal output: results to stdout (table, JSON, JSONL or CSV), progress and messages
to stderr.

Results go through `emit`: a command hands over its full JSON document and the table(s) it
shows, and `--format` picks one. Output that is not a terminal (a pipe, a log file) never
wraps a table cell, so `audiotext info bad.wav | grep bad.wav` finds the row, and progress
becomes log lines (`_LineProgress`) instead of a bar that a log file would not show.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from rich.progress import Progress

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
_UNWRAPPED_WIDTH = 100_000  # wide enough that no cell of a piped table is folded


class Format(StrEnum):
    """`--format`: a table for people, JSON (the full document), JSONL or CSV (one row each)."""

    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


@dataclass
class Table:
    """Rows under column names; `key` columns (e.g. {"level": 1}) tell several tables of one
    command apart in the row formats (JSONL, CSV), where the title is not printed."""

    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]
    title: str | None = None
    key: dict[str, Any] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        return [self.key | dict(zip(self.columns, row, strict=True)) for row in self.rows]


def emit(
    fmt: Format,
    doc: Any,
    tables: Table | Sequence[Table],
    records: Sequence[dict[str, Any]] | None = None,
    header: Sequence[str] = (),
) -> None:
    """Print a command's result: `doc` for json, `tables` for table, and for jsonl/csv
    `records` (one dict per row) or else the tables' rows keyed by column name. `header`:
    the CSV columns when there are no records (else the first table's)."""
    tables = [tables] if isinstance(tables, Table) else list(tables)
    if fmt is Format.json:
        print_json(doc)
    elif fmt is Format.table:
        for table in tables:
            print_table(table.columns, table.rows, table.title)
    else:
        if records is None:
            records = [r for t in tables for r in t.records()]
            header = header or ([*tables[0].key, *tables[0].columns] if tables else ())
        records = [_plain(r) for r in records]  # dataclasses, paths, arrays -> plain values
        if fmt is Format.jsonl:
            print_jsonl(records)
        else:
            print_csv(records, header)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "__dataclass_fields__"):
        return {k: getattr(obj, k) for k in obj.__dataclass_fields__}
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _finite(obj: Any) -> Any:
    """NaN/inf are not JSON: write them as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _plain(obj: Any) -> Any:
    return _finite(json.loads(json.dumps(obj, default=_jsonable)))


def print_json(obj: Any) -> None:
    _write(json.dumps(_plain(obj), indent=2) + "\n")


def print_jsonl(records: Iterable[dict[str, Any]]) -> None:
    _write("".join(json.dumps(_plain(r), ensure_ascii=False) + "\n" for r in records))


def print_csv(records: Sequence[dict[str, Any]], header: Sequence[str] = ()) -> None:
    """CSV with a header of every column seen (first-seen order), or `header` when there
    are no records (an empty file does not open in pandas); the csv module quotes
    commas, quotes and newlines; lists and dicts are JSON in their cell."""
    columns = list(dict.fromkeys(k for r in records for k in r)) or list(header)
    writer = csv.DictWriter(sys.stdout, columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _csv_cell(v) for k, v in _plain(record).items()})
    sys.stdout.flush()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None
) -> None:
    """A rich table; on a terminal long cells fold to its width, elsewhere nothing wraps."""
    from rich.table import Table as RichTable

    terminal = out.is_terminal
    table = RichTable(title=title, show_lines=False)
    for name in columns:
        table.add_column(name, overflow="fold", no_wrap=not terminal)
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    console = out if terminal else Console(file=sys.stdout, width=_UNWRAPPED_WIDTH, soft_wrap=True)
    console.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.4e}"
    return "" if value is None else str(value)


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)  # a path may hold [x]


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {escape(message)}", highlight=False)


def info(message: str) -> None:
    err.print(message, highlight=False, markup=False)


def progress(*extra_fields: str, transient: bool = False) -> Progress | _LineProgress:
    """Progress on stderr; `extra_fields` are task fields shown after the count.

    A rich bar on a terminal; log lines elsewhere (see `_LineProgress`).
    """
    if not err.is_terminal:
        return _LineProgress(extra_fields)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[Any] = [
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    columns += [TextColumn(f"{{task.fields[{name}]}}") for name in extra_fields]
    return Progress(*columns, console=err, transient=transient)


@dataclass
class _Task:
    description: str
    total: float | None
    visible: bool
    fields: dict[str, Any]
    completed: float = 0
    logged: float = 0  # `completed` at the last line
    started: float = field(default_factory=time.monotonic)
    last_line: float | None = None  # when the last line was written


class _LineProgress:
    """The subset of rich's `Progress` the commands use, writing a line to stderr when a
    task's description changes (each training epoch), and each time it gets a tenth further
    (every `UNKNOWN_TOTAL_EVERY` items while its total is unknown) but at most one line per
    `MIN_INTERVAL_S`; a task that ends faster than that writes nothing, one that wrote a
    line writes its end."""

    UNKNOWN_TOTAL_EVERY = 100
    MIN_INTERVAL_S = 1.0

    def __init__(self, fields: Sequence[str]) -> None:
        self._fields = tuple(fields)
        self._tasks: list[_Task] = []

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self._tasks:  # the end of any task that wrote a line, or took a while
            if task.completed != task.logged and (task.last_line is not None or self._due(task)):
                self._log(task)

    def add_task(
        self, description: str, total: float | None = None, visible: bool = True, **fields: Any
    ) -> int:
        self._tasks.append(_Task(description, total, visible, fields))
        return len(self._tasks) - 1

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def update(
        self,
        task_id: int,
        *,
        completed: float | None = None,
        total: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        **fields: Any,
    ) -> None:
        task = self._tasks[task_id]
        if description is not None and description != task.description:
            if task.completed != task.logged:
                self._log(task)
            task.description = description
        task.total = task.total if total is None else total
        task.completed = completed if completed is not None else task.completed + (advance or 0)
        task.fields |= fields
        every = math.ceil(task.total / 10) if task.total else self.UNKNOWN_TOTAL_EVERY
        if task.completed - task.logged >= max(every, 1) and self._due(task):
            self._log(task)

    def _due(self, task: _Task) -> bool:
        return time.monotonic() - (task.last_line or task.started) >= self.MIN_INTERVAL_S

    def _log(self, task: _Task) -> None:
        task.logged, task.last_line = task.completed, time.monotonic()
        if not task.visible:
            return
        count = f"{task.completed:g}" + (f"/{task.total:g}" if task.total else "")
        extra = " ".join(str(task.fields.get(name, "")) for name in self._fields).strip()
        seconds = task.last_line - task.started
        info(f"{task.description}: {count} ({seconds:.0f} s){' ' + extra if extra else ''}")
