"""Projection heads into the shared space: deterministic, or a diagonal Gaussian (ProLAP)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from audiotext_cli.models.output import Embedding


def _mlp(d_in: int, hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, d_out))


class ProjectionHead(nn.Module):
    """features -> unit-norm mean; `logvar` is None for deterministic heads."""

    def __init__(
        self, d_in: int, hidden: int, d_out: int, probabilistic: bool, logvar_bias: float
    ) -> None:
        super().__init__()
        self.mean = _mlp(d_in, hidden, d_out)
        self.logvar: nn.Module | None = None
        if probabilistic:
            self.logvar = _mlp(d_in, hidden, d_out)
            nn.init.zeros_(self.logvar[-1].weight)
            nn.init.constant_(self.logvar[-1].bias, logvar_bias)

    def forward(self, x: Tensor) -> Embedding:
        mu = F.normalize(self.mean(x), dim=-1)
        return Embedding(mu, self.logvar(x) if self.logvar is not None else None)
