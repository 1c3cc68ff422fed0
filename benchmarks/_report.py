"""Shared by every benchmark: write one section of docs/benchmarks.md, with command and machine."""

from __future__ import annotations

from pathlib import Path

from audiotext_cli.reporting import command_line, machine, markdown_table
from audiotext_cli.reporting import write_section as _write

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEach section is written by the script it names; rerun it to refresh.\n"

__all__ = ["markdown_table", "machine", "write_section"]


def write_section(name: str, body: str) -> None:
    """Replace (or append) the benchmark section `name`, stamped with command and machine."""
    stamped = f"{body.rstrip()}\n\nCommand: `{command_line()}`  \nMachine: {machine()}"
    _write(DOC, name, stamped, HEADER)
