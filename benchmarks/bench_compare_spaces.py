"""How fast is `compare-spaces` against its floor and the naive way, exact and --approx?

1. Exact kNN graphs (both spaces) + NNGS: ours (symmetric numpy-sgemm blocks, thresholded
   running top-k) against the GEMM floor measured in the same run (the n^2 d / 2 FLOPs of
   the half Gram that ours multiplies, and the n^2 d of a full Gram, at the sgemm rate of
   a 4096 x 8192 x 512 probe), and against sklearn brute + Python sets where that is
   feasible.
2. --approx (IVF join): time, measured recall and NNGS error against exact at the sizes
   given (n = 1M with --million: bounded memory, peak RSS reported).
3. Linear CKA: feature-Gram form (ours, float64 blocks) vs the n x n kernel form.

Data: clustered spaces (1000 Gaussian clusters, sigma 0.7; B = A R + noise), since
real embeddings are clustered and ANN recall on isotropic random vectors says nothing.

Run: .venv/bin/python benchmarks/bench_compare_spaces.py [--big 100000] [--million]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown_table, summary_row, write_section  # noqa: E402

from audiotext_cli.metrics.approx import (  # noqa: E402
    TRAIN_PER_CELL,
    ApproxParams,
    approx_knn_graph,
    graph_quality,
)
from audiotext_cli.metrics.cka import linear_cka  # noqa: E402
from audiotext_cli.metrics.knn import knn_graph  # noqa: E402
from audiotext_cli.metrics.nngs import jaccard_per_item  # noqa: E402


def spaces(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two related clustered float32 spaces: B is a random linear map of A plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, d), dtype=np.float32)
    A = centres[rng.integers(0, 1000, n)]
    A += 0.7 * rng.standard_normal((n, d), dtype=np.float32)
    R = rng.standard_normal((d, d), dtype=np.float32) / np.sqrt(d)
    B = A @ R
    B += 0.5 * rng.standard_normal((n, d), dtype=np.float32)
    return A, B


def sgemm_gflops(d: int) -> float:
    """Best of 3 numpy sgemm (4096 x d) @ (d x 8192), the shape of our blocks."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4096, d), dtype=np.float32)
    b = rng.standard_normal((8192, d), dtype=np.float32)
    out = np.empty((4096, 8192), dtype=np.float32)
    best = np.inf
    for _ in range(4):
        start = time.perf_counter()
        np.matmul(a, b.T, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * 4096 * 8192 * d / best / 1e9


def approx_floor_s(n: int, d: int, params: ApproxParams, gflops: float) -> float:
    """GEMM FLOPs of both spaces' IVF joins at the sgemm rate, as if cells were equal:
    k-means (niter passes of TRAIN_PER_CELL * nlist rows against nlist centroids), each
    point against the centroids, and each point against its nprobe cells of n / nlist."""
    nlist = params.cells(n)
    kmeans = params.niter * TRAIN_PER_CELL * nlist * nlist
    pairs = kmeans + n * nlist + n * params.nprobe * n / nlist
    return 2 * 2 * d * pairs / (gflops * 1e9)


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def exact_nngs(A, B, k, metric):
    return jaccard_per_item(knn_graph(A, k, metric), knn_graph(B, k, metric))


def approx_nngs(A, B, k, metric, params):
    GA, GB = approx_knn_graph(A, k, metric, params), approx_knn_graph(B, k, metric, params)
    return GA, GB, jaccard_per_item(GA, GB)


def naive_nngs(A, B, k, metric):
    from sklearn.neighbors import NearestNeighbors

    def sets(Z):
        _, idx = (
            NearestNeighbors(n_neighbors=k + 1, metric=metric, algorithm="brute")
            .fit(Z)
            .kneighbors(Z)
        )
        return [set(r) - {i} if i in r else set(r[:k]) for i, r in enumerate(idx.tolist())]

    sa, sb = sets(A), sets(B)
    return np.array([len(a & b) / len(a | b) for a, b in zip(sa, sb, strict=True)])


def kernel_cka(A, B):
    """The n x n form: <Kc, Lc>_F / (|Kc| |Lc|) with K = Ac Ac' (centred rows, float32)."""
    Ac, Bc = A - A.mean(0), B - B.mean(0)
    K, L = Ac @ Ac.T, Bc @ Bc.T
    kl = float(np.sum(K * L, dtype=np.float64))
    return kl / np.sqrt(
        float(np.sum(K * K, dtype=np.float64)) * float(np.sum(L * L, dtype=np.float64))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive", type=int, nargs="*", default=[5000])
    parser.add_argument("--big", type=int, nargs="*", default=[100000])
    parser.add_argument("--approx", type=int, nargs="*", default=[100000])
    parser.add_argument("--million", action="store_true", help="also --approx at n = 1M")
    parser.add_argument("--nprobe", type=int, default=8)
    parser.add_argument("--cka", type=int, nargs="*", default=[5000, 10000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--metric", default="cosine")
    args = parser.parse_args()
    d, k, metric = args.dim, args.k, args.metric

    exact_rows = []
    for n in sorted({*args.naive, *args.big}):
        A, B = spaces(n, d)
        gflops = sgemm_gflops(d)
        t_ours, ours = timed(exact_nngs, A, B, k, metric)
        half = 2 * n * n * d / (gflops * 1e9)  # two graphs, n^2 d / 2 multiply-adds each
        naive = "skipped (n^2 Python)"
        if n in args.naive:
            t_naive, ref = timed(naive_nngs, A, B, k, metric)
            naive = f"{t_naive:.2f} (NNGS equal: {np.mean(np.isclose(ours, ref)):.4%})"
        exact_rows.append(
            [
                n,
                f"{t_ours:.2f}",
                f"{gflops:.0f}",
                f"{half:.2f}",
                f"{2 * half:.2f}",
                f"{t_ours / half:.2f}x",
                f"{t_ours / (2 * half):.2f}x",
                naive,
                f"{ours.mean():.4f}",
            ]
        )
        print(exact_rows[-1], flush=True)
        if n == 100000:
            summary_row(
                "nngs_100k",
                f"{t_ours:.1f} s",
                naive if n in args.naive else "sklearn brute: n^2 Python sets, not run",
                f"{half:.1f} s (half Gram at {gflops:.0f} GFLOP/s); full Gram {2 * half:.1f} s",
                f"{t_ours / half:.2f}x half-Gram floor, {t_ours / (2 * half):.2f}x full",
            )

    approx_rows = []
    sizes = sorted({*args.approx, *([1000000] if args.million else [])})
    params = ApproxParams(nprobe=args.nprobe)
    for n in sizes:
        A, B = spaces(n, d)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        t_approx, (GA, GB, per_item) = timed(approx_nngs, A, B, k, metric, params)
        t_check, q = timed(graph_quality, A, B, GA, GB, metric)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        approx_rows.append(
            [
                n,
                params.cells(n),
                params.nprobe,
                f"{t_approx:.2f}",
                f"{t_check:.2f}",
                f"{q['recall_a']:.4f} / {q['recall_b']:.4f}",
                f"{per_item.mean():.4f}",
                f"{q['nngs_error']:+.4f} ± {q['nngs_error_se']:.4f}",
                f"{peak:.1f} ({rss0:.1f} before)",
            ]
        )
        print(approx_rows[-1], flush=True)
        key = {100000: "nngs_100k_approx", 1000000: "nngs_1m_approx"}.get(n)
        if key:
            exact_t = next((r[1] for r in exact_rows if r[0] == n), None)
            gflops = sgemm_gflops(d)
            floor = approx_floor_s(n, d, params, gflops)
            summary_row(
                key,
                f"{t_approx + t_check:.1f} s (graphs + NNGS {t_approx:.1f} s, "
                f"check {t_check:.1f} s)",
                f"exact: {exact_t} s" if exact_t else "exact: not run at this n",
                f"{floor:.1f} s (the IVF joins' GEMM FLOPs, equal cells, at {gflops:.0f} "
                "GFLOP/s sgemm)",
                f"{t_approx / floor:.1f}x floor (graphs + NNGS); "
                f"recall {q['recall_a']:.3f}/{q['recall_b']:.3f}, NNGS error "
                f"{q['nngs_error']:+.4f}; peak RSS {peak:.1f} GB",
            )
        del A, B, GA, GB

    cka_rows = []
    for n in [*args.cka, *args.big]:
        A, B = spaces(n, d, seed=1)
        t_feat, feat = timed(linear_cka, A, B)
        if n in args.cka:
            t_kern, kern = timed(kernel_cka, A, B)
            cka_rows.append(
                [
                    n,
                    f"{t_kern:.2f}",
                    f"{t_feat:.3f}",
                    f"{t_kern / t_feat:.1f}x",
                    f"{kern:.6f}",
                    f"{feat:.6f}",
                ]
            )
        else:
            floor = 3 * 2 * n * d * d / (sgemm_gflops(d) * 1e9)
            cka_rows.append(
                [n, "skipped (two n x n Grams)", f"{t_feat:.3f}", "-", "-", f"{feat:.6f}"]
            )
            summary_row(
                "cka_100k" if n == 100000 else f"cka_{n}",
                f"{t_feat:.2f} s",
                "n x n kernel form: 2 x 40 GB Grams, infeasible",
                f"{floor:.2f} s (three d x d Grams, n d^2 each, float32 sgemm rate)",
                f"{t_feat / floor:.1f}x floor (ours accumulates in float64)",
            )
        print(cka_rows[-1], flush=True)

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    body = (
        f"### Exact kNN graphs (both spaces) + NNGS, d={d}, k={k}, {metric}, float32 (wall s)\n\n"
        + markdown_table(
            [
                "n",
                "ours (s)",
                "sgemm GFLOP/s (same run)",
                "floor: half Gram (s)",
                "floor: full Gram (s)",
                "ours / half floor",
                "ours / full floor",
                "naive: sklearn brute + Python sets (s)",
                "NNGS",
            ],
            exact_rows,
        )
        + f"\n\n### --approx (IVF join, faiss k-means), d={d}, k={k}, {metric}\n\n"
        "Recall and NNGS error are measured against exact search on 1000 sampled rows "
        "(`graph_quality`), the same check `compare-spaces --approx` prints.\n\n"
        + markdown_table(
            [
                "n",
                "nlist",
                "nprobe",
                "graphs + NNGS (s)",
                "exact check (s)",
                "recall A / B",
                "NNGS",
                "NNGS error (± s.e.)",
                "peak RSS GB",
            ],
            approx_rows,
        )
        + f"\n\n### Linear CKA, d={d} (wall s)\n\n"
        + markdown_table(
            [
                "n",
                "n x n kernel form (float32)",
                "ours: feature Gram (float64 blocks)",
                "speed-up",
                "CKA kernel",
                "CKA ours",
            ],
            cka_rows,
        )
        + f"\n\nPeak RSS of the whole run: {peak_gb:.2f} GB.\n"
    )
    print(body)
    write_section("compare_spaces", body)


if __name__ == "__main__":
    main()
