"""Audio in: probe, decode in blocks, downmix, resample, and the windowing rule.

Every reader goes through one block decoder (`_native_blocks`), so `load_audio`,
`iter_blocks`, `iter_file_windows` and `verify` accept and reject exactly the same files
and give bit-identical samples: soxr's streaming resampler returns the same output however
the input is split into blocks. A 3-hour file is never held in memory whole by the
streaming readers.

Truncation: libsndfile silently shortens a chopped WAV (it reports the frames the file
still holds), so `probe` reads the RIFF `data` chunk size itself and compares. For
compressed formats the decoder either fails mid-read or returns fewer frames than the
header announces; both are reported as truncated. See docs/audio.md.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from audiotext_cli.errors import AudioError

TARGET_SR = 16000
WINDOW_SECONDS = 4.0
BLOCK_SECONDS = 30.0  # decode this much input per read: bounded memory, few calls
RESAMPLE_QUALITY = "HQ"
MAX_CHANNELS = 64
MIN_SAMPLE_RATE = 1000
MAX_SAMPLE_RATE = 768000
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
# WAVE format tags whose frame count is data bytes / block align (PCM, float, A-law, mu-law,
# extensible); ADPCM and friends pack frames differently.
_LINEAR_WAVE_TAGS = frozenset({1, 3, 6, 7, 0xFFFE})

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class AudioInfo:
    """What the header says about a file (no samples decoded)."""

    path: str
    duration: float  # seconds
    sample_rate: int
    channels: int
    frames: int
    format: str  # libsndfile major format, e.g. "WAV", "FLAC", "OGG", "MP3"
    subtype: str  # e.g. "PCM_16", "FLOAT", "VORBIS", "MPEG_LAYER_III"
    size_bytes: int


def probe(path: PathLike) -> AudioInfo:
    """Read the header only; raise AudioError for anything that cannot be a usable file."""
    p = Path(path)
    if not p.exists():
        raise AudioError("no such file", p)
    if p.is_dir():
        raise AudioError("is a directory, not an audio file", p)
    size = p.stat().st_size
    if size == 0:
        raise AudioError("empty file (0 bytes)", p)
    try:
        info = sf.info(str(p))
    except sf.SoundFileError as exc:
        raise AudioError(f"not audio or unreadable by libsndfile ({_sf_reason(exc)})", p) from None
    if not 1 <= info.channels <= MAX_CHANNELS:
        raise AudioError(f"absurd header: {info.channels} channels (1..{MAX_CHANNELS})", p)
    if not MIN_SAMPLE_RATE <= info.samplerate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"absurd header: sample rate {info.samplerate} Hz "
            f"({MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE})",
            p,
        )
    if info.frames <= 0:
        raise AudioError("no audio frames (header declares an empty stream)", p)
    declared = _riff_declared_frames(p)
    if declared is not None and declared > info.frames:
        raise AudioError(
            f"truncated: header declares {declared} frames, file holds {info.frames}", p
        )
    return AudioInfo(
        path=str(path),
        duration=info.frames / info.samplerate,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        format=info.format,
        subtype=info.subtype,
        size_bytes=size,
    )


def verify(path: PathLike, *, allow_silent: bool = False) -> AudioInfo:
    """Probe, then decode every frame at the native rate; raise what `load_audio` would.

    Costs a full decode (about 10k x real time for WAV) but no resampling.
    """
    info = probe(path)
    for _ in _native_blocks(path, info, _block_frames(info, BLOCK_SECONDS), allow_silent):
        pass
    return info


def iter_blocks(
    path: PathLike,
    sr: int = TARGET_SR,
    block_seconds: float = BLOCK_SECONDS,
    *,
    allow_silent: bool = False,
) -> Iterator[np.ndarray]:
    """Mono float32 blocks at `sr`, decoded `block_seconds` of input at a time.

    Checks that need the whole file (truncation, silence) raise after the last block.
    """
    _check_rate(sr)
    info = probe(path)
    native = _native_blocks(path, info, _block_frames(info, block_seconds), allow_silent)
    if info.sample_rate == sr:
        yield from native
        return
    stream = soxr.ResampleStream(info.sample_rate, sr, 1, dtype="float32", quality=RESAMPLE_QUALITY)
    for block in native:
        out = stream.resample_chunk(block)
        if out.size:
            yield out
    tail = stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
    if tail.size:
        yield tail


def load_audio(path: PathLike, sr: int = TARGET_SR, *, allow_silent: bool = False) -> np.ndarray:
    """The whole file as mono float32 at `sr` (same samples as concatenating `iter_blocks`)."""
    blocks = list(iter_blocks(path, sr, allow_silent=allow_silent))
    if not blocks:
        raise _too_short(path, sr)
    return np.concatenate(blocks)


def resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """In-memory resampling with the same soxr quality as the file readers.

    `wave` is (n,) or (n, channels); the result is float32 and equals what the streaming
    readers produce for the same samples.
    """
    _check_rate(orig_sr)
    _check_rate(target_sr)
    wave = np.ascontiguousarray(wave, dtype=np.float32)
    if orig_sr == target_sr:
        return wave.copy()
    return soxr.resample(wave, orig_sr, target_sr, quality=RESAMPLE_QUALITY)


def window_length(sr: int = TARGET_SR, window_seconds: float = WINDOW_SECONDS) -> int:
    """Samples per window."""
    length = round(sr * window_seconds)
    if length < 1:
        raise ValueError(f"window of {window_seconds} s at {sr} Hz has no samples")
    return length


def frame_windows(
    wave: np.ndarray, sr: int = TARGET_SR, window_seconds: float = WINDOW_SECONDS
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a mono wave into non-overlapping windows: (windows (n, W) float32, valid (n,) int64).

    The last window is zero-padded to W and `valid` keeps how many samples are real, so a
    clip of any length maps to ceil(len / W) windows, deterministically (no random crops).
    """
    wave = np.asarray(wave)
    if wave.ndim != 1:
        raise ValueError(f"frame_windows expects a mono (n,) wave, got shape {wave.shape}")
    if wave.size == 0:
        raise AudioError("empty waveform: nothing to cut into windows")
    width = window_length(sr, window_seconds)
    n = math.ceil(wave.size / width)
    windows = np.zeros((n, width), dtype=np.float32)
    windows.reshape(-1)[: wave.size] = wave
    valid = np.full(n, width, dtype=np.int64)
    valid[-1] = wave.size - (n - 1) * width
    return windows, valid


def iter_file_windows(
    path: PathLike,
    sr: int = TARGET_SR,
    window_seconds: float = WINDOW_SECONDS,
    max_windows_per_chunk: int = 64,
    *,
    block_seconds: float = BLOCK_SECONDS,
    allow_silent: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """`frame_windows(load_audio(path))` in chunks of at most `max_windows_per_chunk` rows,
    holding only about one chunk of audio at a time."""
    if max_windows_per_chunk < 1:
        raise ValueError(f"max_windows_per_chunk must be >= 1, got {max_windows_per_chunk}")
    width = window_length(sr, window_seconds)
    chunk = width * max_windows_per_chunk
    pending: list[np.ndarray] = []
    held = 0
    emitted = False
    for block in iter_blocks(path, sr, block_seconds, allow_silent=allow_silent):
        pending.append(block)
        held += block.size
        if held < chunk:
            continue
        buffer = np.concatenate(pending)
        full = buffer.size // chunk * chunk
        for start in range(0, full, chunk):
            yield frame_windows(buffer[start : start + chunk], sr, window_seconds)
            emitted = True
        pending, held = [buffer[full:]], buffer.size - full
    if held:
        yield frame_windows(np.concatenate(pending), sr, window_seconds)
    elif not emitted:
        raise _too_short(path, sr)


MP3_FRAME = 1152  # samples per MPEG-1 layer III frame


def _mp3_tag_and_header(path: PathLike) -> tuple[int, bool]:
    """(bytes of a leading ID3v2 tag, whether the first MPEG frame carries a Xing/Info/VBRI
    length header). Without one, libsndfile estimates the length from the file size."""
    with open(path, "rb") as f:
        head = f.read(10)
        tag = 0
        if len(head) == 10 and head[:3] == b"ID3":
            size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14
            size |= (head[8] & 0x7F) << 7 | head[9] & 0x7F
            tag = 10 + size + (10 if head[5] & 0x10 else 0)
        f.seek(tag)
        frame = f.read(64)
    return tag, any(mark in frame for mark in (b"Xing", b"Info", b"VBRI"))


def _frame_slack(info: AudioInfo) -> int:
    """Frames a complete file may fall short of its header.

    An MP3 header's length is an estimate: encoder padding overshoots it by a frame or two
    (seen: up to 2,320 samples on real CC0 recordings). And when the stream has no
    Xing/Info length header, libsndfile prices the whole file, a leading ID3v2 tag (cover
    art, padding) included, as audio (seen: 4 KB of tag made a 0.5 s Scratch sound
    "1.0 s"); the tag's share of the file may then be missing too. A chopped stream of
    that kind cannot be told from a whole one: its estimate shrinks with it."""
    if info.format != "MP3":
        return 0
    tag, exact = _mp3_tag_and_header(info.path)
    share = 0 if exact else math.ceil(info.frames * tag / max(info.size_bytes, 1))
    return 4 * MP3_FRAME + share


def _native_blocks(
    path: PathLike, info: AudioInfo, block_frames: int, allow_silent: bool
) -> Iterator[np.ndarray]:
    """Mono float32 blocks at the file's own rate, with every content check on the way."""
    check_finite = info.subtype in _FLOAT_SUBTYPES
    read = 0
    heard = False
    with sf.SoundFile(str(path)) as f:
        while True:
            try:
                block = f.read(block_frames, dtype="float32", always_2d=True)
            except sf.SoundFileError as exc:
                raise AudioError(
                    f"truncated or corrupt: decoding failed after {read} of {info.frames} "
                    f"frames ({_sf_reason(exc)})",
                    path,
                ) from None
            if not len(block):
                break
            if check_finite and not np.isfinite(block).all():
                bad = read + int(np.argmin(np.isfinite(block).all(axis=1)))
                raise AudioError(f"NaN or infinite sample at frame {bad}", path)
            heard = heard or bool(block.any())
            read += len(block)
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
            yield np.ascontiguousarray(mono)
    if read < info.frames - _frame_slack(info):
        raise AudioError(f"truncated: decoded {read} of {info.frames} frames", path)
    if not heard and not allow_silent:
        raise AudioError("silent: every sample is exactly zero", path)


def _riff_declared_frames(path: Path) -> int | None:
    """Frames a WAV's `data` chunk header declares (None if not a linear RIFF/WAVE file, or
    a streaming placeholder size). Reads chunk headers only."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        block_align = 0
        while len(chunk := f.read(8)) == 8:
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                fmt = f.read(size)
                if len(fmt) < 14:
                    return None
                tag = struct.unpack_from("<H", fmt)[0]
                block_align = struct.unpack_from("<H", fmt, 12)[0]
                if tag not in _LINEAR_WAVE_TAGS:
                    return None
                f.seek(size & 1, os.SEEK_CUR)
            elif cid == b"data":
                if size in (0, 0xFFFFFFFF) or block_align == 0:
                    return None
                return size // block_align
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)
    return None


def _too_short(path: PathLike, sr: int) -> AudioError:
    return AudioError(f"too short: no samples left after resampling to {sr} Hz", path)


def _block_frames(info: AudioInfo, block_seconds: float) -> int:
    if not block_seconds > 0:
        raise ValueError(f"block_seconds must be > 0, got {block_seconds}")
    return max(1, round(block_seconds * info.sample_rate))


def _check_rate(sr: int) -> None:
    if not (isinstance(sr, int | np.integer) and sr > 0):
        raise ValueError(f"sample rate must be a positive integer, got {sr!r}")


def _sf_reason(exc: Exception) -> str:
    """libsndfile's own reason without the 'Error opening <path>:' prefix."""
    reason = getattr(exc, "error_string", None) or str(exc)
    return " ".join(reason.split()).rstrip(".")
