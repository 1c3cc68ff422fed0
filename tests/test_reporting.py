"""Benchmark stamps: the machine line names the CPU features that set GEMM speed."""

from __future__ import annotations

from audiotext_cli.reporting import machine, matrix_isa


def test_matrix_isa_names_the_best_vector_unit_and_amx() -> None:
    zen4 = {"avx2", "avx512f", "avx512_bf16", "avx512_vnni"}
    assert matrix_isa(zen4) == "AVX-512 BF16, no AMX"
    assert matrix_isa(zen4 | {"amx_bf16", "amx_tile"}) == "AVX-512 BF16, AMX"
    assert matrix_isa({"avx2", "avx512f"}) == "AVX-512, no AMX"
    assert matrix_isa({"avx2"}) == "AVX2, no AMX"
    assert matrix_isa(set()) == "no AVX2, no AMX"


def test_machine_line_has_cores_and_threads() -> None:
    line = machine()
    assert " cores, Python " in line and "threads)" in line


def test_machine_line_names_the_blas_kernel_and_what_forced_it(monkeypatch) -> None:
    import numpy as np
    from threadpoolctl import threadpool_info

    np.ones((2, 2)) @ np.ones((2, 2))
    arch = next(i["architecture"] for i in threadpool_info() if i["internal_api"] == "openblas")
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert f"numpy OpenBLAS {arch} (OPENBLAS_CORETYPE=Haswell)" in machine()
    monkeypatch.delenv("OPENBLAS_CORETYPE")
    assert machine().endswith(f"numpy OpenBLAS {arch}")
