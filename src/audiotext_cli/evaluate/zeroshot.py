"""Zero-shot classification: audio embeddings against prompted class-name embeddings."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

DEFAULT_TEMPLATES = ("{}", "the sound of {}", "a recording of {}")


def class_embeddings(
    class_names: Sequence[str],
    embed_texts: Callable[[list[str]], np.ndarray],
    templates: Sequence[str],
) -> np.ndarray:
    """Mean over templates of each class's prompt embeddings, re-normalised (CLIP's ensemble)."""
    prompts = [t.format(name) for name in class_names for t in templates]
    emb = embed_texts(prompts).reshape(len(class_names), len(templates), -1).mean(1)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True).clip(1e-12)


def classify(audio_mu: np.ndarray, class_mu: np.ndarray) -> np.ndarray:
    return np.argmax(audio_mu @ class_mu.T, axis=1)


def accuracy_report(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> dict[str, float]:
    """Accuracy, balanced accuracy, and the two chance levels (uniform guess, majority class)."""
    counts = np.bincount(truth, minlength=n_classes)
    present = counts > 0
    per_class = np.array(
        [(pred[truth == c] == c).mean() if present[c] else np.nan for c in range(n_classes)]
    )
    return {
        "accuracy": float((pred == truth).mean()),
        "balanced_accuracy": float(np.nanmean(per_class)),
        "chance": 1.0 / n_classes,
        "majority": float(counts.max() / counts.sum()),
        "n_classes": n_classes,
        "n": len(truth),
    }
