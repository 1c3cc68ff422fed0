"""The loss registry: each training loss is a module plus its own config dataclass.

A loss takes the model's typed output and the batch's extras, `(ModelOutput, LossBatch)`,
and returns `{"*_loss": tensor}` terms that the trainer sums. What it needs beyond the two
embeddings (the sigmoid bias, masked levels, a teacher, Gaussian heads) it declares in
`needs`, and the trainer provides exactly that: nothing in `train/` names a loss.

Adding a loss is one file:

    @dataclass
    class MyConfig(LossConfig):
        weight: float = 1.0

    @register_loss("mine", MyConfig)
    class MyLoss(Loss):
        def forward(self, out, batch):
            return {"mine_loss": self.cfg.weight * ...}

plus an import in `losses/__init__.py` so it registers; `--set train.loss=mine` and
`--set train.loss.weight=0.5` then reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from torch import Tensor, nn

from audiotext_cli.errors import ConfigUsageError
from audiotext_cli.losses.distributed import PosMask

if TYPE_CHECKING:
    from audiotext_cli.models.output import Embedding, ModelOutput


@dataclass(frozen=True)
class Masking:
    """ProLAP-style masked levels of the first `fraction` of each batch: `audio_depth`
    levels of 16-frame log-mel patches and `text_depth` levels of words, each level
    masking what the previous one left visible with probability `prob`. A config section
    (`train.loss.masking.*`), checked on construction."""

    fraction: float = 0.125
    prob: float = 0.75
    audio_depth: int = 1
    text_depth: int = 2
    text_variants: int = 2  # fixed masked chains cached per caption (train/masked_texts.py)

    def __post_init__(self) -> None:
        for key in ("fraction", "prob"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigUsageError(f"train.loss.masking.{key}: must be in [0, 1]")
        for key in ("audio_depth", "text_depth"):
            if getattr(self, key) < 0:
                raise ConfigUsageError(f"train.loss.masking.{key}: must be >= 0")
        if self.text_variants < 1:
            raise ConfigUsageError("train.loss.masking.text_variants: must be >= 1")


@dataclass(frozen=True)
class Needs:
    """What a loss reads beyond the audio and text embeddings and `logit_scale`."""

    bias: bool = False  # out.logit_bias (otherwise frozen, so DDP sees no unused parameter)
    probabilistic: bool = False  # Gaussian heads (model.probabilistic) rather than points
    teacher: bool = False  # batch.teacher_*_sim from a frozen teacher (--teacher)
    masking: Masking | None = None  # out.audio_levels / out.text_levels


@dataclass
class LossBatch:
    """The batch as a loss sees it: which pairs are positives, and teacher similarities
    of this rank's items to the gathered batch when the loss asked for a teacher."""

    pos_mask: PosMask = None  # (B, B), (B, N) or an (a2t, t2a) pair; True on positives
    teacher_audio_sim: Tensor | None = None  # (B, N)
    teacher_text_sim: Tensor | None = None  # (B, N)


@dataclass
class LossConfig:
    """Base of every loss's config; `name` is the registered name (set by `register_loss`;
    empty for a term that a registered loss composes, e.g. ProLAP's)."""

    name: ClassVar[str] = ""

    @classmethod
    def upgrade(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The JSON fields of a config written by an older version, in today's layout."""
        return data

    def validate(self) -> None:
        """Raise `ConfigError` on a value the loss cannot use (called on construction)."""

    def __post_init__(self) -> None:
        self.validate()


class Loss(nn.Module):
    """A registered training loss, built from its config."""

    name: ClassVar[str] = ""
    Config: ClassVar[type[LossConfig]] = LossConfig

    def __init__(self, cfg: LossConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg if cfg is not None else self.Config()

    @property
    def needs(self) -> Needs:
        return Needs()

    def forward(self, out: ModelOutput, batch: LossBatch) -> dict[str, Tensor]:
        raise NotImplementedError


LOSSES: dict[str, type[Loss]] = {}  # the two-tower models' losses: one is trained
DOCUMENT_LOSSES: dict[str, type[Loss]] = {}  # HILBERT's terms: every one is summed


def register_loss(name: str, config: type[LossConfig], registry: dict | None = None):
    """Class decorator: register a `Loss` subclass under `name` with its config class, in
    `LOSSES` (default) or `DOCUMENT_LOSSES`. Each loss has its own config class, so a
    config alone says which loss it configures."""
    registry = LOSSES if registry is None else registry

    def register(cls: type[Loss]) -> type[Loss]:
        if name in registry:
            raise ValueError(f"loss {name!r} is already registered")
        if config.name:
            raise ValueError(f"{config.__name__} already configures loss {config.name!r}")
        cls.name, cls.Config, config.name = name, config, name
        registry[name] = cls
        return cls

    return register


def unregister_loss(name: str, registry: dict | None = None) -> None:
    """Remove a registration (tests that register a toy loss clean up with this)."""
    cls = (LOSSES if registry is None else registry).pop(name)
    cls.Config.name = ""


def loss_class(name: str, registry: dict | None = None) -> type[Loss]:
    registry = LOSSES if registry is None else registry
    if name not in registry:
        raise ConfigUsageError(f"unknown loss {name!r}; choose one of {', '.join(registry)}")
    return registry[name]


def create_loss(cfg: LossConfig | str, **options) -> Loss:
    """The loss for a config, or for a registered name built with `options` as its config
    fields (e.g. `create_loss("soft-clip", beta=0.1)`)."""
    if isinstance(cfg, LossConfig):
        return loss_class(cfg.name)(cfg)
    cls = loss_class(cfg)
    try:
        return cls(cls.Config(**options))
    except TypeError as err:  # an option this loss does not take
        raise ConfigUsageError(f"loss {cfg!r}: {err}") from None


def gaussian(g: Embedding) -> tuple[Tensor, Tensor]:
    """(mean, logvar) of a Gaussian embedding; a point embedding is refused."""
    if g.logvar is None:
        raise ValueError("a probabilistic loss needs Gaussian embeddings (logvar is None)")
    return g.mean, g.logvar
