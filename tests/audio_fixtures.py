"""Generated audio for tests: tones and noise in any format, and broken files of every kind.

Import from any test (`from audio_fixtures import write_sine, make_mixed_folder`); nothing
here touches the network or the repository.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import soundfile as sf

# Extension -> soundfile subtype for lossy formats; the rest use libsndfile's default.
_SUBTYPES = {".ogg": "VORBIS", ".mp3": "MPEG_LAYER_III"}


def sine(
    freq: float = 440.0, seconds: float = 1.0, sr: int = 16000, amp: float = 0.5, channels: int = 1
) -> np.ndarray:
    """(n,) float32 tone, or (n, channels) with a different phase on each channel."""
    t = np.arange(round(seconds * sr)) / sr
    if channels == 1:
        return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    phases = np.arange(channels)[None, :] * 0.5
    return (amp * np.sin(2 * np.pi * freq * t[:, None] + phases)).astype(np.float32)


def noise(
    seconds: float = 1.0, sr: int = 16000, amp: float = 0.3, channels: int = 1, seed: int = 0
) -> np.ndarray:
    """Uniform white noise in [-amp, amp], reproducible by `seed`."""
    shape = (round(seconds * sr),) if channels == 1 else (round(seconds * sr), channels)
    return np.random.default_rng(seed).uniform(-amp, amp, shape).astype(np.float32)


def write_audio(path: str | Path, wave: np.ndarray, sr: int, subtype: str | None = None) -> Path:
    """Write `wave` in the format its extension names (wav, flac, ogg, mp3, ...)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), wave, sr, subtype=subtype or _SUBTYPES.get(path.suffix.lower()))
    return path


def write_sine(
    path: str | Path,
    freq: float = 440.0,
    seconds: float = 1.0,
    sr: int = 16000,
    channels: int = 1,
    subtype: str | None = None,
) -> Path:
    return write_audio(path, sine(freq, seconds, sr, channels=channels), sr, subtype)


def write_noise(
    path: str | Path, seconds: float = 1.0, sr: int = 16000, channels: int = 1, seed: int = 0
) -> Path:
    return write_audio(path, noise(seconds, sr, channels=channels, seed=seed), sr)


def write_zero_byte(path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(b"")
    return path


def write_text_as_audio(path: str | Path) -> Path:
    """A text file with an audio extension."""
    path = Path(path)
    path.write_text("this is not audio, just text with a .wav name\n" * 20)
    return path


def write_truncated(
    path: str | Path, seconds: float = 3.0, sr: int = 16000, keep: float = 0.5
) -> Path:
    """A noise file in the extension's format with its tail chopped off (`keep` of the bytes)."""
    path = write_noise(path, seconds, sr)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def write_nan_wav(path: str | Path, sr: int = 16000) -> Path:
    """A float WAV of noise with one NaN and one inf sample."""
    wave = noise(1.0, sr)
    wave[100] = np.nan
    wave[200] = np.inf
    return write_audio(path, wave, sr, subtype="FLOAT")


def write_silent(path: str | Path, seconds: float = 1.0, sr: int = 16000) -> Path:
    return write_audio(path, np.zeros(round(seconds * sr), dtype=np.float32), sr)


def wav_bytes(channels: int, sample_rate: int, data: bytes, bits: int = 16) -> bytes:
    """Hand-made PCM WAV bytes, so headers libsndfile would never write can be tested."""
    block_align = max(channels, 1) * bits // 8
    byte_rate = sample_rate * block_align
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, byte_rate, block_align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def write_absurd_header(
    path: str | Path, channels: int = 1, sample_rate: int = 100, n_bytes: int = 4000
) -> Path:
    """A WAV whose header is parseable but nonsensical (default: 100 Hz sample rate)."""
    path = Path(path)
    path.write_bytes(wav_bytes(channels, sample_rate, b"\x01\x00" * (n_bytes // 2)))
    return path


def make_mixed_folder(root: str | Path) -> tuple[dict[str, dict], dict[str, str]]:
    """Good files and broken files side by side.

    Returns (good, bad): good maps file name -> expected {sample_rate, channels, format};
    bad maps file name -> a phrase its error reason must contain.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    write_sine(root / "tone.wav", 440, 1.0, 16000)
    write_sine(root / "tone.flac", 440, 1.0, 22050)
    write_sine(root / "tone.ogg", 440, 1.0, 16000)
    write_sine(root / "tone.mp3", 440, 1.0, 16000)
    write_sine(root / "stereo44k.wav", 1000, 1.0, 44100, channels=2)
    good = {
        "tone.wav": {"sample_rate": 16000, "channels": 1, "format": "WAV"},
        "tone.flac": {"sample_rate": 22050, "channels": 1, "format": "FLAC"},
        "tone.ogg": {"sample_rate": 16000, "channels": 1, "format": "OGG"},
        "tone.mp3": {"sample_rate": 16000, "channels": 1, "format": "MP3"},
        "stereo44k.wav": {"sample_rate": 44100, "channels": 2, "format": "WAV"},
    }
    write_zero_byte(root / "empty.wav")
    write_text_as_audio(root / "text.wav")
    write_truncated(root / "truncated.wav")
    write_truncated(root / "truncated.flac")
    write_nan_wav(root / "nan.wav")
    write_silent(root / "silent.wav")
    write_absurd_header(root / "absurd_rate.wav", sample_rate=100)
    write_absurd_header(root / "absurd_channels.wav", channels=100, n_bytes=4000)
    bad = {
        "empty.wav": "empty file",
        "text.wav": "not audio",
        "truncated.wav": "truncated",
        "truncated.flac": "truncated",
        "nan.wav": "NaN",
        "silent.wav": "silent",
        "absurd_rate.wav": "sample rate 100",
        "absurd_channels.wav": "100 channels",
    }
    return good, bad
