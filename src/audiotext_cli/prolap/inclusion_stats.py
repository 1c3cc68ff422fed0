"""Did the model learn the inclusions ProLAP trains for? Measured, not assumed.

- text:  full caption inside its word-masked version (original ⊂ masked, the training
  direction), counted over pairs where masking hid at least one word;
- audio: each input (a CNN window, a tower clip's blocks) inside its masked version, same rule;
- cross: a clip inside its caption, per caption level (more general captions should
  include the audio more often);
- uncertainty vs specificity: Spearman correlation of caption level (1 general .. 4
  specific) and of caption length (words) with total variance (negative if general
  captions are wider), and the mean total variance per caption level;
- uncertainty vs masking: Spearman correlation of the audio mask ratio with total
  variance (positive if more masked audio is more uncertain);
- a control for every inclusion rate: the same test on random pairs (input i against the
  masked version of another input j). A rate means something only if it separates the
  two: 99 % for both says the test cannot tell.

"x ⊂ y" means the summed inclusion logit sum_d g(x, y) > 0 at eps = -20 (losses.probabilistic).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from audiotext_cli.data.manifest import LEVELS, captions_at
from audiotext_cli.embedder import Embeddings
from audiotext_cli.prolap.uncertainty import check_probabilistic, total_variance

MASK_PROB = 0.75  # ProLAP's per-token masking probability q (prolap-math.md section 8)
MASK_RATIOS = (0.0, 0.25, 0.5, 0.75)  # audio masking levels for the variance correlation
_BATCH = 64


def included(inner: Embeddings, outer: Embeddings) -> np.ndarray:
    """(n,) bool: row i of `inner` is included in row i of `outer` (summed logit > 0)."""
    import torch

    from audiotext_cli.losses.probabilistic import inclusion_logit

    t = [
        torch.from_numpy(np.asarray(a, np.float64))
        for a in (inner.mean, inner.logvar, outer.mean, outer.logvar)
    ]
    return (inclusion_logit(*t, eps=-20.0).sum(-1) > 0).numpy()


def _percent(flags: np.ndarray) -> float | None:
    return float(100 * flags.mean()) if flags.size else None


def text_inclusion(embedder, texts: Sequence[str], n_masks: int, seed: int) -> dict:
    """% of (caption, masked caption) pairs with full ⊂ masked; unchanged draws are skipped."""
    import torch

    from audiotext_cli.text import mask_tokens

    enc = embedder.text_encoder
    g = torch.Generator().manual_seed(seed)
    flags, control = [], []
    for start in range(0, len(texts), _BATCH):
        ids, mask = enc.tokenize(list(texts[start : start + _BATCH]))
        with torch.inference_mode():
            full = embedder.embed_text_features(enc(ids, mask).cpu().numpy())
            for _ in range(n_masks):
                masked_ids = mask_tokens(
                    ids, mask, MASK_PROB, g, enc.mask_token_id, enc.special_ids
                )
                changed = (masked_ids != ids).any(1).cpu().numpy()
                masked = embedder.embed_text_features(enc(masked_ids, mask).cpu().numpy())
                flags.append(included(full, masked)[changed])
                control.append(_random_pairs(full, masked, g))
    return _rates(flags, control)


def _random_pairs(full: Embeddings, masked: Embeddings, g) -> np.ndarray:
    """full row i ⊂ masked row j for a random derangement-like shift j = i + s (mod n)."""
    import torch

    n = len(full.mean)
    if n < 2:
        return np.zeros(0, bool)
    shift = int(torch.randint(1, n, (1,), generator=g))
    other = np.roll(np.arange(n), shift)
    return included(full, masked.take(other))


def _rates(flags: list[np.ndarray], control: list[np.ndarray]) -> dict:
    all_flags = np.concatenate(flags) if flags else np.zeros(0, bool)
    rand = np.concatenate(control) if control else np.zeros(0, bool)
    return {
        "pairs": int(all_flags.size),
        "full_in_masked_pct": _percent(all_flags),
        "random_pairs": int(rand.size),
        "random_pair_pct": _percent(rand),
    }


def audio_inclusion(embedder, records: Sequence, n_masks: int, seed: int) -> dict:
    """% of (input, masked input) pairs with full ⊂ masked, over inputs where at least one
    unit of real audio was masked (CNN: 16-frame patches of each window; tower: blocks)."""
    import torch

    model = embedder.model
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    flags, control, fulls, maskeds = [], [], [], []
    ratio_tv: list[tuple[float, float]] = []
    for rec in records:
        x, n_valid = embedder.model_inputs(rec.audio)
        with torch.inference_mode():
            emb = model.encode_audio(x, n_valid)
            full = Embeddings(emb.mean.double().cpu().numpy(), emb.logvar.double().cpu().numpy())
            units = model.mask_units(x)
            real = torch.arange(units)[None, :] < model.valid_units(n_valid.cpu())[:, None]
            for _ in range(n_masks):
                mask = torch.rand(len(x), units, generator=g) < MASK_PROB
                changed = (mask & real).any(1).numpy()
                emb = model.encode_audio(x, n_valid, mask.to(device))
                masked = Embeddings(
                    emb.mean.double().cpu().numpy(), emb.logvar.double().cpu().numpy()
                )
                flags.append(included(full, masked)[changed])
                fulls.append(full.take([0]))
                maskeds.append(masked.take([0]))
            for ratio in MASK_RATIOS:  # units masked at random, at least one left
                keep = torch.rand(len(x), units, generator=g) >= ratio
                keep[:, 0] |= ~(keep & real).any(1)
                emb = model.encode_audio(x, n_valid, (~keep).to(device))
                ratio_tv += [(ratio, tv) for tv in total_variance(emb.logvar.cpu().numpy())]
    if len(fulls) > 1:
        control.append(_random_pairs(Embeddings.concat(fulls), Embeddings.concat(maskeds), g))
    out = _rates(flags, control)
    r, tv = np.array(ratio_tv).T if ratio_tv else (np.zeros(0), np.zeros(0))
    out["spearman_mask_ratio_vs_variance"] = _spearman(r, tv)
    return out


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(set(x.tolist())) < 2 or len(set(y.tolist())) < 2:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def inclusion_statistics(embedder, records: Sequence, n_masks: int = 1, seed: int = 0) -> dict:
    """All statistics of the module docstring for a probabilistic model on a manifest."""
    from audiotext_cli.evaluate.run import embed_records

    check_probabilistic(embedder)
    texts = list(dict.fromkeys(c["text"] for r in records for c in r.captions))
    text_emb = embedder.embed_texts(texts)
    text_tv = total_variance(text_emb.logvar)
    row = {t: i for i, t in enumerate(texts)}
    audio = embed_records(embedder, records)
    audio_tv = total_variance(audio.logvar)

    cross = {}
    for level in LEVELS:
        idx = [row[captions_at(r, level)[0]] for r in records]
        caps = Embeddings(text_emb.mean[idx], text_emb.logvar[idx])
        cross[str(level)] = _percent(included(audio, caps))
    per_level = {
        str(level): float(
            np.mean([text_tv[row[t]] for r in records for t in captions_at(r, level)])
        )
        for level in LEVELS
    }
    lengths = np.array([len(t.split()) for t in texts])
    rho = _spearman(lengths, text_tv)
    pairs = [
        (level, text_tv[row[t]]) for r in records for level in LEVELS for t in captions_at(r, level)
    ]
    levels, level_tv = np.array(pairs, dtype=np.float64).T
    return {
        "n_clips": len(records),
        "n_captions": len(texts),
        "mask_prob": MASK_PROB,
        "n_masks": n_masks,
        "text_in_masked": text_inclusion(embedder, texts, n_masks, seed),
        "audio_in_masked": audio_inclusion(embedder, records, n_masks, seed),
        "audio_in_caption_pct": cross,
        "spearman_length_vs_variance": rho,
        "spearman_level_vs_variance": _spearman(levels, level_tv),
        "mean_total_variance_per_level": per_level,
        "mean_total_variance_audio": float(audio_tv.mean()),
    }
