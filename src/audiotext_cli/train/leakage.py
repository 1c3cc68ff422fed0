"""How much of a model's zero-shot accuracy is learned cross-modally (REFERENCE.md section 3).

The leakage paper (arXiv 2408.13068) asks which share of zero-shot accuracy is inherited
from the backbones or from evaluation labels seen in training. Our towers differ from its
CNN14 + BERT: the audio CNN is trained here, from scratch, on the training sources (no
external supervised pretraining), and the text backbone is a frozen MiniLM. So the question
becomes: how much comes from MiniLM's text knowledge, how much from the evaluation class
words in our own training captions, and how much from the learned projection. Conditions:

- trained: the model itself;
- stripped: the same preset and seed retrained with every evaluation class word removed
  from every training and validation caption (`strip_class_words`);
- random heads: the trained audio CNN and MiniLM, with fresh untrained projection heads on
  both towers, initialised from the training seed (what the backbones align by chance);
- audio probe / kNN: logistic regression and cosine kNN on the audio CNN's pooled features,
  out-of-fold predictions from stratified k-fold CV on the evaluation clips: supervised
  with the evaluation labels, so a ceiling on what the audio backbone separates, not a
  zero-shot number;
- text only: MiniLM alone maps each clip's specific (level-4) caption, class words
  removed, to the nearest prompted class name: how much of the label the text backbone
  recovers from the description without any audio. It bounds the text side only.

Shares are `(balanced accuracy - 1/K) / (trained balanced accuracy - 1/K)`: the part of
the trained model's above-chance accuracy a condition reaches (undefined, NaN, when the
trained model is at chance). 95% intervals come from a paired bootstrap over evaluation
clips (one seed; resamples where the reference is at chance are left out of the share's
interval); experiments/leakage.py adds seeds.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from audiotext_cli.data.manifest import ClipRecord, captions_at
from audiotext_cli.evaluate.perclass import LEVELS, level_truth, zeroshot_level
from audiotext_cli.evaluate.zeroshot import DEFAULT_TEMPLATES, class_embeddings, classify
from audiotext_cli.train.loop import train

FUNCTION_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "by",
        "from",
        "as",
        "is",
        "are",
        "its",
        "it",
        "this",
        "that",
    }
)
"""Words of a class name that are kept in captions: removing them would say nothing about the
class and would wreck every sentence."""

PLACEHOLDER = "a sound"
"""What a caption left without any content word becomes (the manifest needs text at every level)."""

CONDITIONS = {
    "trained": "trained model",
    "stripped": "retrained, class words stripped",
    "random_heads": "random projection heads",
    "audio_probe": "audio CNN linear probe (CV)",
    "audio_knn": "audio CNN kNN (CV)",
    "text_only": "MiniLM caption -> class (text only)",
}

Log = Callable[[str], None]


def class_words(class_names: Sequence[str]) -> list[str]:
    """Lower-case content words of the class names, longest first."""
    words = {w for name in class_names for w in re.findall(r"[\w']+", name.lower())}
    return sorted(words - FUNCTION_WORDS, key=lambda w: (-len(w), w))


def _stripper(class_names: Sequence[str]) -> Callable[[str], str]:
    words = class_words(class_names)
    if not words:
        return lambda text: text
    pattern = re.compile(
        r"\b(?:" + "|".join(map(re.escape, words)) + r")(?:s|es)?\b", re.IGNORECASE
    )

    def strip(text: str) -> str:
        out = " ".join(pattern.sub(" ", text).split())
        out = re.sub(r"\s+([,.;:!?])", r"\1", out).strip(" ,.;:-")
        content = set(re.findall(r"[\w']+", out.lower())) - FUNCTION_WORDS
        return out if content else PLACEHOLDER

    return strip


def strip_class_words(
    records: Sequence[ClipRecord], class_names: Sequence[str]
) -> list[ClipRecord]:
    """Copies of `records` whose captions (every level) no longer contain any content word
    of `class_names`, matched as whole words, case-insensitive, with plural -s/-es.
    Labels are kept: training never reads them."""
    strip = _stripper(class_names)
    return [
        dataclasses.replace(
            r, captions=[{"level": c["level"], "text": strip(c["text"])} for c in r.captions]
        )
        for r in records
    ]


def audio_backbone_features(embedder, records: Sequence[ClipRecord]) -> np.ndarray:
    """(n, C) pooled audio-encoder features per clip, before any projection head (for a
    pretrained tower: the mean of its cached block embeddings, what the tower brings)."""
    return embedder.file_audio_features([r.audio for r in records])


def probe_predictions(
    features: np.ndarray, truth: np.ndarray, seed: int, folds: int = 5
) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of a logistic-regression probe and a cosine kNN, stratified
    k-fold (k = min(folds, largest class size), at least 2)."""
    import warnings

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    counts = np.bincount(truth)
    n_splits = max(2, min(folds, int(counts.max())))
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    smallest_train = len(truth) - -(-len(truth) // n_splits)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    knn = KNeighborsClassifier(n_neighbors=max(1, min(5, smallest_train)), metric="cosine")
    with warnings.catch_warnings():  # classes smaller than k folds are expected on small sets
        warnings.filterwarnings("ignore", message="The least populated class")
        return {
            "audio_probe": cross_val_predict(probe, features, truth, cv=cv),
            "audio_knn": cross_val_predict(knn, features, truth, cv=cv),
        }


def text_only_predictions(
    encoder, records: Sequence[ClipRecord], names: Sequence[str], templates: Sequence[str]
) -> np.ndarray:
    """MiniLM alone (unit-norm features): each clip's first level-4 caption, class words
    removed, against the prompted class names (template ensemble), by cosine."""
    strip = _stripper(names)
    captions = [strip(captions_at(r, 4)[0]) for r in records]
    return classify(encoder.encode(captions), class_embeddings(names, encoder.encode, templates))


def bootstrap_table(
    preds: dict[str, np.ndarray],
    truth: np.ndarray,
    n_classes: int,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, dict]:
    """Accuracy, balanced accuracy and share of the trained model's above-chance balanced
    accuracy per condition, each with a 95% percentile interval from one paired bootstrap
    over clips (the same resamples for every condition)."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    idx = np.concatenate([np.arange(n)[None], rng.integers(0, n, (n_boot, n))])  # row 0: the data
    t = truth[idx]
    class_masks = [t == c for c in range(n_classes)]
    chance = 1.0 / n_classes

    def stats(pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        correct = (pred[idx] == t).astype(np.float64)
        recalls = [
            np.where(m.any(1), (correct * m).sum(1) / np.maximum(m.sum(1), 1), np.nan)
            for m in class_masks
        ]
        return correct.mean(1), np.nanmean(np.stack(recalls), axis=0)

    computed = {name: stats(pred) for name, pred in preds.items()}
    ref = computed["trained"][1] - chance
    out = {}
    for name, (acc, bal) in computed.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(ref > 0, (bal - chance) / ref, np.nan)
        out[name] = {
            "accuracy": float(acc[0]),
            "accuracy_ci": _ci(acc[1:]),
            "balanced_accuracy": float(bal[0]),
            "balanced_accuracy_ci": _ci(bal[1:]),
            "share": float(share[0]),
            "share_ci": _ci(share[1:]) if np.isfinite(share[0]) else [float("nan")] * 2,
        }
    return out


def _ci(values: np.ndarray) -> list[float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [float("nan"), float("nan")]
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]


def retrain(
    train_records: list[ClipRecord],
    val_records: list[ClipRecord],
    out: Path,
    model_cfg,
    train_cfg,
    device: str = "cpu",
) -> Path:
    """Train (or finish, or reuse, since it always resumes) a run in `out`; returns out/best."""
    train(train_records, val_records, out, model_cfg, train_cfg, resume=True, device=device)
    return out / "best"


def leakage_analysis(
    checkpoint: str | Path,
    train_records: list[ClipRecord],
    val_records: list[ClipRecord],
    eval_records: list[ClipRecord],
    work: Path,
    *,
    levels: Sequence[int] = LEVELS,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    retrain_preset: str | None = None,
    epochs: int | None = None,
    n_boot: int = 1000,
    folds: int = 5,
    device: str = "cpu",
    log: Log | None = None,
) -> dict:
    """All conditions for each label level of `eval_records`; retraining happens in `work`.

    The retrained models use the checkpoint's own model and training config (seed
    included) unless `retrain_preset` / `epochs` change it; then an unstripped control is
    retrained with the same settings and becomes the reference, so that the stripped
    model is always compared with its like.
    """
    from audiotext_cli.errors import ConfigError
    from audiotext_cli.evaluate.run import embed_records
    from audiotext_cli.losses import create_loss
    from audiotext_cli.models import load_embedder, load_preset
    from audiotext_cli.models.checkpoint import model_config_of, read_config, train_config_of
    from audiotext_cli.models.config import loss_config_from, to_dict

    say = log or (lambda _msg: None)
    _, meta = read_config(checkpoint)
    ckpt_cfg = model_config_of(meta), train_config_of(meta)
    model_cfg, train_cfg = (
        load_preset(retrain_preset)
        if retrain_preset
        else (dataclasses.replace(ckpt_cfg[0]), dataclasses.replace(ckpt_cfg[1]))
    )
    train_cfg.seed = ckpt_cfg[1].seed
    if epochs is not None:
        train_cfg.epochs = epochs
    if create_loss(train_cfg.loss).needs.teacher:
        # no teacher here; the question is about captions, not targets
        train_cfg.loss = loss_config_from("clip")
    levels = [lv for lv in levels if len({r.labels[lv - 1] for r in eval_records}) >= 2]
    if not levels:
        raise ConfigError(
            "the evaluation manifest has fewer than two classes at every requested level"
        )
    names = sorted({r.labels[lv - 1] for r in eval_records for lv in levels})
    same = to_dict(model_cfg) == to_dict(ckpt_cfg[0]) and to_dict(train_cfg) == to_dict(ckpt_cfg[1])

    reference = Path(checkpoint)
    if not same:
        say(
            f"retraining an unstripped control ({model_cfg.name}, "
            f"{train_cfg.epochs} epochs, seed {train_cfg.seed})"
        )
        reference = retrain(
            train_records, val_records, work / "control", model_cfg, train_cfg, device
        )
    say(f"retraining with {len(class_words(names))} class words stripped from the captions")
    stripped_ckpt = retrain(
        strip_class_words(train_records, names),
        strip_class_words(val_records, names),
        work / "stripped",
        model_cfg,
        train_cfg,
        device,
    )

    ref = load_embedder(reference, device)
    stripped = load_embedder(stripped_ckpt, device)
    rand = ref.with_fresh_heads(train_cfg.seed)
    say("embedding the evaluation clips")
    audio = {
        name: embed_records(e, eval_records).mean
        for name, e in (("trained", ref), ("stripped", stripped), ("random_heads", rand))
    }
    features = audio_backbone_features(ref, eval_records)

    result: dict = {
        "checkpoint": str(checkpoint),
        "reference": str(reference),
        "stripped_checkpoint": str(stripped_ckpt),
        "retrain": {
            "model": model_cfg.name,
            "epochs": train_cfg.epochs,
            "seed": train_cfg.seed,
            "loss": train_cfg.loss.name,
            "same_as_checkpoint": same,
        },
        "stripped_words": class_words(names),
        "n_eval": len(eval_records),
        "n_boot": n_boot,
        "templates": list(templates),
        "levels": {},
    }
    for level in levels:
        classes, truth = level_truth(eval_records, level)
        preds = {
            name: np.array(zeroshot_level(a, e, eval_records, level, templates)["pred"])
            for (name, a), e in zip(audio.items(), (ref, stripped, rand), strict=True)
        }
        preds |= probe_predictions(features, truth, train_cfg.seed, folds)
        preds["text_only"] = text_only_predictions(
            ref.text_encoder, eval_records, classes, templates
        )
        counts = np.bincount(truth, minlength=len(classes))
        result["levels"][str(level)] = {
            "n_classes": len(classes),
            "chance": 1 / len(classes),
            "majority": float(counts.max() / counts.sum()),
            "conditions": bootstrap_table(preds, truth, len(classes), n_boot, train_cfg.seed),
        }
    return result


def table_rows(level_result: dict) -> list[tuple]:
    """(condition, accuracy, 95% CI, balanced accuracy, 95% CI, share, 95% CI) rows."""
    rows = []
    for key, label in CONDITIONS.items():
        c = level_result["conditions"][key]
        rows.append(
            (
                label,
                c["accuracy"],
                _fmt_ci(c["accuracy_ci"]),
                c["balanced_accuracy"],
                _fmt_ci(c["balanced_accuracy_ci"]),
                c["share"],
                _fmt_ci(c["share_ci"]),
            )
        )
    rows.append(
        (
            "chance (majority for accuracy, uniform for balanced)",
            level_result["majority"],
            "",
            level_result["chance"],
            "",
            0.0,
            "",
        )
    )
    return rows


def _fmt_ci(ci: Sequence[float]) -> str:
    return "" if not np.all(np.isfinite(ci)) else f"[{ci[0]:.3f}, {ci[1]:.3f}]"
