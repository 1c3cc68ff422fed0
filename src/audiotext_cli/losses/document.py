"""HILBERT's document losses: the registry's second family, `DOCUMENT_LOSSES`.

A document loss takes the HILBERT model's output (`z_*`, `g_*`, `log_probs`, `gates`,
`penalty`; see hilbert/model.py) and a `DocumentBatch`, and returns weighted `{"*_loss"}`
terms. Where the two-tower models train one loss, HILBERT sums every registered one, each
configured in `FitConfig.losses` (a zero weight turns it off), in registration order
(`losses/__init__.py`): `ce` here, `dual` (dual.py, with balance.py), `cka` (cka.py),
`load` (mixture.py), `penalty` (penalty.py). Reconstruction: docs/hilbert.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.registry import DOCUMENT_LOSSES, Loss, LossConfig, register_loss

MIN_DOCUMENTS = 4  # the contrastive and debiased-CKA terms need a few documents


@dataclass
class DocumentBatch:
    """What a document loss reads beyond the model's output."""

    labels: Tensor  # (B,) class ids
    class_weights: Tensor  # (C,) inverse-frequency weights of the training documents


class DocumentLoss(Loss):
    """A registered HILBERT loss term, built from its config."""

    def forward(self, out: dict[str, Tensor], batch: DocumentBatch) -> dict[str, Tensor]:
        raise NotImplementedError


@dataclass
class WeightedConfig(LossConfig):
    """The config of a document loss weighted by `weight` (>= 0; 0 turns it off)."""

    weight: float = 1.0

    def validate(self) -> None:
        if not self.weight >= 0:
            raise ConfigUsageError(f"train.losses.{self.name}.weight: must be >= 0")


def register_document_loss(name: str, config: type[LossConfig]):
    """`register_loss` into `DOCUMENT_LOSSES`."""
    return register_loss(name, config, DOCUMENT_LOSSES)


def class_weights(labels: Tensor, n_classes: int) -> Tensor:
    """n / (C * count_c) (sklearn's 'balanced'); absent classes get weight 0."""
    counts = torch.bincount(labels, minlength=n_classes).to(torch.float32)
    weights = labels.numel() / (n_classes * counts.clamp(min=1))
    return torch.where(counts > 0, weights, torch.zeros_like(weights))


@dataclass
class ClassificationConfig(LossConfig):
    """The class-weighted negative log-likelihood has no options."""


@register_document_loss("ce", ClassificationConfig)
class ClassificationLoss(DocumentLoss):
    """NLL of the labels under the head's log-probabilities, classes weighted."""

    def forward(self, out: dict[str, Tensor], batch: DocumentBatch) -> dict[str, Tensor]:
        return {"ce_loss": F.nll_loss(out["log_probs"], batch.labels, weight=batch.class_weights)}
