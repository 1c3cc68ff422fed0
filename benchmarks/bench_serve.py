"""`audiotext serve` latency, measured as a client sees it: HTTP requests against the running
server (a real `audiotext serve` process on 127.0.0.1).

    python benchmarks/bench_serve.py [--model CKPT] [--n 100000] [--queries 200]

The index holds `--n` synthetic unit vectors (random, in the model's dimension) stamped with
the model's id, so the text query goes through the real model (MiniLM + the model's text
head) and the index search is the real one at that size; only the vectors are made up.
Without --model: the demo's model when `make demo` has built it, else an untrained
checkpoint of its preset (same architecture, dimension and cost). Each text query is
distinct (no cache helps it). The audio rows POST a 10 s 44.1 kHz WAV (decode, resample,
audio tower, search). Each search is also run in this process through the Python API
(`search_rows`), in the same run, as the reference.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf
from _report import markdown_table, summary_row, write_section

FOLDERS = ["animals/dogs", "animals/cats", "doors", "footsteps", "rain", "vehicles", "ui", "foley"]
WORDS = ["bark", "meow", "slam", "creak", "gravel", "drip", "engine", "click", "cloth", "wind"]


def default_model() -> Path | None:
    """The demo's model when `make demo` has built it (the model a new user serves)."""
    from audiotext_cli.paths import home

    best = home() / "demo" / "v5" / "clap" / "best"
    return best if (best / "config.json").exists() else None


def untrained_checkpoint(folder: Path) -> Path:
    """An untrained checkpoint of the default preset (the demo model's shape and cost)."""
    import torch

    from audiotext_cli.models.checkpoint import save_checkpoint
    from audiotext_cli.models.config import load_preset
    from audiotext_cli.models.model import AudioTextModel

    torch.manual_seed(0)
    model_cfg, train_cfg = load_preset("clap-aisfx")
    return save_checkpoint(folder / "ckpt", AudioTextModel(model_cfg), train_cfg, {})


def synthetic_index(model_dir: Path, n: int, out: Path) -> str:
    """n random unit vectors with rows like a sound library's (folders, words in names,
    durations 0.2-30 s, three sample rates), indexed by the auto rule."""
    from audiotext_cli.embedder import Embeddings
    from audiotext_cli.index.faiss_index import build_index
    from audiotext_cli.index.folder import store_meta
    from audiotext_cli.index.search import load_model

    model = load_model(str(model_dir))
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, model.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = []
    for i in range(n):
        rel = f"{FOLDERS[i % len(FOLDERS)]}/{WORDS[(i // 7) % len(WORDS)]}_{i:06d}.wav"
        rows.append(
            {
                "id": rel,
                "path": f"/nonexistent/{rel}",
                "duration": round(float(rng.uniform(0.2, 30)), 3),
                "sample_rate": int(rng.choice([22050, 44100, 48000])),
            }
        )
    built = build_index((rows, Embeddings(vectors), store_meta(model, "audio")), out=out)
    return built.spec.kind


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/api/info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not come up")


def ten_seconds_wav() -> bytes:
    sr = 44100
    t = np.arange(10 * sr) / sr
    noise = np.random.default_rng(1).standard_normal(t.size)
    wave = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * noise
    buffer = io.BytesIO()
    sf.write(buffer, wave.astype(np.float32), sr, format="WAV")
    return buffer.getvalue()


def filters(i: int) -> dict:
    """Distinct duration limits (40 of them, more than the server's filter cache keeps)
    and a NOT term: each request evaluates its filter."""
    return {"duration_max": 2 + (i % 40) * 0.25, "filter": "-door"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="checkpoint (default: the demo's, else untrained)")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(args.model) if args.model else default_model()
        model = model or untrained_checkpoint(Path(tmp))
        idx = Path(tmp) / "idx"
        kind = synthetic_index(model, args.n, idx)
        wav_file = Path(tmp) / "query.wav"
        wav_file.write_bytes(ten_seconds_wav())
        load_before = os.getloadavg()[0]
        results, index_only = measure(idx, args, wav_file)
    table = markdown_table(
        ["request", "n", "HTTP p50 (ms)", "HTTP p99 (ms)", "Python p50 (ms)",
         "Python p99 (ms)"],
        results,
    )  # fmt: skip
    body = (
        f"## Web API latency (`audiotext serve`, {args.n:,} rows, {kind} index)\n\n{table}\n\n"
        "HTTP: wall time per request from an httpx client on the same machine, one request "
        "at a time, against a running `audiotext serve` process. Python: the same search in "
        "this process through `audiotext_cli.index.search.search_rows` (what `search "
        "--format json` runs), alternating with the HTTP requests one by one, so both see "
        "the same load and the difference is what the web layer costs (HTTP, JSON, the "
        "upload's temporary file). Of that, the index alone (`FaissIndex.search` on an "
        f"embedded query, p50): {index_only[0]:.1f} ms unfiltered, {index_only[1]:.1f} ms "
        "filtered (mask + exact scan of the selected rows); the rest of a text search is "
        "MiniLM and the text head, of an audio search the decoding and the tower. Model: "
        f"`{model}`; the index holds synthetic unit vectors stamped with its id, rows like a "
        "library's (8 folders, durations 0.2-30 s, 3 sample rates). Text queries are "
        "distinct. The filtered row changes its duration limit on every request (40 values) "
        "and excludes a word (`-door`): the filter is evaluated each time, as numpy masks "
        "over columns read at server start (index/columns.py), and the search scans the "
        "selected rows exactly (HNSW's flat storage with a FAISS bitmap selector, "
        f"index/filtered.py). Load average (shared 2-core box, other jobs running): "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.\n"
    )
    print(body)
    write_section("serve", body)
    text, filt, audio = results
    summary_row(
        "web_search",
        f"text {text[2]:.0f} / {text[3]:.0f}, filtered {filt[2]:.0f} / {filt[3]:.0f}, "
        f"10 s audio {audio[2]:.0f} (p50 / p99, HTTP, {args.n // 1000}k rows)",
        reference=f"in-process search_rows: text {text[4]:.0f} / {text[5]:.0f}, "
        f"filtered {filt[4]:.0f} / {filt[5]:.0f}, audio {audio[4]:.0f}",
        floor=f"index alone: {index_only[0]:.1f} ms, filtered {index_only[1]:.1f} ms",
        ratios=f"HTTP / in-process p50: text {text[2] / text[4]:.2f}x, "
        f"filtered {filt[2] / filt[4]:.2f}x, audio {audio[2] / audio[4]:.2f}x",
        command=f"python benchmarks/bench_serve.py --n {args.n}",
    )


def measure(idx: Path, args, wav_file: Path) -> tuple[list[list], list[float]]:
    """Each search over HTTP and in process, alternating call by call."""
    from audiotext_cli.index.query import select_rows
    from audiotext_cli.index.search import open_index, row_table, search_rows

    server = [sys.executable, "-m", "audiotext_cli", "serve", str(idx), "--port", str(args.port)]
    proc = subprocess.Popen(server, env=os.environ.copy())
    url = f"http://127.0.0.1:{args.port}"
    wav = wav_file.read_bytes()

    def where(i):
        f = filters(i)
        return {"where": f"duration<={f['duration_max']!r}", "text_filter": f["filter"]}

    try:
        wait_until_up(url, proc)
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(10):  # warm-up: first calls pay lazy imports
                client.get("/api/search", params={"q": f"warm up {i}"} | filters(i))
                search_rows(idx, f"warm up {i}", **where(i))
            cases = [
                (
                    "text search, k=10",
                    lambda i: client.get("/api/search", params={"q": f"a dog barking, take {i}"}),
                    lambda i: search_rows(idx, f"a dog barking, take {i}"),
                    args.queries,
                ),
                (
                    "text search + duration and text filter, k=10",
                    lambda i: client.get(
                        "/api/search", params={"q": f"rain on a roof {i}"} | filters(i)
                    ),
                    lambda i: search_rows(idx, f"rain on a roof {i}", **where(i)),
                    args.queries,
                ),
                (
                    "audio example (10 s 44.1 kHz WAV), k=10",
                    lambda i: client.post(
                        "/api/search/audio", params={"name": "q.wav"}, content=wav
                    ),
                    lambda i: search_rows(idx, audio=wav_file),
                    args.uploads,
                ),
            ]
            results = []
            for name, http, local, count in cases:
                http_ms, local_ms = [], []
                for i in range(count):
                    http_ms.append(clock(lambda r: r.raise_for_status(), http, i))
                    local_ms.append(clock(None, local, i))
                results.append([name, count, *stats(http_ms), *stats(local_ms)])
    finally:
        proc.terminate()
        proc.wait(30)
    index = open_index(idx)
    q = np.random.default_rng(2).standard_normal((1, index.index.d)).astype(np.float32)
    table = row_table(index)

    def filtered(i):
        chosen = where(i)
        subset = select_rows(index.rows, chosen["where"], chosen["text_filter"], table=table)
        return index.search(q, 10, subset=subset)

    plain = [clock(None, lambda i: index.search(q, 10), i) for i in range(args.queries)]
    masked = [clock(None, filtered, i) for i in range(args.queries)]
    return results, [stats(plain)[0], stats(masked)[0]]


def clock(check, call, i: int) -> float:
    """ms for call(i); then check(result), untimed."""
    t0 = time.perf_counter()
    result = call(i)
    ms = (time.perf_counter() - t0) * 1000
    if check is not None:
        check(result)
    return ms


def stats(ms: list[float]) -> list[float]:
    """[p50, p99] in ms."""
    ordered = sorted(ms)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return [round(statistics.median(ms), 1), round(p99, 1)]


if __name__ == "__main__":
    main()
