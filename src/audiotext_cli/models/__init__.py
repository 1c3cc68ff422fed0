"""Models: configuration, the two-tower network, checkpoints and inference."""

from audiotext_cli.models.config import ModelConfig, TrainConfig, list_presets, load_preset
from audiotext_cli.models.inference import TrainedEmbedder, load_embedder

__all__ = [
    "ModelConfig",
    "TrainConfig",
    "TrainedEmbedder",
    "list_presets",
    "load_embedder",
    "load_preset",
]
