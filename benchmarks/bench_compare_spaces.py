"""How fast is `compare-spaces`, against the naive way, and does it scale to n = 100k?

1. kNN graphs + NNGS: ours (faiss flat, BLAS path forced, query blocks, sorted-merge
   overlap) vs sklearn NearestNeighbors(brute) + Python sets, at sizes where naive is feasible,
   then ours alone at the large size.
2. Linear CKA: feature-Gram form (ours, float64 blocks) vs the n x n kernel form <Kc, Lc>.

Run: .venv/bin/python benchmarks/bench_compare_spaces.py [--knn 5000 20000] [--big 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown_table, write_section  # noqa: E402

from audiotext_cli.metrics.cka import linear_cka  # noqa: E402
from audiotext_cli.metrics.knn import knn_graph  # noqa: E402
from audiotext_cli.metrics.nngs import jaccard_per_item  # noqa: E402


def spaces(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two related float32 spaces: B is a random linear map of A plus noise."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d), dtype=np.float32)
    R = rng.standard_normal((d, d), dtype=np.float32) / np.sqrt(d)
    B = A @ R + rng.standard_normal((n, d), dtype=np.float32)
    return A, B


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def ours_nngs(A, B, k, metric):
    return jaccard_per_item(knn_graph(A, k, metric), knn_graph(B, k, metric))


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
    parser.add_argument("--knn", type=int, nargs="*", default=[5000, 20000])
    parser.add_argument("--big", type=int, nargs="*", default=[100000])
    parser.add_argument("--cka", type=int, nargs="*", default=[5000, 10000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--metric", default="cosine")
    args = parser.parse_args()
    d, k, metric = args.dim, args.k, args.metric

    knn_rows = []
    for n in args.knn + args.big:
        A, B = spaces(n, d)
        t_ours, ours = timed(ours_nngs, A, B, k, metric)
        if n in args.knn:
            t_naive, naive = timed(naive_nngs, A, B, k, metric)
            agree = f"{np.mean(np.isclose(ours, naive)):.4%}"
            row = [n, f"{t_naive:.2f}", f"{t_ours:.2f}", f"{t_naive / t_ours:.1f}x", agree]
        else:
            row = [n, "skipped (n^2 time)", f"{t_ours:.2f}", "-", "-"]
        knn_rows.append([*row, f"{ours.mean():.4f}"])
        print(knn_rows[-1], flush=True)

    cka_rows = []
    for n in args.cka:
        A, B = spaces(n, d, seed=1)
        t_feat, feat = timed(linear_cka, A, B)
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
        print(cka_rows[-1], flush=True)
    for n in args.big:
        A, B = spaces(n, d, seed=1)
        t_feat, feat = timed(linear_cka, A, B)
        cka_rows.append([n, "skipped (two n x n Grams)", f"{t_feat:.3f}", "-", "-", f"{feat:.6f}"])
        print(cka_rows[-1], flush=True)

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    body = (
        f"### kNN graphs (both spaces) + NNGS, d={d}, k={k}, {metric}, float32 (wall s)\n\n"
        + markdown_table(
            [
                "n",
                "naive: sklearn brute + Python sets",
                "ours: faiss blocked + sorted merge",
                "speed-up",
                "per-item NNGS equal",
                "NNGS",
            ],
            knn_rows,
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
