"""Search with the auto-chosen index on clustered unit vectors, against exact numpy search.

Data like perf-anchors' clustered set: 1000 Gaussian clusters around unit centres,
x = normalise(c + 0.7 g / sqrt(d)); queries are fresh draws from the same clusters.
Reports build time, RSS growth of the build, single-query p50/p99 latency and recall@10
(against exact numpy top-10) for the auto index, and the same for exact numpy search.

    .venv/bin/python benchmarks/bench_index.py --n 200000     # ~4 min on 2 cores
    .venv/bin/python benchmarks/bench_index.py --n 1000000 --kind auto hnsw   # 1M x 512, ~6 min
    .venv/bin/python benchmarks/bench_index.py --n 200000 --dim 256 --probabilistic

`--probabilistic` gives every row a log-variance (ProLAP-like: -10 + 0.5 g) and measures
CSD search (the augmented inner product, d + 1 dims; truth: exact numpy CSD ranking) beside
mean-only search of the same means with the same index kind, in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown_table, summary_row, write_section  # noqa: E402
from bench_compare_spaces import sgemm_gflops  # noqa: E402

from audiotext_cli.embedder import Embeddings  # noqa: E402
from audiotext_cli.index.faiss_index import (  # noqa: E402
    KMEANS_ITERATIONS,
    build_index,
    choose_index,
    kmeans_sample_size,
)


def clustered(n: int, dim: int, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):  # chunks: keeps the float64 temporaries small
        m = min(100_000, n - start)
        x = centres[rng.integers(0, len(centres), m)] + 0.7 * rng.standard_normal(
            (m, dim)
        ) / np.sqrt(dim)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def latencies(search, queries: np.ndarray) -> tuple[float, float, list[np.ndarray]]:
    """p50, p99 (ms) of one query at a time, and the result ids."""
    times, ids = [], []
    for q in queries:
        start = time.perf_counter()
        ids.append(search(q[None]))
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99)), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--budget-gb", type=float, default=4.0)
    parser.add_argument(
        "--kind",
        nargs="+",
        default=["auto"],
        help="auto (the rule) and/or forced flat|hnsw|ivf|ivfpq, one row each, same run",
    )
    parser.add_argument("--probabilistic", action="store_true", help="CSD beside mean-only")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, args.dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    xb = clustered(args.n, args.dim, centres, rng)
    xq = clustered(args.queries, args.dim, centres, rng)
    rows = [{"id": str(i)} for i in range(args.n)]
    meta = {
        "model_id": "bench",
        "model_source": "",
        "dim": args.dim,
        "probabilistic": False,
        "kind": "audio",
        "sample_rate": 16000,
    }
    spaces = [("mean-only", Embeddings(xb), xb @ np.zeros(args.dim, np.float32))]
    if args.probabilistic:
        lv = (-10 + 0.5 * rng.standard_normal((args.n, args.dim))).astype(np.float32)
        half_trace = 0.5 * np.exp(lv.astype(np.float64)).sum(1).astype(np.float32)
        spaces.append(("CSD", Embeddings(xb, lv), -half_trace))
        del lv

    rows_out, summary = [], {}
    rule = choose_index(args.n, args.dim, int(args.budget_gb * 1e9))
    for space, emb, offset in spaces:

        def numpy_top10(q: np.ndarray, offset=offset) -> np.ndarray:
            scores = xb @ q[0] + offset  # CSD ranking: mu.q - s_x / 2 (unit means)
            top = np.argpartition(-scores, 10)[:10]
            return top[np.argsort(-scores[top])]

        exact_p50, exact_p99, truth = latencies(numpy_top10, xq)
        if space == "mean-only":
            exact_ms = (exact_p50, exact_p99)
        prefix = f"{space}: " if args.probabilistic else ""
        exact = "numpy exact (xb @ q" + (" - s/2" if space == "CSD" else "") + ", argpartition)"
        rows_out.append([prefix + exact, "-", "-", "-", exact_p50, exact_p99, 1.0])
        space_meta = meta | {"probabilistic": emb.logvar is not None}
        for kind in args.kind:
            spec = choose_index(args.n, args.dim, int(args.budget_gb * 1e9), kind=kind)
            rss0, start = rss_bytes(), time.perf_counter()
            index = build_index((rows, emb, space_meta), spec)
            build_s, rss_mb = time.perf_counter() - start, (rss_bytes() - rss0) / 1e6
            p50, p99, found = latencies(lambda q, ix=index: [h.id for h in ix.search(q, 10)[0]], xq)
            recall = np.mean(
                [
                    len({int(i) for i in f} & set(t.tolist())) / 10
                    for f, t in zip(found, truth, strict=True)
                ]
            )
            if space == "mean-only":
                summary[kind] = (spec, build_s, p50, p99, recall, index.meta["factory"])
            label = "auto" if kind == "auto" else f"forced {kind}"
            factory = f"{index.meta['factory']}, metric {index.meta['metric']}"
            row = [f"{prefix}{label}: {factory}", str(spec.params), build_s, rss_mb]
            rows_out.append([*row, p50, p99, recall])
            del index

    table = markdown_table(
        ["method", "params", "build (s)", "RSS growth (MB)", "p50 (ms)", "p99 (ms)", "recall@10"],
        rows_out,
    )
    what = "probabilistic search: CSD vs mean-only" if args.probabilistic else "Index search"
    body = (
        f"## {what} ({args.n:,} x {args.dim} clustered unit vectors, "
        f"{args.queries} single queries, k=10)\n\n"
        f"Rule's choice: **{rule.kind}** ({rule.reason}), budget {args.budget_gb} GB.\n\n"
        f"{table}\n\n"
        f"Load average at the end: {os.getloadavg()[0]:.1f} (shared box: compare rows, not runs).\n"
    )
    print(body)
    write_section(f"index_{'csd_' if args.probabilistic else ''}{args.n}", body)
    if args.n == 1_000_000 and "auto" in summary:
        summary_rows(args.n, args.dim, exact_ms, summary)


def summary_rows(n: int, dim: int, exact_ms: tuple[float, float], runs: dict) -> None:
    """The summary table's search and build rows, each against a floor measured now.

    Search floor: the bytes an IVF query must read (the centroids and nprobe lists of the
    mean length) at the memory bandwidth exact search reaches here (n * dim * 4 bytes per
    exact query p50). Build floor: the k-means and assignment GEMM FLOPs at numpy's sgemm
    rate (KMEANS_ITERATIONS passes over the training sample, one over all n vectors).
    """
    spec, build_s, p50, p99, recall, factory = runs["auto"]
    gb_per_s = n * dim * 4 / (exact_ms[0] / 1000) / 1e9
    hnsw = runs.get("hnsw")
    if spec.kind in ("ivf", "ivfpq"):
        nlist, nprobe = spec.params["nlist"], spec.params["nprobe"]
        read = (nlist + nprobe * n / nlist) * dim * 4
        floor_ms = read / (gb_per_s * 1e9) * 1000
        flops = 2 * dim * nlist * (KMEANS_ITERATIONS * kmeans_sample_size(n, nlist) + n)
        gflops = sgemm_gflops(dim)
        build_floor = flops / (gflops * 1e9)
        summary_row(
            "search_1m",
            f"{p50:.2f} / {p99:.2f} ms (auto: {factory}, nprobe {nprobe}, recall@10 {recall:.3f})",
            f"numpy exact {exact_ms[0]:.1f} / {exact_ms[1]:.1f} ms",
            f"{floor_ms:.2f} ms (centroids + {nprobe} mean-size lists, {read / 1e6:.0f} MB, at "
            f"exact search's {gb_per_s:.0f} GB/s)",
            f"{exact_ms[0] / p50:.0f}x faster than exact p50; {p50 / floor_ms:.1f}x the floor",
        )
        summary_row(
            "index_build_1m",
            f"{build_s:.1f} s ({factory})",
            f"HNSW32,Flat {hnsw[1]:.1f} s" if hnsw else "-",
            f"{build_floor:.1f} s (k-means {KMEANS_ITERATIONS} x "
            f"{kmeans_sample_size(n, nlist):,} + assign {n:,}, x {nlist} x {dim}, "
            f"at {gflops:.0f} GFLOP/s sgemm)",
            (f"{build_s / hnsw[1]:.2f}x the HNSW build; " if hnsw else "")
            + f"{build_s / build_floor:.2f}x the floor",
        )


if __name__ == "__main__":
    main()
