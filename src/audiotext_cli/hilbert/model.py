"""HILBERT document model: segment features -> z_audio, z_text, z_joint -> class log-probs.

Shapes: B documents, N turns (padded; `mask` is True on real turns), D_a / D_t encoder
widths, d model width, r attention hops, E experts, C classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.mixture import log_mixture
from audiotext_cli.models.config import check_ranges

# Loss options that lived here before HILBERT's losses had their own configs
# (`FitConfig.losses`); a checkpoint written then still loads without them.
LEGACY_LOSS_KEYS = ("dual", "temperature", "w_dual", "w_cka", "w_balance", "w_load", "w_penalty")


@dataclass
class HilbertConfig:
    audio_dim: int = 0  # D_a: width of the concatenated audio segment features (from the data)
    text_dim: int = 0  # D_t (from the data)
    n_classes: int = 2
    d: int = 32  # model width
    heads: int = 4  # cross-attention heads
    hops: int = 4  # r, structured self-attention hops (Lin et al. 2017)
    experts: int = 4
    head: str = "moe"  # "moe" or "linear"
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.head not in ("moe", "linear"):
            raise ConfigUsageError(f"model.head: must be moe or linear, got {self.head!r}")
        sizes = ("n_classes", "d", "heads", "hops", "experts")
        check_ranges(
            self, "model", positive=sizes, non_negative=("audio_dim", "text_dim", "dropout")
        )
        if not self.dropout < 1:
            raise ConfigUsageError(f"model.dropout: must be < 1, got {self.dropout}")
        if self.d % self.heads:
            raise ConfigUsageError(f"model.d: must be a multiple of model.heads ({self.heads})")

    def to_dict(self) -> dict:
        return asdict(self)


class SelfAttentivePooling(nn.Module):
    """S = softmax_N(W2 tanh(W1 H^T)) over real turns; z = W_o vec(S H); penalty ||S S^T - I||^2."""

    def __init__(self, d: int, hops: int) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, hops, bias=False))
        self.out = nn.Linear(hops * d, d)

    def forward(self, h: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        scores = self.score(h).masked_fill(~mask.unsqueeze(-1), float("-inf"))  # (B, N, r)
        s = torch.softmax(scores, dim=1).transpose(1, 2)  # (B, r, N)
        pooled = self.out((s @ h).flatten(1))  # (B, d)
        eye = torch.eye(s.shape[1], device=s.device)
        penalty = ((s @ s.transpose(1, 2) - eye) ** 2).sum(dim=(1, 2)).mean()
        return pooled, penalty


class MoEHead(nn.Module):
    """Gate over E small MLP experts on u = [z_a, z_t, z_j]; returns log p(y|u) and the gates."""

    def __init__(self, in_dim: int, n_classes: int, experts: int, dropout: float) -> None:
        super().__init__()
        self.gate = nn.Linear(in_dim, experts)
        self.experts = nn.ModuleList(
            nn.Sequential(
                nn.Linear(in_dim, in_dim // 2),
                nn.GELU(),
                nn.Dropout(dropout),
                nn.Linear(in_dim // 2, n_classes),
            )
            for _ in range(experts)
        )

    def forward(self, u: Tensor) -> tuple[Tensor, Tensor]:
        gate_logits = self.gate(u)  # (B, E)
        expert_logits = torch.stack([f(u) for f in self.experts], dim=1)  # (B, E, C)
        return log_mixture(gate_logits, expert_logits), torch.softmax(gate_logits, dim=-1)


class Hilbert(nn.Module):
    def __init__(self, cfg: HilbertConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d
        self.proj_a = nn.Sequential(nn.Linear(cfg.audio_dim, d), nn.LayerNorm(d))
        self.proj_t = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.LayerNorm(d))
        self.cross_a = nn.MultiheadAttention(d, cfg.heads, dropout=cfg.dropout, batch_first=True)
        self.cross_t = nn.MultiheadAttention(d, cfg.heads, dropout=cfg.dropout, batch_first=True)
        self.fuse = nn.Sequential(nn.Linear(2 * d, d), nn.GELU(), nn.LayerNorm(d))
        self.pool = nn.ModuleDict({m: SelfAttentivePooling(d, cfg.hops) for m in "atj"})
        self.contrast = nn.ModuleDict({m: nn.Linear(d, d) for m in "atj"})  # g_m
        self.drop = nn.Dropout(cfg.dropout)
        if cfg.head == "moe":
            self.head: nn.Module = MoEHead(3 * d, cfg.n_classes, cfg.experts, cfg.dropout)
        else:  # "linear" (the config allows no other)
            self.head = nn.Linear(3 * d, cfg.n_classes)

    def encode(self, audio: Tensor, text: Tensor, mask: Tensor) -> dict[str, Tensor]:
        """audio (B, N, D_a), text (B, N, D_t), mask (B, N) -> z_a, z_t, z_j (B, d), penalty."""
        h_a, h_t = self.proj_a(audio), self.proj_t(text)  # (B, N, d)
        pad = ~mask
        c_a, _ = self.cross_a(h_a, h_t, h_t, key_padding_mask=pad, need_weights=False)
        c_t, _ = self.cross_t(h_t, h_a, h_a, key_padding_mask=pad, need_weights=False)
        h_j = self.fuse(torch.cat([h_a + c_a, h_t + c_t], dim=-1))  # turns are aligned
        out, penalty = {}, 0.0
        for m, h in (("a", h_a), ("t", h_t), ("j", h_j)):
            out[f"z_{m}"], p = self.pool[m](h, mask)
            penalty = penalty + p
        out["penalty"] = penalty
        return out

    def forward(self, audio: Tensor, text: Tensor, mask: Tensor) -> dict[str, Tensor]:
        out = self.encode(audio, text, mask)
        u = self.drop(torch.cat([out["z_a"], out["z_t"], out["z_j"]], dim=-1))
        if self.cfg.head == "moe":
            out["log_probs"], out["gates"] = self.head(u)
        else:
            out["log_probs"] = F.log_softmax(self.head(u), dim=-1)
        for m in "atj":  # normalised contrastive projections g_m(z_m)
            out[f"g_{m}"] = F.normalize(self.contrast[m](out[f"z_{m}"]), dim=-1)
        return out
