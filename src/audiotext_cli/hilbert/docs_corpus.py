"""The "fortune interviews" corpus: long spoken documents whose label needs audio *and* text.

Each document is a monologue of turns; each turn is one Debian `fortunes` quotation spoken by
espeak-ng. Two latent shares drive the label: t (share of turns from marker topics, visible in
the words) and a (share of turns spoken with flat affect, audible only). The speaker (voice,
pitch, rate) is a nuisance drawn independently. Every per-document draw uses its own RNG
stream `(seed, index)`, and the label thresholds come from a fixed simulated population, so
the first n documents of a bigger corpus are the same documents. See docs/hilbert.md.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from audiotext_cli.atomic import write_atomic, write_json_atomic, write_text_atomic
from audiotext_cli.data.packages import Package, fetch
from audiotext_cli.errors import DataBuildError

SR = 16000
MARKER_TOPICS = ("medicine", "law", "politics")
BACKGROUND_TOPICS = (
    "art",
    "computers",
    "education",
    "food",
    "kids",
    "love",
    "magic",
    "news",
    "people",
    "pets",
    "platitudes",
    "science",
    "sports",
    "wisdom",
    "work",
)
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029")
VARIANTS = (
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "klatt",
    "klatt2",
    "klatt3",
    "croak",
    "whisperf",
    "Andy",
    "Annie",
)
BETA = (1.2, 3.0)  # both latent shares ~ Beta(1.2, 3)
LABEL_NOISE = 0.5
BINARY_QUANTILE = 0.85  # top 15 % positive
MULTICLASS_QUANTILES = (0.75, 0.92)  # 75 / 17 / 8 %
FLAT_PROSODY = '<prosody range="x-low" rate="80%" volume="soft">{}</prosody>'
SIZES = {"small": (24, (4, 6)), "default": (480, (8, 14))}


@dataclass(frozen=True)
class DocPlan:
    """Everything drawn for one document before any audio exists."""

    id: str
    t: float
    a: float
    voice: str
    pitch: int
    rate: int
    turns: tuple[tuple[str, str, bool, float], ...]  # (text, topic, flat, pause after, s)
    binary: int
    multiclass: int


FORTUNES = Package("deb", "fortunes", "1:1.99.1-7.3")


def fortunes_dir() -> Path:
    """The text files of Debian's `fortunes` package, from the shared package cache."""
    text_dir = fetch(FORTUNES).root / "usr" / "share" / "games" / "fortunes"
    if not (text_dir / "medicine").exists():
        raise DataBuildError("package has no fortunes/medicine text file", text_dir)
    return text_dir


def parse_fortunes(text: str, min_words: int = 8, max_words: int = 40) -> list[str]:
    """strfile text ('%' lines between entries) -> cleaned single-line quotations.

    Attribution lines ('-- Name') are cut, whitespace is collapsed, and entries with
    non-ASCII characters or outside the word range are dropped (they render badly).
    """
    quotes = []
    for entry in re.split(r"^%\s*$", text, flags=re.MULTILINE):
        lines = [ln for ln in entry.splitlines() if not ln.strip().startswith("--")]
        quote = " ".join(" ".join(lines).split())
        if not quote or not quote.isascii() or not quote[0].isalnum():
            continue
        if min_words <= len(quote.split()) <= max_words:
            quotes.append(quote)
    return quotes


def load_quotes(text_dir: Path) -> dict[str, list[str]]:
    topics = {}
    for topic in MARKER_TOPICS + BACKGROUND_TOPICS:
        raw = (text_dir / topic).read_text(encoding="latin-1")
        topics[topic] = parse_fortunes(raw)
        if not topics[topic]:
            raise DataBuildError("no usable quotations", text_dir / topic)
    return topics


def _standard_score(latent: np.ndarray | float) -> np.ndarray | float:
    a, b = BETA
    mean = a / (a + b)
    sd = np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    return (latent - mean) / sd


def label_thresholds() -> tuple[float, float, float]:
    """Quantiles of z = std(t) + std(a) + noise over a fixed simulated population."""
    rng = np.random.default_rng(0)
    n = 200_000
    z = (
        _standard_score(rng.beta(*BETA, n))
        + _standard_score(rng.beta(*BETA, n))
        + rng.normal(0, LABEL_NOISE, n)
    )
    binary = float(np.quantile(z, BINARY_QUANTILE))
    low, high = (float(q) for q in np.quantile(z, MULTICLASS_QUANTILES))
    return binary, low, high


def plan_document(
    index: int,
    seed: int,
    quotes: dict[str, list[str]],
    seg_range: tuple[int, int],
    thresholds: tuple[float, float, float],
) -> DocPlan:
    """All random draws of document `index`, from its own RNG stream."""
    rng = np.random.default_rng([seed, index])
    t, a = rng.beta(*BETA), rng.beta(*BETA)
    voice = f"{ACCENTS[rng.integers(len(ACCENTS))]}+{VARIANTS[rng.integers(len(VARIANTS))]}"
    pitch, rate = int(rng.integers(35, 66)), int(rng.integers(145, 191))
    z = _standard_score(t) + _standard_score(a) + rng.normal(0, LABEL_NOISE)
    turns = []
    for _ in range(int(rng.integers(seg_range[0], seg_range[1] + 1))):
        pool = MARKER_TOPICS if rng.random() < t else BACKGROUND_TOPICS
        topic = pool[rng.integers(len(pool))]
        text = quotes[topic][rng.integers(len(quotes[topic]))]
        flat = bool(rng.random() < a)
        pause = float(rng.uniform(1.0, 2.2) if flat else rng.uniform(0.3, 0.9))
        turns.append((text, topic, flat, round(pause, 3)))
    binary_cut, low, high = thresholds
    return DocPlan(
        id=f"doc{index:05d}",
        t=float(t),
        a=float(a),
        voice=voice,
        pitch=pitch,
        rate=rate,
        turns=tuple(turns),
        binary=int(z > binary_cut),
        multiclass=int(z > low) + int(z > high),
    )


def _ssml(text: str, flat: bool) -> str:
    body = escape(text)
    if flat:  # slow, monotone, soft, with long breaks after sentences
        body = re.sub(r"([.!?;])\s+", r'\1 <break time="700ms"/> ', body)
        body = FLAT_PROSODY.format(body)
    return f"<speak>{body}</speak>"


def speak(text: str, voice: str, pitch: int, rate: int, flat: bool) -> np.ndarray:
    """espeak-ng -> mono float32 at 16 kHz."""
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "turn.wav"
        cmd = ["espeak-ng", "-m", "-v", voice, "-p", str(pitch), "-s", str(rate), "-w", str(wav)]
        run = subprocess.run([*cmd, _ssml(text, flat)], capture_output=True, text=True)
        if run.returncode != 0 or not wav.exists():
            raise DataBuildError(f"espeak-ng failed for voice {voice}: {run.stderr.strip()}")
        wave, sr = sf.read(wav, dtype="float32")
    return soxr.resample(wave, sr, SR).astype(np.float32)


def render_document(plan: DocPlan, audio_dir: Path) -> dict:
    """Speak every turn, join them with the planned pauses, write `<id>.flac` + `<id>.json`."""
    pieces, segments, clock = [np.zeros(int(0.3 * SR), np.float32)], [], 0.3
    for text, topic, flat, pause in plan.turns:
        rate = round(plan.rate * 0.9) if flat else plan.rate
        wave = speak(text, plan.voice, plan.pitch, rate, flat)
        start = clock
        clock += len(wave) / SR
        segments.append(
            {
                "start": round(start, 3),
                "end": round(clock, 3),
                "text": text,
                "topic": topic,
                "marker": topic in MARKER_TOPICS,
                "flat": flat,
            }
        )
        pieces += [wave, np.zeros(int(pause * SR), np.float32)]
        clock += int(pause * SR) / SR
    audio = np.concatenate(pieces)
    write_atomic(audio_dir / f"{plan.id}.flac", lambda p: sf.write(p, audio, SR, format="FLAC"))
    record = {
        "id": plan.id,
        "audio": f"audio/{plan.id}.flac",
        "duration": round(len(audio) / SR, 3),
        "segments": segments,
        "latents": {"t": plan.t, "a": plan.a},
        "realised": {
            "t": float(np.mean([s["marker"] for s in segments])),
            "a": float(np.mean([s["flat"] for s in segments])),
        },
        "labels": {"binary": plan.binary, "multiclass": plan.multiclass},
        "speaker": {"voice": plan.voice, "pitch": plan.pitch, "rate": plan.rate},
    }
    write_json_atomic(audio_dir / f"{plan.id}.json", record)
    return record


def _render_if_missing(plan: DocPlan, audio_dir: Path) -> dict:
    done = audio_dir / f"{plan.id}.json"
    if done.exists() and (audio_dir / f"{plan.id}.flac").exists():
        return json.loads(done.read_text())
    return render_document(plan, audio_dir)


def build_docs(
    out: Path,
    n_docs: int,
    seg_range: tuple[int, int],
    seed: int = 0,
    workers: int = 2,
    on_done: Callable[[dict], None] | None = None,
) -> Path:
    """Render (or resume) the corpus under `out`: audio/<id>.flac + meta.jsonl + labels.csv."""
    out = Path(out)
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    quotes = load_quotes(fortunes_dir())
    thresholds = label_thresholds()
    plans = [plan_document(i, seed, quotes, seg_range, thresholds) for i in range(n_docs)]
    records = []
    if workers <= 1:
        for plan in plans:
            records.append(_render_if_missing(plan, audio_dir))
            if on_done:
                on_done(records[-1])
    else:
        with ProcessPoolExecutor(workers) as pool:
            for record in pool.map(_render_if_missing, plans, [audio_dir] * len(plans)):
                records.append(record)
                if on_done:
                    on_done(record)
    write_text_atomic(out / "meta.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    write_text_atomic(
        out / "labels.csv",
        "id,label\n" + "".join(f"{r['id']},{r['labels']['binary']}\n" for r in records),
    )
    write_json_atomic(
        out / "corpus.json",
        {
            "recipe": "fortune-interviews",
            "n_docs": n_docs,
            "segments": list(seg_range),
            "seed": seed,
            "sample_rate": SR,
        },
    )
    return out
