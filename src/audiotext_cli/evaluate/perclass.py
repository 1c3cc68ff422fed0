"""Zero-shot classification in detail: prompt files, per-class tables and confusion matrices.

`evaluate.run.evaluate` gives one accuracy per label level; this module says which classes
carry that number and what each class is mistaken for, because an average over a dozen
classes hides a model that only ever answers two of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audiotext_cli.embedder import Embedder, Embeddings
from audiotext_cli.errors import ConfigError
from audiotext_cli.evaluate.zeroshot import (
    DEFAULT_TEMPLATES,
    accuracy_report,
    class_embeddings,
    classify,
)

LEVELS = (1, 2, 3)


def read_templates(path: str | Path) -> tuple[str, ...]:
    """One prompt template per line, each containing `{}` (the class name goes there).

    Blank lines and lines starting with `#` are skipped; any other line without `{}` is an
    error, because it would give every class the same prompt.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError("prompts file not found", path) from None
    templates = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "{}" not in line:
            raise ConfigError(
                f"line {lineno}: template {line!r} has no '{{}}' for the class name", path
            )
        try:
            line.format("x")
        except (IndexError, KeyError, ValueError):
            raise ConfigError(
                f"line {lineno}: template {line!r} must hold exactly one '{{}}'", path
            ) from None
        templates.append(line)
    if not templates:
        raise ConfigError("prompts file holds no template", path)
    return tuple(templates)


def confusion_matrix(pred: np.ndarray, truth: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts: row = true class, column = predicted class."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (truth, pred), 1)
    return m


def per_class_rows(matrix: np.ndarray, names: Sequence[str]) -> list[dict]:
    """One row per true class present: n, recall, and the class it is most often taken for."""
    rows = []
    for c, name in enumerate(names):
        n = int(matrix[c].sum())
        if n == 0:
            continue
        wrong = matrix[c].copy()
        wrong[c] = 0
        top = int(wrong.argmax())
        rows.append(
            {
                "class": name,
                "n": n,
                "recall": float(matrix[c, c] / n),
                "predicted": int(matrix[:, c].sum()),
                "most_confused_with": names[top] if wrong[top] > 0 else None,
                "confused_share": float(wrong[top] / n),
            }
        )
    return rows


def level_truth(records: Sequence, level: int) -> tuple[list[str], np.ndarray]:
    """Sorted class names at label `level` (1..3) and each record's class index."""
    names = sorted({r.labels[level - 1] for r in records})
    index = {name: i for i, name in enumerate(names)}
    return names, np.array([index[r.labels[level - 1]] for r in records], dtype=np.int64)


def zeroshot_level(
    audio: np.ndarray, embedder: Embedder, records: Sequence, level: int, templates: Sequence[str]
) -> dict:
    """Accuracy report, per-class rows and confusion matrix of one label level."""
    names, truth = level_truth(records, level)
    class_mu = class_embeddings(names, lambda p: embedder.embed_texts(p).mean, templates)
    pred = classify(audio, class_mu)
    matrix = confusion_matrix(pred, truth, len(names))
    return {
        **accuracy_report(pred, truth, len(names)),
        "classes": names,
        "per_class": per_class_rows(matrix, names),
        "confusion": matrix.tolist(),
        "pred": pred.tolist(),
    }


def zeroshot_report(
    embedder: Embedder,
    records: Sequence,
    audio: Embeddings | None = None,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    levels: Sequence[int] = LEVELS,
) -> dict:
    """{"levels": {level: report}} for every requested level with at least two classes."""
    from audiotext_cli.evaluate.run import embed_records

    for level in levels:
        if level not in LEVELS:
            raise ConfigError(f"label level {level} is outside 1..3")
    if audio is None:
        audio = embed_records(embedder, records)
    out: dict = {"n": len(records), "templates": list(templates), "levels": {}}
    for level in levels:
        if len({r.labels[level - 1] for r in records}) >= 2:
            out["levels"][str(level)] = zeroshot_level(
                audio.mean, embedder, records, level, templates
            )
    return out


def plot_confusion(
    matrix: np.ndarray, names: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Row-normalised confusion matrix as a PNG; the figure grows with the class count so
    labels stay readable, and cell values are printed while they still fit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiotext_cli.atomic import write_atomic

    m = np.asarray(matrix, dtype=np.float64)
    rates = m / np.maximum(m.sum(1, keepdims=True), 1)
    k = len(names)
    side = min(4 + 0.35 * k, 40)
    font = max(4.0, min(10.0, 220 / max(k, 1)))
    fig, ax = plt.subplots(figsize=(side + 1.5, side))
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(k), [_short(n) for n in names], rotation=60, ha="right", fontsize=font)
    ax.set_yticks(range(k), [_short(n) for n in names], fontsize=font)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=10)
    if k <= 25:
        for i in range(k):
            for j in range(k):
                if m[i, j]:
                    ax.text(
                        j,
                        i,
                        int(m[i, j]),
                        ha="center",
                        va="center",
                        fontsize=font,
                        color="white" if rates[i, j] > 0.5 else "black",
                    )
    fig.colorbar(im, ax=ax, fraction=0.04, label="share of the true class")
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=120))
    plt.close(fig)
    return Path(path)


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
