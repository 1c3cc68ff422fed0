"""Typed errors for bad input.

Every error a user can cause derives from `AudiotextError`; the CLI prints it as one line
(`error: <path>: <reason>`) and exits non-zero, never with a traceback.
"""

from __future__ import annotations

from pathlib import Path


class AudiotextError(Exception):
    """A problem with the user's input or files, reported as one line."""

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class AudioError(AudiotextError):
    """An audio file that is missing, empty, corrupt, silent or otherwise unusable."""


class ManifestError(AudiotextError):
    """A manifest (JSONL) that is missing, malformed or inconsistent."""


class CheckpointError(AudiotextError):
    """A model checkpoint that is missing, truncated, mismatched or not ours."""


class IndexFileError(AudiotextError):
    """A FAISS index or embedding store that is missing, corrupt or mismatched."""


class EmbeddingFileError(AudiotextError):
    """An embedding file (npy/safetensors/store) that cannot be used as asked."""


class ConfigError(AudiotextError):
    """A configuration value or override that is invalid."""


class DataBuildError(AudiotextError):
    """A corpus build step that cannot proceed (missing package, failed download)."""


class QueryError(AudiotextError):
    """A search filter (`--filter`) or condition (`--where`) that does not parse: a usage
    mistake, so the CLI exits 2."""
