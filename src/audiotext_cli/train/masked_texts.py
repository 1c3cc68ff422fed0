"""Word-masked caption features for ProLAP's hierarchical inclusion, computed once, cached.

Masking captions and running MiniLM on them at every step cost most of a ProLAP step on
cached audio features. Instead each training caption gets `variants` fixed masking chains
(levels 1..depth, each hiding every word still visible at the level before with
probability `prob`, as `text.recursive_masks`), seeded by the caption and the variant
number alone, so a chain is the same whatever corpus, batch or order it comes in. Their
features live in a disk cache beside the plain caption features, and a step draws one
variant per caption: the model sees `variants` maskings of each caption instead of a new
one each time (docs/prolap.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from audiotext_cli.text import TextFeatureCache, recursive_masks
from audiotext_cli.text.minilm import HIDDEN, MiniLM
from audiotext_cli.train.texts import feature_folder


class _MaskedEncoder:
    """`encode(keys)` for a `TextFeatureCache` whose keys are "variant\\x1fcaption" and
    whose rows are the chain's levels 1..depth side by side (depth * 384)."""

    def __init__(self, encoder: MiniLM, prob: float, depth: int) -> None:
        self.encoder, self.prob, self.depth = encoder, prob, depth

    def encode(self, keys: list[str]) -> np.ndarray:
        enc = self.encoder
        texts = [key.split("\x1f", 1)[1] for key in keys]
        seqs = []
        for key, tokens in zip(keys, enc.tokenizer.encode_batch(texts), strict=True):
            seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1
            ids = torch.tensor([tokens.ids])
            levels = recursive_masks(
                ids,
                torch.ones_like(ids),
                self.depth,
                self.prob,
                torch.Generator().manual_seed(seed),
                enc.mask_token_id,
                enc.special_ids,
            )
            seqs.extend(level[0].tolist() for level in levels)
        return enc.encode_ids(seqs).reshape(len(keys), self.depth * HIDDEN)


class MaskedTextBank:
    """Masked-chain features of the captions `caption_ids` (rows of `texts`):
    `sample(ids, g)` -> levels 1..depth, each (n, 384)."""

    def __init__(
        self,
        encoder: MiniLM,
        texts: Sequence[str],
        caption_ids: Sequence[int],
        prob: float,
        depth: int,
        variants: int,
    ) -> None:
        self.depth, self.variants = depth, variants
        ids = sorted(set(caption_ids))
        self.row = torch.full((len(texts),), -1, dtype=torch.long)
        self.row[ids] = torch.arange(len(ids))
        tag = f"masked_p{prob:g}_d{depth}"
        folder = feature_folder(encoder, tag)
        cache = TextFeatureCache(folder, f"{encoder.model_id}/{tag}", dim=depth * HIDDEN)
        keys = [f"{v}\x1f{texts[i]}" for i in ids for v in range(variants)]
        feats = cache.get_many(keys, _MaskedEncoder(encoder, prob, depth))
        self.features = torch.from_numpy(np.ascontiguousarray(feats)).view(
            len(ids), variants, depth, HIDDEN
        )

    def sample(self, cap_ids: Tensor, g: torch.Generator) -> list[Tensor]:
        rows = self.row[cap_ids]
        if bool((rows < 0).any()):
            raise ValueError("a caption without masked features (not a training caption)")
        variant = torch.randint(0, self.variants, (len(cap_ids),), generator=g)
        chosen = self.features[rows, variant]  # (n, depth, 384)
        return [chosen[:, level] for level in range(self.depth)]
