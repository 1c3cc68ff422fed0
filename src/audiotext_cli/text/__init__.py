"""Frozen text tower: MiniLM sentence encoder, ProLAP token masking, persistent feature cache."""

from audiotext_cli.text.cache import TextFeatureCache
from audiotext_cli.text.masking import mask_tokens, recursive_masks
from audiotext_cli.text.minilm import MiniLM, load_minilm

__all__ = ["MiniLM", "TextFeatureCache", "load_minilm", "mask_tokens", "recursive_masks"]
