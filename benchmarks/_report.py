"""Shared by every benchmark: write one section of docs/benchmarks.md, with command and machine."""

from __future__ import annotations

import json
from pathlib import Path

from audiotext_cli.reporting import command_line, machine, markdown_table
from audiotext_cli.reporting import write_section as _write

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEach section is written by the script it names; rerun it to refresh.\n"

__all__ = ["markdown_table", "machine", "summary_row", "write_section", "write_summary"]


def write_section(name: str, body: str) -> None:
    """Replace (or append) the benchmark section `name`, stamped with command and machine."""
    stamped = f"{body.rstrip()}\n\nCommand: `{command_line()}`  \nMachine: {machine()}"
    _write(DOC, name, stamped, HEADER)


SUMMARY_JSON = DOC.with_name("benchmarks-summary.json")
QUESTIONS = {
    "embed_audio": "embed folder, x real time (per tower; rows embed_audio_<tower>)",
    "text_encoder": "embed text, mixed-length captions/s (2 cores)",
    "search_1m": "search p50 / p99 at 1M vectors (ms)",
    "index_build_1m": "index build at 1M vectors (s)",
    "nngs_100k": "compare-spaces NNGS at n=100k, exact (s)",
    "nngs_100k_approx": "compare-spaces --approx NNGS at n=100k (s)",
    "nngs_1m_approx": "compare-spaces --approx NNGS at n=1M (s)",
    "cka_100k": "linear CKA at n=100k (s)",
    "train_epoch": "training epoch on cached features (s)",
    "web_search": "web search latency (ms)",
}
"""Summary rows in table order; a key with a suffix (embed_audio_aisfx) sorts under its stem."""


def summary_row(
    key: str,
    ours: str,
    reference: str = "-",
    floor: str = "-",
    ratios: str = "-",
    question: str | None = None,
    command: str | None = None,
) -> None:
    """Record one row of the summary table (benchmarks-summary.json) and rewrite the table.

    Any benchmark may add or replace rows; the table lists every QUESTIONS key, with
    "not measured yet" where no script has reported, so the page shows what is missing.
    """
    rows = json.loads(SUMMARY_JSON.read_text()) if SUMMARY_JSON.exists() else {}
    stem = next((q for q in QUESTIONS if key == q or key.startswith(q + "_")), None)
    rows[key] = {
        "question": question or QUESTIONS.get(key) or QUESTIONS.get(stem or "", key),
        "ours": ours,
        "reference": reference,
        "floor": floor,
        "ratios": ratios,
        "command": command or command_line(),
    }
    SUMMARY_JSON.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n")
    write_summary()


def write_summary() -> None:
    """The summary section at the top of docs/benchmarks.md, from benchmarks-summary.json."""
    rows = json.loads(SUMMARY_JSON.read_text()) if SUMMARY_JSON.exists() else {}

    def rank(key: str) -> tuple[int, str]:
        order = list(QUESTIONS)
        stem = next((q for q in order if key == q or key.startswith(q + "_")), None)
        return (order.index(stem) if stem else len(order), key)

    table = []
    for key in sorted({*QUESTIONS, *rows}, key=rank):
        if key in rows:
            r = rows[key]
            table.append([r["question"], r["ours"], r["reference"], r["floor"], r["ratios"]])
        elif not any(k.startswith(key + "_") for k in rows):
            table.append([QUESTIONS[key], "not measured yet", "-", "-", "-"])
    body = (
        "## Summary\n\n"
        "Each row is written by the benchmark that measures it (`summary_row` in "
        "benchmarks/_report.py; data in docs/benchmarks-summary.json); the sections below "
        "hold the details and commands. The machine is a shared 2-core VM: compare within a "
        "row (ours, the reference and the floor are measured in the same run). This VM sets "
        "OPENBLAS_CORETYPE=Haswell, which halves numpy's and faiss's sgemm on its AVX-512 "
        "CPU (222 against 416 GFLOP/s), so the BLAS-bound rows ran as `env -u "
        "OPENBLAS_CORETYPE python benchmarks/...`, numpy's OpenBLAS choosing its own kernel "
        "as on any machine that does not force one (each section's machine line names it); "
        "faiss's older bundled OpenBLAS would fall back to SSE3 on this CPU, so audiotext "
        "names its kernel from the CPU flags (`audiotext_cli/blas.py`).\n\n"
        + markdown_table(["question", "ours", "reference (same run)", "floor", "ratios"], table)
    )
    _write(DOC, "summary", body, HEADER)
    text = DOC.read_text()
    start = "<!-- section:summary -->"
    block = start + text.split(start, 1)[1].split("<!-- /section:summary -->", 1)[0]
    block += "<!-- /section:summary -->"
    rest = text.replace(block, "").rstrip() + "\n"
    head, _, tail = rest.partition("\n<!-- section:")
    tail = ("\n<!-- section:" + tail) if tail else ""
    DOC.write_text(head.rstrip() + "\n\n" + block + "\n" + tail.replace("\n\n\n", "\n\n"))
