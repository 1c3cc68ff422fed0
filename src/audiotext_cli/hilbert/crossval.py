"""Stratified K-fold cross-validated AUC for document classifiers, with HILBERT's ablations.

Per shuffle, every document gets an out-of-fold prediction from a model fitted on the other
folds (scalers fitted on the training fold only); the AUC of those pooled predictions is one
number, and we report mean +- sd over shuffles. Binary labels: ROC AUC of the positive class;
more classes: macro one-vs-rest AUC. Pooling is used because at K=25 a test fold holds a
couple of positives and per-fold AUCs are mostly noise or undefined.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from audiotext_cli.errors import ConfigError
from audiotext_cli.hilbert.features import DocFeatures
from audiotext_cli.hilbert.model import HilbertConfig
from audiotext_cli.hilbert.train import FitConfig, fit, infer
from audiotext_cli.models.config import apply_overrides

# name -> `--set` overrides of the HILBERT configs (variants) or the pooled modality (baselines)
_NO_DUAL, _NO_CKA, _NO_BALANCE = (
    f"train.losses.{k}=0" for k in ("dual.weight", "cka.weight", "dual.balance")
)
HILBERT_VARIANTS: dict[str, list[str]] = {
    "full": [],
    "no-dual": [_NO_DUAL],
    "direct": ["train.losses.dual.direct=true"],
    "no-cka": [_NO_CKA],
    "no-balance": [_NO_BALANCE],
    "linear-head": ["model.head=linear"],
    "ce-only": [_NO_DUAL, _NO_CKA, _NO_BALANCE],
}
BASELINES = {"text": ("text",), "audio": ("audio",), "meanpool": ("audio", "text")}
VARIANTS = (*BASELINES, *HILBERT_VARIANTS)
ABLATION = (
    "text",
    "audio",
    "meanpool",
    "full",
    "no-dual",
    "direct",
    "no-cka",
    "no-balance",
    "linear-head",
)


def auc(y: np.ndarray, probs: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    if probs.shape[1] == 2:
        return float(roc_auc_score(y, probs[:, 1]))
    return float(roc_auc_score(y, probs, multi_class="ovr", average="macro"))


def pooled(feats: DocFeatures, modalities: tuple[str, ...]) -> np.ndarray:
    """Mean and std of each modality's turns: the mean-pooling fusion baseline's input."""
    rows = []
    for i in range(len(feats)):
        parts = dict(zip(("audio", "text"), feats.doc(i), strict=True))
        rows.append(np.hstack([np.r_[parts[m].mean(0), parts[m].std(0)] for m in modalities]))
    return np.asarray(rows)


def _baseline_predict(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(
        StandardScaler(), LogisticRegression(C=0.1, class_weight="balanced", max_iter=3000)
    )
    return clf.fit(x[train], y[train]).predict_proba(x[test])


def cross_validate(
    feats: DocFeatures,
    y: np.ndarray,
    variant: str = "full",
    folds: int = 5,
    shuffles: int = 3,
    seed: int = 0,
    run: FitConfig | None = None,
    cfg: HilbertConfig | None = None,
    on_fold: Callable[[], None] | None = None,
) -> dict:
    """Out-of-fold AUC per shuffle for one variant; documents with label -1 are left out."""
    from sklearn.model_selection import StratifiedKFold

    if variant not in VARIANTS:
        raise ConfigError(f"unknown ablation {variant!r}; choose from {', '.join(VARIANTS)}")
    idx = np.flatnonzero(y >= 0)
    labels = y[idx]
    n_classes = int(labels.max()) + 1
    smallest = int(np.bincount(labels, minlength=n_classes).min())
    if smallest < folds:
        raise ConfigError(
            f"{folds} folds need >= {folds} documents per class; smallest has {smallest}"
        )
    run = run or FitConfig()
    base_cfg = cfg or HilbertConfig(feats.audio.shape[1], feats.text.shape[1])
    model_cfg, run = apply_overrides(
        replace(base_cfg, n_classes=n_classes), run, HILBERT_VARIANTS.get(variant, [])
    )
    x = pooled(feats, BASELINES[variant])[idx] if variant in BASELINES else None
    start, scores = time.perf_counter(), []
    for s in range(shuffles):
        probs = np.zeros((len(idx), n_classes))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=seed + s)
        for train, test in splitter.split(idx, labels):
            if x is not None:
                probs[test] = _baseline_predict(x, labels, train, test)
            else:
                fitted = fit(feats, y, idx[train], model_cfg, replace(run, seed=seed + s))
                probs[test] = infer(fitted, feats, idx[test])["probs"]
            if on_fold:
                on_fold()
        scores.append(auc(labels, probs))
    return {
        "variant": variant,
        "auc_mean": float(np.mean(scores)),
        "auc_sd": float(np.std(scores)),
        "aucs": scores,
        "folds": folds,
        "shuffles": shuffles,
        "documents": len(idx),
        "classes": n_classes,
        "seconds": round(time.perf_counter() - start, 1),
    }
