"""faiss's bundled OpenBLAS runs on the kernel the CPU allows, unless the user names one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from audiotext_cli.blas import cpu_flags, kernel_for

PROBE = """
import json, os
from threadpoolctl import threadpool_info
from audiotext_cli.blas import import_faiss
import_faiss()
arch = {i["filepath"].rsplit("/", 1)[-1]: i.get("architecture") for i in threadpool_info()
        if i.get("internal_api") == "openblas"}
print(json.dumps({"arch": arch, "left": os.environ.get("OPENBLAS_CORETYPE")}))
"""


def _probe(coretype: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_kernel_for_names_the_best_core_type_the_flags_allow() -> None:
    zen4 = {"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"}
    assert kernel_for(zen4) == "SkylakeX"
    assert kernel_for({"avx2", "fma", "avx512f"}) == "Haswell"  # no BW/DQ/VL: not SkylakeX
    assert kernel_for({"avx2", "fma"}) == "Haswell"
    assert kernel_for({"sse3"}) is None


@pytest.mark.skipif(kernel_for(cpu_flags()) is None, reason="CPU without AVX2+FMA")
def test_faiss_gets_the_cpus_kernel_and_the_environment_is_restored() -> None:
    got = _probe(None)
    faiss_blas = next(a for name, a in got["arch"].items() if "openblaso" in name)
    assert faiss_blas == kernel_for(cpu_flags())  # not the SSE3 fallback it picks alone
    assert got["left"] is None


def test_a_users_own_coretype_wins() -> None:
    got = _probe("Haswell")
    assert set(got["arch"].values()) == {"Haswell"} and got["left"] == "Haswell"
