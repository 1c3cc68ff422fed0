"""Corpus sources built here, for `data build` tests that need no network.

`make_archives(cache, n)` writes three small Debian packages of tones and noise with
`dpkg-deb --build` into `cache/archives`, where `data/packages.py` looks before it
downloads, so a build finds them, unpacks them with `dpkg-deb -x` and renders them like
any real package. `install(cache)` points `AUDIOTEXT_PACKAGES` at the cache and makes
`--size small` mean these sources (two train, one eval). The kill campaign runs the real
`data build` command in a child that calls `install` first.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import FileAudio, Source, spec

VERSION = "1.0-1"
SOUNDS = "usr/share/sounds/fake"
COPYRIGHT = "usr/share/doc/{name}/copyright"
# source name -> (role, labels, kind of sound)
KINDS = {
    "faketones": ("train", ("alarm", "bell", "bell"), "tone"),
    "fakechimes": ("train", ("music", "percussion instrument", "chime"), "chord"),
    "fakenoise": ("eval", ("weather", "rain", "rain"), "noise"),
}


def _package(name: str) -> Package:
    return Package("deb", f"{name}-sounds", VERSION)


def _wave(kind: str, i: int, sr: int) -> np.ndarray:
    seconds = 0.4 + 0.05 * (i % 12)
    t = np.arange(int(seconds * sr)) / sr
    if kind == "noise":
        return (0.2 * np.random.default_rng(i).standard_normal(t.size)).astype(np.float32)
    freqs = (220.0 * 2 ** (i / 24),) if kind == "tone" else (261.6, 329.6, 392.0 + i)
    return (0.3 * sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs)).astype(np.float32)


def _build_deb(name: str, kind: str, n: int, archives: Path) -> None:
    """One package: n WAVs at 22.05 kHz (so rendering resamples) and a copyright file."""
    package = _package(name)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "DEBIAN").mkdir()
        control = (
            f"Package: {package.name}\nVersion: {VERSION}\nArchitecture: all\n"
            "Maintainer: audiotext tests <tests@localhost>\n"
            f"Description: {kind} sounds for the audiotext test suite\n"
        )
        (root / "DEBIAN" / "control").write_text(control)
        copyright_file = root / COPYRIGHT.format(name=package.name)
        copyright_file.parent.mkdir(parents=True)
        copyright_file.write_text(f"{package.name}: made by tests/fake_packages.py, CC0-1.0\n")
        sounds = root / SOUNDS / name
        sounds.mkdir(parents=True)
        for i in range(n):
            sf.write(sounds / f"{kind}{i:03d}.wav", _wave(kind, i, 22050), 22050)
        deb = archives / f"{package.name}_{VERSION}_all.deb"
        subprocess.run(
            ["dpkg-deb", "-Zgzip", "-z1", "--root-owner-group", "--build", str(root), str(deb)],
            check=True,
            capture_output=True,
        )


def make_archives(cache: str | Path, n: int = 40) -> Path:
    """The three packages, `n` sounds each, in `cache/archives`; returns the cache."""
    archives = Path(cache) / "archives"
    archives.mkdir(parents=True, exist_ok=True)
    for name, (_, _, kind) in KINDS.items():
        _build_deb(name, kind, n, archives)
    return Path(cache)


def _clips(name: str):
    _, labels, kind = KINDS[name]

    def clips(roots: list[Path], size: str, role: str, seed: int):
        files = sorted((roots[0] / SOUNDS / name).glob("*.wav"))
        return [
            spec(
                name,
                f.stem,
                labels,
                [f"A {kind} numbered {f.stem[-3:]}."],
                "CC0-1.0",
                FileAudio(str(f)),
                group=f"clip:{f.stem}",
            )
            for f in files
        ]

    return clips


def sources() -> dict[str, Source]:
    return {
        name: Source(
            name,
            (_package(name),),
            "CC0-1.0",
            (COPYRIGHT.format(name=_package(name).name),),
            _clips(name),
        )
        for name in KINDS
    }


def install(cache: str | Path) -> None:
    """Make `--size small` build the fake sources from `cache` (this process only)."""
    from audiotext_cli.data import build

    os.environ["AUDIOTEXT_PACKAGES"] = str(cache)
    roles: dict[str, tuple[str, ...]] = {"train": (), "eval": ()}
    for name, (role, _, _) in KINDS.items():
        roles[role] += (name,)
    build.SPLIT_SOURCES = {**build.SPLIT_SOURCES, "small": roles}
    build.registry = sources
