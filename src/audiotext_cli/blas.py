"""Which OpenBLAS kernel faiss runs on.

faiss-cpu bundles its own OpenBLAS (0.3.15), which predates Zen 4: with nothing set it
falls back to the SSE3 "Prescott" kernel there (threadpoolctl says so) while numpy's newer
OpenBLAS picks AVX-512, and faiss's k-means and IVF assignment ran ~2x slower than with a
kernel named. Each library reads OPENBLAS_CORETYPE once, when it loads, so faiss is
imported with the best kernel the CPU's flags allow named for it, and the variable is
restored at once; a user's own OPENBLAS_CORETYPE always wins.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

SKYLAKEX = {"avx512f", "avx512bw", "avx512dq", "avx512vl"}
HASWELL = {"avx2", "fma"}


def kernel_for(flags: set[str]) -> str | None:
    """The OpenBLAS core type a CPU with these /proc/cpuinfo flags can run, best first."""
    if flags >= SKYLAKEX:
        return "SkylakeX"
    if flags >= HASWELL:
        return "Haswell"
    return None


def cpu_flags() -> set[str]:
    """The first processor's flags from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


@cache
def import_faiss() -> Any:
    """`import faiss`, its OpenBLAS on the kernel `kernel_for` names unless the user set one."""
    import numpy  # noqa: F401  (numpy's OpenBLAS loads first, reading the variable as the user left it)

    kernel = None if os.environ.get("OPENBLAS_CORETYPE") else kernel_for(cpu_flags())
    if kernel:
        os.environ["OPENBLAS_CORETYPE"] = kernel
    try:
        import faiss
    finally:
        if kernel:
            del os.environ["OPENBLAS_CORETYPE"]
    return faiss
