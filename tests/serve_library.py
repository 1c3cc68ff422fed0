"""A small sound library for the `serve` tests: tones and noise in sub-folders at several
rates and lengths, embedded with the tiny trained model and indexed.

Names and facts are fixed so tests can check filters and metadata by hand.
"""

from __future__ import annotations

from pathlib import Path

from audio_fixtures import write_noise, write_sine

# relative id -> (kind, frequency or seed, seconds, sample rate)
SOUNDS = {
    "tones/low_hum.wav": ("sine", 110.0, 3.0, 16000),
    "tones/mid_beep.wav": ("sine", 880.0, 0.6, 22050),
    "tones/high_whistle.wav": ("sine", 3000.0, 2.5, 44100),
    "tones/sub/alarm.flac": ("sine", 1500.0, 1.2, 16000),
    "noise/rain_soft.wav": ("noise", 1, 4.0, 16000),
    "noise/static_burst.wav": ("noise", 2, 0.5, 22050),
    "noise/wind_gust.ogg": ("noise", 3, 2.0, 44100),
}


def write_library(root: Path) -> Path:
    """root/audio with SOUNDS; returns the audio folder."""
    audio = root / "audio"
    for rel, (kind, param, seconds, sr) in SOUNDS.items():
        if kind == "sine":
            write_sine(audio / rel, float(param), seconds, sr)
        else:
            write_noise(audio / rel, seconds, sr, seed=int(param))
    return audio


def build_index(audio: Path, model_dir: Path, out: Path) -> Path:
    """Embed `audio` with the checkpoint at `model_dir` and index it at `out`/idx."""
    from audiotext_cli.index.faiss_index import build_index as build
    from audiotext_cli.index.folder import embed_folder
    from audiotext_cli.index.search import load_model

    report = embed_folder(load_model(str(model_dir)), audio, out / "emb", workers=0)
    assert report.failed == 0, report.errors
    build(out / "emb", out=out / "idx")
    return out / "idx"
