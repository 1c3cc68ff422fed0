"""Caption strings of a corpus as integer ids with cached frozen-MiniLM features."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from audiotext_cli.paths import cache_dir

if TYPE_CHECKING:
    from audiotext_cli.text import MiniLM


def feature_folder(encoder: MiniLM, tag: str = "") -> Path:
    """The text-feature cache folder of an encoder (`tag`: a variant such as masked chains):
    named by its weights and by how it computes (`features_version`: tiling, precision)."""
    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in encoder.model_id)
    name = f"{safe_id}_{encoder.features_version}" + (f"_{tag}" if tag else "")
    return cache_dir("text-features", name)


class TextTable:
    """Every caption string once: `ids[text]` -> row of `features` (S, 384)."""

    def __init__(self, texts: Sequence[str]) -> None:
        from audiotext_cli.text import TextFeatureCache, load_minilm

        self.texts = list(dict.fromkeys(texts))
        self.ids = {t: i for i, t in enumerate(self.texts)}
        encoder = load_minilm()
        cache = TextFeatureCache(feature_folder(encoder), encoder.model_id)
        self._cache, self.encoder = cache, encoder
        self.features = torch.from_numpy(np.ascontiguousarray(cache.get_many(self.texts, encoder)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Features of any strings (new ones are computed and cached)."""
        return self._cache.get_many(list(texts), self.encoder)
