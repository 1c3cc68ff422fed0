"""Build a corpus folder: packages -> clip specs -> splits -> 16 kHz FLAC + manifests.

Splits are by *source*: training sources feed train.jsonl and val.jsonl, evaluation
sources (other soundfonts, other recording libraries) feed eval.jsonl, and no source is in
both, so evaluation measures transfer to unseen recordings, not memorised ones
(docs/data.md). val.jsonl takes whole groups (a soundfont pitch, a drum key, a recording)
from the training sources by a seeded rule, so it shares no pitch with train.

Resumable: `.build-state.json` records each finished clip's hash; a re-run re-hashes the
files on disk, keeps those that match and renders only the rest. Every file is written
atomically, so a kill -9 leaves no half manifest or clip; one build holds the folder's
writer lock, so the next one may delete the temp files a killed one left.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from audiotext_cli.atomic import (
    remove_temp_files,
    write_atomic,
    write_json_atomic,
    write_text_atomic,
)
from audiotext_cli.data.manifest import ClipRecord, write_manifest
from audiotext_cli.data.packages import Unpacked, cache_root, fetch
from audiotext_cli.data.sources import CORPUS_SR, ClipSpec, registry
from audiotext_cli.errors import AudiotextError, DataBuildError
from audiotext_cli.locks import writer_lock

SIZES = ("small", "default", "large")
SPLIT_SOURCES = {
    # small avoids the big packages (FluidR3 120 MB, Tux Paint 160 MB, the game data):
    # TimGM6mb trains; the desktop sound themes (9 MB) are its user-interface sounds.
    "small": {
        "train": ("timgm6mb", "gcompris", "sonicpi", "asterisk"),
        "eval": ("merlin", "ovos", "lmms", "scratch", "desktop"),
    },
    # Evaluation libraries are chosen so every level-1 category of the ontology has
    # held-out clips from libraries no training clip comes from (docs/data.md).
    "default": {
        "train": (
            "fluidr3",
            "tuxpaint",
            "gcompris",
            "qabcs",
            "gamesfx",
            "sonicpi",
            "asterisk",
            "hedgewars",
            "zeroad",
            "supertux",
            "flare",
            "widelands",
            "lincity",
            "arcade",
            "teeworlds",
        ),
        "eval": (
            "timgm6mb",
            "merlin",
            "ovos",
            "lmms",
            "scratch",
            "hydrogen",
            "openarena",
            "warzone2100",
            "freedroid",
            "supertuxkart",
            "desktop",
        ),
    },
}
SPLIT_SOURCES["large"] = SPLIT_SOURCES["default"]
VAL_FRACTION = 0.1
SAMPLE_RATE = CORPUS_SR
STATE = ".build-state.json"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Planned:
    spec: ClipSpec
    split: str
    recipe: str  # hash of the audio recipe: a changed recipe re-renders the clip


def build_corpus(
    out: str | Path,
    size: str = "default",
    seed: int = 0,
    *,
    workers: int = 2,
    progress: Progress | None = None,
) -> dict:
    """Build (or finish, or re-verify) the corpus in `out`; return build.json's content.

    A second build of the same folder is refused while this one runs (LockedError)."""
    if size not in SIZES:
        raise DataBuildError(f"unknown size {size!r} (choose {', '.join(SIZES)})")
    out = Path(out)
    with writer_lock(out, what="corpus"):
        remove_temp_files(out, recursive=True)
        return _build(out, size, seed, workers, progress)


def _build(out: Path, size: str, seed: int, workers: int, progress: Progress | None) -> dict:
    start = time.monotonic()
    sources = registry()
    unpacked: dict[str, Unpacked] = {}
    plans: list[Planned] = []
    for role, names in SPLIT_SOURCES[size].items():
        for name in names:
            src = sources[name]
            got = [fetch(p) for p in src.packages]
            unpacked.update({u.package.name: u for u in got})
            specs = src.clips([u.root for u in got], size, role, seed)
            val = _val_groups(specs, seed) if role == "train" else set()
            plans += [Planned(s, _split(s, role, val), _recipe(s)) for s in specs]
            _write_licenses(out, src, got)
    results, done_before = _render_all(out, plans, workers, progress)
    records = _records(out, plans, results)
    info = _summary(size, seed, plans, records, results, unpacked, done_before)
    for split in ("train", "val", "eval"):
        path = write_manifest(out / f"{split}.jsonl", [r for r in records if r.split == split])
        info["manifests"][split] = _sha256(path.read_bytes())
    info["seconds"] = round(time.monotonic() - start, 1)
    write_json_atomic(out / "build.json", info)
    return info


def _split(spec: ClipSpec, role: str, val_groups: set[str]) -> str:
    if role == "eval":
        return "eval"
    return "val" if spec.group in val_groups else "train"


def _val_groups(specs: list[ClipSpec], seed: int) -> set[str]:
    """~VAL_FRACTION of each source's groups of each kind (pitch, drum, clip), seeded."""
    kinds: dict[tuple[str, str], set[str]] = {}
    for s in specs:
        kind = s.group.split(":")[0] if ":" in s.group else "clip"
        kinds.setdefault((s.source, kind), set()).add(s.group)
    chosen: set[str] = set()
    for (source, kind), groups in sorted(kinds.items()):
        if len(groups) < 2:
            continue
        n = max(1, round(VAL_FRACTION * len(groups)))
        chosen.update(random.Random(f"{seed}:val:{source}:{kind}").sample(sorted(groups), n))
    return chosen


def _recipe(spec: ClipSpec) -> str:
    """The audio recipe with the package cache's location taken out (it may move)."""
    text = repr(spec.audio).replace(str(cache_root()), "<packages>") + f"@{SAMPLE_RATE}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _render_all(
    out: Path, plans: list[Planned], workers: int, progress: Progress | None
) -> tuple[dict[str, dict], int]:
    """Render what is missing; return per-clip state and how many were already done."""
    state_path = out / STATE
    state = json.loads(state_path.read_text()) if state_path.is_file() else {}
    results: dict[str, dict] = {}
    todo = []
    for p in plans:
        old = state.get(p.spec.id)
        if old and old["recipe"] == p.recipe and _still_valid(out, p.spec.id, old):
            results[p.spec.id] = old
        else:
            todo.append(p)
    done_before, total = len(results), len(plans)
    if progress:
        progress(done_before, total)
    jobs = [(str(out), p.spec.id, p.spec.audio, p.recipe) for p in todo]
    pool = ProcessPoolExecutor(workers) if workers > 1 and len(jobs) > 1 else None
    try:
        outcomes = pool.map(_render_one, jobs, chunksize=4) if pool else map(_render_one, jobs)
        for i, (clip_id, entry) in enumerate(outcomes, start=1):
            results[clip_id] = entry
            if i % 200 == 0 or i == len(jobs):
                write_json_atomic(state_path, results)
            if progress:
                progress(done_before + i, total)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    write_json_atomic(state_path, results)
    _remove_orphans(out / "audio", {f"{clip_id}.flac" for clip_id in results})
    return results, done_before


def _remove_orphans(audio: Path, keep: set[str]) -> None:
    """Delete audio no plan names any more (a changed plan, an older size), so the folder
    holds exactly what the manifests list."""
    for path in audio.rglob("*.flac") if audio.is_dir() else ():
        if path.relative_to(audio).as_posix() not in keep:
            path.unlink()


def _still_valid(out: Path, clip_id: str, entry: dict) -> bool:
    if entry.get("dropped"):
        return True
    path = out / "audio" / f"{clip_id}.flac"
    return (
        path.is_file()
        and path.stat().st_size == entry["bytes"]
        and _sha256(path.read_bytes()) == entry["sha256"]
    )


def _render_one(job: tuple) -> tuple[str, dict]:
    """Worker: make the waveform, write the FLAC atomically, return its state entry."""
    import soundfile as sf

    out, clip_id, audio, recipe = job
    try:
        wave = audio.make()
    except AudiotextError as exc:
        return clip_id, {"recipe": recipe, "dropped": exc.reason}
    if wave.size == 0 or float(abs(wave).max()) < 1e-4:
        return clip_id, {"recipe": recipe, "dropped": "silent"}
    path = Path(out) / "audio" / f"{clip_id}.flac"
    write_atomic(
        path, lambda p: sf.write(str(p), wave, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    )
    data = path.read_bytes()
    return clip_id, {
        "recipe": recipe,
        "sha256": _sha256(data),
        "bytes": len(data),
        "frames": int(wave.size),
    }


def _records(out: Path, plans: list[Planned], results: dict[str, dict]) -> list[ClipRecord]:
    records = []
    for p in plans:
        entry = results[p.spec.id]
        if entry.get("dropped"):
            continue
        s = p.spec
        records.append(
            ClipRecord(
                id=s.id,
                audio=str((out / "audio" / f"{s.id}.flac").resolve()),
                duration=entry["frames"] / SAMPLE_RATE,
                sample_rate=SAMPLE_RATE,
                source=s.source,
                split=p.split,
                captions=[{"level": lv, "text": t} for lv, t in s.captions],
                labels=list(s.labels),
                license=s.license,
            )
        )
    return records


def _summary(size, seed, plans, records, results, unpacked, done_before) -> dict:
    audio_hash = hashlib.sha256()
    for clip_id in sorted(results):
        audio_hash.update(f"{clip_id} {results[clip_id].get('sha256', 'dropped')}\n".encode())
    dropped = {
        p.spec.id: results[p.spec.id]["dropped"] for p in plans if results[p.spec.id].get("dropped")
    }
    return {
        "size": size,
        "seed": seed,
        "sample_rate": SAMPLE_RATE,
        "splits": {role: list(names) for role, names in SPLIT_SOURCES[size].items()},
        "counts": {
            "split": dict(sorted(Counter(r.split for r in records).items())),
            "split_source": dict(sorted(Counter(f"{r.split}/{r.source}" for r in records).items())),
        },
        "hours": round(sum(r.duration for r in records) / 3600, 3),
        "packages": {
            name: {
                "kind": u.package.kind,
                "version": u.package.version,
                "archive": u.archive,
                "sha256": u.sha256,
            }
            for name, u in sorted(unpacked.items())
        },
        "audio_sha256": audio_hash.hexdigest(),
        "dropped": dropped,
        "reused_clips": done_before,
        "rendered_clips": len(plans) - done_before,
        "manifests": {},
    }


def _write_licenses(out: Path, src, got: list[Unpacked]) -> None:
    """LICENSES/<source>.txt: the licence, the packages, and their copyright files verbatim."""
    lines = [f"Source: {src.name}", f"Licence: {src.license}", "Packages:"]
    lines += [f"  {u.package.kind} {u.package.name} {u.package.version} ({u.archive})" for u in got]
    for rel in src.license_files:
        for u in got:
            path = u.root / rel
            files = sorted(x for x in path.rglob("*") if x.is_file()) if path.is_dir() else [path]
            for f in files:
                if f.is_file():
                    lines += [
                        "",
                        f"===== {f.relative_to(u.root)} =====",
                        f.read_text(encoding="utf-8", errors="replace"),
                    ]
    write_text_atomic(out / "LICENSES" / f"{src.name}.txt", "\n".join(lines) + "\n")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
