"""Caption strings of a corpus as integer ids with cached frozen-MiniLM features."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from audiotext_cli.paths import cache_dir


def feature_folder(model_id: str, tag: str = "") -> Path:
    """The text-feature cache folder of an encoder (`tag`: a variant such as masked chains)."""
    from audiotext_cli.text.minilm import FEATURES_VERSION

    safe_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id)
    return cache_dir("text-features", f"{safe_id}_{FEATURES_VERSION}" + (f"_{tag}" if tag else ""))


class TextTable:
    """Every caption string once: `ids[text]` -> row of `features` (S, 384)."""

    def __init__(self, texts: Sequence[str]) -> None:
        from audiotext_cli.text import TextFeatureCache, load_minilm

        self.texts = list(dict.fromkeys(texts))
        self.ids = {t: i for i, t in enumerate(self.texts)}
        encoder = load_minilm()
        cache = TextFeatureCache(feature_folder(encoder.model_id), encoder.model_id)
        self._cache, self.encoder = cache, encoder
        self.features = torch.from_numpy(np.ascontiguousarray(cache.get_many(self.texts, encoder)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Features of any strings (new ones are computed and cached)."""
        return self._cache.get_many(list(texts), self.encoder)
