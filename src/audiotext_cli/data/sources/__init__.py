"""Corpus sources: each turns unpacked packages into clip specs (labels, captions, audio recipe).

A spec is pure data and cheap to make, so the builder can list every clip, decide splits
and skip finished ones before any audio is decoded or rendered. The audio recipe
(`FileAudio`, `RccAudio`, `ZipAudio`, `NoteAudio`) is picklable and makes the 44.1 kHz
waveform in a worker.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiotext_cli.data.captions import build_captions
from audiotext_cli.data.packages import Package

MAX_SECONDS = 10.0
"""Real recordings longer than this are cut (sound effects) or left out (speech)."""
CORPUS_SR = 44100
"""Corpus audio is stored full band at the aisfx tower's rate; the 16 kHz CNN decodes the
same files at its own rate (docs/data.md)."""


@dataclass(frozen=True)
class FileAudio:
    """A recording from a package, decoded to CORPUS_SR mono and cut at MAX_SECONDS."""

    path: str

    def make(self) -> np.ndarray:
        from audiotext_cli.audio.io import iter_blocks

        # The resampler streams, so stopping after MAX_SECONDS gives the same samples as a
        # full decode cut there, without decoding the rest of a 4-minute music track.
        limit = int(MAX_SECONDS * CORPUS_SR)
        blocks, have = [], 0
        for block in iter_blocks(self.path, CORPUS_SR):
            blocks.append(block)
            have += block.size
            if have >= limit:
                break
        if not blocks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(blocks)[:limit]


@dataclass(frozen=True)
class WavPackAudio:
    """A WavPack (.wv) recording (Teeworlds), which libsndfile cannot read: `wvunpack`
    (Debian `wavpack`, installed by `make apt`) converts it to WAV, decoded as FileAudio."""

    path: str

    def make(self) -> np.ndarray:
        import shutil
        import subprocess
        import tempfile

        from audiotext_cli.errors import DataBuildError

        tool = shutil.which("wvunpack")
        if tool is None:
            raise DataBuildError("wvunpack not found (apt-get install wavpack)", self.path)
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / (Path(self.path).stem + ".wav")
            cmd = [tool, "-q", "-y", self.path, "-o", str(wav)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0 or not wav.is_file():
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise DataBuildError(f"wvunpack failed: {last}", self.path)
            return FileAudio(str(wav)).make()


@dataclass(frozen=True)
class RccAudio:
    """A recording stored inside a Qt resource file (GCompris), read out and decoded as
    FileAudio would decode it."""

    rcc: str
    entry: str

    def make(self) -> np.ndarray:
        import tempfile

        from audiotext_cli.data.rcc import read_rcc
        from audiotext_cli.errors import DataBuildError

        blob = next((b for name, b in read_rcc(self.rcc) if name == self.entry), None)
        if blob is None:
            raise DataBuildError(f"no entry {self.entry}", self.rcc)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(self.entry).name
            path.write_bytes(blob)
            return FileAudio(str(path)).make()


@functools.lru_cache(maxsize=4)
def _open_zip(path: str):
    """An open archive per worker: 0 A.D.'s 3 GB zip has a large directory to parse."""
    import zipfile

    return zipfile.ZipFile(path)


@dataclass(frozen=True)
class ZipAudio:
    """A recording stored in a zip archive (Quake .pk3, Warzone .wz), read out and decoded
    as FileAudio would decode it."""

    archive: str
    member: str

    def make(self) -> np.ndarray:
        import tempfile
        import zipfile

        from audiotext_cli.errors import DataBuildError

        try:
            blob = _open_zip(self.archive).read(self.member)
        except (KeyError, zipfile.BadZipFile, OSError) as exc:
            raise DataBuildError(f"cannot read {self.member}: {exc}", self.archive) from None
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(self.member).name
            path.write_bytes(blob)
            return FileAudio(str(path)).make()


@dataclass(frozen=True)
class NoteAudio:
    """Notes rendered from a soundfont preset (see `soundfont.render`)."""

    sf2: str
    bank: int
    program: int
    notes: tuple[int, ...]
    velocity: int
    seconds: float
    arpeggio: bool = False

    def make(self) -> np.ndarray:
        from audiotext_cli.data.sources.soundfont import render

        return render(self)


@dataclass(frozen=True)
class ClipSpec:
    """Everything about a clip except its audio samples."""

    id: str  # "<source>/<path>", also the FLAC path under audio/
    source: str
    group: str  # the unit a validation split takes whole (a pitch, or the clip itself)
    labels: tuple[str, str, str]
    captions: tuple[tuple[int, str], ...]
    license: str
    audio: FileAudio | RccAudio | ZipAudio | WavPackAudio | NoteAudio


def spec(
    source: str,
    name: str,
    labels: tuple[str, str, str],
    specific: list[str],
    license: str,
    audio: FileAudio | RccAudio | ZipAudio | WavPackAudio | NoteAudio,
    group: str | None = None,
    **templates: tuple[str, ...],
) -> ClipSpec:
    """A ClipSpec with captions built from `labels` and the specific sentences."""
    caps = build_captions(labels, specific, **templates)
    clip_id = f"{source}/{name}"
    return ClipSpec(
        id=clip_id,
        source=source,
        group=group or clip_id,
        labels=labels,
        captions=tuple((c["level"], c["text"]) for c in caps),
        license=license,
        audio=audio,
    )


def take(specs: list[ClipSpec], limit: int | None, seed: int) -> list[ClipSpec]:
    """A seeded subset of at most `limit` specs, in their original order (None: all)."""
    if limit is None or len(specs) <= limit:
        return specs
    keep = set(random.Random(f"{seed}:{specs[0].source}").sample(range(len(specs)), limit))
    return [s for i, s in enumerate(specs) if i in keep]


@dataclass(frozen=True)
class Source:
    """A named source: its packages, licence files and a function listing its clips.

    `clips(roots, size, role, seed)` gets the unpacked package roots (same order as
    `packages`), the size preset, "train" or "eval" (soundfonts render different pitches
    per role) and the seed (for seeded choices such as note lengths or subsets).
    """

    name: str
    packages: tuple[Package, ...]
    license: str
    license_files: tuple[str, ...]  # paths inside the unpacked packages, copied to LICENSES/
    clips: Callable[[list[Path], str, str, int], list[ClipSpec]]


def registry() -> dict[str, Source]:
    """Every source by name (imported here so a source module is only loaded when used)."""
    from audiotext_cli.data.sources import (
        asterisk,
        games,
        gamesfx,
        gcompris,
        hedgewars,
        hydrogen,
        lmms,
        openarena,
        ovos,
        qabcs,
        scratch,
        sonicpi,
        soundfont,
        teeworlds,
        tuxpaint,
        warzone,
        zeroad,
    )

    found = [
        *soundfont.SOURCES,
        tuxpaint.SOURCE,
        gcompris.SOURCE,
        qabcs.SOURCE,
        gamesfx.SOURCE,
        sonicpi.SOURCE,
        asterisk.SOURCE,
        ovos.SOURCE,
        lmms.SOURCE,
        scratch.SOURCE,
        hedgewars.SOURCE,
        warzone.SOURCE,
        openarena.SOURCE,
        hydrogen.SOURCE,
        *games.SOURCES,
        zeroad.SOURCE,
        teeworlds.SOURCE,
    ]
    return {s.name: s for s in found}
