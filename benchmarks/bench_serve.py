"""`audiotext serve` latency, measured as a client sees it: HTTP requests against the running
server (a real `audiotext serve` process on 127.0.0.1).

    python benchmarks/bench_serve.py [--model CKPT] [--n 100000] [--queries 200]

The index holds `--n` synthetic unit vectors (random, in the model's dimension) stamped with
the model's id, so the text query goes through the real model (MiniLM + the model's text
head) and the index search is the real one at that size; only the vectors are made up.
Without --model, an untrained checkpoint of the demo preset is used: same architecture,
dimension and cost as the demo model. Each text query is distinct (no cache helps it). The
audio rows POST a 10 s 44.1 kHz WAV (decode, resample, audio tower, search).
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
from _report import markdown_table, write_section


def demo_checkpoint(folder: Path) -> Path:
    """An untrained checkpoint of the demo preset (the demo model's shape and cost)."""
    import torch

    from audiotext_cli.models.checkpoint import save_checkpoint
    from audiotext_cli.models.config import load_preset
    from audiotext_cli.models.model import AudioTextModel

    torch.manual_seed(0)
    model_cfg, train_cfg = load_preset("demo")
    return save_checkpoint(folder / "ckpt", AudioTextModel(model_cfg), train_cfg, {})


def synthetic_index(model_dir: Path, n: int, out: Path) -> str:
    """n random unit vectors with rows like a folder job's, indexed by the auto rule."""
    from audiotext_cli.embedder import Embeddings
    from audiotext_cli.index.faiss_index import build_index
    from audiotext_cli.index.folder import store_meta
    from audiotext_cli.index.search import load_model

    model = load_model(str(model_dir))
    vectors = np.random.default_rng(0).standard_normal((n, model.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [
        {"id": f"synth/{i:06d}.wav", "path": f"/nonexistent/synth/{i:06d}.wav", "duration": 1.0}
        for i in range(n)
    ]
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


def timed(call, count: int) -> list[float]:
    times = []
    for i in range(count):
        t0 = time.perf_counter()
        response = call(i)
        times.append((time.perf_counter() - t0) * 1000)
        response.raise_for_status()
    return times


def ten_seconds_wav() -> bytes:
    sr = 44100
    t = np.arange(10 * sr) / sr
    noise = np.random.default_rng(1).standard_normal(t.size)
    wave = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * noise
    buffer = io.BytesIO()
    sf.write(buffer, wave.astype(np.float32), sr, format="WAV")
    return buffer.getvalue()


def row(name: str, ms: list[float]) -> list:
    ordered = sorted(ms)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return [name, len(ms), statistics.median(ms), p99, max(ms)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="checkpoint (default: untrained demo-preset model)")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--port", type=int, default=8799)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model = Path(args.model) if args.model else demo_checkpoint(Path(tmp))
        kind = synthetic_index(model, args.n, Path(tmp) / "idx")
        server = [sys.executable, "-m", "audiotext_cli", "serve", str(Path(tmp) / "idx")]
        proc = subprocess.Popen([*server, "--port", str(args.port)], env=os.environ.copy())
        url = f"http://127.0.0.1:{args.port}"
        try:
            wait_until_up(url, proc)
            with httpx.Client(base_url=url, timeout=60) as client:
                for i in range(10):  # warm-up: first requests pay lazy imports
                    client.get("/api/search", params={"q": f"warm up {i}"})

                def text(i):
                    return client.get("/api/search", params={"q": f"a dog barking, take {i}"})

                def filtered(i):
                    params = {"q": f"rain on a roof {i}", "filter": "synth -000001"}
                    return client.get("/api/search", params=params | {"duration_max": 5})

                def upload(i):
                    return client.post("/api/search/audio", params={"name": "q.wav"}, content=wav)

                wav = ten_seconds_wav()
                results = [
                    row("text search, k=10", timed(text, args.queries)),
                    row("text search + duration and text filter", timed(filtered, args.queries)),
                    row("audio example (10 s 44.1 kHz WAV upload)", timed(upload, args.uploads)),
                ]
        finally:
            proc.terminate()
            proc.wait(30)
    table = markdown_table(["request", "n", "p50 (ms)", "p99 (ms)", "max (ms)"], results)
    body = (
        f"## Web API latency (`audiotext serve`, {args.n:,} rows, {kind} index)\n\n{table}\n\n"
        "Wall time per HTTP request from an httpx client on the same machine, one request at a "
        "time, against a running `audiotext serve` process; text queries are distinct, so every "
        "one runs MiniLM and the text head. The filtered row evaluates the filter over every "
        "row on its first use and then reuses it (the page pages through one filter). "
        f"Load average at the end: {os.getloadavg()[0]:.1f} (shared box).\n"
    )
    print(body)
    write_section("serve", body)


if __name__ == "__main__":
    main()
