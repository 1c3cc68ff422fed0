"""Corpora: the manifest schema and builders that turn Debian/PyPI packages into clips."""

from audiotext_cli.data.manifest import (
    ClipRecord,
    captions_at,
    read_manifest,
    validate_manifest,
    write_manifest,
)

__all__ = ["ClipRecord", "captions_at", "read_manifest", "validate_manifest", "write_manifest"]
