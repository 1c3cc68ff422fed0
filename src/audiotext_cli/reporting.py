"""Markdown reports that scripts regenerate: tables, and named sections rewritten in place.

Benchmarks and experiments each own one section of a document (between
`<!-- section:NAME -->` markers), so rerunning one script never disturbs the others.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def markdown_table(columns: list[str], rows: list[list[object]]) -> str:
    def cell(v: object) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line describing where the numbers came from."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        first = Path("/proc/cpuinfo").read_text().split("\n\n", 1)[0]  # the first processor
    except OSError:
        first = ""
    info = {k.strip(): v.strip() for k, _, v in (ln.partition(":") for ln in first.splitlines())}
    if "model name" in info:
        cpu = info["model name"]
    if "flags" in info:
        cpu += f" ({matrix_isa(set(info['flags'].split()))})"
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads){blas_kernel()}"
    )


def blas_kernel() -> str:
    """ ", numpy OpenBLAS <kernel>" as loaded, and the OPENBLAS_CORETYPE that forced it: a VM
    may set Haswell on an AVX-512 CPU, which halves numpy's (and faiss's) sgemm rate."""
    from threadpoolctl import threadpool_info

    arch = next(
        (i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"),
        None,
    )
    if not arch:
        return ""
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return f", numpy OpenBLAS {arch}" + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")


def matrix_isa(flags: set[str]) -> str:
    """The CPU features that set GEMM speed, from /proc/cpuinfo flags: a VM's model name may
    be bare ("AMD EPYC"), and bf16 runs ~2.5x fp32 with AVX-512 BF16, more with AMX."""
    vector = next((name for flag, name in _VECTOR_ISAS if flag in flags), "no AVX2")
    return f"{vector}, {'AMX' if 'amx_bf16' in flags else 'no AMX'}"


_VECTOR_ISAS = (("avx512_bf16", "AVX-512 BF16"), ("avx512f", "AVX-512"), ("avx2", "AVX2"))


def command_line() -> str:
    return "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])


def write_section(doc: Path, name: str, body: str, header: str) -> None:
    """Replace (or append) the section `name` of `doc`; `header` starts a new document."""
    start, end = f"<!-- section:{name} -->", f"<!-- /section:{name} -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = doc.read_text() if doc.exists() else header
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = doc.with_suffix(doc.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, doc)
