"""What the two-tower model hands to a loss: typed embeddings instead of nested tuples.

`Embedding` is the torch-side twin of `embedder.Embeddings` (numpy, the contract with
consumers): a unit-norm mean and, for probabilistic heads, a per-dimension log-variance.
`ModelOutput` is the whole result of one training forward, which is what DDP wraps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor


@dataclass
class Embedding:
    """(B, D) unit-norm means and (B, D) log-variances, or None for a deterministic head."""

    mean: Tensor
    logvar: Tensor | None = None

    def __getitem__(self, rows: slice) -> Embedding:
        """The same rows of mean and log-variance (e.g. the first n of a batch)."""
        return Embedding(self.mean[rows], None if self.logvar is None else self.logvar[rows])

    def __len__(self) -> int:
        return self.mean.shape[0]

    @property
    def probabilistic(self) -> bool:
        return self.logvar is not None


@dataclass
class ModelOutput:
    """One training forward: both modalities, ProLAP's masked levels, and the model-owned
    contrastive scalars (exponentiated `logit_scale`, `logit_bias`).

    `audio_levels[l]` / `text_levels[l]` embed masking level l + 1 of the first n samples
    of the batch (level l + 1 masks what level l left visible); empty unless asked for.
    """

    audio: Embedding
    text: Embedding
    logit_scale: Tensor
    logit_bias: Tensor
    audio_levels: list[Embedding] = field(default_factory=list)
    text_levels: list[Embedding] = field(default_factory=list)
