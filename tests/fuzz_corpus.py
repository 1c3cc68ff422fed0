"""A deterministic generator of bad and odd audio, for the fuzz tests and `make fuzz`.

`fuzz_corpus(folder, n, seed)` writes about `n` entries and returns what each should be:
`GOOD` (must be embedded), `BAD` (must be reported with a one-line reason) or `EITHER`
(legitimately undecidable: a compressed stream cut exactly at a frame or page boundary is
a shorter valid file; a 1-sample file may resample to nothing). The same (n, seed) gives
the same bytes, so a failure reproduces. Callable by any test that feeds audio to a
command, e.g. the web API's upload (`serve`).
"""

from __future__ import annotations

import os
import random
import struct
from pathlib import Path

import numpy as np
import soundfile as sf

GOOD, BAD, EITHER = "good", "bad", "either"
EXTENSIONS = ("wav", "flac", "ogg", "mp3", "aiff", "opus", "WAV", "Mp3")
# the last two are not valid UTF-8 (bytes 0xff, and 0xe9 = Latin-1 "é"): os.fsdecode turns
# them into lone surrogates (PEP 383), which only the OS bytes (os.fsencode) can name
_NAMES = (
    "plain",
    "with space",
    "ünïcödé ✓",
    "new\nline",
    "UPPER",
    "dots.in.name",
    "-dash",
    os.fsdecode(b"bad\xff name"),
    os.fsdecode(b"caf\xe9"),
)


def _write(path: Path, wave: np.ndarray, sr: int, **kwargs: str | None) -> None:
    """sf.write by the OS bytes of the name: it encodes a str name strictly as UTF-8."""
    sf.write(os.fsencode(path), wave, sr, **kwargs)


def _tone(rng: random.Random, sr: int, seconds: float, channels: int) -> np.ndarray:
    n = max(1, round(sr * seconds))
    t = np.arange(n) / sr
    freq = rng.uniform(100, min(4000, sr / 3))
    wave = 0.3 * np.sin(2 * np.pi * freq * t)
    return np.repeat(wave[:, None], channels, axis=1).astype(np.float32)


def _valid_file(rng: random.Random, path: Path, fmt: str) -> None:
    """A tone in `fmt` at a rate, length and channel count the format accepts."""
    rates = {"MP3": (16000, 22050, 44100, 48000), "OGG": (16000, 44100, 48000)}
    sr = rng.choice(rates.get(fmt, (8000, 16000, 44100, 48000, 96000)))
    channels = rng.choice((1, 2) if fmt == "MP3" else (1, 2, 8))
    subtype = {"WAV": rng.choice(("PCM_16", "PCM_24", "FLOAT")), "AIFF": "PCM_16"}.get(fmt)
    _write(path, _tone(rng, sr, rng.uniform(0.05, 1.5), channels), sr, format=fmt, subtype=subtype)


_FORMATS = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "mp3": "MP3", "aiff": "AIFF"}


def _name(rng: random.Random, i: int, ext: str) -> str:
    return f"{i:05d} {rng.choice(_NAMES)}.{ext}"


def _wav_with_header(path: Path, rate: int, channels: int, data_bytes: int, body: bytes) -> None:
    byte_rate = (rate * channels * 2) & 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", 1, channels, rate, byte_rate, (channels * 2) & 0xFFFF, 16)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    riff += b"data" + struct.pack("<I", data_bytes) + body
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)


def _absurd(rng: random.Random, path: Path) -> None:
    body = (np.sin(np.arange(800) / 3) * 8000).astype("<i2").tobytes()
    rate, channels, data = rng.choice(
        (
            (0, 1, len(body)),
            (4_000_000_000, 1, len(body)),
            (16000, 0, len(body)),
            (16000, 1000, len(body)),
            (16000, 1, 0x7FFF0000),  # frame count far beyond the file
        )
    )
    _wav_with_header(path, rate, channels, data, body)


def _huge_fmt(path: Path) -> None:
    """A 4 KB WAV whose fmt chunk claims 2 GB."""
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16) + bytes(4000)
    riff = b"WAVEfmt " + struct.pack("<I", 2_000_000_000) + fmt
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)


SPECIAL_KINDS = ("fifo", "dangling link", "symlink loop", "directory", "empty", "unreadable")


def _special(rng: random.Random, folder: Path, i: int) -> dict[Path, str]:
    """Entries that are not usable audio files at all; `i // 10` cycles through
    SPECIAL_KINDS (called for every tenth entry, so `i % 10` is constant here)."""
    kind = SPECIAL_KINDS[i // 10 % len(SPECIAL_KINDS)]
    path = folder / f"{i:05d} special.wav"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling link":
        os.symlink(folder / "nowhere.wav", path)
    elif kind == "symlink loop":
        other = folder / f"{i:05d} loop-b.wav"
        os.symlink(other, path)
        os.symlink(path, other)
        return {path: BAD, other: BAD}
    elif kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    else:  # a valid WAV nobody may read; root reads it anyway (CAP_DAC_OVERRIDE)
        _valid_file(rng, path, "WAV")
        path.chmod(0)
        return {path: BAD if not os.access(path, os.R_OK) else GOOD}
    return {path: BAD}


def fuzz_corpus(folder: str | Path, n: int = 60, seed: int = 0) -> dict[Path, str]:
    """Write about `n` fuzzed entries into `folder`; return {path: GOOD | BAD | EITHER}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    expected: dict[Path, str] = {}
    for i in range(n):
        kind = i % 10
        ext = rng.choice(EXTENSIONS)
        fmt = _FORMATS.get(ext.lower(), "WAV")
        path = folder / _name(rng, i, ext if ext.lower() in _FORMATS else "wav")
        if kind in (0, 1):  # valid files, odd names, rates, channels, lengths
            _valid_file(rng, path, fmt)
            expected[path] = GOOD
        elif kind == 2:  # random bytes under an audio extension
            path = folder / _name(rng, i, ext)
            path.write_bytes(rng.randbytes(rng.randint(1, 4096)))
            expected[path] = BAD
        elif kind in (3, 4):  # truncated at a random offset
            _valid_file(rng, path, fmt)
            data = path.read_bytes()
            path.write_bytes(data[: rng.randint(1, len(data) - 1)])
            expected[path] = BAD if fmt in ("WAV", "AIFF") else EITHER
        elif kind == 5:
            _absurd(rng, path.with_suffix(".wav"))
            expected[path.with_suffix(".wav")] = BAD
        elif kind == 6:  # NaN / inf floats
            wave = _tone(rng, 16000, 0.2, 1)
            wave[rng.randrange(len(wave))] = rng.choice((np.nan, np.inf, -np.inf))
            _write(path.with_suffix(".wav"), wave, 16000, subtype="FLOAT")
            expected[path.with_suffix(".wav")] = BAD
        elif kind == 7:  # tiny: 1 sample, 0.01 s
            seconds = rng.choice((1 / 16000, 0.01))
            _write(path.with_suffix(".wav"), _tone(rng, 16000, seconds, 1), 16000)
            expected[path.with_suffix(".wav")] = GOOD if seconds == 0.01 else EITHER
        elif kind == 8:
            expected |= _special(rng, folder, i)
        else:
            choice = i // 10 % 3
            target = path.with_suffix(".wav")
            if choice == 0:
                _huge_fmt(target)
                expected[target] = BAD
            elif choice == 1:  # silent
                _write(target, np.zeros(1600, np.float32), 16000)
                expected[target] = BAD
            else:  # very loud finite floats: what a model makes of them is model-specific
                _write(target, np.full(1600, 3e38, np.float32), 16000, subtype="FLOAT")
                expected[target] = EITHER
    return expected
