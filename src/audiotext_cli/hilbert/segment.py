"""Cut a long recording into turns: from a timestamped transcript when there is one, else by
voice activity (silero-vad, or an energy rule when silero is unavailable or not wanted).

A turn is `Segment(start, end, text)` in seconds; audio-only turns have empty text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiotext_cli.errors import ManifestError

MIN_SILENCE_S = 0.3  # gaps shorter than this stay inside one turn
MIN_TURN_S = 0.2


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str = ""


def read_transcript(path: Path) -> list[dict]:
    """JSON (a list, or {"segments": [...]}) or JSONL of {start, end, text}; .txt = one turn a line
    (text only: times come from voice activity)."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".txt":
        return [{"text": line.strip()} for line in raw.splitlines() if line.strip()]
    try:
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in raw.splitlines() if line.strip()]
        else:
            rows = json.loads(raw)
            rows = rows["segments"] if isinstance(rows, dict) else rows
    except (json.JSONDecodeError, KeyError) as exc:
        raise ManifestError(f"not a transcript: {exc}", path) from None
    for i, row in enumerate(rows):
        if not {"start", "end"} <= set(row) or float(row["end"]) <= float(row["start"]):
            raise ManifestError(f"turn {i} needs start < end (seconds)", path)
    return rows


def energy_regions(wave: np.ndarray, sr: int, frame_s: float = 0.03) -> list[tuple[float, float]]:
    """Speech = frames whose RMS is within 35 dB of the loud frames (95th percentile)."""
    hop = int(frame_s * sr)
    n = len(wave) // hop
    if n == 0:
        return []
    rms = np.sqrt(np.mean(wave[: n * hop].reshape(n, hop) ** 2, axis=1) + 1e-12)
    db = 20 * np.log10(rms)
    active = db > max(np.percentile(db, 95) - 35.0, -70.0)
    edges = np.flatnonzero(np.diff(np.r_[0, active.astype(int), 0]))
    return [(s * frame_s, e * frame_s) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def silero_regions(wave: np.ndarray, sr: int) -> list[tuple[float, float]]:
    import torch

    threads = torch.get_num_threads()
    # importing silero_vad calls torch.set_num_threads(1) for the whole process: undo it, or
    # everything after a VAD call (training, embedding) silently runs on one core
    from silero_vad import get_speech_timestamps, load_silero_vad

    torch.set_num_threads(threads)

    stamps = get_speech_timestamps(
        torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)),
        load_silero_vad(),
        sampling_rate=sr,
        min_silence_duration_ms=int(MIN_SILENCE_S * 1000),
    )
    return [(s["start"] / sr, s["end"] / sr) for s in stamps]


def merge_regions(
    regions: list[tuple[float, float]], min_silence: float = MIN_SILENCE_S
) -> list[tuple[float, float]]:
    """Join regions separated by less than `min_silence`; drop blips shorter than MIN_TURN_S."""
    merged: list[list[float]] = []
    for start, end in regions:
        if merged and start - merged[-1][1] < min_silence:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged if e - s >= MIN_TURN_S]


def voice_segments(wave: np.ndarray, sr: int, method: str = "silero") -> list[Segment]:
    """Turns from voice activity; `method` is "silero" or "energy"."""
    regions = silero_regions(wave, sr) if method == "silero" else energy_regions(wave, sr)
    return [Segment(s, e) for s, e in merge_regions(regions)]


def _pair_lines(lines: list[str], regions: list[Segment], path: Path) -> list[Segment]:
    """Give each transcript line a region: merge the closest regions until the counts match."""
    spans = [(r.start, r.end) for r in regions]
    if len(spans) < len(lines):
        raise ManifestError(
            f"{len(lines)} transcript lines but only {len(spans)} speech regions found", path
        )
    while len(spans) > len(lines):
        gaps = [spans[i + 1][0] - spans[i][1] for i in range(len(spans) - 1)]
        i = int(np.argmin(gaps))
        spans[i : i + 2] = [(spans[i][0], spans[i + 1][1])]
    return [Segment(s, e, text) for (s, e), text in zip(spans, lines, strict=True)]


def segment_recording(
    wave: np.ndarray, sr: int, transcript: Path | None = None, vad: str = "silero"
) -> list[Segment]:
    """The turns of one recording; raises ManifestError when nothing usable is found."""
    if transcript is not None:
        rows = read_transcript(transcript)
        if rows and "start" in rows[0]:
            return [
                Segment(float(r["start"]), float(r["end"]), str(r.get("text", ""))) for r in rows
            ]
        return _pair_lines([r["text"] for r in rows], voice_segments(wave, sr, vad), transcript)
    segments = voice_segments(wave, sr, vad)
    if not segments:
        raise ManifestError("no speech found")
    return segments
