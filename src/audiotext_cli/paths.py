"""Where audiotext keeps corpora, caches and demo artefacts: never inside the repo."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """Root of audiotext's cache; `AUDIOTEXT_HOME` overrides `~/.cache/audiotext`."""
    root = os.environ.get("AUDIOTEXT_HOME")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "audiotext"


def cache_dir(*parts: str) -> Path:
    """A sub-folder of `home()`, created on demand."""
    path = home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
