"""Waveform peaks for the page: computed once per file version, cached under AUDIOTEXT_HOME.

The page draws its waveform on a canvas from these numbers, so no waveform library is
shipped. Peaks are taken at the file's own rate (resampling first would hide the
transients of a hi-hat), block by block, so a long file is never held in memory whole.
The cache key is the row's content hash plus the file's size and mtime: an edited file
gets new peaks, an untouched one is decoded once.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from audiotext_cli.atomic import write_json_atomic
from audiotext_cli.audio.io import iter_blocks, probe
from audiotext_cli.paths import cache_dir

BINS = 400  # columns of the drawn waveform
CACHE_VERSION = 1


def peaks(path: Path, content_sha: str = "", bins: int = BINS) -> dict[str, Any]:
    """{"sample_rate", "channels", "duration", "peaks"}: peaks[i] = max |sample| (0..1, 3
    decimals) over the i-th of `bins` equal spans of the mono mixdown."""
    stat = path.stat()
    key = f"{CACHE_VERSION}:{content_sha}:{path}:{stat.st_size}:{stat.st_mtime_ns}:{bins}"
    cached = cache_dir("serve", "peaks") / f"{hashlib.sha256(key.encode()).hexdigest()}.json"
    if cached.exists():
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass  # a damaged cache entry is recomputed
    result = compute_peaks(path, bins)
    write_json_atomic(cached, result)
    return result


def compute_peaks(path: Path, bins: int = BINS) -> dict[str, Any]:
    """Peaks without the cache (raises AudioError for files the decoder rejects)."""
    info = probe(path)
    total = max(info.frames, 1)
    top = np.zeros(bins, np.float32)
    start = 0
    for block in iter_blocks(path, info.sample_rate, allow_silent=True):
        where = (np.arange(start, start + len(block), dtype=np.int64) * bins) // total
        np.maximum.at(top, np.minimum(where, bins - 1), np.abs(block))
        start += len(block)
    return {
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "duration": info.duration,
        "peaks": [round(float(v), 3) for v in np.minimum(top, 1.0)],
    }
