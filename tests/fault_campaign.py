"""`make fuzz`: thousands of fuzzed files and kill -9 at random moments of real jobs.

    python tests/fault_campaign.py --files 2000 --kills 10 --work /tmp/fuzz

Fuzz: `fuzz_corpus` entries through `embed folder` (every good file embedded, every bad one
reported), `info` and `data validate` (a verdict each, no traceback), and after training
through the web upload and `curate`. Faults: each job is started as a real
process, killed with SIGKILL after a random delay, and restarted until it finishes; then
nothing may be lost or duplicated and every artifact must load. `data build` runs on
Debian packages made here (tests/fake_packages.py), so it needs no network. Prints the
figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"
ENV = dict(os.environ, PYTHONPATH=f"{TESTS}{os.pathsep}{SRC}")


def run_with_kills(
    argv: list[str], kills: int, rng: random.Random, delay: tuple[float, float]
) -> int:
    """Run `argv` to completion, SIGKILLing its whole process group `kills` times at a
    random delay; returns the kills that landed (a run may finish first)."""
    landed = 0
    while True:
        proc = subprocess.Popen(
            argv, env=ENV, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        if landed < kills:
            try:
                proc.wait(rng.uniform(*delay))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                landed += 1
                continue
        err = proc.communicate()[1].decode(errors="replace")
        if proc.returncode != 0 or "Traceback" in err:
            raise SystemExit(f"{argv[2:4]} failed after {landed} kills:\n{err[-2000:]}")
        return landed


def _timed(argv: list[str]) -> float:
    """Run `argv` uninterrupted and return its wall time. Kill delays are drawn inside a warm
    run's time (caches filled by the reference run), so a kill lands during the job rather
    than after it: a cold run's time overshoots and no kill lands (rounds then repeat)."""
    start = time.perf_counter()
    subprocess.run(argv, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def _kill_round(
    argv: list[str], kills: int, rng: random.Random, seconds: float
) -> tuple[int, float]:
    """One round of `run_with_kills` with delays within 0.3-0.9 of `seconds`; returns the
    kills that landed and the time to use next (this round's, if it finished unkilled:
    the machine's load changes, and a delay past the job's end never lands)."""
    start = time.perf_counter()
    landed = run_with_kills(argv, kills, rng, (0.3 * seconds, 0.9 * seconds))
    return landed, seconds if landed else min(seconds, time.perf_counter() - start)


def _py(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def fuzz(work: Path, files: int, seed: int) -> dict:
    from fuzz_corpus import BAD, GOOD, fuzz_corpus
    from test_fuzz import check_embed_run, check_info, check_validate

    folder = work / "fuzz"
    expected = fuzz_corpus(folder, files, seed)
    check_embed_run(folder, expected, work / "fuzz.emb")
    check_info(folder, expected)
    check_validate(folder, expected, work)  # writes work/fuzz.jsonl
    return {
        "files_fuzzed": len(expected),
        "good": sum(v == GOOD for v in expected.values()),
        "bad": sum(v == BAD for v in expected.values()),
        "tracebacks": 0,
    }


def fuzz_curate(work: Path, files: int, seed: int) -> dict:
    """The fuzz corpus through the `curate` command, taught by the campaign's trained model
    (train_faults' uninterrupted run): every good file curated, every bad one skipped."""
    from fuzz_corpus import fuzz_corpus
    from test_fuzz import check_curate

    folder, out = work / "fuzz-curate", work / "fuzz-curated"
    expected = fuzz_corpus(folder, files, seed)
    out.mkdir(exist_ok=True)
    check_curate(folder, expected, work / "ref" / "best", out)
    return {"files_curated": len(expected), "tracebacks": 0}


def fuzz_uploads(work: Path, files: int, seed: int) -> dict:
    """The fuzz corpus through `POST /api/search/audio` (ASGI client) of an index embedded
    with the campaign's trained model (train_faults' uninterrupted run)."""
    from fastapi.testclient import TestClient

    from audiotext_cli.serve import create_app
    from fuzz_corpus import fuzz_corpus
    from serve_library import build_index, write_library
    from test_fuzz import check_uploads

    expected = fuzz_corpus(work / "fuzz-upload", files, seed)
    idx = build_index(write_library(work / "serve"), work / "ref" / "best", work / "serve")
    client = TestClient(create_app(idx), base_url="http://127.0.0.1")
    return check_uploads(client, expected) | {"server_errors": 0}


def embed_faults(work: Path, kills: int, rng: random.Random, n: int = 120) -> dict:
    from audio_fixtures import write_sine
    from audiotext_cli.index.store import EmbeddingStore

    folder, out = work / "audio", work / "kill.emb"
    for i in range(n):
        write_sine(folder / f"d{i % 4}" / f"t{i:03d}.wav", 150 + 7 * i, 0.1)
    code = (  # the decoder pool, as a large job runs (a job this small decodes inline and
        # ends before most kills are due, so rounds would repeat)
        "from fake_embedder import FakeEmbedder\n"
        "from audiotext_cli.index import folder\n"
        "folder.INLINE_DECODE_SECONDS = 0\n"
        f"folder.embed_folder(FakeEmbedder(delay=0.05), {str(folder)!r}, {str(out)!r},"
        " batch_size=4, workers=2, commit_every=8)\n"
    )
    landed = lost = duplicated = 0
    while landed < kills:  # rounds on a fresh store until enough kills landed
        shutil.rmtree(out, ignore_errors=True)
        landed += run_with_kills(_py(code), kills - landed, rng, (0.5, 3.0))
        store = EmbeddingStore.open(out)
        lines = sum(1 for name in store.shards() for _ in (out / f"{name}.jsonl").open())
        rows = {r["id"] for r in store.rows()}
        lost, duplicated = lost + n - len(rows), duplicated + lines - len(rows)
    return {"kills": landed, "rows_lost": lost, "rows_duplicated": duplicated}


# `index build`/`add` of 5,000 rows take ~0.4 s with lazy imports: a kill drawn later than
# that never lands, and the rounds below repeat forever (0.8-2.0 s did, on 2026-12-04)
INDEX_KILL_DELAY = (0.15, 0.5)


def index_faults(work: Path, kills: int, rng: random.Random) -> dict:
    """Kill `index build` and a loop of `index add`; the index must load with every row once."""
    import numpy as np

    from audiotext_cli.embedder import Embeddings
    from audiotext_cli.index.faiss_index import FaissIndex
    from audiotext_cli.index.store import EmbeddingStore

    store_dir, idx = work / "idx.emb", work / "idx"
    meta = {"model_id": "m", "model_source": "", "dim": 16, "probabilistic": False}
    x = np.random.default_rng(0).standard_normal((20000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    build = (
        "from audiotext_cli.index.faiss_index import build_index\n"
        f"build_index({str(store_dir)!r}, out={str(idx)!r})\n"
    )
    add = (
        "from audiotext_cli.index.faiss_index import add\n"
        f"print(add({str(idx)!r}, {str(store_dir)!r}))\n"
    )
    landed = lost = duplicated = 0
    while landed < kills:
        shutil.rmtree(store_dir, ignore_errors=True)
        shutil.rmtree(idx, ignore_errors=True)
        store = EmbeddingStore.create(store_dir, meta | {"sample_rate": 16000, "kind": "audio"})
        store.append([{"id": f"r{i}"} for i in range(5000)], Embeddings(x[:5000]))
        landed += run_with_kills(_py(build), 1, rng, INDEX_KILL_DELAY)
        for part in range(1, 4):
            store.append(
                [{"id": f"r{i}"} for i in range(5000 * part, 5000 * (part + 1))],
                Embeddings(x[5000 * part : 5000 * (part + 1)]),
            )
        landed += run_with_kills(_py(add), 2, rng, INDEX_KILL_DELAY)
        ids = [r["id"] for r in FaissIndex.load(idx).rows]
        lost += 20000 - len(set(ids))
        duplicated += len(ids) - len(set(ids))
    return {"kills": landed, "rows_lost": lost, "rows_duplicated": duplicated}


def train_faults(work: Path, kills: int, rng: random.Random) -> dict:
    """Kill `train --resume` repeatedly; the final weights must equal an uninterrupted run."""
    import torch
    from safetensors.torch import load_file

    from synthetic_corpus import make_corpus, tiny_train_args

    corpus = make_corpus(work / "corpus")
    env_home = {"AUDIOTEXT_HOME": str(work / "home")}
    ENV.update(env_home)
    cli = [sys.executable, "-m", "audiotext_cli"]
    extra = ["--set", "train.epochs=4"]
    _timed(cli + tiny_train_args(corpus, work / "ref", *extra))
    seconds = _timed(cli + tiny_train_args(corpus, work / "warm", "--resume", *extra))
    reference = {
        name: load_file(str(work / "ref" / name / "model.safetensors")) for name in ("last", "best")
    }
    landed, diffs, rounds = 0, [], 0
    while landed < kills or not rounds:  # rounds into a fresh run folder until kills landed
        run = work / f"run{rounds}"
        rounds += 1
        argv = cli + tiny_train_args(corpus, run, "--resume", *extra)
        got, seconds = _kill_round(argv, kills - landed, rng, seconds)
        landed += got
        for name, a in reference.items():
            b = load_file(str(run / name / "model.safetensors"))
            diffs.append(max(float((a[k].float() - b[k].float()).abs().max()) for k in a))
    del torch
    return {"kills": landed, "max_abs_weight_diff": max(diffs)}


class _ManifestReader(threading.Thread):
    """Reads a corpus's manifests and build.json in a loop while builds run and are killed:
    every read must be absent or one whole version (bytes equal to a finished build's)."""

    def __init__(self, out: Path, allowed: dict[str, set[bytes]]) -> None:
        super().__init__(daemon=True)
        self.out, self.allowed = out, allowed
        self.reads, self.bad = 0, []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for name, versions in self.allowed.items():
                try:
                    data = (self.out / name).read_bytes()
                except FileNotFoundError:
                    continue
                self.reads += 1
                whole = data in versions if versions else _is_json(data)
                if not whole:
                    self.bad.append(f"{name}: {len(data)} bytes")
            time.sleep(0.005)


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _corpus_files(root: Path) -> dict[str, str]:
    """Every file of a corpus folder but build.json (it holds timings) and the lock file,
    by content hash: a leftover temp file or clip shows up as a difference."""
    import hashlib

    skip = {"build.json", ".write.lock"}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() not in skip
    }


SPLITS = ("train", "val", "eval")


def _manifest_ids(corpus: Path) -> list[str]:
    return [
        json.loads(line)["id"]
        for split in SPLITS
        for line in (corpus / f"{split}.jsonl").read_text().splitlines()
    ]


def _untimed(info: dict) -> dict:
    """build.json without what differs between a resumed and a clean build."""
    return {k: v for k, v in info.items() if k not in ("seconds", "reused_clips", "rendered_clips")}


def data_build_faults(
    work: Path,
    kills: int,
    rng: random.Random,
    clips: int = 300,
    delay: tuple[float, float] = (0.5, 3.5),
) -> dict:
    """Kill `data build` (fake Debian packages, no network) over a fresh folder, then over
    the finished corpus with another seed (its manifests are rewritten while a reader
    reads): each finished folder must equal an uninterrupted build's, file for file."""
    from fake_packages import make_archives

    cache = make_archives(work / "packages", clips)
    kill_cache = work / "packages-kill"  # the same archives, unpacked anew each round
    shutil.copytree(cache / "archives", kill_cache / "archives")

    def argv(out: Path, seed: int, cache: Path = cache) -> list[str]:
        args = ["data", "build", "--size", "small", "--out", str(out), "--seed", str(seed)]
        return _py(
            f"import sys, fake_packages\nfake_packages.install({str(cache)!r})\n"
            f"sys.argv = ['audiotext', *{args!r}]\n"
            "from audiotext_cli.cli import main\nmain()\n"
        )

    refs = {}
    for seed in (0, 1):
        ref = work / f"corpus-ref{seed}"
        subprocess.run(argv(ref, seed), env=ENV, check=True, capture_output=True)
        refs[seed] = (_corpus_files(ref), json.loads((ref / "build.json").read_text()))
    out = work / "corpus-kill"
    allowed = {
        f"{s}.jsonl": {(work / f"corpus-ref{seed}" / f"{s}.jsonl").read_bytes() for seed in refs}
        for s in SPLITS
    }
    reader = _ManifestReader(out, allowed | {"build.json": set()})
    reader.start()
    landed = lost = duplicated = rounds = 0
    try:
        while landed < kills:
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(kill_cache / "unpacked", ignore_errors=True)
            for seed in (0, 1):
                per_run = max(1, (kills - landed + 1) // 2)
                landed += run_with_kills(argv(out, seed, kill_cache), per_run, rng, delay)
                files, info = refs[seed]
                ids, want = _manifest_ids(out), set(_manifest_ids(work / f"corpus-ref{seed}"))
                lost += len(want - set(ids))
                duplicated += len(ids) - len(set(ids))
                diff = sorted(set(files.items()) ^ set(_corpus_files(out).items()))
                got = json.loads((out / "build.json").read_text())
                if diff or _untimed(got) != _untimed(info):
                    raise SystemExit(f"data build after kills differs from a clean one: {diff[:5]}")
                rounds += 1
    finally:
        reader.done.set()
        reader.join()
    if reader.bad:
        raise SystemExit(f"a reader saw a half-written file: {reader.bad[:5]}")
    return {
        "kills": landed,
        "rows_lost": lost,
        "rows_duplicated": duplicated,
        "clips": len(ids),
        "builds_compared": rounds,
        "reader_reads": reader.reads,
        "half_written_reads": len(reader.bad),
    }


def curate_faults(work: Path, kills: int, rng: random.Random) -> dict:
    """Kill `curate`; a re-run's manifest equals an uninterrupted one, and no half file."""
    from synthetic_corpus import tiny_train_args  # noqa: F401  (corpus from train_faults)

    audio = work / "corpus" / "audio"
    pool = work / "pool.txt"
    pool.write_text("a high tone\na low tone\na noise burst\na click\n")
    args = [
        "curate",
        "--audio",
        str(audio),
        "--texts",
        str(pool),
        "--teacher",
        str(work / "ref" / "best"),
        "--threshold",
        "0.0",
    ]
    cli = [sys.executable, "-m", "audiotext_cli"]
    _timed(cli + args + ["--out", str(work / "cur-ref.jsonl")])
    seconds = _timed(cli + args + ["--out", str(work / "cur-warm.jsonl")])
    reference = (work / "cur-ref.jsonl").read_bytes()
    landed, same, rounds = 0, True, 0
    while landed < kills or not rounds:  # rounds into a fresh output until kills landed
        rounds += 1
        out = work / "cur.jsonl"
        out.unlink(missing_ok=True)
        argv = cli + args + ["--out", str(out)]
        got, seconds = _kill_round(argv, kills - landed, rng, seconds)
        landed += got
        same = same and out.read_bytes() == reference
    return {"kills": landed, "identical_output": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    sys.path[:0] = [str(TESTS), str(SRC)]
    args.work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    start = time.perf_counter()
    figures = {"fuzz": fuzz(args.work, args.files, args.seed)}
    figures["fuzz"]["seconds"] = round(time.perf_counter() - start)
    print("fuzz", figures["fuzz"], flush=True)
    for name, job in (
        ("embed folder", embed_faults),
        ("index build/add", index_faults),
        ("data build", data_build_faults),
        ("train", train_faults),
        ("fuzz: upload", lambda work, kills, rng: fuzz_uploads(work, args.files, args.seed)),
        ("fuzz: curate", lambda work, kills, rng: fuzz_curate(work, args.files, args.seed)),
        ("curate", curate_faults),
    ):
        t = time.perf_counter()
        figures[name] = job(args.work, args.kills, rng) | {
            "seconds": round(time.perf_counter() - t)
        }
        print(name, figures[name], flush=True)
    figures["wall_seconds"] = round(time.perf_counter() - start)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
