"""Unsupervised curation: audio-text training pairs from unpaired audio and a text pool."""

from audiotext_cli.curate.pairs import Curation, curate, plot_scores, read_lines

__all__ = ["Curation", "curate", "plot_scores", "read_lines"]
