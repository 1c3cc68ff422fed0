"""ProLAP analysis: audio traversal and its evaluation, uncertainty rankings, inclusion stats.

Everything here reads a trained (probabilistic) model; training lives in `train/` and the
losses in `losses/probabilistic.py`. Math and protocol: docs/prolap.md.
"""

from audiotext_cli.prolap.inclusion_stats import inclusion_statistics
from audiotext_cli.prolap.traverse import (
    ROOT_MODES,
    Step,
    evaluate_traversal,
    plot_traversal,
    traversal_metrics,
    traverse,
    traverse_from_audio,
    traverse_from_text,
)
from audiotext_cli.prolap.uncertainty import rank_uncertainty, total_variance

__all__ = [
    "ROOT_MODES",
    "Step",
    "evaluate_traversal",
    "inclusion_statistics",
    "plot_traversal",
    "rank_uncertainty",
    "total_variance",
    "traversal_metrics",
    "traverse",
    "traverse_from_audio",
    "traverse_from_text",
]
