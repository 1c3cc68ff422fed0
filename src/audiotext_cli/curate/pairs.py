"""Audio-text pairs from unpaired audio and a text pool, chosen by a teacher model.

After zhepeiw/clap_curation (REFERENCE.md section 4):
- domain-unspecific: each audio file is paired with the caption of the pool that the
  teacher scores highest, kept when that audio-text cosine reaches `threshold`;
- domain-specific: the pool is first cut to captions whose teacher text cosine to a
  prompted downstream label reaches `label_threshold`, then paired the same way.

Two departures, both deliberate. The reference keeps every (audio, caption) pair above
the threshold; here each audio keeps only its best caption, so one loud file cannot
flood the curated set. And the reference's fixed cosines (0.75 / 0.7) are calibrated for
CLAP; our teacher's cosine scale is its own, so without an explicit threshold a quantile
rule keeps the top `keep` fraction (default half), and the score distribution is
returned so users can set an absolute threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audiotext_cli.data.manifest import ClipRecord
from audiotext_cli.embedder import NOT_FINITE
from audiotext_cli.errors import AudiotextError, ConfigError
from audiotext_cli.evaluate.zeroshot import DEFAULT_TEMPLATES, class_embeddings

MODES = ("unspecific", "specific")
UNLABELLED = "unlabelled"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def read_lines(path: str | Path, what: str) -> list[str]:
    """Non-blank lines, stripped, first occurrence kept; lines starting with `#` are comments."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{what} file not found", path) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} file is not UTF-8 text", path) from None
    out = list(
        dict.fromkeys(s.strip() for s in lines if s.strip() and not s.strip().startswith("#"))
    )
    if not out:
        raise ConfigError(f"{what} file is empty", path)
    return out


def label_path(line: str) -> list[str]:
    """A labels-file line: one label, or a class path `L1 / L2 / L3` (1 to 3 parts);
    shorter paths repeat their last part so every clip gets three label levels."""
    parts = [p.strip() for p in line.split("/") if p.strip()]
    if not 1 <= len(parts) <= 3:
        raise ConfigError(f"label {line!r}: expected 1 to 3 parts separated by '/'")
    return parts + [parts[-1]] * (3 - len(parts))


def resolve_threshold(scores: np.ndarray, threshold: float | None, keep: float) -> float:
    """`threshold` when given; else the score that keeps the top `keep` fraction."""
    if threshold is not None:
        return float(threshold)
    if not 0 < keep <= 1:
        raise ConfigError(f"keep fraction must be in (0, 1], got {keep}")
    return float(np.quantile(scores, 1 - keep, method="higher"))


@dataclass
class Curation:
    records: list[ClipRecord]
    scores: np.ndarray  # (n_audio,) teacher cosine of each audio to its best caption
    kept: np.ndarray  # (n_audio,) bool
    threshold: float
    n_texts: int
    n_texts_in_domain: int
    label_threshold: float | None = None
    skipped: list[dict] = field(default_factory=list)  # unreadable audio: {"path", "reason"}

    def summary(self) -> dict:
        """Counts, thresholds and the score distribution (kept and dropped)."""
        q = (
            {f"p{int(p * 100)}": float(np.quantile(self.scores, p)) for p in QUANTILES}
            if len(self.scores)
            else {}
        )
        return {
            "audio": len(self.scores) + len(self.skipped),
            "audio_unreadable": len(self.skipped),
            "kept": int(self.kept.sum()),
            "dropped": int((~self.kept).sum()),
            "threshold": self.threshold,
            "label_threshold": self.label_threshold,
            "texts": self.n_texts,
            "texts_in_domain": self.n_texts_in_domain,
            "score_quantiles": q,
            "skipped": self.skipped,
        }


def embed_audio_files(
    teacher,
    paths: Sequence[str | Path],
    batch: int = 32,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Path], np.ndarray, np.ndarray, list[dict]]:
    """(readable files, their durations in s, their embeddings, skipped files with reasons),
    decoding one batch at a time so a large folder never sits in memory. A file whose
    embedding is not finite is skipped: its NaN score would be neither kept nor dropped."""
    from audiotext_cli.audio.io import load_audio

    files: list[Path] = []
    durations: list[float] = []
    means: list[np.ndarray] = []
    skipped: list[dict] = []
    for start in range(0, len(paths), batch):
        waves, readable = [], []
        for p in paths[start : start + batch]:
            try:
                waves.append(load_audio(p, teacher.sample_rate))
            except AudiotextError as exc:
                skipped.append({"path": str(p), "reason": exc.reason})
                continue
            readable.append(Path(p))
        if waves:
            emb = teacher.embed_waveforms(waves)
            finite = emb.finite_rows()
            for path, wave, ok in zip(readable, waves, finite, strict=True):
                if ok:
                    files.append(path)
                    durations.append(len(wave) / teacher.sample_rate)
                else:
                    skipped.append({"path": str(path), "reason": NOT_FINITE})
            means.append(emb.mean[finite])
        if progress:
            progress(len(paths[start : start + batch]))
    dim = teacher.dim
    mu = np.concatenate(means) if means else np.zeros((0, dim), np.float32)
    return files, np.array(durations), mu, skipped


def curate(
    teacher,
    audio_paths: Sequence[str | Path],
    texts: Sequence[str],
    *,
    mode: str = "unspecific",
    threshold: float | None = None,
    keep: float = 0.5,
    labels: Sequence[str] | None = None,
    label_threshold: float | None = None,
    label_keep: float = 0.5,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
    batch: int = 32,
    progress: Callable[[int], None] | None = None,
) -> Curation:
    """Pair audio with captions through `teacher` (an `Embedder`), see the module docstring.

    Records get the caption at level 4. With `labels`, levels 1-3 (and `labels`) are the
    path of the prompted label closest to the caption; without, levels 1-3 repeat the
    caption and the labels read "unlabelled".
    """
    if mode not in MODES:
        raise ConfigError(f"unknown curation mode {mode!r}: {' or '.join(MODES)}")
    if mode == "specific" and not labels:
        raise ConfigError("domain-specific curation needs downstream labels (--labels)")
    if not texts:
        raise ConfigError("the text pool is empty")
    text_mu = teacher.embed_texts(list(texts)).mean
    paths = [label_path(line) for line in labels or []]
    nearest = label_score = None
    if paths:
        label_mu = class_embeddings(
            [p[-1] for p in paths], lambda x: teacher.embed_texts(x).mean, templates
        )
        text_label = text_mu @ label_mu.T
        nearest, label_score = text_label.argmax(1), text_label.max(1)
    pool = np.arange(len(texts))
    label_thr = None
    if mode == "specific":
        label_thr = resolve_threshold(label_score, label_threshold, label_keep)
        pool = np.flatnonzero(label_score >= label_thr)
        if pool.size == 0:
            raise ConfigError(
                f"no caption reaches label threshold {label_thr:.3f} (best {label_score.max():.3f})"
            )

    files, durations, audio_mu, skipped = embed_audio_files(
        teacher, list(audio_paths), batch, progress
    )
    if not files:
        raise ConfigError("no readable audio file to curate")
    sim = audio_mu @ text_mu[pool].T
    best, scores = pool[sim.argmax(1)], sim.max(1)
    thr = resolve_threshold(scores, threshold, keep)
    kept = scores >= thr
    records = [
        _record(
            f,
            durations[i],
            teacher.sample_rate,
            texts[best[i]],
            None if nearest is None else paths[nearest[best[i]]],
            i,
        )
        for i, f in enumerate(files)
        if kept[i]
    ]
    return Curation(records, scores, kept, thr, len(texts), int(pool.size), label_thr, skipped)


def _record(
    path: Path, duration: float, sr: int, caption: str, labels: list[str] | None, i: int
) -> ClipRecord:
    upper = labels or [caption] * 3
    captions = [{"level": lv, "text": t} for lv, t in zip((1, 2, 3), upper, strict=True)]
    captions.append({"level": 4, "text": caption})
    stem = re.sub(r"[^\w.-]+", "_", path.stem)
    return ClipRecord(
        id=f"curated-{i:06d}-{stem}",
        audio=str(path.resolve()),
        duration=float(duration),
        sample_rate=sr,
        source="curated",
        split="train",
        captions=captions,
        labels=labels or [UNLABELLED] * 3,
        license="unknown",
    )


def plot_scores(result: Curation, path: str | Path) -> Path:
    """Histogram of the teacher scores, kept vs dropped, with the threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from audiotext_cli.atomic import write_atomic

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(float(result.scores.min()), float(result.scores.max()) + 1e-6, 31)
    ax.hist(
        [result.scores[result.kept], result.scores[~result.kept]],
        bins=bins,
        stacked=True,
        color=["tab:green", "tab:gray"],
        label=[f"kept ({int(result.kept.sum())})", f"dropped ({int((~result.kept).sum())})"],
    )
    ax.axvline(
        result.threshold, color="black", linestyle="--", label=f"threshold {result.threshold:.3f}"
    )
    ax.set_xlabel("teacher audio-text cosine of the best caption")
    ax.set_ylabel("audio files")
    ax.legend()
    fig.tight_layout()
    write_atomic(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
    return Path(path)
