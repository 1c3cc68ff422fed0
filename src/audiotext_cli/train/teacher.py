"""Teacher embeddings for the soft-labelled contrastive loss (curation paper, REFERENCE.md 4)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audiotext_cli.data.manifest import ClipRecord


def teacher_embeddings(
    checkpoint: Path, records: Sequence[ClipRecord], texts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(audio per training clip, text per caption string) from a frozen teacher, unit-norm."""
    from audiotext_cli.evaluate.run import embed_records
    from audiotext_cli.models import load_embedder

    teacher = load_embedder(checkpoint)
    audio = embed_records(teacher, list(records)).mean
    text = teacher.embed_texts(list(texts)).mean
    return audio.astype(np.float32), text.astype(np.float32)
